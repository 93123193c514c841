//! Clustering over Redis: the interface between the engine and the Redis bridge.
//!
//! CONTRACT between the engine (lead) and the bridge (helper): the engine implements
//! [`LocalNode`]; the bridge implements [`Publisher`]. Broadcasts travel as
//! [`BroadcastOp`]s: already-encoded frames (the Socket.IO EVENT text `42[...]` is in
//! `frames[0].payload()`, binary attachments follow as binary frames), so the bridge re-reads the
//! packet with the codec when it must transcode it to msgpack for other nodes.

pub mod adapter;
mod bridge;
pub mod cluster_message;
pub mod json;
pub mod msgpack;
pub mod python;
mod stats;
pub mod stream_id;
pub mod streams;
pub mod wire;

/// Golden vectors in the cluster tests are written as hex (whitespace ignored): the bytes.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
fn test_hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub use bridge::{
    Bridge, ClusterError, Gathered, RedisOptions, RedisTls, StartError, SubscriptionMode,
    open_client, start,
};
pub use stats::{ChannelKind, ClusterStats, ClusterStatus, StatsSnapshot, UNCONFIRMED_REASONS};

pub use crate::engine::adapter::{
    Handed, LocalNode, PublishAck, PublishError, Publisher, RemoteCommand, RoomWatch, Selector,
    SocketInfo,
};
