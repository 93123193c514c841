//! HTTP and WebSocket codec micro-benchmarks, with tungstenite's frame codec as the reference.
//!
//! Run: `cargo bench --bench codec_http_ws -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::io::{Cursor, Read, Write};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringcast_codec::http::{self, Limits};
use ringcast_codec::ws::{
    self, Assembler, AssemblerConfig, FrameHeader, MAX_HEADER, OpCode, OutFrame, mask,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// What Chrome sends to open a Socket.IO WebSocket (about 500 bytes).
const UPGRADE_HEAD: &[u8] = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n\
Host: localhost:3000\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:3000\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

/// A masked client frame carrying `payload`.
fn client_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: Some(KEY),
        payload_len: payload.len() as u64,
    };
    let mut head = [0; MAX_HEADER];
    let n = header.encode(&mut head);
    let mut frame = head[..n].to_vec();
    frame.extend_from_slice(payload);
    mask::apply_scalar(&mut frame[n..], KEY, 0);
    frame
}

/// A typical Socket.IO event as a client sends it: 200 bytes of JSON text.
fn event_200() -> Vec<u8> {
    let mut text = br#"42["message",{"room":"news","text":""#.to_vec();
    text.resize(200 - 3, b'x');
    text.extend_from_slice(br#""}]"#);
    text
}

fn frame_header(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_header_decode");
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "7-bit masked",
            client_frame(OpCode::Text, &[0; 100])[..6].to_vec(),
        ),
        (
            "16-bit masked",
            client_frame(OpCode::Text, &[0; 200])[..8].to_vec(),
        ),
        (
            "64-bit masked",
            client_frame(OpCode::Binary, &vec![0; 70_000])[..14].to_vec(),
        ),
    ];
    for (name, bytes) in &cases {
        group.bench_with_input(BenchmarkId::new("ringcast", name), bytes, |b, bytes| {
            b.iter(|| FrameHeader::decode(black_box(bytes)))
        });
        group.bench_with_input(BenchmarkId::new("tungstenite", name), bytes, |b, bytes| {
            b.iter(|| {
                tungstenite::protocol::frame::FrameHeader::parse(&mut Cursor::new(black_box(bytes)))
                    .ok()
            })
        });
    }
    group.finish();
}

fn unmask(c: &mut Criterion) {
    let mut group = c.benchmark_group("unmask");
    for size in [16usize, 256, 4096, 65_536] {
        let mut buf = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("fast", size), |b| {
            b.iter(|| mask::apply(black_box(&mut buf), KEY, 1))
        });
        group.bench_function(BenchmarkId::new("portable", size), |b| {
            b.iter(|| mask::apply_portable(black_box(&mut buf), KEY, 1))
        });
        group.bench_function(BenchmarkId::new("scalar", size), |b| {
            b.iter(|| mask::apply_scalar(black_box(&mut buf), KEY, 1))
        });
    }
    group.finish();
}

/// An endless stream of the same frame, for tungstenite, which reads from `Read` into its
/// own buffer (the copy that plays the part of the server's socket read).
struct Repeat {
    frame: Vec<u8>,
    pos: usize,
}

impl Read for Repeat {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            let chunk = &self.frame[self.pos..];
            let k = chunk.len().min(out.len() - n);
            out[n..n + k].copy_from_slice(&chunk[..k]);
            n += k;
            self.pos = (self.pos + k) % self.frame.len();
        }
        Ok(n)
    }
}

impl Write for Repeat {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Frame in, message out: header, unmask, UTF-8 for text, on a connection in steady state.
/// ringcast decodes in place, so each iteration gets a fresh copy of the masked frame (made
/// outside the timed part); tungstenite pulls from an endless stream of the frame.
fn assemble(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_frame_to_message");
    let text = client_frame(OpCode::Text, &event_200());
    let binary_4k = client_frame(OpCode::Binary, &vec![0xab; 4096]);
    let binary_64k = client_frame(OpCode::Binary, &vec![0xab; 65_536]);
    for (name, frame, payload) in [
        ("text 200 B", &text, 200u64),
        ("binary 4 KiB", &binary_4k, 4096),
        ("binary 64 KiB", &binary_64k, 65_536),
    ] {
        group.throughput(Throughput::Bytes(payload));
        group.bench_function(BenchmarkId::new("ringcast Assembler::decode", name), |b| {
            let mut asm = Assembler::new(AssemblerConfig::default());
            b.iter_batched_ref(
                || frame.clone(),
                |input| {
                    let (n, message) = asm.decode(input).expect("valid frame");
                    black_box((n, message.is_some()))
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(
            BenchmarkId::new("tungstenite FrameSocket::read", name),
            |b| {
                let stream = Repeat {
                    frame: frame.clone(),
                    pos: 0,
                };
                let mut socket = tungstenite::protocol::frame::FrameSocket::new(stream);
                b.iter(|| black_box(socket.read(None).expect("valid frame").map(|f| f.len())))
            },
        );
        group.bench_function(BenchmarkId::new("tungstenite WebSocket::read", name), |b| {
            let stream = Repeat {
                frame: frame.clone(),
                pos: 0,
            };
            let mut socket = tungstenite::WebSocket::from_raw_socket(
                stream,
                tungstenite::protocol::Role::Server,
                None,
            );
            b.iter(|| black_box(socket.read().expect("valid message").len()))
        });
    }
    group.finish();
}

fn server_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_server_frame");
    let text = event_200();
    group.bench_function("OutFrame::new 200 B", |b| {
        b.iter(|| OutFrame::new(OpCode::Text, black_box(&text)))
    });
    group.bench_function("FrameBuf::finish 200 B", |b| {
        b.iter(|| {
            let mut fb = ws::FrameBuf::with_capacity(200);
            ringcast_codec::Sink::put(&mut fb, black_box(&text));
            fb.finish(OpCode::Text)
        })
    });
    group.finish();
}

fn http_upgrade(c: &mut Criterion) {
    let mut group = c.benchmark_group("http_upgrade");
    group.throughput(Throughput::Bytes(UPGRADE_HEAD.len() as u64));
    let limits = Limits::default();
    group.bench_function("parse_request", |b| {
        b.iter(|| http::parse_request(black_box(UPGRADE_HEAD), &limits))
    });
    let req = match http::parse_request(UPGRADE_HEAD, &limits) {
        Ok(ringcast_codec::Status::Complete(req)) => req,
        other => panic!("bench head does not parse: {other:?}"),
    };
    group.bench_function("validate_websocket_upgrade (SHA-1)", |b| {
        b.iter(|| http::validate_websocket_upgrade(black_box(&req)))
    });
    group.bench_function("write_switching_protocols", |b| {
        let accept = http::websocket_accept(b"dGhlIHNhbXBsZSBub25jZQ==");
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            out.clear();
            http::write_switching_protocols(&mut out, black_box(&accept));
            out.len()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    frame_header,
    unmask,
    assemble,
    server_frames,
    http_upgrade
);
criterion_main!(benches);
