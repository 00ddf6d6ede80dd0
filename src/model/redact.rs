//! What of a request or of the stored state may leave the API: the decoded input with
//! every value the model marks sensitive (user names, passwords, launch parameters)
//! replaced, for logs and the history; and the stored state with the same values
//! replaced by pseudonyms, for `/_state` and the state browser.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use hmac::{KeyInit, Mac};
use serde_json::Value;

use crate::generated::shapes::SHAPES;
use crate::model::schema::{ShapeId, ShapeKind};

pub const REDACTED: &str = "***";

/// The names of the members that the model marks sensitive in some structure (the
/// stored records are the model's shapes, keyed by these names).
static SENSITIVE_MEMBERS: LazyLock<BTreeSet<&'static str>> = LazyLock::new(|| {
    SHAPES
        .iter()
        .filter_map(|shape| match &shape.kind {
            ShapeKind::Structure { members, .. } => Some(*members),
            _ => None,
        })
        .flatten()
        .filter(|member| member.target.shape().sensitive)
        .map(|member| member.name)
        .collect()
});

/// The key the pseudonyms are made with: drawn when the process starts and never shown,
/// so a pseudonym cannot be turned back into its value, nor matched across runs.
static PSEUDONYM_KEY: LazyLock<[u8; 32]> = LazyLock::new(rand::random);

/// `***` and 8 hex digits of an HMAC of `value`: the same value always reads the same
/// within a run (a user and that user's associations can still be matched), and
/// nothing of the value shows.
pub fn pseudonym(value: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&*PSEUDONYM_KEY)
        .expect("HMAC takes a key of any size");
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{REDACTED}{hex}")
}

fn pseudonymise(value: &mut Value) {
    match value {
        Value::String(text) => *text = pseudonym(text),
        Value::Null => {}
        other => *other = Value::String(REDACTED.into()),
    }
}

/// One member of a tenant's stored state (`member` names its field), serialised as
/// JSON, with every sensitive value replaced by its pseudonym; `None` when it holds
/// nothing to hide, found without parsing it: the common large member (thousands of
/// stacks) then costs no more memory than its bytes.
pub fn redacted_member_json(member: &str, json: &[u8]) -> Option<Vec<u8>> {
    let has = |needle: &[u8]| memchr::memmem::find(json, needle).is_some();
    let keyed_by_user = matches!(member, "users" | "user_stacks") && json.len() > 2;
    let sensitive = keyed_by_user
        || SENSITIVE_MEMBERS
            .iter()
            .any(|name| has(format!("\"{name}\":").as_bytes()));
    if !sensitive {
        return None;
    }
    // The store's own serialisation, so it parses.
    let mut value = serde_json::from_slice::<Value>(json).unwrap_or_default();
    redact_member(member, &mut value);
    serde_json::to_vec(&value).ok()
}

/// One tenant's stored state, as JSON, with every sensitive value replaced by its
/// pseudonym.
pub fn redact_stored(state: &mut Value) {
    if let Some(members) = state.as_object_mut() {
        for (member, value) in members.iter_mut() {
            redact_member(member, value);
        }
    }
}

/// One member of the stored state with its sensitive values replaced by pseudonyms: the
/// members the model marks sensitive at any depth, and the two places the store keys by
/// a user name (the user-pool's users and their stack associations).
pub fn redact_member(member: &str, value: &mut Value) {
    match member {
        "users" => {
            if let Some(users) = value.as_object_mut() {
                let keyed = std::mem::take(users);
                *users = keyed
                    .into_iter()
                    .map(|(name, mut user)| {
                        // A user's ARN ends with the user name.
                        if let Some(Value::String(arn)) = user.get_mut("Arn") {
                            if let Some(prefix) = arn.strip_suffix(name.as_str()) {
                                *arn = format!("{prefix}{}", pseudonym(&name));
                            }
                        }
                        (pseudonym(&name), user)
                    })
                    .collect();
            }
            redact_members(value);
        }
        "user_stacks" => {
            for pair in value.as_array_mut().into_iter().flatten() {
                if let Some(user) = pair.get_mut(1) {
                    pseudonymise(user);
                }
            }
        }
        _ => redact_members(value),
    }
}

fn redact_members(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, child) in map.iter_mut() {
                if SENSITIVE_MEMBERS.contains(name.as_str()) {
                    pseudonymise(child);
                } else {
                    redact_members(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_members),
        _ => {}
    }
}

/// `value`, read as shape `shape`, with its sensitive values replaced by `REDACTED`.
pub fn redacted(shape: ShapeId, value: &Value) -> Value {
    let shape_of = shape.shape();
    if shape_of.sensitive {
        return Value::String(REDACTED.into());
    }
    match (&shape_of.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(name, child)| {
                    let child = match members.iter().find(|m| m.name == name) {
                        Some(member) => redacted(member.target, child),
                        None => child.clone(),
                    };
                    (name.clone(), child)
                })
                .collect(),
        ),
        (ShapeKind::List { member, .. }, Value::Array(items)) => {
            Value::Array(items.iter().map(|item| redacted(*member, item)).collect())
        }
        (ShapeKind::Map { value: shape, .. }, Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), redacted(*shape, item)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// The name of the resource a request is about, for its log line: the first of the
/// input's naming members that it gives and the model does not mark sensitive.
pub fn resource_name(shape: ShapeId, input: &Value) -> Option<String> {
    const NAMING: [&str; 8] = [
        "Name",
        "StackName",
        "FleetName",
        "ResourceArn",
        "Arn",
        "SourceImageName",
        "SessionId",
        "UserName",
    ];
    let ShapeKind::Structure { members, .. } = &shape.shape().kind else {
        return None;
    };
    NAMING.iter().find_map(|name| {
        let member = members.iter().find(|m| m.name == *name)?;
        if member.target.shape().sensitive {
            return None;
        }
        input.get(*name)?.as_str().map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::shapes;
    use serde_json::json;

    #[test]
    fn stored_state_shows_pseudonyms_for_sensitive_values_and_user_names() {
        let mut state = json!({
            "directory_configs": {"corp.example.com": {"DirectoryName": "corp.example.com",
                "ServiceAccountCredentials": {"AccountName": "CORP\\svc", "AccountPassword": "hunter2"}}},
            "users": {"ana@example.com": {"UserName": "ana@example.com", "FirstName": "Ana", "Enabled": true,
                "Arn": "arn:aws:appstream:us-east-1:000000000000:user/userpool/ana@example.com"}},
            "user_stacks": [["s", "ana@example.com"]],
        });
        redact_stored(&mut state);
        let shown = state.to_string();
        for secret in ["hunter2", "CORP", "ana@example.com", "Ana"] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }
        let user = pseudonym("ana@example.com");
        assert!(user.starts_with("***") && user.len() == 11);
        assert_eq!(state["users"][&user]["UserName"], user.as_str());
        assert_eq!(state["user_stacks"][0], json!(["s", user]));
        assert_eq!(state["users"][&user]["Enabled"], true, "the rest is kept");
        assert_eq!(
            state["users"][&user]["Arn"],
            format!("arn:aws:appstream:us-east-1:000000000000:user/userpool/{user}")
        );
        assert_ne!(pseudonym("a"), pseudonym("b"));
        let plain = br#"{"s":{"Name":"s"}}"#.to_vec();
        assert_eq!(
            redacted_member_json("stacks", &plain),
            None,
            "nothing to hide"
        );
        assert_eq!(redacted_member_json("user_stacks", b"[]"), None);
        assert!(redacted_member_json("user_stacks", br#"[["s","u"]]"#).is_some());
        let secret = br#"{"d":{"ServiceAccountCredentials":{"AccountPassword":"hunter2"}}}"#;
        let shown = redacted_member_json("directory_configs", secret).unwrap();
        assert!(!String::from_utf8(shown).unwrap().contains("hunter2"));
    }

    #[test]
    fn sensitive_members_are_replaced_at_any_depth() {
        let input = json!({"UserName": "ana@example.com", "AuthenticationType": "USERPOOL", "FirstName": "Ana"});
        assert_eq!(
            redacted(shapes::CREATE_USER_REQUEST, &input),
            json!({"UserName": REDACTED, "AuthenticationType": "USERPOOL", "FirstName": REDACTED}),
            "user names and attributes are sensitive in the model"
        );
        let batch = json!({"UserStackAssociations": [{"StackName": "s", "UserName": "ana@example.com", "AuthenticationType": "USERPOOL"}]});
        assert_eq!(
            redacted(shapes::BATCH_ASSOCIATE_USER_STACK_REQUEST, &batch)["UserStackAssociations"]
                [0]["UserName"],
            REDACTED
        );
        assert_eq!(
            resource_name(shapes::CREATE_USER_REQUEST, &input),
            None,
            "a sensitive name is not logged"
        );
        assert_eq!(
            resource_name(shapes::CREATE_STACK_REQUEST, &json!({"Name": "s"})).as_deref(),
            Some("s")
        );
    }
}
