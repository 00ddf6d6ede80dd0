//! Processes and directories a test makes, each owned by a guard that kills or removes
//! it when dropped, also when the test panics: no server outlives its test holding the
//! test's output, and no temporary directory is left behind.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::mpsc::Receiver;

/// A new, empty directory under the system's temporary one, removed with all it holds
/// when the guard is dropped, also when the test panics.
pub fn temp_dir(label: &str) -> TempDir {
    let dir =
        std::env::temp_dir().join(format!("appstream-local-{label}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the built binary with `args`, expecting it to refuse to start (exit status 1);
/// returns its log.
pub fn start_up_fails(args: &[&str]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_appstream-local"));
    command.args(args);
    fails_to_start(command)
}

/// Runs `script` as `spawn_script` does, expecting the server to refuse to start (exit
/// status 1); returns its log.
pub fn script_fails_to_start(script: &str) -> String {
    let mut command = std::process::Command::new("bash");
    command
        .args(["-c", script])
        .env("SERVER", env!("CARGO_BIN_EXE_appstream-local"));
    fails_to_start(command)
}

fn fails_to_start(mut command: std::process::Command) -> String {
    let out = command.output().unwrap();
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{command:?}: {log}");
    log
}

/// A spawned server that is killed when dropped, so a test that panics with it running
/// leaves no process behind holding the test's output.
pub struct Running(pub Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The built binary, started with `args`; returns it once it has logged its address.
/// Its log lines keep being read on a thread, so it never blocks on a full pipe.
pub fn spawn_binary(args: &[&str], envs: &[(&str, &str)]) -> (Running, String, Receiver<String>) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_appstream-local"));
    command.args(args).envs(envs.iter().copied());
    spawn_command(command)
}

/// Runs `script` with bash, where `$SERVER` is the built binary (to `exec` after setting
/// limits or mounts); returns it once it has logged its address.
pub fn spawn_script(script: &str) -> (Running, String, Receiver<String>) {
    let mut command = std::process::Command::new("bash");
    command
        .args(["-c", script])
        .env("SERVER", env!("CARGO_BIN_EXE_appstream-local"));
    spawn_command(command)
}

/// Runs `command`, its log read on a thread; returns it, owned by a guard that kills it
/// when dropped, once it has logged its address.
pub fn spawn_command(mut command: std::process::Command) -> (Running, String, Receiver<String>) {
    use std::io::{BufRead, BufReader};
    if !command.get_envs().any(|(k, _)| k == "RUST_LOG") {
        command.env("RUST_LOG", "info");
    }
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                // The address alone, whether the line is text or JSON.
                let addr: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']'))
                    .collect();
                let _ = addr_tx.send(addr);
            }
            let _ = lines_tx.send(line);
        }
    });
    let addr = addr_rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the server did not log its address");
    (Running(child), addr, lines)
}
