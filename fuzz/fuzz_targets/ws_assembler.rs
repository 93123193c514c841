//! The assembler is split-invariant: the same bytes fed whole, cut at a fuzzer-chosen point,
//! or in fuzzer-sized chunks give the same messages and the same error; no message exceeds
//! the configured maximum.
//!
//! Input: byte 0 picks the config (bit 0: require_mask; the rest scales max_message), bytes
//! 1..3 a cut point, byte 3 a chunk size, the rest is the stream of frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::ws::{Assembler, AssemblerConfig, Message, WsError};

#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

/// The documented caller loop over `input` delivered in pieces ending at `cuts`.
fn run(
    config: AssemblerConfig,
    input: &[u8],
    cuts: impl Iterator<Item = usize>,
) -> (Vec<Owned>, Option<WsError>) {
    let mut asm = Assembler::new(config);
    let (mut buf, mut out, mut fed) = (Vec::new(), Vec::new(), 0);
    for end in cuts.chain(std::iter::once(input.len())) {
        let end = end.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        let mut pos = 0;
        loop {
            let (n, message) = match asm.decode(&mut buf[pos..]) {
                Ok(step) => step,
                Err(e) => return (out, Some(e)),
            };
            if let Some(m) = message {
                let (owned, len) = match m {
                    Message::Text(t) => (Owned::Text(t.to_owned()), t.len()),
                    Message::Binary(b) => (Owned::Binary(b.to_vec()), b.len()),
                    Message::Ping(b) => (Owned::Ping(b.to_vec()), b.len()),
                    Message::Pong(b) => (Owned::Pong(b.to_vec()), b.len()),
                    Message::Close(c) => {
                        (Owned::Close(c.map(|(code, r)| (code.0, r.to_owned()))), 0)
                    }
                };
                let limit = if matches!(owned, Owned::Ping(_) | Owned::Pong(_)) {
                    125
                } else {
                    config.max_message
                };
                assert!(
                    len <= limit,
                    "{len}-byte message over the {limit}-byte limit"
                );
                out.push(owned);
            }
            if n == 0 {
                break;
            }
            pos += n;
        }
        buf.drain(..pos);
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    let &[flags, c0, c1, chunk, ref input @ ..] = data else {
        return;
    };
    let config = AssemblerConfig {
        max_message: usize::from(flags >> 1) * 16,
        require_mask: flags & 1 == 1,
    };
    let whole = run(config, input, std::iter::empty());
    let cut = usize::from(u16::from_le_bytes([c0, c1])) % (input.len() + 1);
    assert_eq!(
        run(config, input, std::iter::once(cut)),
        whole,
        "cut at {cut}"
    );
    let chunk = usize::from(chunk % 16) + 1;
    assert_eq!(
        run(config, input, (chunk..input.len()).step_by(chunk)),
        whole,
        "chunks of {chunk}"
    );
});
