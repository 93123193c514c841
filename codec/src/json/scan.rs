//! A validating JSON tokenizer over borrowed bytes: no values are built, no recursion (the
//! container stack is a bit per level), so hostile nesting cannot overflow the stack.
//!
//! Grammar: RFC 8259 §2–§7 (what `JSON.parse` accepts): whitespace is space, tab, LF, CR;
//! strings forbid raw U+0000–U+001F and allow the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`;
//! numbers are `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.

use std::borrow::Cow;

/// Levels the bit stack can hold; deeper input is [`ScanError::TooDeep`] whatever the limit.
pub(crate) const MAX_STACK: usize = 256;

/// Why a JSON text was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    Invalid,
    TooDeep,
}

/// The type of a JSON value, as seen from its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// One token; string and number tokens carry byte ranges into the input (strings without
/// their quotes) and whether the string contains a backslash escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    Key {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Number {
        start: usize,
        end: usize,
    },
    Bool(bool),
    Null,
}

impl Token {
    /// The kind of value this token starts, `None` for closers and keys.
    pub(crate) fn kind(self) -> Option<Kind> {
        match self {
            Token::BeginObject => Some(Kind::Object),
            Token::BeginArray => Some(Kind::Array),
            Token::Str { .. } => Some(Kind::String),
            Token::Number { .. } => Some(Kind::Number),
            Token::Bool(_) => Some(Kind::Bool),
            Token::Null => Some(Kind::Null),
            Token::EndObject | Token::EndArray | Token::Key { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value must come next (start, after `:`, after `,` in an array).
    Value,
    /// Just after `[`: a value or `]`.
    FirstValueOrEnd,
    /// Just after `{`: a key or `}`.
    FirstKeyOrEnd,
    /// After `,` in an object.
    Key,
    /// After a key.
    Colon,
    /// After a value inside a container.
    CommaOrEnd,
    /// The top-level value is complete; only whitespace may follow.
    Done,
}

/// Pull tokenizer: call [`Tokenizer::next_token`] until `Ok(None)` (end of a valid text).
#[derive(Debug)]
pub(crate) struct Tokenizer<'a> {
    src: &'a [u8],
    pos: usize,
    state: State,
    /// Bit `d` set: the container at depth `d + 1` is an object.
    stack: [u64; MAX_STACK / 64],
    depth: usize,
    max_depth: usize,
}

impl<'a> Tokenizer<'a> {
    /// `max_depth` is clamped to [`MAX_STACK`].
    pub(crate) fn new(src: &'a [u8], max_depth: usize) -> Self {
        Tokenizer {
            src,
            pos: 0,
            state: State::Value,
            stack: [0; MAX_STACK / 64],
            depth: 0,
            max_depth: max_depth.min(MAX_STACK),
        }
    }

    /// Byte offset just after the last token.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next token, `Ok(None)` once a whole value and trailing whitespace were consumed.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token>, ScanError> {
        loop {
            self.skip_ws();
            let Some(&b) = self.src.get(self.pos) else {
                return if self.state == State::Done {
                    Ok(None)
                } else {
                    Err(ScanError::Invalid)
                };
            };
            match self.state {
                State::Done => return Err(ScanError::Invalid),
                State::Colon => {
                    if b != b':' {
                        return Err(ScanError::Invalid);
                    }
                    self.pos += 1;
                    self.state = State::Value;
                }
                State::CommaOrEnd => match b {
                    b',' => {
                        self.pos += 1;
                        self.state = if self.top_is_object() {
                            State::Key
                        } else {
                            State::Value
                        };
                    }
                    b']' if !self.top_is_object() => return Ok(Some(self.close(Token::EndArray))),
                    b'}' if self.top_is_object() => return Ok(Some(self.close(Token::EndObject))),
                    _ => return Err(ScanError::Invalid),
                },
                State::FirstValueOrEnd if b == b']' => {
                    return Ok(Some(self.close(Token::EndArray)));
                }
                State::FirstKeyOrEnd if b == b'}' => return Ok(Some(self.close(Token::EndObject))),
                State::Key | State::FirstKeyOrEnd => {
                    if b != b'"' {
                        return Err(ScanError::Invalid);
                    }
                    let (start, end, escaped) = self.string()?;
                    self.state = State::Colon;
                    return Ok(Some(Token::Key {
                        start,
                        end,
                        escaped,
                    }));
                }
                State::Value | State::FirstValueOrEnd => return self.value(b).map(Some),
            }
        }
    }

    fn value(&mut self, b: u8) -> Result<Token, ScanError> {
        let token = match b {
            b'{' => return self.open(true),
            b'[' => return self.open(false),
            b'"' => {
                let (start, end, escaped) = self.string()?;
                Token::Str {
                    start,
                    end,
                    escaped,
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                self.number()?;
                Token::Number {
                    start,
                    end: self.pos,
                }
            }
            b't' => self.literal(b"true", Token::Bool(true))?,
            b'f' => self.literal(b"false", Token::Bool(false))?,
            b'n' => self.literal(b"null", Token::Null)?,
            _ => return Err(ScanError::Invalid),
        };
        self.after_value();
        Ok(token)
    }

    fn open(&mut self, object: bool) -> Result<Token, ScanError> {
        if self.depth >= self.max_depth {
            return Err(ScanError::TooDeep);
        }
        let (word, bit) = (self.depth / 64, self.depth % 64);
        if object {
            self.stack[word] |= 1 << bit;
        } else {
            self.stack[word] &= !(1 << bit);
        }
        self.depth += 1;
        self.pos += 1;
        self.state = if object {
            State::FirstKeyOrEnd
        } else {
            State::FirstValueOrEnd
        };
        Ok(if object {
            Token::BeginObject
        } else {
            Token::BeginArray
        })
    }

    fn close(&mut self, token: Token) -> Token {
        self.pos += 1;
        self.depth -= 1;
        self.after_value();
        token
    }

    fn after_value(&mut self) {
        self.state = if self.depth == 0 {
            State::Done
        } else {
            State::CommaOrEnd
        };
    }

    fn top_is_object(&self) -> bool {
        let d = self.depth - 1;
        self.stack[d / 64] & (1 << (d % 64)) != 0
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8], token: Token) -> Result<Token, ScanError> {
        if self.src.get(self.pos..self.pos + word.len()) != Some(word) {
            return Err(ScanError::Invalid);
        }
        self.pos += word.len();
        Ok(token)
    }

    /// `self.pos` is on the opening quote; returns the content range and whether it has escapes.
    fn string(&mut self) -> Result<(usize, usize, bool), ScanError> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            // Plain bytes are the common case: skip them 8 at a time (SWAR), jumping straight
            // to the first quote, backslash or control byte of a chunk that holds one.
            while let Some(chunk) = self.src.get(i..i + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let special = special_mask(u64::from_le_bytes(word));
                if special != 0 {
                    i += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            let Some(&b) = self.src.get(i) else {
                return Err(ScanError::Invalid);
            };
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok((start, i, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.src.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = self.src.get(i + 2..i + 6).ok_or(ScanError::Invalid)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(ScanError::Invalid);
                            }
                            i += 6;
                        }
                        _ => return Err(ScanError::Invalid),
                    }
                }
                0..=0x1f => return Err(ScanError::Invalid),
                _ => i += 1,
            }
        }
    }

    fn number(&mut self) -> Result<(), ScanError> {
        let src = self.src;
        let mut i = self.pos;
        let digits = |mut i: usize| {
            let from = i;
            while src.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == from {
                Err(ScanError::Invalid)
            } else {
                Ok(i)
            }
        };
        if src.get(i) == Some(&b'-') {
            i += 1;
        }
        i = match src.get(i) {
            Some(b'0') => i + 1,
            Some(b'1'..=b'9') => digits(i)?,
            _ => return Err(ScanError::Invalid),
        };
        if src.get(i) == Some(&b'.') {
            i = digits(i + 1)?;
        }
        if let Some(b'e' | b'E') = src.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = src.get(i) {
                i += 1;
            }
            i = digits(i)?;
        }
        self.pos = i;
        Ok(())
    }
}

/// The high bit of each byte of `w` that is `"`, `\` or below 0x20 (the classic "has zero
/// byte" bit tricks); 0 if there is none. A borrow can flag a byte *above* a real match, never
/// below one, so the lowest set bit (`trailing_zeros() / 8`) is exactly the first match.
#[inline]
fn special_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = zero_in(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_in(w ^ (ONES * u64::from(b'\\')));
    // A byte below 0x20 borrows when 0x20 is subtracted; bytes >= 0x80 are excluded by `!w`.
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    quote | backslash | control
}

/// Unescapes the content of a JSON string (between its quotes, already validated by the
/// tokenizer). Borrowed when there is nothing to unescape. `None` for a lone surrogate, which
/// a Rust string cannot hold.
pub(crate) fn unescape(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('\\') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, e) = chars.next()?;
        out.push(match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(raw.get(i + 2..i + 6)?)?;
                skip(&mut chars, 4);
                if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate must be followed by `\uDC00`..`\uDFFF`.
                    if raw.get(i + 6..i + 8) != Some("\\u") {
                        return None;
                    }
                    let lo = hex4(raw.get(i + 8..i + 12)?)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    skip(&mut chars, 6);
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        });
    }
    Some(Cow::Owned(out))
}

fn hex4(s: &str) -> Option<u32> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

fn skip(chars: &mut std::str::CharIndices<'_>, n: usize) {
    for _ in 0..n {
        chars.next();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Runs the tokenizer to the end; `Ok(token count)`.
    fn scan(s: &str, max_depth: usize) -> Result<usize, ScanError> {
        let mut t = Tokenizer::new(s.as_bytes(), max_depth);
        let mut n = 0;
        while t.next_token()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    macro_rules! scan_cases {
        ($($name:ident: $input:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(scan($input, 32), $want, "{:?}", $input);
            }
        )*};
    }

    const BAD: Result<usize, ScanError> = Err(ScanError::Invalid);

    scan_cases! {
        ok_number: "1" => Ok(1);
        ok_neg_float_exp: "-0.5e+10" => Ok(1);
        ok_string: r#""a\"b\u00e9\n""# => Ok(1);
        ok_literals: "[true,false,null]" => Ok(5);
        ok_object: r#"{"a":1,"b":[2,{}]}"# => Ok(10);
        ok_whitespace: " \t\n[ 1 , 2 ]\r\n" => Ok(4);
        ok_empty_containers: "[[],{}]" => Ok(6);
        ok_long_string_swar: r#""abcdefghijklmnopqrstuvwxyz€€€€""# => Ok(1);
        bad_empty: "" => BAD;
        bad_ws_only: "   " => BAD;
        bad_trailing: "1 2" => BAD;
        bad_trailing_comma_array: "[1,]" => BAD;
        bad_trailing_comma_object: r#"{"a":1,}"# => BAD;
        bad_leading_zero: "01" => BAD;
        bad_plus: "+1" => BAD;
        bad_dot: "1." => BAD;
        bad_exp: "1e" => BAD;
        bad_bare_minus: "-" => BAD;
        bad_unquoted_key: "{a:1}" => BAD;
        bad_missing_colon: r#"{"a" 1}"# => BAD;
        bad_mismatched: "[1}" => BAD;
        bad_mismatched_obj: r#"{"a":1]"# => BAD;
        bad_unterminated_string: r#""abc"# => BAD;
        bad_raw_control: "\"a\u{1}b\"" => BAD;
        bad_raw_newline_in_long_string: "\"abcdefgh\nijklmnop\"" => BAD;
        bad_escape: r#""\x""# => BAD;
        bad_short_unicode: r#""\u12""# => BAD;
        bad_literal: "tru" => BAD;
        bad_literal_case: "True" => BAD;
        bad_unclosed: "[1" => BAD;
        bad_extra_close: "[]]" => BAD;
        bad_single_quote: "'a'" => BAD;
        bad_nan: "NaN" => BAD;
    }

    #[test]
    fn depth_limit_is_inclusive() {
        assert_eq!(scan("[[1]]", 2), Ok(5));
        assert_eq!(scan("[[1]]", 1), Err(ScanError::TooDeep));
        let deep = "[".repeat(10_000);
        assert_eq!(
            scan(&deep, 10_000),
            Err(ScanError::TooDeep),
            "clamped to MAX_STACK"
        );
    }

    #[test]
    fn stack_tracks_object_vs_array_past_64_levels() {
        let mut s = String::new();
        for i in 0..100 {
            s.push_str(if i % 2 == 0 { "[" } else { r#"{"k":"# });
        }
        s.push('1');
        for i in (0..100).rev() {
            s.push(if i % 2 == 0 { ']' } else { '}' });
        }
        assert!(scan(&s, 200).is_ok());
        let broken = s.replacen("]}", "}}", 1);
        assert_eq!(scan(&broken, 200), Err(ScanError::Invalid));
    }

    #[test]
    fn special_mask_finds_the_first_special_byte() {
        let first = |w: [u8; 8]| special_mask(u64::from_le_bytes(w)).trailing_zeros() / 8;
        for pos in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut w = *b"abcdefgh";
                w[pos] = special;
                assert_eq!(first(w), pos as u32, "{special:#x} at {pos}");
                // Further special bytes (and their borrows) must not move the answer.
                w[(pos + 1).min(7)] = 0x00;
                assert_eq!(first(w), pos as u32, "{special:#x} at {pos}, NUL after");
            }
        }
        assert_eq!(
            special_mask(u64::from_le_bytes(*b"abc \x7f\xe2\x82\xac")),
            0
        );
        assert_eq!(
            special_mask(u64::from_le_bytes([
                0x20, 0x21, 0x23, 0x5b, 0x5d, 0xff, 0x80, 0x9f
            ])),
            0
        );
    }

    macro_rules! unescape_cases {
        ($($name:ident: $input:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(unescape($input).as_deref(), $want);
            }
        )*};
    }

    unescape_cases! {
        unesc_plain: "abc" => Some("abc");
        unesc_simple: r#"a\"b\\c\/d\n\t\r\b\f"# => Some("a\"b\\c/d\n\t\r\u{8}\u{c}");
        unesc_unicode: r"\u00e9\u20AC" => Some("é€");
        unesc_surrogate_pair: r"\ud83d\ude00" => Some("😀");
        unesc_lone_high: r"\ud83d" => None;
        unesc_lone_high_then_text: r"\ud83dxx" => None;
        unesc_lone_low: r"\ude00" => None;
        unesc_mixed_multibyte: r"é\u0041€" => Some("éA€");
    }

    #[test]
    fn unescape_borrows_without_escapes() {
        assert!(matches!(unescape("room:1"), Some(Cow::Borrowed("room:1"))));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod differential {
    use proptest::prelude::*;

    use super::*;

    fn accepts(s: &str) -> bool {
        let mut t = Tokenizer::new(s.as_bytes(), MAX_STACK);
        loop {
            match t.next_token() {
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Same accept/reject decision as serde_json on JSON-ish soup (no `\u` escapes, where
        /// serde_json rejects lone surrogates that `JSON.parse` and we accept).
        #[test]
        fn agrees_with_serde_json(s in r#"[\[\]{}",:0-9a-eE\\ .+\-ntrulsf]{0,24}"#) {
            prop_assume!(!s.contains("\\u"));
            let ours = accepts(&s);
            let theirs = serde_json::from_str::<serde_json::Value>(&s).is_ok();
            prop_assert_eq!(ours, theirs, "{:?}", s);
        }

        /// Everything serde_json writes, compact or pretty, is accepted; its string tokens
        /// unescape to the original strings.
        #[test]
        fn accepts_serialized_values(v in json_value()) {
            let compact = serde_json::to_string(&v).unwrap();
            prop_assert!(accepts(&compact), "{}", compact);
            prop_assert!(accepts(&serde_json::to_string_pretty(&v).unwrap()));
            if let serde_json::Value::String(original) = &v {
                let mut t = Tokenizer::new(compact.as_bytes(), 1);
                let Ok(Some(Token::Str { start, end, .. })) = t.next_token() else { panic!("string token") };
                prop_assert_eq!(unescape(&compact[start..end]).unwrap(), original.as_str());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = accepts(&s);
            let _ = unescape(&s);
        }
    }
}
