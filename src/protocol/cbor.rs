//! Smithy RPC v2 CBOR. Requests are read into the same value tree the JSON protocol
//! produces (timestamps as epoch-second numbers, blobs as base64), so that validation and
//! handlers see one form. Outputs are written back guided by the output shape, because
//! CBOR marks timestamps with tag 1 where JSON has plain numbers.

use base64::Engine as _;
use ciborium::value::{Integer, Value as Cbor};
use serde_json::{Map, Number, Value};

use crate::error::ApiError;
use crate::schema::{ShapeId, ShapeKind};

const EPOCH_SECONDS_TAG: u64 = 1;

pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let cbor: Cbor = ciborium::de::from_reader(body)
        .map_err(|e| ApiError::serialization(format!("The request body is not valid CBOR: {e}")))?;
    to_json(cbor)
}

fn to_json(cbor: Cbor) -> Result<Value, ApiError> {
    Ok(match cbor {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Integer(i) => integer_to_json(i)?,
        Cbor::Float(f) => Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| ApiError::serialization("NaN and infinite numbers are not accepted."))?,
        Cbor::Text(s) => Value::String(s),
        Cbor::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Cbor::Array(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Cbor::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let Cbor::Text(key) = k else {
                    return Err(ApiError::serialization(
                        "CBOR map keys must be text strings.",
                    ));
                };
                map.insert(key, to_json(v)?);
            }
            Value::Object(map)
        }
        Cbor::Tag(EPOCH_SECONDS_TAG, inner) => match *inner {
            n @ (Cbor::Integer(_) | Cbor::Float(_)) => to_json(n)?,
            _ => {
                return Err(ApiError::serialization(
                    "Tag 1 must wrap a number of epoch seconds.",
                ))
            }
        },
        Cbor::Tag(tag, _) => {
            return Err(ApiError::serialization(format!(
                "CBOR tag {tag} is not accepted."
            )))
        }
        _ => return Err(ApiError::serialization("Unsupported CBOR value.")),
    })
}

fn integer_to_json(i: Integer) -> Result<Value, ApiError> {
    let wide = i128::from(i);
    if let Ok(n) = i64::try_from(wide) {
        Ok(Value::from(n))
    } else if let Ok(n) = u64::try_from(wide) {
        Ok(Value::from(n))
    } else {
        Err(ApiError::serialization("Integer out of range."))
    }
}

pub fn encode_output(shape: ShapeId, value: &Value) -> Vec<u8> {
    write(&to_cbor(Some(shape), value))
}

pub fn encode_error(error: &crate::error::ApiError) -> Vec<u8> {
    let text = |s: &str| Cbor::Text(s.to_string());
    write(&Cbor::Map(vec![
        (
            text("__type"),
            text(&format!("com.amazonaws.appstream#{}", error.code)),
        ),
        (text("message"), text(&error.message)),
        (text("Message"), text(&error.message)),
    ]))
}

fn write(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

fn to_cbor(shape: Option<ShapeId>, value: &Value) -> Cbor {
    let kind = shape.map(|s| &s.shape().kind);
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match kind {
            Some(ShapeKind::Timestamp) => Cbor::Tag(
                EPOCH_SECONDS_TAG,
                Box::new(Cbor::Float(n.as_f64().unwrap_or_default())),
            ),
            _ => number_to_cbor(n),
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(items) => {
            let member = match kind {
                Some(ShapeKind::List { member, .. }) => Some(*member),
                _ => None,
            };
            Cbor::Array(items.iter().map(|i| to_cbor(member, i)).collect())
        }
        Value::Object(map) => Cbor::Map(
            map.iter()
                .map(|(k, v)| {
                    let child = match kind {
                        Some(ShapeKind::Structure { members, .. }) => {
                            members.iter().find(|m| m.name == k).map(|m| m.target)
                        }
                        Some(ShapeKind::Map { value, .. }) => Some(*value),
                        _ => None,
                    };
                    (Cbor::Text(k.clone()), to_cbor(child, v))
                })
                .collect(),
        ),
    }
}

fn number_to_cbor(n: &Number) -> Cbor {
    if let Some(i) = n.as_i64() {
        Cbor::Integer(i.into())
    } else if let Some(u) = n.as_u64() {
        Cbor::Integer(u.into())
    } else {
        Cbor::Float(n.as_f64().unwrap_or_default())
    }
}
