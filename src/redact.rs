//! What of a request may be written to a log: the decoded input with every value the
//! model marks sensitive (user names, passwords, launch parameters) replaced.

use serde_json::Value;

use crate::schema::{ShapeId, ShapeKind};

pub const REDACTED: &str = "***";

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
