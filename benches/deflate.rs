//! permessage-deflate: what a compressed broadcast costs. One broadcast to 100 recipients that
//! negotiated compression, written the way each recipient's writer writes it:
//! - `plain`: no compression (the copy into each writer's buffer only);
//! - `encode_once`: the frame shares one compressed variant (`OutFrame::share_deflated`, what
//!   the gateway does for broadcasts): compressed by the first writer, copied by the other 99;
//! - `per_socket`: compressed by every writer (what a per-connection compressor with context
//!   takeover, or a frame without a shared variant, costs).
//!
//! Run: `cargo bench --bench deflate -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringcast_codec::ws::{Deflater, OpCode, OutFrame};

/// Recipients of the broadcast.
const RECIPIENTS: usize = 100;
/// The gateway's default threshold (socket.io's `perMessageDeflate.threshold`).
const THRESHOLD: usize = 1024;

/// A Socket.IO EVENT of about `len` bytes: an alert whose message is log-like text.
fn event(len: usize) -> Vec<u8> {
    let mut s = String::from(r#"42["system:alert",{"severity":"info","message":""#);
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "worker {i:04} finished task {:06} in {} ms; ",
            i * 37,
            i % 90
        ));
        i += 1;
    }
    s.push_str(r#""}]"#);
    s.into_bytes()
}

fn broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_broadcast_100");
    let mut deflater = Deflater::new();
    let mut out = Vec::with_capacity(64 * 1024);
    for len in [1_100, 8_000, 64_000] {
        let payload = event(len);
        group.throughput(Throughput::Bytes((payload.len() * RECIPIENTS) as u64));
        group.bench_with_input(BenchmarkId::new("plain", len), &payload, |b, p| {
            b.iter(|| {
                let frame = OutFrame::new(OpCode::Text, p);
                for _ in 0..RECIPIENTS {
                    out.clear();
                    black_box(frame.clone().write_to(&mut out, None));
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("encode_once", len), &payload, |b, p| {
            b.iter(|| {
                let frame = OutFrame::new(OpCode::Text, p).share_deflated();
                for _ in 0..RECIPIENTS {
                    out.clear();
                    let sent = frame
                        .clone()
                        .write_to(&mut out, Some((&mut deflater, THRESHOLD)));
                    black_box(sent);
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("per_socket", len), &payload, |b, p| {
            b.iter(|| {
                let frame = OutFrame::new(OpCode::Text, p);
                for _ in 0..RECIPIENTS {
                    out.clear();
                    let sent = frame
                        .clone()
                        .write_to(&mut out, Some((&mut deflater, THRESHOLD)));
                    black_box(sent);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, broadcast);
criterion_main!(benches);
