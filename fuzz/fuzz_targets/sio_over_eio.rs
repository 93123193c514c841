//! Structure-aware: Socket.IO packets built from structured choices (type, namespace, ack id,
//! attachments, event name, arguments of bounded depth), written with the codec's own encoders,
//! carried as Engine.IO messages either in masked WebSocket frames (split at a fuzzer-chosen
//! point) or in one polling payload, through the Engine.IO session, then decoded again.
//!
//! Laws: every packet comes back out of the whole stack with the same type, namespace, ack id,
//! attachment count, event name and arguments, in order; the session never closes on this
//! well-formed traffic; nothing panics.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ringcast_codec::eio::{self, Session, SessionConfig, Transport};
use ringcast_codec::sio::{self, DecodeLimits, PacketType};
use ringcast_codec::ws::{Assembler, AssemblerConfig, FrameHeader, Message, OpCode, mask};

#[derive(Debug, Arbitrary)]
enum Arg {
    Int(i32),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Arg>),
    Object(Vec<(String, Arg)>),
}

#[derive(Debug, Arbitrary)]
enum Kind {
    Event,
    Ack,
}

#[derive(Debug, Arbitrary)]
struct Pkt {
    kind: Kind,
    custom_nsp: bool,
    id: Option<u32>,
    name: String,
    args: Vec<Arg>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    websocket: bool,
    split: u16,
    key: [u8; 4],
    packets: Vec<Pkt>,
}

/// JSON for an argument, at most `depth` levels deep (deeper levels become `null`).
fn json(arg: &Arg, depth: usize, out: &mut String) {
    let mut buf = Vec::new();
    match arg {
        _ if depth == 0 => out.push_str("null"),
        Arg::Int(i) => out.push_str(&i.to_string()),
        Arg::Str(s) => {
            ringcast_codec::json::write_str(&mut buf, s);
            out.push_str(std::str::from_utf8(&buf).unwrap_or("\"\""));
        }
        Arg::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Arg::Null => out.push_str("null"),
        Arg::List(items) => {
            out.push('[');
            for (i, a) in items.iter().take(8).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(a, depth - 1, out);
            }
            out.push(']');
        }
        Arg::Object(fields) => {
            out.push('{');
            for (i, (k, a)) in fields.iter().take(8).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ringcast_codec::json::write_str(&mut buf, k);
                out.push_str(std::str::from_utf8(&buf).unwrap_or("\"\""));
                buf.clear();
                out.push(':');
                json(a, depth - 1, out);
            }
            out.push('}');
        }
    }
}

/// What must come back: (type, nsp, id, name for events, args text).
type Expected = (
    PacketType,
    &'static str,
    Option<u64>,
    Option<String>,
    String,
);

fuzz_target!(|input: Input| {
    let limits = DecodeLimits::default();
    let mut expected: Vec<Expected> = Vec::new();
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for p in input.packets.iter().take(16) {
        let nsp = if p.custom_nsp { "/custom" } else { "/" };
        let mut args = String::new();
        for (i, a) in p.args.iter().take(6).enumerate() {
            if i > 0 {
                args.push(',');
            }
            json(a, 6, &mut args);
        }
        let mut out = Vec::new();
        let id = p.id.map(u64::from);
        match p.kind {
            // A reserved name is a protocol violation (it closes the session), not an event.
            Kind::Event if sio::is_reserved_event(&p.name) => continue,
            Kind::Event => {
                sio::write_event(&mut out, nsp, id, 0, &p.name, &args);
                expected.push((PacketType::Event, nsp, id, Some(p.name.clone()), args));
            }
            Kind::Ack => {
                let id = id.unwrap_or(0);
                sio::write_ack(&mut out, nsp, id, 0, &args);
                expected.push((PacketType::Ack, nsp, Some(id), None, args));
            }
        }
        messages.push(out);
    }

    // ---- the wire: masked websocket frames, or one polling payload ----
    let transport = if input.websocket {
        Transport::WebSocket
    } else {
        Transport::Polling
    };
    let mut session = Session::new(SessionConfig::default(), transport, 0);
    let mut received: Vec<String> = Vec::new();
    if input.websocket {
        let mut wire = Vec::new();
        for m in &messages {
            let mut header = [0u8; ringcast_codec::ws::MAX_HEADER];
            let h = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Text,
                mask: Some(input.key),
                payload_len: m.len() as u64,
            };
            let n = h.encode(&mut header);
            wire.extend_from_slice(&header[..n]);
            let start = wire.len();
            wire.extend_from_slice(m);
            mask::apply(&mut wire[start..], input.key, 0);
        }
        let cut = usize::from(input.split) % (wire.len() + 1);
        let mut asm = Assembler::new(AssemblerConfig::default());
        let mut buf: Vec<u8> = Vec::new();
        for chunk in [&wire[..cut], &wire[cut..]] {
            buf.extend_from_slice(chunk);
            let mut pos = 0;
            loop {
                let (used, msg) = asm
                    .decode(&mut buf[pos..])
                    .expect("well-formed frames decode");
                if used == 0 && msg.is_none() {
                    break;
                }
                if let Some(Message::Text(text)) = msg {
                    let packet = eio::decode_text(text).expect("an Engine.IO message");
                    match session.handle_packet(packet, Transport::WebSocket, 0) {
                        Ok(eio::Input::Message(m)) => received.push(m.to_owned()),
                        other => panic!("unexpected session answer {other:?}"),
                    }
                }
                pos += used;
            }
            buf.drain(..pos);
        }
    } else if !messages.is_empty() {
        // (An empty POST body is an error by design: only send one with packets in it.)
        let mut body = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            if i > 0 {
                body.push(eio::SEPARATOR);
            }
            body.extend_from_slice(m);
        }
        for packet in eio::decode_payload(&body) {
            let packet = packet.expect("a well-formed payload");
            match session.handle_packet(packet, Transport::Polling, 0) {
                Ok(eio::Input::Message(m)) => received.push(m.to_owned()),
                other => panic!("unexpected session answer {other:?}"),
            }
        }
    }
    assert!(
        !session.is_closed(),
        "well-formed traffic closed the session"
    );

    // ---- Socket.IO back out ----
    assert_eq!(received.len(), expected.len());
    for (text, (kind, nsp, id, name, args)) in received.iter().zip(&expected) {
        let p = sio::Packet::decode(text, &limits).expect("our own encoding decodes");
        assert_eq!((p.kind, p.nsp, p.id, p.attachments), (*kind, *nsp, *id, 0));
        if let Some(name) = name {
            let event = p.event().expect("an event");
            assert_eq!(&*event.name, name.as_str());
            assert_eq!(event.args, args.as_str());
        }
    }
});
