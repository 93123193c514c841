//! The engine: Engine.IO sessions and Socket.IO sockets on thread-per-core workers, with a
//! handler API ([`Handler`]) that applications (the gateway, the protocol reference server) plug
//! into, and an adapter contract ([`adapter`]) that a cluster implements.
//!
//! The engine depends on the codec, monoio and small crates only; nothing here knows the gateway,
//! the configuration file, JWTs or Redis (`scripts/check-layers` enforces it). Per-core state is
//! thread-local ([`worker`]); cores send each other typed [`Msg`]s on the [`mesh`]. Two things
//! are shared between cores besides the mesh: the node-wide room [`rooms::Directory`] (sharded
//! read-mostly locks, written only when a room appears on or vanishes from a core) and the
//! admission counters ([`limits`]).

pub mod adapter;
mod api;
pub(crate) mod conn;
mod delivery;
pub mod limits;
pub mod mesh;
mod msg;
pub mod node;
pub mod recovery;
pub mod rooms;
mod settings;
mod shared;
pub mod sid;
mod socket;
pub mod stats;
pub(crate) mod worker;

pub use api::{
    BroadcastOp, BroadcastOutcome, ConnectInfo, DisconnectReason, Handler, HttpReply, HttpRequest,
    HttpResponse,
};
pub use delivery::ReplyToken;
pub use msg::Msg;
pub use node::{Running, start, start_clustered, start_with_store};
pub use rooms::Room;
pub use settings::{Compression, CorsConfig, EngineConfig, PathKind};
pub(crate) use shared::SharedBroadcast;
pub use sid::{ShardId, Sid};
pub use socket::{Cores, Emitter, Socket, encode_event};

/// The arguments inside a JSON array text: `[1,"a"]` → `1,"a"` (what [`Socket::emit`] takes).
pub fn array_items(args: &str) -> &str {
    let t = args.trim();
    match (t.strip_prefix('['), t.ends_with(']')) {
        (Some(inner), true) => &inner[..inner.len() - 1],
        _ => t,
    }
}
