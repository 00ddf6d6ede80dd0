//! The guards that own what a test makes: a test that panics with a server running and a
//! temporary directory made leaves neither behind, and its run ends, as no process is
//! left holding its output open. Checked from outside, by running a probe that panics
//! in a child process of this same test binary.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{spawn_binary, temp_dir};

/// Where the probe writes its server's pid and its directory; unset, it is not run.
const PROBE_REPORT: &str = "APPSTREAM_LOCAL_GUARD_PROBE";

#[test]
#[ignore = "a probe that panics on purpose; run by the test below"]
fn panicking_probe() {
    let report = std::env::var(PROBE_REPORT).expect("run by the guards test");
    let dir = temp_dir("guard-probe");
    std::fs::write(dir.join("state"), "kept until the guard goes").unwrap();
    let (server, _addr, _log) = spawn_binary(&["--port", "0"], &[]);
    std::fs::write(&report, format!("{}\n{}", server.id(), dir.display())).unwrap();
    panic!("the probe panics with a server running and a directory made");
}

#[test]
fn a_test_that_panics_leaves_no_server_and_no_directory_and_its_output_ends() {
    let reports = temp_dir("guard-report");
    let report = reports.join("probe");
    let mut probe = Command::new(std::env::current_exe().unwrap())
        .args([
            "guards::panicking_probe",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(PROBE_REPORT, &report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes end only when every process holding them has: the probe, and a server
    // it left behind, if it did.
    let pipes: Vec<Box<dyn Read + Send>> = vec![
        Box::new(probe.stdout.take().unwrap()),
        Box::new(probe.stderr.take().unwrap()),
    ];
    let (ended, output) = std::sync::mpsc::channel();
    for mut pipe in pipes {
        let ended = ended.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = ended.send(text);
        });
    }
    let mut text = String::new();
    for _ in 0..2 {
        match output.recv_timeout(Duration::from_secs(60)) {
            Ok(part) => text.push_str(&part),
            Err(_) => {
                let _ = probe.kill();
                kill_left_behind(&report);
                panic!("the probe's output never ended: a process it started holds it open");
            }
        }
    }
    let status = probe.wait().unwrap();
    assert!(!status.success(), "the probe fails: {text}");
    assert!(text.contains("the probe panics"), "{text}");
    let written = std::fs::read_to_string(&report).expect("the probe wrote its report");
    let (pid, dir) = written.split_once('\n').unwrap();
    let running = Path::new(&format!("/proc/{pid}")).exists();
    kill_left_behind(&report);
    assert!(!running, "the probe's server {pid} outlived it");
    assert!(!Path::new(dir).exists(), "the probe left {dir} behind");
}

/// Kills the server the probe reported, should it still run, so that a failure of this
/// test leaves nothing behind either.
fn kill_left_behind(report: &Path) {
    if let Some((pid, _)) = std::fs::read_to_string(report)
        .ok()
        .as_deref()
        .and_then(|written| written.split_once('\n'))
    {
        if Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}
