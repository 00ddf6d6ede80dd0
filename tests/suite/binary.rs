//! The built binary as a user runs it: flags, the logged address, health, and a clean
//! exit on SIGTERM with in-flight work finished.

use crate::common;
use crate::common::Running;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Running, String) {
    let (child, addr, _) = common::spawn_binary(args, envs);
    (child, addr)
}

#[test]
fn help_explains_every_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_appstream-local"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--host",
        "--port",
        "--enforce-quotas",
        "--max-body-bytes",
        "--state-dir",
        "--transition-seconds",
        "--header-timeout-seconds",
        "--compact-after",
        "--compact-after-bytes",
        "--shutdown-timeout-seconds",
        "--max-connections",
        "--faults",
        "--init",
        "--request-history",
        "--verify-signatures",
        "--credentials",
        "--control-token",
        "--streaming-url-base",
        "--streaming-url-style",
        "--allowed-hosts",
        "APPSTREAM_LOCAL_ALLOWED_HOSTS",
        "APPSTREAM_LOCAL_CREDENTIALS",
        "APPSTREAM_LOCAL_HOST",
        "APPSTREAM_LOCAL_PORT",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[tokio::test]
async fn port_zero_serves_and_sigterm_exits_cleanly() {
    let (mut child, addr) = spawn(&["--port", "0"], &[]);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_ne!(addr, "127.0.0.1:0");
    let health = reqwest::get(format!("http://{addr}/_health"))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let client = reqwest::Client::new();
    let created = client
        .post(format!("http://{addr}/"))
        .header("x-amz-target", "PhotonAdminProxyService.CreateStack")
        .header("content-type", "application/x-amz-json-1.1")
        .body(r#"{"Name":"from-binary"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn env_variables_choose_the_address() {
    let (mut child, addr) = spawn(
        &[],
        &[
            ("APPSTREAM_LOCAL_HOST", "127.0.0.1"),
            ("APPSTREAM_LOCAL_PORT", "0"),
        ],
    );
    assert!(
        addr.starts_with("127.0.0.1:") && addr != "127.0.0.1:4599",
        "{addr}"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_appstream-local"))
        .env("APPSTREAM_LOCAL_HOST", "127.0.0.1")
        .env("APPSTREAM_LOCAL_PORT", "not-a-port")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exit = child.wait().unwrap();
    assert!(
        !exit.success(),
        "an invalid port must be refused at start-up"
    );
}

#[test]
fn healthcheck_subcommand_reports_whether_a_server_answers() {
    let (mut child, addr) = spawn(&["--port", "0"], &[]);
    let port = addr.rsplit(':').next().unwrap();
    for args in [
        ["--port", port, "healthcheck"],
        ["healthcheck", "--port", port],
    ] {
        let healthy = Command::new(env!("CARGO_BIN_EXE_appstream-local"))
            .args(args)
            .status()
            .unwrap();
        assert!(healthy.success(), "{args:?}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_appstream-local"))
        .args(["healthcheck", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("--port") && help.contains("--host"), "{help}");
    child.kill().unwrap();
    child.wait().unwrap();
    let unhealthy = Command::new(env!("CARGO_BIN_EXE_appstream-local"))
        .args(["--port", port, "healthcheck"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(unhealthy.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_right_after_the_address_is_logged_still_stops_cleanly() {
    // A supervisor may signal as soon as it sees the address. Loading a journal takes a
    // while, so the handler must be in place before the address is announced, or the
    // default action kills the process (no exit code) while state is still loading.
    let dir = std::env::temp_dir().join(format!(
        "appstream-local-early-term-{}",
        uuid::Uuid::new_v4()
    ));
    let state_dir = ["--port", "0", "--state-dir", dir.to_str().unwrap()];
    let (child, addr) = spawn(&state_dir, &[]);
    let s = std::sync::Arc::new(common::TestServer::at(&addr));
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..200 {
                    s.ok(
                        common::Wire::Json,
                        "CreateStack",
                        serde_json::json!({"Name": format!("s{w}-{i}")}),
                    )
                    .await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut child = child;
    child.kill().unwrap(); // SIGKILL: the journal is left for the next start to replay
    child.wait().unwrap();

    let (mut child, _) = spawn(&state_dir, &[]);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Log lines until one contains `needle` (waiting up to 5 s in all).
fn lines_until(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no log line with {needle:?} in {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_lines_say_why_at_the_right_level_as_json_lines() {
    let (mut child, addr, lines) = common::spawn_binary(
        &["--port", "0", "--log-format", "json"],
        &[("RUST_LOG", "debug")],
    );
    let s = common::TestServer::at(&addr);
    let parse = |line: &str| serde_json::from_str::<serde_json::Value>(line).unwrap();

    s.json("CreateStack", serde_json::json!({"Name": "logged"}))
        .await;
    let ok = parse(lines_until(&lines, "\"request\"").last().unwrap());
    assert_eq!(ok["level"], "INFO");
    assert_eq!(ok["fields"]["resource"], "logged");
    assert_eq!(ok["fields"]["status"], 200);
    assert!(
        ok["fields"].get("error").is_none(),
        "no empty error field: {ok}"
    );

    s.json("DescribeStacks", serde_json::json!({"Names": ["missing"]}))
        .await;
    let refused = parse(lines_until(&lines, "\"request\"").last().unwrap());
    assert_eq!(refused["level"], "INFO");
    assert_eq!(refused["fields"]["error"], "ResourceNotFoundException");
    assert_eq!(
        refused["fields"]["error_message"],
        "Stack missing does not exist."
    );

    // A 501 for an operation not built yet is a client's problem, logged at WARN (while
    // any operation is unbuilt).
    let unbuilt = appstream_local::generated::operations::Operation::ALL
        .iter()
        .find(|op| !appstream_local::api::dispatch::is_implemented(**op));
    if let Some(unbuilt) = unbuilt {
        s.json(unbuilt.name(), serde_json::json!({})).await;
        let unimplemented = parse(lines_until(&lines, "\"request\"").last().unwrap());
        assert_eq!(unimplemented["level"], "WARN", "{unimplemented}");
    }

    // Debug adds the decoded input, with what the model marks sensitive redacted.
    s.json(
        "CreateUser",
        serde_json::json!({"UserName": "ana@example.com", "AuthenticationType": "USERPOOL"}),
    )
    .await;
    let seen = lines_until(&lines, "decoded input");
    let input = seen.last().unwrap();
    assert!(input.contains("***"), "{input}");
    assert!(
        !seen.iter().any(|l| l.contains("ana@example.com")),
        "{seen:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_tls_client_on_the_plain_port_is_told_once_in_the_log_to_use_http() {
    use std::io::{Read, Write};
    let (_server, addr, lines) = common::spawn_binary(&["--port", "0"], &[]);
    // The start of a TLS 1.2/1.3 ClientHello, as an `https://` endpoint sends it.
    let hello = [
        0x16, 0x03, 0x01, 0x00, 0xf4, 0x01, 0x00, 0x00, 0xf0, 0x03, 0x03,
    ];
    for _ in 0..3 {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.write_all(&hello).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
    // A plain request afterwards, so the log has moved past the handshakes.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /_health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let said: Vec<String> =
        std::iter::from_fn(|| lines.recv_timeout(Duration::from_millis(500)).ok())
            .filter(|l| l.contains("speaks plain HTTP"))
            .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("use an http:// endpoint"), "{said:?}");
}
