//! The server against a failing machine: a read-only or full state directory, a lost
//! snapshot, clients that stall a stop, and too few file descriptors.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::common::{
    script_fails_to_start, spawn_binary, spawn_script, start_up_fails, temp_dir, Running,
    TestServer, Wire,
};
use serde_json::json;

fn sigterm(child: &Running) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn stop(mut child: Running) {
    sigterm(&child);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Log lines received so far, waiting up to `wait` for one containing `needle`.
fn log_until(lines: &Receiver<String>, needle: &str, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    seen
}

fn with_stacks(dir: &Path, count: usize, kill: bool) {
    let (mut child, addr, _) =
        spawn_binary(&["--port", "0", "--state-dir", dir.to_str().unwrap()], &[]);
    let s = TestServer::at(&addr);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for i in 0..count {
            s.ok(
                Wire::Json,
                "CreateStack",
                json!({"Name": format!("s{i:03}"), "Description": "d".repeat(200)}),
            )
            .await;
        }
    });
    if kill {
        child.kill().unwrap();
        child.wait().unwrap();
    } else {
        stop(child);
    }
}

fn stack_count(s: &TestServer) -> usize {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut count = 0;
        let mut token: Option<String> = None;
        loop {
            let mut input = json!({});
            if let Some(t) = &token {
                input["NextToken"] = json!(t);
            }
            let page = s.ok(Wire::Json, "DescribeStacks", input).await;
            count += page["Stacks"].as_array().unwrap().len();
            match page["NextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => return count,
            }
        }
    })
}

/// How many stacks a normal start on `dir` serves.
fn stacks_after_normal_start(dir: &Path) -> usize {
    let (child, addr, _) =
        spawn_binary(&["--port", "0", "--state-dir", dir.to_str().unwrap()], &[]);
    let count = stack_count(&TestServer::at(&addr));
    stop(child);
    count
}

/// Mounting needs root (as CI runs); elsewhere the test says so and checks nothing.
fn can_mount() -> bool {
    let ok = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: a read-only mount needs root and unshare");
    }
    ok
}

#[test]
fn a_read_only_state_directory_stops_start_up_naming_the_fix() {
    if !can_mount() {
        return;
    }
    let dir = temp_dir("read-only");
    with_stacks(&dir, 3, true);
    let d = dir.to_str().unwrap();
    let log = script_fails_to_start(&format!(
        "exec unshare -m bash -c 'mount --bind {d} {d} && mount -o remount,ro,bind {d} {d} && exec \"$SERVER\" --port 0 --state-dir {d}'"
    ));
    for needed in [
        &format!("--state-dir {d} cannot be used"),
        "Read-only file system",
        "mounted read-only",
    ] {
        assert!(log.contains(needed), "{needed:?} in {log}");
    }
    assert_eq!(stacks_after_normal_start(&dir), 3, "nothing was lost");
}

#[test]
fn a_directory_of_another_user_stops_start_up_naming_the_user_id_and_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("not-mine");
    let state = dir.join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes anywhere, so as root the server runs as nobody (65534), as in a container.
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let s = state.to_str().unwrap();
    let (script, uid) = if root {
        std::fs::set_permissions(&*dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        (
            format!("exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$SERVER\" --port 0 --state-dir {s}"),
            65534,
        )
    } else {
        let uid = std::fs::metadata("/proc/self").map_or(0, |m| {
            use std::os::unix::fs::MetadataExt;
            m.uid()
        });
        (format!("exec \"$SERVER\" --port 0 --state-dir {s}"), uid)
    };
    let log = script_fails_to_start(&script);
    for needed in [
        "cannot write in it",
        "Permission denied",
        &format!("user id {uid}"),
        &format!("chown -R {uid} {s}"),
    ] {
        assert!(log.contains(needed), "{needed:?} in {log}");
    }
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_state_dir_that_is_a_file_stops_start_up() {
    let dir = temp_dir("not-a-dir");
    let file = dir.join("state");
    std::fs::write(&file, "").unwrap();
    let log = start_up_fails(&["--port", "0", "--state-dir", file.to_str().unwrap()]);
    assert!(log.contains("is not a directory"), "{log}");
    let log = start_up_fails(&[
        "--port",
        "0",
        "--state-dir",
        file.join("below").to_str().unwrap(),
    ]);
    assert!(log.contains("cannot write in it"), "{log}");
}

#[test]
fn a_full_disk_at_start_up_stops_it_and_leaves_no_temporary_file() {
    let dir = temp_dir("full");
    // A journal of about 45 KB that start-up would fold into a new snapshot.
    with_stacks(&dir, 150, true);
    let d = dir.to_str().unwrap();
    // Files may grow to 8 KiB at most: writes past that fail as on a full disk.
    let log = script_fails_to_start(&format!(
        "trap '' XFSZ; ulimit -f 8; exec \"$SERVER\" --port 0 --state-dir {d}"
    ));
    assert!(log.contains("File too large"), "{log}");
    assert!(
        !dir.join("snapshot.json.tmp").exists(),
        "a failed compaction left its temporary file"
    );
    assert!(!dir.join("journal.log.tmp").exists());
    // With room again, every acknowledged write is there.
    assert_eq!(stacks_after_normal_start(&dir), 150);
}

#[test]
fn a_disk_that_fills_while_serving_fails_the_health_check() {
    let dir = temp_dir("fills");
    let d = dir.to_str().unwrap();
    let (_server, addr, _) = spawn_script(&format!(
        "trap '' XFSZ; ulimit -f 16; exec \"$SERVER\" --port 0 --state-dir {d}"
    ));
    let s = TestServer::at(&addr);
    let port = addr.rsplit(':').next().unwrap();
    let healthcheck = || {
        Command::new(env!("CARGO_BIN_EXE_appstream-local"))
            .args(["healthcheck", "--port", port])
            .output()
            .unwrap()
    };
    assert!(healthcheck().status.success());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refused = (0..200)
        .map(|i| {
            let input = json!({"Name": format!("s{i:03}"), "Description": "d".repeat(200)});
            runtime.block_on(s.json("CreateStack", input))
        })
        .find(|reply| reply.status == 500)
        .expect("the journal outgrew 16 KiB");
    assert!(
        refused.message().contains("File too large"),
        "{}",
        refused.message()
    );
    let health = runtime.block_on(async { s.get("/_health").await });
    assert_eq!(health.status(), 503);
    let answer: serde_json::Value =
        serde_json::from_slice(&runtime.block_on(health.bytes()).unwrap()).unwrap();
    assert_eq!(answer["status"], "failing");
    assert!(
        answer["durable_writes"]
            .as_str()
            .unwrap()
            .starts_with("stopped: "),
        "{answer}"
    );
    let probed = healthcheck();
    assert_eq!(probed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&probed.stderr);
    assert!(
        said.contains("503") && said.contains("durable writes stopped"),
        "{said}"
    );
}

#[test]
fn a_lost_snapshot_stops_start_up_with_a_clear_message() {
    let dir = temp_dir("lost-snapshot");
    with_stacks(&dir, 2, false);
    assert_eq!(
        std::fs::metadata(dir.join("journal.log")).unwrap().len(),
        0,
        "a clean stop folds the journal into the snapshot"
    );
    std::fs::remove_file(dir.join("snapshot.json")).unwrap();
    let log = common::start_up_fails(&["--port", "0", "--state-dir", dir.to_str().unwrap()]);
    assert!(log.contains("snapshot.json is missing"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_cannot_hold_a_stop_past_its_timeout() {
    use tokio::io::AsyncWriteExt;
    let dir = temp_dir("stop");
    let d = dir.to_str().unwrap().to_string();
    let (child, addr, lines) = spawn_binary(
        &[
            "--port",
            "0",
            "--state-dir",
            &d,
            "--shutdown-timeout-seconds",
            "1",
        ],
        &[],
    );
    let s = TestServer::at(&addr);
    s.ok(Wire::Json, "CreateStack", json!({"Name": "kept"}))
        .await;
    let mut stalled = Vec::new();
    for opening in [
        "POST / HTTP/1.1\r\nhost: localhost\r\nx-amz-target: PhotonAdminProxyService.CreateStack\r\ncontent-length: 100\r\n\r\n{",
        "POST /_reset HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{",
        "POST / HTTP/1.1\r\nhost: localhost\r\nx-amz-tar",
    ] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(opening.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    sigterm(&child);
    let waited = tokio::task::spawn_blocking(move || {
        let mut child = child;
        child.wait().unwrap()
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert_eq!(waited.code(), Some(0));
    assert!(took < Duration::from_secs(4), "the stop took {took:?}");
    let log = log_until(&lines, "stopped", Duration::from_secs(1));
    assert!(log.iter().any(|l| l.contains("closing them")), "{log:?}");
    assert_eq!(
        std::fs::metadata(dir.join("journal.log")).unwrap().len(),
        0,
        "the stop still compacted the journal into the snapshot"
    );
    drop(stalled);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opens `n` connections that send nothing.
fn idle_connections(addr: &str, n: usize) -> Vec<std::net::TcpStream> {
    (0..n)
        .filter_map(|_| std::net::TcpStream::connect(addr).ok())
        .collect()
}

fn health_within(addr: &str, limit: Duration) -> Duration {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(limit)).unwrap();
    stream
        .write_all(b"GET /_health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "no answer within {limit:?}: {answer:?}"
    );
    started.elapsed()
}

#[test]
fn a_full_server_closes_its_idlest_connection_for_a_new_client() {
    let (child, addr, _) = spawn_binary(&["--port", "0", "--max-connections", "8"], &[]);
    let mut idle = idle_connections(&addr, 8);
    std::thread::sleep(Duration::from_millis(100));
    health_within(&addr, Duration::from_secs(2));
    // The first idle connection was the one closed to make room.
    use std::io::Read;
    idle[0]
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        idle[0].read(&mut buf).unwrap_or(0),
        0,
        "the idlest connection is closed"
    );
    stop(child);
}

#[test]
fn few_file_descriptors_do_not_lock_new_clients_out() {
    let (child, addr, lines) =
        spawn_script("ulimit -n 64; exec \"$SERVER\" --port 0 --header-timeout-seconds 60");
    let _idle = idle_connections(&addr, 120);
    std::thread::sleep(Duration::from_millis(300));
    let took = health_within(&addr, Duration::from_secs(3));
    assert!(
        took < Duration::from_secs(2),
        "a new client waited {took:?}"
    );
    let log = log_until(&lines, "never appears", Duration::from_millis(500));
    let accept_failures = log.iter().filter(|l| l.contains("accept failed")).count();
    assert!(
        accept_failures <= 2,
        "{accept_failures} accept failures logged: {log:?}"
    );
    stop(child);
}
