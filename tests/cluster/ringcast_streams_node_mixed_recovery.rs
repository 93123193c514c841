//! A mixed streams cluster, the other way round from `ringcast_streams_node_mixed`: a stock
//! socket.io-client of a Node socket.io 4.8 server on `@socket.io/redis-streams-adapter` 0.3.1
//! (`tests/clients/js-redis/node-streams-server.js`, a stock server: `socket.data` stays `{}`)
//! loses its connection (the proxy cuts it: the Node server saves the session, "transport
//! close"), 5 events are published meanwhile, from ringcast's API and from the Node server in
//! turn (one of Node's to the socket's own id), and the proxy sends the client to a ringcast
//! node. It recovers there: the Node socket id, exactly the 5 missed events in order (read back
//! from the stream after the offset the Node server gave it), and its room (the next events,
//! from either side, arrive without a subscribe).

use serde_json::json;

use ringcast_test_support::recovery::{answer, connect_through, receive};
use ringcast_test_support::{
    Client, Lang, Metrics, Proc, Proxy, RedisServer, Server, token, unique,
};

use crate::ringcast_streams_node_mixed::node_streams_server;
use crate::ringcast_streams_recovery::{publish_n, streams_node};

/// Who publishes event number `n`: ringcast's HTTP API or the Node server's `io.to(room).emit`.
#[derive(Debug, Clone, Copy)]
enum Source {
    Ringcast,
    Node,
}

fn publish(from: Source, ringcast: &Server, node: &mut Proc, room: &str, n: u64) {
    match from {
        Source::Ringcast => publish_n(ringcast, room, n),
        Source::Node => node_emit(node, room, n),
    }
}

/// `task:updated` number `n` to `room` from the Node server, in ringcast's publish shape;
/// returns once Redis answered the XADD.
pub fn node_emit(node: &mut Proc, room: &str, n: u64) {
    node.send(&json!({"op": "emit", "room": room, "event": "task:updated",
                      "args": [{"task_id": room, "update": {"n": n}}]}));
    let done = node.expect("the Node server's emit", |v| v["op"] == "emit");
    assert!(done.get("error").is_none(), "{done}");
}

#[test]
fn a_node_streams_adapter_client_recovers_on_ringcast() {
    let redis = RedisServer::start();
    let ringcast = streams_node(&redis);
    let (mut node, node_addr) = node_streams_server(&redis, &[]);
    let proxy = Proxy::start(node_addr);

    let mut client = Client::spawn(Lang::Js, &ringcast);
    let room = format!("task:{}", unique("node-recovers"));
    let id = connect_through(
        &mut client,
        &ringcast,
        &proxy,
        json!({"token": token::good()}),
        &room,
    );
    let first = node.expect("the Node server's connection line", |v| {
        v["connection"].is_string()
    });
    assert_eq!(first["connection"], id.as_str(), "{first}");
    // Through the stream: the client now holds an offset the Node server gave (an entry id).
    publish_n(&ringcast, &room, 0);
    assert_eq!(receive(&mut client, 1), [0]);

    proxy.block(true);
    proxy.sever();
    client.expect("the client's disconnect", |v| v["type"] == "disconnect");
    // The Node server saved the session (`persistSession` runs before its `disconnect`).
    let gone = node.expect("the Node server's disconnect line", |v| {
        v["disconnect"] == id.as_str()
    });
    assert_eq!(gone["reason"], "transport close", "{gone}");
    // (n, publisher, to the room or to the socket's own id, as Node's `io.to(id).emit`)
    let away = [
        (100, Source::Ringcast, room.as_str()),
        (101, Source::Node, room.as_str()),
        (102, Source::Ringcast, room.as_str()),
        (103, Source::Node, id.as_str()),
        (104, Source::Ringcast, room.as_str()),
    ];
    for (n, from, to) in away {
        publish(from, &ringcast, &mut node, to, n);
    }
    proxy.set_upstream(ringcast.addr);
    proxy.block(false);

    let back = answer(&mut client, "the client back on ringcast");
    assert_eq!(back["recovered"], true, "{back}\n{}", ringcast.context());
    assert_eq!(back["id"], id.as_str(), "the Node server's socket id");
    assert_eq!(
        receive(&mut client, 5),
        [100, 101, 102, 103, 104],
        "exactly the missed events, in order"
    );
    // Its room is back without a subscribe, for either publisher, its Node id still names it
    // (the socket lives on a core its id does not name), and nothing comes twice.
    let after = [
        (200, Source::Ringcast, room.as_str()),
        (201, Source::Node, room.as_str()),
        (202, Source::Node, id.as_str()),
    ];
    for (n, from, to) in after {
        publish(from, &ringcast, &mut node, to, n);
        assert_eq!(receive(&mut client, 1), [n], "{from:?} to {to}");
    }
    assert_eq!(
        Metrics::scrape(&ringcast).or_zero("ringcast_recovery_sessions_restored_total"),
        1.0
    );
}
