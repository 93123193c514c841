//! Property tests for the WebSocket layer: header round trip, assembler split invariance, and
//! no panics on arbitrary input.

use proptest::prelude::*;
use ringcast_codec::Status;
use ringcast_codec::ws::{
    Assembler, AssemblerConfig, FrameHeader, MAX_HEADER, Message, OpCode, WsError, mask,
};

/// An owned [`Message`], so the results of many calls can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

impl From<Message<'_>> for Owned {
    fn from(m: Message<'_>) -> Owned {
        match m {
            Message::Text(t) => Owned::Text(t.to_owned()),
            Message::Binary(b) => Owned::Binary(b.to_vec()),
            Message::Ping(b) => Owned::Ping(b.to_vec()),
            Message::Pong(b) => Owned::Pong(b.to_vec()),
            Message::Close(c) => Owned::Close(c.map(|(code, r)| (code.0, r.to_owned()))),
        }
    }
}

/// The documented caller loop, fed `input` in pieces ending at `cuts` (sorted or not; each
/// is clamped), then the rest. Returns the messages and the error that stopped it.
fn run(config: AssemblerConfig, input: &[u8], cuts: &[usize]) -> (Vec<Owned>, Option<WsError>) {
    let mut asm = Assembler::new(config);
    let (mut buf, mut out, mut fed) = (Vec::new(), Vec::new(), 0);
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        let end = end.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        let mut pos = 0;
        loop {
            match asm.decode(&mut buf[pos..]) {
                Err(e) => return (out, Some(e)),
                Ok((n, m)) => {
                    if let Some(m) = m {
                        out.push(Owned::from(m));
                    }
                    if n == 0 {
                        break;
                    }
                    pos += n;
                }
            }
        }
        buf.drain(..pos);
    }
    (out, None)
}

fn opcode() -> impl Strategy<Value = OpCode> {
    prop::sample::select(vec![
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ])
}

/// Any header `decode` accepts: control frames final and at most 125 bytes, lengths < 2^63.
fn header() -> impl Strategy<Value = FrameHeader> {
    let len = prop_oneof![0..=125u64, 126..=65_535u64, 65_536..=(u64::MAX >> 1)];
    (
        any::<bool>(),
        0..8u8,
        opcode(),
        any::<Option<[u8; 4]>>(),
        len,
    )
        .prop_map(|(fin, rsv, opcode, mask, len)| {
            let control = opcode.is_control();
            FrameHeader {
                fin: fin || control,
                rsv,
                opcode,
                mask,
                payload_len: if control { len % 126 } else { len },
            }
        })
}

/// A client frame from parts: mostly well-formed, sometimes not (RSV, unmasked, bad UTF-8
/// payloads, out-of-order continuations), so both messages and errors get exercised.
#[derive(Debug, Clone)]
struct FrameSpec {
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    masked: bool,
    key: [u8; 4],
    payload: Vec<u8>,
}

fn frame_spec() -> impl Strategy<Value = FrameSpec> {
    let payload = prop_oneof![
        4 => "[a-zé😀 ]{0,12}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..20),
        1 => Just(vec![0x03, 0xe8]),
        1 => prop::collection::vec(any::<u8>(), 126..300),
    ];
    let rsv = prop_oneof![20 => Just(0u8), 1 => 1..8u8];
    let masked = prop_oneof![20 => Just(true), 1 => Just(false)];
    (
        any::<bool>(),
        rsv,
        opcode(),
        masked,
        any::<[u8; 4]>(),
        payload,
    )
        .prop_map(|(fin, rsv, opcode, masked, key, payload)| FrameSpec {
            fin,
            rsv,
            opcode,
            masked,
            key,
            payload,
        })
}

/// Encodes a spec, control-frame rules included only as far as the header can express them.
fn encode(spec: &FrameSpec) -> Vec<u8> {
    let header = FrameHeader {
        fin: spec.fin || spec.opcode.is_control(),
        rsv: spec.rsv,
        opcode: spec.opcode,
        mask: spec.masked.then_some(spec.key),
        payload_len: spec.payload.len() as u64,
    };
    let mut head = [0; MAX_HEADER];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(&spec.payload);
    if spec.masked {
        mask::apply_scalar(&mut out[start..], spec.key, 0);
    }
    out
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(frame_spec(), 0..8)
        .prop_map(|specs| specs.iter().flat_map(encode).collect())
}

const CONFIG: AssemblerConfig = AssemblerConfig {
    max_message: 64,
    require_mask: true,
};

proptest! {
    #[test]
    fn header_round_trip(h in header()) {
        let mut out = [0; MAX_HEADER];
        let n = h.encode(&mut out);
        prop_assert_eq!(FrameHeader::decode(&out[..n]), Ok(Status::Complete((h, n))));
        // With trailing bytes too, and never from a strict prefix.
        let mut longer = out[..n].to_vec();
        longer.extend_from_slice(&[0xAA; 5]);
        prop_assert_eq!(FrameHeader::decode(&longer), Ok(Status::Complete((h, n))));
        for cut in 0..n {
            prop_assert_eq!(FrameHeader::decode(&out[..cut]), Ok(Status::Partial));
        }
    }

    #[test]
    fn header_decode_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..20)) {
        if let Ok(Status::Complete((h, n))) = FrameHeader::decode(&bytes) {
            prop_assert!(n <= bytes.len() && [2, 4, 6, 8, 10, 14].contains(&n));
            // Re-encoding may pick a shorter length form, but decodes to the same header.
            let mut out = [0; MAX_HEADER];
            let m = h.encode(&mut out);
            prop_assert!(m <= n);
            prop_assert_eq!(FrameHeader::decode(&out[..m]), Ok(Status::Complete((h, m))));
        }
    }

    #[test]
    fn assembler_split_invariance_at_one_cut(input in stream(), cut in any::<prop::sample::Index>()) {
        let whole = run(CONFIG, &input, &[]);
        let cut = cut.index(input.len() + 1);
        prop_assert_eq!(run(CONFIG, &input, &[cut]), whole);
    }

    #[test]
    fn assembler_split_invariance_in_random_chunks(input in stream(), mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let whole = run(CONFIG, &input, &[]);
        let mut cuts: Vec<usize> = cuts.drain(..).map(|c| c.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(run(CONFIG, &input, &cuts), whole);
    }

    #[test]
    fn assembler_split_invariance_byte_by_byte(input in stream()) {
        let cuts: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(run(CONFIG, &input, &cuts), run(CONFIG, &input, &[]));
    }

    #[test]
    fn assembler_on_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..200), cut in any::<prop::sample::Index>()) {
        for require_mask in [true, false] {
            let config = AssemblerConfig { max_message: 50, require_mask };
            let whole = run(config, &input, &[]);
            for m in &whole.0 {
                let len = match m {
                    Owned::Text(t) => t.len(),
                    Owned::Binary(b) => b.len(),
                    Owned::Ping(_) | Owned::Pong(_) | Owned::Close(_) => 0,
                };
                prop_assert!(len <= config.max_message);
            }
            prop_assert_eq!(run(config, &input, &[cut.index(input.len() + 1)]), whole);
        }
    }

    #[test]
    fn mask_fast_equals_scalar(data in prop::collection::vec(any::<u8>(), 0..2000), key in any::<[u8; 4]>(), offset in 0..16usize, start in 0..8usize) {
        let start = start.min(data.len());
        let (mut fast, mut slow) = (data.clone(), data);
        mask::apply(&mut fast[start..], key, offset);
        mask::apply_scalar(&mut slow[start..], key, offset);
        prop_assert_eq!(fast, slow);
    }
}
