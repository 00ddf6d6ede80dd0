//! The test controls besides fault rules: the request history, the movable clock,
//! seeded state, and a faults file given at start.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{spawn_binary, start_up_fails, start_with, temp_dir, TestServer, Wire, WIRES};

use crate::controls::{delete, get_json};

#[tokio::test]
async fn the_history_keeps_the_latest_requests_redacted_and_filtered() {
    let s = start_with(appstream_local::Config {
        request_history: 3,
        ..Default::default()
    })
    .await;
    s.json(
        "CreateDirectoryConfig",
        json!({"DirectoryName": "corp.example.com",
            "OrganizationalUnitDistinguishedNames": ["OU=a"],
            "ServiceAccountCredentials": {"AccountName": "CORP\\svc", "AccountPassword": "hunter2!"}}),
    )
    .await;
    let history = get_json(&s, "/_requests").await;
    let entry = &history["requests"][0];
    assert_eq!(entry["operation"], "CreateDirectoryConfig");
    assert_eq!(entry["protocol"], "awsJson1_1");
    assert_eq!(
        (&entry["account"], &entry["region"]),
        (&json!("000000000000"), &json!("us-east-1"))
    );
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["error"], Value::Null);
    assert_eq!(entry["fault"], Value::Null);
    assert!(entry["latency_us"].is_u64());
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        entry["input"]["ServiceAccountCredentials"],
        json!({"AccountName": "***", "AccountPassword": "***"}),
        "the model marks both sensitive"
    );
    assert!(!history.to_string().contains("hunter2"));
    for name in ["a", "b", "a"] {
        s.cbor("CreateStack", json!({"Name": name})).await;
    }
    let all = get_json(&s, "/_requests").await;
    let seen: Vec<(&str, u64)> = all["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["input"]["Name"].as_str().unwrap(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("a", 200), ("b", 200), ("a", 400)],
        "the last 3, oldest first"
    );
    let refused = get_json(&s, "/_requests?status=400&operation=CreateStack").await;
    assert_eq!(refused["requests"].as_array().unwrap().len(), 1);
    assert_eq!(
        refused["requests"][0]["error"],
        "ResourceAlreadyExistsException"
    );
    let elsewhere = get_json(&s, "/_requests?region=eu-west-1").await;
    assert_eq!(elsewhere["requests"], json!([]));
    assert_eq!(s.get("/_requests?status=teapot").await.status(), 400);
    assert_eq!(delete(&s, "/_requests").await.0, 200);
    assert_eq!(get_json(&s, "/_requests").await["requests"], json!([]));
}

#[tokio::test]
async fn the_clock_jumps_over_a_one_hour_transition() {
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_secs(3600),
            clock: appstream_local::controls::clock::Clock::default(),
            ..Default::default()
        })
        .await;
        s.ok(wire, "CreateImageBuilder", json!({"Name": "b",
            "ImageName": "AppStream-WinServer2022-10-08-2025", "InstanceType": "stream.standard.large"}))
            .await;
        let before = get_json(&s, "/_clock").await;
        assert_eq!(before["offset_seconds"], 0.0);
        let (status, moved) = s.control("/_clock", r#"{"advance_seconds": 3599}"#).await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["offset_seconds"], 3599.0);
        assert!(moved["now"].as_f64().unwrap() >= before["now"].as_f64().unwrap() + 3599.0);
        let pending = s
            .ok(wire, "DescribeImageBuilders", json!({"Names": ["b"]}))
            .await;
        assert_eq!(pending["ImageBuilders"][0]["State"], "PENDING");
        s.control("/_clock", r#"{"advance_seconds": 2}"#).await;
        let running = s
            .ok(wire, "DescribeImageBuilders", json!({"Names": ["b"]}))
            .await;
        assert_eq!(running["ImageBuilders"][0]["State"], "RUNNING");
        // Streaming URLs expire by the same clock; time only moves forward.
        for bad in [
            r#"{"advance_seconds": -5}"#,
            r#"{"advance_seconds": "1"}"#,
            r#"{}"#,
        ] {
            assert_eq!(s.control("/_clock", bad).await.0, 400, "{bad}");
        }
    }
}

#[test]
fn seeded_state_is_applied_before_listening_and_a_bad_entry_stops_start_up() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/init-example.json");
    let (mut child, addr, _) = spawn_binary(
        &[
            "--port",
            "0",
            "--transition-seconds",
            "0",
            "--init",
            fixture,
        ],
        &[],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s = TestServer::at(&addr);
        let fleets = s.ok(Wire::Json, "DescribeFleets", json!({})).await;
        assert_eq!(fleets["Fleets"][0]["Name"], "demo-fleet");
        assert_eq!(fleets["Fleets"][0]["State"], "RUNNING");
        let stacks = s
            .ok(
                Wire::Json,
                "ListAssociatedStacks",
                json!({"FleetName": "demo-fleet"}),
            )
            .await;
        assert_eq!(stacks["Names"], json!(["demo-stack"]));
        let users = s
            .ok(
                Wire::Json,
                "DescribeUserStackAssociations",
                json!({"StackName": "demo-stack"}),
            )
            .await;
        assert_eq!(
            users["UserStackAssociations"][0]["UserName"],
            "ann@example.com"
        );
    });
    child.kill().unwrap();
    child.wait().unwrap();

    let dir = temp_dir("seed");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"operation": "CreateStack", "input": {"Name": "a"}},
            {"operation": "CreateFleet", "input": {"Name": "f"}}]"#,
    )
    .unwrap();
    let log = start_up_fails(&["--port", "0", "--init", bad.to_str().unwrap()]);
    assert!(
        log.contains("entry 1 (CreateFleet)") && log.contains("ValidationException"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_a_state_dir_the_seed_is_applied_only_to_a_new_one_and_the_clock_survives() {
    let parent = temp_dir("seeddir");
    let dir = parent.join("state");
    let seed = parent.join("seed.json");
    std::fs::write(
        &seed,
        r#"[{"operation": "CreateStack", "input": {"Name": "seeded"}}]"#,
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
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for round in 0..2 {
        let (mut child, addr, _) = spawn_binary(&args, &[]);
        runtime.block_on(async {
            let s = TestServer::at(&addr);
            let stacks = s.ok(Wire::Json, "DescribeStacks", json!({})).await;
            assert_eq!(
                stacks["Stacks"].as_array().unwrap().len(),
                1,
                "round {round}: seeded once, not again"
            );
            let clock = get_json(&s, "/_clock").await;
            assert_eq!(
                clock["offset_seconds"],
                f64::from(round) * 60.0,
                "round {round}"
            );
            s.control("/_clock", r#"{"advance_seconds": 60}"#).await;
        });
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn a_faults_file_is_in_force_from_the_start_and_after_resets_and_a_bad_one_stops_it() {
    let dir = temp_dir("faults");
    let good = dir.join("faults.json");
    std::fs::write(
        &good,
        r#"{"rules": [{"operation": "CreateStack", "error": {"code": "ThrottlingException"}}]}"#,
    )
    .unwrap();
    let (mut child, addr, _) = spawn_binary(
        &["--port", "0"],
        &[("APPSTREAM_LOCAL_FAULTS", good.to_str().unwrap())],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s = TestServer::at(&addr);
        s.fails(
            Wire::Json,
            "CreateStack",
            json!({"Name": "s"}),
            400,
            "ThrottlingException",
        )
        .await;
        let rules = get_json(&s, "/_faults").await;
        assert_eq!(
            (&rules["rules"][0]["id"], &rules["rules"][0]["fired"]),
            (&json!("1"), &json!(1))
        );
        // A full reset brings back the file's rules (and only them), unfired.
        s.control(
            "/_faults",
            r#"{"rules": [{"operation": "DeleteStack", "error": {"code": "Boom"}}]}"#,
        )
        .await;
        s.control("/_reset", "").await;
        let rules = get_json(&s, "/_faults").await;
        assert_eq!(rules["rules"].as_array().unwrap().len(), 1, "{rules}");
        assert_eq!(rules["rules"][0]["operation"], "CreateStack");
        assert_eq!(rules["rules"][0]["fired"], 0);
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"rules": [{"operation": "CreateStack"}]}"#).unwrap();
    let log = start_up_fails(&["--port", "0", "--faults", bad.to_str().unwrap()]);
    assert!(
        log.contains("cannot load fault rules") && log.contains("rules[0]"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reset_returns_to_the_seeded_state_in_memory_and_after_a_restart() {
    let parent = temp_dir("seedreset");
    let dir = parent.join("state");
    let seed = parent.join("seed.json");
    std::fs::write(
        &seed,
        r#"[{"operation": "CreateStack", "input": {"Name": "seeded"}},
            {"operation": "CreateStack", "input": {"Name": "elsewhere"}, "region": "eu-west-1"}]"#,
    )
    .unwrap();
    let seed = seed.to_str().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let in_memory = ["--port", "0", "--init", seed];
    let dir_arg = dir.to_str().unwrap();
    let durable = ["--port", "0", "--init", seed, "--state-dir", dir_arg];
    for args in [&in_memory[..], &durable[..]] {
        let (server, addr, _) = spawn_binary(args, &[]);
        runtime.block_on(async {
            let s = TestServer::at(&addr);
            for wire in WIRES {
                s.ok(wire, "DeleteStack", json!({"Name": "seeded"})).await;
                s.ok(wire, "CreateStack", json!({"Name": "left"})).await;
                let (status, _) = s.control("/_reset", "").await;
                assert_eq!(status, 200);
                assert_eq!(stack_names(&s, None).await, ["seeded"], "{args:?} {wire:?}");
            }
            // A scoped reset returns only its account and Region to the seed.
            s.ok(Wire::Json, "DeleteStack", json!({"Name": "seeded"}))
                .await;
            let eu = Some(("AKIDEXAMPLE", "eu-west-1"));
            let deleted = s
                .json_as("DeleteStack", json!({"Name": "elsewhere"}), eu)
                .await;
            assert_eq!(deleted.status, 200, "{}", deleted.body);
            let (status, _) = s
                .control(
                    "/_reset",
                    r#"{"account": "000000000000", "region": "us-east-1"}"#,
                )
                .await;
            assert_eq!(status, 200);
            assert_eq!(stack_names(&s, None).await, ["seeded"], "{args:?}");
            assert!(stack_names(&s, eu).await.is_empty(), "{args:?}");
        });
        drop(server);
    }
    // The durable server was killed; its journal's resets replay onto the seed.
    let (_server, addr, _) = spawn_binary(&durable, &[]);
    runtime.block_on(async {
        let s = TestServer::at(&addr);
        assert_eq!(stack_names(&s, None).await, ["seeded"]);
        let eu = Some(("AKIDEXAMPLE", "eu-west-1"));
        assert!(stack_names(&s, eu).await.is_empty());
        s.control("/_reset", "").await;
        assert_eq!(stack_names(&s, eu).await, ["elsewhere"]);
    });
    let _ = std::fs::remove_dir_all(&parent);
}

/// The stacks' names in the default account, or as `who` (access key, Region), sorted.
async fn stack_names(s: &TestServer, who: Option<(&str, &str)>) -> Vec<String> {
    let reply = s.json_as("DescribeStacks", json!({}), who).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut names: Vec<String> = reply.body["Stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}
