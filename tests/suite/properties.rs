//! Property tests: CreateStack inputs generated from the model's shapes round-trip through
//! DescribeStacks unchanged on both protocols; the same inputs with one constraint broken
//! are refused and change nothing.

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{TestServer, Wire, WIRES};
use appstream_local::generated::shapes::CREATE_STACK_REQUEST;
use appstream_local::model::schema::{ShapeId, ShapeKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

/// Valid examples of the model's patterned string shapes.
fn pattern_examples() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/shape_examples.json"
    ))
    .unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["examples"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["valid"].as_str().unwrap().to_string()))
        .collect()
}

/// Values of `shape` that satisfy the model's constraints.
fn value_of(shape: ShapeId, examples: &BTreeMap<String, String>) -> BoxedStrategy<Value> {
    match &shape.shape().kind {
        ShapeKind::Structure { members, .. } => {
            let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = members
                .iter()
                .map(|m| {
                    let name = m.name.to_string();
                    let value = value_of(m.target, examples).prop_map(move |v| (name.clone(), v));
                    if m.required {
                        value.prop_map(Some).boxed()
                    } else {
                        proptest::option::weighted(0.4, value).boxed()
                    }
                })
                .collect();
            parts
                .prop_map(|fields| {
                    Value::Object(fields.into_iter().flatten().collect::<Map<_, _>>())
                })
                .boxed()
        }
        ShapeKind::List { member, min, max } => {
            let lo = min.unwrap_or(0).max(0) as usize;
            let hi = max.map_or(lo + 3, |m| (m as usize).min(lo + 3));
            proptest::collection::vec(value_of(*member, examples), lo..=hi)
                .prop_map(Value::Array)
                .boxed()
        }
        ShapeKind::Map {
            key,
            value,
            min,
            max,
        } => {
            let lo = min.unwrap_or(0).max(0) as usize;
            let hi = max.map_or(lo + 3, |m| (m as usize).min(lo + 3));
            let key_base = examples
                .get(key.shape().name)
                .cloned()
                .unwrap_or_else(|| "k".into());
            proptest::collection::vec(value_of(*value, examples), lo..=hi)
                .prop_map(move |values| {
                    Value::Object(
                        values
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (format!("{key_base}{i}"), v))
                            .collect(),
                    )
                })
                .boxed()
        }
        ShapeKind::String {
            min,
            max,
            pattern,
            enum_values,
        } => {
            if !enum_values.is_empty() {
                proptest::sample::select(enum_values.to_vec())
                    .prop_map(|s| json!(s))
                    .boxed()
            } else if pattern.is_some() {
                let example = examples
                    .get(shape.shape().name)
                    .unwrap_or_else(|| panic!("no example for {}", shape.shape().name))
                    .clone();
                Just(json!(example)).boxed()
            } else {
                let lo = min.unwrap_or(0).max(0);
                let hi = max.unwrap_or(lo + 24).min(lo + 24);
                // Any printable text, Unicode included: lengths count characters.
                proptest::string::string_regex(&format!("\\PC{{{lo},{hi}}}"))
                    .unwrap()
                    .prop_map(|s| json!(s))
                    .boxed()
            }
        }
        ShapeKind::Integer { min, max } | ShapeKind::Long { min, max } => (min.unwrap_or(-1000)
            ..=max.unwrap_or(1_000_000))
            .prop_map(|n| json!(n))
            .boxed(),
        ShapeKind::Boolean => any::<bool>().prop_map(|b| json!(b)).boxed(),
        ShapeKind::Timestamp => (0i64..2_000_000_000).prop_map(|n| json!(n)).boxed(),
    }
}

fn dedupe_by(list: &mut Vec<Value>, key: &str) {
    let mut seen = Vec::new();
    list.retain(|item| {
        let k = item[key].clone();
        let fresh = !seen.contains(&k);
        seen.push(k);
        fresh
    });
}

/// Applies the rules the model states in prose, so that the input is valid as a whole.
fn make_coherent(input: &mut Value) {
    if let Some(settings) = input.get_mut("UserSettings").and_then(Value::as_array_mut) {
        dedupe_by(settings, "Action");
        for s in settings.iter_mut() {
            let clipboard = s["Action"]
                .as_str()
                .is_some_and(|a| a.starts_with("CLIPBOARD"));
            let enabled = s["Permission"] == "ENABLED";
            let map = s.as_object_mut().unwrap();
            match map.get("MaximumLength").and_then(Value::as_i64) {
                Some(n) if clipboard && enabled => {
                    map.insert("MaximumLength".into(), json!(n.clamp(1, 20_971_520)));
                }
                _ => {
                    map.remove("MaximumLength");
                }
            }
        }
    }
    if let Some(connectors) = input
        .get_mut("StorageConnectors")
        .and_then(Value::as_array_mut)
    {
        dedupe_by(connectors, "ConnectorType");
        for c in connectors.iter_mut() {
            if c["ConnectorType"] != "ONE_DRIVE" {
                c.as_object_mut()
                    .unwrap()
                    .remove("DomainsRequireAdminConsent");
            }
        }
    }
    if let Some(agent) = input
        .get_mut("AgentAccessConfig")
        .and_then(Value::as_object_mut)
    {
        let settings = agent
            .get_mut("Settings")
            .and_then(Value::as_array_mut)
            .unwrap();
        dedupe_by(settings, "AgentAction");
        settings[0]["Permission"] = json!("ENABLED");
        let replay = agent.get("ReplaySessionEnabled") == Some(&json!(true));
        let screenshots = agent.get("ScreenshotsUploadEnabled") == Some(&json!(true));
        if replay {
            let settings = agent
                .get_mut("Settings")
                .and_then(Value::as_array_mut)
                .unwrap();
            settings.retain(|s| s["AgentAction"] != "COMPUTER_VISION");
            settings.push(json!({"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}));
        } else {
            agent.remove("KmsKeyArn");
        }
        if (replay || screenshots) && !agent.contains_key("S3BucketArn") {
            agent.insert("S3BucketArn".into(), json!("arn:aws:s3:::agent-bucket"));
        }
    }
}

/// The read-back form of a member the server fills in: defaults added, nothing else.
fn expected_member(name: &str, given: &Value) -> Value {
    match name {
        "ApplicationSettings" => {
            let mut out = json!({"Enabled": given["Enabled"]});
            if let Some(group) = given.get("SettingsGroup") {
                out["SettingsGroup"] = group.clone();
            }
            out
        }
        // Every action's default, with what was given in its place (new actions after).
        "UserSettings" => {
            let defaults = [
                ("CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "ENABLED"),
                ("CLIPBOARD_COPY_TO_LOCAL_DEVICE", "ENABLED"),
                ("FILE_UPLOAD", "ENABLED"),
                ("FILE_DOWNLOAD", "ENABLED"),
                ("PRINTING_TO_LOCAL_DEVICE", "ENABLED"),
                ("DOMAIN_PASSWORD_SIGNIN", "ENABLED"),
                ("DOMAIN_SMART_CARD_SIGNIN", "DISABLED"),
                ("AUTO_TIME_ZONE_REDIRECTION", "DISABLED"),
            ];
            let mut settings: Vec<Value> = defaults
                .iter()
                .map(|(action, permission)| json!({"Action": action, "Permission": permission}))
                .collect();
            for setting in given.as_array().unwrap() {
                match settings
                    .iter_mut()
                    .find(|s| s["Action"] == setting["Action"])
                {
                    Some(existing) => *existing = setting.clone(),
                    None => settings.push(setting.clone()),
                }
            }
            for s in &mut settings {
                let clipboard = s["Action"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("CLIPBOARD"));
                if clipboard && s["Permission"] == "ENABLED" && s.get("MaximumLength").is_none() {
                    s["MaximumLength"] = json!(20_971_520);
                }
            }
            Value::Array(settings)
        }
        _ => given.clone(),
    }
}

fn comparable(name: &str, read: &Value) -> Value {
    match name {
        // The bucket name is the server's to choose.
        "ApplicationSettings" => {
            let mut read = read.clone();
            read.as_object_mut().unwrap().remove("S3BucketName");
            read
        }
        _ => read.clone(),
    }
}

/// One constraint broken, chosen by `which`.
fn break_one(input: &mut Value, which: usize) -> &'static str {
    let map = input.as_object_mut().unwrap();
    match which % 6 {
        0 => {
            map.insert("Name".into(), json!("-bad"));
            "name"
        }
        1 => {
            map.insert("Description".into(), json!("d".repeat(257)));
            "description"
        }
        2 => {
            map.insert("Tags".into(), json!({"aws:reserved": "x"}));
            "tags"
        }
        3 => {
            map.insert(
                "UserSettings".into(),
                json!([{"Action": "FILE_UPLOAD", "Permission": "SOMETIMES"}]),
            );
            "userSettings.1.member.permission"
        }
        4 => {
            map.insert("EmbedHostDomains".into(), json!([]));
            "embedHostDomains"
        }
        _ => {
            map.insert(
                "StreamingExperienceSettings".into(),
                json!({"PreferredProtocol": "QUIC"}),
            );
            "streamingExperienceSettings.preferredProtocol"
        }
    }
}

async fn check_round_trip(s: &TestServer, wire: Wire, input: &Value) {
    let created = s.call(wire, "CreateStack", input.clone()).await;
    assert_eq!(created.status, 200, "{wire:?} {input}: {created:?}");
    let name = input["Name"].as_str().unwrap();
    let read = s.ok(wire, "DescribeStacks", json!({"Names": [name]})).await["Stacks"][0].clone();
    assert_eq!(
        read, created.body["Stack"],
        "{wire:?}: create and describe disagree"
    );
    for (member, given) in input.as_object().unwrap() {
        if member == "Tags" {
            continue;
        }
        assert_eq!(
            comparable(member, &read[member]),
            expected_member(member, given),
            "{wire:?} {member} of {input}"
        );
    }
    if let Some(tags) = input.get("Tags") {
        let listed = s
            .ok(
                wire,
                "ListTagsForResource",
                json!({"ResourceArn": read["Arn"]}),
            )
            .await;
        assert_eq!(&listed["Tags"], tags);
    }
}

#[test]
fn generated_stacks_round_trip_and_broken_ones_change_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(common::start());
    let examples = pattern_examples();
    let counter = AtomicUsize::new(0);
    let strategy = (value_of(CREATE_STACK_REQUEST, &examples), any::<usize>());
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(mut input, which)| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            input["Name"] = json!(format!("prop-{n}"));
            make_coherent(&mut input);
            let wire = WIRES[n % 2];
            runtime.block_on(async {
                check_round_trip(&server, wire, &input).await;

                let mut broken = input.clone();
                broken["Name"] = json!(format!("broken-{n}"));
                let path = break_one(&mut broken, which);
                let before = server.json("DescribeStacks", json!({})).await.body;
                let reply = server.call(wire, "CreateStack", broken.clone()).await;
                assert_eq!(
                    (reply.status, reply.code()),
                    (400, "ValidationException"),
                    "{wire:?} {broken}"
                );
                assert!(
                    reply.message().contains(&format!("at '{path}'")),
                    "{}",
                    reply.message()
                );
                assert_eq!(
                    server.json("DescribeStacks", json!({})).await.body,
                    before,
                    "a refused request changed state"
                );
                let name = broken["Name"].clone();
                assert_eq!(
                    server
                        .json("DescribeStacks", json!({"Names": [name]}))
                        .await
                        .status,
                    404
                );
            });
            Ok(())
        })
        .unwrap();
}
