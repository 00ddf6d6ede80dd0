//! Checks a decoded input against the model's shape table, the way AWS's front end does:
//! a value of the wrong type is a SerializationException; every constraint violation is
//! collected and reported together in one ValidationException.

use serde_json::Value;

use crate::error::ApiError;
use crate::model::schema::{pattern_matches, pattern_source, ShapeId, ShapeKind};

/// At most this many violations are spelled out in one message; the count stays true.
/// A request with millions of bad list items must not make a message of gigabytes.
pub const MAX_LISTED_VIOLATIONS: usize = 100;
pub use crate::error::{shorten, MAX_ECHOED_CHARS};

/// No input list may hold more items than this (the model's own maxima are all lower, and
/// its unbounded lists name a few resources at most). A longer list is refused on its
/// length alone, without its items being examined, in both protocols; CBOR stops keeping
/// items at this point while it decodes.
pub const MAX_LIST_ITEMS: usize = 1000;

/// The refusal of a list longer than `MAX_LIST_ITEMS`: its length is the one violation
/// reported, against the model's maximum where it has one.
pub fn over_long_list(path: &str, value: &Value, model_max: Option<i64>) -> ApiError {
    let max = model_max.unwrap_or(MAX_LIST_ITEMS as i64);
    let mut violations = Violations::default();
    violations.push(
        path,
        Some(value),
        &format!("Member must have length less than or equal to {max}"),
    );
    violations
        .into_result()
        .expect_err("one violation was recorded")
}

/// The constraint violations of one request, in the order they were found.
#[derive(Debug, Default)]
pub struct Violations {
    messages: Vec<String>,
    count: usize,
}

impl Violations {
    /// Records `Value <value> at '<path>' failed to satisfy constraint: <constraint>`.
    pub fn push(&mut self, path: &str, value: Option<&Value>, constraint: &str) {
        self.push_message(|| {
            format!(
                "Value {} at '{path}' failed to satisfy constraint: {constraint}",
                describe_value(value)
            )
        });
    }

    /// Records `Value at '<path>' failed ...` without the value, as AWS says it of a
    /// member the model marks sensitive (a password, a user name).
    pub fn push_hidden(&mut self, path: &str, constraint: &str) {
        self.push_message(|| {
            format!("Value at '{path}' failed to satisfy constraint: {constraint}")
        });
    }

    fn push_message(&mut self, message: impl FnOnce() -> String) {
        self.count += 1;
        if self.messages.len() < MAX_LISTED_VIOLATIONS {
            self.messages.push(message());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// AWS's form: `1 validation error detected: ...` or `N validation errors detected: a; b`,
    /// listing the first `MAX_LISTED_VIOLATIONS`.
    pub fn into_result(self) -> Result<(), ApiError> {
        let unlisted = self.count - self.messages.len();
        let more = if unlisted > 0 {
            format!("; and {unlisted} more")
        } else {
            String::new()
        };
        match self.count {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.messages[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}{more}",
                self.messages.join("; ")
            ))),
        }
    }
}

/// Validates `input` (the whole request body) against the operation's input shape. The
/// protocols' decoders have already dropped the members the model does not define.
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

/// Validates one value against `shape`, naming it `path` in the message: for test
/// controls whose inputs take a model shape.
pub fn validate_value(shape: ShapeId, value: &Value, path: &str) -> Result<(), ApiError> {
    let mut violations = Violations::default();
    check(shape, value, path, &mut violations)?;
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

pub fn type_error(path: &str, expected: &str) -> ApiError {
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
            if items.len() > MAX_LIST_ITEMS {
                return Err(over_long_list(path, value, *max));
            }
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
            if map.len() > MAX_LIST_ITEMS {
                return Err(over_long_list(path, value, *max));
            }
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
                if shape.shape().sensitive {
                    v.push_hidden(path, &constraint);
                } else {
                    v.push(path, Some(value), &constraint);
                }
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

/// How AWS prints a value in a message: `null`, `'text'`, `'[a, b]'`, `'{k=v}'`, cut to
/// `MAX_ECHOED_CHARS` characters so that a huge value costs no more than a small one.
fn describe_value(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "null".into(),
        Some(v) => {
            let mut text = String::new();
            // Writing stops a little past the limit; `shorten` then cuts exactly.
            plain(v, &mut text);
            format!("'{}'", shorten(&text))
        }
    }
}

/// Appends AWS's plain form of `value` to `out`, stopping once `out` holds more than
/// the echo limit (in bytes, which is at least as many characters).
fn plain(value: &Value, out: &mut String) {
    let full = |out: &String| out.len() > MAX_ECHOED_CHARS * 4;
    match value {
        Value::Null => out.push_str("null"),
        Value::String(s) => {
            let end = s
                .char_indices()
                .nth(MAX_ECHOED_CHARS + 1)
                .map_or(s.len(), |(i, _)| i);
            out.push_str(&s[..end]);
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if full(out) {
                    return;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                plain(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if full(out) {
                    return;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                plain(v, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
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
            crate::model::schema::compile_all_patterns(),
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
    fn huge_inputs_make_short_messages_with_a_true_count() {
        let entries: Vec<Value> = (0..1_000)
            .map(|_| json!({"StackName": "", "UserName": "u@example.com", "AuthenticationType": "USERPOOL"}))
            .collect();
        let input = json!({"UserStackAssociations": entries});
        let err = validate_input(shapes::BATCH_ASSOCIATE_USER_STACK_REQUEST, &input).unwrap_err();
        assert!(
            err.message.starts_with("1001 validation errors detected: "),
            "{}",
            &err.message[..200]
        );
        assert!(err.message.ends_with("; and 901 more"), "{}", err.message);
        assert!(err.message.len() < 40_000, "{} bytes", err.message.len());
        assert!(err.message.contains("...(truncated)"));

        let names: Vec<Value> = (0..MAX_LIST_ITEMS + 1).map(|_| json!("")).collect();
        let err =
            validate_input(shapes::DESCRIBE_STACKS_REQUEST, &json!({"Names": names})).unwrap_err();
        assert!(
            err.message.starts_with("1 validation error detected: Value '[, , ")
                && err.message.ends_with("...(truncated)' at 'names' failed to satisfy constraint: Member must have length less than or equal to 1000"),
            "{}",
            err.message
        );
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
