//! The application's side of the engine: the [`Handler`] trait and the values it sees and returns.

use std::net::SocketAddr;

use bytes::Bytes;
use ringcast_codec::http;
use ringcast_codec::ws::OutFrame;

use super::adapter::{Handed, PublishError};
use super::rooms::Room;
use super::sid::Sid;
use super::{Emitter, Socket};

/// Why a socket was disconnected: the codec's Socket.IO session type, with socket.io's reason
/// strings ([`DisconnectReason::as_str`]).
pub use ringcast_codec::sio::DisconnectReason;

/// What a handler sees of a Socket.IO CONNECT.
#[derive(Debug, Clone, Copy)]
pub struct ConnectInfo<'a> {
    /// The namespace, e.g. `/`.
    pub nsp: &'a str,
    /// The raw JSON of the CONNECT packet's auth object, if any.
    pub auth: Option<&'a str>,
    /// The peer address of the connection that carried the handshake.
    pub peer: SocketAddr,
    /// The socket is a restored one (connection state recovery): its id and rooms are back
    /// and its missed events were queued before the CONNECT reply.
    pub recovered: bool,
}

/// A plain HTTP request routed to the handler (anything outside the Engine.IO paths).
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub head: &'a http::Request<'a>,
    pub body: &'a [u8],
    pub peer: SocketAddr,
}

/// A response to a plain HTTP request.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A JSON response.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// How a handler answers a plain HTTP request.
pub enum HttpReply {
    /// Answer now.
    Now(HttpResponse),
    /// Run these broadcasts on every core (and publish them to other nodes when clustered),
    /// then answer from the outcome.
    Broadcast {
        ops: Vec<BroadcastOp>,
        respond: Box<dyn FnOnce(&BroadcastOutcome) -> HttpResponse>,
    },
    /// Answer when this future completes (a cluster query: the server API). It runs on the
    /// request's core, so it must not block; the handler bounds how long it waits.
    Later(std::pin::Pin<Box<dyn Future<Output = HttpResponse>>>),
}

impl std::fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpReply::Now(r) => f.debug_tuple("Now").field(r).finish(),
            HttpReply::Broadcast { ops, .. } => {
                f.debug_struct("Broadcast").field("ops", ops).finish()
            }
            HttpReply::Later(_) => f.write_str("Later"),
        }
    }
}

/// What became of the broadcasts of an [`HttpReply::Broadcast`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastOutcome {
    /// Sockets reached on this node, per broadcast.
    pub delivered: Vec<usize>,
    /// Per broadcast, what the cluster adapter answered: `None` when the node is not
    /// clustered; `Ok` once Redis acknowledged the publication to every expected node.
    pub cluster: Vec<Option<Result<Handed, PublishError>>>,
}

/// One broadcast: already encoded once; every recipient gets refcounted clones of `frames`.
#[derive(Debug, Clone, Default)]
pub struct BroadcastOp {
    /// The namespace (`/`).
    pub nsp: Room,
    /// Target rooms; empty means every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Sockets that must not receive it.
    pub except: Vec<Sid>,
    /// The Engine.IO message frame, followed by binary attachment frames if any.
    pub frames: Vec<OutFrame>,
    /// Sockets in any of these rooms must not receive it (socket.io's `except(room)`; over
    /// Redis they travel in `opts.except` after the socket ids).
    pub except_rooms: Vec<Room>,
}

impl BroadcastOp {
    /// With compression on, gives each frame whose payload reaches the threshold a compressed
    /// variant that every recipient shares (made by the first one that negotiated
    /// permessage-deflate, at most once per broadcast: see `OutFrame::share_deflated`).
    pub(crate) fn share_deflated(mut self, compression: Option<super::Compression>) -> Self {
        if let Some(z) = compression {
            for f in &mut self.frames {
                if f.len() >= z.threshold {
                    *f = f.clone().share_deflated();
                }
            }
        }
        self
    }
}

/// The application's side of the engine. Calls arrive on worker threads; implementations
/// are shared by all workers.
pub trait Handler: Send + Sync + 'static {
    /// Whether clients may connect to `nsp`. Others get `CONNECT_ERROR {"message":"Invalid namespace"}`.
    fn namespace_allowed(&self, nsp: &str) -> bool {
        nsp == "/"
    }

    /// Decides a CONNECT: `Ok(data)` accepts (the data is kept with the socket, see
    /// [`Socket::data`]); `Err(message)` refuses with `CONNECT_ERROR {"message": message}`.
    fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn std::any::Any>, String>;

    /// Who the socket belongs to, from `authorize`'s data (the token's subject): a saved session
    /// is restored only to a CONNECT whose data names the same owner.
    fn owner(&self, data: &dyn std::any::Any) -> Option<String> {
        let _ = data;
        None
    }
    /// The id of the credential the socket connected with (a token's `jti`), from
    /// `authorize`'s data: the server API finds a revoked token's sockets by it.
    fn token_id(&self, data: &dyn std::any::Any) -> Option<String> {
        let _ = data;
        None
    }
    /// Whether a restored socket may be put back into `room` (its data is the fresh
    /// `authorize`'s): rooms a refreshed token no longer grants stay left.
    fn may_rejoin(&self, socket: &Socket<'_>, room: &str) -> bool {
        let _ = (socket, room);
        true
    }
    /// A socket connected (the CONNECT reply is already queued, so emits here follow it).
    fn on_connect(&self, socket: &mut Socket<'_>, info: &ConnectInfo<'_>);

    /// An event from the client. `args` is the JSON array of its arguments (`[{"room":"x"}]`);
    /// `ack` is set when the client wants an acknowledgement; `attachments` are the binary
    /// attachments its placeholders refer to.
    fn on_event(
        &self,
        socket: &mut Socket<'_>,
        event: &str,
        args: &str,
        ack: Option<u64>,
        attachments: &[Bytes],
    );

    /// An acknowledgement from the client for a server emit made with an ack id.
    fn on_ack(&self, socket: &mut Socket<'_>, id: u64, args: &str, attachments: &[Bytes]) {
        let _ = (socket, id, args, attachments);
    }

    /// Another node or the server API put the socket in `room` (`socketsJoin`, REMOTE_JOIN).
    fn on_server_join(&self, socket: &mut Socket<'_>, room: &str) {
        let _ = (socket, room);
    }

    /// Another node or the server API took the socket out of `room` (`socketsLeave`).
    fn on_server_leave(&self, socket: &mut Socket<'_>, room: &str) {
        let _ = (socket, room);
    }

    /// The deadline set with [`Socket::set_deadline`] passed.
    fn on_deadline(&self, socket: &mut Socket<'_>) {
        let _ = socket;
    }

    /// The socket is gone; it has already left its rooms' indexes.
    fn on_disconnect(&self, socket: &mut Socket<'_>, reason: DisconnectReason) {
        let _ = (socket, reason);
    }

    /// A plain HTTP request outside the Engine.IO paths. `None` → 404.
    fn on_http(&self, req: &HttpRequest<'_>, server: &mut Emitter<'_>) -> Option<HttpReply> {
        let _ = (req, server);
        None
    }
}
