//! The Engine.IO session on a simulated clock: a deterministic harness drives the sans-IO
//! `Session` the way the server does (decode → handle → drain outputs), with time as a number.
#![allow(clippy::unwrap_used)]

use ringcast_codec::eio::{
    self, CloseReason, Input, Packet, Session, SessionConfig, SessionError, Transport,
    UPGRADE_TIMEOUT,
};
use ringcast_codec::ws::{OpCode, OutFrame};

const CFG: SessionConfig = SessionConfig {
    ping_interval: 25_000,
    ping_timeout: 30_000,
    max_payload: 1_000_000,
    max_queued_bytes: 4 << 20,
};

/// A session plus the simulated clock and the client's view of both transports.
struct Sim {
    s: Session,
    now: u64,
}

impl Sim {
    fn polling() -> Sim {
        Sim::with(CFG, Transport::Polling)
    }
    fn websocket() -> Sim {
        Sim::with(CFG, Transport::WebSocket)
    }
    fn with(config: SessionConfig, transport: Transport) -> Sim {
        Sim {
            s: Session::new(config, transport, 0),
            now: 0,
        }
    }

    /// Moves the clock to `to`, firing every deadline on the way exactly when it is due.
    fn advance_to(&mut self, to: u64) {
        while let Some(deadline) = self.s.poll_timeout().filter(|&t| t <= to) {
            assert!(
                deadline >= self.now,
                "deadline {deadline} in the past (now {})",
                self.now
            );
            self.now = deadline;
            self.s.handle_timeout(deadline);
        }
        self.now = to;
    }

    /// A polling GET: `Ok(Some(body))` if answered at once, `Ok(None)` if it waits.
    fn get(&mut self) -> Result<Option<String>, SessionError> {
        self.s.handle_poll_request(self.now)?;
        Ok(self.body())
    }

    /// The pending GET's body if the session answers it now.
    fn body(&mut self) -> Option<String> {
        self.s
            .poll_payload()
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    /// A polling POST: every packet of the body, returning the application messages.
    fn post(&mut self, body: &str) -> Result<Vec<String>, SessionError> {
        self.feed(body, Transport::Polling)
    }

    /// One WebSocket text message.
    fn ws(&mut self, text: &str) -> Result<Vec<String>, SessionError> {
        self.feed(text, Transport::WebSocket)
    }

    fn feed(&mut self, body: &str, from: Transport) -> Result<Vec<String>, SessionError> {
        let mut messages = Vec::new();
        let packets: Vec<_> = match from {
            Transport::Polling => eio::decode_payload(body.as_bytes()).collect(),
            Transport::WebSocket => vec![eio::decode_text(body)],
        };
        for packet in packets {
            let Ok(packet) = packet else {
                self.s.handle_invalid_packet(from, self.now);
                return Err(SessionError::UnexpectedPacket);
            };
            match self.s.handle_packet(packet, from, self.now)? {
                Input::None => {}
                Input::Message(m) => messages.push(m.to_owned()),
                Input::Binary(b) => messages.push(format!("<bin {b:?}>")),
            }
        }
        Ok(messages)
    }

    /// Every frame the websocket writer would send now (close frames as `<close>`).
    fn ws_out(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.s.poll_ws_frame())
            .map(|f| match f.opcode() {
                OpCode::Close => "<close>".to_owned(),
                OpCode::Binary => format!("<bin {:?}>", &f.payload()[..]),
                _ => String::from_utf8(f.payload().to_vec()).unwrap(),
            })
            .collect()
    }

    fn send(&mut self, text: &str) -> Result<(), SessionError> {
        self.s.send(text_frame(text))
    }
}

fn text_frame(text: &str) -> OutFrame {
    OutFrame::new(OpCode::Text, text.as_bytes())
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn pings_on_schedule_and_pong_reschedules() {
    let mut sim = Sim::polling();
    assert_eq!(sim.s.poll_timeout(), Some(25_000));
    assert_eq!(sim.get(), Ok(None), "nothing to send yet: the GET waits");
    sim.advance_to(24_999);
    assert_eq!(sim.body(), None, "no ping before ping_interval");
    sim.advance_to(25_000);
    assert_eq!(
        sim.body(),
        some("2"),
        "the pending GET is answered by the ping"
    );
    assert_eq!(
        sim.s.poll_timeout(),
        Some(55_000),
        "pong due within ping_timeout of the ping"
    );
    sim.advance_to(25_040);
    assert_eq!(sim.post("3"), Ok(vec![]));
    assert_eq!(
        sim.s.poll_timeout(),
        Some(50_040),
        "next ping ping_interval after the pong"
    );
    sim.advance_to(50_040);
    assert_eq!(
        sim.get(),
        Ok(some("2")),
        "a GET with a ping queued is answered at once"
    );
    assert!(!sim.s.is_closed());
}

/// The chained deadlines land at their instants at every setting: the ping at `interval`, the
/// close at `interval + timeout` exactly (a silent client's GET 1 ms before is still served, at
/// the instant it is 400), whatever the two values; the server's timer fires at `poll_timeout`.
#[test]
fn ping_then_pong_deadline_at_their_exact_instants() {
    for (interval, timeout) in [
        (300, 200),
        (1, 1),
        (25_000, 20_000),
        (25_000, 30_000),
        (7, 1_000_003),
    ] {
        let config = SessionConfig {
            ping_interval: interval,
            ping_timeout: timeout,
            ..CFG
        };
        let mut sim = Sim::with(config, Transport::Polling);
        assert_eq!(sim.s.poll_timeout(), Some(interval), "{interval}/{timeout}");
        sim.advance_to(interval);
        assert_eq!(sim.get(), Ok(some("2")), "ping at {interval}");
        let close_at = interval + timeout;
        assert_eq!(sim.s.poll_timeout(), Some(close_at), "{interval}/{timeout}");
        sim.advance_to(close_at - 1);
        assert!(!sim.s.is_closed(), "open 1 ms before {close_at}");
        assert_eq!(sim.get(), Ok(None), "a GET 1 ms before waits");
        sim.advance_to(close_at);
        assert_eq!(sim.s.poll_close(), Some(CloseReason::PingTimeout));
        assert_eq!(sim.get(), Err(SessionError::Closed), "400 at {close_at}");
    }
}

#[test]
fn late_timer_counts_pong_window_from_the_actual_ping() {
    let mut sim = Sim::websocket();
    sim.now = 25_700;
    sim.s.handle_timeout(25_700);
    assert_eq!(sim.ws_out(), ["2"]);
    assert_eq!(sim.s.poll_timeout(), Some(55_700));
}

#[test]
fn early_timeout_call_is_harmless() {
    let mut sim = Sim::websocket();
    sim.s.handle_timeout(10);
    assert_eq!(sim.ws_out(), Vec::<String>::new());
    assert_eq!(sim.s.poll_timeout(), Some(25_000));
}

#[test]
fn ping_timeout_closes_and_answers_pending_get_with_close() {
    let mut sim = Sim::polling();
    sim.advance_to(25_000);
    assert_eq!(sim.get(), Ok(some("2")));
    assert_eq!(sim.get(), Ok(None));
    sim.advance_to(54_999);
    assert!(!sim.s.is_closed());
    sim.advance_to(55_000);
    assert!(sim.s.is_closed());
    assert_eq!(sim.s.poll_close(), Some(CloseReason::PingTimeout));
    assert_eq!(sim.s.poll_close(), None, "reported once");
    assert_eq!(sim.body(), some("1"));
    assert_eq!(sim.s.poll_timeout(), None);
    assert_eq!(
        sim.get(),
        Err(SessionError::Closed),
        "socket.io answers 400 after a ping timeout"
    );
    assert_eq!(sim.post("3"), Err(SessionError::Closed));
}

#[test]
fn ping_timeout_on_websocket_sends_close_packet() {
    let mut sim = Sim::websocket();
    sim.send("4a").unwrap();
    sim.advance_to(25_000);
    assert_eq!(sim.ws_out(), ["4a", "2"]);
    sim.send("4b").unwrap();
    sim.advance_to(55_000);
    assert_eq!(sim.s.poll_close(), Some(CloseReason::PingTimeout));
    assert_eq!(
        sim.ws_out(),
        ["1"],
        "the undelivered message is dropped, the close packet is not"
    );
    assert_eq!(sim.s.queued_bytes(), 0);
}

#[test]
fn pending_get_is_answered_by_a_send() {
    let mut sim = Sim::polling();
    assert_eq!(sim.get(), Ok(None));
    assert!(sim.s.has_pending_poll());
    sim.send(r#"42["subscribed",{"room":"agent:123"}]"#)
        .unwrap();
    assert_eq!(sim.body(), some(r#"42["subscribed",{"room":"agent:123"}]"#));
    assert!(!sim.s.has_pending_poll());
    assert_eq!(sim.body(), None, "a GET is answered once");
}

#[test]
fn queued_packets_are_joined_with_record_separators() {
    let mut sim = Sim::polling();
    sim.send("4a").unwrap();
    sim.send("4b").unwrap();
    sim.s
        .send(OutFrame::new(OpCode::Binary, &[1, 2, 3, 4]))
        .unwrap();
    assert_eq!(sim.get(), Ok(some("4a\x1e4b\x1ebAQIDBA==")));
    assert_eq!(sim.s.queued_bytes(), 0);
}

#[test]
fn single_text_frame_is_sent_without_copy() {
    let mut sim = Sim::polling();
    let frame = text_frame("42[\"x\"]");
    let payload = frame.payload();
    sim.s.send(frame).unwrap();
    sim.s.handle_poll_request(0).unwrap();
    let body = sim.s.poll_payload().unwrap();
    assert_eq!(body, payload);
    assert_eq!(body.as_ptr(), payload.as_ptr(), "same allocation");
}

#[test]
fn max_payload_splits_across_gets() {
    let config = SessionConfig {
        max_payload: 9,
        ..CFG
    };
    let mut sim = Sim::with(config, Transport::Polling);
    for m in ["4aaa", "4bbb", "4ccc", "4dddddddddddd"] {
        sim.send(m).unwrap();
    }
    assert_eq!(
        sim.get(),
        Ok(some("4aaa\x1e4bbb")),
        "9 bytes: two records and a separator"
    );
    assert_eq!(sim.get(), Ok(some("4ccc")));
    assert_eq!(
        sim.get(),
        Ok(some("4dddddddddddd")),
        "an oversized packet still goes, alone"
    );
    assert_eq!(sim.get(), Ok(None));
}

#[test]
fn concurrent_get_closes_the_session() {
    let mut sim = Sim::polling();
    assert_eq!(sim.get(), Ok(None));
    assert_eq!(sim.get(), Err(SessionError::ConcurrentPoll));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ConcurrentPoll));
    assert_eq!(
        sim.body(),
        some("1"),
        "the first GET learns the session is gone"
    );
    assert_eq!(sim.get(), Err(SessionError::Closed));
}

#[test]
fn full_upgrade_sequence() {
    let mut sim = Sim::polling();
    assert_eq!(sim.get(), Ok(None));
    sim.s.handle_upgrade_request(100).unwrap();
    assert!(sim.s.is_upgrading());
    assert_eq!(
        sim.s.poll_timeout(),
        Some(100 + UPGRADE_TIMEOUT),
        "the upgrade deadline comes first"
    );
    assert_eq!(sim.ws("2probe"), Ok(vec![]));
    assert_eq!(sim.ws_out(), ["3probe"]);
    assert_eq!(
        sim.body(),
        some("6"),
        "the pending GET gets a noop so the client pauses polling"
    );
    sim.send("4queued").unwrap();
    assert_eq!(
        sim.ws_out(),
        Vec::<String>::new(),
        "still polling until `5`"
    );
    assert_eq!(sim.ws("5"), Ok(vec![]));
    assert_eq!(sim.s.transport(), Transport::WebSocket);
    assert!(!sim.s.is_upgrading());
    assert_eq!(
        sim.s.poll_timeout(),
        Some(25_000),
        "only the ping deadline is left"
    );
    assert_eq!(
        sim.ws_out(),
        ["4queued"],
        "the queue drains to the websocket"
    );
    assert_eq!(
        sim.get(),
        Err(SessionError::WrongTransport),
        "socket.io: 400 after upgrade"
    );
    assert_eq!(sim.post("4x"), Err(SessionError::WrongTransport));
    assert!(
        !sim.s.is_closed(),
        "a stray polling request does not kill the session"
    );
    assert_eq!(
        sim.ws(r#"42["hello"]"#),
        Ok(vec![r#"2["hello"]"#.to_owned()])
    );
    sim.advance_to(25_000);
    assert_eq!(sim.ws_out(), ["2"], "pings now go over the websocket");
    assert_eq!(
        sim.s.handle_upgrade_request(sim.now),
        Err(SessionError::BadUpgrade)
    );
}

#[test]
fn probe_before_next_get_readies_a_noop() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(0).unwrap();
    sim.ws("2probe").unwrap();
    assert_eq!(sim.get(), Ok(some("6")));
    assert_eq!(
        sim.get(),
        Ok(None),
        "one noop per probe: later GETs wait normally"
    );
}

#[test]
fn get_pending_at_upgrade_gets_noop() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(0).unwrap();
    sim.ws("2probe").unwrap();
    assert_eq!(sim.get(), Ok(some("6")));
    assert_eq!(sim.get(), Ok(None));
    sim.ws("5").unwrap();
    assert_eq!(
        sim.body(),
        some("6"),
        "nothing but a noop ever goes to polling after `5`"
    );
}

#[test]
fn upgrade_timeout_abandons_the_probe() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(1_000).unwrap();
    assert_eq!(sim.s.poll_timeout(), Some(1_000 + UPGRADE_TIMEOUT));
    sim.advance_to(1_000 + UPGRADE_TIMEOUT);
    assert!(!sim.s.is_upgrading());
    assert_eq!(
        sim.ws_out(),
        ["<close>"],
        "the probing websocket is told to close"
    );
    assert_eq!(sim.s.transport(), Transport::Polling);
    assert_eq!(
        sim.s.handle_upgrade_request(sim.now),
        Err(SessionError::BadUpgrade),
        "one attempt per session"
    );
    sim.send("4still-polling").unwrap();
    assert_eq!(sim.get(), Ok(some("4still-polling")));
}

#[test]
fn stray_packet_on_probing_websocket_abandons_the_upgrade_only() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(0).unwrap();
    assert_eq!(sim.ws("4hello"), Err(SessionError::BadUpgrade));
    sim.s.handle_transport_closed(Transport::WebSocket, 0);
    assert_eq!(
        sim.ws_out(),
        Vec::<String>::new(),
        "the close frame is dropped with its websocket"
    );
    assert!(!sim.s.is_closed());
    assert_eq!(sim.post("4x"), Ok(vec!["x".to_owned()]));
    assert_eq!(
        sim.ws("2probe"),
        Err(SessionError::WrongTransport),
        "that websocket is no longer part of the session"
    );
}

#[test]
fn undecodable_message_on_probing_websocket_abandons_the_upgrade_only() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(0).unwrap();
    sim.s.handle_invalid_packet(Transport::WebSocket, 0);
    assert!(!sim.s.is_upgrading());
    assert!(!sim.s.is_closed());
}

#[test]
fn upgrade_without_probe_is_a_protocol_error() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(0).unwrap();
    assert_eq!(sim.ws("5"), Err(SessionError::UnexpectedPacket));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ParseError));
}

#[test]
fn upgrade_packet_on_active_transport_is_a_protocol_error() {
    let mut sim = Sim::polling();
    assert_eq!(sim.post("5"), Err(SessionError::UnexpectedPacket));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ParseError));
}

#[test]
fn websocket_closing_mid_upgrade_keeps_polling() {
    let mut sim = Sim::polling();
    sim.s.handle_upgrade_request(0).unwrap();
    sim.ws("2probe").unwrap();
    sim.s.handle_transport_closed(Transport::WebSocket, 0);
    assert!(!sim.s.is_upgrading());
    assert!(!sim.s.is_closed());
    assert_eq!(
        sim.ws_out(),
        Vec::<String>::new(),
        "no close frame for a websocket that is gone"
    );
}

#[test]
fn upgrade_is_refused_on_websocket_sessions() {
    let mut sim = Sim::websocket();
    assert_eq!(
        sim.s.handle_upgrade_request(0),
        Err(SessionError::BadUpgrade)
    );
    assert_eq!(sim.get(), Err(SessionError::WrongTransport));
    assert!(!sim.s.is_closed());
}

#[test]
fn slow_consumer_closes_at_the_bound() {
    let one = text_frame("4xxxxxxxx").len();
    let config = SessionConfig {
        max_queued_bytes: 3 * one,
        ..CFG
    };
    let mut sim = Sim::with(config, Transport::WebSocket);
    for _ in 0..3 {
        sim.send("4xxxxxxxx").unwrap();
    }
    assert_eq!(sim.s.queued_bytes(), 3 * one);
    assert_eq!(sim.send("4xxxxxxxx"), Err(SessionError::QueueFull));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::SlowConsumer));
    assert!(sim.s.queued_bytes() <= 3 * one);
    assert_eq!(sim.ws_out(), ["1"]);
    assert_eq!(sim.send("4x"), Err(SessionError::Closed));
}

#[test]
fn ping_that_does_not_fit_is_a_slow_consumer() {
    let one = text_frame("4xxxxxxxx").len();
    let config = SessionConfig {
        max_queued_bytes: one + 2,
        ..CFG
    };
    let mut sim = Sim::with(config, Transport::WebSocket);
    sim.send("4xxxxxxxx").unwrap();
    sim.advance_to(25_000);
    assert_eq!(sim.s.poll_close(), Some(CloseReason::SlowConsumer));
}

#[test]
fn client_close_on_polling_answers_pending_get_with_noop() {
    let mut sim = Sim::polling();
    sim.send("4undelivered").unwrap();
    assert_eq!(sim.get(), Ok(some("4undelivered")));
    assert_eq!(sim.get(), Ok(None));
    assert_eq!(sim.post("1"), Ok(vec![]));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ClientClose));
    assert_eq!(
        sim.body(),
        some("6"),
        "engine.io closes a pending poll with a noop"
    );
    assert_eq!(sim.get(), Err(SessionError::Closed));
}

#[test]
fn client_close_on_websocket_outputs_nothing() {
    let mut sim = Sim::websocket();
    sim.send("4a").unwrap();
    assert_eq!(sim.ws("1"), Ok(vec![]));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ClientClose));
    assert_eq!(sim.ws_out(), Vec::<String>::new());
    assert_eq!(sim.ws("4late"), Err(SessionError::Closed));
}

#[test]
fn server_close_drains_queue_then_close_packet() {
    let mut sim = Sim::polling();
    sim.send("4a").unwrap();
    sim.s.close(10);
    assert!(sim.s.is_closed());
    assert_eq!(sim.send("4b"), Err(SessionError::Closed));
    assert_eq!(sim.s.poll_timeout(), None);
    assert_eq!(
        sim.get(),
        Ok(some("4a\x1e1")),
        "the next GET still gets what was queued, then `1`"
    );
    assert_eq!(sim.get(), Err(SessionError::Closed));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ServerClose));
}

#[test]
fn server_close_with_full_queue_keeps_the_close_packet() {
    let one = text_frame("4xxxxxxxx").len();
    let config = SessionConfig {
        max_queued_bytes: 2 * one,
        ..CFG
    };
    let mut sim = Sim::with(config, Transport::WebSocket);
    sim.send("4xxxxxxxx").unwrap();
    sim.send("4xxxxxxxx").unwrap();
    sim.s.close(0);
    assert_eq!(sim.ws_out(), ["1"]);
}

#[test]
fn transport_loss() {
    let mut ws = Sim::websocket();
    ws.s.handle_transport_closed(Transport::WebSocket, 5);
    assert_eq!(ws.s.poll_close(), Some(CloseReason::TransportClose));
    assert_eq!(ws.ws_out(), Vec::<String>::new());

    let mut idle = Sim::polling();
    idle.s.handle_transport_closed(Transport::Polling, 5);
    assert!(!idle.s.is_closed(), "no GET pending: nothing was lost");

    let mut waiting = Sim::polling();
    assert_eq!(waiting.get(), Ok(None));
    waiting.send("4a").unwrap();
    waiting.s.handle_transport_closed(Transport::Polling, 5);
    assert_eq!(waiting.s.poll_close(), Some(CloseReason::TransportClose));
    assert!(!waiting.s.has_pending_poll());
    assert_eq!(
        waiting.s.queued_bytes(),
        0,
        "nobody is left to deliver it to"
    );
    assert_eq!(waiting.get(), Err(SessionError::Closed));
}

#[test]
fn client_ping_gets_pong_with_same_data() {
    let mut sim = Sim::websocket();
    sim.ws("2").unwrap();
    sim.ws("2hello").unwrap();
    assert_eq!(sim.ws_out(), ["3", "3hello"]);
}

#[test]
fn unsolicited_pong_is_ignored() {
    let mut sim = Sim::websocket();
    sim.now = 1_000;
    sim.ws("3").unwrap();
    assert_eq!(
        sim.s.poll_timeout(),
        Some(25_000),
        "the ping schedule is not pushed back"
    );
}

#[test]
fn open_from_client_is_a_protocol_error() {
    let mut sim = Sim::websocket();
    assert_eq!(sim.ws("0{}"), Err(SessionError::UnexpectedPacket));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ParseError));
    assert_eq!(sim.ws_out(), ["1"]);
}

#[test]
fn undecodable_packet_closes_with_parse_error() {
    let mut sim = Sim::polling();
    assert_eq!(sim.get(), Ok(None));
    assert_eq!(sim.post("4ok\x1e9bad"), Err(SessionError::UnexpectedPacket));
    assert_eq!(sim.s.poll_close(), Some(CloseReason::ParseError));
    assert_eq!(sim.body(), some("1"));
}

#[test]
fn messages_and_binary_reach_the_application() {
    let mut sim = Sim::polling();
    assert_eq!(
        sim.post("4hello\x1ebAQID\x1e6"),
        Ok(vec!["hello".to_owned(), "<bin [1, 2, 3]>".to_owned()])
    );
    let mut ws = Sim::websocket();
    assert_eq!(
        ws.s.handle_packet(Packet::Binary(vec![9].into()), Transport::WebSocket, 0),
        Ok(Input::Binary(vec![9].into()))
    );
}

#[test]
fn zero_intervals_are_raised_to_one_ms() {
    let config = SessionConfig {
        ping_interval: 0,
        ping_timeout: 0,
        ..CFG
    };
    let mut sim = Sim::with(config, Transport::WebSocket);
    assert_eq!(sim.s.config().ping_interval, 1);
    assert_eq!(sim.s.poll_timeout(), Some(1));
    sim.advance_to(1);
    assert_eq!(
        sim.s.poll_timeout(),
        Some(2),
        "a deadline is always in the future after handling"
    );
}

#[test]
fn trim_frees_an_empty_queue_and_keeps_a_busy_one() {
    let mut sim = Sim::websocket();
    sim.s.send(OutFrame::new(OpCode::Text, b"4a")).unwrap();
    sim.s.trim();
    assert!(
        sim.s.queue_capacity_bytes() > 0,
        "a queued frame keeps its queue"
    );
    assert_eq!(
        sim.s.poll_ws_frame().map(|f| f.payload()),
        Some(bytes::Bytes::from_static(b"4a"))
    );
    sim.s.trim();
    assert_eq!(sim.s.queue_capacity_bytes(), 0);
    // The next frame is queued again.
    sim.s.send(OutFrame::new(OpCode::Text, b"4b")).unwrap();
    assert_eq!(
        sim.s.poll_ws_frame().map(|f| f.payload()),
        Some(bytes::Bytes::from_static(b"4b"))
    );
}

#[test]
fn sessions_made_from_one_arc_share_it_and_a_raised_copy_leaves_it_alone() {
    let shared = std::sync::Arc::new(CFG);
    let a = Session::new(shared.clone(), Transport::WebSocket, 0);
    let b = Session::new(shared.clone(), Transport::Polling, 0);
    assert_eq!(
        std::sync::Arc::strong_count(&shared),
        3,
        "no copy per session"
    );
    assert!(std::ptr::eq(a.config(), b.config()));
    let zero = std::sync::Arc::new(SessionConfig {
        ping_interval: 0,
        ..CFG
    });
    let c = Session::new(zero.clone(), Transport::WebSocket, 0);
    assert_eq!(c.config().ping_interval, 1);
    assert_eq!(zero.ping_interval, 0, "the caller's config is not changed");
}
