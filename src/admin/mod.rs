//! The server side of the Socket.IO admin UI (`@socket.io/admin-ui` 0.5.1) on namespace
//! [`NAMESPACE`]: the login ([`login`]), `config` and `server_stats` every 2 s ([`stats`]),
//! the UI's commands ([`commands`]) and, in development mode, the live socket and room events
//! ([`shapes`]).
//!
//! Per node: each node reports itself (`serverId` is `hostname#pid`, and the UI lists every
//! server it hears from), development mode lists this node's sockets, and `join`, `leave` and
//! `_disconnect` act on the sockets of the node the UI is connected to. `emit` goes cluster-wide,
//! as any broadcast does.
//!
//! Everything the UI is sent goes either to one admin socket directly or through
//! [`LocalNode::deliver`] (this node only, never published to Redis, never given a recovery
//! offset: only `/` events carry one).
//!
//! A layer beside `gateway` (which calls it) above `engine`; it uses `config` for its settings.

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
use crate::engine::{BroadcastOp, ConnectInfo, DisconnectReason, Room, Socket, encode_event};

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
        })
    }

    /// Hands over this node once the engine has started it.
    pub fn set_node(&self, node: Arc<dyn LocalNode>) {
        let _ = self.node.set(node);
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
        match command {
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
            }
            Command::Join { nsp, room, filter } => self.apply(RemoteCommand::Join {
                selector: selector(nsp, filter),
                rooms: vec![room],
            }),
            Command::Leave { nsp, room, filter } => self.apply(RemoteCommand::Leave {
                selector: selector(nsp, filter),
                rooms: vec![room],
            }),
            Command::Disconnect { nsp, close, filter } => self.apply(RemoteCommand::Disconnect {
                selector: selector(nsp, filter),
                close,
            }),
        }
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

    /// Development mode with a UI connected: the per-socket events are worth making.
    fn watching(&self) -> bool {
        self.mode == AdminMode::Development && self.sockets.load(Ordering::Relaxed) > 0
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

    /// `all_sockets` to this admin socket: the node's `/` sockets, gathered from every worker.
    fn send_all_sockets(&self, socket: &Socket<'_>) {
        let (Some(node), Some(admin)) = (self.node.get(), socket.id()) else {
            return;
        };
        let to = node.clone();
        let admin = Room::from(admin.as_str());
        let selector = Selector {
            nsp: Room::from("/"),
            rooms: Vec::new(),
            ..Default::default()
        };
        node.fetch_sockets(
            selector,
            Box::new(move |sockets| {
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
                to.deliver(BroadcastOp {
                    frames: encode_event(NAMESPACE, None, "all_sockets", &args, &[]),
                    nsp: Room::from(NAMESPACE),
                    rooms: vec![admin],
                    ..Default::default()
                });
            }),
        );
    }

    /// An event to every `/admin` socket of this node.
    fn to_admins(&self, event: &str, args: &str) {
        self.deliver(BroadcastOp {
            frames: encode_event(NAMESPACE, None, event, args, &[]),
            nsp: Room::from(NAMESPACE),
            rooms: Vec::new(),
            ..Default::default()
        });
    }

    fn deliver(&self, op: BroadcastOp) {
        if let Some(node) = self.node.get() {
            node.deliver(op);
        }
    }

    fn apply(&self, command: RemoteCommand) {
        if let Some(node) = self.node.get() {
            node.apply(command);
        }
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
