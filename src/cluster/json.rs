//! A JSON value that keeps object keys in their original order.
//!
//! JavaScript objects keep insertion order and notepack.io writes map keys in that order, so a
//! broadcast that ringcast transcodes from JSON to MessagePack must keep it too (the golden
//! vectors are byte-exact). `serde_json::Value` sorts keys unless the workspace turns on
//! `preserve_order` for every crate, hence this small type with its own `Deserialize`.

use std::fmt;

use bytes::Bytes;
use ringcast_codec::json::write_str;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::msgpack::{Writer, write_f64, write_int, write_uint};

/// An ordered JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Why a JSON value could not be transcoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON (or nested deeper than serde_json's 128 levels).
    Invalid,
    /// A `{"_placeholder":true,"num":N}` whose `num` is not an attachment index.
    BadPlaceholder,
}

impl Json {
    /// Parses JSON text.
    pub fn parse(text: &[u8]) -> Result<Json, JsonError> {
        serde_json::from_slice(text).map_err(|_| JsonError::Invalid)
    }

    /// The value of `key` when this is an object (the last duplicate wins, as in `JSON.parse`).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Appends the JSON text (`JSON.stringify` escapes and number forms).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Json::Int(n) => write_int(out, *n),
            Json::UInt(n) => write_uint(out, *n),
            Json::Float(f) => write_f64(out, *f),
            Json::Str(s) => write_str(out, s),
            Json::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Json::Object(fields) => {
                out.push(b'{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// Appends MessagePack in notepack's shapes; placeholders become `bin` values taken from
    /// `attachments` (socket.io-parser `reconstructPacket`: an object whose `_placeholder` is
    /// `true` is replaced by `buffers[num]`, and an invalid `num` is an error).
    pub fn write_msgpack(&self, w: &mut Writer, attachments: &[Bytes]) -> Result<(), JsonError> {
        match self {
            Json::Null => w.nil(),
            Json::Bool(b) => w.bool(*b),
            Json::Int(n) => w.int(*n),
            Json::UInt(n) => w.uint(*n),
            Json::Float(f) => w.number(*f),
            Json::Str(s) => w.str(s),
            Json::Array(items) => {
                w.array(items.len());
                for item in items {
                    item.write_msgpack(w, attachments)?;
                }
            }
            Json::Object(fields) => {
                if self.get("_placeholder") == Some(&Json::Bool(true)) {
                    let bytes = match self.get("num") {
                        Some(Json::UInt(n)) => attachments.get(*n as usize),
                        Some(Json::Int(n)) => {
                            usize::try_from(*n).ok().and_then(|n| attachments.get(n))
                        }
                        _ => None,
                    };
                    w.bin(bytes.ok_or(JsonError::BadPlaceholder)?);
                    return Ok(());
                }
                w.map(fields.len());
                for (k, v) in fields {
                    w.str(k);
                    v.write_msgpack(w, attachments)?;
                }
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Json, E> {
        Ok(if n >= 0 {
            Json::UInt(n as u64)
        } else {
            Json::Int(n)
        })
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Json, E> {
        Ok(Json::UInt(n))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Json, E> {
        Ok(Json::Float(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::Str(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Json, E> {
        Ok(Json::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            fields.push((k, v));
        }
        Ok(Json::Object(fields))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    macro_rules! round_trip_cases {
        ($($name:ident: $input:expr => $output:expr;)*) => {$(
            #[test]
            fn $name() {
                let mut out = Vec::new();
                Json::parse($input.as_bytes()).unwrap().write(&mut out);
                assert_eq!(String::from_utf8(out).unwrap(), $output);
            }
        )*};
    }

    round_trip_cases! {
        keeps_key_order: r#"{"z":1,"a":{"y":2,"b":3}}"# => r#"{"z":1,"a":{"y":2,"b":3}}"#;
        numbers: "[1,-2,1.5,1e21,18446744073709551615]" => "[1,-2,1.5,1e+21,18446744073709551615]";
        integral_float_prints_like_js: "[1.0]" => "[1]";
        escapes_like_json_stringify: r#"["\u0001\"\/é"]"# => "[\"\\u0001\\\"/é\"]";
        whitespace_dropped: "[ 1 , { \"a\" : null } ]" => r#"[1,{"a":null}]"#;
    }

    #[test]
    fn invalid_json_is_an_error() {
        for bad in ["", "[", "{\"a\"}", "[1,]", "nul"] {
            assert_eq!(
                Json::parse(bad.as_bytes()),
                Err(JsonError::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn placeholders_become_bin_and_bad_ones_are_refused() {
        let atts = [Bytes::from_static(&[7, 8])];
        let value =
            Json::parse(br#"[{"_placeholder":true,"num":0},{"_placeholder":false}]"#).unwrap();
        let mut w = Writer::new();
        value.write_msgpack(&mut w, &atts).unwrap();
        assert_eq!(
            w.buf,
            [
                0x92, 0xc4, 0x02, 7, 8, 0x81, 0xac, b'_', b'p', b'l', b'a', b'c', b'e', b'h', b'o',
                b'l', b'd', b'e', b'r', 0xc2
            ]
        );
        for bad in [
            r#"{"_placeholder":true,"num":1}"#,
            r#"{"_placeholder":true,"num":-1}"#,
            r#"{"_placeholder":true}"#,
        ] {
            let value = Json::parse(bad.as_bytes()).unwrap();
            assert_eq!(
                value.write_msgpack(&mut Writer::new(), &atts),
                Err(JsonError::BadPlaceholder),
                "{bad}"
            );
        }
    }

    #[test]
    fn get_takes_the_last_duplicate() {
        let value = Json::parse(br#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(value.get("a"), Some(&Json::UInt(2)));
        assert_eq!(Json::UInt(1).get("a"), None);
    }
}
