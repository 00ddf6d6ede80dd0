//! Checks a decoded input against the model's shape table, the way AWS's front end does:
//! a value of the wrong type is a SerializationException; every constraint violation is
//! collected and reported together in one ValidationException.

use serde_json::Value;

use crate::error::ApiError;
use crate::schema::{pattern_matches, pattern_source, ShapeId, ShapeKind};

/// The constraint violations of one request, in the order they were found.
#[derive(Debug, Default)]
pub struct Violations {
    messages: Vec<String>,
}

impl Violations {
    /// Records `Value <value> at '<path>' failed to satisfy constraint: <constraint>`.
    pub fn push(&mut self, path: &str, value: Option<&Value>, constraint: &str) {
        self.messages.push(format!(
            "Value {} at '{path}' failed to satisfy constraint: {constraint}",
            describe_value(value)
        ));
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// AWS's form: `1 validation error detected: ...` or `N validation errors detected: a; b`.
    pub fn into_result(self) -> Result<(), ApiError> {
        match self.messages.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.messages[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.messages.join("; ")
            ))),
        }
    }
}

/// Validates `input` (the whole request body) against the operation's input shape.
pub fn validate_input(shape: ShapeId, input: &Value) -> Result<(), ApiError> {
    if !input.is_object() {
        return Err(ApiError::serialization(
            "The request body must be a JSON object (a CBOR map).",
        ));
    }
    let mut violations = Violations::default();
    check(shape, input, "", &mut violations)?;
    violations.into_result()
}

/// The member path AWS prints: lower camel case, lists as `name.1.member`.
pub fn member_path(parent: &str, member: &str) -> String {
    let mut chars = member.chars();
    let first = chars.next().map(|c| c.to_ascii_lowercase());
    let camel: String = first.into_iter().chain(chars).collect();
    if parent.is_empty() {
        camel
    } else {
        format!("{parent}.{camel}")
    }
}

pub fn list_item_path(parent: &str, index: usize) -> String {
    format!("{parent}.{}.member", index + 1)
}

fn type_error(path: &str, expected: &str) -> ApiError {
    let at = if path.is_empty() {
        "the request body"
    } else {
        path
    };
    ApiError::serialization(format!("Expected {expected} at '{at}'."))
}

fn check(shape: ShapeId, value: &Value, path: &str, v: &mut Violations) -> Result<(), ApiError> {
    match &shape.shape().kind {
        ShapeKind::Structure { members, .. } => {
            let Value::Object(map) = value else {
                return Err(type_error(path, "a structure"));
            };
            for member in members.iter() {
                let child_path = member_path(path, member.name);
                match map.get(member.name) {
                    None | Some(Value::Null) => {
                        if member.required {
                            v.push(&child_path, None, "Member must not be null");
                        }
                    }
                    Some(child) => check(member.target, child, &child_path, v)?,
                }
            }
        }
        ShapeKind::List { member, min, max } => {
            let Value::Array(items) = value else {
                return Err(type_error(path, "a list"));
            };
            check_length(items.len(), *min, *max, path, value, v);
            for (i, item) in items.iter().enumerate() {
                let item_path = list_item_path(path, i);
                if item.is_null() {
                    v.push(&item_path, None, "Member must not be null");
                } else {
                    check(*member, item, &item_path, v)?;
                }
            }
        }
        ShapeKind::Map {
            key,
            value: value_shape,
            min,
            max,
        } => {
            let Value::Object(map) = value else {
                return Err(type_error(path, "a map"));
            };
            check_length(map.len(), *min, *max, path, value, v);
            let mut key_constraints = Vec::new();
            let mut value_constraints = Vec::new();
            for (k, item) in map {
                string_constraints(*key, k, &mut key_constraints);
                match &value_shape.shape().kind {
                    ShapeKind::String { .. } => {
                        let Value::String(s) = item else {
                            return Err(type_error(&format!("{path}.{k}"), "a string"));
                        };
                        string_constraints(*value_shape, s, &mut value_constraints);
                    }
                    _ => check(*value_shape, item, &format!("{path}.{k}"), v)?,
                }
            }
            if !key_constraints.is_empty() {
                let list = key_constraints.join(", ");
                v.push(
                    path,
                    Some(value),
                    &format!("Map keys must satisfy constraint: [{list}]"),
                );
            }
            if !value_constraints.is_empty() {
                let list = value_constraints.join(", ");
                v.push(
                    path,
                    Some(value),
                    &format!("Map value must satisfy constraint: [{list}]"),
                );
            }
        }
        ShapeKind::String { .. } => {
            let Value::String(s) = value else {
                return Err(type_error(path, "a string"));
            };
            let mut failed = Vec::new();
            string_constraints(shape, s, &mut failed);
            for constraint in failed {
                v.push(path, Some(value), &constraint);
            }
        }
        ShapeKind::Integer { min, max } => {
            let n = value
                .as_i64()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(|| type_error(path, "a 32-bit integer"))?;
            check_range(n, *min, *max, path, value, v);
        }
        ShapeKind::Long { min, max } => {
            let n = value
                .as_i64()
                .ok_or_else(|| type_error(path, "a 64-bit integer"))?;
            check_range(n, *min, *max, path, value, v);
        }
        ShapeKind::Boolean => {
            if !value.is_boolean() {
                return Err(type_error(path, "a boolean"));
            }
        }
        ShapeKind::Timestamp => {
            if !value.is_number() {
                return Err(type_error(path, "a timestamp (epoch seconds)"));
            }
        }
    }
    Ok(())
}

/// The constraints a string breaks, as AWS words them. Length counts characters.
fn string_constraints(shape: ShapeId, s: &str, failed: &mut Vec<String>) {
    let ShapeKind::String {
        min,
        max,
        pattern,
        enum_values,
    } = &shape.shape().kind
    else {
        return;
    };
    let len = s.chars().count() as i64;
    let mut add = |c: String| {
        if !failed.contains(&c) {
            failed.push(c);
        }
    };
    if let Some(max) = max.filter(|max| len > *max) {
        add(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if let Some(min) = min.filter(|min| len < *min) {
        add(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(p) = pattern.filter(|p| !pattern_matches(*p, s)) {
        add(format!(
            "Member must satisfy regular expression pattern: {}",
            pattern_source(p)
        ));
    }
    if !enum_values.is_empty() && !enum_values.contains(&s) {
        add(format!(
            "Member must satisfy enum value set: [{}]",
            enum_values.join(", ")
        ));
    }
}

fn check_length(
    len: usize,
    min: Option<i64>,
    max: Option<i64>,
    path: &str,
    value: &Value,
    v: &mut Violations,
) {
    let len = len as i64;
    if let Some(max) = max.filter(|max| len > *max) {
        v.push(
            path,
            Some(value),
            &format!("Member must have length less than or equal to {max}"),
        );
    }
    if let Some(min) = min.filter(|min| len < *min) {
        v.push(
            path,
            Some(value),
            &format!("Member must have length greater than or equal to {min}"),
        );
    }
}

pub fn check_range(
    n: i64,
    min: Option<i64>,
    max: Option<i64>,
    path: &str,
    value: &Value,
    v: &mut Violations,
) {
    if let Some(max) = max.filter(|max| n > *max) {
        v.push(
            path,
            Some(value),
            &format!("Member must have value less than or equal to {max}"),
        );
    }
    if let Some(min) = min.filter(|min| n < *min) {
        v.push(
            path,
            Some(value),
            &format!("Member must have value greater than or equal to {min}"),
        );
    }
}

/// How AWS prints a value in a message: `null`, `'text'`, `'[a, b]'`, `'{k=v}'`.
fn describe_value(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "null".into(),
        Some(v) => format!("'{}'", plain(v)),
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(plain).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", plain(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::shapes;
    use serde_json::json;

    #[test]
    fn every_model_pattern_compiles() {
        assert_eq!(
            crate::schema::compile_all_patterns(),
            crate::generated::shapes::PATTERNS.len()
        );
    }

    #[test]
    fn paths_are_lower_camel_case_with_one_based_list_members() {
        assert_eq!(member_path("", "UserSettings"), "userSettings");
        assert_eq!(
            member_path(&list_item_path("userSettings", 0), "Action"),
            "userSettings.1.member.action"
        );
        assert_eq!(member_path("", "RedirectURL"), "redirectURL");
    }

    #[test]
    fn reports_every_violation_in_one_message() {
        let input = json!({"Name": "-bad", "Description": "x".repeat(257)});
        let err = validate_input(shapes::CREATE_STACK_REQUEST, &input).unwrap_err();
        assert_eq!(err.code, "ValidationException");
        assert!(
            err.message.starts_with("2 validation errors detected: "),
            "{}",
            err.message
        );
        assert!(err.message.contains(
            "Value '-bad' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$"
        ));
        assert!(err
            .message
            .contains("at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"));
    }

    #[test]
    fn a_wrong_type_is_a_serialization_error() {
        let err = validate_input(shapes::CREATE_STACK_REQUEST, &json!({"Name": 5})).unwrap_err();
        assert_eq!(err.code, "SerializationException");
    }

    #[test]
    fn tag_keys_report_as_map_key_constraints() {
        let input = json!({"ResourceArn": "arn:aws:appstream:us-east-1:000000000000:stack/s", "Tags": {"aws:x": "v"}});
        let err = validate_input(shapes::TAG_RESOURCE_REQUEST, &input).unwrap_err();
        assert!(err.message.contains("at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ^(^(?!aws:)"), "{}", err.message);
    }

    #[test]
    fn unicode_letters_count_as_one_character_and_match_letter_classes() {
        let input = json!({"ResourceArn": "arn:aws:appstream:us-east-1:000000000000:stack/s", "Tags": {"ключ": "значение"}});
        validate_input(shapes::TAG_RESOURCE_REQUEST, &input).unwrap();
    }
}
