//! A quiet client whose offset was trimmed out of the stream still recovers on another node.
//!
//! The stream is kept short (`--redis-stream-max-len 10`, Redis `stream-node-max-entries 5`,
//! so `MAXLEN ~` trims in steps of 5), and 60 entries for a room nobody on node A is in go by
//! after the client's last event: its offset is no longer in the stream, so the reference's
//! rule (replay after the client's offset, if it still exists) gives a fresh session. ringcast
//! saves with each session where its core is in the stream (the mark, sent to every core after
//! every entry it covers), and restores from there when the client holds the last offset
//! queued to it. SIGTERM: the drain saves the session with the mark. SIGKILL: the copy saved
//! while the socket lived is refreshed once the stream has moved half its length (on the
//! session's timer, every 500 ms ping interval here).

use ringcast_test_support::recovery::{numbered, subscribed_through};
use ringcast_test_support::{Metrics, Proxy, RedisServer, unique, wait_until};

use crate::ringcast_streams_recovery::{Moved, publish_n, streams_node_with};

const ENTRIES_READ: &str = "ringcast_redis_stream_entries_read_total";
const KEPT: &str = "ringcast_recovery_sessions_kept_total";

#[test]
fn a_quiet_client_whose_offset_was_trimmed_recovers_on_another_node() {
    // (case, the signal that ends node A)
    let cases = [("SIGTERM", libc::SIGTERM), ("SIGKILL", libc::SIGKILL)];
    for (case, signal) in cases {
        let redis = RedisServer::start();
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("stream-node-max-entries")
            .arg(5)
            .query(&mut redis.connection())
            .expect("CONFIG SET");
        let flags = [
            "--redis-stream-max-len",
            "10",
            "--ping-interval-ms",
            "500",
            "--ping-timeout-ms",
            "5000",
        ];
        let mut a = streams_node_with(&redis, &flags);
        let b = streams_node_with(&redis, &flags);
        let proxy = Proxy::start(a.addr);
        let (mut client, room, id) = subscribed_through(&a, &proxy, "trimmed");
        publish_n(&b, &room, 0);
        let args = client.expect_event("s", "task:updated");
        let (n, offset) = numbered(&client, &args);
        assert_eq!(n, 0, "{case}");

        // Quiet while the stream moves on: entries for a room nobody on A is in.
        let read = |s| Metrics::scrape(s).or_zero(ENTRIES_READ);
        let read_before = read(&a);
        let other = format!("task:{}", unique("elsewhere"));
        for n in 0..60 {
            publish_n(&b, &other, n);
        }
        let kept_then = Metrics::scrape(&a).or_zero(KEPT);
        wait_until(
            "node A read the 60 entries",
            || read(&a) >= read_before + 60.0,
            || a.context(),
        );
        let kept_after_read = Metrics::scrape(&a).or_zero(KEPT);
        wait_until(
            "node A saved the live session again after reading them",
            || Metrics::scrape(&a).or_zero(KEPT) > kept_after_read.max(kept_then),
            || a.context(),
        );
        let still: redis::Value = redis::cmd("XRANGE")
            .arg("socket.io")
            .arg(&offset)
            .arg(&offset)
            .query(&mut redis.connection())
            .expect("XRANGE");
        assert_eq!(
            still,
            redis::Value::Array(vec![]),
            "{case}: the client's offset {offset} must be trimmed for this test to mean anything"
        );

        let moved = Moved {
            proxy: &proxy,
            room: &room,
            id: &id,
            case,
        };
        moved.end_a_and_recover_on_b(&mut a, &b, &mut client, signal);
    }
}
