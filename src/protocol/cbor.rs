//! Smithy RPC v2 CBOR. Requests are read into the same value tree the JSON protocol
//! produces (timestamps as epoch-second numbers, blobs as base64), so that validation and
//! handlers see one form. Outputs are written by `cbor_writer`.

use base64::Engine as _;
use ciborium::value::{Integer, Value as Cbor};
use serde_json::{Map, Number, Value};

use crate::error::ApiError;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
