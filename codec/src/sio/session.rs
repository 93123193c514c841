//! The Socket.IO v5 session state machine, sans-IO: the Socket.IO half of one Engine.IO
//! session (its namespaces, acks, binary attachments and connect timeout), with no IO, no
//! clock, no randomness and no application callbacks.
//!
//! CONTRACT (the server codes against these signatures; keep them).
//!
//! Time is a parameter: `now` is milliseconds on the same monotonic scale as the
//! [`crate::eio::Session`] it rides on. Socket ids are made by the caller (they need a CSPRNG)
//! and handed in as any `S: AsRef<str> + Clone`.
//!
//! The call order is documented on [`Session`].
//!
//! # Protocol (socket.io-protocol, v5 README), and where this follows ringcast's worker instead
//! - "At the beginning of a Socket.IO session, the client MUST send a `CONNECT` packet [...]
//!   The server MUST respond with either: a `CONNECT` packet if the connection is successful,
//!   with the session ID in the payload, or a `CONNECT_ERROR` packet if the connection is not
//!   allowed" — `40[nsp,]{"sid":…}` / `44[nsp,]{"message":…}`. A CONNECT for a namespace that
//!   is connected or being authorized is ignored (socket.io ignores a duplicate CONNECT).
//! - "If the server does not receive a `CONNECT` packet first, then it MUST close the
//!   connection immediately." Like the worker (and socket.io's `connectTimeout`), a packet for
//!   a namespace that is not connected is ignored, and the session closes only when no
//!   namespace is connected [`SessionConfig::connect_timeout`] after it opened
//!   ([`CloseReason::ConnectTimeout`]).
//! - "A client MAY be connected to multiple namespaces at the same time": one [`Slot`] per
//!   namespace, the lowest free one first.
//! - EVENT: "The payload is mandatory and MUST be a non-empty array. If that's not the case,
//!   then the receiver MUST close the connection." Every packet that does not decode (see
//!   [`Packet::decode`]), a CONNECT_ERROR from the client, a text packet while attachments are
//!   expected, an attachment nobody announced, and placeholders that do not match the
//!   attachments close the session with [`CloseReason::ParseError`].
//! - Acknowledgement: "The sender MAY include an event ID in order to request an
//!   acknowledgement from the receiver [...] The receiver MUST respond with an `ACK` packet
//!   with the same event ID." Each ack id is answered at most once, in both directions: an ACK
//!   from the client for an id the server is not waiting for is ignored and counted
//!   ([`SessionStats::unknown_acks`]), as socket.io's `onack` ignores a "bad ack"; and
//!   [`Session::ack`] refuses an id the client did not ask for or that was answered already,
//!   as socket.io's ack callback does nothing once `sent`. Ids wait in a bounded list per
//!   socket and direction ([`SessionConfig::max_pending_acks`]); the oldest is forgotten first.
//! - "At any time, one side can end the connection to a namespace by sending a `DISCONNECT`
//!   packet [...] No response is expected from the other side. The low-level connection MAY be
//!   kept alive if the client is connected to another namespace." — it is kept.
//! - BINARY_EVENT/BINARY_ACK: the header packet, then exactly its count of binary messages
//!   (at most [`DecodeLimits::max_attachments`]), before anything else; a binary packet that
//!   announces 0 attachments is dispatched at once without a placeholder check, as the worker
//!   does.
//! - Protocol v4 (socket.io-client 2.x): [`Session::open_v4`] connects `/` without a CONNECT,
//!   a CONNECT's `?query` is its auth, and the replies take v4's forms (see [`super::v4`]).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::recovery::write_connect_recoverable;
use super::{
    BinaryAssembler, DecodeLimits, Packet, PacketType, SioError, check_placeholders, encode_ack,
    encode_event, encode_text, write_connect, write_connect_error, write_disconnect,
};
use crate::ws::{CloseCode, OutFrame};

/// The CONNECT_ERROR message for a namespace the server does not serve (socket.io's text).
pub const INVALID_NAMESPACE: &str = "Invalid namespace";

/// Settings of a Socket.IO session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// ms after [`Session::new`] by which some namespace must be connected (45 000, as
    /// socket.io's `connectTimeout`).
    pub connect_timeout: u64,
    /// Packet decoding limits (JSON depth 32, 10 attachments).
    pub limits: DecodeLimits,
    /// Ack ids remembered per socket and direction (1 024; at least 1). Past it the oldest is
    /// forgotten: its answer is then ignored (client → server) or refused (server → client).
    pub max_pending_acks: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            connect_timeout: 45_000,
            limits: DecodeLimits::default(),
            max_pending_acks: 1024,
        }
    }
}

/// A socket's index within its session: one per connected namespace, the lowest free one is
/// taken first (so the driver can keep its per-socket state in a parallel vector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(pub usize);

impl Slot {
    pub fn index(self) -> usize {
        self.0
    }
}

/// An acknowledgement id (the digits after the namespace on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AckId(pub u64);

/// Names one [`Output::Authorize`] request when answering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectId(u64);

impl ConnectId {
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A CONNECT waiting for the driver's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    pub id: ConnectId,
    /// The namespace, e.g. `/` or `/admin`.
    pub nsp: String,
    /// The raw JSON of the CONNECT payload (an object), if any.
    pub auth: Option<String>,
}

/// Why a socket was disconnected (the strings are socket.io's disconnect reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client sent a Socket.IO DISCONNECT.
    ClientNamespaceDisconnect,
    /// The server disconnected the socket ([`Session::disconnect`], or a server close).
    ServerNamespaceDisconnect,
    /// The client closed the Engine.IO session or its connection.
    TransportClose,
    /// No pong within the ping timeout.
    PingTimeout,
    /// The client sent something the protocol forbids.
    ParseError,
    /// The outbound queue exceeded its bound.
    SlowConsumer,
    /// The server is shutting down.
    ServerShutdown,
}

impl DisconnectReason {
    /// The reason string socket.io uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::ServerShutdown => "server shutting down",
        }
    }
}

/// Which protocol violation closed the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The text packet does not decode ([`Packet::decode`]).
    Decode(SioError),
    /// The client sent CONNECT_ERROR, which only servers send.
    ConnectErrorFromClient,
    /// A text packet arrived while a binary packet's attachments were still expected.
    TextBeforeAttachments,
    /// A binary message arrived with no binary packet waiting for it.
    UnexpectedAttachment,
    /// The placeholders do not match the attachments ([`check_placeholders`]).
    Placeholders(SioError),
    /// The EVENT's name and arguments could not be read ([`Packet::event`]).
    Event(SioError),
}

impl ParseError {
    /// The WebSocket close code that says why (see [`SioError::close_code`]): a packet out of
    /// sequence or one only servers send is a protocol error (1002).
    pub fn close_code(self) -> CloseCode {
        match self {
            ParseError::Decode(e) | ParseError::Placeholders(e) | ParseError::Event(e) => {
                e.close_code()
            }
            ParseError::ConnectErrorFromClient
            | ParseError::TextBeforeAttachments
            | ParseError::UnexpectedAttachment => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// Why the session asks the driver to close the Engine.IO session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// A protocol violation: close as a parse error
    /// ([`crate::eio::Session::handle_invalid_packet`] on the current transport, which drops
    /// the queue and sends `1`).
    ParseError(ParseError),
    /// No namespace connected within [`SessionConfig::connect_timeout`]: close from the server
    /// side ([`crate::eio::Session::close`], which flushes the queue, then `1`).
    ConnectTimeout,
}

/// Why a command was refused; the session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandError {
    /// The session has closed.
    Closed,
    /// No socket in that slot (never connected, or disconnected since).
    NoSuchSocket,
    /// No CONNECT waits under that id (answered already, or dropped by a close).
    UnknownRequest,
    /// The client did not ask for that ack id, or it was answered already.
    AckNotPending,
}

/// What the driver must act on; see the module docs for the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<S> {
    /// A CONNECT to decide: answer with [`Session::handle_authorized`] or
    /// [`Session::handle_refused`].
    Authorize(ConnectRequest),
    /// A socket connected (its CONNECT reply was returned by `handle_authorized`).
    Connected {
        slot: Slot,
        nsp: String,
        sid: S,
        auth: Option<String>,
    },
    /// An event from the client. `args` is the JSON array of its arguments after the name
    /// (`[{"room":"x"}]`, `[]`); `ack` is set when the client wants an answer
    /// ([`Session::ack`]); `attachments` are what its placeholders refer to.
    Event {
        slot: Slot,
        name: String,
        args: String,
        ack: Option<AckId>,
        attachments: Vec<Bytes>,
    },
    /// The client's answer to [`Session::emit_with_ack`] `id`: `args` is the raw JSON array.
    Ack {
        slot: Slot,
        id: AckId,
        args: String,
        attachments: Vec<Bytes>,
    },
    /// A socket is gone; its slot is free.
    Disconnected {
        slot: Slot,
        nsp: String,
        sid: S,
        reason: DisconnectReason,
    },
    /// Close the Engine.IO session. The last output of the session.
    Close(CloseReason),
}

/// Counters of what the session dropped without closing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// ACKs from the client for an id nobody waits for (unknown, answered, or forgotten).
    pub unknown_acks: u64,
    /// Ack ids forgotten because [`SessionConfig::max_pending_acks`] were waiting.
    pub forgotten_acks: u64,
    /// EVENT/ACK/DISCONNECT packets for a namespace the client is not connected to.
    pub unconnected: u64,
}

/// One connected namespace.
#[derive(Debug)]
struct Socket<S> {
    nsp: String,
    sid: S,
    /// The last ack id handed out by `emit_with_ack` (the first is 1).
    next_ack: u64,
    /// Made at the socket's first ack either way and kept: most sockets never use acks (a
    /// dashboard only receives broadcasts), and two queues inline made every socket record 120
    /// bytes instead of 64.
    acks: Option<Box<Acks>>,
}

/// The ack ids a socket waits for or owes.
#[derive(Debug, Default)]
struct Acks {
    /// Ids of server emits waiting for the client's ACK, oldest first.
    server: VecDeque<u64>,
    /// Ids the client asked the server to answer, oldest first (repeats allowed: each EVENT
    /// that asks gets its own answer).
    client: VecDeque<u64>,
}

impl<S> Socket<S> {
    fn acks_mut(&mut self) -> &mut Acks {
        self.acks.get_or_insert_with(Box::default)
    }
    fn server_acks(&self) -> impl Iterator<Item = u64> + '_ {
        self.acks.iter().flat_map(|a| a.server.iter().copied())
    }
    fn client_acks(&self) -> impl Iterator<Item = u64> + '_ {
        self.acks.iter().flat_map(|a| a.client.iter().copied())
    }
    /// Removes `id` from the server emits waiting for an ACK; `false` when nobody waits for it.
    fn take_server_ack(&mut self, id: u64) -> bool {
        self.acks
            .as_mut()
            .is_some_and(|a| take_first(&mut a.server, id))
    }
    /// Removes one `id` from the answers owed to the client; `false` when none is owed.
    fn take_client_ack(&mut self, id: u64) -> bool {
        self.acks
            .as_mut()
            .is_some_and(|a| take_first(&mut a.client, id))
    }
}

/// Removes the first `id` in `list`; `false` when it holds none.
fn take_first(list: &mut VecDeque<u64>, id: u64) -> bool {
    match list.iter().position(|&x| x == id) {
        Some(pos) => list.remove(pos).is_some(),
        None => false,
    }
}

/// A BINARY_EVENT/BINARY_ACK waiting for its attachments.
#[derive(Debug)]
struct PendingBinary {
    kind: PacketType,
    nsp: String,
    id: Option<u64>,
    data: String,
    assembler: BinaryAssembler,
}

/// A CONNECT handed to the driver and not answered yet.
#[derive(Debug)]
struct PendingConnect {
    id: u64,
    nsp: String,
    auth: Option<String>,
}

/// The Socket.IO side of one Engine.IO session (see the [module docs](self) for the protocol
/// rules it implements).
///
/// # Call order
/// 1. [`Session::new`] when the Engine.IO session opens (it arms the connect timeout).
/// 2. Feed inputs as they happen: [`Session::handle_text`] for every Engine.IO message
///    (the text after the `4`), [`Session::handle_binary`] for every Engine.IO binary message,
///    [`Session::handle_timeout`] when [`Session::poll_timeout`]'s deadline passes, and
///    [`Session::handle_engine_closed`] once the Engine.IO session has closed for a reason of its
///    own (ping timeout, transport close, slow consumer, server close).
/// 3. After **every** call (inputs and commands alike), drain [`Session::poll_output`] until
///    `None`, handling each output completely before polling the next:
///    - [`Output::Authorize`]: decide the CONNECT (namespace allowed? auth valid?), then answer
///      with [`Session::handle_authorized`] (a fresh socket id) or [`Session::handle_refused`]
///      (a message; [`INVALID_NAMESPACE`] for an unknown namespace). Either returns the reply
///      frame to queue on the Engine.IO session.
///    - [`Output::Connected`] / [`Output::Disconnected`]: create / drop the driver's per-socket
///      state (rooms, application data) for that [`Slot`]; a slot is reused after it was freed,
///      so apply these in order.
///    - [`Output::Event`] / [`Output::Ack`]: hand to the application.
///    - [`Output::Close`]: close the Engine.IO session as [`CloseReason`] says. It is always the
///      last output: nothing follows it.
/// 4. Commands from the application: [`Session::emit`], [`Session::emit_with_ack`],
///    [`Session::ack`], [`Session::disconnect`]. They **return** their frames rather than
///    queueing them, so that the driver puts them on the Engine.IO queue at the moment of the
///    call, in order with the broadcast frames it queues there itself.
///
/// The session never holds outbound frames: every frame it makes is returned by the call that
/// made it. Its outputs are bounded: one input yields at most one output per live socket plus
/// one.
///
/// # Example
/// ```
/// use ringcast_codec::sio::{Output, Session, SessionConfig, Slot, INVALID_NAMESPACE};
///
/// let mut wire = Vec::new(); // what the driver queues on the Engine.IO session
/// let mut session: Session<&str> = Session::new(SessionConfig::default(), 0);
/// session.handle_text("0");
/// while let Some(output) = session.poll_output() {
///     match output {
///         Output::Authorize(req) if req.nsp == "/" => {
///             wire.push(session.handle_authorized(req.id, "wZX3oN0bSVIhsaknAAAI").unwrap())
///         }
///         Output::Authorize(req) => {
///             wire.push(session.handle_refused(req.id, INVALID_NAMESPACE).unwrap())
///         }
///         Output::Connected { slot, .. } => {
///             wire.extend(session.emit(slot, "hey", r#""Jude""#, &[]).unwrap())
///         }
///         _ => {}
///     }
/// }
/// let payloads: Vec<_> = wire.iter().map(|f| f.payload()).collect();
/// assert_eq!(payloads, [&br#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#[..], br#"42["hey","Jude"]"#]);
/// assert_eq!(session.poll_timeout(), None, "connected: no connect timeout any more");
/// assert_eq!(session.slot_of("/"), Some(Slot(0)));
/// ```
#[derive(Debug)]
pub struct Session<S> {
    /// Shared by every session made from the same `Arc` (8 bytes per session, not 32).
    config: Arc<SessionConfig>,
    sockets: Vec<Option<Socket<S>>>,
    connecting: Vec<PendingConnect>,
    next_connect: u64,
    /// Boxed: ~100 bytes that every session carried inline for a rare binary packet.
    pending_binary: Option<Box<PendingBinary>>,
    connect_deadline: Option<u64>,
    outputs: VecDeque<Output<S>>,
    closed: bool,
    stats: SessionStats,
    /// Socket.IO protocol v4 ([`Session::open_v4`]).
    v4: bool,
}

impl<S: AsRef<str> + Clone> Session<S> {
    /// A session whose Engine.IO session opened at `now`.
    ///
    /// A driver making many sessions passes one `Arc` clone to each (a plain `SessionConfig`
    /// is put in an `Arc` of its own); a config with `max_pending_acks` 0 gets a raised copy.
    pub fn new(config: impl Into<Arc<SessionConfig>>, now: u64) -> Session<S> {
        let mut config = config.into();
        if config.max_pending_acks == 0 {
            Arc::make_mut(&mut config).max_pending_acks = 1;
        }
        let connect_deadline = Some(now.saturating_add(config.connect_timeout));
        Session {
            config,
            sockets: Vec::new(),
            connecting: Vec::new(),
            next_connect: 0,
            pending_binary: None,
            connect_deadline,
            outputs: VecDeque::new(),
            closed: false,
            stats: SessionStats::default(),
            v4: false,
        }
    }
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }
    /// Whether the session has closed (it produced [`Output::Close`] or was told the Engine.IO
    /// session closed).
    pub fn is_closed(&self) -> bool {
        self.closed
    }
    /// Frees storage an idle session does not use: the CONNECT and output queues once empty
    /// (each keeps at least 4 entries' worth after its first use: 224 and 480 bytes measured),
    /// and the socket table beyond its connected namespaces (4 slots, 480 bytes, for one
    /// namespace). For a driver to call when the session goes idle; what is needed again is
    /// allocated again.
    pub fn trim(&mut self) {
        if self.connecting.is_empty() {
            self.connecting = Vec::new();
        }
        if self.outputs.is_empty() {
            self.outputs = VecDeque::new();
        }
        while self.sockets.last().is_some_and(Option::is_none) {
            self.sockets.pop();
        }
        self.sockets.shrink_to_fit();
    }
    /// Bytes of storage held by the CONNECT and output queues and by unused socket slots (what
    /// [`Session::trim`] frees when the queues are empty).
    pub fn spare_bytes(&self) -> usize {
        self.connecting.capacity() * std::mem::size_of::<PendingConnect>()
            + self.outputs.capacity() * std::mem::size_of::<Output<S>>()
            + (self.sockets.capacity() - self.sockets.len())
                * std::mem::size_of::<Option<Socket<S>>>()
    }
    pub fn stats(&self) -> SessionStats {
        self.stats
    }
    /// The slot connected to `nsp`, if any.
    pub fn slot_of(&self, nsp: &str) -> Option<Slot> {
        self.sockets
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.nsp == nsp))
            .map(Slot)
    }
    /// The namespace of the socket in `slot`.
    pub fn nsp(&self, slot: Slot) -> Option<&str> {
        self.socket(slot).map(|s| s.nsp.as_str())
    }
    /// The id of the socket in `slot`.
    pub fn sid(&self, slot: Slot) -> Option<&S> {
        self.socket(slot).map(|s| &s.sid)
    }
    /// Connected sockets, lowest slot first.
    pub fn sockets(&self) -> impl Iterator<Item = (Slot, &str, &S)> {
        self.sockets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (Slot(i), s.nsp.as_str(), &s.sid)))
    }
    /// Ack ids of server emits on `slot` still waiting for the client, oldest first.
    pub fn awaiting_client_acks(&self, slot: Slot) -> impl Iterator<Item = AckId> + '_ {
        self.socket(slot)
            .into_iter()
            .flat_map(|s| s.server_acks().map(AckId))
    }
    /// Ack ids the client asked for on `slot` and the server has not answered, oldest first.
    pub fn owed_acks(&self, slot: Slot) -> impl Iterator<Item = AckId> + '_ {
        self.socket(slot)
            .into_iter()
            .flat_map(|s| s.client_acks().map(AckId))
    }

    // ---- inputs ----

    /// Switches to Socket.IO protocol v4 (a socket.io-client 2.x on an Engine.IO v3 session)
    /// and connects `/` at once with `auth` (the handshake query's, [`super::v4::query_auth`]):
    /// [`Output::Authorize`] follows, as for a client CONNECT.
    pub fn open_v4(&mut self, auth: Option<&str>) {
        self.v4 = true;
        self.on_connect("/", auth);
    }
    /// Whether the session speaks Socket.IO protocol v4 ([`Session::open_v4`]).
    pub fn is_v4(&self) -> bool {
        self.v4
    }

    /// An Engine.IO message packet's text (the Socket.IO packet, without the `4`).
    pub fn handle_text(&mut self, text: &str) {
        if self.closed {
            return;
        }
        let packet = match Packet::decode(text, &self.config.limits) {
            Ok(packet) => packet,
            Err(e) => return self.fail(ParseError::Decode(e)),
        };
        if self.pending_binary.is_some() {
            // A text packet while attachments are still expected: the count was a lie.
            return self.fail(ParseError::TextBeforeAttachments);
        }
        match packet.kind {
            PacketType::Connect => self.on_connect(packet.nsp, packet.data),
            PacketType::Disconnect => match self.slot_of(packet.nsp) {
                Some(slot) => self.remove(slot, DisconnectReason::ClientNamespaceDisconnect),
                None => self.stats.unconnected += 1,
            },
            PacketType::ConnectError => self.fail(ParseError::ConnectErrorFromClient),
            PacketType::Event
            | PacketType::Ack
            | PacketType::BinaryEvent
            | PacketType::BinaryAck
                if packet.attachments > 0 =>
            {
                self.pending_binary = Some(Box::new(PendingBinary {
                    kind: packet.kind,
                    nsp: packet.nsp.to_owned(),
                    id: packet.id,
                    data: packet.data.unwrap_or("[]").to_owned(),
                    assembler: BinaryAssembler::new(packet.attachments),
                }));
            }
            PacketType::Event
            | PacketType::Ack
            | PacketType::BinaryEvent
            | PacketType::BinaryAck => {
                let data = packet.data.unwrap_or("[]");
                self.dispatch(packet.kind, packet.nsp, packet.id, data, Vec::new());
            }
        }
    }

    /// An Engine.IO binary message: the next attachment of the pending binary packet.
    pub fn handle_binary(&mut self, data: Bytes) {
        if self.closed {
            return;
        }
        let Some(pending) = self.pending_binary.as_mut() else {
            return self.fail(ParseError::UnexpectedAttachment);
        };
        if !pending.assembler.handle_attachment(data) {
            return;
        }
        let Some(pending) = self.pending_binary.take() else {
            return;
        };
        let attachments = pending.assembler.into_attachments();
        if let Err(e) = check_placeholders(&pending.data, attachments.len()) {
            return self.fail(ParseError::Placeholders(e));
        }
        self.dispatch(
            pending.kind,
            &pending.nsp,
            pending.id,
            &pending.data,
            attachments,
        );
    }

    /// The deadline from [`Session::poll_timeout`] passed (calling it early is harmless).
    pub fn handle_timeout(&mut self, now: u64) {
        if self.closed {
            return;
        }
        if let Some(deadline) = self.connect_deadline
            && now >= deadline
        {
            self.connect_deadline = None;
            if self.sockets.iter().all(Option::is_none) {
                self.close(CloseReason::ConnectTimeout);
            }
        }
    }

    /// The Engine.IO session closed for `reason` (mapped by the driver from
    /// [`crate::eio::CloseReason`]): every socket is disconnected with it, lowest slot first.
    /// No [`Output::Close`] follows (the Engine.IO session is closed already). Ignored once
    /// the session has closed.
    pub fn handle_engine_closed(&mut self, reason: DisconnectReason) {
        if self.closed {
            return;
        }
        self.disconnect_all(reason);
        self.closed = true;
    }

    /// Accepts the CONNECT `id` as socket `sid`: returns the `40[nsp,]{"sid":…}` frame to
    /// queue; [`Output::Connected`] follows.
    pub fn handle_authorized(&mut self, id: ConnectId, sid: S) -> Result<OutFrame, CommandError> {
        self.handle_authorized_recoverable(id, sid, None)
    }

    /// [`Session::handle_authorized`] for a server with connection state recovery on: with a
    /// `pid` the reply is `40[nsp,]{"sid":…,"pid":…}` (socket.io ≥ 4.6). A recovered socket's
    /// missed events are queued by the driver before this reply, which the client buffers.
    pub fn handle_authorized_recoverable(
        &mut self,
        id: ConnectId,
        sid: S,
        pid: Option<&str>,
    ) -> Result<OutFrame, CommandError> {
        let request = self.take_request(id)?;
        let v4 = self.v4;
        let frame = encode_text(|out| match pid {
            // v4 replies carry no data: no sid, no pid (socket.io's `_onconnect`).
            _ if v4 => super::v4::write_connect(out, &request.nsp),
            Some(pid) => write_connect_recoverable(out, &request.nsp, sid.as_ref(), pid),
            None => write_connect(out, &request.nsp, sid.as_ref()),
        });
        let socket = Socket {
            nsp: request.nsp.clone(),
            sid: sid.clone(),
            next_ack: 0,
            acks: None,
        };
        let slot = match self.sockets.iter().position(Option::is_none) {
            Some(free) => {
                self.sockets[free] = Some(socket);
                free
            }
            None => {
                self.sockets.push(Some(socket));
                self.sockets.len() - 1
            }
        };
        self.connect_deadline = None;
        self.outputs.push_back(Output::Connected {
            slot: Slot(slot),
            nsp: request.nsp,
            sid,
            auth: request.auth,
        });
        Ok(frame)
    }

    /// Refuses the CONNECT `id`: returns the `44[nsp,]{"message":…}` frame to queue.
    pub fn handle_refused(
        &mut self,
        id: ConnectId,
        message: &str,
    ) -> Result<OutFrame, CommandError> {
        let request = self.take_request(id)?;
        let v4 = self.v4;
        Ok(encode_text(|out| match v4 {
            true => super::v4::write_connect_error(out, &request.nsp, message),
            false => write_connect_error(out, &request.nsp, message),
        }))
    }

    // ---- commands ----

    /// An EVENT `event` with `args` (raw JSON of the arguments, comma-separated: `{"a":1}`,
    /// `1,"x"`, empty; placeholders for `attachments` included) to the socket in `slot`: the
    /// text frame, then one binary frame per attachment.
    pub fn emit(
        &mut self,
        slot: Slot,
        event: &str,
        args: &str,
        attachments: &[Bytes],
    ) -> Result<Vec<OutFrame>, CommandError> {
        let socket = self.live_socket(slot)?;
        Ok(encode_event(&socket.nsp, None, event, args, attachments))
    }

    /// [`Session::emit`] asking the client for an acknowledgement: the ack id (1, 2, … per
    /// socket) that its [`Output::Ack`] will carry, and the frames.
    pub fn emit_with_ack(
        &mut self,
        slot: Slot,
        event: &str,
        args: &str,
        attachments: &[Bytes],
    ) -> Result<(AckId, Vec<OutFrame>), CommandError> {
        let max = self.config.max_pending_acks;
        let socket = self.live_socket(slot)?;
        socket.next_ack = socket.next_ack.wrapping_add(1);
        let id = socket.next_ack;
        let frames = encode_event(&socket.nsp, Some(id), event, args, attachments);
        let forgotten = dispatch::remember(&mut socket.acks_mut().server, id, max);
        self.stats.forgotten_acks += forgotten;
        Ok((AckId(id), frames))
    }

    /// Answers the client's EVENT `id` on `slot` with `args` (raw JSON, comma-separated): the
    /// ACK text frame, then one binary frame per attachment. Each id the client asked for is
    /// answered once: a second answer is [`CommandError::AckNotPending`].
    pub fn ack(
        &mut self,
        slot: Slot,
        id: AckId,
        args: &str,
        attachments: &[Bytes],
    ) -> Result<Vec<OutFrame>, CommandError> {
        let socket = self.live_socket(slot)?;
        if !socket.take_client_ack(id.0) {
            return Err(CommandError::AckNotPending);
        }
        Ok(encode_ack(&socket.nsp, id.0, args, attachments))
    }

    /// Disconnects the socket in `slot` from the server side: returns the `41[nsp,]` frame to
    /// queue; [`Output::Disconnected`] follows. Other namespaces stay connected.
    pub fn disconnect(&mut self, slot: Slot) -> Result<OutFrame, CommandError> {
        let socket = self.live_socket(slot)?;
        let frame = encode_text(|out| write_disconnect(out, &socket.nsp));
        self.remove(slot, DisconnectReason::ServerNamespaceDisconnect);
        Ok(frame)
    }

    // ---- outputs ----

    /// The next thing for the driver to act on, in order.
    pub fn poll_output(&mut self) -> Option<Output<S>> {
        self.outputs.pop_front()
    }

    /// The next deadline at which [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.closed {
            return None;
        }
        self.connect_deadline
    }
}

mod dispatch;
