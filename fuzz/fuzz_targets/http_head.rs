//! Request heads: parsing never panics; a complete head re-parses to the same `Request` from
//! exactly `head_len` bytes; any prefix gives `Partial` or exactly the whole input's result.
//!
//! Input: byte 0 picks the limits (odd: small ones, to reach 431s), bytes 1..3 a cut point,
//! the rest is the request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::Status;
use ringcast_codec::http::{self, Limits};

fuzz_target!(|data: &[u8]| {
    let &[flags, c0, c1, ref input @ ..] = data else {
        return;
    };
    let limits = if flags & 1 == 1 {
        Limits {
            max_head: usize::from(flags) * 8,
            max_headers: usize::from(flags >> 4),
        }
    } else {
        Limits::default()
    };
    let whole = http::parse_request(input, &limits);
    let cut = usize::from(u16::from_le_bytes([c0, c1])) % (input.len() + 1);
    let prefix = http::parse_request(&input[..cut], &limits);
    assert!(
        prefix == Ok(Status::Partial) || prefix == whole,
        "cut {cut}: {prefix:?} vs {whole:?}"
    );
    if let Ok(Status::Complete(req)) = whole {
        assert!(req.head_len <= input.len() && req.head_len <= limits.max_head);
        assert_eq!(http::parse_request(&input[..req.head_len], &limits), whole);
        assert_eq!(
            http::parse_request(&input[..req.head_len - 1], &limits),
            Ok(Status::Partial)
        );
        if cut < req.head_len {
            assert_eq!(prefix, Ok(Status::Partial));
        }
        // The rest of the request API must not panic either.
        if let Ok(accept) = http::validate_websocket_upgrade(&req) {
            assert!(req.wants_websocket());
            assert_eq!(
                accept,
                http::websocket_accept(req.ws_key.unwrap_or_default())
            );
        }
        let _ = (req.eio(), req.transport(), req.sid());
    }
});
