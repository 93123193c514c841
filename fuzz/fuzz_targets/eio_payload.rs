//! Laws: payload decoding never panics and stops after the first error; re-encoding the
//! decoded packets (joined by 0x1e) and decoding again gives the same packets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::eio;

fuzz_target!(|data: &[u8]| {
    let items: Vec<_> = eio::decode_payload(data).collect();
    let ok: Vec<_> = items
        .iter()
        .take_while(|i| i.is_ok())
        .filter_map(|i| i.clone().ok())
        .collect();
    assert!(
        items.len() - ok.len() <= 1,
        "the iterator stops after an error"
    );
    if ok.is_empty() {
        return;
    }
    let mut body = Vec::new();
    for (i, packet) in ok.iter().enumerate() {
        if i > 0 {
            body.push(eio::SEPARATOR);
        }
        eio::encode_text(&mut body, packet);
    }
    let again: Vec<_> = eio::decode_payload(&body).collect();
    assert_eq!(again, ok.into_iter().map(Ok).collect::<Vec<_>>());
});
