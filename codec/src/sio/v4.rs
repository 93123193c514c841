//! Socket.IO protocol v4 forms: what socket.io-client 2.x (socket.io-parser 3.x) speaks on an
//! Engine.IO v3 session, as socket.io's server answers it (`packages/socket.io/lib`:
//! `server.ts` `onconnection`, `client.ts` `connect`/`ondecoded`, `namespace.ts` `_add`,
//! `socket.ts` `_onconnect`).
//!
//! - The client sends no CONNECT for `/`: the server connects it as soon as the Engine.IO
//!   session opens (`if (conn.protocol === 3) client.connect("/")`).
//! - A CONNECT for another namespace carries the socket's `query` option on the namespace:
//!   `0/admin?token=abc,`. socket.io reads that query as the auth object (`url.parse(nsp, true)`).
//!   ringcast does the same, and for `/` takes the auth from the handshake URL's query
//!   (`io(url, {query: {token}})` puts it there), since a v2 client has no `auth` option.
//! - The CONNECT reply carries no data: `40` / `40/admin,` (v5: `40{"sid":…}`).
//! - A refusal's data is the message as a JSON string: `44"Invalid namespace"`
//!   (v5: `44{"message":…}`).
//!
//! Events, acks and binary attachments have the same wire form in v4 and v5.

use super::{PacketType, put_header};
use crate::{Sink, json};

/// Engine.IO's own query parameters, which are not auth.
const ENGINE_PARAMS: [&str; 6] = ["EIO", "transport", "sid", "t", "b64", "j"];

/// `40` \[nsp,\]: the v4 CONNECT reply.
pub fn write_connect(out: &mut impl Sink, nsp: &str) {
    put_header(out, PacketType::Connect, 0, nsp, None);
}

/// `44` \[nsp,\] `"<message>"`: the v4 CONNECT_ERROR (message JSON-escaped).
pub fn write_connect_error(out: &mut impl Sink, nsp: &str, message: &str) {
    put_header(out, PacketType::ConnectError, 0, nsp, None);
    json::write_str(out, message);
}

/// A query string (`token=abc&x=1`, percent-encoded) as the JSON object socket.io makes of it
/// (`{"token":"abc","x":"1"}`), leaving out Engine.IO's parameters; `None` if nothing is left.
/// A repeated key keeps its first value.
pub fn query_auth(query: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        if ENGINE_PARAMS.contains(&key.as_str()) || seen.contains(&key) {
            continue;
        }
        out.push(if seen.is_empty() { b'{' } else { b',' });
        json::write_str(&mut out, &key);
        out.push(b':');
        json::write_str(&mut out, &percent_decode(value));
        seen.push(key);
    }
    if seen.is_empty() {
        return None;
    }
    out.push(b'}');
    String::from_utf8(out).ok()
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a malformed
/// escape stays as it is, and bytes that are not UTF-8 become U+FFFD.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
        match b {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn replies() {
        // socket.io-protocol v4's README: "40" / "40/admin," and `44/admin,"Not authorized"`.
        assert_eq!(written(|o| write_connect(o, "/")), "40");
        assert_eq!(written(|o| write_connect(o, "/admin")), "40/admin,");
        assert_eq!(
            written(|o| write_connect_error(o, "/", "Invalid \"token\"")),
            r#"44"Invalid \"token\"""#
        );
        assert_eq!(
            written(|o| write_connect_error(o, "/admin", "Not authorized")),
            r#"44/admin,"Not authorized""#
        );
    }

    #[test]
    fn query_auth_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("token=abc.def-_", Some(r#"{"token":"abc.def-_"}"#)),
            (
                "EIO=3&transport=polling&t=N8hyd6w&token=x&b64=1",
                Some(r#"{"token":"x"}"#),
            ),
            ("token=a%2Bb+c&x", Some(r#"{"token":"a+b c","x":""}"#)),
            ("token=1&token=2", Some(r#"{"token":"1"}"#)),
            ("q=%22%ZZ%", Some(r#"{"q":"\"%ZZ%"}"#)),
            ("EIO=3&transport=websocket", None),
            ("", None),
        ];
        for (query, want) in cases {
            assert_eq!(query_auth(query).as_deref(), *want, "{query}");
        }
    }
}
