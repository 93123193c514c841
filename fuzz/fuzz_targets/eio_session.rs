//! The Engine.IO session driven by an arbitrary sequence of inputs on a monotonic clock, the
//! way the server drives it (due timers fire before anything else at a given time).
//!
//! Invariants: `queued_bytes` never exceeds `max_queued_bytes`; `poll_close` is `Some` at most
//! once and only when closed; after any input the next deadline is in the future and
//! `handle_timeout` always pushes it there; after close nothing new is queued (the queue only
//! shrinks, websocket output stays within what was queued at close, polling gets at most one
//! `6` besides the queue) and every input is refused.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ringcast_codec::eio::{Packet, Session, SessionConfig, Transport};
use ringcast_codec::ws::{OpCode, OutFrame};

#[derive(Debug, Arbitrary)]
enum Op {
    /// A client packet: `kind` picks the type, `probe` makes a ping `2probe`.
    Packet {
        ws: bool,
        kind: u8,
        probe: bool,
    },
    Invalid {
        ws: bool,
    },
    Get,
    Upgrade,
    TransportClosed {
        ws: bool,
    },
    Advance(u16),
    Send {
        len: u8,
        binary: bool,
    },
    Close,
    DrainWs,
    DrainPoll,
}

#[derive(Debug, Arbitrary)]
struct Input {
    websocket: bool,
    ping_interval: u16,
    ping_timeout: u16,
    max_payload: u16,
    max_queued_bytes: u16,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let config = SessionConfig {
        ping_interval: u64::from(input.ping_interval),
        ping_timeout: u64::from(input.ping_timeout),
        max_payload: usize::from(input.max_payload),
        max_queued_bytes: usize::from(input.max_queued_bytes),
    };
    let transport = if input.websocket {
        Transport::WebSocket
    } else {
        Transport::Polling
    };
    let mut s = Session::new(config, transport, 0);
    let mut now = 0u64;
    let mut close_reports = 0;
    // Queued bytes at the moment of closing, and what went out since.
    let mut at_close: Option<usize> = None;
    let mut ws_after_close = 0usize;
    let mut noops_after_close = 0;

    for op in input.ops {
        let before = s.queued_bytes();
        match op {
            Op::Packet { ws, kind, probe } => {
                let from = if ws {
                    Transport::WebSocket
                } else {
                    Transport::Polling
                };
                let packet = match kind % 8 {
                    0 => Packet::Open("{}"),
                    1 => Packet::Close,
                    2 => Packet::Ping(if probe { "probe" } else { "" }),
                    3 => Packet::Pong(""),
                    4 => Packet::Message("2[\"ev\"]"),
                    5 => Packet::Binary(vec![1, 2, 3].into()),
                    6 => Packet::Upgrade,
                    _ => Packet::Noop,
                };
                let result = s.handle_packet(packet, from, now);
                if at_close.is_some() {
                    assert!(result.is_err(), "packets after close are refused");
                }
            }
            Op::Invalid { ws } => s.handle_invalid_packet(
                if ws {
                    Transport::WebSocket
                } else {
                    Transport::Polling
                },
                now,
            ),
            Op::Get => {
                let _ = s.handle_poll_request(now);
            }
            Op::Upgrade => {
                let result = s.handle_upgrade_request(now);
                if at_close.is_some() {
                    assert!(result.is_err());
                }
            }
            Op::TransportClosed { ws } => s.handle_transport_closed(
                if ws {
                    Transport::WebSocket
                } else {
                    Transport::Polling
                },
                now,
            ),
            Op::Advance(ms) => {
                now += u64::from(ms);
                // Fire what is due, as a timer wheel would; each call must make progress.
                let mut rounds = 0;
                while let Some(deadline) = s.poll_timeout().filter(|&d| d <= now) {
                    s.handle_timeout(now);
                    rounds += 1;
                    assert!(
                        rounds <= 3,
                        "handle_timeout({now}) left deadline {deadline} due"
                    );
                }
            }
            Op::Send { len, binary } => {
                let opcode = if binary { OpCode::Binary } else { OpCode::Text };
                let result = s.send(OutFrame::new(opcode, &vec![b'4'; usize::from(len) + 1]));
                if at_close.is_some() {
                    assert!(result.is_err(), "sends after close are refused");
                }
            }
            Op::Close => s.close(now),
            Op::DrainWs => {
                while let Some(frame) = s.poll_ws_frame() {
                    if at_close.is_some() {
                        ws_after_close += frame.len();
                    }
                }
            }
            Op::DrainPoll => {
                if let Some(body) = s.poll_payload()
                    && at_close.is_some()
                    && &body[..] == b"6"
                {
                    noops_after_close += 1;
                }
            }
        }

        assert!(
            s.queued_bytes() <= config.max_queued_bytes,
            "{} > {}",
            s.queued_bytes(),
            config.max_queued_bytes
        );
        if let Some(deadline) = s.poll_timeout() {
            assert!(deadline > now, "deadline {deadline} not after now {now}");
        }
        if s.is_closed() && at_close.is_none() {
            at_close = Some(s.queued_bytes());
        } else if at_close.is_some() {
            assert!(s.queued_bytes() <= before, "nothing is queued after close");
        }
        if let Some(queued) = at_close {
            assert!(
                ws_after_close <= queued,
                "websocket output after close beyond what close queued"
            );
            assert!(noops_after_close <= 1);
            assert_eq!(s.poll_timeout(), None);
        }
        let report = s.poll_close();
        assert_eq!(report.is_some(), s.is_closed() && close_reports == 0);
        close_reports += usize::from(report.is_some());
    }
});
