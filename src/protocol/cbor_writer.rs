//! Writes an operation's typed output straight to CBOR, as serde_json does for JSON, so
//! that no intermediate value tree is built. Timestamp members arrive marked (see
//! `timestamp`) and are written as tag 1 around a double: some decoders take nothing
//! narrower for timestamps. Other floats keep their shortest exact width.

use ciborium_io::Write as _;
use ciborium_ll::{simple, Encoder, Header};
use serde::ser::{self, Serialize};

use super::timestamp::MARKER;

const EPOCH_SECONDS_TAG: u64 = 1;
const BREAK: Header = Header::Break;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(String);

impl ser::Error for WriteError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        WriteError(msg.to_string())
    }
}

pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::with_capacity(1024);
    value.serialize(&mut Writer {
        encoder: Encoder::from(&mut out),
        next_is_timestamp: false,
    })?;
    Ok(out)
}

struct Writer<'a> {
    encoder: Encoder<&'a mut Vec<u8>>,
    /// Set by the timestamp marker for the one number that follows it.
    next_is_timestamp: bool,
}

// Writes into a Vec cannot fail, so the encoder's results are dropped throughout.
impl Writer<'_> {
    fn header(&mut self, header: Header) {
        let _ = self.encoder.push(header);
    }

    fn number(&mut self, header: Header) -> Result<(), WriteError> {
        if self.next_is_timestamp {
            return Err(WriteError(
                "a timestamp must be a floating-point number".into(),
            ));
        }
        self.header(header);
        Ok(())
    }

    fn signed(&mut self, v: i64) -> Result<(), WriteError> {
        if v >= 0 {
            self.number(Header::Positive(v as u64))
        } else {
            // CBOR's negative integers count down from -1.
            self.number(Header::Negative(!(v as u64)))
        }
    }

    fn open_array(&mut self, len: Option<usize>) {
        self.header(Header::Array(len));
    }
}

/// A container of unknown length was opened indefinite and needs a break to close.
pub struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    indefinite: bool,
}

impl Compound<'_, '_> {
    fn close(self) -> Result<(), WriteError> {
        if self.indefinite {
            self.writer.header(BREAK);
        }
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = WriteError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = ser::Impossible<(), WriteError>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = ser::Impossible<(), WriteError>;

    fn serialize_bool(self, v: bool) -> Result<(), WriteError> {
        self.number(Header::Simple(if v { simple::TRUE } else { simple::FALSE }))
    }

    fn serialize_i8(self, v: i8) -> Result<(), WriteError> {
        self.signed(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), WriteError> {
        self.signed(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), WriteError> {
        self.signed(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), WriteError> {
        self.signed(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), WriteError> {
        self.number(Header::Positive(v.into()))
    }

    fn serialize_u16(self, v: u16) -> Result<(), WriteError> {
        self.number(Header::Positive(v.into()))
    }

    fn serialize_u32(self, v: u32) -> Result<(), WriteError> {
        self.number(Header::Positive(v.into()))
    }

    fn serialize_u64(self, v: u64) -> Result<(), WriteError> {
        self.number(Header::Positive(v))
    }

    fn serialize_f32(self, v: f32) -> Result<(), WriteError> {
        self.serialize_f64(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<(), WriteError> {
        if std::mem::take(&mut self.next_is_timestamp) {
            self.header(Header::Tag(EPOCH_SECONDS_TAG));
            let _ = self.encoder.write_all(&[0xfb]);
            let _ = self.encoder.write_all(&v.to_be_bytes());
        } else {
            self.header(Header::Float(v));
        }
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), WriteError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), WriteError> {
        if self.next_is_timestamp {
            return Err(WriteError(
                "a timestamp must be a floating-point number".into(),
            ));
        }
        let _ = self.encoder.text(v, None);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), WriteError> {
        let _ = self.encoder.bytes(v, None);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), WriteError> {
        self.next_is_timestamp = false;
        self.header(Header::Simple(simple::NULL));
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), WriteError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), WriteError> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), WriteError> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), WriteError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), WriteError> {
        if name == MARKER {
            self.next_is_timestamp = true;
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), WriteError> {
        self.header(Header::Map(Some(1)));
        self.serialize_str(variant)?;
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'w, 'a>, WriteError> {
        self.open_array(len);
        Ok(Compound {
            writer: self,
            indefinite: len.is_none(),
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, WriteError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>, WriteError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, WriteError> {
        Err(WriteError(format!(
            "{name}::{variant}: tuple variants have no CBOR form here"
        )))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'w, 'a>, WriteError> {
        self.header(Header::Map(len));
        Ok(Compound {
            writer: self,
            indefinite: len.is_none(),
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>, WriteError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, WriteError> {
        Err(WriteError(format!(
            "{name}::{variant}: struct variants have no CBOR form here"
        )))
    }
}

/// Sequences, tuples and tuple structs: each element is written in turn.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = WriteError;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WriteError> {
                value.serialize(&mut *self.writer)
            }

            fn end(self) -> Result<(), WriteError> {
                self.close()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), WriteError> {
        key.serialize(&mut *self.writer)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WriteError> {
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), WriteError> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = WriteError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WriteError> {
        let _ = self.writer.encoder.text(key, None);
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), WriteError> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::value::Value as Cbor;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct Sample {
        #[serde(rename = "When", serialize_with = "super::super::timestamp::serialize")]
        when: f64,
        #[serde(
            rename = "Maybe",
            serialize_with = "super::super::timestamp::serialize_option",
            skip_serializing_if = "Option::is_none"
        )]
        maybe: Option<f64>,
        #[serde(rename = "Skipped", skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        #[serde(rename = "Count")]
        count: i32,
        #[serde(rename = "Debt")]
        debt: i64,
        #[serde(rename = "Ratio")]
        ratio: f64,
        #[serde(rename = "Tags")]
        tags: BTreeMap<String, String>,
        #[serde(rename = "Names")]
        names: Vec<String>,
        #[serde(rename = "On")]
        on: bool,
    }

    fn field(map: &Cbor, key: &str) -> Cbor {
        map.as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {key}"))
    }

    #[test]
    fn typed_output_reads_back_with_tagged_double_timestamps() {
        let sample = Sample {
            when: 1759881600.5,
            maybe: Some(10.0),
            skipped: None,
            count: 7,
            debt: -5,
            ratio: 1.5,
            tags: [("a".to_string(), "1".to_string())].into(),
            names: vec!["x".into(), "y".into()],
            on: true,
        };
        let bytes = to_vec(&sample).unwrap();
        // Tag 1 followed by the 0xfb header of a double, even for a whole number.
        assert_eq!(
            bytes.windows(2).filter(|w| *w == [0xc1, 0xfb]).count(),
            2,
            "{bytes:02x?}"
        );
        let back: Cbor = ciborium::de::from_reader(&bytes[..]).unwrap();
        assert_eq!(back.as_map().unwrap().len(), 8, "Skipped is left out");
        assert_eq!(
            field(&back, "When"),
            Cbor::Tag(1, Box::new(Cbor::Float(1759881600.5)))
        );
        assert_eq!(
            field(&back, "Maybe"),
            Cbor::Tag(1, Box::new(Cbor::Float(10.0)))
        );
        assert_eq!(field(&back, "Count"), Cbor::Integer(7.into()));
        assert_eq!(field(&back, "Debt"), Cbor::Integer((-5).into()));
        assert_eq!(field(&back, "Ratio"), Cbor::Float(1.5));
        assert_eq!(
            field(&back, "Tags"),
            Cbor::Map(vec![(Cbor::Text("a".into()), Cbor::Text("1".into()))])
        );
        assert_eq!(
            field(&back, "Names"),
            Cbor::Array(vec![Cbor::Text("x".into()), Cbor::Text("y".into())])
        );
        assert_eq!(field(&back, "On"), Cbor::Bool(true));
    }

    #[test]
    fn json_sees_through_the_timestamp_marker() {
        let sample = Sample {
            when: 2.5,
            maybe: None,
            skipped: None,
            count: 1,
            debt: 0,
            ratio: 0.0,
            tags: BTreeMap::new(),
            names: vec![],
            on: false,
        };
        let json = serde_json::to_value(&sample).unwrap();
        assert_eq!(json["When"], serde_json::json!(2.5));
        assert!(json.get("Maybe").is_none());
    }

    #[test]
    fn sequences_of_unknown_length_are_closed() {
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((0..3).filter(|n| n % 2 == 0))
            }
        }
        let bytes = to_vec(&Unsized).unwrap();
        let back: Cbor = ciborium::de::from_reader(&bytes[..]).unwrap();
        assert_eq!(
            back,
            Cbor::Array(vec![Cbor::Integer(0.into()), Cbor::Integer(2.into())])
        );
    }
}
