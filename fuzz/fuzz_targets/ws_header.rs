//! Frame headers: whatever decodes re-encodes (shortest length form) to bytes that decode to
//! the same header; prefixes give `Partial` or exactly the whole input's result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::Status;
use ringcast_codec::ws::{FrameHeader, MAX_HEADER};

fuzz_target!(|data: &[u8]| {
    let whole = FrameHeader::decode(data);
    for cut in 0..data.len().min(MAX_HEADER) {
        let prefix = FrameHeader::decode(&data[..cut]);
        assert!(
            prefix == Ok(Status::Partial) || prefix == whole,
            "cut {cut}: {prefix:?} vs {whole:?}"
        );
    }
    if let Ok(Status::Complete((header, len))) = whole {
        assert!(len <= data.len());
        let mut out = [0; MAX_HEADER];
        let n = header.encode(&mut out);
        assert!(n <= len, "re-encoding is never longer");
        assert_eq!(
            FrameHeader::decode(&out[..n]),
            Ok(Status::Complete((header, n)))
        );
        if n == len {
            assert_eq!(out[..n], data[..n], "a minimal header re-encodes to itself");
        }
    }
});
