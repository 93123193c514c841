//! Codec benchmarks: Socket.IO decode / event name / encode for the API's events, Engine.IO
//! payload split, and session send → output throughput; socketioxide's parser as the peer.
//!
//! Run: `cargo bench --bench codec_eio_sio -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ringcast_codec::eio::{self, Session, SessionConfig, Transport};
use ringcast_codec::sio::{self, DecodeLimits, Packet};
use ringcast_codec::ws::{FrameBuf, OpCode, OutFrame};
use socketioxide_core::Value;
use socketioxide_core::packet::{Packet as XPacket, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_parser_common::CommonParser;

/// (label, Socket.IO packet text after the Engine.IO `4`, event name, args).
const EVENTS: [(&str, &str, &str, &str); 3] = [
    (
        "subscribe",
        r#"2["subscribe",{"room":"agent:123"}]"#,
        "subscribe",
        r#"{"room":"agent:123"}"#,
    ),
    (
        "heartbeat",
        r#"2["heartbeat",{"timestamp":1234567890}]"#,
        "heartbeat",
        r#"{"timestamp":1234567890}"#,
    ),
    (
        "status_changed_200B",
        r#"2["agent:status_changed",{"agent_id":"123e4567-e89b-12d3-a456-426614174000","old_status":"idle","new_status":"busy","timestamp":"2026-11-25T10:15:30.123Z","reason":"task_assigned","task_id":"t-42"}]"#,
        "agent:status_changed",
        r#"{"agent_id":"123e4567-e89b-12d3-a456-426614174000","old_status":"idle","new_status":"busy","timestamp":"2026-11-25T10:15:30.123Z","reason":"task_assigned","task_id":"t-42"}"#,
    ),
];

fn sio_decode(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut g = c.benchmark_group("sio_decode");
    for (label, text, _, _) in EVENTS {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("ringcast/{label}"), |b| {
            b.iter(|| Packet::decode(black_box(text), &limits).unwrap())
        });
        g.bench_function(format!("ringcast+event/{label}"), |b| {
            b.iter(|| {
                let p = Packet::decode(black_box(text), &limits).unwrap();
                let e = p.event().unwrap();
                black_box((e.name.len(), e.args.len()))
            })
        });
        let (config, state) = (ParseConfig::default(), ParserState::default());
        g.bench_function(format!("socketioxide/{label}"), |b| {
            b.iter(|| {
                CommonParser
                    .decode_str(&config, &state, black_box(text).into())
                    .unwrap()
            })
        });
        g.bench_function(format!("socketioxide+event/{label}"), |b| {
            b.iter(|| {
                let p = CommonParser
                    .decode_str(&config, &state, black_box(text).into())
                    .unwrap();
                let PacketData::Event(value, _) = &p.inner else {
                    unreachable!()
                };
                black_box(CommonParser.read_event(value).unwrap().len())
            })
        });
    }
    g.finish();
}

fn sio_event_name(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut g = c.benchmark_group("sio_event_name");
    for (label, text, _, _) in EVENTS {
        let packet = Packet::decode(text, &limits).unwrap();
        g.bench_function(format!("ringcast/{label}"), |b| {
            b.iter(|| black_box(&packet).event().unwrap())
        });
        let value = Value::Str(text[1..].into(), None);
        g.bench_function(format!("socketioxide/{label}"), |b| {
            b.iter(|| CommonParser.read_event(black_box(&value)).unwrap().len())
        });
    }
    g.finish();
}

fn sio_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio_encode");
    for (label, _, name, args) in EVENTS {
        // A whole server WebSocket frame: header + `42["name",args]`, ready to share.
        g.bench_function(format!("ringcast_framebuf/{label}"), |b| {
            b.iter(|| {
                let mut buf = FrameBuf::with_capacity(16 + name.len() + args.len());
                sio::write_event(&mut buf, "/", None, 0, black_box(name), black_box(args));
                buf.finish(OpCode::Text)
            })
        });
        // socketioxide: the Socket.IO packet string only (no `4`, no frame), from data that is
        // already JSON (as with ours, the serialisation of the payload is not measured).
        let value = Value::Str(format!("[\"{name}\",{args}]").into(), None);
        g.bench_function(format!("socketioxide/{label}"), |b| {
            b.iter_batched(
                || XPacket::event("/", value.clone()),
                |p| CommonParser.encode(p),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn eio_payload(c: &mut Criterion) {
    let records: Vec<String> = (0..10).map(|i| format!("4{}", EVENTS[i % 3].1)).collect();
    let body = records.join("\u{1e}");
    let mut g = c.benchmark_group("eio_payload");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("split_10_packets", |b| {
        b.iter(|| {
            eio::decode_payload(black_box(body.as_bytes()))
                .filter(Result::is_ok)
                .count()
        })
    });
    g.finish();
}

fn session(c: &mut Criterion) {
    const BATCH: usize = 100;
    let frame = OutFrame::new(OpCode::Text, format!("4{}", EVENTS[2].1).as_bytes());
    let mut g = c.benchmark_group("session");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("send_poll_ws_frame_x100", |b| {
        let mut s = Session::new(SessionConfig::default(), Transport::WebSocket, 0);
        b.iter(|| {
            for _ in 0..BATCH {
                s.send(frame.clone()).unwrap();
            }
            let mut n = 0;
            while let Some(f) = s.poll_ws_frame() {
                n += f.len();
            }
            black_box(n)
        })
    });
    g.bench_function("send_poll_payload_x100", |b| {
        let mut s = Session::new(SessionConfig::default(), Transport::Polling, 0);
        b.iter(|| {
            for _ in 0..BATCH {
                s.send(frame.clone()).unwrap();
            }
            s.handle_poll_request(0).unwrap();
            s.poll_payload().unwrap()
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    sio_decode,
    sio_event_name,
    sio_encode,
    eio_payload,
    session
);
criterion_main!(benches);
