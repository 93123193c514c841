//! The Redis wire paths per message: decoding a room broadcast from Node (the hot inbound path,
//! after the room check), encoding a broadcast for Node, and a python-socketio emit.
//! `cargo bench --bench cluster_wire`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ringcast::Room;
use ringcast::cluster::adapter::{Envelope, encode_broadcast};
use ringcast::cluster::msgpack::Writer;
use ringcast::cluster::python;
use ringcast::cluster::wire::event_frames;
use ringcast::engine::BroadcastOp;

const ARGS: &str = r#"{"agent_id":"123e4567-e89b-12d3-a456-426614174000","old_status":"idle","new_status":"busy","timestamp":1764115200000}"#;

fn op() -> BroadcastOp {
    BroadcastOp {
        nsp: Room::from("/"),
        rooms: vec![Room::from("agent:123e4567-e89b-12d3-a456-426614174000")],
        except: vec![],
        except_rooms: Vec::new(),
        frames: event_frames("/", "agent:status_changed", ARGS, std::iter::empty()),
    }
}

fn bench(c: &mut Criterion) {
    let op = op();
    let mut w = Writer::new();
    encode_broadcast("aB3xY9", &op, &mut w).expect("encodable");
    let payload = w.buf;
    let py = format!(
        r#"{{"method":"emit","event":"agent:status_changed","data":[{ARGS}],"binary":false,"namespace":"/","room":"agent:7","skip_sid":null,"callback":null,"host_id":"0123456789abcdef0123456789abcdef"}}"#
    );

    c.bench_function("adapter_decode_to_frames", |b| {
        b.iter(|| {
            let env = Envelope::parse(black_box(&payload)).expect("valid");
            black_box(env.to_inbound().expect("event"))
        })
    });
    c.bench_function("adapter_encode_from_frames", |b| {
        b.iter(|| {
            let mut w = Writer::new();
            encode_broadcast("aB3xY9", black_box(&op), &mut w).expect("encodable");
            black_box(w.buf)
        })
    });
    c.bench_function("python_decode_to_frames", |b| {
        b.iter(
            || match python::decode(black_box(py.as_bytes())).expect("valid") {
                python::PythonMessage::Emit(e) => black_box(e.to_op()),
                _ => unreachable!("an emit"),
            },
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
