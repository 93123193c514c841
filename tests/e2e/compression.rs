//! permessage-deflate with a real client: socket.io-client 4.8 in Node offers it by default
//! (engine.io-client passes `perMessageDeflate: {threshold: 1024}` to `ws`, which offers
//! `permessage-deflate; client_max_window_bits`). With `--ws-compression true` a broadcast of
//! ~4.4 KB reaches 20 such sockets intact and compressed, and the compressor ran once for all of
//! them (the metrics say so); a client event over 1 KiB, which `ws` sends compressed, is
//! inflated and answered. With compression off (the default) the same clients get plain frames.

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, Metrics, Server};

use crate::gateway;

/// Sockets in the one driver process; a broadcast to `dashboard` reaches each.
const SOCKETS: usize = 20;

/// `(name, server flags, compressed frames per recipient expected)`.
const CASES: [(&str, &[&str], f64); 2] = [
    ("on", &["--ws-compression", "true"], 1.0),
    ("off (default)", &[], 0.0),
];

#[test]
fn a_broadcast_is_compressed_once_for_every_deflate_client() {
    for (name, flags, per_recipient) in CASES {
        // Two workers: the sockets spread over both cores, which share one compressed frame.
        let server = gateway().workers(2).args(flags.iter().copied()).start();
        let mut client = Client::spawn(Lang::Js, &server);
        for i in 0..SOCKETS {
            client.connected(
                &format!("s{i}"),
                &Connect::to(&server).transports(&["websocket"]),
            );
        }
        // 4.4 KB of compressible text: over the 1 KiB threshold.
        let message: String = (0..400).map(|i| format!("line {i:04}; ")).collect();
        let resp = server.publish(&json!({"event": "system:alert",
            "data": {"message": message, "severity": "info"}}));
        assert_eq!(resp.status, 200, "{name}: {resp:?}\n{}", server.context());
        for i in 0..SOCKETS {
            let got = client.expect_event(&format!("s{i}"), "system:alert");
            if got.first().map(|d| &d["message"]) != Some(&json!(message)) {
                client.fail(&format!("{name}: s{i} got a broken alert: {got:?}"));
            }
        }
        let m = Metrics::scrape(&server);
        let frames = m.or_zero("ringcast_ws_compressed_frames_total");
        let runs = m.or_zero("ringcast_ws_compressions_total");
        assert_eq!(
            (frames, runs),
            (per_recipient * SOCKETS as f64, per_recipient),
            "{name}: compressed frames and compressor runs\n{}",
            m.text()
        );
        if per_recipient > 0.0 {
            assert!(
                m.or_zero("ringcast_ws_compression_saved_bytes_total") > 2000.0 * SOCKETS as f64,
                "{name}: over 2 KB saved per recipient (3.6 KB measured)\n{}",
                m.text()
            );
        }
        client_event_over_the_threshold(&server, &mut client, name);
    }
}

/// A heartbeat with 2 KB of padding: `ws` compresses it (over its 1 KiB threshold) when deflate
/// was negotiated; either way the server reads it and answers.
fn client_event_over_the_threshold(server: &Server, client: &mut Client, name: &str) {
    let pad = "x".repeat(2000);
    client.emit("s0", "heartbeat", json!([{"timestamp": 42, "pad": pad}]));
    let ack = client.expect_event("s0", "heartbeat_ack");
    assert_eq!(
        ack[0]["timestamp"],
        42,
        "{name}: {ack:?}\n{}",
        server.context()
    );
}
