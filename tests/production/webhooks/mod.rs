//! Webhooks to a real HTTP receiver ([`WebhookSink`], a TCP server in the test): the events a
//! stock socket.io-client causes, their bodies and signatures, batching, retries after a 500,
//! and queue overflow counted in /metrics. One behaviour per file.

mod batching;
mod events;
mod overflow;
mod retry;

use serde_json::{Value, json};

use ringcast_test_support::{Proc, Server, WebhookSink, token};

use crate::{gateway, node};

/// The secret every webhook test signs with (32 bytes or more).
const HOOK_SECRET: &str = "ringcast-test-webhook-secret-0123456789";

/// A gateway sending webhooks to `sink`, with `extra` settings.
fn gateway_to(sink: &WebhookSink, extra: &[&str]) -> Server {
    gateway()
        .args([
            "--webhook-url",
            &sink.url(),
            "--webhook-secret",
            HOOK_SECRET,
        ])
        .args(extra)
        .start()
}

/// The stock-client driver, ready.
fn clients(server: &Server) -> Proc {
    let mut clients = node("clients.js", &[]);
    clients.watch(server);
    clients.expect("ready", |v| v["type"] == "ready");
    clients
}

/// Connects socket `sock` as user `sub` over WebSocket; returns its socket id as the server
/// named it (the client's `socket.id` is not reported by the driver, so the first webhook
/// event of that user gives it).
fn connect(clients: &mut Proc, server: &Server, sock: &str, sub: &str) {
    clients.send(
        &json!({"cmd": "connect", "sock": sock, "url": server.url(), "path": "/ws/",
                         "token": token::valid(sub), "transports": ["websocket"]}),
    );
    clients.expect(&format!("{sock} connect"), |v| {
        v["type"] == "connect" && v["sock"] == sock
    });
}

/// `type` and `sub` of an event match.
fn is(event: &Value, kind: &str, sub: &str) -> bool {
    event["type"] == kind && event["sub"] == sub
}
