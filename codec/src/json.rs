//! Small JSON helpers that do not build values: string escaping, nesting depth, and the
//! validating tokenizer the Socket.IO decoder uses for its shape checks.
//!
//! CONTRACT (the server codes against these signatures; keep them).

use crate::Sink;

mod scan;

pub(crate) use scan::{Kind, MAX_STACK, ScanError, Token, Tokenizer, unescape};

/// Appends `s` as a JSON string literal, quotes included, escaping per RFC 8259 §7.
///
/// > All Unicode characters may be placed within the quotation marks, except for the
/// > characters that MUST be escaped: quotation mark, reverse solidus, and the control
/// > characters (U+0000 through U+001F).
///
/// Escapes are the ones `JSON.stringify` writes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, else
/// `\u00xx` in lowercase hex), so our frames are byte-identical to socket.io's for the same
/// strings. Unescaped runs are copied in one `put` each.
pub fn write_str(out: &mut impl Sink, s: &str) {
    out.put_u8(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        if run < i {
            out.put(&bytes[run..i]);
        }
        match b {
            b'"' => out.put(b"\\\""),
            b'\\' => out.put(b"\\\\"),
            b'\n' => out.put(b"\\n"),
            b'\r' => out.put(b"\\r"),
            b'\t' => out.put(b"\\t"),
            0x08 => out.put(b"\\b"),
            0x0c => out.put(b"\\f"),
            _ => out.put(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        run = i + 1;
    }
    out.put(&bytes[run..]);
    out.put_u8(b'"');
}

/// Maximum nesting depth of the JSON text in `json` (strings are skipped properly), stopping
/// early and returning `None` once `limit` is exceeded. Does not validate the JSON.
///
/// `1` and `"x"` have depth 0, `[]` and `{}` depth 1, `[{"a":[1]}]` depth 3. Brackets inside
/// strings do not count; an unterminated string ends the scan.
pub fn depth_within(json: &[u8], limit: usize) -> Option<usize> {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => {
                // Skip to the closing quote; a backslash always escapes the next byte.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', json.get(i..).unwrap_or_default()) {
                        Some(off) if json[i + off] == b'\\' => i += off + 2,
                        Some(off) => {
                            i += off;
                            break;
                        }
                        None => return Some(max),
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return None;
                }
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Some(max)
}

/// Appends the decimal digits of `n` (no allocation; 20 digits at most).
pub(crate) fn write_u64(out: &mut impl Sink, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put(&buf[i..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    macro_rules! write_str_cases {
        ($($name:ident: $input:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(esc($input), $want);
            }
        )*};
    }

    write_str_cases! {
        str_plain: "hello" => r#""hello""#;
        str_empty: "" => r#""""#;
        str_quote: "a\"b" => r#""a\"b""#;
        str_backslash: "a\\b" => r#""a\\b""#;
        str_short_escapes: "\n\r\t\u{8}\u{c}" => r#""\n\r\t\b\f""#;
        str_control_hex: "\u{0}\u{1f}\u{1}" => r#""\u0000\u001f\u0001""#;
        str_unicode_passthrough: "agent:状態€\u{2028}" => "\"agent:状態€\u{2028}\"";
        str_slash_not_escaped: "a/b" => r#""a/b""#;
        str_del_not_escaped: "\u{7f}" => "\"\u{7f}\"";
    }

    macro_rules! depth_cases {
        ($($name:ident: $input:expr, $limit:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(depth_within($input, $limit), $want);
            }
        )*};
    }

    depth_cases! {
        depth_scalar: b"1", 0 => Some(0);
        depth_string: br#""[[[""#, 0 => Some(0);
        depth_empty_array: b"[]", 1 => Some(1);
        depth_nested: br#"[{"a":[1]}]"#, 3 => Some(3);
        depth_over: br#"[{"a":[1]}]"#, 2 => None;
        depth_brackets_in_string: br#"["[[[[","]]"]"#, 1 => Some(1);
        depth_escaped_quote: br#"["\"[[[",{}]"#, 2 => Some(2);
        depth_escaped_backslash: br#"["\\",[]]"#, 2 => Some(2);
        depth_unterminated: br#"[["abc"#, 5 => Some(2);
        depth_unbalanced_close: b"]]][", 1 => Some(1);
        depth_siblings: b"[[],[],[[]]]", 3 => Some(3);
        depth_huge_stops_early: &[b'['; 100_000], 32 => None;
    }

    #[test]
    fn write_u64_edges() {
        for (n, want) in [
            (0u64, "0"),
            (7, "7"),
            (10, "10"),
            (1234567890, "1234567890"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let mut out = Vec::new();
            write_u64(&mut out, n);
            assert_eq!(out, want.as_bytes());
        }
    }
}
