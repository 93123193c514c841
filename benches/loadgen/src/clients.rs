//! Socket.IO clients by the thousand on one thread: an epoll loop driving WebSocket or
//! long-polling sessions, recording connect, delivery and heartbeat latencies locally and
//! publishing counters to the coordinator through atomics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use base64::Engine as _;
use ringcast_codec::ws::{self, Assembler, AssemblerConfig, Message, OpCode};
use ringcast_codec::{Status, eio};

use crate::clock;
use crate::histogram::Histogram;
use crate::http1;
use crate::proto::{self, Incoming};
use crate::reactor::{Conn, Event, Poller, ReadOutcome};

/// Bytes read per `read`: 64 KiB holds ~250 deliveries of ~260 bytes, so a client that fell
/// behind catches up in few syscalls.
const READ_CHUNK: usize = 64 * 1024;
/// Most errors kept verbatim for the report (the rest are only counted).
const KEEP_ERRORS: usize = 5;

/// How the clients reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    Polling,
}

/// What every client of a run shares.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub addr: SocketAddr,
    /// `Host` header value, `127.0.0.1:PORT`.
    pub host: String,
    /// Engine.IO path, `/ws/` or `/socket.io/`.
    pub path: String,
    pub transport: Transport,
    /// Closed-loop `heartbeat` → `heartbeat_ack` while [`Shared::running`] is set.
    pub heartbeat: bool,
    /// Handshakes in flight on this worker (TCP connect → Socket.IO CONNECT ack).
    pub handshake_budget: usize,
    /// Poll without sleeping (`epoll_wait` timeout 0): the thread never idles, so no wake-up
    /// latency is added on the generator's side (costs its whole core; its CPU then reads 100 %).
    pub busy_poll: bool,
}

/// Counters and switches shared between the coordinator and every worker.
#[derive(Debug, Default)]
pub struct Shared {
    /// Workers return their stats and close every socket.
    pub stop: AtomicBool,
    /// Heartbeat clients keep one heartbeat in flight while set.
    pub running: AtomicBool,
    pub connected: AtomicU64,
    /// Handshakes that failed (connect error, non-101, refused auth, closed early).
    pub failed: AtomicU64,
    /// Sessions that ended after connecting, before `stop`.
    pub dropped: AtomicU64,
    pub deliveries: AtomicU64,
    pub acks: AtomicU64,
}

/// What one worker measured.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Receive time − `sent_ns`, per delivery.
    pub delivery_ns: Histogram,
    /// TCP connect start → Socket.IO CONNECT ack.
    pub connect_ns: Histogram,
    /// Heartbeat send → `heartbeat_ack` receive (only while running).
    pub ack_ns: Histogram,
    pub deliveries: u64,
    pub acks: u64,
    pub last_delivery_ns: u64,
    pub malformed: u64,
    pub errors: Vec<String>,
}

impl WorkerStats {
    pub fn merge(&mut self, other: &WorkerStats) {
        self.delivery_ns.merge(&other.delivery_ns);
        self.connect_ns.merge(&other.connect_ns);
        self.ack_ns.merge(&other.ack_ns);
        self.deliveries += other.deliveries;
        self.acks += other.acks;
        self.last_delivery_ns = self.last_delivery_ns.max(other.last_delivery_ns);
        self.malformed += other.malformed;
        for e in &other.errors {
            if self.errors.len() < KEEP_ERRORS {
                self.errors.push(e.clone());
            }
        }
    }

    pub(crate) fn error(&mut self, what: String) {
        if self.errors.len() < KEEP_ERRORS {
            self.errors.push(what);
        }
    }
}

/// Runs `tokens.len()` clients (one per JWT) until [`Shared::stop`]; returns their stats.
pub fn run_worker(cfg: Arc<ClientConfig>, shared: Arc<Shared>, tokens: Vec<String>) -> WorkerStats {
    let mut worker = match Worker::new(cfg, shared, tokens) {
        Ok(w) => w,
        Err(e) => {
            let mut stats = WorkerStats::default();
            stats.error(format!("worker setup: {e}"));
            return stats;
        }
    };
    worker.run();
    worker.stats
}

// ---------------------------------------------------------------------------------------------

/// Whether a session survived an event, for the worker's bookkeeping. (Completed handshakes
/// are counted in [`Ctx::connected_now`] as they happen: one event can both complete a
/// handshake and end the session.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    Stay,
    /// Ended during the handshake.
    Failed,
    /// Ended after connecting.
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// TCP + (WebSocket upgrade | polling handshake GET) until Engine.IO OPEN.
    Opening,
    /// CONNECT sent, waiting for the ack.
    Connecting,
    Connected,
}

/// What the transport-independent part asks the transport to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Nothing,
    Connect,
    Pong,
    Heartbeat,
    End,
}

/// Per-session state that does not depend on the transport.
#[derive(Debug)]
struct Core {
    phase: Phase,
    started_ns: u64,
    heartbeat_in_flight: bool,
    token: String,
}

/// Everything a client may touch while handling an event, split from the worker's client list.
struct Ctx<'a> {
    poller: &'a Poller,
    cfg: &'a ClientConfig,
    shared: &'a Shared,
    stats: &'a mut WorkerStats,
    scratch: &'a mut Vec<u8>,
    out: &'a mut Vec<u8>,
    rng: &'a mut u64,
    /// Handshakes completed while handling the current event.
    connected_now: usize,
}

impl Core {
    fn new(token: String) -> Core {
        Core {
            phase: Phase::Opening,
            started_ns: clock::now_ns(),
            heartbeat_in_flight: false,
            token,
        }
    }

    /// Reacts to one server packet.
    fn react(&mut self, incoming: Incoming, ctx: &mut Ctx<'_>) -> Reply {
        match (incoming, self.phase) {
            (Incoming::Open, Phase::Opening) => {
                self.phase = Phase::Connecting;
                Reply::Connect
            }
            (Incoming::Connected, Phase::Connecting) => {
                let now = clock::now_ns();
                ctx.stats
                    .connect_ns
                    .record(now.saturating_sub(self.started_ns));
                self.phase = Phase::Connected;
                ctx.connected_now += 1;
                self.heartbeat_reply(ctx)
            }
            (Incoming::Refused, _) => {
                ctx.stats.error("CONNECT refused (CONNECT_ERROR)".into());
                Reply::End
            }
            (Incoming::Delivery { sent_ns }, _) => {
                let now = clock::now_ns();
                ctx.stats.delivery_ns.record(now.saturating_sub(sent_ns));
                ctx.stats.deliveries += 1;
                ctx.stats.last_delivery_ns = now;
                Reply::Nothing
            }
            (Incoming::HeartbeatAck { timestamp }, Phase::Connected) => {
                self.heartbeat_in_flight = false;
                if ctx.shared.running.load(Ordering::Relaxed) {
                    ctx.stats
                        .ack_ns
                        .record(clock::now_ns().saturating_sub(timestamp));
                    ctx.stats.acks += 1;
                }
                self.heartbeat_reply(ctx)
            }
            (Incoming::Ping, _) => Reply::Pong,
            (Incoming::Closed, _) => Reply::End,
            (Incoming::Malformed, _) => {
                ctx.stats.malformed += 1;
                Reply::Nothing
            }
            _ => Reply::Nothing,
        }
    }

    /// A heartbeat to send now, in closed-loop mode, if none is in flight.
    fn heartbeat_reply(&mut self, ctx: &Ctx<'_>) -> Reply {
        if ctx.cfg.heartbeat
            && self.phase == Phase::Connected
            && !self.heartbeat_in_flight
            && ctx.shared.running.load(Ordering::Relaxed)
        {
            self.heartbeat_in_flight = true;
            Reply::Heartbeat
        } else {
            Reply::Nothing
        }
    }

    /// Writes the Engine.IO text packet for `reply` into `out` (cleared first).
    fn encode(&self, reply: Reply, out: &mut Vec<u8>) {
        out.clear();
        match reply {
            Reply::Connect => proto::write_connect_auth(out, &self.token),
            Reply::Pong => proto::write_pong(out),
            Reply::Heartbeat => proto::write_heartbeat(out, clock::now_ns()),
            Reply::Nothing | Reply::End => {}
        }
    }

    fn ended(&self) -> Transition {
        if self.phase == Phase::Connected {
            Transition::Dropped
        } else {
            Transition::Failed
        }
    }

    /// Ends the session on an IO or protocol error, noting it unless it is the expected end
    /// of a connected session at `stop`.
    fn fail(&self, error: String, ctx: &mut Ctx<'_>) -> Transition {
        if self.phase != Phase::Connected || !ctx.shared.stop.load(Ordering::Relaxed) {
            ctx.stats.error(error);
        }
        self.ended()
    }
}

enum Client {
    Ws(Box<WsClient>),
    Poll(Box<PollClient>),
}

impl Client {
    fn on_event(&mut self, ev: Event, ctx: &mut Ctx<'_>) -> Transition {
        match self {
            Client::Ws(c) => c.on_event(ev, ctx),
            Client::Poll(c) => c.on_event(ev, ctx),
        }
    }

    /// Starts a heartbeat if the session is idle (the run just began).
    fn kick(&mut self, ctx: &mut Ctx<'_>) -> Transition {
        match self {
            Client::Ws(c) => {
                let reply = c.core.heartbeat_reply(ctx);
                c.send_reply(reply, ctx)
                    .map_or_else(|e| c.core.fail(e, ctx), |()| Transition::Stay)
            }
            Client::Poll(c) => {
                let reply = c.core.heartbeat_reply(ctx);
                c.queue_reply(reply, ctx);
                c.flush_posts(ctx)
                    .map_or_else(|e| c.core.fail(e, ctx), |()| Transition::Stay)
            }
        }
    }
}

// ---- WebSocket ------------------------------------------------------------------------------

struct WsClient {
    conn: Conn,
    core: Core,
    upgraded: bool,
    expected_accept: [u8; 28],
    asm: Assembler,
    /// Bytes of a partial head or frame carried to the next read (usually empty).
    pending: Vec<u8>,
}

impl WsClient {
    fn start(token: String, id: u64, ctx: &mut Ctx<'_>) -> std::io::Result<WsClient> {
        let core = Core::new(token);
        let mut conn = Conn::connect(ctx.cfg.addr, ctx.poller, id)?;
        let mut key = [0u8; 16];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&next_rand(ctx.rng).to_le_bytes()[..chunk.len()]);
        }
        let key_b64 = base64::engine::general_purpose::STANDARD.encode(key);
        let expected_accept = ringcast_codec::http::websocket_accept(key_b64.as_bytes());
        ctx.out.clear();
        proto::write_upgrade_request(ctx.out, &ctx.cfg.host, &ctx.cfg.path, &key_b64);
        conn.send(ctx.out, ctx.poller)?;
        let asm = Assembler::new(AssemblerConfig {
            max_message: 1 << 24,
            require_mask: false,
        });
        Ok(WsClient {
            conn,
            core,
            upgraded: false,
            expected_accept,
            asm,
            pending: Vec::new(),
        })
    }

    fn on_event(&mut self, ev: Event, ctx: &mut Ctx<'_>) -> Transition {
        match self.pump(ev, ctx) {
            Ok(t) => t,
            Err(e) => self.core.fail(format!("websocket client: {e}"), ctx),
        }
    }

    fn pump(&mut self, ev: Event, ctx: &mut Ctx<'_>) -> Result<Transition, String> {
        if ev.writable {
            self.conn
                .finish_connect(ctx.poller)
                .map_err(|e| format!("connect: {e}"))?;
            self.conn
                .flush(ctx.poller)
                .map_err(|e| format!("write: {e}"))?;
        }
        if !(ev.readable || ev.failed) {
            return Ok(Transition::Stay);
        }
        loop {
            let Some((len, drained)) = read_after(&mut self.conn, &self.pending, ctx.scratch)?
            else {
                return Ok(Transition::Stay);
            };
            let mut buf = std::mem::take(ctx.scratch);
            let result = self.process(&mut buf[..len], ctx);
            *ctx.scratch = buf;
            if result? == Flow::Ended {
                return Ok(self.core.ended());
            }
            if drained {
                return Ok(Transition::Stay);
            }
        }
    }

    /// Handles every whole head and frame in `buf` and keeps the tail in `pending`.
    fn process(&mut self, buf: &mut [u8], ctx: &mut Ctx<'_>) -> Result<Flow, String> {
        let mut pos = 0;
        if !self.upgraded {
            match http1::read_response(buf) {
                Ok(Status::Partial) => {
                    self.pending.clear();
                    self.pending.extend_from_slice(buf);
                    return Ok(Flow::Continue);
                }
                Ok(Status::Complete(r)) => {
                    if r.status != 101 {
                        return Err(format!("upgrade answered {}", r.status));
                    }
                    if r.ws_accept != Some(&self.expected_accept[..]) {
                        return Err("wrong Sec-WebSocket-Accept".into());
                    }
                    pos = r.consumed;
                    self.upgraded = true;
                }
                Err(e) => return Err(format!("upgrade response: {e:?}")),
            }
        }
        loop {
            let WsClient {
                asm, core, conn, ..
            } = self;
            let (used, msg) = asm
                .decode(&mut buf[pos..])
                .map_err(|e| format!("frame: {e:?}"))?;
            if used == 0 && msg.is_none() {
                break;
            }
            pos += used;
            let reply = match msg {
                None | Some(Message::Binary(_)) | Some(Message::Pong(_)) => Reply::Nothing,
                Some(Message::Text(text)) => core.react(proto::classify(text), ctx),
                Some(Message::Ping(payload)) => {
                    ctx.out.clear();
                    proto::write_client_frame(ctx.out, OpCode::Pong, payload, mask_key(ctx.rng));
                    conn.send(ctx.out, ctx.poller)
                        .map_err(|e| format!("write: {e}"))?;
                    Reply::Nothing
                }
                Some(Message::Close(_)) => Reply::End,
            };
            if reply == Reply::End {
                return Ok(Flow::Ended);
            }
            self.send_reply(reply, ctx)?;
        }
        self.pending.clear();
        self.pending.extend_from_slice(&buf[pos..]);
        if self.pending.is_empty() && self.pending.capacity() > READ_CHUNK {
            self.pending = Vec::new();
        }
        Ok(Flow::Continue)
    }

    fn send_reply(&mut self, reply: Reply, ctx: &mut Ctx<'_>) -> Result<(), String> {
        if matches!(reply, Reply::Nothing | Reply::End) {
            return Ok(());
        }
        let mut packet = std::mem::take(ctx.out);
        self.core.encode(reply, &mut packet);
        let mut frame = Vec::with_capacity(packet.len() + ws::MAX_HEADER);
        proto::write_client_frame(&mut frame, OpCode::Text, &packet, mask_key(ctx.rng));
        *ctx.out = packet;
        self.conn
            .send(&frame, ctx.poller)
            .map_err(|e| format!("write: {e}"))
    }
}

// ---- long-polling ---------------------------------------------------------------------------

/// One HTTP/1.1 keep-alive connection with at most one request in flight.
struct Leg {
    conn: Conn,
    /// Bytes of a partial response carried to the next read.
    pending: Vec<u8>,
}

struct PollClient {
    core: Core,
    /// The long-poll GETs.
    get: Leg,
    /// POSTs (CONNECT, pongs, heartbeats), on their own connection: the GET is always pending.
    post: Leg,
    /// `path?EIO=4&transport=polling&sid=…` once the handshake named the session.
    target: String,
    /// Packets waiting for the POST leg, `0x1e`-separated.
    post_queue: Vec<u8>,
    /// A POST is in flight: one at a time, the packets queued meanwhile go in the next one.
    post_busy: bool,
}

impl PollClient {
    fn start(token: String, id: u64, ctx: &mut Ctx<'_>) -> std::io::Result<PollClient> {
        let core = Core::new(token);
        let mut get = Conn::connect(ctx.cfg.addr, ctx.poller, id)?;
        let post = Conn::connect(ctx.cfg.addr, ctx.poller, id | 1)?;
        let target = format!("{}?EIO=4&transport=polling", ctx.cfg.path);
        ctx.out.clear();
        http1::write_request(ctx.out, "GET", &ctx.cfg.host, &target, &[], b"");
        get.send(ctx.out, ctx.poller)?;
        Ok(PollClient {
            core,
            get: Leg {
                conn: get,
                pending: Vec::new(),
            },
            post: Leg {
                conn: post,
                pending: Vec::new(),
            },
            target,
            post_queue: Vec::new(),
            post_busy: false,
        })
    }

    fn on_event(&mut self, ev: Event, ctx: &mut Ctx<'_>) -> Transition {
        match self.pump(ev, ctx) {
            Ok(t) => t,
            Err(e) => self.core.fail(format!("polling client: {e}"), ctx),
        }
    }

    fn pump(&mut self, ev: Event, ctx: &mut Ctx<'_>) -> Result<Transition, String> {
        let is_post = ev.token & 1 == 1;
        let leg = if is_post {
            &mut self.post
        } else {
            &mut self.get
        };
        if ev.writable {
            leg.conn
                .finish_connect(ctx.poller)
                .map_err(|e| format!("connect: {e}"))?;
            leg.conn
                .flush(ctx.poller)
                .map_err(|e| format!("write: {e}"))?;
        }
        if !(ev.readable || ev.failed) {
            return Ok(Transition::Stay);
        }
        loop {
            let leg = if is_post {
                &mut self.post
            } else {
                &mut self.get
            };
            let Some((len, drained)) = read_after(&mut leg.conn, &leg.pending, ctx.scratch)? else {
                return Ok(Transition::Stay);
            };
            let buf = std::mem::take(ctx.scratch);
            let result = self.process(is_post, &buf[..len], ctx);
            *ctx.scratch = buf;
            if result? == Flow::Ended {
                return Ok(self.core.ended());
            }
            if drained {
                return Ok(Transition::Stay);
            }
        }
    }

    /// Handles every whole response in `buf` and keeps the tail in the leg's `pending`.
    fn process(&mut self, is_post: bool, buf: &[u8], ctx: &mut Ctx<'_>) -> Result<Flow, String> {
        let mut pos = 0;
        loop {
            let resp = match http1::read_response(&buf[pos..]) {
                Ok(Status::Complete(r)) => r,
                Ok(Status::Partial) => break,
                Err(e) => return Err(format!("response: {e:?}")),
            };
            pos += resp.consumed;
            if resp.status != 200 {
                let method = if is_post { "POST" } else { "GET" };
                let body = String::from_utf8_lossy(&resp.body);
                return Err(format!("{method} answered {}: {body}", resp.status));
            }
            if is_post {
                self.post_busy = false;
                self.flush_posts(ctx)?;
                continue;
            }
            for packet in eio::decode_payload(&resp.body) {
                let packet = packet.map_err(|e| format!("payload: {e:?}"))?;
                if let (eio::Packet::Open(json), Phase::Opening) = (&packet, self.core.phase) {
                    let sid = proto::open_sid(json).ok_or("OPEN without a sid")?;
                    self.target = format!("{}?EIO=4&transport=polling&sid={sid}", ctx.cfg.path);
                }
                let reply = self.core.react(proto::classify_packet(&packet), ctx);
                if reply == Reply::End {
                    return Ok(Flow::Ended);
                }
                self.queue_reply(reply, ctx);
            }
            self.flush_posts(ctx)?;
            // The next long poll, right away: the server holds it until it has something.
            ctx.out.clear();
            http1::write_request(ctx.out, "GET", &ctx.cfg.host, &self.target, &[], b"");
            self.get
                .conn
                .send(ctx.out, ctx.poller)
                .map_err(|e| format!("write: {e}"))?;
        }
        let leg = if is_post {
            &mut self.post
        } else {
            &mut self.get
        };
        leg.pending.clear();
        leg.pending.extend_from_slice(&buf[pos..]);
        Ok(Flow::Continue)
    }

    fn queue_reply(&mut self, reply: Reply, ctx: &mut Ctx<'_>) {
        if matches!(reply, Reply::Nothing | Reply::End) {
            return;
        }
        if !self.post_queue.is_empty() {
            self.post_queue.push(eio::SEPARATOR);
        }
        let mut packet = std::mem::take(ctx.out);
        self.core.encode(reply, &mut packet);
        self.post_queue.extend_from_slice(&packet);
        *ctx.out = packet;
    }

    /// Sends what is queued as one POST payload unless a POST is already in flight.
    fn flush_posts(&mut self, ctx: &mut Ctx<'_>) -> Result<(), String> {
        if self.post_busy || self.post_queue.is_empty() {
            return Ok(());
        }
        ctx.out.clear();
        http1::write_request(
            ctx.out,
            "POST",
            &ctx.cfg.host,
            &self.target,
            &[("Content-Type", "text/plain;charset=UTF-8")],
            &self.post_queue,
        );
        self.post_queue.clear();
        self.post
            .conn
            .send(ctx.out, ctx.poller)
            .map_err(|e| format!("write: {e}"))?;
        self.post_busy = true;
        Ok(())
    }
}

/// Whether a session goes on after its input was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    /// An Engine.IO or WebSocket close, or a refused CONNECT.
    Ended,
}

// ---- the worker loop ------------------------------------------------------------------------

struct Worker {
    poller: Poller,
    cfg: Arc<ClientConfig>,
    shared: Arc<Shared>,
    tokens: Vec<String>,
    clients: Vec<Option<Client>>,
    stats: WorkerStats,
    scratch: Vec<u8>,
    out: Vec<u8>,
    rng: u64,
}

impl Worker {
    fn new(
        cfg: Arc<ClientConfig>,
        shared: Arc<Shared>,
        tokens: Vec<String>,
    ) -> std::io::Result<Worker> {
        let mut clients = Vec::with_capacity(tokens.len());
        clients.resize_with(tokens.len(), || None);
        let seed = clock::now_ns() ^ (tokens.len() as u64).rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
        Ok(Worker {
            poller: Poller::new(1024)?,
            cfg,
            shared,
            tokens,
            clients,
            stats: WorkerStats::default(),
            scratch: vec![0; READ_CHUNK],
            out: Vec::with_capacity(1024),
            rng: seed | 1,
        })
    }

    fn run(&mut self) {
        let mut next = 0;
        let mut in_handshake = 0usize;
        let mut reported = (0u64, 0u64);
        let mut was_running = false;
        let mut events: Vec<Event> = Vec::with_capacity(1024);
        while !self.shared.stop.load(Ordering::Relaxed) {
            // Admit new sessions up to the handshake budget.
            while next < self.tokens.len() && in_handshake < self.cfg.handshake_budget {
                let token = std::mem::take(&mut self.tokens[next]);
                // Token low bit = which leg of a polling client; the index sits above it.
                let id = (next as u64) << 1;
                let mut ctx = Ctx {
                    poller: &self.poller,
                    cfg: &self.cfg,
                    shared: &self.shared,
                    stats: &mut self.stats,
                    scratch: &mut self.scratch,
                    out: &mut self.out,
                    rng: &mut self.rng,
                    connected_now: 0,
                };
                let started = match self.cfg.transport {
                    Transport::WebSocket => {
                        WsClient::start(token, id, &mut ctx).map(|c| Client::Ws(Box::new(c)))
                    }
                    Transport::Polling => {
                        PollClient::start(token, id, &mut ctx).map(|c| Client::Poll(Box::new(c)))
                    }
                };
                match started {
                    Ok(c) => {
                        self.clients[next] = Some(c);
                        in_handshake += 1;
                    }
                    Err(e) => {
                        ctx.stats.error(format!("connect: {e}"));
                        self.shared.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                next += 1;
            }

            events.clear();
            // 2 ms bounds how late a worker notices `stop` and `running` when idle.
            match self.poller.wait(if self.cfg.busy_poll { 0 } else { 2 }) {
                Ok(evs) => events.extend(evs),
                Err(e) => {
                    self.stats.error(format!("epoll_wait: {e}"));
                    break;
                }
            }
            let running = self.shared.running.load(Ordering::Relaxed);
            let kick = running && !was_running && self.cfg.heartbeat;
            was_running = running;
            let mut ctx = Ctx {
                poller: &self.poller,
                cfg: &self.cfg,
                shared: &self.shared,
                stats: &mut self.stats,
                scratch: &mut self.scratch,
                out: &mut self.out,
                rng: &mut self.rng,
                connected_now: 0,
            };
            for ev in &events {
                let idx = (ev.token >> 1) as usize;
                let Some(Some(client)) = self.clients.get_mut(idx) else {
                    continue;
                };
                let t = client.on_event(*ev, &mut ctx);
                // Count a completed handshake before a possible end in the same event.
                if ctx.connected_now > 0 {
                    in_handshake -= ctx.connected_now;
                    self.shared
                        .connected
                        .fetch_add(ctx.connected_now as u64, Ordering::Relaxed);
                    ctx.connected_now = 0;
                }
                settle(&mut self.clients[idx], t, &self.shared, &mut in_handshake);
            }
            if kick {
                for slot in self.clients.iter_mut() {
                    if let Some(client) = slot {
                        let t = client.kick(&mut ctx);
                        settle(slot, t, &self.shared, &mut in_handshake);
                    }
                }
            }
            // Publish progress for the coordinator (deliveries drive its drain check).
            let now = (self.stats.deliveries, self.stats.acks);
            if now != reported {
                self.shared
                    .deliveries
                    .fetch_add(now.0 - reported.0, Ordering::Relaxed);
                self.shared
                    .acks
                    .fetch_add(now.1 - reported.1, Ordering::Relaxed);
                reported = now;
            }
        }
    }
}

/// Applies a client's fate to the worker's books and frees the slot of an ended session.
/// One read into `scratch` after the bytes a connection kept from its last read (`pending`):
/// `Some((valid bytes in scratch, whether the socket is drained))`, `None` when nothing was
/// ready, an error when the server closed.
fn read_after(
    conn: &mut Conn,
    pending: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<Option<(usize, bool)>, String> {
    let keep = pending.len();
    if scratch.len() < keep + READ_CHUNK {
        scratch.resize(keep + READ_CHUNK, 0);
    }
    scratch[..keep].copy_from_slice(pending);
    match conn
        .read_into(&mut scratch[keep..])
        .map_err(|e| format!("read: {e}"))?
    {
        ReadOutcome::Data { n, drained } => Ok(Some((keep + n, drained))),
        ReadOutcome::WouldBlock => Ok(None),
        ReadOutcome::Closed => Err("closed by the server".into()),
    }
}

fn settle(slot: &mut Option<Client>, t: Transition, shared: &Shared, in_handshake: &mut usize) {
    match t {
        Transition::Stay => {}
        Transition::Failed => {
            *in_handshake -= 1;
            shared.failed.fetch_add(1, Ordering::Relaxed);
            *slot = None;
        }
        Transition::Dropped => {
            if !shared.stop.load(Ordering::Relaxed) {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            shared.connected.fetch_sub(1, Ordering::Relaxed);
            *slot = None;
        }
    }
}

/// xorshift64*: WebSocket keys and masks only need to differ, not to be secret (loopback).
fn next_rand(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn mask_key(rng: &mut u64) -> [u8; 4] {
    let r = next_rand(rng).to_le_bytes();
    [r[0], r[1], r[2], r[3]]
}
