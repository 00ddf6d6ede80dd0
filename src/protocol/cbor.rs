//! Smithy RPC v2 CBOR. Requests are read into the same value tree the JSON protocol
//! produces (timestamps as epoch-second numbers, blobs as base64), so that validation and
//! handlers see one form. Outputs are written back guided by the output shape, because
//! CBOR marks timestamps with tag 1 where JSON has plain numbers.

use base64::Engine as _;
use ciborium::value::{Integer, Value as Cbor};
use ciborium_io::Write as _;
use ciborium_ll::{simple, Encoder, Header};
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

/// Writes `value` as CBOR straight from the value tree, guided by the output shape.
pub fn encode_output(shape: ShapeId, value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_value(&mut Encoder::from(&mut out), Some(shape), value);
    out
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

/// Writes one value; writes into a Vec cannot fail, so their results are dropped.
fn write_value(enc: &mut Encoder<&mut Vec<u8>>, shape: Option<ShapeId>, value: &Value) {
    let kind = shape.map(|s| &s.shape().kind);
    match value {
        Value::Null => {
            let _ = enc.push(Header::Simple(simple::NULL));
        }
        Value::Bool(b) => {
            let _ = enc.push(Header::Simple(if *b {
                simple::TRUE
            } else {
                simple::FALSE
            }));
        }
        Value::Number(n) => match kind {
            Some(ShapeKind::Timestamp) => {
                let _ = enc.push(Header::Tag(EPOCH_SECONDS_TAG));
                // Always a double: some decoders take nothing narrower for timestamps.
                let _ = enc.write_all(&[0xfb]);
                let _ = enc.write_all(&n.as_f64().unwrap_or_default().to_be_bytes());
            }
            _ => {
                let header = if let Some(u) = n.as_u64() {
                    Header::Positive(u)
                } else if let Some(i) = n.as_i64() {
                    // CBOR's negative integers count down from -1.
                    Header::Negative(!(i as u64))
                } else {
                    Header::Float(n.as_f64().unwrap_or_default())
                };
                let _ = enc.push(header);
            }
        },
        Value::String(text) => {
            let _ = enc.text(text, None);
        }
        Value::Array(items) => {
            let member = match kind {
                Some(ShapeKind::List { member, .. }) => Some(*member),
                _ => None,
            };
            let _ = enc.push(Header::Array(Some(items.len())));
            for item in items {
                write_value(enc, member, item);
            }
        }
        Value::Object(map) => {
            let _ = enc.push(Header::Map(Some(map.len())));
            for (key, item) in map {
                let child = match kind {
                    Some(ShapeKind::Structure { members, .. }) => {
                        members.iter().find(|m| m.name == key).map(|m| m.target)
                    }
                    Some(ShapeKind::Map { value, .. }) => Some(*value),
                    _ => None,
                };
                let _ = enc.text(key, None);
                write_value(enc, child, item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::shapes;
    use serde_json::json;

    #[test]
    fn timestamps_are_tagged_doubles_and_other_numbers_stay_integers() {
        let value = json!({"Stack": {"Name": "s", "CreatedTime": 1759881600.0}});
        let bytes = encode_output(shapes::CREATE_STACK_RESULT, &value);
        assert!(bytes.windows(2).any(|w| w == [0xc1, 0xfb]), "{bytes:02x?}");
        let field = |map: &Cbor, key: &str| {
            map.as_map()
                .unwrap()
                .iter()
                .find(|(k, _)| k.as_text() == Some(key))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let back: Cbor = ciborium::de::from_reader(&bytes[..]).unwrap();
        let created = field(&field(&back, "Stack"), "CreatedTime");
        assert_eq!(created, Cbor::Tag(1, Box::new(Cbor::Float(1759881600.0))));

        let numbers = encode_output(
            shapes::CREATE_STACK_RESULT,
            &json!({"a": -5, "b": 7, "c": 1.5}),
        );
        let back: Cbor = ciborium::de::from_reader(&numbers[..]).unwrap();
        assert_eq!(field(&back, "a"), Cbor::Integer((-5).into()));
        assert_eq!(field(&back, "b"), Cbor::Integer(7.into()));
        assert_eq!(field(&back, "c"), Cbor::Float(1.5));
    }

    #[test]
    fn requests_decode_to_the_json_form() {
        let mut body = Vec::new();
        let request = Cbor::Map(vec![
            (
                Cbor::Text("When".into()),
                Cbor::Tag(1, Box::new(Cbor::Integer(10.into()))),
            ),
            (Cbor::Text("Blob".into()), Cbor::Bytes(vec![1, 2, 3])),
        ]);
        ciborium::ser::into_writer(&request, &mut body).unwrap();
        assert_eq!(decode(&body).unwrap(), json!({"When": 10, "Blob": "AQID"}));
        let mut bad_key = Vec::new();
        ciborium::ser::into_writer(
            &Cbor::Map(vec![(Cbor::Integer(1.into()), Cbor::Null)]),
            &mut bad_key,
        )
        .unwrap();
        assert_eq!(decode(&bad_key).unwrap_err().code, "SerializationException");
    }
}
