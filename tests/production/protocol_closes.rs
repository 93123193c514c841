//! A malformed Socket.IO packet closes the session with a WebSocket close code that says why
//! (1002 protocol error, 1007 invalid payload data, 1008 policy), after the Engine.IO close
//! packet `1`, and `/metrics` counts each close under its reason.

use std::time::Instant;

use ringcast_test_support::raw::{self, Next, OP_CLOSE, OP_TEXT, SOON};
use ringcast_test_support::{Metrics, token};

use crate::gateway;

/// (what the client sends after connecting, the close code, the `reason` label it counts under)
fn cases() -> Vec<(String, u16, &'static str)> {
    vec![
        // An ack id past u64: the packet's framing.
        (
            r#"4299999999999999999999["heartbeat",{}]"#.into(),
            1002,
            "protocol_error",
        ),
        // CONNECT_ERROR only goes from server to client.
        (r#"44{"message":"x"}"#.into(), 1002, "protocol_error"),
        // The data is not the shape an EVENT requires.
        (r#"42{"event":"subscribe"}"#.into(), 1007, "invalid_payload"),
        // A reserved event name (socket.io-parser: "invalid payload").
        (r#"42["disconnect"]"#.into(), 1007, "invalid_payload"),
        // Valid JSON past the nesting limit (32).
        (
            format!(r#"42["heartbeat",{}{}]"#, "[".repeat(40), "]".repeat(40)),
            1008,
            "policy_violation",
        ),
    ]
}

#[test]
fn malformed_packets_close_with_a_code_that_says_why_and_are_counted() {
    let server = gateway().start();
    let cases = cases();
    for (packet, code, _) in &cases {
        let mut eio =
            raw::sio_client(server.addr, &token::good()).unwrap_or_else(|e| server.fail(&e));
        eio.ws.send_text(packet).unwrap_or_else(|e| server.fail(&e));
        let (saw_eio_close, got) = read_to_close(&mut eio.ws);
        assert_eq!(got, Some(*code), "close code for {packet}");
        assert!(
            saw_eio_close,
            "no Engine.IO close packet before the close for {packet}"
        );
    }
    let m = Metrics::scrape(&server);
    for reason in ["protocol_error", "invalid_payload", "policy_violation"] {
        let want = cases.iter().filter(|(_, _, r)| *r == reason).count() as f64;
        let key = format!("ringcast_protocol_error_closes_total{{reason=\"{reason}\"}}");
        assert_eq!(m.value(&key), Some(want), "{key}\n{}", m.text());
    }
    assert_eq!(
        m.value("ringcast_protocol_errors_total"),
        Some(cases.len() as f64),
        "{}",
        m.text()
    );
}

/// Reads until the close frame: whether `1` came first, and the close code.
fn read_to_close(ws: &mut raw::Ws) -> (bool, Option<u16>) {
    let deadline = Instant::now() + SOON;
    let mut saw_eio_close = false;
    loop {
        match ws.next(deadline) {
            Next::Frame(f) if f.opcode == OP_CLOSE => return (saw_eio_close, f.close_code()),
            Next::Frame(f) if f.opcode == OP_TEXT && f.payload == b"1" => saw_eio_close = true,
            Next::Frame(_) => {}
            other => panic!("before any close frame: {}", raw::describe(&other)),
        }
    }
}
