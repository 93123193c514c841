//! The typed messages cores send each other over the [`super::mesh`].

use std::net::SocketAddr;
use std::sync::Arc;

use super::SharedBroadcast;
use super::adapter::{Collector, DeliveryCounter, Handed, PublishError, RemoteCommand, Selector};
use super::delivery::ReplyToken;
use super::recovery::LogMark;
use super::rooms::Room;
use super::sid::ShardId;

/// Messages between cores.
#[derive(Debug)]
pub enum Msg {
    /// Fan a broadcast out to this core's members; if `reply` is set, answer with `Delivered`.
    Broadcast {
        op: Arc<SharedBroadcast>,
        reply: Option<(ShardId, ReplyToken)>,
    },
    /// A broadcast from another node that also excludes the members of some rooms.
    BroadcastExceptRooms {
        op: Arc<SharedBroadcast>,
        except_rooms: Arc<[Room]>,
    },
    /// A broadcast from the cluster adapter whose local reach is counted (streams mode's own
    /// publishes): each core adds its count to `counter`.
    BroadcastCounted {
        op: Arc<SharedBroadcast>,
        counter: Arc<DeliveryCounter>,
    },
    /// The number of sockets a core reached for a broadcast with a reply token.
    Delivered { token: ReplyToken, count: usize },
    /// What the cluster adapter made of a broadcast with a reply token (a [`super::adapter::PublishAck`]).
    Published {
        token: ReplyToken,
        outcome: Result<Handed, PublishError>,
    },
    /// A connection accepted by another core whose request names a session this core owns.
    Handoff {
        fd: std::os::fd::OwnedFd,
        peer: SocketAddr,
        preread: Vec<u8>,
    },
    /// Apply a command from another node to the matching local sockets.
    Remote(RemoteCommand),
    /// Report the local sockets matching a selector.
    Fetch {
        selector: Selector,
        collector: Arc<Collector>,
    },
    /// The cluster adapter handed this core every broadcast of its ordered log up to the mark
    /// (sent after them, on the same queue).
    Mark(LogMark),
    /// Stop accepting, tell clients, exit once drained (or at the deadline).
    Shutdown,
}
