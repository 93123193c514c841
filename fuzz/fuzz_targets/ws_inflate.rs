//! permessage-deflate: compress → inflate is the identity (also within an exact bound, and one
//! byte under it is `InflatedTooBig`), and for arbitrary bytes the inflater either fails or
//! returns at most `max` bytes, never holding an output buffer past `max + 1`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::ws::{Agreement, Deflater, Inflater, WsError};

fuzz_target!(|input: (bool, u16, Vec<u8>, Vec<u8>)| {
    let (takeover, max, plain, hostile) = input;
    let agreement = Agreement {
        client_no_context_takeover: !takeover,
        server_max_window_bits: false,
    };
    // Round trip, twice on one inflater (its window carries over with context takeover).
    let mut deflater = Deflater::new();
    let mut packed = Vec::new();
    assert!(deflater.compress(&plain, &mut packed));
    let mut inflater = Inflater::new(agreement);
    for _ in 0..2 {
        assert_eq!(inflater.inflate(&packed, plain.len()), Ok(&plain[..]));
    }
    if !plain.is_empty() {
        let mut fresh = Inflater::new(agreement);
        assert_eq!(
            fresh.inflate(&packed, plain.len() - 1),
            Err(WsError::InflatedTooBig)
        );
    }
    // Arbitrary input: bounded output, bounded buffer, errors are the two documented ones.
    let max = usize::from(max);
    let mut inflater = Inflater::new(agreement);
    match inflater.inflate(&hostile, max) {
        Ok(out) => assert!(out.len() <= max),
        Err(e) => assert!(
            matches!(e, WsError::InflatedTooBig | WsError::InvalidDeflate),
            "{e:?}"
        ),
    }
    assert!(inflater.output_capacity() <= max + 1);
});
