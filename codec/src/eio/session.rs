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
//!    [`Session::handle_transport_closed`] when a transport's connection ends.
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

use bytes::Bytes;

use super::Packet;
use crate::ws::OutFrame;

/// Session settings; defaults are the python-socketio server ringcast replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// ms between server pings (25 000).
    pub ping_interval: u64,
    /// ms to wait for a pong (30 000... python-socketio semantics; 20 000 in socket.io).
    pub ping_timeout: u64,
    /// Largest polling payload the server sends or accepts (1 000 000 bytes).
    pub max_payload: usize,
    /// Bound on queued outbound bytes; exceeding it closes with [`CloseReason::SlowConsumer`].
    pub max_queued_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { ping_interval: 25_000, ping_timeout: 30_000, max_payload: 1_000_000, max_queued_bytes: 4 << 20 }
    }
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
/// except [`SessionError::BadUpgrade`], which only rejects the websocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// The session is already closed.
    Closed,
    /// A packet not allowed in the current state (OPEN from a client, `5` without probe, ...).
    UnexpectedPacket,
    /// A second concurrent polling GET: the session closes (answer the 2nd with HTTP 400).
    ConcurrentPoll,
    /// An upgrade on a websocket session, or while another upgrade is in progress.
    BadUpgrade,
    /// The outbound queue is over its bound: the session closes as a slow consumer.
    QueueFull,
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
    _priv: (),
}

impl Session {
    pub fn new(config: SessionConfig, transport: Transport, now: u64) -> Session {
        let _ = (config, transport, now);
        unimplemented!()
    }
    pub fn config(&self) -> &SessionConfig {
        unimplemented!()
    }
    /// The transport currently carrying the session's outbound queue.
    pub fn transport(&self) -> Transport {
        unimplemented!()
    }
    pub fn is_upgrading(&self) -> bool {
        unimplemented!()
    }
    pub fn is_closed(&self) -> bool {
        unimplemented!()
    }

    // ---- inputs ----

    /// A packet decoded from `from`. Message packets are returned for the application.
    pub fn handle_packet<'a>(&mut self, packet: Packet<'a>, from: Transport, now: u64) -> Result<Input<'a>, SessionError> {
        let _ = (packet, from, now);
        unimplemented!()
    }
    /// A polling GET arrived. `Err(ConcurrentPoll)` if one is already pending (session closes).
    pub fn handle_poll_request(&mut self, now: u64) -> Result<(), SessionError> {
        let _ = now;
        unimplemented!()
    }
    /// A websocket with this session's sid arrived (`transport=websocket&sid=…`).
    pub fn handle_upgrade_request(&mut self, now: u64) -> Result<(), SessionError> {
        let _ = now;
        unimplemented!()
    }
    /// The deadline from [`Session::poll_timeout`] passed (calling it early is harmless).
    pub fn handle_timeout(&mut self, now: u64) {
        let _ = now;
        unimplemented!()
    }
    /// A transport's connection ended. Losing the active transport closes the session; losing a
    /// websocket mid-upgrade only abandons the upgrade.
    pub fn handle_transport_closed(&mut self, transport: Transport, now: u64) {
        let _ = (transport, now);
        unimplemented!()
    }
    /// Closes the session from the server side: a `1` packet is queued so the client learns it.
    pub fn close(&mut self, now: u64) {
        let _ = now;
        unimplemented!()
    }

    // ---- application output ----

    /// Queues an already-encoded message frame (a WebSocket frame whose payload is the Engine.IO
    /// text packet, e.g. `42["event",{…}]`, or a binary frame). `Err(QueueFull)` closes the session.
    pub fn send(&mut self, frame: OutFrame) -> Result<(), SessionError> {
        let _ = frame;
        unimplemented!()
    }
    /// Bytes currently queued.
    pub fn queued_bytes(&self) -> usize {
        unimplemented!()
    }

    // ---- outputs ----

    /// The next frame for the websocket writer: the `3probe` reply while upgrading, then queued
    /// frames (pings included) once the transport is websocket.
    pub fn poll_ws_frame(&mut self) -> Option<OutFrame> {
        unimplemented!()
    }
    /// The body for the pending polling GET if there is anything to send (queued packets joined
    /// by `\x1e`, at most `max_payload` bytes; a noop during upgrade; a close packet), which also
    /// completes that GET. `None`: keep the GET waiting.
    pub fn poll_payload(&mut self) -> Option<Bytes> {
        unimplemented!()
    }
    /// Whether a polling GET is pending.
    pub fn has_pending_poll(&self) -> bool {
        unimplemented!()
    }
    /// The next deadline at which [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        unimplemented!()
    }
    /// `Some(reason)` once, after the session has closed.
    pub fn poll_close(&mut self) -> Option<CloseReason> {
        unimplemented!()
    }
}
