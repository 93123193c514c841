//! The server side of the Socket.IO admin UI (`@socket.io/admin-ui` 0.5.1) on namespace
//! [`NAMESPACE`]: the login ([`login`]), `config` and `server_stats` every 2 s ([`stats`]),
//! the UI's commands ([`commands`]) and, in development mode, the live socket and room events
//! ([`shapes`]).
//!
//! Across a cluster, as the reference does through its adapter ([`cluster`]): each node reports
//! itself (`serverId` is `hostname#pid`, and the UI lists every server it hears from) to its own
//! UIs on each UI socket's 2 s deadline and to the other nodes' UIs every 2 s (`server_stats`
//! on the adapter's `socket.io#/admin#`, where a Node socket.io node's admin UI publishes
//! too); development mode's events go the same way, `all_sockets` lists every node's sockets,
//! and `join`, `leave`, `_disconnect` act on every node's sockets (REMOTE_JOIN / REMOTE_LEAVE /
//! REMOTE_DISCONNECT, which Node nodes obey as well). `emit` goes cluster-wide, as any
//! broadcast does. In `cluster_mode = "sharded"` the bridge relays no events and sends no
//! commands: the UI hears and commands its own node only (`all_sockets` still lists every
//! node's sockets: the sharded bridge fetches).
//!
//! Everything the UI is sent goes either to one admin socket directly or through
//! [`LocalNode::deliver`] (this node's admin sockets) plus [`AdminCluster::relay`] (the other
//! nodes'); never given a recovery offset: only `/` events carry one.
//!
//! A layer beside `gateway` (which calls it) above `engine`; it uses `config` for its settings.

mod cluster;
mod commands;
mod login;
mod shapes;
mod stats;

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{AdminAuth, AdminConfig, AdminMode};
use crate::engine::adapter::{LocalNode, RemoteCommand, Selector};
use crate::engine::stats::WorkerStats;
use crate::engine::{
    BroadcastOp, ConnectInfo, Cores, DisconnectReason, Room, Socket, encode_event,
};

pub use cluster::{AdminCluster, ClusterFailure, Pending};

use commands::Command;
use login::{Gate, Login};
use shapes::SocketView;
use stats::{Base, Totals};

/// The package's default `namespaceName`.
pub const NAMESPACE: &str = "/admin";

/// The admin UI's server side, shared by every worker.
pub struct AdminUi {
    gate: Gate,
    mode: AdminMode,
    base: Base,
    /// Connected `/admin` sockets on this node (the workers' socket gauge counts them too).
    sockets: AtomicU64,
    /// This node, for commands and for what is sent to every admin socket; set at start.
    node: OnceLock<Arc<dyn LocalNode>>,
    /// The other nodes, when clustered; set at start.
    cluster: OnceLock<Arc<dyn AdminCluster>>,
}

impl std::fmt::Debug for AdminUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminUi")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// What the server keeps per `/admin` socket.
#[derive(Debug)]
pub struct AdminSocket {
    /// A fresh login's session id, emitted as `session` once connected.
    new_session: Option<String>,
    /// The counters at the last `server_stats`, for the next one's `aggregatedEvents`.
    last: Totals,
}

impl AdminUi {
    /// `None` when `admin_ui` is off.
    pub fn new(config: &AdminConfig) -> Option<AdminUi> {
        if !config.enabled {
            return None;
        }
        let credentials = match &config.auth {
            AdminAuth::Password(Some(hash)) => Some((config.username.clone(), hash.clone())),
            // Refused at load (`admin_password_hash` is required): no namespace without a check.
            AdminAuth::Password(None) => return None,
            AdminAuth::None => None,
        };
        Some(AdminUi {
            gate: Gate::new(credentials),
            mode: config.mode,
            base: Base::new(),
            sockets: AtomicU64::new(0),
            node: OnceLock::new(),
            cluster: OnceLock::new(),
        })
    }

    /// Hands over this node once the engine has started it, and the way to the other nodes.
    pub fn set_node(&self, node: Arc<dyn LocalNode>, cluster: Arc<dyn AdminCluster>) {
        let _ = self.node.set(node);
        let _ = self.cluster.set(cluster);
    }

    /// Starts the thread that sends this node's `server_stats` to the other nodes' UIs every
    /// [`stats::INTERVAL`] (the reference's `setInterval(emitStats, 2000)` on every node, UI
    /// or not: one small PUBLISH per node every 2 s). Its `aggregatedEvents` are the increase
    /// since its previous report; this node's own UIs get theirs on their sockets' deadlines.
    pub fn relay_stats(self: &Arc<Self>, workers: Arc<[WorkerStats]>) -> std::io::Result<()> {
        let admin = self.clone();
        std::thread::Builder::new()
            .name("ringcast-admin".to_owned())
            .spawn(move || {
                let mut last = Totals::of(&workers);
                loop {
                    std::thread::sleep(stats::INTERVAL);
                    let Some(cluster) = admin.cluster.get().filter(|c| c.relays()) else {
                        continue;
                    };
                    let now = Totals::of(&workers);
                    let aggregated = now.since(&last, epoch_ms());
                    last = now;
                    let admins = admin.sockets.load(Ordering::Relaxed);
                    let body = stats::server_stats(&admin.base, &workers, admins, aggregated);
                    cluster.relay(admin_op("server_stats", &body, Vec::new()));
                }
            })
            .map(drop)
    }

    /// Whether `socket` is an `/admin` socket.
    pub fn is_admin(socket: &Socket<'_>) -> bool {
        socket.data::<AdminSocket>().is_some()
    }

    /// Decides a CONNECT to [`NAMESPACE`].
    pub fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn Any>, String> {
        match self.gate.check(info.auth) {
            Ok(login) => {
                tracing::info!(peer = %info.peer, "admin UI login");
                let new_session = match login {
                    Login::New(id) => Some(id),
                    Login::Open | Login::Resumed => None,
                };
                Ok(Box::new(AdminSocket {
                    new_session,
                    last: Totals::default(),
                }))
            }
            Err(why) => {
                tracing::warn!(peer = %info.peer, reason = why, "admin UI login refused");
                Err(why.to_owned())
            }
        }
    }

    /// An `/admin` socket connected: `session` (after a password login), `config`, a first
    /// `server_stats`, and in development mode `all_sockets`.
    pub fn on_connect(&self, socket: &mut Socket<'_>) {
        self.sockets.fetch_add(1, Ordering::Relaxed);
        let totals = {
            let server = socket.server();
            Totals::of(server.stats())
        };
        let session = socket.data_mut::<AdminSocket>().and_then(|s| {
            s.last = totals;
            s.new_session.take()
        });
        if let Some(id) = session {
            socket.emit("session", &shapes::string(&id));
        }
        socket.emit("config", &shapes::config(self.mode));
        self.emit_stats(socket);
        if self.mode == AdminMode::Development {
            self.send_all_sockets(socket);
        }
    }

    /// `server_stats` every [`stats::INTERVAL`], on the socket's own deadline.
    pub fn on_deadline(&self, socket: &mut Socket<'_>) {
        self.emit_stats(socket);
    }

    /// An `/admin` socket left.
    pub fn on_disconnect(&self) {
        self.sockets.fetch_sub(1, Ordering::Relaxed);
    }

    /// An event from the UI: a command, or ignored.
    pub fn on_event(&self, socket: &mut Socket<'_>, event: &str, args: &str) {
        let command = match commands::parse(event, args) {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(why) => {
                tracing::debug!(reason = why, "admin UI command ignored");
                return;
            }
        };
        // The command, not its arguments (an emit's payload is the application's data).
        tracing::info!(
            command = event,
            socket_id = %socket.id().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            "admin UI command"
        );
        let selector = |nsp: Room, filter: Option<Room>| Selector {
            nsp,
            rooms: filter.into_iter().collect(),
            ..Default::default()
        };
        let command = match command {
            Command::Emit {
                nsp,
                filter,
                event,
                args,
            } => {
                let op = BroadcastOp {
                    frames: encode_event(nsp.as_str(), None, &event, &args, &[]),
                    nsp: nsp.clone(),
                    rooms: filter.into_iter().collect(),
                    ..Default::default()
                };
                if nsp.as_str() == "/" {
                    // Every node's sockets, as the publish API's broadcasts.
                    socket.server().broadcast(op);
                } else {
                    self.deliver(op);
                }
                return;
            }
            Command::Join { nsp, room, filter } => RemoteCommand::Join {
                selector: selector(nsp, filter),
                rooms: vec![room],
            },
            Command::Leave { nsp, room, filter } => RemoteCommand::Leave {
                selector: selector(nsp, filter),
                rooms: vec![room],
            },
            Command::Disconnect { nsp, close, filter } => RemoteCommand::Disconnect {
                selector: selector(nsp, filter),
                close,
            },
        };
        let cores = socket.server().cores();
        self.apply(cores, command);
    }

    /// Development mode: a `/` socket connected (`socket_connected`).
    pub fn client_connected(&self, socket: &Socket<'_>) {
        if !self.watching() {
            return;
        }
        let (Some(id), Some(client)) = (socket.id(), socket.session_id()) else {
            return;
        };
        let id = id.as_str().to_owned();
        let mut rooms = vec![id.clone()];
        rooms.extend(socket.rooms().iter().map(|r| r.as_str().to_owned()));
        let address = socket
            .peer()
            .map(|p| p.ip().to_string())
            .unwrap_or_default();
        let now = epoch_ms();
        let view = SocketView {
            id: &id,
            client_id: client.as_str(),
            transport: TRANSPORT,
            nsp: "/",
            address: &address,
            rooms: &rooms,
            issued_ms: now,
        };
        let args = format!(
            "{},{}",
            view.to_json(),
            shapes::string(&shapes::iso_date(now))
        );
        self.to_admins("socket_connected", &args);
    }

    /// Development mode: a `/` socket left (`socket_disconnected`).
    pub fn client_disconnected(&self, socket: &Socket<'_>, reason: DisconnectReason) {
        if !self.watching() {
            return;
        }
        let Some(id) = socket.id() else { return };
        let args = format!(
            "\"/\",{},{},{}",
            shapes::string(id.as_str()),
            shapes::string(reason.as_str()),
            shapes::string(&shapes::iso_date(epoch_ms()))
        );
        self.to_admins("socket_disconnected", &args);
    }

    /// Development mode: a `/` socket joined (`room_joined`) or left (`room_left`) a room.
    pub fn client_room(&self, socket: &Socket<'_>, room: &str, joined: bool) {
        if !self.watching() {
            return;
        }
        let Some(id) = socket.id() else { return };
        let args = format!(
            "\"/\",{},{},{}",
            shapes::string(room),
            shapes::string(id.as_str()),
            shapes::string(&shapes::iso_date(epoch_ms()))
        );
        let event = if joined { "room_joined" } else { "room_left" };
        self.to_admins(event, &args);
    }

    /// Development mode with a UI connected here, or clustered (a UI may be connected to
    /// another node, as the reference's `adminNamespace.emit` assumes): the per-socket events
    /// are worth making.
    fn watching(&self) -> bool {
        self.mode == AdminMode::Development
            && (self.sockets.load(Ordering::Relaxed) > 0
                || self.cluster.get().is_some_and(|c| c.relays()))
    }

    fn emit_stats(&self, socket: &mut Socket<'_>) {
        let last = socket.data::<AdminSocket>().map(|s| s.last);
        let admins = self.sockets.load(Ordering::Relaxed);
        let (now, body) = {
            let server = socket.server();
            let workers = server.stats();
            let now = Totals::of(workers);
            let aggregated = now.since(&last.unwrap_or(now), epoch_ms());
            let body = stats::server_stats(&self.base, workers, admins, aggregated);
            (now, body)
        };
        if let Some(s) = socket.data_mut::<AdminSocket>() {
            s.last = now;
        }
        socket.emit("server_stats", &body);
        socket.set_deadline(Some(stats::INTERVAL));
    }

    /// `all_sockets` to this admin socket: every node's `/` sockets (the reference's
    /// `nsp.fetchSockets()`), waiting at most `redis_request_timeout_ms` for the other nodes.
    fn send_all_sockets(&self, socket: &mut Socket<'_>) {
        let (Some(node), Some(cluster), Some(admin)) =
            (self.node.get(), self.cluster.get(), socket.id())
        else {
            return;
        };
        let to = node.clone();
        let admin = Room::from(admin.as_str());
        let selector = Selector {
            nsp: Room::from("/"),
            rooms: Vec::new(),
            ..Default::default()
        };
        let fetch = cluster.fetch_sockets(socket.server().cores(), selector);
        monoio::spawn(async move {
            let sockets = match fetch.0.await {
                Ok(sockets) => sockets,
                Err(ClusterFailure(why)) => {
                    tracing::warn!(reason = %why, "admin UI: all_sockets without the other nodes");
                    return;
                }
            };
            let now = epoch_ms();
            let list: Vec<serde_json::Value> = sockets
                .iter()
                .map(|s| {
                    let meta = s.meta.as_ref();
                    SocketView {
                        id: &s.id,
                        // The Engine.IO id is not in what workers report; the socket id
                        // stands in, so each socket shows as its own client.
                        client_id: &s.id,
                        transport: meta.map_or(TRANSPORT, |m| m.transport.as_str()),
                        nsp: "/",
                        address: "",
                        rooms: &s.rooms,
                        issued_ms: meta.map_or(now, |m| m.connected_at_ms),
                    }
                    .to_json()
                })
                .collect();
            let args = serde_json::Value::from(list).to_string();
            to.deliver(admin_op("all_sockets", &args, vec![admin]));
        });
    }

    /// An event to every `/admin` socket of this node and, clustered, of the other nodes.
    fn to_admins(&self, event: &str, args: &str) {
        self.deliver(admin_op(event, args, Vec::new()));
    }

    /// `op` (of [`NAMESPACE`]) to this node's admin sockets and the other nodes'.
    fn deliver(&self, op: BroadcastOp) {
        if let Some(cluster) = self.cluster.get().filter(|c| c.relays()) {
            cluster.relay(op.clone());
        }
        if let Some(node) = self.node.get() {
            node.deliver(op);
        }
    }

    /// A command on every node's sockets: this node's cores, then the other nodes
    /// (the server API's path). Clustered in sharded mode, the other nodes cannot be reached:
    /// the command has acted here only, which the log says.
    fn apply(&self, cores: Cores, command: RemoteCommand) {
        let Some(cluster) = self.cluster.get() else {
            if let Some(node) = self.node.get() {
                node.apply(command);
            }
            return;
        };
        let done = cluster.command(cores, command);
        monoio::spawn(async move {
            if let Err(ClusterFailure(why)) = done.0.await {
                tracing::warn!(reason = %why, "admin UI command: applied on this node only");
            }
        });
    }
}

/// An event of [`NAMESPACE`] to its sockets in `rooms` (every one when empty).
fn admin_op(event: &str, args: &str, rooms: Vec<Room>) -> BroadcastOp {
    BroadcastOp {
        frames: encode_event(NAMESPACE, None, event, args, &[]),
        nsp: Room::from(NAMESPACE),
        rooms,
        ..Default::default()
    }
}

/// The transport the UI shows for a socket that just connected: the handler is not told which
/// one it uses (the package reads it from `socket.conn.transport.name`). `all_sockets` shows
/// the real one, which the workers' fetch reports.
const TRANSPORT: &str = "unknown";

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
