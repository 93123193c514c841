//! Webhooks from two ringcast nodes on one redis-server to one receiver: each node reports its
//! own sockets (with its own `node` id), once; Redis carries no socket's events to the other
//! node's webhook.

use ringcast_test_support::{
    Answer, Client, Connect, Lang, RedisServer, WebhookSink, token, unique,
};
use serde_json::Value;

use crate::ringcast::{node_with, wait_ready};

/// 32 bytes or more.
const HOOK_SECRET: &str = "ringcast-test-webhook-secret-0123456789";

#[test]
fn each_node_reports_its_own_sockets_with_its_node_id() {
    let redis = RedisServer::start();
    let sink = WebhookSink::start(HOOK_SECRET, Answer::Ok);
    let redis_url = format!("redis://127.0.0.1:{}/", redis.port);
    let url = sink.url();
    let args = [
        "--redis-url",
        &redis_url,
        "--webhook-url",
        &url,
        "--webhook-secret",
        HOOK_SECRET,
        "--webhook-batch-ms",
        "10",
        "--webhook-events",
        "connect,disconnect",
    ];
    let (a, b) = (node_with(&args), node_with(&args));
    wait_ready(&a);
    wait_ready(&b);

    let mut sids = Vec::new();
    let mut clients = Vec::new();
    for (server, sock) in [(&a, "on-a"), (&b, "on-b")] {
        let sub = unique(sock);
        let mut client = Client::spawn(Lang::Js, server);
        let line = client.connected(sock, &Connect::to(server).token(Some(token::valid(&sub))));
        let sid = line["id"]
            .as_str()
            .expect("the client's socket id")
            .to_owned();
        client.send(&serde_json::json!({"cmd": "disconnect", "sock": sock}));
        sids.push((sid, sub));
        clients.push(client);
    }
    let mut nodes = Vec::new();
    for (sid, sub) in &sids {
        let of =
            |kind: &'static str| move |e: &Value| e["type"] == kind && e["sid"] == sid.as_str();
        let connected = sink.wait_event(&format!("{sid}'s connect"), of("connect"));
        let gone = sink.wait_event(&format!("{sid}'s disconnect"), of("disconnect"));
        assert_eq!(connected["sub"], sub.as_str());
        assert_eq!(
            gone["node"], connected["node"],
            "the same node reports both"
        );
        nodes.push(connected["node"].as_str().expect("node").to_owned());
    }
    assert_ne!(nodes[0], nodes[1], "each node has its own id");
    // Every event has arrived (both disconnects, each after its connect): none came twice.
    let delivered = sink.delivered();
    for (sid, _) in &sids {
        let n = delivered
            .iter()
            .filter(|e| e["sid"] == sid.as_str())
            .count();
        assert_eq!(
            n, 2,
            "{sid}: one connect and one disconnect, by one node: {delivered:?}"
        );
    }
    assert!(sink.hooks().iter().all(|h| h.signature_ok));
}
