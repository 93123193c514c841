//! A mixed streams cluster: ringcast nodes and a Node socket.io 4.8 server on
//! `@socket.io/redis-streams-adapter` 0.3.1 with connection state recovery, on one
//! redis-server. A stock client of ringcast node A is moved by the proxy to the Node server when
//! A stops (SIGTERM) and recovers there: the Node adapter finds the session ringcast saved
//! (`sio:session:<pid>`) and the client's offset (an entry ringcast XADDed), and replays the
//! events published meanwhile through ringcast node B, from the same stream.
//!
//! The other direction (a Node server's client recovering on ringcast) is
//! `ringcast_streams_node_mixed_recovery`.

use std::net::SocketAddr;

use ringcast_test_support::recovery::{receive, recovered_at, subscribed_through};
use ringcast_test_support::{Proc, Proxy, RedisServer, redis_js};

use crate::ringcast_streams_recovery::{publish_n, streams_node};

/// The Node socket.io server of a mixed streams cluster (`node-streams-server.js` on
/// `redis`, with `args` after the Redis port), once it printed its ready line, and its address.
pub fn node_streams_server(redis: &RedisServer, args: &[&str]) -> (Proc, SocketAddr) {
    let port = redis.port.to_string();
    let mut all = vec![port.as_str()];
    all.extend_from_slice(args);
    let mut node = Proc::node(&redis_js(), "node-streams-server.js", &all);
    let ready = node.expect("the Node server's ready line", |v| v["ready"] == true);
    let port = ready["port"].as_u64().unwrap_or_default() as u16;
    (node, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn a_ringcast_client_recovers_on_a_node_streams_adapter_server() {
    let redis = RedisServer::start();
    let mut a = streams_node(&redis);
    let b = streams_node(&redis);
    let (mut node, node_addr) = node_streams_server(&redis, &[]);

    let proxy = Proxy::start(a.addr);
    let (mut client, room, id) = subscribed_through(&a, &proxy, "mixed");
    publish_n(&b, &room, 0);
    assert_eq!(receive(&mut client, 1), [0]);

    proxy.block(true);
    a.signal(libc::SIGTERM);
    a.wait_exit(std::time::Duration::from_secs(30), "node A");
    client.expect("the client's disconnect", |v| v["type"] == "disconnect");
    for n in 100..103 {
        publish_n(&b, &room, n);
    }
    recovered_at(&mut client, &proxy, node_addr, &id, String::new);
    let seen = node.expect("the Node server's connection line", |v| {
        v["connection"].is_string()
    });
    assert_eq!(seen["recovered"], true, "{seen}");
    assert_eq!(receive(&mut client, 3), [100, 101, 102]);
    // Its room came along: the next event published through ringcast reaches it on Node.
    publish_n(&b, &room, 200);
    assert_eq!(receive(&mut client, 1), [200]);
}
