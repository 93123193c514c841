//! Laws for the msgpack Socket.IO parser: decoding never panics; a decoded packet re-encodes
//! exactly when its text form is a packet the JSON parser accepts (header, shape,
//! placeholders); and from the first re-encoding on, decode → encode is a fixed point (the
//! same bytes, the same text form and binary values). The first encoding may normalise
//! (a BigInt past 64 bits becomes a float, placeholders are renumbered in traversal order).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use ringcast_codec::msgpack::Writer;
use ringcast_codec::sio::msgpack::{decode, encode};
use ringcast_codec::sio::{self, DecodeLimits, Packet};

const ANY: DecodeLimits = DecodeLimits {
    max_depth: 256,
    max_attachments: usize::MAX,
};

fn encoded(text: &str, attachments: &[&[u8]]) -> Result<Vec<u8>, sio::SioError> {
    let atts: Vec<Bytes> = attachments
        .iter()
        .map(|a| Bytes::copy_from_slice(a))
        .collect();
    let mut w = Writer::new();
    encode(text, &atts, &mut w).map(|()| w.buf)
}

fuzz_target!(|data: &[u8]| {
    let Ok(first) = decode(data, &ANY) else {
        return;
    };
    // What `sio::Session` accepts: the packet, and with attachments its placeholders.
    let accepted = Packet::decode(&first.text, &ANY).and_then(|p| match p.attachments {
        0 => Ok(p),
        n => sio::check_placeholders(p.data.unwrap_or(""), n).map(|()| p),
    });
    let once = match (encoded(&first.text, &first.attachments), accepted) {
        (Ok(bytes), Ok(_)) => bytes,
        (Err(_), Err(_)) => return,
        (enc, acc) => panic!("encode {enc:?} but the text form decodes to {acc:?}"),
    };
    let second = decode(&once, &ANY).expect("what we encode decodes");
    let twice = encoded(&second.text, &second.attachments).expect("and encodes again");
    assert_eq!(once, twice, "decode → encode is a fixed point");
    assert_eq!(decode(&twice, &ANY), Ok(second));
});
