//! Law: a decoded Engine.IO text packet re-encodes to text that decodes to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::eio;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(packet) = eio::decode_text(text) else {
        return;
    };
    let mut wire = Vec::new();
    eio::encode_text(&mut wire, &packet);
    let again = std::str::from_utf8(&wire).expect("encode_text writes UTF-8");
    assert_eq!(eio::decode_text(again), Ok(packet));
});
