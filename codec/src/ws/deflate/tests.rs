use flate2::{Compress, Compression, FlushCompress};

use super::*;
use crate::ws::{
    Assembler, AssemblerConfig, FrameHeader, MAX_HEADER, Message, OpCode, OutFrame, Sent, mask,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn agreed(client_nct: bool, bits: bool) -> Option<Agreement> {
    Some(Agreement {
        client_no_context_takeover: client_nct,
        server_max_window_bits: bits,
    })
}

#[rustfmt::skip]
#[test]
fn negotiation_table() {
    let cases: &[(&str, &str, Option<Agreement>)] = &[
        ("bare offer",                       "permessage-deflate", agreed(false, false)),
        ("case-insensitive name",            "PerMessage-Deflate", agreed(false, false)),
        ("chrome's offer",                   "permessage-deflate; client_max_window_bits", agreed(false, false)),
        ("client bits with a value",         "permessage-deflate; client_max_window_bits=10", agreed(false, false)),
        ("quoted value",                     "permessage-deflate; client_max_window_bits=\"9\"", agreed(false, false)),
        ("client no context takeover",       "permessage-deflate; client_no_context_takeover", agreed(true, false)),
        ("server no context takeover",       "permessage-deflate;server_no_context_takeover", agreed(false, false)),
        ("server bits 15 is echoed",         "permessage-deflate; server_max_window_bits=15", agreed(false, true)),
        ("server bits 9 declined",           "permessage-deflate; server_max_window_bits=9", None),
        ("server bits 9, then a plain offer", "permessage-deflate; server_max_window_bits=9, permessage-deflate", agreed(false, false)),
        ("autobahn 13.7",                    "permessage-deflate; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits, permessage-deflate; client_no_context_takeover; client_max_window_bits, permessage-deflate; client_max_window_bits", agreed(true, false)),
        ("other extension first",            "x-webkit-deflate-frame, permessage-deflate", agreed(false, false)),
        ("server bits without a value",      "permessage-deflate; server_max_window_bits", None),
        ("client bits 16",                   "permessage-deflate; client_max_window_bits=16", None),
        ("client bits 7",                    "permessage-deflate; client_max_window_bits=7", None),
        ("leading zero",                     "permessage-deflate; client_max_window_bits=09", None),
        ("not a number",                     "permessage-deflate; client_max_window_bits=x", None),
        ("value on a flag",                  "permessage-deflate; client_no_context_takeover=1", None),
        ("repeated parameter",               "permessage-deflate; client_no_context_takeover; client_no_context_takeover", None),
        ("unknown parameter",                "permessage-deflate; foo", None),
        ("unterminated quote",               "permessage-deflate; client_max_window_bits=\"9", None),
        ("other extension only",             "x-webkit-deflate-frame", None),
        ("empty",                            "", None),
    ];
    for (name, header, want) in cases {
        assert_eq!(negotiate(header.as_bytes()), *want, "{name}");
    }
    assert_eq!(negotiate(&[0xff, 0xfe]), None, "not UTF-8");
}

#[test]
fn response_headers() {
    let cases = [
        (
            agreed(false, false),
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            agreed(true, true),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15",
        ),
    ];
    for (agreement, value) in cases {
        let mut out = Vec::new();
        agreement.expect("agreed").write_header(&mut out);
        assert_eq!(
            out,
            format!("Sec-WebSocket-Extensions: {value}\r\n").into_bytes()
        );
    }
}

/// Letters from a xorshift generator: compresses to ~60 %, with no long repeats.
fn noise(len: usize, alphabet: u8) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if alphabet == 0 {
                x as u8
            } else {
                b'a' + (x % u32::from(alphabet)) as u8
            }
        })
        .collect()
}

fn sample(len: usize) -> Vec<u8> {
    let text =
        b"{\"event\":\"agent:status_changed\",\"agent_id\":\"123e4567\",\"status\":\"busy\"} ";
    text.iter().copied().cycle().take(len).collect()
}

#[test]
fn compress_then_inflate_round_trips() {
    let mut deflater = Deflater::new();
    let mut inflater = Inflater::new(Agreement {
        client_no_context_takeover: true,
        server_max_window_bits: false,
    });
    for len in [0, 1, 100, 4096, 70_000, 300_000] {
        let plain = sample(len);
        let mut packed = Vec::new();
        assert!(deflater.compress(&plain, &mut packed));
        assert!(!packed.ends_with(&TAIL), "tail stripped ({len})");
        if len >= 4096 {
            assert!(packed.len() < len / 4, "{len} → {}", packed.len());
        }
        assert_eq!(
            inflater.inflate(&packed, 1_000_000).map(<[u8]>::to_vec),
            Ok(plain),
            "{len}"
        );
    }
}

#[test]
fn inflate_bound_and_bad_data() {
    let mut deflater = Deflater::new();
    // 10 MB of zeros compress to ~10 KB: a bomb against a 1 MB limit.
    let mut bomb = Vec::new();
    assert!(deflater.compress(&vec![0; 10_000_000], &mut bomb));
    assert!(bomb.len() < 20_000);
    let mut inflater = Inflater::new(Agreement {
        client_no_context_takeover: false,
        server_max_window_bits: false,
    });
    assert_eq!(
        inflater.inflate(&bomb, 1_000_000),
        Err(WsError::InflatedTooBig)
    );
    assert!(
        inflater.out.capacity() <= 1_000_001,
        "grew to {}",
        inflater.out.capacity()
    );
    // Exactly at the limit is fine.
    let mut exact = Vec::new();
    assert!(deflater.compress(&vec![7; 1000], &mut exact));
    let mut fresh = Inflater::new(Agreement {
        client_no_context_takeover: true,
        server_max_window_bits: false,
    });
    assert_eq!(fresh.inflate(&exact, 1000).map(<[u8]>::len), Ok(1000));
    assert_eq!(fresh.inflate(&exact, 999), Err(WsError::InflatedTooBig));
    // BTYPE 11 is reserved (RFC 1951 §3.2.3): not DEFLATE.
    assert_eq!(
        fresh.inflate(&[0xff, 0xff, 0xff], 1000),
        Err(WsError::InvalidDeflate)
    );
}

/// A client compressor that keeps its window between messages (context takeover).
fn client_stream(messages: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut c = Compress::new(Compression::default(), false);
    messages
        .iter()
        .map(|m| {
            let mut out = Vec::with_capacity(m.len() + 64);
            c.compress_vec(m, &mut out, FlushCompress::Sync)
                .expect("compress");
            assert!(out.ends_with(&TAIL));
            out.truncate(out.len() - 4);
            out
        })
        .collect()
}

#[test]
fn context_takeover_keeps_the_window_between_messages() {
    let first = noise(2000, 26);
    let packed = client_stream(&[&first, &first]);
    // The second message is mostly a back-reference into the first.
    assert!(packed[1].len() < packed[0].len() / 4);
    let mut inflater = Inflater::new(Agreement {
        client_no_context_takeover: false,
        server_max_window_bits: false,
    });
    for p in &packed {
        assert_eq!(inflater.inflate(p, 1_000_000), Ok(&first[..]));
    }
    // Reset between messages, the back-reference points at nothing.
    let mut reset = Inflater::new(Agreement {
        client_no_context_takeover: true,
        server_max_window_bits: false,
    });
    assert_eq!(reset.inflate(&packed[0], 1_000_000), Ok(&first[..]));
    assert!(reset.inflate(&packed[1], 1_000_000) != Ok(&first[..]));
}

/// A masked client frame with header byte 0 `b0`.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 7,
        opcode: OpCode::try_from(b0 & 0x0F).expect("valid opcode"),
        mask: Some(KEY),
        payload_len: payload.len() as u64,
    };
    let mut head = [0; MAX_HEADER];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    mask::apply_scalar(&mut out[start..], KEY, 0);
    out
}

fn packed(plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    assert!(Deflater::new().compress(plain, &mut out));
    out
}

/// Runs an assembler (deflate negotiated or not) over `input`: texts/binaries as bytes, and the
/// error that stopped it.
fn run(deflate: bool, input: &mut [u8]) -> (Vec<Vec<u8>>, Option<WsError>) {
    let mut asm = Assembler::new(AssemblerConfig {
        max_message: 1000,
        require_mask: true,
    });
    if deflate {
        asm.enable_deflate(Agreement {
            client_no_context_takeover: false,
            server_max_window_bits: false,
        });
    }
    let (mut pos, mut out) = (0, Vec::new());
    loop {
        match asm.decode(&mut input[pos..]) {
            Err(e) => return (out, Some(e)),
            Ok((0, _)) => return (out, None),
            Ok((n, m)) => {
                match m {
                    Some(Message::Text(t)) => out.push(t.as_bytes().to_vec()),
                    Some(Message::Binary(b)) => out.push(b.to_vec()),
                    Some(Message::Ping(_)) => out.push(b"ping".to_vec()),
                    _ => {}
                }
                pos += n;
            }
        }
    }
}

/// `(name, deflate negotiated, input, messages, error)`.
type RsvCase<'a> = (&'a str, bool, Vec<u8>, Vec<&'a [u8]>, Option<WsError>);

#[rustfmt::skip]
#[test]
fn assembler_rsv1_table() {
    let hello = packed(b"Hello, Hello, Hello");
    let (a, b) = hello.split_at(hello.len() / 2);
    let cases: Vec<RsvCase> = vec![
        ("compressed text",              true,  frame(0xC1, &hello), vec![b"Hello, Hello, Hello"], None),
        ("compressed binary",            true,  frame(0xC2, &hello), vec![b"Hello, Hello, Hello"], None),
        ("compressed in two fragments, a ping between", true,
            [frame(0x41, a), frame(0x89, b""), frame(0x80, b)].concat(), vec![b"ping", b"Hello, Hello, Hello"], None),
        ("plain text after compressed",  true,  [frame(0xC1, &hello), frame(0x81, b"plain")].concat(),
            vec![b"Hello, Hello, Hello", b"plain"], None),
        ("rsv1 without negotiation",     false, frame(0xC1, &hello), vec![], Some(WsError::ReservedBits)),
        ("rsv1 on a continuation",       true,  [frame(0x41, a), frame(0xC0, b)].concat(), vec![], Some(WsError::ReservedBits)),
        ("rsv1 on a ping",               true,  frame(0xC9, b""), vec![], Some(WsError::ReservedBits)),
        ("rsv2 with deflate",            true,  frame(0xA1, &hello), vec![], Some(WsError::ReservedBits)),
        ("not deflate",                  true,  frame(0xC2, &[0xff, 0xff]), vec![], Some(WsError::InvalidDeflate)),
        ("inflates past max_message",    true,  frame(0xC2, &packed(&[0; 1001])), vec![], Some(WsError::InflatedTooBig)),
        ("inflated text not UTF-8",      true,  frame(0xC1, &packed(&[0xce, 0x41])), vec![], Some(WsError::InvalidUtf8)),
    ];
    for (name, deflate, mut input, messages, error) in cases {
        let want: Vec<Vec<u8>> = messages.iter().map(|m| m.to_vec()).collect();
        assert_eq!(run(deflate, &mut input), (want, error), "{name}");
    }
}

#[test]
fn a_shared_frame_is_compressed_once_for_every_recipient() {
    let payload = sample(5000);
    let frame = OutFrame::new(OpCode::Text, &payload).share_deflated();
    let clones = [frame.clone(), frame.clone(), frame];
    let mut deflater = Deflater::new();
    let mut sent = Vec::new();
    let mut wire = Vec::new();
    for f in &clones {
        let mut out = Vec::new();
        sent.push(f.write_to(&mut out, Some((&mut deflater, 1024))));
        wire.push(out);
    }
    let Sent::Deflated { saved, .. } = sent[0] else {
        panic!("not compressed: {sent:?}");
    };
    assert_eq!(
        sent,
        [true, false, false].map(|now| Sent::Deflated {
            saved,
            compressed_now: now
        })
    );
    assert!(wire.iter().all(|w| w == &wire[0]));
    assert_eq!(wire[0][0], 0xC1, "FIN + RSV1 + text");
    // The client side reads it back.
    let (head, n) = match FrameHeader::decode(&wire[0]) {
        Ok(crate::Status::Complete(h)) => h,
        other => panic!("{other:?}"),
    };
    assert_eq!(head.payload_len as usize, wire[0].len() - n);
    let mut inflater = Inflater::new(Agreement {
        client_no_context_takeover: true,
        server_max_window_bits: false,
    });
    assert_eq!(inflater.inflate(&wire[0][n..], 1_000_000), Ok(&payload[..]));
}

#[test]
fn below_threshold_control_and_plain_connections_are_not_compressed() {
    let mut deflater = Deflater::new();
    let small = OutFrame::new(OpCode::Text, &sample(100)).share_deflated();
    let ping = OutFrame::new(OpCode::Ping, b"x").share_deflated();
    let big = OutFrame::new(OpCode::Text, &sample(5000));
    let random = noise(3000, 0);
    let incompressible = OutFrame::new(OpCode::Binary, &random);
    let cases = [
        (&small, true, Sent::Plain),
        (&ping, true, Sent::Plain),
        (&big, false, Sent::Plain),
        (&incompressible, true, Sent::Plain),
    ];
    for (frame, deflate, want) in cases {
        let mut out = Vec::new();
        let got = frame.write_to(&mut out, deflate.then_some((&mut deflater, 1024)));
        assert_eq!(got, want);
        assert!(out == frame.bytes()[..], "written as is");
    }
    // Per-socket (no shared variant): compressed for this write.
    let mut out = Vec::new();
    assert!(matches!(
        big.write_to(&mut out, Some((&mut deflater, 1024))),
        Sent::Deflated {
            compressed_now: true,
            ..
        }
    ));
}
