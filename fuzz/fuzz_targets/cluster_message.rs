//! socket.io-adapter `ClusterAdapter` messages (src/cluster/cluster_message), every form a Redis
//! peer can send, from arbitrary bytes. The first byte picks the input: 0 a whole message
//! (JSON or MessagePack), 1 a stream entry (the rest split at NUL bytes into field, value
//! pairs), 2 a stored session record, 3 a stream entry id.
//!
//! Laws: nothing panics; a decoded message re-encodes in all three forms (whole msgpack,
//! sharded, stream entry) whenever its values can be encoded at all, and each encoding decodes
//! back to one message `c`; from `c` on, `decode(encode(c)) == c` in every form. (The first
//! decode may not be a fixpoint: the JSON `3.0` reads as a float and MessagePack writes it as
//! the integer 3, as JavaScript does; a literal `{"_placeholder":true,"num":0}` object becomes
//! binary once written.) Broadcasts map to frames or to an error; session records and entry
//! ids round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast::cluster::cluster_message::{Body, ClusterMessage, MessageError, SessionRecord};
use ringcast::cluster::stream_id::StreamId;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(m) = ClusterMessage::decode(rest) {
                check(&m);
            }
        }
        1 => {
            let parts: Vec<&[u8]> = rest.split(|&b| b == 0).collect();
            let fields: Vec<(&[u8], &[u8])> = parts
                .chunks_exact(2)
                .map(|pair| (pair[0], pair[1]))
                .collect();
            if let Ok(m) = ClusterMessage::decode_entry(&fields) {
                check(&m);
            }
        }
        2 => {
            if let Ok(record) = SessionRecord::decode(rest) {
                let Ok(text) = record.encode() else { return };
                let canonical = SessionRecord::decode(text.as_bytes()).expect("own record");
                let again = canonical.encode().expect("canonical record encodes");
                assert_eq!(SessionRecord::decode(again.as_bytes()), Ok(canonical));
            }
        }
        _ => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Ok(id) = StreamId::parse(text) {
                assert_eq!(StreamId::parse(&id.to_string()), Ok(id));
                if let Some(next) = id.next() {
                    assert!(next > id);
                }
            }
        }
    }
});

/// Re-encodes `m` in each form; the decoded result is canonical and must round-trip exactly.
fn check(m: &ClusterMessage) {
    if let Body::Broadcast(b) = &m.body {
        let _ = b.to_inbound(None);
        let _ = b.keeps_offset();
    }
    let Ok(bytes) = m.encode_msgpack() else {
        return;
    };
    let c = ClusterMessage::decode(&bytes).expect("own msgpack decodes");
    let whole = c.encode_msgpack().expect("canonical encodes");
    assert_eq!(ClusterMessage::decode(&whole).as_ref(), Ok(&c));
    let sharded = c.encode_sharded().expect("canonical encodes (sharded)");
    assert_eq!(ClusterMessage::decode(&sharded).as_ref(), Ok(&c));
    // A stream entry needs a namespace (readers skip one without); the whole forms carry `""`.
    let entry = match c.encode_entry() {
        Err(MessageError::MissingField("nsp")) if c.nsp.is_empty() => return,
        entry => entry.expect("canonical encodes (entry)"),
    };
    let fields: Vec<(&[u8], &[u8])> = entry
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    assert_eq!(ClusterMessage::decode_entry(&fields).as_ref(), Ok(&c));
}
