//! The Engine.IO v4 session state machine, sans-IO.
//!
//! CONTRACT (the server codes against these signatures; keep them).
//!
//! Time is a parameter: `now` is milliseconds on any monotonic scale the caller chooses.
//!
//! Call order:
//! 1. [`Session::new`]; the caller writes the OPEN packet itself (it knows the sid) — for a
//!    polling session as the body of the handshake GET, for websocket as the first frame.
//! 2. Feed inputs as they happen: [`Session::handle_packet`] for every decoded client packet
//!    (saying which transport it came on), [`Session::handle_poll_request`] when a polling GET
//!    arrives, [`Session::handle_upgrade_request`] when a WebSocket with this sid arrives,
//!    [`Session::handle_timeout`] when [`Session::poll_timeout`]'s deadline passes,
//!    [`Session::handle_transport_closed`] when a transport's connection ends,
//!    [`Session::handle_invalid_packet`] when a client message does not decode.
//! 3. Queue application messages with [`Session::send`] (already-encoded, shareable frames).
//! 4. After any input, drain outputs: [`Session::poll_ws_frame`] for the WebSocket writer (the
//!    probe reply during an upgrade, then the queue once upgraded), [`Session::poll_payload`]
//!    for a pending polling GET, [`Session::poll_close`] once to learn that the session ended
//!    and why, and [`Session::poll_timeout`] for the next deadline.
//!
//! Ping schedule (protocol v4): the server sends `2` every `ping_interval`; if no `3` comes
//! back within `ping_timeout` of a ping, the session closes with [`CloseReason::PingTimeout`].
//! A pending polling GET is answered by the ping at the latest, so it never waits longer than
//! `ping_interval`.
//!
//! Upgrade (polling → websocket): `handle_upgrade_request` (only on a polling session, once);
//! the client sends `2probe` on the websocket → `3probe` is queued for the websocket and a
//! `6` (noop) is made ready for the pending/next GET so the client's polling loop pauses; the
//! client sends `5` on the websocket → the transport becomes websocket and everything still
//! queued drains through [`Session::poll_ws_frame`].
//!
//! Decisions taken from socket.io's engine.io (`lib/socket.ts`, `lib/transports/polling.ts`):
//! - One ping is outstanding at a time: the next ping is due `ping_interval` after the pong
//!   (engine.io refreshes its interval timer on pong), and the pong deadline counts from the
//!   moment the ping was actually queued. A pong nobody asked for is ignored.
//! - A client `2` (v3 heartbeat direction) is answered with `3` + the same data, as
//!   python-engineio does, instead of closing as engine.io does: harmless, and it keeps v3-ish
//!   clients working. `2probe` on the *probing* websocket is the upgrade probe.
//! - Upgrade: one attempt per session. Anything other than `2probe`/`5` on the probing
//!   websocket, the websocket closing, or no `5` within [`UPGRADE_TIMEOUT`] abandons it: the
//!   session goes on over polling. `5` before `2probe` (or `5`/`0` on the active transport) is
//!   [`SessionError::UnexpectedPacket`]: a parse error that closes the session. After `5`, a GET that was still pending gets `6`, and any
//!   later polling request is [`SessionError::WrongTransport`] (HTTP 400, session untouched:
//!   socket.io answers "transport mismatch" with a 400 the same way).
//! - Closing. A client `1` on polling answers a pending GET with `6` (engine.io's polling
//!   `onClose`). [`Session::close`] keeps what is queued and queues `1` behind it, so the next
//!   GET still drains it. Every other reason drops the queue; the active websocket, or a GET
//!   that is pending at that moment, gets `1`; a later GET is [`SessionError::Closed`] (socket.io
//!   forgets the sid at once: 400). A lost transport outputs nothing.
//! - After close, [`Session::poll_payload`]/[`Session::poll_ws_frame`] yield only what the close
//!   queued; once they return `None`, the server closes the websocket / forgets the session.
//!
//! Protocol v3 ([`Session::new_v3`], socket.io-client 2.x; engine.io's `socket.ts` with
//! `protocol === 3`): the heartbeat is reversed. The server sends no pings; the client sends `2`
//! and gets `3`, and the session closes with [`CloseReason::PingTimeout`] when no ping came
//! within `ping_interval + ping_timeout` of the last one (or of the open). A client `3` is
//! "invalid heartbeat direction": a parse error. Polling bodies are v3 payloads
//! ([`super::v3::encode_payload`]: `<len>:<packet>`, or the binary form), the noop is `1:6`,
//! and a binary message goes on the websocket as `04` + data. The upgrade is the same.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::{Packet, put_base64, v3};
use crate::ws::{CloseCode, OpCode, OutFrame};

/// ms a probing websocket has to complete the upgrade (`5`) after it arrives; socket.io's
/// `upgradeTimeout` default (10 000).
pub const UPGRADE_TIMEOUT: u64 = 10_000;

/// Session settings; defaults are the python-socketio server ringcast replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// ms between server pings (25 000). At least 1 (0 is raised to 1).
    pub ping_interval: u64,
    /// ms to wait for a pong (30 000... python-socketio semantics; 20 000 in socket.io). At
    /// least 1 (0 is raised to 1).
    pub ping_timeout: u64,
    /// Largest polling payload the server sends or accepts (1 000 000 bytes). One packet larger
    /// than this is still sent, alone, or it would never leave the queue.
    pub max_payload: usize,
    /// Bound on queued outbound bytes; exceeding it closes with [`CloseReason::SlowConsumer`].
    pub max_queued_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            ping_interval: 25_000,
            ping_timeout: 30_000,
            max_payload: 1_000_000,
            max_queued_bytes: 4 << 20,
        }
    }
}

/// The Engine.IO protocol revision a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    V4,
    /// v3 (socket.io-client 2.x). `binary`: polling bodies with a binary message use the binary
    /// payload form (the client did not ask for `b64=1`).
    V3 {
        binary: bool,
    },
}

/// Which transport a packet came on / the session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Polling,
    WebSocket,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent a close packet.
    ClientClose,
    /// The server called [`Session::close`].
    ServerClose,
    /// No pong within `ping_timeout`.
    PingTimeout,
    /// The transport's connection ended.
    TransportClose,
    /// A packet that violates the protocol.
    ParseError,
    /// A second polling GET while one is pending.
    ConcurrentPoll,
    /// The outbound queue exceeded `max_queued_bytes`.
    SlowConsumer,
}

/// Errors returned by inputs; the session is closed when one is returned (see `poll_close`),
/// except [`SessionError::BadUpgrade`], which only rejects the websocket, and
/// [`SessionError::WrongTransport`], which only rejects that request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// The session is already closed.
    Closed,
    /// A packet not allowed in the current state (OPEN from a client, `5` without probe, ...).
    UnexpectedPacket,
    /// A second concurrent polling GET: the session closes (answer the 2nd with HTTP 400).
    ConcurrentPoll,
    /// An upgrade on a websocket session, a second upgrade attempt, or a packet other than
    /// `2probe`/`5` on the probing websocket: close that websocket; the session goes on.
    BadUpgrade,
    /// The outbound queue is over its bound: the session closes as a slow consumer.
    QueueFull,
    /// A request or packet for a transport the session does not use (a polling GET or POST
    /// after the upgrade, a websocket packet before one): answer HTTP 400 / close that
    /// connection; the session goes on.
    WrongTransport,
}

/// What [`Session::handle_packet`] hands to the application.
#[derive(Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// A control packet the session consumed itself.
    None,
    /// A message packet for the application (Socket.IO).
    Message(&'a str),
    Binary(std::borrow::Cow<'a, [u8]>),
}

/// One Engine.IO session. See the module docs for the call order.
#[derive(Debug)]
pub struct Session {
    /// Shared by every session made from the same `Arc` (8 bytes per session, not 32).
    config: Arc<SessionConfig>,
    protocol: Protocol,
    transport: Transport,
    upgrade: Upgrade,
    heartbeat: Heartbeat,
    /// Outbound frames for the active transport (application messages, pings, pongs, `1`).
    queue: VecDeque<OutFrame>,
    queued_bytes: usize,
    /// A frame for the probing websocket only: `3probe`, or a close frame when the upgrade is
    /// abandoned by the session (bad packet, timeout). Boxed: it lives only during an upgrade
    /// from polling, and inline it took 48 bytes of every session (8 boxed).
    probe_out: Option<Box<OutFrame>>,
    pending_poll: bool,
    /// Answer the pending/next GET with `6` if nothing else is queued for it.
    noop_ready: bool,
    closed: Option<CloseReason>,
    close_reported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// A polling session that may still upgrade.
    Available,
    /// A websocket arrived; `probed` once it sent `2probe`.
    Probing { deadline: u64, probed: bool },
    /// Upgraded, abandoned, websocket-only, or closed: no (more) upgrade.
    Spent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heartbeat {
    /// The next ping is due at this time.
    PingAt(u64),
    /// A ping is out; the pong must arrive before this time.
    PongBy(u64),
    /// v3: the client's next ping must arrive before this time.
    PingBy(u64),
}

impl Session {
    /// A session opened at `now`. A driver making many sessions passes one `Arc` clone to each
    /// (a plain `SessionConfig` is put in an `Arc` of its own); a config with a zero interval
    /// or timeout gets a raised copy.
    pub fn new(config: impl Into<Arc<SessionConfig>>, transport: Transport, now: u64) -> Session {
        let mut config = config.into();
        if config.ping_interval == 0 || config.ping_timeout == 0 {
            let c = Arc::make_mut(&mut config);
            c.ping_interval = c.ping_interval.max(1);
            c.ping_timeout = c.ping_timeout.max(1);
        }
        let first_ping = now.saturating_add(config.ping_interval);
        Session {
            config,
            protocol: Protocol::V4,
            transport,
            upgrade: match transport {
                Transport::Polling => Upgrade::Available,
                Transport::WebSocket => Upgrade::Spent,
            },
            heartbeat: Heartbeat::PingAt(first_ping),
            queue: VecDeque::new(),
            queued_bytes: 0,
            probe_out: None,
            pending_poll: false,
            noop_ready: false,
            closed: None,
            close_reported: false,
        }
    }
    /// A protocol v3 session (see the module docs): the client pings, payloads are v3's.
    pub fn new_v3(
        config: impl Into<Arc<SessionConfig>>,
        transport: Transport,
        now: u64,
        binary: bool,
    ) -> Session {
        let mut session = Session::new(config, transport, now);
        session.protocol = Protocol::V3 { binary };
        session.heartbeat = Heartbeat::PingBy(session.v3_ping_deadline(now));
        session
    }
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
    /// The transport currently carrying the session's outbound queue.
    pub fn transport(&self) -> Transport {
        self.transport
    }
    pub fn is_upgrading(&self) -> bool {
        matches!(self.upgrade, Upgrade::Probing { .. })
    }
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    // ---- inputs ----

    /// A packet decoded from `from`. Message packets are returned for the application.
    pub fn handle_packet<'a>(
        &mut self,
        packet: Packet<'a>,
        from: Transport,
        now: u64,
    ) -> Result<Input<'a>, SessionError> {
        if self.closed.is_some() {
            return Err(SessionError::Closed);
        }
        if from == Transport::WebSocket && self.is_upgrading() {
            return self.probe_packet(packet);
        }
        if from != self.transport {
            return Err(SessionError::WrongTransport);
        }
        match packet {
            Packet::Message(text) => Ok(Input::Message(text)),
            Packet::Binary(data) => Ok(Input::Binary(data)),
            Packet::Pong(_) if self.protocol != Protocol::V4 => {
                // engine.io: "invalid heartbeat direction" closes a v3 session.
                self.shut(CloseReason::ParseError);
                Err(SessionError::UnexpectedPacket)
            }
            Packet::Pong(_) => {
                if let Heartbeat::PongBy(_) = self.heartbeat {
                    self.heartbeat =
                        Heartbeat::PingAt(now.saturating_add(self.config.ping_interval));
                }
                Ok(Input::None)
            }
            Packet::Ping(data) => {
                if let Heartbeat::PingBy(_) = self.heartbeat {
                    self.heartbeat = Heartbeat::PingBy(self.v3_ping_deadline(now));
                }
                let pong = if data.is_empty() {
                    frames(|f| f.pong.clone())
                } else {
                    control_frame(b'3', data)
                };
                self.enqueue(pong).map(|()| Input::None)
            }
            Packet::Noop => Ok(Input::None),
            Packet::Close => {
                self.shut(CloseReason::ClientClose);
                Ok(Input::None)
            }
            Packet::Open(_) | Packet::Upgrade => {
                self.shut(CloseReason::ParseError);
                Err(SessionError::UnexpectedPacket)
            }
        }
    }
    /// A message from `from` could not be decoded ([`super::EioError`]): the session closes
    /// with [`CloseReason::ParseError`], unless it came on the probing websocket, which only
    /// abandons the upgrade (as socket.io closes just that transport).
    pub fn handle_invalid_packet(&mut self, from: Transport, now: u64) {
        let _ = now;
        if self.closed.is_some() {
            return;
        }
        if from == Transport::WebSocket && self.is_upgrading() {
            self.abandon_upgrade(true);
        } else if from == self.transport {
            self.shut(CloseReason::ParseError);
        }
    }
    /// A polling GET arrived. `Err(ConcurrentPoll)` if one is already pending (session closes).
    ///
    /// After [`Session::close`], a GET is still accepted while output is left for it.
    pub fn handle_poll_request(&mut self, now: u64) -> Result<(), SessionError> {
        let _ = now;
        if self.closed.is_some() {
            if self.pending_poll
                || (self.queue.is_empty() && !self.noop_ready)
                || self.transport != Transport::Polling
            {
                return Err(SessionError::Closed);
            }
            self.pending_poll = true;
            return Ok(());
        }
        if self.transport != Transport::Polling {
            return Err(SessionError::WrongTransport);
        }
        if self.pending_poll {
            self.shut(CloseReason::ConcurrentPoll);
            return Err(SessionError::ConcurrentPoll);
        }
        self.pending_poll = true;
        Ok(())
    }
    /// A websocket with this session's sid arrived (`transport=websocket&sid=…`).
    pub fn handle_upgrade_request(&mut self, now: u64) -> Result<(), SessionError> {
        if self.closed.is_some() {
            return Err(SessionError::Closed);
        }
        if self.upgrade != Upgrade::Available {
            return Err(SessionError::BadUpgrade);
        }
        self.upgrade = Upgrade::Probing {
            deadline: now.saturating_add(UPGRADE_TIMEOUT),
            probed: false,
        };
        Ok(())
    }
    /// The deadline from [`Session::poll_timeout`] passed (calling it early is harmless).
    pub fn handle_timeout(&mut self, now: u64) {
        if self.closed.is_some() {
            return;
        }
        if let Upgrade::Probing { deadline, .. } = self.upgrade
            && now >= deadline
        {
            self.abandon_upgrade(true);
        }
        let heartbeat = self.heartbeat;
        match heartbeat {
            // A ping that does not fit closes the session as a slow consumer (in `enqueue`).
            Heartbeat::PingAt(at)
                if now >= at && self.enqueue(frames(|f| f.ping.clone())).is_ok() =>
            {
                self.heartbeat = Heartbeat::PongBy(now.saturating_add(self.config.ping_timeout));
            }
            Heartbeat::PongBy(by) | Heartbeat::PingBy(by) if now >= by => {
                self.shut(CloseReason::PingTimeout)
            }
            _ => {}
        }
    }
    /// A transport's connection ended. Losing the active transport closes the session; losing a
    /// websocket mid-upgrade only abandons the upgrade.
    ///
    /// For polling, "the connection" is the pending GET: its connection dying before the answer
    /// closes the session (engine.io: "poll connection closed prematurely"); with no GET
    /// pending this is ignored, as the client's next request simply comes on a new connection.
    pub fn handle_transport_closed(&mut self, transport: Transport, now: u64) {
        let _ = now;
        if self.closed.is_some() {
            // Whatever was left for the lost transport can no longer be delivered.
            if transport == self.transport
                && (transport == Transport::WebSocket || self.pending_poll)
            {
                self.drop_output();
            }
            return;
        }
        match transport {
            Transport::WebSocket if self.is_upgrading() => self.abandon_upgrade(false),
            Transport::WebSocket if self.transport == Transport::WebSocket => {
                self.shut(CloseReason::TransportClose)
            }
            Transport::Polling if self.transport == Transport::Polling && self.pending_poll => {
                self.pending_poll = false;
                self.shut(CloseReason::TransportClose);
            }
            // The websocket of an abandoned upgrade: its close frame has nowhere to go.
            Transport::WebSocket => self.probe_out = None,
            Transport::Polling => {}
        }
    }
    /// Closes the session from the server side: a `1` packet is queued so the client learns it.
    ///
    /// Frames queued before are still delivered first. If `1` does not fit in
    /// `max_queued_bytes`, the undelivered frames are dropped to make room for it.
    pub fn close(&mut self, now: u64) {
        let _ = now;
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(CloseReason::ServerClose);
        self.end_upgrade();
        self.noop_ready = false;
        let close = frames(|f| f.close.clone());
        if self.queued_bytes + close.len() > self.config.max_queued_bytes {
            self.drop_output();
        }
        self.push_if_fits(close);
    }

    // ---- application output ----

    /// Queues an already-encoded message frame (a WebSocket frame whose payload is the Engine.IO
    /// text packet, e.g. `42["event",{…}]`, or a binary frame). `Err(QueueFull)` closes the session.
    pub fn send(&mut self, frame: OutFrame) -> Result<(), SessionError> {
        if self.closed.is_some() {
            return Err(SessionError::Closed);
        }
        self.enqueue(frame)
    }
    /// Bytes currently queued.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    // ---- outputs ----

    /// The next frame for the websocket writer: the `3probe` reply while upgrading, then queued
    /// frames (pings included) once the transport is websocket.
    ///
    /// A WebSocket close frame (opcode [`OpCode::Close`]) means the session abandoned the
    /// upgrade: write it and close that websocket.
    pub fn poll_ws_frame(&mut self) -> Option<OutFrame> {
        if let Some(frame) = self.probe_out.take() {
            return Some(*frame);
        }
        if self.transport != Transport::WebSocket {
            return None;
        }
        let frame = self.queue.pop_front()?;
        self.queued_bytes -= frame.len();
        if self.protocol != Protocol::V4 && frame.opcode() == OpCode::Binary {
            // v3 puts the message type in front of binary data: one copy per v3 recipient.
            return Some(v3::ws_binary_frame(&frame.payload()));
        }
        Some(frame)
    }
    /// The body for the pending polling GET if there is anything to send (queued packets joined
    /// by `\x1e`, at most `max_payload` bytes; a noop during upgrade; a close packet), which also
    /// completes that GET. `None`: keep the GET waiting.
    ///
    /// Text frames go as their payload (one frame alone: the same allocation, no copy); binary
    /// frames as `b` + base64.
    pub fn poll_payload(&mut self) -> Option<Bytes> {
        if !self.pending_poll {
            return None;
        }
        let body = if self.transport == Transport::Polling && !self.queue.is_empty() {
            match self.protocol {
                Protocol::V4 => self.drain_payload(),
                Protocol::V3 { binary } => self.drain_payload_v3(binary),
            }
        } else if self.noop_ready {
            Bytes::from_static(match self.protocol {
                Protocol::V4 => b"6",
                Protocol::V3 { .. } => b"1:6",
            })
        } else {
            return None;
        };
        self.pending_poll = false;
        self.noop_ready = false;
        Some(body)
    }
    /// Whether a polling GET is pending.
    pub fn has_pending_poll(&self) -> bool {
        self.pending_poll
    }
    /// Frees the outbound queue's storage while it is empty: a queue keeps the capacity of its
    /// longest backlog (at least 4 frames, 192 bytes), which an idle websocket need not hold.
    /// For a driver to call when the session goes idle; the next frame allocates it again.
    pub fn trim(&mut self) {
        if self.queue.is_empty() {
            self.queue = VecDeque::new();
        }
    }
    /// Bytes of storage the outbound queue holds (for [`Session::trim`]'s tests and gauges).
    pub fn queue_capacity_bytes(&self) -> usize {
        self.queue.capacity() * std::mem::size_of::<OutFrame>()
    }
    /// The next deadline at which [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.closed.is_some() {
            return None;
        }
        let heartbeat = match self.heartbeat {
            Heartbeat::PingAt(t) | Heartbeat::PongBy(t) | Heartbeat::PingBy(t) => t,
        };
        Some(match self.upgrade {
            Upgrade::Probing { deadline, .. } => heartbeat.min(deadline),
            _ => heartbeat,
        })
    }
    /// `Some(reason)` once, after the session has closed.
    pub fn poll_close(&mut self) -> Option<CloseReason> {
        if self.close_reported {
            return None;
        }
        let reason = self.closed?;
        self.close_reported = true;
        Some(reason)
    }

    // ---- helpers ----

    /// v3: when the client's next ping is due at the latest, if its last one came `now`.
    fn v3_ping_deadline(&self, now: u64) -> u64 {
        now.saturating_add(self.config.ping_interval)
            .saturating_add(self.config.ping_timeout)
    }

    /// [`Session::drain_payload`] in v3's payload form: frames up to `max_payload` bytes of
    /// string records (at least one frame).
    fn drain_payload_v3(&mut self, binary: bool) -> Bytes {
        let max = self.config.max_payload;
        let mut frames = Vec::new();
        let mut size = 0;
        while let Some(next) = self.queue.front() {
            let len = v3::string_record_len(next);
            if !frames.is_empty() && size + len > max {
                break;
            }
            size += len;
            self.queued_bytes -= next.len();
            frames.extend(self.queue.pop_front());
        }
        v3::encode_payload(&frames, binary)
    }

    fn probe_packet<'a>(&mut self, packet: Packet<'a>) -> Result<Input<'a>, SessionError> {
        let Upgrade::Probing { deadline, probed } = self.upgrade else {
            return Err(SessionError::BadUpgrade);
        };
        match packet {
            Packet::Ping("probe") => {
                self.probe_out = Some(Box::new(frames(|f| f.probe.clone())));
                self.upgrade = Upgrade::Probing {
                    deadline,
                    probed: true,
                };
                // Make the client's pending (or next) GET return so its polling loop pauses.
                self.noop_ready = true;
                Ok(Input::None)
            }
            Packet::Upgrade if probed => {
                self.transport = Transport::WebSocket;
                self.upgrade = Upgrade::Spent;
                // A GET still pending on polling gets `6`; nothing else ever goes there again.
                self.noop_ready = self.pending_poll;
                Ok(Input::None)
            }
            Packet::Upgrade => {
                self.shut(CloseReason::ParseError);
                Err(SessionError::UnexpectedPacket)
            }
            _ => {
                self.abandon_upgrade(true);
                Err(SessionError::BadUpgrade)
            }
        }
    }

    /// Gives up the upgrade; the session stays on polling. `notify`: leave a close frame for
    /// the probing websocket (it is still connected).
    fn abandon_upgrade(&mut self, notify: bool) {
        self.upgrade = Upgrade::Spent;
        self.probe_out = notify.then(|| Box::new(OutFrame::close(CloseCode::NORMAL, "")));
    }

    fn end_upgrade(&mut self) {
        self.upgrade = Upgrade::Spent;
        self.probe_out = None;
    }

    /// Closes for any reason but [`CloseReason::ServerClose`] (see the module docs).
    fn shut(&mut self, reason: CloseReason) {
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(reason);
        self.end_upgrade();
        self.drop_output();
        let reachable = self.transport == Transport::WebSocket || self.pending_poll;
        match reason {
            // engine.io's polling onClose answers the pending GET with a noop.
            CloseReason::ClientClose => {
                self.noop_ready = self.pending_poll && self.transport == Transport::Polling
            }
            CloseReason::TransportClose | CloseReason::ServerClose => {}
            _ if reachable => self.push_if_fits(frames(|f| f.close.clone())),
            _ => {}
        }
    }

    fn drop_output(&mut self) {
        self.queue.clear();
        self.queued_bytes = 0;
        self.noop_ready = false;
    }

    fn enqueue(&mut self, frame: OutFrame) -> Result<(), SessionError> {
        if self.queued_bytes + frame.len() > self.config.max_queued_bytes {
            self.shut(CloseReason::SlowConsumer);
            return Err(SessionError::QueueFull);
        }
        self.queued_bytes += frame.len();
        self.queue.push_back(frame);
        Ok(())
    }

    fn push_if_fits(&mut self, frame: OutFrame) {
        if self.queued_bytes + frame.len() <= self.config.max_queued_bytes {
            self.queued_bytes += frame.len();
            self.queue.push_back(frame);
        }
    }

    /// Pops queued frames into one polling body of at most `max_payload` bytes (but at least
    /// one frame). The queue is non-empty.
    fn drain_payload(&mut self) -> Bytes {
        let max = self.config.max_payload;
        let Some(first) = self.queue.pop_front() else {
            return Bytes::new();
        };
        self.queued_bytes -= first.len();
        if first.opcode() != OpCode::Binary
            && self
                .queue
                .front()
                .is_none_or(|next| record_len(&first) + 1 + record_len(next) > max)
        {
            return first.payload();
        }
        let mut body = Vec::with_capacity(self.queued_bytes.min(max) + record_len(&first));
        put_record(&mut body, &first);
        while let Some(next) = self.queue.front() {
            if body.len() + 1 + record_len(next) > max {
                break;
            }
            body.push(super::SEPARATOR);
            put_record(&mut body, next);
            self.queued_bytes -= next.len();
            self.queue.pop_front();
        }
        Bytes::from(body)
    }
}

/// The server frames every session sends, built once per thread (thread-per-core: no shared
/// refcount bouncing between cores) and handed out as refcounted clones.
struct Frames {
    ping: OutFrame,
    pong: OutFrame,
    close: OutFrame,
    probe: OutFrame,
}

thread_local! {
    static FRAMES: Frames = Frames {
        ping: OutFrame::new(OpCode::Text, b"2"),
        pong: OutFrame::new(OpCode::Text, b"3"),
        close: OutFrame::new(OpCode::Text, b"1"),
        probe: OutFrame::new(OpCode::Text, b"3probe"),
    };
}

fn frames(f: impl FnOnce(&Frames) -> OutFrame) -> OutFrame {
    FRAMES.with(f)
}

/// A text frame carrying `kind` followed by `data`.
fn control_frame(kind: u8, data: &str) -> OutFrame {
    let mut buf = crate::ws::FrameBuf::with_capacity(1 + data.len());
    crate::Sink::put_u8(&mut buf, kind);
    crate::Sink::put(&mut buf, data.as_bytes());
    buf.finish(OpCode::Text)
}

/// The payload of a server frame (never masked): RFC 6455 §5.2 header of 2, 4 or 10 bytes.
fn frame_payload(frame: &OutFrame) -> &[u8] {
    let bytes = frame.bytes();
    let header = match bytes.get(1).map(|b| b & 0x7f) {
        Some(126) => 4,
        Some(127) => 10,
        _ => 2,
    };
    bytes.get(header..).unwrap_or_default()
}

/// Bytes `frame` takes in a polling payload.
fn record_len(frame: &OutFrame) -> usize {
    let len = frame_payload(frame).len();
    if frame.opcode() == OpCode::Binary {
        super::base64_record_len(len)
    } else {
        len
    }
}

fn put_record(out: &mut Vec<u8>, frame: &OutFrame) {
    let payload = frame_payload(frame);
    if frame.opcode() == OpCode::Binary {
        out.push(b'b');
        put_base64(out, payload);
    } else {
        out.extend_from_slice(payload);
    }
}
