//! `--state-dir` under load and over time: concurrent writes replay to the same state,
//! the journal is compacted while serving, and sessions and image shares survive
//! restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{spawn_binary, temp_dir, TestServer, Wire};
use serde_json::json;

use crate::durability::{kill_9, start, stop};

/// The journal is the order in which the server applied the acknowledged writes: after
/// a mixed concurrent load on overlapping names, replaying it from scratch (a restart)
/// must give exactly the state the clients left.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_mixed_writes_equal_their_sequential_replay() {
    let dir = temp_dir("replay");
    let (child, s) = start(&dir);
    let s = Arc::new(s);
    let mut clients = Vec::new();
    for client in 0..8usize {
        let s = s.clone();
        clients.push(tokio::spawn(async move {
            let wire = if client % 2 == 0 { Wire::Json } else { Wire::Cbor };
            let mut acknowledged_writes = 0;
            for i in 0..60usize {
                let name = format!("shared-{}", (client + i) % 5);
                let arn = format!("arn:aws:appstream:us-east-1:000000000000:stack/{name}");
                let (op, body) = match (client * 3 + i) % 6 {
                    0 | 1 => ("CreateStack", json!({"Name": name, "Description": format!("{client}/{i}")})),
                    2 => ("UpdateStack", json!({"Name": name, "DisplayName": format!("{client}/{i}")})),
                    3 => ("DeleteStack", json!({"Name": name})),
                    4 => ("TagResource", json!({"ResourceArn": arn, "Tags": {format!("t{}", i % 4): format!("{client}")}})),
                    _ => ("DescribeStacks", json!({})),
                };
                let reply = s.call(wire, op, body).await;
                if reply.status == 200 && op != "DescribeStacks" {
                    acknowledged_writes += 1;
                }
            }
            acknowledged_writes
        }));
    }
    let mut acknowledged = 0;
    for c in clients {
        acknowledged += c.await.unwrap();
    }
    let http = reqwest::Client::new();
    let state = |url: String| {
        let http = http.clone();
        async move {
            let bytes = http
                .get(format!("{url}/_state"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        }
    };
    let live = state(s.url.clone()).await;
    kill_9(child);
    let journal = std::fs::read(dir.join("journal.log")).unwrap();
    assert_eq!(
        journal.iter().filter(|b| **b == b'\n').count(),
        acknowledged,
        "one journal record per acknowledged write"
    );
    let (child, s) = start(&dir);
    let replayed = state(s.url.clone()).await;
    assert_eq!(
        replayed, live,
        "the sequential replay of the journal differs from the live state"
    );
    assert!(
        acknowledged > 100,
        "only {acknowledged} acknowledged writes"
    );
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_journal_is_compacted_while_serving() {
    let dir = temp_dir("compact");
    let (child, addr, lines) = spawn_binary(
        &[
            "--port",
            "0",
            "--state-dir",
            dir.to_str().unwrap(),
            "--compact-after",
            "20",
        ],
        &[],
    );
    let s = TestServer::at(&addr);
    for i in 0..100 {
        s.ok(
            Wire::Json,
            "CreateStack",
            json!({"Name": format!("c{i:03}")}),
        )
        .await;
    }
    // The compactor looks twice a second. Each compaction also raises the bar for the next
    // (the journal must reach half the snapshot's size), so how many records are left
    // depends on when its ticks fell; what must hold is that it ran while serving and
    // folded writes out of the journal. The wait is long because the suite's heaviest
    // tests share the two cores with this server.
    let started = Instant::now();
    let logged = std::iter::from_fn(|| {
        let left = Duration::from_secs(20).checked_sub(started.elapsed())?;
        lines.recv_timeout(left).ok()
    })
    .any(|l| l.contains("journal compacted"));
    assert!(logged, "the server never logged a compaction");
    let records = std::fs::read(dir.join("journal.log"))
        .unwrap()
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    assert!(records < 100, "journal still holds all {records} records");
    assert!(dir.join("snapshot.json").exists());
    // Writes after the compaction go to the journal; all of it survives kill -9.
    for i in 100..110 {
        s.ok(
            Wire::Cbor,
            "CreateStack",
            json!({"Name": format!("c{i:03}")}),
        )
        .await;
    }
    kill_9(child);
    let (child, s) = start(&dir);
    for i in [0, 57, 99, 100, 109] {
        s.ok(
            Wire::Json,
            "DescribeStacks",
            json!({"Names": [format!("c{i:03}")]}),
        )
        .await;
    }
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_session_connected_through_its_url_is_still_connected_after_a_restart() {
    let dir = temp_dir("connected");
    let (child, s) = start(&dir);
    s.ok(Wire::Json, "CreateStack", json!({"Name": "st"})).await;
    s.ok(Wire::Json, "CreateFleet", json!({"Name": "fl", "ImageName": "AppStream-WinServer2022-10-08-2025", "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}})).await;
    s.ok(
        Wire::Json,
        "AssociateFleet",
        json!({"StackName": "st", "FleetName": "fl"}),
    )
    .await;
    s.ok(Wire::Json, "StartFleet", json!({"Name": "fl"})).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let url = s
        .ok(
            Wire::Json,
            "CreateStreamingURL",
            json!({"StackName": "st", "FleetName": "fl", "UserId": "user-1"}),
        )
        .await["StreamingURL"]
        .as_str()
        .unwrap()
        .to_string();
    let opened = s.http().get(&url).send().await.unwrap();
    assert_eq!(
        opened.status().as_u16(),
        200,
        "followed to the session page"
    );
    let describe = json!({"StackName": "st", "FleetName": "fl"});
    let before = s.ok(Wire::Json, "DescribeSessions", describe.clone()).await;
    assert_eq!(before["Sessions"][0]["ConnectionState"], "CONNECTED");
    stop(child);

    let (child, s) = start(&dir);
    let after = s.ok(Wire::Json, "DescribeSessions", describe).await;
    assert_eq!(after, before);
    stop(child);
}

/// What another account shares stays visible across a clean restart (the snapshot) and a
/// SIGKILL (the journal), and goes with the owner's scoped reset.
#[tokio::test]
async fn a_shared_image_stays_shared_across_restarts_and_goes_with_its_owners_reset() {
    const OTHER: Option<(&str, &str)> = Some(("111111111111", "us-east-1"));
    let dir = temp_dir("shares");
    let shared = |s: &TestServer| {
        let s = TestServer::at(&s.addr.to_string());
        async move {
            let seen = s
                .json_as("DescribeImages", json!({"Type": "SHARED"}), OTHER)
                .await;
            assert_eq!(seen.status, 200, "{seen:?}");
            seen.body["Images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|image| image["Name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let (child, s) = start(&dir);
    s.ok(Wire::Json, "CreateUpdatedImage", json!({"existingImageName": "AppStream-WinServer2022-10-08-2025", "newImageName": "golden"})).await;
    s.ok(Wire::Cbor, "UpdateImagePermissions", json!({"Name": "golden", "SharedAccountId": "111111111111", "ImagePermissions": {"allowFleet": true}})).await;
    assert_eq!(shared(&s).await, ["golden"]);
    stop(child);
    let (child, s) = start(&dir);
    assert_eq!(shared(&s).await, ["golden"], "after a clean restart");
    s.ok(Wire::Json, "CreateUpdatedImage", json!({"existingImageName": "AppStream-WinServer2022-10-08-2025", "newImageName": "second"})).await;
    s.ok(Wire::Json, "UpdateImagePermissions", json!({"Name": "second", "SharedAccountId": "111111111111", "ImagePermissions": {"allowFleet": true}})).await;
    kill_9(child);
    let (child, s) = start(&dir);
    assert_eq!(shared(&s).await, ["golden", "second"], "after SIGKILL");
    let reset = reqwest::Client::new()
        .post(format!("{}/_reset", s.url))
        .header("content-type", "application/json")
        .body(r#"{"account":"000000000000","region":"us-east-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    assert!(
        shared(&s).await.is_empty(),
        "the owner's reset ends its shares"
    );
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
