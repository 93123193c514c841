//! Engine.IO v3 polling payloads (socket.io-client 2.x). Laws:
//! - decoding never panics and stops after the first error;
//! - split invariance: if both halves of a body (cut anywhere, same payload form) decode without
//!   error, the whole body decodes to the first half's packets followed by the second's;
//! - the UTF-16 length law: re-encoding the decoded packets as `<len>:<packet>` with `len`
//!   counted by the standard library's UTF-16 encoder is exactly what `encode_payload` writes,
//!   and decodes to the same packets; so does the binary form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::eio::{Packet, v3};
use ringcast_codec::ws::{OpCode, OutFrame};

fn decode(body: &[u8]) -> (Vec<Packet<'_>>, bool) {
    let items: Vec<_> = v3::decode_payload(body).collect();
    let ok: Vec<_> = items.iter().filter_map(|i| i.clone().ok()).collect();
    assert!(
        items.len() - ok.len() <= 1,
        "the iterator stops after an error"
    );
    assert!(
        items.iter().take(ok.len()).all(Result::is_ok),
        "an error is the last item"
    );
    let clean = items.len() == ok.len();
    (ok, clean)
}

fn form(body: &[u8]) -> Option<bool> {
    body.first().map(u8::is_ascii_digit)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let (packets, clean) = decode(body);

    let cut = usize::from(cut).min(body.len());
    let (head, tail) = body.split_at(cut);
    if !head.is_empty() && !tail.is_empty() && form(head) == form(tail) {
        let (a, a_clean) = decode(head);
        let (b, b_clean) = decode(tail);
        if a_clean && b_clean {
            assert!(clean, "two clean halves make a clean whole");
            let joined: Vec<_> = a.into_iter().chain(b).collect();
            assert_eq!(packets, joined, "split invariance");
        }
    }

    if packets.is_empty() {
        return;
    }
    let mut oracle = Vec::new();
    let mut frames = Vec::new();
    for packet in &packets {
        let mut text = Vec::new();
        v3::encode_text(&mut text, packet);
        let Ok(text) = String::from_utf8(text) else {
            panic!("an encoded packet is UTF-8");
        };
        assert_eq!(v3::utf16_len(text.as_bytes()), text.encode_utf16().count());
        oracle.extend_from_slice(format!("{}:{text}", text.encode_utf16().count()).as_bytes());
        frames.push(match packet {
            Packet::Binary(data) => OutFrame::new(OpCode::Binary, data),
            _ => OutFrame::new(OpCode::Text, text.as_bytes()),
        });
    }
    let string_form = v3::encode_payload(&frames, false);
    assert_eq!(&string_form[..], &oracle[..], "the UTF-16 length law");
    let lens: usize = frames.iter().map(v3::string_record_len).sum();
    assert_eq!(lens, oracle.len(), "record sizes add up to the body");
    assert_eq!(decode(&string_form), (packets.clone(), true));
    let binary_form = v3::encode_payload(&frames, true);
    assert_eq!(decode(&binary_form), (packets, true));
});
