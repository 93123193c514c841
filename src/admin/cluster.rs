//! What the admin UI asks of the cluster, as the reference asks its adapter: this node's
//! `/admin` events reach the other nodes' UIs (`adminNamespace.emit`, the adapter's
//! `socket.io#/admin#`), `all_sockets` lists every node's sockets (`nsp.fetchSockets()`), and the
//! UI's commands act on every node's sockets (`nsp.in(filter).socketsJoin(room)` …:
//! REMOTE_JOIN / REMOTE_LEAVE / REMOTE_DISCONNECT). The gateway implements it with the server
//! API's query path, so the two share one way to the cluster.

use std::future::Future;
use std::pin::Pin;

use crate::engine::adapter::{RemoteCommand, Selector, SocketInfo};
use crate::engine::{BroadcastOp, Cores};

/// Why a cluster operation did not reach every node (logged; the UI has no error channel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFailure(pub String);

/// A future a worker core polls (not `Send`: it holds the core's handles).
pub struct Pending<T>(pub Pin<Box<dyn Future<Output = Result<T, ClusterFailure>>>>);

impl<T> std::fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

/// The cluster as the admin UI sees it; implemented by the gateway over the Redis bridge.
pub trait AdminCluster: Send + Sync + 'static {
    /// Whether [`AdminCluster::relay`] reaches other nodes now: clustered over pub/sub or
    /// streams (not sharded: its `ClusterAdapter` messages are not sent yet).
    fn relays(&self) -> bool;
    /// An `/admin` broadcast to the other nodes' admin sockets (fire and forget: the UI
    /// refreshes every 2 s, a lost one is replaced by the next).
    fn relay(&self, op: BroadcastOp);
    /// The sockets matching `selector` on every node, waiting at most
    /// `redis_request_timeout_ms` for the others (the UI shows what arrived).
    fn fetch_sockets(&self, cores: Cores, selector: Selector) -> Pending<Vec<SocketInfo>>;
    /// Applies `command` to this node's sockets (on every core) and sends it to the others.
    fn command(&self, cores: Cores, command: RemoteCommand) -> Pending<()>;
}
