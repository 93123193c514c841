//! The Engine.IO v3 session (socket.io-client 2.x) on a simulated clock: the reversed
//! heartbeat, v3 polling bodies, the `04` prefix of binary websocket frames, and the upgrade;
//! plus the Socket.IO v4 forms the session pairs with (implicit `/`, query auth, string
//! refusals).
#![allow(clippy::unwrap_used)]

use ringcast_codec::eio::{
    CloseReason, Packet, Protocol, Session, SessionConfig, SessionError, Transport,
};
use ringcast_codec::sio;
use ringcast_codec::ws::{OpCode, OutFrame};

/// The protocol suites' timings: ping interval 300, ping timeout 200.
const CFG: SessionConfig = SessionConfig {
    ping_interval: 300,
    ping_timeout: 200,
    max_payload: 1_000_000,
    max_queued_bytes: 1 << 20,
};

fn text(s: &str) -> OutFrame {
    OutFrame::new(OpCode::Text, s.as_bytes())
}

/// Moves `s` to `to`, firing each deadline at its instant; the close reason, if it closed.
fn advance(s: &mut Session, now: &mut u64, to: u64) -> Option<CloseReason> {
    while let Some(deadline) = s.poll_timeout().filter(|&t| t <= to) {
        assert!(deadline >= *now, "deadline in the past");
        *now = deadline;
        s.handle_timeout(deadline);
    }
    *now = to;
    s.poll_close()
}

fn body(s: &mut Session) -> Option<Vec<u8>> {
    s.poll_payload().map(|b| b.to_vec())
}

#[test]
fn client_pings_and_the_server_answers_pong_without_pinging() {
    for transport in [Transport::Polling, Transport::WebSocket] {
        let mut s = Session::new_v3(CFG, transport, 0, true);
        let mut now = 0;
        assert_eq!(s.protocol(), Protocol::V3 { binary: true });
        // Interval + timeout = 500 ms: no ping from the server before then.
        assert_eq!(s.poll_timeout(), Some(500));
        assert_eq!(advance(&mut s, &mut now, 499), None);
        assert!(s.poll_ws_frame().is_none(), "{transport:?}: no server ping");
        s.handle_packet(Packet::Ping(""), transport, 499).unwrap();
        // The deadline restarts at the client's ping.
        assert_eq!(s.poll_timeout(), Some(999));
        if transport == Transport::WebSocket {
            assert_eq!(&s.poll_ws_frame().unwrap().payload()[..], b"3");
        } else {
            s.handle_poll_request(499).unwrap();
            assert_eq!(body(&mut s).unwrap(), b"1:3");
        }
        assert_eq!(advance(&mut s, &mut now, 998), None);
        assert_eq!(
            advance(&mut s, &mut now, 999),
            Some(CloseReason::PingTimeout)
        );
    }
}

#[test]
fn a_client_pong_is_the_wrong_heartbeat_direction() {
    let mut s = Session::new_v3(CFG, Transport::WebSocket, 0, true);
    assert_eq!(
        s.handle_packet(Packet::Pong(""), Transport::WebSocket, 10),
        Err(SessionError::UnexpectedPacket)
    );
    assert_eq!(s.poll_close(), Some(CloseReason::ParseError));
}

#[test]
fn polling_bodies_are_v3_payloads() {
    // (client supports binary, queued frames, body)
    let bin = || OutFrame::new(OpCode::Binary, &[1, 2, 3]);
    let cases: Vec<(bool, Vec<OutFrame>, Vec<u8>)> = vec![
        (true, vec![text("40")], b"2:40".to_vec()),
        (
            true,
            vec![text("40"), text("42[\"€\"]")],
            "2:407:42[\"€\"]".as_bytes().to_vec(),
        ),
        (false, vec![bin()], b"6:b4AQID".to_vec()),
        (
            true,
            vec![text("451-[\"b\",{\"_placeholder\":true,\"num\":0}]"), bin()],
            [
                &[0u8, 3, 9, 0xff][..],
                b"451-[\"b\",{\"_placeholder\":true,\"num\":0}]",
                &[1, 4, 0xff, 4, 1, 2, 3],
            ]
            .concat(),
        ),
    ];
    for (binary, frames, want) in cases {
        let mut s = Session::new_v3(CFG, Transport::Polling, 0, binary);
        for f in frames {
            s.send(f).unwrap();
        }
        s.handle_poll_request(1).unwrap();
        assert_eq!(body(&mut s).unwrap(), want);
    }
}

#[test]
fn max_payload_splits_bodies_at_record_boundaries() {
    let cfg = SessionConfig {
        max_payload: 11,
        ..CFG
    };
    let mut s = Session::new_v3(cfg, Transport::Polling, 0, true);
    for f in ["4abcd", "4efgh", "4i"] {
        s.send(text(f)).unwrap();
    }
    let mut bodies = Vec::new();
    for t in 1..=3 {
        s.handle_poll_request(t).unwrap();
        bodies.extend(body(&mut s));
    }
    assert_eq!(bodies, [b"5:4abcd".to_vec(), b"5:4efgh2:4i".to_vec()]);
}

#[test]
fn upgrade_probe_then_binary_frames_carry_the_type_byte() {
    let mut s = Session::new_v3(CFG, Transport::Polling, 0, true);
    s.handle_poll_request(1).unwrap();
    s.handle_upgrade_request(2).unwrap();
    s.handle_packet(Packet::Ping("probe"), Transport::WebSocket, 3)
        .unwrap();
    assert_eq!(&s.poll_ws_frame().unwrap().payload()[..], b"3probe");
    // The pending GET is released with a v3 noop.
    assert_eq!(body(&mut s).unwrap(), b"1:6");
    s.handle_packet(Packet::Upgrade, Transport::WebSocket, 4)
        .unwrap();
    assert_eq!(s.transport(), Transport::WebSocket);
    s.send(OutFrame::new(OpCode::Binary, &[7, 8])).unwrap();
    s.send(text("42[\"x\"]")).unwrap();
    let frame = s.poll_ws_frame().unwrap();
    assert_eq!(
        (frame.opcode(), &frame.payload()[..]),
        (OpCode::Binary, &[4u8, 7, 8][..])
    );
    assert_eq!(&s.poll_ws_frame().unwrap().payload()[..], b"42[\"x\"]");
}

#[test]
fn server_close_reaches_the_client_as_a_v3_record() {
    let mut s = Session::new_v3(CFG, Transport::Polling, 0, false);
    s.send(text("41")).unwrap();
    s.close(5);
    s.handle_poll_request(6).unwrap();
    assert_eq!(body(&mut s).unwrap(), b"2:411:1");
}

// ---- Socket.IO v4 on top ----

fn drain(s: &mut sio::Session<&'static str>) -> Vec<sio::Output<&'static str>> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

#[test]
fn v4_connects_the_default_namespace_without_a_connect_packet() {
    let mut s: sio::Session<&str> = sio::Session::new(sio::SessionConfig::default(), 0);
    s.open_v4(Some(r#"{"token":"t"}"#));
    let [sio::Output::Authorize(req)] = &drain(&mut s)[..] else {
        panic!("one Authorize expected");
    };
    assert_eq!(
        (req.nsp.as_str(), req.auth.as_deref()),
        ("/", Some(r#"{"token":"t"}"#))
    );
    let reply = s.handle_authorized(req.id, "sid1").unwrap();
    assert_eq!(&reply.payload()[..], b"40");
    // A CONNECT for another namespace: its query is the auth.
    s.handle_text("0/admin?token=abc&x=%20,");
    let outputs = drain(&mut s);
    let Some(sio::Output::Authorize(req)) = outputs.get(1) else {
        panic!("Authorize expected after Connected: {outputs:?}");
    };
    assert_eq!(
        (req.nsp.as_str(), req.auth.as_deref()),
        ("/admin", Some(r#"{"token":"abc","x":" "}"#))
    );
    let refusal = s.handle_refused(req.id, "Not authorized").unwrap();
    assert_eq!(&refusal.payload()[..], br#"44/admin,"Not authorized""#);
}

#[test]
fn v4_connect_replies_never_carry_a_pid() {
    let mut s: sio::Session<&str> = sio::Session::new(sio::SessionConfig::default(), 0);
    s.open_v4(None);
    assert!(s.is_v4());
    let [sio::Output::Authorize(req)] = &drain(&mut s)[..] else {
        panic!("one Authorize expected");
    };
    let reply = s
        .handle_authorized_recoverable(req.id, "sid1", Some("pid1"))
        .unwrap();
    assert_eq!(&reply.payload()[..], b"40");
}

#[test]
fn v4_refusal_of_the_default_namespace_is_a_json_string() {
    let mut s: sio::Session<&str> = sio::Session::new(sio::SessionConfig::default(), 0);
    s.open_v4(None);
    let [sio::Output::Authorize(req)] = &drain(&mut s)[..] else {
        panic!("one Authorize expected");
    };
    let refusal = s.handle_refused(req.id, "Authentication failed").unwrap();
    assert_eq!(&refusal.payload()[..], br#"44"Authentication failed""#);
}
