//! Server-side validation, driven by the model: for every implemented operation, every
//! constrained member (however deep) gets a request that breaks exactly that constraint,
//! over both wire protocols. Exact AWS wording is pinned by fixtures.

use std::collections::BTreeMap;

use crate::common::{start, TestServer, WIRES};
use appstream_local::api::dispatch::IMPLEMENTED;
use appstream_local::model::schema::{ShapeId, ShapeKind};
use serde_json::{json, Map, Value};

pub(crate) struct Examples(BTreeMap<String, (String, String)>, Map<String, Value>);

impl Examples {
    pub(crate) fn load() -> Examples {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/shape_examples.json"
        ))
        .unwrap();
        let file: Value = serde_json::from_str(&text).unwrap();
        let map = file["examples"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let s = |f: &str| v[f].as_str().unwrap().to_string();
                (k.clone(), (s("valid"), s("invalid")))
            })
            .collect();
        let prose_required = file["prose_required"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        Examples(map, prose_required)
    }

    fn get(&self, shape: ShapeId) -> &(String, String) {
        let name = shape.shape().name;
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("fixtures/shape_examples.json needs valid and invalid examples for the patterned shape {name}"))
    }

    /// The smallest value of `shape` that satisfies every constraint.
    pub(crate) fn valid(&self, shape: ShapeId) -> Value {
        match &shape.shape().kind {
            ShapeKind::Structure { members, .. } => {
                let mut object: Map<String, Value> = members
                    .iter()
                    .filter(|m| m.required)
                    .map(|m| (m.name.to_string(), self.valid(m.target)))
                    .collect();
                if let Some(Value::Object(extra)) = self.1.get(shape.shape().name) {
                    object.extend(extra.clone());
                }
                Value::Object(object)
            }
            ShapeKind::List { member, min, .. } => {
                Value::Array(vec![self.valid(*member); min.unwrap_or(0).max(0) as usize])
            }
            ShapeKind::Map {
                key, value, min, ..
            } => {
                let count = min.unwrap_or(0).max(0) as usize;
                let key_base = self.valid(*key).as_str().unwrap().to_string();
                Value::Object(
                    (0..count)
                        .map(|i| (format!("{key_base}{i}"), self.valid(*value)))
                        .collect(),
                )
            }
            ShapeKind::String {
                min,
                pattern,
                enum_values,
                ..
            } => {
                if let Some(first) = enum_values.first() {
                    json!(first)
                } else if pattern.is_some() {
                    json!(self.get(shape).0)
                } else {
                    json!("x".repeat(min.unwrap_or(1).max(1) as usize))
                }
            }
            ShapeKind::Integer { min, .. } | ShapeKind::Long { min, .. } => {
                json!(min.unwrap_or(1).max(1))
            }
            ShapeKind::Boolean => json!(true),
            ShapeKind::Timestamp => json!(0),
        }
    }
}

/// One step from a structure to a member, or from a list to its first element.
#[derive(Clone, Debug)]
enum Step {
    Member(&'static str),
    First,
}

/// A request that breaks one constraint, and what the message must then say.
#[derive(Debug)]
struct Case {
    operation: &'static str,
    input: Value,
    expected: String,
}

fn aws_path(steps: &[Step]) -> String {
    let mut path = String::new();
    for step in steps {
        match step {
            Step::Member(name) => {
                if !path.is_empty() {
                    path.push('.');
                }
                let mut chars = name.chars();
                path.extend(chars.next().map(|c| c.to_ascii_lowercase()));
                path.extend(chars);
            }
            Step::First => path.push_str(".1.member"),
        }
    }
    path
}

/// Sets (or with None, removes) the value at `steps` inside `root`, creating valid
/// containers on the way.
fn put(root: &mut Value, root_shape: ShapeId, steps: &[Step], value: Option<Value>, ex: &Examples) {
    let (step, rest) = steps.split_first().unwrap();
    let (slot_shape, container) = match (step, &root_shape.shape().kind, root) {
        (Step::Member(name), ShapeKind::Structure { members, .. }, Value::Object(map)) => {
            let member = members.iter().find(|m| m.name == *name).unwrap();
            if rest.is_empty() {
                match value {
                    Some(v) => map.insert(name.to_string(), v),
                    None => map.remove(*name),
                };
                return;
            }
            let slot = map
                .entry(name.to_string())
                .or_insert_with(|| ex.valid(member.target));
            (member.target, slot)
        }
        (Step::First, ShapeKind::List { member, .. }, Value::Array(items)) => {
            if items.is_empty() {
                items.push(ex.valid(*member));
            }
            if rest.is_empty() {
                items[0] = value.expect("list elements are never removed");
                return;
            }
            (*member, &mut items[0])
        }
        (step, kind, value) => panic!("cannot step {step:?} into {kind:?} / {value}"),
    };
    put(container, slot_shape, rest, value, ex);
}

fn violations(shape: ShapeId, required: bool, ex: &Examples) -> Vec<(Option<Value>, String)> {
    let mut out = Vec::new();
    if required {
        out.push((
            None,
            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
                .to_string(),
        ));
    }
    let at = "at '{path}' failed to satisfy constraint: ";
    match &shape.shape().kind {
        ShapeKind::String {
            min,
            max,
            pattern,
            enum_values,
        } => {
            if let Some(max) = max {
                out.push((
                    Some(json!("a".repeat(*max as usize + 1))),
                    format!("{at}Member must have length less than or equal to {max}"),
                ));
            }
            if let Some(min) = min.filter(|m| *m >= 1) {
                out.push((
                    Some(json!("")),
                    format!("{at}Member must have length greater than or equal to {min}"),
                ));
            }
            if pattern.is_some() {
                let (_, invalid) = ex.get(shape);
                // A value the model marks sensitive is not repeated, as AWS does not.
                let shown = match shape.shape().sensitive {
                    true => "Value ".to_string(),
                    false => format!("Value '{invalid}' "),
                };
                out.push((
                    Some(json!(invalid)),
                    format!("{shown}{at}Member must satisfy regular expression pattern: "),
                ));
            }
            if !enum_values.is_empty() {
                out.push((
                    Some(json!("NOT_A_MEMBER")),
                    format!(
                        "Value 'NOT_A_MEMBER' {at}Member must satisfy enum value set: [{}]",
                        enum_values.join(", ")
                    ),
                ));
            }
        }
        ShapeKind::List { member, min, max } => {
            if let Some(max) = max {
                out.push((
                    Some(Value::Array(vec![ex.valid(*member); *max as usize + 1])),
                    format!("{at}Member must have length less than or equal to {max}"),
                ));
            }
            if let Some(min) = min.filter(|m| *m >= 1) {
                out.push((
                    Some(json!([])),
                    format!("{at}Member must have length greater than or equal to {min}"),
                ));
            }
        }
        ShapeKind::Map {
            key,
            value,
            min,
            max,
        } => {
            let entry = |i: i64| (format!("key{i}"), ex.valid(*value));
            if let Some(max) = max {
                out.push((
                    Some(Value::Object((0..=*max).map(entry).collect::<Map<_, _>>())),
                    format!("{at}Member must have length less than or equal to {max}"),
                ));
            }
            if let Some(min) = min.filter(|m| *m >= 1) {
                out.push((
                    Some(json!({})),
                    format!("{at}Member must have length greater than or equal to {min}"),
                ));
            }
            if let ShapeKind::String {
                pattern: Some(_), ..
            } = &key.shape().kind
            {
                let (_, invalid) = ex.get(*key);
                out.push((
                    Some(json!({ invalid: ex.valid(*value) })),
                    format!("{at}Map keys must satisfy constraint: ["),
                ));
            }
            if let ShapeKind::String {
                pattern: Some(_), ..
            } = &value.shape().kind
            {
                let (_, invalid) = ex.get(*value);
                out.push((
                    Some(json!({ "key": invalid })),
                    format!("{at}Map value must satisfy constraint: ["),
                ));
            }
        }
        ShapeKind::Integer { min, max } | ShapeKind::Long { min, max } => {
            if let Some(max) = max {
                out.push((
                    Some(json!(max + 1)),
                    format!("{at}Member must have value less than or equal to {max}"),
                ));
            }
            if let Some(min) = min {
                out.push((
                    Some(json!(min - 1)),
                    format!("{at}Member must have value greater than or equal to {min}"),
                ));
            }
        }
        ShapeKind::Structure { .. } | ShapeKind::Boolean | ShapeKind::Timestamp => {}
    }
    out
}

fn collect_cases(
    operation: &'static str,
    input_shape: ShapeId,
    shape: ShapeId,
    steps: &mut Vec<Step>,
    ex: &Examples,
    cases: &mut Vec<Case>,
) {
    let recurse = |steps: &mut Vec<Step>,
                   step: Step,
                   target: ShapeId,
                   required: bool,
                   cases: &mut Vec<Case>| {
        steps.push(step);
        assert!(steps.len() < 32, "runaway recursion at {}", aws_path(steps));
        for (value, expected) in violations(target, required, ex) {
            let mut input = ex.valid(input_shape);
            put(&mut input, input_shape, steps, value, ex);
            cases.push(Case {
                operation,
                input,
                expected: expected.replace("{path}", &aws_path(steps)),
            });
        }
        collect_cases(operation, input_shape, target, steps, ex, cases);
        steps.pop();
    };
    match &shape.shape().kind {
        ShapeKind::Structure { members, .. } => {
            for m in members.iter() {
                recurse(steps, Step::Member(m.name), m.target, m.required, cases);
            }
        }
        ShapeKind::List { member, .. } => recurse(steps, Step::First, *member, false, cases),
        _ => {}
    }
}

fn all_cases() -> Vec<Case> {
    let ex = Examples::load();
    let mut cases = Vec::new();
    for op in IMPLEMENTED {
        collect_cases(
            op.name(),
            op.input(),
            op.input(),
            &mut Vec::new(),
            &ex,
            &mut cases,
        );
    }
    cases
}

async fn expect_validation_error(s: &TestServer, case: &Case) {
    for wire in WIRES {
        let reply = s.call(wire, case.operation, case.input.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "ValidationException"),
            "{wire:?} {} {}: {reply:?}",
            case.operation,
            case.input
        );
        assert!(
            reply.message().contains(&case.expected),
            "{wire:?} {} {}\n expected to contain: {}\n got: {}",
            case.operation,
            case.input,
            case.expected,
            reply.message()
        );
    }
}

#[tokio::test]
async fn every_constrained_member_of_every_implemented_operation_is_checked() {
    let s = start().await;
    let cases = all_cases();
    // CreateStack alone has about forty constrained members; a collapse here means the
    // walk above stopped seeing the model.
    assert!(cases.len() > 140, "only {} cases", cases.len());
    for case in &cases {
        expect_validation_error(&s, case).await;
    }
    // None of them stored anything.
    let stacks = s.json("DescribeStacks", json!({})).await;
    assert_eq!(stacks.body["Stacks"], json!([]));
}

#[tokio::test]
async fn the_valid_examples_pass_validation() {
    // The base of every case above must itself be valid, or the cases prove nothing.
    let ex = Examples::load();
    let s = start().await;
    for op in IMPLEMENTED {
        let input = ex.valid(op.input());
        for wire in WIRES {
            let reply = s.call(wire, op.name(), input.clone()).await;
            assert_ne!(
                reply.code(),
                "ValidationException",
                "{wire:?} {}: {input} -> {reply:?}",
                op.name()
            );
            assert_ne!(
                reply.code(),
                "SerializationException",
                "{wire:?} {}: {reply:?}",
                op.name()
            );
        }
    }
    // Each valid pattern example matches its pattern: set it into a CreateStack where it fits.
    let full = json!({
        "Name": format!("{}-full", ex.0["Name"].0),
        "EmbedHostDomains": [ex.0["EmbedHostDomain"].0],
        "ContentRedirection": {"HostToClient": {"Enabled": true, "AllowedUrls": [ex.0["UrlPattern"].0]}},
        "WebAuthnRedirection": {"Enabled": true, "ProcessCompatibilityList": [ex.0["ProcessImageName"].0]},
        "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}], "ReplaySessionEnabled": true,
            "S3BucketArn": ex.0["S3BucketArn"].0, "KmsKeyArn": ex.0["KmsKeyArn"].0,
            "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"},
        "Tags": {ex.0["TagKey"].0.clone(): ex.0["TagValue"].0}
    });
    for wire in WIRES {
        s.ok(wire, "CreateStack", full.clone()).await;
        s.ok(wire, "DeleteStack", json!({"Name": full["Name"]}))
            .await;
    }
}

#[tokio::test]
async fn messages_match_aws_wording_exactly() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/validation_messages.json"
    ))
    .unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let s = start().await;
    for case in file["cases"].as_array().unwrap() {
        let op = case["operation"].as_str().unwrap();
        for wire in WIRES {
            let reply = s.call(wire, op, case["input"].clone()).await;
            assert_eq!(reply.code(), "ValidationException", "{wire:?} {case}");
            assert_eq!(
                reply.message(),
                case["message"].as_str().unwrap(),
                "{wire:?} {op}"
            );
        }
    }
}
