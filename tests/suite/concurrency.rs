//! Many clients mixing create, update, delete, describe and tag on overlapping names.
//! Each operation runs atomically under its region's lock, so the acknowledged results
//! must tell one consistent story per stack.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::common::{start, Wire};
use serde_json::json;

const NAMES: usize = 4;
const CLIENTS: usize = 12;
const OPS_PER_CLIENT: usize = 150;

#[derive(Debug, Clone)]
enum Acked {
    Created(String),
    Deleted,
    Updated(String),
    Tagged(String, String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_operations_on_overlapping_names_stay_consistent() {
    let s = Arc::new(start().await);
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let s = s.clone();
        clients.push(tokio::spawn(async move {
            let wire = if client % 2 == 0 { Wire::Json } else { Wire::Cbor };
            let mut acked: Vec<(String, Acked)> = Vec::new();
            for i in 0..OPS_PER_CLIENT {
                let name = format!("shared-{}", (client * 7 + i * 3) % NAMES);
                let tag = format!("c{client}-{i}");
                let (op, body) = match (client + i) % 5 {
                    0 => ("CreateStack", json!({"Name": name, "Description": tag})),
                    1 => ("UpdateStack", json!({"Name": name, "Description": tag})),
                    2 => ("DeleteStack", json!({"Name": name})),
                    3 => (
                        "TagResource",
                        json!({"ResourceArn": format!("arn:aws:appstream:us-east-1:000000000000:stack/{name}"), "Tags": {format!("k{}", i % 3): tag}}),
                    ),
                    _ => ("DescribeStacks", json!({})),
                };
                let reply = s.call(wire, op, body).await;
                match (op, reply.status) {
                    ("CreateStack", 200) => acked.push((name, Acked::Created(tag))),
                    ("UpdateStack", 200) => acked.push((name, Acked::Updated(tag))),
                    ("DeleteStack", 200) => acked.push((name, Acked::Deleted)),
                    ("TagResource", 200) => acked.push((name, Acked::Tagged(format!("k{}", i % 3), tag))),
                    ("DescribeStacks", 200) => {
                        let names: Vec<&str> = reply.body["Stacks"].as_array().unwrap().iter().map(|s| s["Name"].as_str().unwrap()).collect();
                        let unique: BTreeSet<&&str> = names.iter().collect();
                        assert_eq!(unique.len(), names.len(), "duplicate stacks in {names:?}");
                    }
                    ("CreateStack", 400) => assert_eq!(reply.code(), "ResourceAlreadyExistsException"),
                    (_, 404) => assert_eq!(reply.code(), "ResourceNotFoundException"),
                    other => panic!("{op}: unexpected {other:?}: {reply:?}"),
                }
            }
            acked
        }));
    }
    let mut by_name: BTreeMap<String, Vec<Acked>> = BTreeMap::new();
    for c in clients {
        for (name, a) in c.await.unwrap() {
            by_name.entry(name).or_default().push(a);
        }
    }
    assert!(
        by_name.values().map(Vec::len).sum::<usize>() > CLIENTS * OPS_PER_CLIENT / 5,
        "too few acknowledged operations to mean anything"
    );

    for i in 0..NAMES {
        let name = format!("shared-{i}");
        let acked = by_name.get(&name).cloned().unwrap_or_default();
        let creates = acked
            .iter()
            .filter(|a| matches!(a, Acked::Created(_)))
            .count();
        let deletes = acked.iter().filter(|a| matches!(a, Acked::Deleted)).count();
        let final_state = s.json("DescribeStacks", json!({"Names": [name]})).await;
        let exists = final_state.status == 200;
        // Creates and deletes of one name can only succeed alternately.
        assert_eq!(
            creates as i64 - deletes as i64,
            i64::from(exists),
            "{name}: {creates} creates, {deletes} deletes acknowledged, exists={exists}"
        );
        if exists {
            let description = final_state.body["Stacks"][0]["Description"]
                .as_str()
                .unwrap()
                .to_string();
            let written: BTreeSet<String> = acked
                .iter()
                .filter_map(|a| match a {
                    Acked::Created(d) | Acked::Updated(d) => Some(d.clone()),
                    _ => None,
                })
                .collect();
            assert!(
                written.contains(&description),
                "{name}: description {description} was never acknowledged"
            );
            let arn = final_state.body["Stacks"][0]["Arn"].clone();
            let tags = s
                .json("ListTagsForResource", json!({"ResourceArn": arn}))
                .await
                .body["Tags"]
                .clone();
            for (key, value) in tags.as_object().unwrap() {
                let acknowledged = acked.iter().any(|a| matches!(a, Acked::Tagged(k, v) if k == key && Some(v.as_str()) == value.as_str()));
                assert!(
                    acknowledged,
                    "{name}: tag {key}={value} was never acknowledged"
                );
            }
        }
    }
}
