//! AWS JSON 1.1: the body is the input structure; timestamps are epoch-second numbers.
//! The body is read against the input's shape, as the CBOR decoder reads its own:
//! members the model does not know are passed over without being kept, a value of the
//! wrong JSON type is refused where it stands, and no list or map grows past
//! `MAX_LIST_ITEMS`, so what a request costs is bounded by its size.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::InputPath as Path;
use crate::error::ApiError;
use crate::model::schema::{ShapeId, ShapeKind};
use crate::model::validation::{over_long_list, type_error, MAX_LIST_ITEMS};

pub fn decode(body: &[u8], shape: ShapeId) -> Result<Value, ApiError> {
    let refusal = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = Shaped {
        shape,
        path: &Path::Root,
        refusal: &refusal,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|_| value));
    value.map_err(|e| {
        refusal.take().unwrap_or_else(|| {
            ApiError::serialization(format!("The request body is not valid JSON: {e}"))
        })
    })
}

/// Reads one value of `shape`. A refusal in the model's terms is kept in `refusal` while
/// serde unwinds with a placeholder error.
struct Shaped<'a> {
    shape: ShapeId,
    path: &'a Path<'a>,
    refusal: &'a RefCell<Option<ApiError>>,
}

impl Shaped<'_> {
    fn refuse<E: serde::de::Error>(&self, error: ApiError) -> E {
        self.refusal.borrow_mut().get_or_insert(error);
        E::custom("refused")
    }

    fn wrong_type<E: serde::de::Error>(&self) -> E {
        let expected = match &self.shape.shape().kind {
            ShapeKind::Structure { .. } => "a structure",
            ShapeKind::List { .. } => "a list",
            ShapeKind::Map { .. } => "a map",
            ShapeKind::String { .. } => "a string",
            ShapeKind::Integer { .. } => "a 32-bit integer",
            ShapeKind::Long { .. } => "a 64-bit integer",
            ShapeKind::Boolean => "a boolean",
            ShapeKind::Timestamp => "a timestamp (epoch seconds)",
        };
        self.refuse(type_error(&self.path.render(), expected))
    }

    fn child<'b>(&'b self, shape: ShapeId, path: &'b Path<'b>) -> Shaped<'b> {
        Shaped {
            shape,
            path,
            refusal: self.refusal,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Shaped<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shaped<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value of shape {}", self.shape.shape().name)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        match self.shape.shape().kind {
            ShapeKind::Boolean => Ok(Value::Bool(b)),
            _ => Err(self.wrong_type()),
        }
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
        match self.shape.shape().kind {
            ShapeKind::Integer { .. } | ShapeKind::Long { .. } | ShapeKind::Timestamp => {
                Ok(Value::from(n))
            }
            _ => Err(self.wrong_type()),
        }
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
        match self.shape.shape().kind {
            ShapeKind::Integer { .. } | ShapeKind::Long { .. } | ShapeKind::Timestamp => {
                Ok(Value::from(n))
            }
            _ => Err(self.wrong_type()),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
        match self.shape.shape().kind {
            ShapeKind::Timestamp => Ok(Value::from(n)),
            _ => Err(self.wrong_type()),
        }
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        match self.shape.shape().kind {
            ShapeKind::String { .. } => Ok(Value::String(s.to_string())),
            _ => Err(self.wrong_type()),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let ShapeKind::List { member, max, .. } = self.shape.shape().kind else {
            return Err(self.wrong_type());
        };
        let mut items = Vec::new();
        loop {
            if items.len() == MAX_LIST_ITEMS {
                if seq.next_element_seed(Skip)?.is_none() {
                    break;
                }
                // Too long to keep: read past the rest, keep none of it.
                while seq.next_element_seed(Skip)?.is_some() {}
                let error = over_long_list(&self.path.render(), &Value::Array(items), max);
                return Err(self.refuse(error));
            }
            let path = Path::Item(self.path, items.len());
            match seq.next_element_seed(self.child(member, &path))? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        match &self.shape.shape().kind {
            ShapeKind::Structure { members, .. } => {
                while let Some(key) = entries.next_key::<std::borrow::Cow<'de, str>>()? {
                    match members.iter().find(|m| m.name == key) {
                        Some(member) => {
                            let path = Path::Member(self.path, member.name);
                            let value =
                                entries.next_value_seed(self.child(member.target, &path))?;
                            // A null member is an absent one.
                            if !value.is_null() {
                                map.insert(key.into_owned(), value);
                            }
                        }
                        None => {
                            entries.next_value_seed(Skip)?;
                        }
                    }
                }
            }
            ShapeKind::Map { value, max, .. } => {
                while let Some(key) = entries.next_key::<String>()? {
                    if map.len() == MAX_LIST_ITEMS {
                        entries.next_value_seed(Skip)?;
                        while entries.next_key_seed(Skip)?.is_some() {
                            entries.next_value_seed(Skip)?;
                        }
                        let error = over_long_list(&self.path.render(), &Value::Object(map), *max);
                        return Err(self.refuse(error));
                    }
                    let path = Path::Key(self.path, &key);
                    let item = entries.next_value_seed(self.child(*value, &path))?;
                    map.insert(key, item);
                }
            }
            _ => return Err(self.wrong_type()),
        }
        Ok(Value::Object(map))
    }
}

/// Reads past one value, keeping nothing. Unlike serde's `IgnoredAny` (which serde_json
/// skips without a depth limit), it goes through `deserialize_any`, so the decoder's
/// nesting limit holds for members the model does not know as for those it does.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        while entries.next_key_seed(Skip)?.is_some() {
            entries.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::shapes;
    use serde_json::json;

    #[test]
    fn unknown_members_are_passed_over_and_types_checked_where_they_stand() {
        let body =
            br#"{"Names": ["a"], "Junk": {"deep": [1, [2, {"x": null}]]}, "NextToken": null}"#;
        assert_eq!(
            decode(body, shapes::DESCRIBE_STACKS_REQUEST).unwrap(),
            json!({"Names": ["a"]})
        );
        let error = decode(br#"{"Name": 5}"#, shapes::CREATE_STACK_REQUEST).unwrap_err();
        assert_eq!(error.message, "Expected a string at 'name'.");
        let error = decode(br#"{"Name": "s"} x"#, shapes::CREATE_STACK_REQUEST).unwrap_err();
        assert!(
            error
                .message
                .starts_with("The request body is not valid JSON: trailing characters"),
            "{}",
            error.message
        );
    }

    #[test]
    fn long_lists_are_refused_without_being_kept() {
        let names = vec!["\"\""; MAX_LIST_ITEMS + 1].join(",");
        let body = format!(r#"{{"Names": [{names}]}}"#);
        let error = decode(body.as_bytes(), shapes::DESCRIBE_STACKS_REQUEST).unwrap_err();
        assert!(error.message.ends_with("at 'names' failed to satisfy constraint: Member must have length less than or equal to 1000"), "{}", error.message);
        let names = vec!["\"\""; MAX_LIST_ITEMS].join(",");
        let body = format!(r#"{{"Names": [{names}]}}"#);
        assert!(decode(body.as_bytes(), shapes::DESCRIBE_STACKS_REQUEST).is_ok());
    }
}
