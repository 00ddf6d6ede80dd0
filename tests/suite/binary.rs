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

/// The README's configuration table, as (flag, environment variable, default) for each
/// row that has a flag.
fn readme_options() -> Vec<(String, String, String)> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("## Configuration")
        .nth(1)
        .expect("a Configuration section");
    let ticked = |cell: &str| cell.split('`').nth(1).unwrap_or("").to_string();
    table
        .lines()
        .skip_while(|line| !line.starts_with("| Flag"))
        .take_while(|line| line.starts_with('|'))
        .filter(|line| line.starts_with("| `--"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let flag = ticked(cells[0]);
            let flag = flag.split(' ').next().unwrap().to_string();
            (flag, ticked(cells[1]), ticked(cells[2]))
        })
        .collect()
}

#[test]
fn help_and_the_readme_list_the_same_options_defaults_and_quotas() {
    let out = Command::new(env!("CARGO_BIN_EXE_appstream-local"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    // One option's help, its wrapped lines joined.
    let option_help = |flag: &str| -> String {
        let start = help
            .find(&format!("      {flag} "))
            .or_else(|| help.find(&format!("      {flag}\n")))
            .unwrap_or_else(|| panic!("--help has no {flag}:\n{help}"));
        let rest = &help[start..];
        let end = rest[6..].find("\n      --").map_or(rest.len(), |e| e + 6);
        rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let options = readme_options();
    assert!(options.len() >= 20, "{options:?}");
    for (flag, env, default) in &options {
        let text = option_help(flag);
        assert!(
            text.contains(env.as_str()),
            "{flag}: --help does not name {env}: {text}"
        );
        if !default.is_empty() {
            assert!(
                text.contains(&format!("[default: {default}]")),
                "{flag}: the README's default `{default}` is not --help's: {text}"
            );
        }
    }
    let in_help: Vec<&str> = help
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("--"))
        .chain(
            help.lines()
                .filter_map(|l| l.trim_start().strip_prefix("-h, --")),
        )
        .chain(
            help.lines()
                .filter_map(|l| l.trim_start().strip_prefix("-V, --")),
        )
        .map(|rest| rest.split([' ', '<']).next().unwrap())
        .filter(|name| !matches!(*name, "help" | "version"))
        .collect();
    for name in &in_help {
        assert!(
            options
                .iter()
                .any(|(flag, _, _)| flag == &format!("--{name}")),
            "--{name} is in --help but not in the README's table"
        );
    }
    // The quotas --enforce-quotas applies, listed alike in both.
    let row = include_str!("../../README.md")
        .lines()
        .find(|line| line.starts_with("| `--enforce-quotas`"))
        .unwrap();
    let listed = row
        .split("(`LimitExceededException`): ")
        .nth(1)
        .and_then(|rest| rest.split(" |").next())
        .unwrap();
    let quotas = option_help("--enforce-quotas");
    for quota in listed.split(", ") {
        assert!(
            quotas.contains(quota),
            "--help leaves out {quota:?}: {quotas}"
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

#[test]
fn healthcheck_finds_a_server_on_any_port_through_the_address_file() {
    // As in the image: the file is set in the environment, the port given as a flag.
    let dir = common::temp_dir("addr");
    let file = dir.join("appstream-local.addr");
    let file_env = [("APPSTREAM_LOCAL_ADDR_FILE", file.to_str().unwrap())];
    let (child, addr) = spawn(&["--host", "0.0.0.0", "--port", "0"], &file_env);
    let port = addr.rsplit(':').next().unwrap();
    // Written just after the address is logged.
    let started = Instant::now();
    while !file.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("127.0.0.1:{port}\n")
    );
    let healthcheck = || {
        Command::new(env!("CARGO_BIN_EXE_appstream-local"))
            .arg("healthcheck")
            .envs(file_env)
            .stderr(Stdio::null())
            .status()
            .unwrap()
    };
    assert!(healthcheck().success(), "probed 4599, not {port}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child;
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!file.exists(), "a clean stop removes the file");
    assert_eq!(healthcheck().code(), Some(1));
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
