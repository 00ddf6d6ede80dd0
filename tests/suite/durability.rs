//! `--state-dir`: acknowledged writes survive a clean restart, SIGKILL in the middle of a
//! write load, and a torn last record; other damage stops start-up with a clear error.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{spawn_binary, start_up_fails, temp_dir, Running, TempDir, TestServer, Wire};
use serde_json::json;
pub(crate) fn start(dir: &Path) -> (Running, TestServer) {
    start_with(dir, &[])
}

pub(crate) fn start_with(dir: &Path, extra: &[&str]) -> (Running, TestServer) {
    let mut args = vec![
        "--port",
        "0",
        "--state-dir",
        dir.to_str().unwrap(),
        "--transition-seconds",
        "0.2",
    ];
    args.extend_from_slice(extra);
    let (child, addr, _) = spawn_binary(&args, &[]);
    (child, TestServer::at(&addr))
}

pub(crate) fn stop(mut child: Running) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
}

pub(crate) fn kill_9(mut child: Running) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[tokio::test]
async fn everything_survives_a_clean_restart() {
    let dir = temp_dir("restart");
    let (child, s) = start(&dir);
    s.ok(
        Wire::Json,
        "CreateStack",
        json!({"Name": "kept", "Tags": {"a": "1"}, "ApplicationSettings": {"Enabled": true}}),
    )
    .await;
    let before = s
        .ok(Wire::Json, "DescribeStacks", json!({"Names": ["kept"]}))
        .await;
    s.ok(Wire::Cbor, "CreateFleet", json!({"Name": "fl", "ImageName": "AppStream-WinServer2022-10-08-2025", "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}})).await;
    s.ok(Wire::Json, "StartFleet", json!({"Name": "fl"})).await;
    s.ok(
        Wire::Json,
        "AssociateFleet",
        json!({"StackName": "kept", "FleetName": "fl"}),
    )
    .await;
    s.ok(
        Wire::Json,
        "CreateUser",
        json!({"UserName": "u@example.com", "AuthenticationType": "USERPOOL"}),
    )
    .await;
    s.ok(Wire::Json, "CreateStack", json!({"Name": "gone"}))
        .await;
    s.ok(Wire::Json, "DeleteStack", json!({"Name": "gone"}))
        .await;
    s.json_as(
        "CreateStack",
        json!({"Name": "elsewhere"}),
        Some(("123456789012", "eu-west-1")),
    )
    .await;
    stop(child);
    assert!(dir.join("snapshot.json").exists());

    let (child, s) = start(&dir);
    let after = s
        .ok(Wire::Json, "DescribeStacks", json!({"Names": ["kept"]}))
        .await;
    assert_eq!(
        after, before,
        "the stack reads back exactly, bucket name and timestamps included"
    );
    assert_eq!(
        s.ok(
            Wire::Json,
            "ListTagsForResource",
            json!({"ResourceArn": before["Stacks"][0]["Arn"]})
        )
        .await["Tags"],
        json!({"a": "1"})
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fleet = s
        .ok(Wire::Cbor, "DescribeFleets", json!({"Names": ["fl"]}))
        .await;
    assert_eq!(
        fleet["Fleets"][0]["State"], "RUNNING",
        "a transition in flight completes after the restart"
    );
    assert_eq!(
        s.ok(
            Wire::Json,
            "ListAssociatedFleets",
            json!({"StackName": "kept"})
        )
        .await["Names"],
        json!(["fl"])
    );
    assert_eq!(
        s.ok(
            Wire::Json,
            "DescribeUsers",
            json!({"AuthenticationType": "USERPOOL"})
        )
        .await["Users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.fails(
        Wire::Json,
        "DescribeStacks",
        json!({"Names": ["gone"]}),
        404,
        "ResourceNotFoundException",
    )
    .await;
    let other = s
        .json_as(
            "DescribeStacks",
            json!({}),
            Some(("123456789012", "eu-west-1")),
        )
        .await;
    assert_eq!(other.body["Stacks"][0]["Name"], "elsewhere");
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_kill_9_mid_load() {
    let dir = temp_dir("crash");
    // Compaction runs under the load too: writes that land while a snapshot is written
    // must survive as well.
    let (child, s) = start_with(&dir, &["--compact-after", "100"]);
    let s = Arc::new(s);
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut writers = Vec::new();
    for w in 0..8 {
        let s = s.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut i = 0;
            while Instant::now() < stop_at {
                let name = format!("w{w}-{i}");
                let wire = if w % 2 == 0 { Wire::Json } else { Wire::Cbor };
                let body = json!({"Name": name, "Description": format!("written by {w}")});
                // Once the server is killed, requests fail; only whole answers count.
                let reply = s.try_call(wire, "CreateStack", body).await;
                if reply.is_ok_and(|r| r.status == 200) {
                    acknowledged.push(name);
                }
                i += 1;
            }
            acknowledged
        }));
    }
    // Kill while the writers are still going.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    kill_9(child);
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    // Writes wait for a shared fsync; a slow disk acknowledges fewer.
    eprintln!("{} writes acknowledged before the kill", acknowledged.len());
    assert!(
        acknowledged.len() > 20,
        "only {} writes were acknowledged",
        acknowledged.len()
    );

    let (child, s) = start(&dir);
    let mut stored = std::collections::BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = s
            .ok(
                Wire::Json,
                "DescribeStacks",
                token
                    .as_ref()
                    .map_or(json!({}), |t| json!({"NextToken": t})),
            )
            .await;
        stored.extend(
            page["Stacks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["Name"].as_str().unwrap().to_string()),
        );
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !stored.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A journal with two stacks' records, written by a real server killed before compaction.
async fn journal_with_two_records(label: &str) -> (TempDir, Vec<u8>) {
    let dir = temp_dir(label);
    let (child, s) = start(&dir);
    s.ok(Wire::Json, "CreateStack", json!({"Name": "first"}))
        .await;
    s.ok(Wire::Json, "CreateStack", json!({"Name": "second"}))
        .await;
    kill_9(child);
    let journal = std::fs::read(dir.join("journal.log")).unwrap();
    assert_eq!(journal.iter().filter(|b| **b == b'\n').count(), 2);
    (dir, journal)
}

#[tokio::test]
async fn a_torn_last_record_is_dropped_and_logged() {
    let (dir, mut journal) = journal_with_two_records("torn").await;
    let cut = journal.len() - 10; // the second record loses its end and its newline
    journal.truncate(cut);
    std::fs::write(dir.join("journal.log"), &journal).unwrap();
    let (child, addr, lines) =
        spawn_binary(&["--port", "0", "--state-dir", dir.to_str().unwrap()], &[]);
    let s = TestServer::at(&addr);
    s.ok(Wire::Json, "DescribeStacks", json!({"Names": ["first"]}))
        .await;
    s.fails(
        Wire::Json,
        "DescribeStacks",
        json!({"Names": ["second"]}),
        404,
        "ResourceNotFoundException",
    )
    .await;
    let logged: Vec<String> = lines.try_iter().collect();
    assert!(
        logged.iter().any(|l| l.contains("torn last record")),
        "{logged:?}"
    );
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn other_damage_stops_start_up_naming_file_and_offset() {
    let (dir, mut journal) = journal_with_two_records("corrupt").await;
    journal[20] ^= 0x01; // inside the first record
    std::fs::write(dir.join("journal.log"), &journal).unwrap();
    let log = start_up_fails(&["--port", "0", "--state-dir", dir.to_str().unwrap()]);
    assert!(
        log.contains("journal.log: corrupt record at byte offset 0"),
        "{log}"
    );
    // Nothing was rewritten: the damaged journal is still there to inspect.
    assert_eq!(std::fs::read(dir.join("journal.log")).unwrap(), journal);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn reset_and_state_endpoints() {
    let dir = temp_dir("reset");
    let (child, s) = start(&dir);
    let http = reqwest::Client::new();
    s.ok(Wire::Json, "CreateStack", json!({"Name": "a"})).await;
    s.json_as(
        "CreateStack",
        json!({"Name": "b"}),
        Some(("111111111111", "eu-west-1")),
    )
    .await;
    let dump: serde_json::Value = serde_json::from_slice(
        &http
            .get(format!("{}/_state", s.url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(dump["regions"].as_array().unwrap().len(), 2);

    let one = http
        .post(format!("{}/_reset", s.url))
        .header("content-type", "application/json")
        .body(r#"{"account":"000000000000","region":"us-east-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(one.status().as_u16(), 200);
    s.fails(
        Wire::Json,
        "DescribeStacks",
        json!({"Names": ["a"]}),
        404,
        "ResourceNotFoundException",
    )
    .await;
    assert_eq!(
        s.json_as(
            "DescribeStacks",
            json!({}),
            Some(("111111111111", "eu-west-1"))
        )
        .await
        .body["Stacks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    kill_9(child);

    // The reset was durable like any write.
    let (child, s) = start(&dir);
    s.fails(
        Wire::Json,
        "DescribeStacks",
        json!({"Names": ["a"]}),
        404,
        "ResourceNotFoundException",
    )
    .await;
    let all = http.post(format!("{}/_reset", s.url)).send().await.unwrap();
    assert_eq!(all.status().as_u16(), 200);
    assert_eq!(
        s.json_as(
            "DescribeStacks",
            json!({}),
            Some(("111111111111", "eu-west-1"))
        )
        .await
        .body["Stacks"],
        json!([])
    );
    let bad = http
        .post(format!("{}/_reset", s.url))
        .header("content-type", "application/json")
        .body(r#"{"account":"1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
