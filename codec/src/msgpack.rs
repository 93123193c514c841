//! MessagePack as the socket.io ecosystem writes it (notepack.io), read without building a tree.
//! Shared by the Redis adapters' formats (`ringcast::cluster`) and the msgpack Socket.IO parser
//! ([`crate::sio::msgpack`]).
//!
//! notepack.io (the default parser of `@socket.io/redis-adapter` and `@socket.io/redis-emitter`)
//! maps JavaScript values onto MessagePack with a few extension conventions that a reader must
//! accept (darrachequesne/notepack `lib/encode.js`, `lib/decode.js`):
//!
//! | JavaScript            | MessagePack                                  |
//! |-----------------------|----------------------------------------------|
//! | `undefined`           | fixext1, type 0, one zero byte: `d4 00 00`   |
//! | `Date`                | fixext8, type 0, int64 ms since the epoch    |
//! | `ArrayBuffer`, views  | ext8/16/32 with type 0 (the bytes)           |
//! | `BigInt`              | ext8/16/32 with type 1 (decimal text)        |
//! | `Buffer`              | bin8/16/32                                   |
//! | non-integer numbers   | float64 (integers use the smallest int form) |
//! | any other extension   | decoded as `[type, Buffer]`                  |
//!
//! [`Reader`] is a pull parser over a borrowed buffer; [`to_json`] turns one value into the JSON
//! text socket.io would put on the wire for it (`JSON.stringify` after socket.io-parser's
//! `deconstructPacket`): binary values become `{"_placeholder":true,"num":N}` and are collected
//! as attachments, `undefined` map entries vanish, `undefined` array items become `null`.
//! [`Reader::timestamps`] also reads @msgpack/msgpack's `Date` (the timestamp extension, -1).
//! [`Writer`] encodes in notepack's shapes, so what ringcast publishes decodes in Node to the
//! same objects a Node node would have published.

use std::borrow::Cow;

use crate::Sink;
use crate::json::write_str;

/// Containers nested deeper than this are rejected (every value nests at least one byte deep,
/// so the limit also bounds the reader's recursion; socket.io payloads rarely nest past 5).
pub const MAX_DEPTH: usize = 64;

/// Why a MessagePack value was rejected. Every variant leads to the same reaction: the message
/// is dropped and counted as a decode error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgpackError {
    /// The buffer ends inside a value.
    Truncated,
    /// `0xc1`, the one byte the format reserves ("never used").
    ReservedByte,
    /// Containers nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Bytes left after the top-level value (notepack throws "N trailing bytes").
    TrailingBytes,
    /// A value of another kind where the message format needs a specific one.
    Unexpected,
    /// A map key that JavaScript could not have produced (an array, a map or binary).
    BadKey,
    /// A BigInt extension whose text is not a decimal integer.
    BadBigInt,
}

/// One token of a MessagePack stream. Containers give their length; their items follow.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    Nil,
    /// notepack's `undefined` (`d4 00 00`).
    Undefined,
    Bool(bool),
    /// A negative integer (or a non-negative one written with a signed marker).
    Int(i64),
    UInt(u64),
    /// float32 values are widened.
    Float(f64),
    /// Invalid UTF-8 is replaced with U+FFFD, as Node's `buffer.toString("utf8")` does.
    Str(Cow<'a, str>),
    /// bin8/16/32: a Node `Buffer`.
    Bin(&'a [u8]),
    /// ext8/16/32 of type 0: an `ArrayBuffer` or typed array.
    ArrayBuffer(&'a [u8]),
    /// fixext8 of type 0: milliseconds since the epoch.
    Date(i64),
    /// ext8/16/32 of type 1: the decimal text of a BigInt.
    BigInt(&'a [u8]),
    /// Any other extension; notepack decodes it as `[type, Buffer]`.
    Ext(i8, &'a [u8]),
    Array(usize),
    Map(usize),
}

/// A pull parser over one MessagePack buffer.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Whether extension type -1 is the MessagePack timestamp (see [`Reader::timestamps`]).
    timestamps: bool,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            timestamps: false,
        }
    }

    /// Also reads extension type -1, the MessagePack spec's timestamp, as [`Item::Date`]:
    /// @msgpack/msgpack (the Redis Streams adapter's codec) writes a `Date` that way, as
    /// timestamp32 `d6 ff <u32 s>`, timestamp64 `d7 ff <u30 ns, u34 s>` or timestamp96
    /// `c7 0c ff <u32 ns> <i64 s>`, and decodes it back to a `Date` (milliseconds, the
    /// nanoseconds truncated). notepack.io has no such type (it reads `[-1, Buffer]`), so the
    /// classic adapter's reader leaves it off.
    pub fn timestamps(mut self) -> Self {
        self.timestamps = true;
        self
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes between two positions (to keep a value for later, see [`Reader::skip`]).
    pub fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        self.buf.get(from..to).unwrap_or_default()
    }

    /// `Ok` when every byte was consumed.
    pub fn finish(&self) -> Result<(), MsgpackError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(MsgpackError::TrailingBytes)
        }
    }

    // Long by design (~100 lines): one arm per MessagePack marker, the format's table in order.
    /// Reads the next token.
    pub fn read(&mut self) -> Result<Item<'a>, MsgpackError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Item::UInt(u64::from(marker)),
            0x80..=0x8f => Item::Map(self.count(usize::from(marker & 0x0f), 2)?),
            0x90..=0x9f => Item::Array(self.count(usize::from(marker & 0x0f), 1)?),
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Item::Nil,
            0xc1 => return Err(MsgpackError::ReservedByte),
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4 => {
                let n = self.u8()?;
                Item::Bin(self.take(usize::from(n))?)
            }
            0xc5 => {
                let n = self.be::<2>()?;
                Item::Bin(self.take(n as usize)?)
            }
            0xc6 => {
                let n = self.be::<4>()?;
                Item::Bin(self.take(n as usize)?)
            }
            0xc7 => {
                let n = self.u8()?;
                self.ext(usize::from(n))?
            }
            0xc8 => {
                let n = self.be::<2>()?;
                self.ext(n as usize)?
            }
            0xc9 => {
                let n = self.be::<4>()?;
                self.ext(n as usize)?
            }
            0xca => Item::Float(f64::from(f32::from_bits(self.be::<4>()? as u32))),
            0xcb => Item::Float(f64::from_bits(self.be::<8>()?)),
            0xcc => Item::UInt(u64::from(self.u8()?)),
            0xcd => Item::UInt(self.be::<2>()?),
            0xce => Item::UInt(self.be::<4>()?),
            0xcf => Item::UInt(self.be::<8>()?),
            0xd0 => Item::Int(i64::from(self.u8()? as i8)),
            0xd1 => Item::Int(i64::from(self.be::<2>()? as u16 as i16)),
            0xd2 => Item::Int(i64::from(self.be::<4>()? as u32 as i32)),
            0xd3 => Item::Int(self.be::<8>()? as i64),
            0xd4 => {
                let kind = self.u8()? as i8;
                let data = self.take(1)?;
                // notepack: `if (type === 0x00) return undefined` (the data byte is skipped).
                if kind == 0 {
                    Item::Undefined
                } else {
                    Item::Ext(kind, data)
                }
            }
            0xd5 => self.fixext(2)?,
            0xd6 => self.fixext(4)?,
            0xd7 => {
                let kind = self.u8()? as i8;
                let data = self.take(8)?;
                if kind == -1 && self.timestamps {
                    timestamp(data)
                } else if kind == 0 {
                    let mut ms = [0u8; 8];
                    ms.copy_from_slice(data);
                    Item::Date(i64::from_be_bytes(ms))
                } else {
                    Item::Ext(kind, data)
                }
            }
            0xd8 => self.fixext(16)?,
            0xd9 => {
                let n = self.u8()?;
                self.str(usize::from(n))?
            }
            0xda => {
                let n = self.be::<2>()?;
                self.str(n as usize)?
            }
            0xdb => {
                let n = self.be::<4>()?;
                self.str(n as usize)?
            }
            0xdc => {
                let n = self.be::<2>()?;
                Item::Array(self.count(n as usize, 1)?)
            }
            0xdd => {
                let n = self.be::<4>()?;
                Item::Array(self.count(n as usize, 1)?)
            }
            0xde => {
                let n = self.be::<2>()?;
                Item::Map(self.count(n as usize, 2)?)
            }
            0xdf => {
                let n = self.be::<4>()?;
                Item::Map(self.count(n as usize, 2)?)
            }
            0xe0..=0xff => Item::Int(i64::from(marker as i8)),
        })
    }

    /// Skips one whole value (containers included) without building anything.
    pub fn skip(&mut self) -> Result<(), MsgpackError> {
        // Values still to read at each open level; iterative, so depth costs no stack.
        let mut pending: Vec<usize> = vec![1];
        while let Some(top) = pending.last_mut() {
            if *top == 0 {
                pending.pop();
                continue;
            }
            *top -= 1;
            let children = match self.read()? {
                Item::Array(n) => n,
                Item::Map(n) => n * 2,
                _ => continue,
            };
            if pending.len() > MAX_DEPTH {
                return Err(MsgpackError::TooDeep);
            }
            pending.push(children);
        }
        Ok(())
    }

    /// Reads a string (anything else is [`MsgpackError::Unexpected`]).
    pub fn str_item(&mut self) -> Result<Cow<'a, str>, MsgpackError> {
        match self.read()? {
            Item::Str(s) => Ok(s),
            _ => Err(MsgpackError::Unexpected),
        }
    }

    /// Reads an array of strings; `nil`/`undefined` count as empty (a JS `new Set(undefined)`).
    pub fn str_list(&mut self) -> Result<Vec<String>, MsgpackError> {
        match self.read()? {
            Item::Array(n) => (0..n)
                .map(|_| self.str_item().map(Cow::into_owned))
                .collect(),
            Item::Nil | Item::Undefined => Ok(Vec::new()),
            _ => Err(MsgpackError::Unexpected),
        }
    }

    fn u8(&mut self) -> Result<u8, MsgpackError> {
        let b = *self.buf.get(self.pos).ok_or(MsgpackError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn be<const N: usize>(&mut self) -> Result<u64, MsgpackError> {
        let bytes = self.take(N)?;
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MsgpackError> {
        let end = self.pos.checked_add(n).ok_or(MsgpackError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(MsgpackError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// A container length, refused when the remaining bytes cannot hold that many items (each
    /// takes at least one byte), so a forged `dd ffffffff` cannot make a caller reserve 4 G slots.
    fn count(&self, n: usize, per_item: usize) -> Result<usize, MsgpackError> {
        if n.saturating_mul(per_item) > self.buf.len() - self.pos {
            return Err(MsgpackError::Truncated);
        }
        Ok(n)
    }

    fn str(&mut self, n: usize) -> Result<Item<'a>, MsgpackError> {
        Ok(Item::Str(String::from_utf8_lossy(self.take(n)?)))
    }

    fn ext(&mut self, n: usize) -> Result<Item<'a>, MsgpackError> {
        let kind = self.u8()? as i8;
        let data = self.take(n)?;
        Ok(match kind {
            -1 if self.timestamps && matches!(n, 4 | 8 | 12) => timestamp(data),
            0 => Item::ArrayBuffer(data),
            1 => Item::BigInt(data),
            _ => Item::Ext(kind, data),
        })
    }

    fn fixext(&mut self, n: usize) -> Result<Item<'a>, MsgpackError> {
        let kind = self.u8()? as i8;
        let data = self.take(n)?;
        Ok(if kind == -1 && self.timestamps && n == 4 {
            timestamp(data)
        } else {
            Item::Ext(kind, data)
        })
    }
}

/// A MessagePack timestamp (4, 8 or 12 bytes, see [`Reader::timestamps`]) in milliseconds, as
/// @msgpack/msgpack's `new Date(sec * 1e3 + nsec / 1e6)` gives it: the Date drops the
/// fraction towards zero, and past ±8.64e15 ms it is an Invalid Date ([`write_date`] writes
/// `null` for those).
fn timestamp(data: &[u8]) -> Item<'static> {
    let be = |bytes: &[u8]| bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let (sec, nsec) = match data.len() {
        4 => (i128::from(be(data)), 0),
        8 => {
            let word = be(data);
            (i128::from(word & 0x3_ffff_ffff), i128::from(word >> 34))
        }
        _ => {
            let (nsec, sec) = data.split_at(4.min(data.len()));
            (i128::from(be(sec) as i64), i128::from(be(nsec)))
        }
    };
    let ms = (sec * 1_000_000_000 + nsec) / 1_000_000;
    Item::Date(i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX }))
}

/// Converts the next value of `reader` to the JSON text socket.io would send for it, appending
/// to `out`; binary values become placeholders numbered from `attachments.len()` and are pushed
/// to `attachments` in traversal order (socket.io-parser `deconstructPacket` order).
///
/// `undefined` at the top level writes `null` (it can only occur as an array item or map value
/// in a packet, where the callers handle it).
pub fn to_json<'a>(
    reader: &mut Reader<'a>,
    out: &mut Vec<u8>,
    attachments: &mut Vec<&'a [u8]>,
) -> Result<(), MsgpackError> {
    let item = reader.read()?;
    write_item(reader, item, out, attachments, 0)
}

fn write_item<'a>(
    reader: &mut Reader<'a>,
    item: Item<'a>,
    out: &mut Vec<u8>,
    attachments: &mut Vec<&'a [u8]>,
    depth: usize,
) -> Result<(), MsgpackError> {
    match item {
        Item::Nil | Item::Undefined => out.extend_from_slice(b"null"),
        Item::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Item::Int(n) => write_int(out, n),
        Item::UInt(n) => write_uint(out, n),
        Item::Float(f) => write_f64(out, f),
        Item::Str(s) => write_str(out, &s),
        Item::Bin(bytes) | Item::ArrayBuffer(bytes) => placeholder(out, attachments, bytes),
        Item::Date(ms) => write_date(out, ms),
        Item::BigInt(text) => {
            // `JSON.stringify` throws on a BigInt; its digits are the only faithful JSON.
            let digits = text.strip_prefix(b"-").unwrap_or(text);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(MsgpackError::BadBigInt);
            }
            out.extend_from_slice(text);
        }
        Item::Ext(kind, bytes) => {
            out.push(b'[');
            write_int(out, i64::from(kind));
            out.push(b',');
            placeholder(out, attachments, bytes);
            out.push(b']');
        }
        Item::Array(n) => {
            if depth >= MAX_DEPTH {
                return Err(MsgpackError::TooDeep);
            }
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                let item = reader.read()?;
                write_item(reader, item, out, attachments, depth + 1)?;
            }
            out.push(b']');
        }
        Item::Map(n) => {
            if depth >= MAX_DEPTH {
                return Err(MsgpackError::TooDeep);
            }
            out.push(b'{');
            let mut first = true;
            for _ in 0..n {
                let key = reader.read()?;
                let value = reader.read()?;
                // `JSON.stringify` leaves out properties whose value is `undefined`.
                if value == Item::Undefined {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_key(out, key)?;
                out.push(b':');
                write_item(reader, value, out, attachments, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A map key as JavaScript stores it: property names are strings, so `1` becomes `"1"`.
fn write_key(out: &mut Vec<u8>, key: Item<'_>) -> Result<(), MsgpackError> {
    let mut text = Vec::new();
    match key {
        Item::Str(s) => {
            write_str(out, &s);
            return Ok(());
        }
        Item::Int(n) => write_int(&mut text, n),
        Item::UInt(n) => write_uint(&mut text, n),
        Item::Float(f) => write_f64(&mut text, f),
        Item::Bool(b) => text.extend_from_slice(if b { b"true" } else { b"false" }),
        Item::Nil => text.extend_from_slice(b"null"),
        Item::Undefined => text.extend_from_slice(b"undefined"),
        _ => return Err(MsgpackError::BadKey),
    }
    write_str(out, &String::from_utf8_lossy(&text));
    Ok(())
}

fn placeholder<'a>(out: &mut Vec<u8>, attachments: &mut Vec<&'a [u8]>, bytes: &'a [u8]) {
    out.extend_from_slice(b"{\"_placeholder\":true,\"num\":");
    write_uint(out, attachments.len() as u64);
    out.push(b'}');
    attachments.push(bytes);
}

/// Appends an integer in decimal.
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_uint(out, n.unsigned_abs());
}

/// Appends an unsigned integer in decimal.
pub fn write_uint(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends a number as JavaScript's `Number.prototype.toString` writes it: NaN and ±Infinity
/// are `null` in JSON, `-0` is `0`, fixed notation for 1e-6 ≤ |x| < 1e21, else `1.5e+21` /
/// `1e-7` (ECMA-262 Number::toString, steps 6–10). Both sides print the shortest digits that
/// round-trip, so the text parses back to the same double.
pub fn write_f64(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
    } else if f == 0.0 {
        out.push(b'0');
    } else if (1e-6..1e21).contains(&f.abs()) {
        out.extend_from_slice(format!("{f}").as_bytes());
    } else {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                out.extend_from_slice(mantissa.as_bytes());
                out.extend_from_slice(b"e+");
                out.extend_from_slice(exp.as_bytes());
            }
            _ => out.extend_from_slice(text.as_bytes()),
        }
    }
}

/// Appends a Date as `JSON.stringify` does (`Date.prototype.toJSON` → `toISOString`):
/// `"2024-05-01T12:00:00.000Z"`, and `null` past the ±8.64e15 ms a JS Date can hold.
pub fn write_date(out: &mut Vec<u8>, ms: i64) {
    match crate::date::iso8601(ms) {
        Some(text) => {
            out.push(b'"');
            out.extend_from_slice(text.as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends MessagePack in the shapes notepack.io writes (smallest integer form, str8 for
/// 32–255-byte strings, fixarray/fixmap below 16 items, bin for binary).
#[derive(Debug, Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            buf: Vec::with_capacity(128),
        }
    }

    pub fn nil(&mut self) {
        self.buf.push(0xc0);
    }

    pub fn bool(&mut self, b: bool) {
        self.buf.push(if b { 0xc3 } else { 0xc2 });
    }

    /// notepack: non-negative numbers use positive fixint / uint8 / 16 / 32 / 64.
    pub fn uint(&mut self, n: u64) {
        match n {
            0..=0x7f => self.buf.push(n as u8),
            0x80..=0xff => self.buf.extend_from_slice(&[0xcc, n as u8]),
            0x100..=0xffff => self.head(0xcd, &(n as u16).to_be_bytes()),
            0x1_0000..=0xffff_ffff => self.head(0xce, &(n as u32).to_be_bytes()),
            _ => self.head(0xcf, &n.to_be_bytes()),
        }
    }

    /// notepack: negative numbers use negative fixint / int8 / 16 / 32 / 64.
    pub fn int(&mut self, n: i64) {
        match n {
            0.. => self.uint(n as u64),
            -0x20..=-1 => self.buf.push(n as i8 as u8),
            -0x80..=-0x21 => self.buf.extend_from_slice(&[0xd0, n as i8 as u8]),
            -0x8000..=-0x81 => self.head(0xd1, &(n as i16).to_be_bytes()),
            -0x8000_0000..=-0x8001 => self.head(0xd2, &(n as i32).to_be_bytes()),
            _ => self.head(0xd3, &n.to_be_bytes()),
        }
    }

    /// A JS number: integral values take the integer forms (`Math.floor(v) === v`), others
    /// float64 (notepack never writes float32).
    pub fn number(&mut self, f: f64) {
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
            self.int(f as i64);
        } else {
            self.head(0xcb, &f.to_bits().to_be_bytes());
        }
    }

    pub fn str(&mut self, s: &str) {
        let n = s.len();
        match n {
            0..=0x1f => self.buf.push(0xa0 | n as u8),
            0x20..=0xff => self.buf.extend_from_slice(&[0xd9, n as u8]),
            0x100..=0xffff => self.head(0xda, &(n as u16).to_be_bytes()),
            _ => self.head(0xdb, &(n as u32).to_be_bytes()),
        }
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A Node `Buffer`.
    pub fn bin(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        match n {
            0..=0xff => self.buf.extend_from_slice(&[0xc4, n as u8]),
            0x100..=0xffff => self.head(0xc5, &(n as u16).to_be_bytes()),
            _ => self.head(0xc6, &(n as u32).to_be_bytes()),
        }
        self.buf.extend_from_slice(bytes);
    }

    pub fn array(&mut self, n: usize) {
        match n {
            0..=0x0f => self.buf.push(0x90 | n as u8),
            0x10..=0xffff => self.head(0xdc, &(n as u16).to_be_bytes()),
            _ => self.head(0xdd, &(n as u32).to_be_bytes()),
        }
    }

    pub fn map(&mut self, n: usize) {
        match n {
            0..=0x0f => self.buf.push(0x80 | n as u8),
            0x10..=0xffff => self.head(0xde, &(n as u16).to_be_bytes()),
            _ => self.head(0xdf, &(n as u32).to_be_bytes()),
        }
    }

    fn head(&mut self, marker: u8, len: &[u8]) {
        self.buf.push(marker);
        self.buf.extend_from_slice(len);
    }
}

impl Sink for Writer {
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests;
