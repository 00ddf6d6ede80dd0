//! Smithy RPC v2 CBOR requests, read as strictly as JSON: the decoder is directed by the
//! input's shape, so a value of the wrong CBOR type (a byte string for a text member, a
//! tag on an integer) is refused where it stands, members the model does not know are
//! skipped without being kept, and nothing may follow the top-level map. The result is
//! the same value tree the JSON protocol produces (timestamps as epoch-second numbers).
//! Outputs are written by `cbor_writer`.

use ciborium_ll::{Decoder, Header};
use serde_json::{Map, Number, Value};

use super::InputPath as Path;
use crate::error::ApiError;
use crate::model::schema::{ShapeId, ShapeKind};
use crate::model::validation::{over_long_list, MAX_LIST_ITEMS};

const EPOCH_SECONDS_TAG: u64 = 1;
const FALSE: u8 = 20;
const TRUE: u8 = 21;
const NULL: u8 = 22;
const UNDEFINED: u8 = 23;
/// How deeply a member the model does not know may nest before the body is refused.
const MAX_SKIPPED_DEPTH: usize = 64;

/// Decodes a whole request body against `shape`, the operation's input structure.
pub fn decode(body: &[u8], shape: ShapeId) -> Result<Value, ApiError> {
    let mut reader = Reader {
        decoder: Decoder::from(body),
        len: body.len(),
        scratch: vec![0; 4096],
    };
    let value = reader.value(shape, &Path::Root)?;
    let used = reader.decoder.offset();
    if used != body.len() {
        return Err(ApiError::serialization(format!(
            "The request body has {} bytes after its CBOR map, at byte offset {used}; a request is exactly one CBOR map.",
            body.len() - used
        )));
    }
    Ok(value)
}

/// Reads every segment of a byte or text string through `$scratch`, keeping nothing. A
/// macro because ciborium-ll does not export the bound that its two segment kinds share.
macro_rules! drain {
    ($segments:expr, $scratch:expr) => {{
        let mut segments = $segments;
        while let Some(mut segment) = segments.pull().map_err(unreadable)? {
            while segment.pull(&mut $scratch).map_err(unreadable)?.is_some() {}
        }
    }};
}

struct Reader<'b> {
    decoder: Decoder<&'b [u8]>,
    len: usize,
    /// Where text and byte strings are read in chunks, allocated once per request.
    scratch: Vec<u8>,
}

type Raw = ciborium_ll::Error<std::io::Error>;

/// A decoding failure in words a user understands.
fn unreadable(error: Raw) -> ApiError {
    match error {
        ciborium_ll::Error::Io(_) => {
            ApiError::serialization("The request body ends in the middle of a CBOR value.")
        }
        ciborium_ll::Error::Syntax(offset) => ApiError::serialization(format!(
            "The request body is not well-formed CBOR at byte offset {offset}."
        )),
    }
}

fn expected(what: &str, path: &Path, found: &Header) -> ApiError {
    let found = match found {
        Header::Positive(_) | Header::Negative(_) => "an integer",
        Header::Float(_) => "a floating-point number",
        Header::Simple(FALSE | TRUE) => "a boolean",
        Header::Simple(_) => "a simple value",
        Header::Tag(tag) => {
            return ApiError::serialization(format!(
                "Expected {what} at {}, found CBOR tag {tag}; only timestamps carry a tag (1).",
                path.at()
            ))
        }
        Header::Break => "a break",
        Header::Bytes(_) => "a byte string",
        Header::Text(_) => "a text string",
        Header::Array(_) => "an array",
        Header::Map(_) => "a map",
    };
    ApiError::serialization(format!("Expected {what} at {}, found {found}.", path.at()))
}

impl Reader<'_> {
    fn pull(&mut self) -> Result<Header, ApiError> {
        self.decoder.pull().map_err(unreadable)
    }

    /// Room to reserve for `declared` items: never more than the body could hold.
    fn capacity(&mut self, declared: Option<usize>) -> usize {
        let left = self.len.saturating_sub(self.decoder.offset());
        declared.unwrap_or(0).min(left)
    }

    /// Whether a definite or indefinite container has another item; `seen` counts those read.
    fn more(&mut self, declared: Option<usize>, seen: usize) -> Result<bool, ApiError> {
        match declared {
            Some(n) => Ok(seen < n),
            None => match self.pull()? {
                Header::Break => Ok(false),
                header => {
                    self.decoder.push(header);
                    Ok(true)
                }
            },
        }
    }

    fn value(&mut self, shape: ShapeId, path: &Path) -> Result<Value, ApiError> {
        let header = self.pull()?;
        self.shaped(shape, header, path)
    }

    fn shaped(&mut self, shape: ShapeId, header: Header, path: &Path) -> Result<Value, ApiError> {
        if let Header::Simple(NULL | UNDEFINED) = header {
            return Ok(Value::Null);
        }
        match (&shape.shape().kind, header) {
            (ShapeKind::Structure { members, .. }, Header::Map(declared)) => {
                let mut map = Map::new();
                let mut seen = 0;
                while self.more(declared, seen)? {
                    seen += 1;
                    let key = self.key(path)?;
                    match members.iter().find(|m| m.name == key) {
                        Some(member) => {
                            let child =
                                self.value(member.target, &Path::Member(path, member.name))?;
                            // A null member is an absent one, as in JSON.
                            if !child.is_null() {
                                map.insert(key, child);
                            }
                        }
                        None => self.skip()?,
                    }
                }
                Ok(Value::Object(map))
            }
            (ShapeKind::List { member, max, .. }, Header::Array(declared)) => {
                let declared_cap = declared.map(|n| n.min(MAX_LIST_ITEMS));
                let mut items = Vec::with_capacity(self.capacity(declared_cap));
                while self.more(declared, items.len())? {
                    if items.len() == MAX_LIST_ITEMS {
                        // Too long to keep: read past the rest, keep none of it.
                        let mut seen = items.len();
                        while self.more(declared, seen)? {
                            self.skip()?;
                            seen += 1;
                        }
                        let kept = Value::Array(items);
                        return Err(over_long_list(&path.render(), &kept, *max));
                    }
                    let item = self.value(*member, &Path::Item(path, items.len()))?;
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            (ShapeKind::Map { value, max, .. }, Header::Map(declared)) => {
                let mut map = Map::new();
                let mut seen = 0;
                while self.more(declared, seen)? {
                    if seen == MAX_LIST_ITEMS {
                        // Too large to keep: read past the rest, keep none of it.
                        while self.more(declared, seen)? {
                            self.skip()?;
                            self.skip()?;
                            seen += 1;
                        }
                        let kept = Value::Object(map);
                        return Err(over_long_list(&path.render(), &kept, *max));
                    }
                    seen += 1;
                    let key = self.key(path)?;
                    let item = self.value(*value, &Path::Key(path, &key))?;
                    map.insert(key, item);
                }
                Ok(Value::Object(map))
            }
            (ShapeKind::String { .. }, Header::Text(len)) => self.text(len).map(Value::String),
            (
                ShapeKind::Integer { .. } | ShapeKind::Long { .. },
                header @ (Header::Positive(_) | Header::Negative(_)),
            ) => integer(header, path),
            (ShapeKind::Boolean, Header::Simple(b @ (FALSE | TRUE))) => Ok(Value::Bool(b == TRUE)),
            (ShapeKind::Timestamp, Header::Tag(EPOCH_SECONDS_TAG)) => match self.pull()? {
                header @ (Header::Positive(_) | Header::Negative(_)) => integer(header, path),
                Header::Float(f) => Number::from_f64(f).map(Value::Number).ok_or_else(|| {
                    ApiError::serialization(format!(
                        "The timestamp at {} is not a finite number.",
                        path.at()
                    ))
                }),
                other => Err(expected("epoch seconds inside tag 1", path, &other)),
            },
            (kind, header) => Err(expected(describe(kind), path, &header)),
        }
    }

    /// A map key: always a text string.
    fn key(&mut self, path: &Path) -> Result<String, ApiError> {
        match self.pull()? {
            Header::Text(len) => self.text(len),
            other => Err(expected("a text-string map key", path, &other)),
        }
    }

    fn text(&mut self, len: Option<usize>) -> Result<String, ApiError> {
        let mut text = String::with_capacity(self.capacity(len));
        let mut segments = self.decoder.text(len);
        while let Some(mut segment) = segments.pull().map_err(unreadable)? {
            while let Some(chunk) = segment.pull(&mut self.scratch).map_err(unreadable)? {
                text.push_str(chunk);
            }
        }
        Ok(text)
    }

    /// Passes over one whole value the model does not define, keeping nothing of it.
    fn skip(&mut self) -> Result<(), ApiError> {
        // Items still to skip in each open container (`None`: until a break).
        let mut open: Vec<Option<usize>> = Vec::new();
        loop {
            let header = self.pull()?;
            let mut finished_one = true;
            match header {
                Header::Break => {
                    match open.pop() {
                        Some(None) => {}
                        _ => return Err(ApiError::serialization(
                            "The request body has a CBOR break outside an indefinite-length item.",
                        )),
                    }
                }
                Header::Bytes(len) => drain!(self.decoder.bytes(len), self.scratch),
                Header::Text(len) => drain!(self.decoder.text(len), self.scratch),
                Header::Array(len) | Header::Map(len) => {
                    let items = match (header, len) {
                        (Header::Map(_), Some(n)) => Some(n.saturating_mul(2)),
                        (_, n) => n,
                    };
                    if items != Some(0) {
                        if open.len() >= MAX_SKIPPED_DEPTH {
                            return Err(ApiError::serialization(format!(
                                "The request body nests CBOR items more than {MAX_SKIPPED_DEPTH} deep."
                            )));
                        }
                        open.push(items);
                        finished_one = false;
                    }
                }
                // The tagged item follows as the next value in the same place.
                Header::Tag(_) => finished_one = false,
                Header::Positive(_)
                | Header::Negative(_)
                | Header::Float(_)
                | Header::Simple(_) => {}
            }
            if finished_one {
                // One item of the innermost definite container is done; close the
                // containers this completes.
                while let Some(Some(left)) = open.last_mut() {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    open.pop();
                }
            }
            if open.is_empty() && finished_one {
                return Ok(());
            }
        }
    }
}

fn integer(header: Header, path: &Path) -> Result<Value, ApiError> {
    let out_of_range =
        || ApiError::serialization(format!("The integer at {} is out of range.", path.at()));
    match header {
        Header::Positive(n) => Ok(Value::from(n)),
        Header::Negative(n) => i64::try_from(n)
            .map(|n| Value::from(-1 - n))
            .map_err(|_| out_of_range()),
        _ => Err(out_of_range()),
    }
}

fn describe(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure { .. } => "a structure (a CBOR map)",
        ShapeKind::List { .. } => "a list (a CBOR array)",
        ShapeKind::Map { .. } => "a map",
        ShapeKind::String { .. } => "a string (a CBOR text string)",
        ShapeKind::Integer { .. } | ShapeKind::Long { .. } => "an integer",
        ShapeKind::Boolean => "a boolean",
        ShapeKind::Timestamp => "a timestamp (tag 1 around epoch seconds)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::shapes;
    use ciborium::value::Value as Cbor;
    use serde_json::json;

    fn encode(value: &Cbor) -> Vec<u8> {
        let mut body = Vec::new();
        ciborium::ser::into_writer(value, &mut body).unwrap();
        body
    }

    fn map(entries: Vec<(&str, Cbor)>) -> Cbor {
        Cbor::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Cbor::Text(k.into()), v))
                .collect(),
        )
    }

    #[test]
    fn requests_decode_to_the_json_form_without_unknown_members() {
        let body = encode(&map(vec![
            ("Names", Cbor::Array(vec![Cbor::Text("a".into())])),
            ("NextToken", Cbor::Null),
            (
                "Unknown",
                map(vec![(
                    "deep",
                    Cbor::Array(vec![
                        Cbor::Bytes(vec![1]),
                        Cbor::Tag(9, Box::new(Cbor::Integer(1.into()))),
                    ]),
                )]),
            ),
        ]));
        assert_eq!(
            decode(&body, shapes::DESCRIBE_STACKS_REQUEST).unwrap(),
            json!({"Names": ["a"]})
        );
    }

    #[test]
    fn wrong_cbor_types_are_refused_where_they_stand() {
        let cases = [
            (
                map(vec![("Name", Cbor::Bytes(b"abc".to_vec()))]),
                shapes::CREATE_STACK_REQUEST,
                "Expected a string (a CBOR text string) at 'name', found a byte string.",
            ),
            (
                map(vec![
                    ("Name", Cbor::Text("f".into())),
                    (
                        "IdleDisconnectTimeoutInSeconds",
                        Cbor::Tag(1, Box::new(Cbor::Integer(5.into()))),
                    ),
                ]),
                shapes::UPDATE_FLEET_REQUEST,
                "found CBOR tag 1",
            ),
            (
                map(vec![(
                    "Tags",
                    Cbor::Map(vec![(Cbor::Integer(1.into()), Cbor::Text("v".into()))]),
                )]),
                shapes::CREATE_STACK_REQUEST,
                "Expected a text-string map key at 'tags'",
            ),
        ];
        for (value, shape, message) in cases {
            let error = decode(&encode(&value), shape).unwrap_err();
            assert_eq!(error.code, "SerializationException");
            assert!(error.message.contains(message), "{}", error.message);
        }
    }

    #[test]
    fn trailing_bytes_and_truncation_are_refused_in_plain_words() {
        let mut body = encode(&map(vec![("Name", Cbor::Text("s".into()))]));
        body.push(0x00);
        let error = decode(&body, shapes::CREATE_STACK_REQUEST).unwrap_err();
        assert!(
            error.message.contains("1 bytes after its CBOR map"),
            "{}",
            error.message
        );
        body.truncate(body.len() - 2);
        let error = decode(&body, shapes::CREATE_STACK_REQUEST).unwrap_err();
        assert_eq!(
            error.message,
            "The request body ends in the middle of a CBOR value."
        );
        assert!(!error.message.contains("Error {"));
    }

    #[test]
    fn deeply_nested_unknown_members_are_refused_not_followed() {
        let mut body = vec![0xa1, 0x61, b'X'];
        body.extend(std::iter::repeat_n(0x81, 10_000));
        body.push(0x00);
        let error = decode(&body, shapes::DESCRIBE_STACKS_REQUEST).unwrap_err();
        assert!(
            error.message.contains("more than 64 deep"),
            "{}",
            error.message
        );
    }
}
