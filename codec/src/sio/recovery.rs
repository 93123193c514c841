//! Connection state recovery on the wire (socket.io ≥ 4.6): the CONNECT reply that carries a
//! private session id, and the offset appended as the last argument of a broadcast EVENT.
//!
//! socket.io's `_onconnect` answers `40{"sid":…,"pid":…}` when recovery is on; the client keeps
//! the `pid` and, from every EVENT it receives, a last argument that is a string as its offset
//! (`socket.io-client` `emitEvent`), and sends both back in its next CONNECT's auth object.

use super::{PacketType, put_header};
use crate::Sink;
use crate::json;

/// `40` \[nsp,\] `{"sid":"<sid>","pid":"<pid>"}`: the CONNECT reply of a recoverable socket.
pub fn write_connect_recoverable(out: &mut impl Sink, nsp: &str, sid: &str, pid: &str) {
    put_header(out, PacketType::Connect, 0, nsp, None);
    out.put(b"{\"sid\":");
    json::write_str(out, sid);
    out.put(b",\"pid\":");
    json::write_str(out, pid);
    out.put_u8(b'}');
}

/// The Engine.IO message payload of an EVENT (`42…`) or BINARY_EVENT (`45<n>-…`) **without an
/// ack id**, with `offset` appended as its last argument: `42["ev",{"a":1}]` →
/// `42["ev",{"a":1},"<offset>"]`. `None` for anything else (acks, CONNECT, an EVENT asking for
/// an ack: socket.io gives only those no offset, `addOffsetIfNecessary`), so the caller sends
/// such a frame unchanged and does not log it.
///
/// The offset is JSON-escaped; the payload is copied once (one broadcast, one copy: recipients
/// share the result).
pub fn with_offset(payload: &[u8], offset: &str) -> Option<Vec<u8>> {
    let rest = payload.strip_prefix(b"4")?;
    let (&kind, mut rest) = rest.split_first()?;
    match kind {
        b'2' => {}
        b'5' => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            rest = rest[digits..].strip_prefix(b"-")?;
        }
        _ => return None,
    }
    if rest.first() == Some(&b'/') {
        let comma = rest.iter().position(|&b| b == b',')?;
        rest = &rest[comma + 1..];
    }
    // An ack id would be digits here; a broadcast has none.
    if rest.first() != Some(&b'[') || payload.last() != Some(&b']') {
        return None;
    }
    let mut out = Vec::with_capacity(payload.len() + offset.len() + 4);
    out.extend_from_slice(&payload[..payload.len() - 1]);
    out.push(b',');
    json::write_str(&mut out, offset);
    out.push(b']');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_reply_carries_the_pid() {
        for (nsp, want) in [
            ("/", r#"40{"sid":"s1","pid":"p1"}"#),
            ("/admin", r#"40/admin,{"sid":"s1","pid":"p1"}"#),
        ] {
            let mut out: Vec<u8> = Vec::new();
            write_connect_recoverable(&mut out, nsp, "s1", "p1");
            assert_eq!(String::from_utf8_lossy(&out), want, "{nsp}");
        }
    }

    #[test]
    fn offsets_go_on_broadcast_events_only() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#"42["ev",{"a":1}]"#, Some(r#"42["ev",{"a":1},"o-1"]"#)),
            (r#"42["ev"]"#, Some(r#"42["ev","o-1"]"#)),
            (r#"42/admin,["ev",1]"#, Some(r#"42/admin,["ev",1,"o-1"]"#)),
            (
                r#"451-["ev",{"_placeholder":true,"num":0}]"#,
                Some(r#"451-["ev",{"_placeholder":true,"num":0},"o-1"]"#),
            ),
            (r#"4212["ev",1]"#, None),
            (r#"42/admin,7["ev"]"#, None),
            (r#"43["ok"]"#, None),
            (r#"40{"sid":"x"}"#, None),
            (r#"42["ev""#, None),
            ("2", None),
            ("", None),
        ];
        for (payload, want) in cases {
            let got = with_offset(payload.as_bytes(), "o-1")
                .map(|v| String::from_utf8(v).expect("utf-8"));
            assert_eq!(got.as_deref(), *want, "{payload}");
        }
    }

    #[test]
    fn the_offset_is_json_escaped() {
        let got = with_offset(br#"42["ev"]"#, "a\"b").expect("event");
        assert_eq!(got, br#"42["ev","a\"b"]"#);
    }
}
