//! A default server on a laptop while its user browses: no other site can change or read
//! it, values the model marks sensitive leave only in the API answers, the clock stays
//! in range and `/_reset` sets it back, seeds are all or nothing, and log lines cannot
//! be forged.

use serde_json::{json, Value};

use crate::common::{spawn_binary, start, start_up_fails, temp_dir, TestServer, Wire, WIRES};

/// A request to `path` with `headers`, as a page on another site makes it.
async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut request = s
        .http()
        .request(method, format!("{}{path}", s.url))
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let reply = request.send().await.unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// A path, the headers a page sends and the body.
type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

async fn clock_offset(s: &TestServer) -> f64 {
    let clock: Value =
        serde_json::from_slice(&s.get("/_clock").await.bytes().await.unwrap()).unwrap();
    clock["offset_seconds"].as_f64().unwrap()
}

async fn fault_count(s: &TestServer) -> usize {
    let faults: Value =
        serde_json::from_slice(&s.get("/_faults").await.bytes().await.unwrap()).unwrap();
    faults["rules"].as_array().unwrap().len()
}

#[tokio::test]
async fn another_site_can_neither_change_nor_read_the_server() {
    let s = start().await;
    s.ok(Wire::Json, "CreateStack", json!({"Name": "kept"}))
        .await;
    let post = reqwest::Method::POST;
    let evil = ("origin", "http://evil.example");
    let faults = r#"{"rules": [{"operation": "*", "error": {"code": "Gotcha"}}]}"#;
    // What a page can send without a preflight: text/plain and form bodies, or none,
    // with its own Origin, or a browser's word that it is cross-site.
    let attempts: [Attempt; 7] = [
        (
            "/_faults",
            vec![evil, ("content-type", "text/plain")],
            faults,
        ),
        ("/_faults", vec![("content-type", "text/plain")], faults),
        (
            "/_clock",
            vec![evil, ("content-type", "text/plain")],
            r#"{"advance_seconds": 315360000}"#,
        ),
        (
            "/_reset",
            vec![evil, ("content-type", "application/x-www-form-urlencoded")],
            "",
        ),
        ("/_reset", vec![("sec-fetch-site", "cross-site")], ""),
        ("/_reset", vec![("origin", "http://localhost:3000")], ""),
        ("/_reset", vec![("host", "evil.example:4599")], ""),
    ];
    for (path, headers, body) in attempts {
        let (status, answer) = send(&s, post.clone(), path, &headers, body).await;
        assert_eq!(status, 403, "{path} {headers:?}: {answer}");
    }
    assert_eq!(fault_count(&s).await, 0, "no fault rule was added");
    assert_eq!(clock_offset(&s).await, 0.0, "the clock did not move");
    let stacks = s.ok(Wire::Json, "DescribeStacks", json!({})).await;
    assert_eq!(stacks["Stacks"][0]["Name"], "kept", "nothing was reset");

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 reads nothing, from
    // the controls, the pages or the API on either wire.
    let rebound = ("host", "evil.example:4599");
    for path in ["/_state", "/_ui", "/_requests", "/_faults", "/_clock"] {
        let (status, _) = send(&s, reqwest::Method::GET, path, &[rebound], "").await;
        assert_eq!(status, 403, "{path}");
    }
    for wire in WIRES {
        let reply = s
            .call_with_header(wire, "DescribeStacks", &json!({}), rebound)
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (403, "AccessDeniedException"),
            "{wire:?}: refused in the client's own protocol"
        );
        // An API call a page elsewhere makes (it would need a preflight, but the answer
        // must not depend on the browser): refused, and nothing is created.
        let reply = s
            .call_with_header(wire, "CreateStack", &json!({"Name": "planted"}), evil)
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (403, "AccessDeniedException"),
            "{wire:?}"
        );
    }
    // A streaming page's button posted from another site.
    let (status, _) = send(
        &s,
        post.clone(),
        "/streaming/end",
        &[evil, ("content-type", "application/x-www-form-urlencoded")],
        "parameters=x&signature=y",
    )
    .await;
    assert_eq!(status, 403, "a page's form from another site");
    let stacks = s.ok(Wire::Cbor, "DescribeStacks", json!({})).await;
    assert_eq!(
        stacks["Stacks"].as_array().unwrap().len(),
        1,
        "nothing planted"
    );

    // The server's own clients still pass: tools without Origin, a JSON body, and a
    // same-origin page.
    let own = [
        ("content-type", "application/json"),
        ("origin", &*s.url),
        ("sec-fetch-site", "same-origin"),
    ];
    let (status, _) = send(
        &s,
        post.clone(),
        "/_clock",
        &own,
        r#"{"advance_seconds": 5}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(clock_offset(&s).await, 5.0);
    let (status, answer) = send(&s, post, "/_reset", &[], "").await;
    assert_eq!(status, 200, "an empty POST from a tool: {answer}");
}

#[test]
fn the_binary_takes_allowed_hosts_from_its_flag_and_environment() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (args, envs) in [
        (
            vec!["--port", "0", "--allowed-hosts", "appstream,other"],
            vec![],
        ),
        (
            vec!["--port", "0"],
            vec![("APPSTREAM_LOCAL_ALLOWED_HOSTS", "appstream,other")],
        ),
    ] {
        let (child, addr, _) = spawn_binary(&args, &envs);
        let server = child;
        runtime.block_on(async {
            let s = TestServer::at(&addr);
            for (host, status) in [
                ("appstream:4599", 200),
                ("other", 200),
                ("evil.example", 403),
            ] {
                let reply = s
                    .call_with_header(Wire::Json, "DescribeStacks", &json!({}), ("host", host))
                    .await;
                assert_eq!(reply.status, status, "{args:?} {envs:?} {host}");
            }
        });
        drop(server);
    }
}

#[tokio::test]
async fn allowed_hosts_admit_a_containers_name_and_pages_cannot_be_framed() {
    let s = crate::common::start_with(appstream_local::Config {
        allowed_hosts: vec!["appstream".into()],
        ..Default::default()
    })
    .await;
    let reply = s
        .call_with_header(
            Wire::Cbor,
            "DescribeStacks",
            &json!({}),
            ("host", "appstream:4599"),
        )
        .await;
    assert_eq!(reply.status, 200);
    let ui = s.get("/_ui").await;
    assert_eq!(ui.headers()["x-frame-options"], "DENY");
    assert_eq!(
        ui.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
}

const PASSWORD: &str = "hunter2-very-secret";
const USER: &str = "ana.secret@example.com";

#[tokio::test]
async fn sensitive_values_appear_in_no_control_answer_page_or_message() {
    let s = start().await;
    for wire in WIRES {
        let directory = format!("corp{}.example.com", wire as u8);
        s.ok(
            wire,
            "CreateDirectoryConfig",
            json!({"DirectoryName": directory,
                "OrganizationalUnitDistinguishedNames": ["OU=a,DC=corp"],
                "ServiceAccountCredentials": {"AccountName": "CORP\\svc", "AccountPassword": PASSWORD}}),
        )
        .await;
        // A too-long password is refused without being repeated.
        let long = "p".repeat(128);
        let reply = s
            .call(
                wire,
                "CreateDirectoryConfig",
                json!({"DirectoryName": "x.example.com",
                    "OrganizationalUnitDistinguishedNames": ["OU=a"],
                    "ServiceAccountCredentials": {"AccountName": "svc", "AccountPassword": long}}),
            )
            .await;
        assert_eq!(reply.code(), "ValidationException", "{wire:?}");
        assert!(!reply.message().contains(&long), "{}", reply.message());
        assert!(reply
            .message()
            .contains("Value at 'serviceAccountCredentials.accountPassword' failed"));
    }
    s.ok(
        Wire::Json,
        "CreateUser",
        json!({"UserName": USER, "AuthenticationType": "USERPOOL", "FirstName": "Zelda"}),
    )
    .await;
    s.ok(Wire::Json, "CreateStack", json!({"Name": "st"})).await;
    s.ok(
        Wire::Json,
        "BatchAssociateUserStack",
        json!({"UserStackAssociations": [{"StackName": "st", "UserName": USER, "AuthenticationType": "USERPOOL"}]}),
    )
    .await;
    for wire in WIRES {
        let again = s
            .call(
                wire,
                "CreateUser",
                json!({"UserName": USER, "AuthenticationType": "USERPOOL"}),
            )
            .await;
        assert_eq!(again.code(), "ResourceAlreadyExistsException");
        assert!(!again.message().contains(USER), "{}", again.message());
    }

    let state = s.state("").await.to_string();
    let overview = s.get("/_ui").await.text().await.unwrap();
    let mut shown = vec![("/_state", state.clone()), ("/_ui", overview.clone())];
    let tenant = &s.state("").await["regions"][0];
    for (family, key) in [
        ("directory_configs", "corp0.example.com".to_string()),
        (
            "users",
            tenant["state"]["users"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone(),
        ),
    ] {
        let page = s
            .get(&format!("/_ui/000000000000/us-east-1/{family}/{key}"))
            .await;
        assert_eq!(page.status(), 200, "{family}/{key}");
        shown.push(("a resource page", page.text().await.unwrap()));
    }
    for (where_, text) in shown {
        for secret in [PASSWORD, USER, "Zelda", "CORP\\\\svc"] {
            assert!(!text.contains(secret), "{secret} shows in {where_}");
        }
    }
    // A user and that user's association read the same pseudonym, so they still match.
    let state = s.state("").await;
    let user = state["regions"][0]["state"]["users"].as_object().unwrap();
    let pseudonym = user.keys().next().unwrap();
    assert!(pseudonym.starts_with("***"), "{pseudonym}");
    assert_eq!(
        state["regions"][0]["state"]["user_stacks"][0],
        json!(["st", pseudonym])
    );
}

#[test]
fn logs_carry_no_secret_and_quote_what_clients_send() {
    let (child, addr, lines) = spawn_binary(&["--port", "0"], &[]);
    let server = child;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s = TestServer::at(&addr);
        s.call(
            Wire::Json,
            "CreateDirectoryConfig",
            json!({"DirectoryName": "x.example.com",
                "OrganizationalUnitDistinguishedNames": ["OU=a"],
                "ServiceAccountCredentials": {"AccountName": "svc", "AccountPassword": format!("{PASSWORD}{}", "p".repeat(120))}}),
        )
        .await;
        for _ in 0..2 {
            s.call(
                Wire::Cbor,
                "CreateUser",
                json!({"UserName": USER, "AuthenticationType": "USERPOOL"}),
            )
            .await;
        }
        s.call(Wire::Json, "DeleteUser", json!({"UserName": "gone@example.com", "AuthenticationType": "USERPOOL"}))
            .await;
        // A target that tries to end its field and write a line of its own.
        let forged = "PhotonAdminProxyService.X operation=DeleteFleet account=111111111111 status=200";
        s.json_raw(Some(forged), b"{}".to_vec(), None).await;
    });
    drop(server);
    let log: Vec<String> = lines.try_iter().collect();
    let log = log.join("\n");
    for secret in [PASSWORD, USER, "gone@example.com"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    assert!(
        log.contains(r#"operation="X operation=DeleteFleet account=111111111111 status=200""#),
        "the forged target is one quoted value:\n{log}"
    );
    // No line has a field of its own saying DeleteFleet: it is inside the quotes.
    assert!(
        !log.lines()
            .any(|line| line.contains(" operation=DeleteFleet ")
                && !line.contains(r#""X operation=DeleteFleet"#)),
        "{log}"
    );
}

#[test]
fn a_failed_seed_leaves_no_state_and_fails_the_same_way_again() {
    let parent = temp_dir("half-seed");
    let dir = parent.join("state");
    let seed = parent.join("seed.json");
    std::fs::write(
        &seed,
        format!(
            r#"[{{"operation": "CreateStack", "input": {{"Name": "one"}}}},
               {{"operation": "CreateStack", "input": {{"Name": "two"}}}},
               {{"operation": "CreateDirectoryConfig", "input": {{"DirectoryName": "d.example.com",
                 "OrganizationalUnitDistinguishedNames": ["OU=a"],
                 "ServiceAccountCredentials": {{"AccountName": "svc", "AccountPassword": "{PASSWORD}{}"}}}}}}]"#,
            "p".repeat(120)
        ),
    )
    .unwrap();
    let args = [
        "--port",
        "0",
        "--state-dir",
        dir.to_str().unwrap(),
        "--init",
        seed.to_str().unwrap(),
    ];
    for round in 0..2 {
        let log = start_up_fails(&args);
        assert!(
            log.contains("entry 2 (CreateDirectoryConfig)"),
            "round {round}: {log}"
        );
        assert!(
            !log.contains(PASSWORD),
            "round {round}: the password is not printed"
        );
        assert!(
            !log.contains("replayed") || log.contains(": 0 journal records replayed"),
            "round {round}: nothing was kept: {log}"
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "round {round}: {left:?}");
    }
    // A marker left by a seed that died part-way discards what it wrote.
    std::fs::write(dir.join("seeding.incomplete"), "").unwrap();
    std::fs::write(dir.join("snapshot.json"), "half").unwrap();
    std::fs::write(
        &seed,
        r#"[{"operation": "CreateStack", "input": {"Name": "whole"}}]"#,
    )
    .unwrap();
    let (child, addr, _) = spawn_binary(&args, &[]);
    let server = child;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let stacks = TestServer::at(&addr)
            .ok(Wire::Json, "DescribeStacks", json!({}))
            .await;
        assert_eq!(stacks["Stacks"][0]["Name"], "whole");
    });
    drop(server);
    assert!(!dir.join("seeding.incomplete").exists());
    let _ = std::fs::remove_dir_all(&parent);
}

#[tokio::test]
async fn the_clock_stays_in_range_and_reset_returns_a_fresh_start() {
    for wire in WIRES {
        let s = start().await;
        // A hundred years at most: every SDK can still parse the times.
        for _ in 0..10 {
            s.control("/_clock", r#"{"advance_seconds": 315360000}"#)
                .await;
        }
        let (status, answer) = s
            .control("/_clock", r#"{"advance_seconds": 315360000}"#)
            .await;
        assert_eq!(status, 400, "{answer}");
        assert!(clock_offset(&s).await <= 3_155_760_000.0);
        for bad in [
            r#"{"offset_seconds": -1}"#,
            r#"{"offset_seconds": 3155760001}"#,
            r#"{"advance_seconds": -5}"#,
            r#"{"advance_seconds": 1, "offset_seconds": 1}"#,
        ] {
            let before = clock_offset(&s).await;
            let (status, answer) = s.control("/_clock", bad).await;
            assert_eq!(status, 400, "{bad}: {answer}");
            assert_eq!(clock_offset(&s).await, before, "{bad} changed nothing");
        }
        let (status, _) = s.control("/_clock", r#"{"offset_seconds": 100}"#).await;
        assert_eq!(status, 200);
        assert_eq!(clock_offset(&s).await, 100.0);
        let (status, _) = send(&s, reqwest::Method::DELETE, "/_clock", &[], "").await;
        assert_eq!(status, 200);
        assert_eq!(clock_offset(&s).await, 0.0);

        // What one test leaves: a resource, a fault rule, time moved, requests seen.
        s.ok(wire, "CreateStack", json!({"Name": "left"})).await;
        let (status, _) = s
            .control(
                "/_faults",
                r#"{"rules": [{"operation": "*", "probability": 0.5, "error": {"code": "ThrottlingException"}}]}"#,
            )
            .await;
        assert_eq!(status, 200);
        s.control("/_clock", r#"{"advance_seconds": 100}"#).await;
        let (status, _) = s.control("/_reset", "").await;
        assert_eq!(status, 200);

        assert_eq!(fault_count(&s).await, 0, "{wire:?}");
        assert_eq!(clock_offset(&s).await, 0.0, "{wire:?}");
        let history: Value =
            serde_json::from_slice(&s.get("/_requests").await.bytes().await.unwrap()).unwrap();
        assert_eq!(history["requests"], json!([]), "{wire:?}");
        let stacks = s.ok(wire, "DescribeStacks", json!({})).await;
        assert_eq!(stacks["Stacks"], json!([]), "{wire:?}");
        let created = s.ok(wire, "CreateStack", json!({"Name": "next"})).await;
        let created_time = crate::common::cbor_epoch(wire, &created["Stack"]["CreatedTime"]);
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        assert!(
            (created_time - now).abs() < 5.0,
            "{wire:?}: {created_time} vs {now}"
        );
    }
}

#[test]
fn a_full_reset_sets_the_clock_back_after_a_restart_too() {
    let dir = temp_dir("reset-clock");
    let args = ["--port", "0", "--state-dir", dir.to_str().unwrap()];
    // Each start is killed with SIGKILL when dropped, so the next one replays the
    // journal instead of reading a snapshot written at a clean stop.
    let start = || {
        let (child, addr, _) = spawn_binary(&args, &[]);
        (child, TestServer::at(&addr))
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (server, s) = start();
        s.control("/_clock", r#"{"offset_seconds": 500}"#).await;
        drop(server);

        let (server, s) = start();
        assert_eq!(clock_offset(&s).await, 500.0, "a set offset is durable");
        s.control("/_clock", r#"{"advance_seconds": 100}"#).await;
        let (status, _) = s.control("/_reset", "").await;
        assert_eq!(status, 200);
        drop(server);

        let (_server, s) = start();
        assert_eq!(
            clock_offset(&s).await,
            0.0,
            "the replayed reset set it back"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn fault_messages_have_a_size_limit() {
    let s = start().await;
    let rule = |n: usize| {
        json!({"rules": [{"operation": "*", "error": {"code": "Boom", "message": "m".repeat(n)}}]})
            .to_string()
    };
    let (status, answer) = s.control("/_faults", &rule(1025)).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("at most 1024"),
        "{answer}"
    );
    let failing = json!({"rules": [{"operation": "StartFleet",
        "transition_failure": {"code": "INTERNAL_ERROR", "message": "m".repeat(1025)}}]});
    let (status, answer) = s.control("/_faults", &failing.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("transition_failure.message"),
        "{answer}"
    );
    let (status, _) = s.control("/_faults", &rule(1024)).await;
    assert_eq!(status, 200);
}
