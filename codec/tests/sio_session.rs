//! The Socket.IO session on a simulated clock: a deterministic driver feeds it Engine.IO
//! messages, answers its CONNECT hand-offs the way ringcast's handler API does (namespace
//! allowed? then authorize), queues the frames it returns on a simulated wire, and records
//! every output.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use ringcast_codec::Sink;
use ringcast_codec::sio::{
    self, AckId, CloseReason, CommandError, DecodeLimits, DisconnectReason, INVALID_NAMESPACE,
    Output, ParseError, Session, SessionConfig, SioError, Slot,
};
use ringcast_codec::ws::{FrameBuf, OpCode, OutFrame};

const CFG: SessionConfig = SessionConfig {
    connect_timeout: 45_000,
    limits: DecodeLimits {
        max_depth: 32,
        max_attachments: 10,
    },
    max_pending_acks: 1024,
};

/// The session, the clock, and what went over the wire.
struct Sim {
    s: Session<String>,
    now: u64,
    /// Frames the driver queued, as text (`42["a"]`) or `<bin [1, 2]>`.
    wire: Vec<String>,
    /// Every output but `Authorize` (which the driver answers itself).
    out: Vec<Output<String>>,
    /// Namespaces the "handler" serves.
    namespaces: &'static [&'static str],
    sids: u32,
}

impl Sim {
    fn new() -> Sim {
        Sim::with(CFG)
    }
    fn with(config: SessionConfig) -> Sim {
        Sim {
            s: Session::new(config, 0),
            now: 0,
            wire: Vec::new(),
            out: Vec::new(),
            namespaces: &["/", "/admin", "/custom"],
            sids: 0,
        }
    }
    /// A session with `/` connected as `s1` and the wire cleared.
    fn connected() -> Sim {
        let mut sim = Sim::new();
        sim.text("0");
        sim.take();
        sim
    }

    /// The driver's loop after any call: every output, in order, handled completely.
    fn drain(&mut self) {
        while let Some(output) = self.s.poll_output() {
            match output {
                Output::Authorize(req) => {
                    let frame = if !self.namespaces.contains(&req.nsp.as_str()) {
                        self.s.handle_refused(req.id, INVALID_NAMESPACE)
                    } else if req.auth.as_deref().is_some_and(|a| a.contains("deny")) {
                        self.s.handle_refused(req.id, "Not authorized")
                    } else {
                        self.sids += 1;
                        self.s.handle_authorized(req.id, format!("s{}", self.sids))
                    };
                    self.queue(vec![frame.unwrap()]);
                }
                other => self.out.push(other),
            }
        }
    }
    fn queue(&mut self, frames: Vec<OutFrame>) {
        self.wire.extend(frames.iter().map(show));
    }
    fn text(&mut self, text: &str) {
        self.s.handle_text(text);
        self.drain();
    }
    fn binary(&mut self, data: &[u8]) {
        self.s.handle_binary(Bytes::copy_from_slice(data));
        self.drain();
    }
    /// Moves the clock to `to`, firing every deadline on the way exactly when it is due.
    fn advance_to(&mut self, to: u64) {
        while let Some(deadline) = self.s.poll_timeout().filter(|&t| t <= to) {
            assert!(deadline >= self.now, "deadline in the past");
            self.now = deadline;
            self.s.handle_timeout(deadline);
            self.drain();
        }
        self.now = to;
    }
    /// (wire, outputs) since the last call.
    fn take(&mut self) -> (Vec<String>, Vec<Output<String>>) {
        (
            std::mem::take(&mut self.wire),
            std::mem::take(&mut self.out),
        )
    }
    fn wire(&mut self) -> Vec<String> {
        std::mem::take(&mut self.wire)
    }
    fn outs(&mut self) -> Vec<Output<String>> {
        std::mem::take(&mut self.out)
    }
}

fn show(frame: &OutFrame) -> String {
    match frame.opcode() {
        OpCode::Binary => format!("<bin {:?}>", &frame.payload()[..]),
        _ => String::from_utf8(frame.payload().to_vec()).unwrap(),
    }
}

fn connected(slot: usize, nsp: &str, sid: &str, auth: Option<&str>) -> Output<String> {
    Output::Connected {
        slot: Slot(slot),
        nsp: nsp.into(),
        sid: sid.into(),
        auth: auth.map(Into::into),
    }
}

fn disconnected(slot: usize, nsp: &str, sid: &str, reason: DisconnectReason) -> Output<String> {
    Output::Disconnected {
        slot: Slot(slot),
        nsp: nsp.into(),
        sid: sid.into(),
        reason,
    }
}

fn event(slot: usize, name: &str, args: &str, ack: Option<u64>) -> Output<String> {
    Output::Event {
        slot: Slot(slot),
        name: name.into(),
        args: args.into(),
        ack: ack.map(AckId),
        attachments: Vec::new(),
    }
}

fn parse_error(e: ParseError) -> Output<String> {
    Output::Close(CloseReason::ParseError(e))
}

// ---- connect ----

/// (client packets, wire, outputs)
type ConnectCase = (
    &'static [&'static str],
    &'static [&'static str],
    Vec<Output<String>>,
);

#[test]
fn connect_table() {
    // (client packets, wire, outputs)
    let cases: &[ConnectCase] = &[
        (
            &["0"],
            &[r#"40{"sid":"s1"}"#],
            vec![connected(0, "/", "s1", None)],
        ),
        (
            &[r#"0{"token":"123"}"#],
            &[r#"40{"sid":"s1"}"#],
            vec![connected(0, "/", "s1", Some(r#"{"token":"123"}"#))],
        ),
        (
            &["0/admin,"],
            &[r#"40/admin,{"sid":"s1"}"#],
            vec![connected(0, "/admin", "s1", None)],
        ),
        (
            &[r#"0/admin,{"token":"123"}"#],
            &[r#"40/admin,{"sid":"s1"}"#],
            vec![connected(0, "/admin", "s1", Some(r#"{"token":"123"}"#))],
        ),
        // The protocol suite's namespace without a comma.
        (
            &["0/custom"],
            &[r#"40/custom,{"sid":"s1"}"#],
            vec![connected(0, "/custom", "s1", None)],
        ),
        // A duplicate CONNECT is ignored.
        (
            &["0", "0", r#"0{"token":"x"}"#],
            &[r#"40{"sid":"s1"}"#],
            vec![connected(0, "/", "s1", None)],
        ),
        // Several namespaces on one Engine.IO session, one slot each.
        (
            &["0", "0/admin,"],
            &[r#"40{"sid":"s1"}"#, r#"40/admin,{"sid":"s2"}"#],
            vec![
                connected(0, "/", "s1", None),
                connected(1, "/admin", "s2", None),
            ],
        ),
        // Refused by the handler.
        (
            &[r#"0{"deny":true}"#],
            &[r#"44{"message":"Not authorized"}"#],
            vec![],
        ),
        // Refused, then accepted on a second try.
        (
            &[r#"0{"deny":1}"#, "0"],
            &[r#"44{"message":"Not authorized"}"#, r#"40{"sid":"s1"}"#],
            vec![connected(0, "/", "s1", None)],
        ),
        // Invalid namespace (the socket.io protocol suite's expectation).
        (
            &["0/random"],
            &[r#"44/random,{"message":"Invalid namespace"}"#],
            vec![],
        ),
        (
            &["0/random,", "0/admin,"],
            &[
                r#"44/random,{"message":"Invalid namespace"}"#,
                r#"40/admin,{"sid":"s1"}"#,
            ],
            vec![connected(0, "/admin", "s1", None)],
        ),
    ];
    for (inputs, wire, outputs) in cases {
        let mut sim = Sim::new();
        for input in *inputs {
            sim.text(input);
        }
        let (got_wire, got_out) = sim.take();
        assert_eq!(got_wire, *wire, "{inputs:?}");
        assert_eq!(got_out, *outputs, "{inputs:?}");
        assert!(!sim.s.is_closed(), "{inputs:?}");
    }
}

#[test]
fn authorize_hand_off_waits_for_the_driver() {
    let mut s: Session<&str> = Session::new(CFG, 0);
    s.handle_text(r#"0/admin,{"k":1}"#);
    let Some(Output::Authorize(req)) = s.poll_output() else {
        panic!("expected Authorize");
    };
    assert_eq!(req.nsp, "/admin");
    assert_eq!(req.auth.as_deref(), Some(r#"{"k":1}"#));
    assert_eq!(s.poll_output(), None);
    // While it is being decided: a duplicate CONNECT is ignored, and events for the namespace
    // are not dispatched.
    s.handle_text("0/admin,");
    s.handle_text(r#"2/admin,["early"]"#);
    assert_eq!(s.poll_output(), None);
    assert_eq!(s.stats().unconnected, 1);
    let frame = s.handle_authorized(req.id, "abc").unwrap();
    assert_eq!(show(&frame), r#"40/admin,{"sid":"abc"}"#);
    assert_eq!(
        s.poll_output(),
        Some(Output::Connected {
            slot: Slot(0),
            nsp: "/admin".into(),
            sid: "abc",
            auth: Some(r#"{"k":1}"#.into())
        })
    );
    // Each request is answered once.
    assert_eq!(
        s.handle_authorized(req.id, "x"),
        Err(CommandError::UnknownRequest)
    );
    assert_eq!(
        s.handle_refused(req.id, "no"),
        Err(CommandError::UnknownRequest)
    );
    assert_eq!(s.slot_of("/admin"), Some(Slot(0)));
    assert_eq!(s.sid(Slot(0)), Some(&"abc"));
    assert_eq!(s.nsp(Slot(0)), Some("/admin"));
}

#[test]
fn reply_frames_are_byte_identical_to_the_encoders() {
    let mut s: Session<&str> = Session::new(CFG, 0);
    s.handle_text("0/admin,");
    let Some(Output::Authorize(req)) = s.poll_output() else {
        panic!("expected Authorize");
    };
    let frame = s.handle_authorized(req.id, "oSO0OpakMV_3jnilAAAA").unwrap();
    let mut want = FrameBuf::new();
    sio::write_connect(&mut want, "/admin", "oSO0OpakMV_3jnilAAAA");
    assert_eq!(frame, want.finish(OpCode::Text));

    let frames = s
        .emit(Slot(0), "hey", r#""Jude""#, &[Bytes::from_static(&[1, 2])])
        .unwrap();
    let mut want = FrameBuf::new();
    sio::write_event(&mut want, "/admin", None, 1, "hey", r#""Jude""#);
    assert_eq!(
        frames,
        vec![
            want.finish(OpCode::Text),
            OutFrame::new(OpCode::Binary, &[1, 2])
        ]
    );
    let frame = s.disconnect(Slot(0)).unwrap();
    let mut want = FrameBuf::new();
    want.put(b"41/admin,");
    assert_eq!(frame, want.finish(OpCode::Text));
}

// ---- events ----

#[test]
fn events_table() {
    // (client packet after "0" and "0/admin,", the Event output)
    let cases: &[(&str, Output<String>)] = &[
        (r#"2["foo"]"#, event(0, "foo", "[]", None)),
        (r#"2["hey","Jude"]"#, event(0, "hey", r#"["Jude"]"#, None)),
        (
            r#"2["subscribe",{"room":"agent:123"}]"#,
            event(0, "subscribe", r#"[{"room":"agent:123"}]"#, None),
        ),
        (
            r#"2["message",1,"2",{"3":[true]}]"#,
            event(0, "message", r#"[1,"2",{"3":[true]}]"#, None),
        ),
        ("2[ \"a\" , 1 , 2 ]", event(0, "a", "[1 , 2]", None)),
        (r#"2["a\"b\u00e9",1]"#, event(0, "a\"bé", "[1]", None)),
        (r#"212["foo"]"#, event(0, "foo", "[]", Some(12))),
        (r#"2/admin,["bar"]"#, event(1, "bar", "[]", None)),
        (r#"2/admin,13["foo"]"#, event(1, "foo", "[]", Some(13))),
        // A number is a name (socket.io-parser's isPayloadValid), given as its JSON text.
        (r#"2[1,{"a":2}]"#, event(0, "1", r#"[{"a":2}]"#, None)),
        (r#"2/admin,7[-0.5]"#, event(1, "-0.5", "[]", Some(7))),
        // A binary event that announces no attachments goes at once.
        (r#"50-["b",1]"#, event(0, "b", "[1]", None)),
    ];
    for (input, want) in cases {
        let mut sim = Sim::connected();
        sim.text("0/admin,");
        sim.take();
        sim.text(input);
        let (wire, outputs) = sim.take();
        assert_eq!(wire, Vec::<String>::new(), "{input}");
        assert_eq!(outputs, vec![want.clone()], "{input}");
    }
}

#[test]
fn packets_for_unconnected_namespaces_are_ignored_and_counted() {
    let mut sim = Sim::connected();
    for input in [
        r#"2/admin,["a"]"#,
        r#"3/admin,1["a"]"#,
        "1/admin,",
        r#"2/other,["a"]"#,
    ] {
        sim.text(input);
    }
    // A binary event for an unconnected namespace still consumes its attachments.
    sim.text(r#"51-/admin,["b",{"_placeholder":true,"num":0}]"#);
    sim.binary(&[9]);
    sim.text(r#"2["after"]"#);
    assert_eq!(sim.take(), (vec![], vec![event(0, "after", "[]", None)]));
    assert_eq!(sim.s.stats().unconnected, 5);
    assert!(!sim.s.is_closed());
}

#[test]
fn events_before_any_connect_are_ignored() {
    let mut sim = Sim::new();
    sim.text(r#"2["a"]"#);
    assert_eq!(sim.take(), (vec![], vec![]));
    assert!(!sim.s.is_closed());
}

// ---- acks ----

#[test]
fn client_asks_server_answers_once() {
    let mut sim = Sim::connected();
    sim.text(r#"212["foo"]"#);
    assert_eq!(sim.outs(), vec![event(0, "foo", "[]", Some(12))]);
    assert_eq!(sim.s.owed_acks(Slot(0)).collect::<Vec<_>>(), [AckId(12)]);
    let frames = sim.s.ack(Slot(0), AckId(12), "", &[]).unwrap();
    sim.queue(frames);
    assert_eq!(sim.wire(), ["4312[]"]);
    assert_eq!(
        sim.s.ack(Slot(0), AckId(12), r#""again""#, &[]),
        Err(CommandError::AckNotPending)
    );
    assert_eq!(
        sim.s.ack(Slot(0), AckId(99), "", &[]),
        Err(CommandError::AckNotPending),
        "an id the client never asked for"
    );
    // A client may reuse an id: each EVENT that asks gets its answer.
    sim.text(r#"2/admin,1["x"]"#);
    sim.text(r#"27["a"]"#);
    sim.text(r#"27["b"]"#);
    sim.outs();
    for _ in 0..2 {
        let frames = sim.s.ack(Slot(0), AckId(7), r#""bar""#, &[]).unwrap();
        sim.queue(frames);
    }
    assert_eq!(
        sim.s.ack(Slot(0), AckId(7), "", &[]),
        Err(CommandError::AckNotPending)
    );
    assert_eq!(sim.wire(), [r#"437["bar"]"#, r#"437["bar"]"#]);
}

#[test]
fn server_asks_client_answers_once() {
    let mut sim = Sim::connected();
    sim.text("0/admin,");
    sim.take();
    let (a, frames) = sim.s.emit_with_ack(Slot(0), "foo", "", &[]).unwrap();
    sim.queue(frames);
    let (b, frames) = sim.s.emit_with_ack(Slot(1), "foo", "", &[]).unwrap();
    sim.queue(frames);
    let (c, frames) = sim.s.emit_with_ack(Slot(0), "bar", "1", &[]).unwrap();
    sim.queue(frames);
    assert_eq!(
        (a, b, c),
        (AckId(1), AckId(1), AckId(2)),
        "ids count per socket"
    );
    assert_eq!(
        sim.wire(),
        [r#"421["foo"]"#, r#"42/admin,1["foo"]"#, r#"422["bar",1]"#]
    );
    // (client ACK, what the server sees)
    let cases: Vec<(&str, Option<Output<String>>)> = vec![
        (
            r#"32["ok"]"#,
            Some(Output::Ack {
                slot: Slot(0),
                id: AckId(2),
                args: r#"["ok"]"#.into(),
                attachments: vec![],
            }),
        ),
        (r#"32["again"]"#, None),
        (r#"399[]"#, None),
        (
            "3/admin,1[]",
            Some(Output::Ack {
                slot: Slot(1),
                id: AckId(1),
                args: "[]".into(),
                attachments: vec![],
            }),
        ),
        ("3/admin,1[]", None),
        (
            "31 [ 1 ] ",
            Some(Output::Ack {
                slot: Slot(0),
                id: AckId(1),
                args: " [ 1 ] ".into(),
                attachments: vec![],
            }),
        ),
    ];
    for (input, want) in cases {
        sim.text(input);
        assert_eq!(sim.outs(), want.into_iter().collect::<Vec<_>>(), "{input}");
    }
    assert_eq!(sim.s.stats().unknown_acks, 3);
    assert_eq!(sim.s.awaiting_client_acks(Slot(0)).count(), 0);
    assert!(sim.wire().is_empty());
}

#[test]
fn pending_acks_are_bounded_oldest_forgotten() {
    let mut sim = Sim::with(SessionConfig {
        max_pending_acks: 2,
        ..CFG
    });
    sim.text("0");
    sim.take();
    for _ in 0..3 {
        sim.s.emit_with_ack(Slot(0), "e", "", &[]).unwrap();
    }
    assert_eq!(
        sim.s.awaiting_client_acks(Slot(0)).collect::<Vec<_>>(),
        [AckId(2), AckId(3)]
    );
    sim.text("31[]");
    assert_eq!(sim.outs(), vec![], "id 1 was forgotten");
    for id in 1..=3 {
        sim.text(&format!(r#"2{id}["e"]"#));
    }
    sim.outs();
    assert_eq!(
        sim.s.ack(Slot(0), AckId(1), "", &[]),
        Err(CommandError::AckNotPending)
    );
    assert!(sim.s.ack(Slot(0), AckId(3), "", &[]).is_ok());
    assert_eq!(sim.s.stats().forgotten_acks, 2);
    assert_eq!(sim.s.stats().unknown_acks, 1);
}

#[test]
fn acks_die_with_their_socket() {
    let mut sim = Sim::connected();
    let (id, _) = sim.s.emit_with_ack(Slot(0), "e", "", &[]).unwrap();
    sim.text(r#"25["q"]"#);
    sim.text("1");
    sim.text("0");
    sim.take();
    assert_eq!(
        sim.s.ack(Slot(0), AckId(5), "", &[]),
        Err(CommandError::AckNotPending),
        "the new socket in the slot owes nothing"
    );
    sim.text(&format!("3{}[]", id.0));
    assert_eq!(sim.outs(), vec![]);
    assert_eq!(sim.s.stats().unknown_acks, 1);
}

// ---- binary ----

#[test]
fn binary_from_the_client_table() {
    // (packets: text, or binary as "#<bytes>"; wanted output)
    let ph0 = r#"{"_placeholder":true,"num":0}"#;
    let ph1 = r#"{"_placeholder":true,"num":1}"#;
    let cases: Vec<(Vec<String>, Output<String>)> = vec![
        (
            vec![format!(r#"51-["baz",{ph0}]"#), "#\x01\x02\x03\x04".into()],
            Output::Event {
                slot: Slot(0),
                name: "baz".into(),
                args: format!("[{ph0}]"),
                ack: None,
                attachments: vec![Bytes::from_static(&[1, 2, 3, 4])],
            },
        ),
        (
            vec![
                format!(r#"52-/admin,["baz",{ph0},{ph1}]"#),
                "#\x01\x02".into(),
                "#\x03\x04".into(),
            ],
            Output::Event {
                slot: Slot(1),
                name: "baz".into(),
                args: format!("[{ph0},{ph1}]"),
                ack: None,
                attachments: vec![Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])],
            },
        ),
        (
            vec![format!(r#"51-14["foo",{ph0}]"#), "#\x01".into()],
            Output::Event {
                slot: Slot(0),
                name: "foo".into(),
                args: format!("[{ph0}]"),
                ack: Some(AckId(14)),
                attachments: vec![Bytes::from_static(&[1])],
            },
        ),
        (
            vec![format!(r#"61-/admin,1[{ph0}]"#), "#\x07".into()],
            Output::Ack {
                slot: Slot(1),
                id: AckId(1),
                args: format!("[{ph0}]"),
                attachments: vec![Bytes::from_static(&[7])],
            },
        ),
    ];
    for (packets, want) in cases {
        let mut sim = Sim::connected();
        sim.text("0/admin,");
        sim.take();
        sim.s.emit_with_ack(Slot(1), "q", "", &[]).unwrap();
        for p in &packets {
            match p.strip_prefix('#') {
                Some(bin) => sim.binary(bin.as_bytes()),
                None => sim.text(p),
            }
        }
        assert_eq!(sim.take(), (vec![], vec![want]), "{packets:?}");
        assert!(!sim.s.is_closed());
    }
}

#[test]
fn binary_to_the_client() {
    let mut sim = Sim::connected();
    sim.text(r#"215["foo"]"#);
    sim.outs();
    let att = [Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])];
    let args = r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#;
    let frames = sim.s.emit(Slot(0), "baz", args, &att).unwrap();
    sim.queue(frames);
    let frames = sim.s.ack(
        Slot(0),
        AckId(15),
        r#"{"_placeholder":true,"num":0}"#,
        &att[..1],
    );
    sim.queue(frames.unwrap());
    let (id, frames) = sim.s.emit_with_ack(Slot(0), "b", "1", &att[1..]).unwrap();
    sim.queue(frames);
    assert_eq!(id, AckId(1));
    assert_eq!(
        sim.wire(),
        [
            format!(r#"452-["baz",{args}]"#),
            "<bin [1, 2]>".into(),
            "<bin [3, 4]>".into(),
            r#"461-15[{"_placeholder":true,"num":0}]"#.into(),
            "<bin [1, 2]>".into(),
            r#"451-1["b",1]"#.into(),
            "<bin [3, 4]>".into(),
        ]
    );
}

// ---- disconnect ----

#[test]
fn client_disconnect_frees_the_slot() {
    let mut sim = Sim::connected();
    sim.text("0/admin,");
    sim.take();
    sim.text("1");
    assert_eq!(
        sim.take(),
        (
            vec![],
            vec![disconnected(
                0,
                "/",
                "s1",
                DisconnectReason::ClientNamespaceDisconnect
            )]
        )
    );
    // The Engine.IO session stays; the other namespace too; the free slot is reused.
    assert_eq!(sim.s.slot_of("/admin"), Some(Slot(1)));
    assert_eq!(
        sim.s.emit(Slot(0), "x", "", &[]),
        Err(CommandError::NoSuchSocket)
    );
    sim.text("0/custom,");
    assert_eq!(sim.outs(), vec![connected(0, "/custom", "s3", None)]);
    sim.text("1/admin,");
    sim.text("1/admin,");
    assert_eq!(
        sim.outs(),
        vec![disconnected(
            1,
            "/admin",
            "s2",
            DisconnectReason::ClientNamespaceDisconnect
        )]
    );
    assert!(!sim.s.is_closed());
}

#[test]
fn server_disconnect() {
    let mut sim = Sim::connected();
    sim.text("0/admin,");
    sim.take();
    let frame = sim.s.disconnect(Slot(1)).unwrap();
    sim.queue(vec![frame]);
    sim.drain();
    assert_eq!(
        sim.take(),
        (
            vec!["41/admin,".into()],
            vec![disconnected(
                1,
                "/admin",
                "s2",
                DisconnectReason::ServerNamespaceDisconnect
            )]
        )
    );
    assert_eq!(sim.s.disconnect(Slot(1)), Err(CommandError::NoSuchSocket));
    let frame = sim.s.disconnect(Slot(0)).unwrap();
    assert_eq!(show(&frame), "41");
    // A client ACK or EVENT for the gone namespace is ignored.
    sim.text("3/admin,1[]");
    assert!(!sim.s.is_closed());
}

#[test]
fn engine_close_disconnects_every_socket() {
    let reasons = [
        DisconnectReason::TransportClose,
        DisconnectReason::PingTimeout,
        DisconnectReason::SlowConsumer,
        DisconnectReason::ServerNamespaceDisconnect,
        DisconnectReason::ServerShutdown,
    ];
    for reason in reasons {
        let mut sim = Sim::connected();
        sim.text("0/admin,");
        sim.text("1");
        sim.text("0/custom,");
        sim.take();
        sim.s.handle_engine_closed(reason);
        sim.drain();
        assert_eq!(
            sim.outs(),
            vec![
                disconnected(0, "/custom", "s3", reason),
                disconnected(1, "/admin", "s2", reason),
            ],
            "lowest slot first, no Close"
        );
        assert!(sim.s.is_closed());
        sim.s.handle_engine_closed(DisconnectReason::TransportClose);
        sim.text("0");
        sim.text(r#"2["a"]"#);
        assert_eq!(sim.take(), (vec![], vec![]));
        assert_eq!(sim.s.poll_timeout(), None);
        assert_eq!(sim.s.emit(Slot(0), "a", "", &[]), Err(CommandError::Closed));
    }
}

// ---- connect timeout ----

#[test]
fn connect_timeout_table() {
    // (client packets at t=10, the time the session closes, if it does)
    let cases: &[(&[&str], Option<u64>)] = &[
        (&[], Some(45_000)),
        (&[r#"2["a"]"#], Some(45_000)),
        (&[r#"0{"deny":1}"#], Some(45_000)),
        (&["0/random"], Some(45_000)),
        (&["0"], None),
        (&["0/admin,"], None),
        // Connected once: the timeout is spent even if the client leaves again (as the worker).
        (&["0", "1"], None),
    ];
    for (inputs, closes_at) in cases {
        let mut sim = Sim::new();
        assert_eq!(sim.s.poll_timeout(), Some(45_000));
        sim.advance_to(10);
        for input in *inputs {
            sim.text(input);
        }
        sim.take();
        sim.advance_to(44_999);
        assert_eq!(sim.outs(), vec![], "{inputs:?}");
        sim.advance_to(100_000);
        match closes_at {
            Some(t) => {
                assert_eq!(
                    sim.outs(),
                    vec![Output::Close(CloseReason::ConnectTimeout)],
                    "{inputs:?}"
                );
                assert!(sim.s.is_closed());
                assert_eq!(sim.now, 100_000);
                let _ = t;
            }
            None => {
                assert_eq!(sim.outs(), vec![], "{inputs:?}");
                assert!(!sim.s.is_closed());
                assert_eq!(sim.s.poll_timeout(), None);
            }
        }
        assert!(sim.wire().is_empty());
    }
}

#[test]
fn connect_timeout_fires_exactly_on_time_and_once() {
    let mut sim = Sim::with(SessionConfig {
        connect_timeout: 1_000,
        ..CFG
    });
    sim.s.handle_timeout(999);
    sim.drain();
    assert_eq!(sim.outs(), vec![]);
    sim.s.handle_timeout(1_000);
    sim.s.handle_timeout(1_001);
    sim.drain();
    assert_eq!(sim.outs(), vec![Output::Close(CloseReason::ConnectTimeout)]);
    // A CONNECT that was being authorized dies with the session.
    let mut s: Session<&str> = Session::new(CFG, 0);
    s.handle_text("0");
    let Some(Output::Authorize(req)) = s.poll_output() else {
        panic!("expected Authorize");
    };
    s.handle_timeout(45_000);
    assert_eq!(
        s.poll_output(),
        Some(Output::Close(CloseReason::ConnectTimeout))
    );
    assert_eq!(
        s.handle_authorized(req.id, "late"),
        Err(CommandError::Closed)
    );
    assert_eq!(s.poll_output(), None);
}

// ---- parse errors ----

#[test]
fn parse_errors_table() {
    use ParseError::*;
    // (client packets after "0" and "0/admin,": text, or "#" + binary; the parse error)
    let ph0 = r#"{"_placeholder":true,"num":0}"#;
    let cases: Vec<(Vec<String>, ParseError)> = vec![
        (vec!["".into()], Decode(SioError::Empty)),
        (vec!["7".into()], Decode(SioError::UnknownType)),
        (vec![r#"2["a""#.into()], Decode(SioError::InvalidJson)),
        (vec![r#"2{"a":1}"#.into()], Decode(SioError::NotAnArray)),
        (vec!["2[]".into()], Decode(SioError::NotAnArray)),
        (vec!["2[null]".into()], Decode(SioError::EventNameNotString)),
        // Reserved names are refused as socket.io-parser refuses them ("invalid payload").
        (
            vec![r#"2["disconnect"]"#.into()],
            Decode(SioError::EventNameReserved),
        ),
        (
            vec![r#"2/admin,["newListener",1]"#.into()],
            Decode(SioError::EventNameReserved),
        ),
        (vec!["2".into()], Decode(SioError::MissingData)),
        (vec![r#"3["a"]"#.into()], Decode(SioError::BadAckId)),
        (vec!["31{}".into()], Decode(SioError::NotAnArray)),
        (vec!["0[1]".into()], Decode(SioError::NotAnObject)),
        (
            vec![r#"511-["a"]"#.into()],
            Decode(SioError::BadAttachments),
        ),
        (
            vec![format!("2[\"a\",{}{}]", "[".repeat(40), "]".repeat(40))],
            Decode(SioError::TooDeep),
        ),
        (vec![r#"4{"message":"x"}"#.into()], ConnectErrorFromClient),
        (vec!["#\x01".into()], UnexpectedAttachment),
        (
            vec![format!(r#"51-["a",{ph0}]"#), r#"2["b"]"#.into()],
            TextBeforeAttachments,
        ),
        (
            // A bad text packet while attachments are expected: the decode error wins.
            vec![format!(r#"51-["a",{ph0}]"#), "x".into()],
            Decode(SioError::UnknownType),
        ),
        (
            vec![format!(r#"51-["a",{ph0}]"#), "#\x01".into(), "#\x02".into()],
            UnexpectedAttachment,
        ),
        (
            vec![
                r#"52-["a",{"_placeholder":true,"num":0}]"#.into(),
                "#1".into(),
                "#2".into(),
            ],
            Placeholders(SioError::AttachmentMismatch),
        ),
        (
            vec![
                r#"51-["a",{"_placeholder":true,"num":3}]"#.into(),
                "#1".into(),
            ],
            Placeholders(SioError::AttachmentMismatch),
        ),
    ];
    for (packets, error) in cases {
        let mut sim = Sim::connected();
        sim.text("0/admin,");
        sim.take();
        sim.s.emit_with_ack(Slot(0), "q", "", &[]).unwrap();
        for p in &packets {
            match p.strip_prefix('#') {
                Some(bin) => sim.binary(bin.as_bytes()),
                None => sim.text(p),
            }
        }
        let (wire, mut outputs) = sim.take();
        assert_eq!(wire, Vec::<String>::new(), "{packets:?}");
        // Packets before the bad one may have been dispatched (an event whose attachments
        // were complete before an extra one came).
        let before: Vec<_> = outputs.drain(..outputs.len().saturating_sub(3)).collect();
        assert!(
            before.iter().all(|o| matches!(o, Output::Event { .. })),
            "{packets:?}"
        );
        assert_eq!(
            outputs,
            vec![
                disconnected(0, "/", "s1", DisconnectReason::ParseError),
                disconnected(1, "/admin", "s2", DisconnectReason::ParseError),
                parse_error(error),
            ],
            "{packets:?}"
        );
        // Nothing after Close: inputs and commands are refused, no deadline.
        assert!(sim.s.is_closed());
        sim.text("0");
        sim.text("31[]");
        sim.binary(b"x");
        sim.s.handle_timeout(1_000_000);
        sim.s.handle_engine_closed(DisconnectReason::ParseError);
        sim.drain();
        assert_eq!(sim.take(), (vec![], vec![]), "{packets:?}");
        assert_eq!(sim.s.poll_timeout(), None);
        assert_eq!(sim.s.emit(Slot(0), "a", "", &[]), Err(CommandError::Closed));
        assert_eq!(
            sim.s.emit_with_ack(Slot(0), "a", "", &[]).map(|(id, _)| id),
            Err(CommandError::Closed)
        );
        assert_eq!(
            sim.s.ack(Slot(0), AckId(1), "", &[]),
            Err(CommandError::Closed)
        );
        assert_eq!(sim.s.disconnect(Slot(0)), Err(CommandError::Closed));
    }
}

#[test]
fn parse_error_before_connect_closes_too() {
    let mut sim = Sim::new();
    sim.text("abc");
    assert_eq!(
        sim.take(),
        (
            vec![],
            vec![parse_error(ParseError::Decode(SioError::UnknownType))]
        )
    );
}

#[test]
fn depth_limit_comes_from_the_config() {
    let nested = |n: usize| format!("2[\"a\",{}{}]", "[".repeat(n), "]".repeat(n));
    let mut sim = Sim::with(SessionConfig {
        limits: DecodeLimits {
            max_depth: 4,
            max_attachments: 10,
        },
        ..CFG
    });
    sim.text("0");
    sim.take();
    sim.text(&nested(3));
    assert_eq!(sim.outs(), vec![event(0, "a", "[[[[]]]]", None)]);
    sim.text(&nested(4));
    assert_eq!(
        sim.outs().last(),
        Some(&parse_error(ParseError::Decode(SioError::TooDeep)))
    );
}

#[test]
fn a_recoverable_connect_reply_carries_the_pid() {
    // (pid, reply)
    let cases = [
        (Some("p1"), r#"40{"sid":"abc","pid":"p1"}"#),
        (None, r#"40{"sid":"abc"}"#),
    ];
    for (pid, want) in cases {
        let mut s: Session<&str> = Session::new(SessionConfig::default(), 0);
        s.handle_text("0");
        let Some(Output::Authorize(req)) = s.poll_output() else {
            panic!("no Authorize");
        };
        let frame = s
            .handle_authorized_recoverable(req.id, "abc", pid)
            .expect("answered");
        assert_eq!(&frame.payload()[..], want.as_bytes());
        assert!(matches!(s.poll_output(), Some(Output::Connected { .. })));
    }
}

// ---- trim ----

#[test]
fn trim_frees_what_an_idle_session_keeps_and_keeps_the_sockets() {
    // Two namespaces connected, the second left: the queues are drained and slot 1 is free.
    let mut sim = Sim::connected();
    sim.text("0/admin,");
    sim.take();
    sim.text("1/admin,");
    sim.take();
    assert!(sim.s.spare_bytes() > 0, "the queues keep their storage");
    sim.s.trim();
    assert_eq!(sim.s.spare_bytes(), 0);
    // `/` still works on slot 0, and a namespace connected again takes slot 1 again.
    sim.text(r#"2["ping"]"#);
    assert_eq!(sim.outs(), vec![event(0, "ping", "[]", None)]);
    sim.text("0/admin,");
    assert_eq!(sim.outs(), vec![connected(1, "/admin", "s3", None)]);
}
