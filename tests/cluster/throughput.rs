//! A burst through real Redis: every message published while the bridge is connected arrives,
//! once and in order (pub/sub is at-most-once only across disconnections). Prints the rate as a
//! measurement; asserts nothing about time.

use std::time::Instant;

use ringcast_test_support::{RedisServer, wait_until};

use crate::recording_node::{RecordingNode, connected_bridge, emitter_tick, stats};

#[test]
fn a_burst_arrives_complete_and_in_order() {
    const N: u64 = 20_000;
    let redis = RedisServer::start();
    let node = RecordingNode::with_rooms(&["agent:7"]);
    let bridge = connected_bridge(&redis, node.clone());
    let mut con = redis.connection();
    let started = Instant::now();
    // Half for a local room, half for a room nobody here is in (dropped before decoding).
    for chunk in 0..(N / 500) {
        let mut pipe = redis::pipe();
        for i in 0..500 {
            let seq = chunk * 500 + i;
            let room = if seq % 2 == 0 { "agent:7" } else { "task:404" };
            pipe.cmd("PUBLISH")
                .arg(format!("socket.io#/#{room}#"))
                .arg(emitter_tick(room, seq))
                .ignore();
        }
        pipe.query::<()>(&mut con).expect("publish burst");
    }
    wait_until(
        "the whole burst",
        || node.delivered.lock().expect("lock").len() as u64 == N / 2,
        || stats(&bridge),
    );
    let elapsed = started.elapsed();
    let seqs = node.delivered_ticks();
    assert_eq!(seqs, (0..N).step_by(2).collect::<Vec<_>>());
    let s = bridge.stats().snapshot();
    assert_eq!(
        (s.skipped, s.delivered, s.decode_errors),
        (N / 2, N / 2, 0),
        "{s:?}"
    );
    eprintln!(
        "burst: {N} messages ({} delivered, {} skipped undecoded) in {elapsed:?}: {:.0} msg/s through redis-server",
        N / 2,
        N / 2,
        N as f64 / elapsed.as_secs_f64()
    );
    bridge.shutdown();
}
