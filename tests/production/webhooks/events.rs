//! connect, subscribe, unsubscribe and disconnect (with its reason) reach the receiver as
//! signed JSON with every documented field.

use serde_json::json;

use ringcast_test_support::{Answer, WebhookSink, unique};

use super::{HOOK_SECRET, clients, connect, gateway_to, is};

#[test]
fn socket_lifecycle_events_arrive_signed_with_their_fields() {
    let sink = WebhookSink::start(HOOK_SECRET, Answer::Ok);
    let server = gateway_to(&sink, &["--webhook-batch-ms", "10"]);
    let mut c = clients(&server);
    let sub = unique("hook-user");
    connect(&mut c, &server, "a", &sub);
    let room = format!("task:{}", unique("hook-task"));
    for (event, reply) in [("subscribe", "subscribed"), ("unsubscribe", "unsubscribed")] {
        c.send(&json!({"cmd": "emit", "sock": "a", "event": event, "args": [{"room": room}]}));
        c.expect(reply, |v| v["event"] == reply);
    }
    c.send(&json!({"cmd": "disconnect", "sock": "a"}));

    let connected = sink.wait_event("connect", |e| is(e, "connect", &sub));
    let subscribed = sink.wait_event("subscribe", |e| is(e, "subscribe", &sub));
    let unsubscribed = sink.wait_event("unsubscribe", |e| is(e, "unsubscribe", &sub));
    let gone = sink.wait_event("disconnect", |e| is(e, "disconnect", &sub));

    let sid = connected["sid"]
        .as_str()
        .expect("sid is a string")
        .to_owned();
    let node = connected["node"]
        .as_str()
        .expect("node is a string")
        .to_owned();
    assert_eq!(connected["recovered"], false);
    for e in [&connected, &subscribed, &unsubscribed, &gone] {
        assert_eq!(e["sid"], sid.as_str(), "{e}");
        assert_eq!(e["nsp"], "/", "{e}");
        assert_eq!(e["node"], node.as_str(), "{e}");
        let at = e["at"].as_str().expect("at");
        // RFC 3339 UTC with milliseconds: 2026-12-04T14:00:00.123Z
        assert_eq!((at.len(), &at[10..11], &at[23..]), (24, "T", "Z"), "{e}");
    }
    assert_eq!(subscribed["room"], room.as_str());
    assert_eq!(unsubscribed["room"], room.as_str());
    // socket.disconnect() on the client: Socket.IO's reason for a client-sent DISCONNECT.
    assert_eq!(gone["reason"], "client namespace disconnect");
    let mut ids: Vec<String> = [&connected, &subscribed, &unsubscribed, &gone]
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 4, "unique ids: {ids:?}");

    let hooks = sink.hooks();
    assert!(!hooks.is_empty());
    for h in &hooks {
        assert!(h.signature_ok, "signature must verify: {h:?}");
        assert_eq!(
            h.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        let ts: u64 = h.headers["x-ringcast-timestamp"]
            .parse()
            .expect("unix seconds");
        let now = ringcast_test_support::token::now_secs();
        assert!(
            ts <= now && now - ts < 600,
            "timestamp {ts} is now-ish ({now})"
        );
    }
}
