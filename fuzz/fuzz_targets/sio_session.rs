//! The Socket.IO session driven by an arbitrary sequence of client packets (structured or raw
//! text, attachments), driver answers to its CONNECT hand-offs (at once or later), application
//! commands (emit, emit with ack, ack, disconnect), Engine.IO closes and clock steps, the way
//! the worker drives it (every output drained after every call).
//!
//! Invariants: nothing panics; one call yields at most one output per live socket plus one;
//! `Close` is the last output ever (nothing after it, and nothing after an Engine.IO close's
//! disconnects); every ack id is answered at most once in both directions (a client ACK reaches
//! the application only for an id the server emitted and not answered before; `ack` succeeds
//! at most as often as the client asked for that id); Connected/Disconnected keep the driver's
//! mirror of the slots equal to the session's; emits return one frame per attachment plus one;
//! after `handle_timeout` the next deadline is in the future.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use ringcast_codec::sio::{
    AckId, CommandError, ConnectRequest, DecodeLimits, DisconnectReason, INVALID_NAMESPACE, Output,
    Session, SessionConfig, Slot,
};

const NAMESPACES: [&str; 4] = ["/", "/admin", "/custom", "/nope"];

#[derive(Debug, Arbitrary)]
enum Op {
    /// A well-formed-ish packet built from choices.
    Packet {
        kind: u8,
        nsp: u8,
        id: Option<u8>,
        attachments: u8,
        data: u8,
    },
    /// Any text.
    Raw(String),
    /// An attachment.
    Binary(u8),
    /// Answer the `which`-th waiting CONNECT.
    Answer {
        which: u8,
        accept: bool,
    },
    Advance(u16),
    Emit {
        slot: u8,
        ack: bool,
        attachments: u8,
    },
    Ack {
        slot: u8,
        id: u8,
    },
    Disconnect {
        slot: u8,
    },
    EngineClosed(u8),
}

#[derive(Debug, Arbitrary)]
struct Input {
    connect_timeout: u16,
    max_depth: u8,
    max_pending_acks: u8,
    /// Answer every CONNECT as soon as it is polled (the worker's synchronous handler).
    answer_at_once: bool,
    ops: Vec<Op>,
}

/// The JSON data of a structured packet.
fn data(choice: u8) -> &'static str {
    const DATA: [&str; 12] = [
        "",
        "[]",
        r#"["ev"]"#,
        r#"["ev",1,{"a":[true]}]"#,
        r#"["ev",{"_placeholder":true,"num":0}]"#,
        r#"["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        r#"[{"_placeholder":true,"num":0}]"#,
        r#"{"token":"x"}"#,
        r#"{"deny":true}"#,
        r#""str""#,
        "[[[[[[[[[[]]]]]]]]]]",
        r#"["ev""#,
    ];
    DATA[usize::from(choice) % DATA.len()]
}

fn packet(kind: u8, nsp: u8, id: Option<u8>, attachments: u8, data_choice: u8) -> String {
    let kind = kind % 8;
    let mut text = kind.to_string();
    if kind == 5 || kind == 6 {
        text.push_str(&(attachments % 4).to_string());
        text.push('-');
    }
    let nsp = NAMESPACES[usize::from(nsp) % NAMESPACES.len()];
    if nsp != "/" {
        text.push_str(nsp);
        text.push(',');
    }
    if let Some(id) = id {
        text.push_str(&(id % 8).to_string());
    }
    text.push_str(data(data_choice));
    text
}

/// The driver's view: its mirror of the slots and the ack bookkeeping.
#[derive(Default)]
struct Driver {
    slots: HashMap<usize, (String, String)>,
    waiting: Vec<ConnectRequest>,
    next_sid: u32,
    /// Ack ids emitted per sid, and those the client's ACKs answered.
    emitted: HashMap<String, Vec<u64>>,
    answered: HashMap<String, Vec<u64>>,
    /// Per sid and id: how often the client asked, and how often the server answered.
    asked: HashMap<(String, u64), u32>,
    acked: HashMap<(String, u64), u32>,
    closed: bool,
    /// The Engine.IO session closed and its disconnects were drained.
    finished: bool,
}

impl Driver {
    fn answer(&mut self, s: &mut Session<String>, req: &ConnectRequest, accept: bool) {
        let result = if !["/", "/admin", "/custom"].contains(&req.nsp.as_str()) {
            s.handle_refused(req.id, INVALID_NAMESPACE)
        } else if !accept || req.auth.as_deref().is_some_and(|a| a.contains("deny")) {
            s.handle_refused(req.id, "Not authorized")
        } else {
            self.next_sid += 1;
            s.handle_authorized(req.id, format!("s{}", self.next_sid))
        };
        if s.is_closed() {
            assert_eq!(result.err(), Some(CommandError::Closed));
        } else {
            assert!(result.is_ok(), "a waiting request is answered");
        }
    }

    /// Drains every output; returns how many there were (answers made here included).
    fn drain(&mut self, s: &mut Session<String>, answer_at_once: bool) -> usize {
        let mut n = 0;
        while let Some(output) = s.poll_output() {
            n += 1;
            assert!(!self.closed, "output after Close: {output:?}");
            assert!(
                !self.finished,
                "output after the Engine.IO close: {output:?}"
            );
            match output {
                Output::Authorize(req) => {
                    if answer_at_once {
                        self.answer(s, &req, true);
                    } else {
                        self.waiting.push(req);
                    }
                }
                Output::Connected { slot, nsp, sid, .. } => {
                    assert!(
                        self.slots.insert(slot.index(), (nsp, sid)).is_none(),
                        "slot reused while taken"
                    );
                }
                Output::Disconnected { slot, nsp, sid, .. } => {
                    assert_eq!(self.slots.remove(&slot.index()), Some((nsp, sid)));
                }
                Output::Event { slot, ack, .. } => {
                    let (_, sid) = self
                        .slots
                        .get(&slot.index())
                        .expect("event for a live slot");
                    if let Some(AckId(id)) = ack {
                        *self.asked.entry((sid.clone(), id)).or_default() += 1;
                    }
                }
                Output::Ack { slot, id, .. } => {
                    let (_, sid) = self.slots.get(&slot.index()).expect("ack for a live slot");
                    assert!(
                        self.emitted.get(sid).is_some_and(|e| e.contains(&id.0)),
                        "ack for an id never emitted"
                    );
                    let answered = self.answered.entry(sid.clone()).or_default();
                    assert!(!answered.contains(&id.0), "ack id answered twice");
                    answered.push(id.0);
                }
                Output::Close(_) => {
                    self.closed = true;
                    assert!(self.slots.is_empty(), "Close before every Disconnected");
                }
            }
        }
        if s.is_closed() {
            // Closed (by Close or by the Engine.IO): no socket is left.
            assert!(self.slots.is_empty());
        }
        n
    }
}

fuzz_target!(|input: Input| {
    let config = SessionConfig {
        connect_timeout: u64::from(input.connect_timeout),
        limits: DecodeLimits {
            max_depth: usize::from(input.max_depth % 40),
            max_attachments: 10,
        },
        max_pending_acks: usize::from(input.max_pending_acks),
    };
    let mut s: Session<String> = Session::new(config, 0);
    let mut d = Driver::default();
    let mut now = 0u64;

    for op in input.ops {
        let live = s.sockets().count();
        let mut n = 0;
        match op {
            Op::Packet {
                kind,
                nsp,
                id,
                attachments,
                data,
            } => s.handle_text(&packet(kind, nsp, id, attachments, data)),
            Op::Raw(text) => s.handle_text(&text),
            Op::Binary(b) => s.handle_binary(Bytes::from(vec![b; usize::from(b % 4)])),
            Op::Answer { which, accept } => {
                if !d.waiting.is_empty() {
                    let req = d.waiting.remove(usize::from(which) % d.waiting.len());
                    d.answer(&mut s, &req, accept);
                }
            }
            Op::Advance(ms) => {
                now += u64::from(ms);
                if s.poll_timeout().is_some_and(|t| t <= now) {
                    s.handle_timeout(now);
                }
                if let Some(deadline) = s.poll_timeout() {
                    assert!(deadline > now, "deadline {deadline} not after now {now}");
                }
            }
            Op::Emit {
                slot,
                ack,
                attachments,
            } => {
                let slot = Slot(usize::from(slot % 4));
                let atts = vec![Bytes::from_static(&[1, 2]); usize::from(attachments % 3)];
                let result = if ack {
                    s.emit_with_ack(slot, "ev", "1", &atts).map(|(id, frames)| {
                        let sid = s.sid(slot).expect("emitted to a live socket").clone();
                        d.emitted.entry(sid).or_default().push(id.0);
                        frames
                    })
                } else {
                    s.emit(slot, "ev", "", &atts)
                };
                match result {
                    Ok(frames) => assert_eq!(frames.len(), 1 + atts.len()),
                    Err(e) => assert!(s.is_closed() || e == CommandError::NoSuchSocket),
                }
            }
            Op::Ack { slot, id } => {
                let slot = Slot(usize::from(slot % 4));
                let id = u64::from(id % 8);
                let sid = s.sid(slot).cloned();
                if s.ack(slot, AckId(id), "", &[]).is_ok() {
                    let sid = sid.expect("acked on a live socket");
                    let key = (sid, id);
                    let acked = d.acked.entry(key.clone()).or_default();
                    *acked += 1;
                    assert!(
                        *acked <= d.asked.get(&key).copied().unwrap_or(0),
                        "ack id answered more often than asked"
                    );
                }
            }
            Op::Disconnect { slot } => {
                let result = s.disconnect(Slot(usize::from(slot % 4)));
                if let Ok(frame) = result {
                    assert!(frame.payload().starts_with(b"41"));
                }
            }
            Op::EngineClosed(r) => {
                let reasons = [
                    DisconnectReason::TransportClose,
                    DisconnectReason::PingTimeout,
                    DisconnectReason::SlowConsumer,
                    DisconnectReason::ServerNamespaceDisconnect,
                    DisconnectReason::ServerShutdown,
                ];
                s.handle_engine_closed(reasons[usize::from(r) % reasons.len()]);
                n += d.drain(&mut s, input.answer_at_once);
                d.finished = true;
                assert!(s.is_closed());
            }
        }
        n += d.drain(&mut s, input.answer_at_once);
        // An answered CONNECT adds Connected on top of the call's own bound.
        assert!(n <= live + 2, "{n} outputs for {live} sockets");
        if d.closed || d.finished {
            assert!(s.is_closed());
            assert_eq!(s.poll_timeout(), None);
        }
    }
});
