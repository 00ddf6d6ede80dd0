//! Timestamps are `f64` epoch seconds in the generated types. JSON writes them as plain
//! numbers, but CBOR must wrap them in tag 1, so the generated types serialize each
//! timestamp member through these functions, which mark it as a newtype that the CBOR
//! writer recognises and every other serializer (serde_json among them) sees through.

use serde::Serializer;

/// The newtype name that marks a timestamp for the CBOR writer.
pub const MARKER: &str = "appstream_local::Timestamp";

pub fn serialize<S: Serializer>(seconds: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_newtype_struct(MARKER, seconds)
}

pub fn serialize_option<S: Serializer>(
    seconds: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match seconds {
        Some(seconds) => serialize(seconds, serializer),
        None => serializer.serialize_none(),
    }
}
