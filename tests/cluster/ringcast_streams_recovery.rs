//! Streams mode (`--cluster-mode streams --recovery true`): two ringcast nodes on one
//! redis-server behind a TCP proxy acting as the load balancer. A stock socket.io-client on
//! node A loses A (SIGTERM: the drain saves its session; SIGKILL: nothing runs, the session
//! saved while it lived is what B finds), the proxy sends it to node B, and it recovers there
//! with its socket id, its rooms and exactly the events published meanwhile through B; also
//! when it had received no event before (no offset to send).

use serde_json::json;

use ringcast_test_support::recovery::{receive, recovered_at, subscribed_through};
use ringcast_test_support::{Client, Metrics, Proxy, RedisServer, Server, wait_until};

use crate::ringcast::{node_with, wait_ready};

/// A ready streams-mode node with recovery on.
pub fn streams_node(redis: &RedisServer) -> Server {
    streams_node_with(redis, &[])
}

/// A ready streams-mode node with recovery on and `extra` flags.
pub fn streams_node_with(redis: &RedisServer, extra: &[&str]) -> Server {
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let mut args = vec![
        "--redis-url",
        &url,
        "--cluster-mode",
        "streams",
        "--recovery",
        "true",
    ];
    args.extend_from_slice(extra);
    let node = node_with(&args);
    wait_ready(&node);
    node
}

/// Publishes `task:updated` number `n` to `room` through `server`; asserts 200.
pub fn publish_n(server: &Server, room: &str, n: u64) {
    server.publish_ok(&json!({"event": "task:updated", "rooms": [room],
                              "data": {"task_id": room, "update": {"n": n}}}));
}

/// A client of node A, kept off by `proxy`, that moves to node B.
pub struct Moved<'a> {
    pub proxy: &'a Proxy,
    pub room: &'a str,
    pub id: &'a str,
    pub case: &'a str,
}

impl Moved<'_> {
    /// Ends node A with `signal` while the proxy keeps the client off, publishes events
    /// 100–104 to the room through B and lets the client in to B: it recovers there with its
    /// socket id and exactly those 5, in order; its room is back without a subscribe, and
    /// nothing is replayed twice (event 200 is the next one).
    pub fn end_a_and_recover_on_b(
        &self,
        a: &mut Server,
        b: &Server,
        client: &mut Client,
        signal: i32,
    ) {
        let case = self.case;
        self.proxy.block(true);
        a.signal(signal);
        a.wait_exit(std::time::Duration::from_secs(30), "node A");
        client.expect("the client's disconnect", |v| v["type"] == "disconnect");
        for n in 100..105 {
            publish_n(b, self.room, n);
        }
        recovered_at(client, self.proxy, b.addr, self.id, || {
            format!("{case}\n{}", b.context())
        });
        assert_eq!(
            receive(client, 5),
            [100, 101, 102, 103, 104],
            "{case}: exactly the missed events, in order"
        );
        publish_n(b, self.room, 200);
        assert_eq!(receive(client, 1), [200], "{case}");
    }
}

#[test]
fn a_client_of_a_stopped_or_killed_node_recovers_on_another_with_every_missed_event() {
    // (case, the signal that ends node A, whether the client received a broadcast (and so
    // holds an offset) before A goes). Without one it still recovers: the session A saved says
    // where A's stream reader was when the socket connected (beyond the reference, which needs
    // an offset).
    let cases = [
        ("SIGTERM", libc::SIGTERM, true),
        ("SIGKILL", libc::SIGKILL, true),
        ("SIGTERM, no event received", libc::SIGTERM, false),
        ("SIGKILL, no event received", libc::SIGKILL, false),
    ];
    for (case, signal, holds_offset) in cases {
        let redis = RedisServer::start();
        let mut a = streams_node(&redis);
        let b = streams_node(&redis);
        // An entry for nobody, read by A before the client connects: the stream is not empty
        // (an empty one gives no starting point).
        publish_n(&b, "task:warm-up", 0);
        wait_until(
            "node A read the warm-up entry",
            || Metrics::scrape(&a).or_zero("ringcast_redis_stream_entries_read_total") >= 1.0,
            || a.context(),
        );
        let proxy = Proxy::start(a.addr);
        let (mut client, room, id) = subscribed_through(&a, &proxy, "streams");
        if holds_offset {
            // Through B and the stream: the client now holds an offset (an entry id).
            publish_n(&b, &room, 0);
            assert_eq!(receive(&mut client, 1), [0], "{case}");
        }

        let moved = Moved {
            proxy: &proxy,
            room: &room,
            id: &id,
            case,
        };
        moved.end_a_and_recover_on_b(&mut a, &b, &mut client, signal);
        assert_eq!(
            Metrics::scrape(&b).or_zero("ringcast_recovery_sessions_restored_total"),
            1.0,
            "{case}"
        );
    }
}
