//! What the bridge thread shares with the rest of the node ([`Inner`]) and the messages it is
//! sent ([`Control`]): from the [`super::Bridge`] API, and from `LocalNode` reply callbacks
//! (which may run on any thread).

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_queue::ArrayQueue;
use tokio::sync::{Notify, mpsc, oneshot};

use super::options::{ClusterError, Gathered, RedisOptions};
use super::{NSP, random_id};
use crate::cluster::adapter::Channels;
use crate::cluster::stats::ClusterStats;
use crate::cluster::{Handed, PublishAck, PublishError, RemoteCommand, Selector, SocketInfo};
use crate::engine::BroadcastOp;

/// State shared by the [`super::Bridge`] handle, the workers (through [`crate::cluster::Publisher`])
/// and the bridge thread.
#[derive(Debug)]
pub(super) struct Inner {
    pub(super) uid: String,
    pub(super) options: RedisOptions,
    pub(super) channels: Channels,
    /// Broadcasts from the workers awaiting publication.
    pub(super) queue: ArrayQueue<Queued>,
    /// Wakes the bridge thread when `queue` is no longer empty.
    pub(super) wake: Notify,
    pub(super) control: mpsc::UnboundedSender<Control>,
    pub(super) stats: ClusterStats,
    pub(super) stopping: AtomicBool,
    /// Who hears other nodes' SERVER_SIDE_EMIT requests (the gateway), once set.
    pub(super) listener: std::sync::OnceLock<Listener>,
    /// `<prefix>#<nsp>#` of [`RedisOptions::relay_namespace`], with the namespace.
    pub(super) relay: Option<(String, String)>,
}

/// A SERVER_SIDE_EMIT listener: called on the bridge thread with the `data` array's JSON text.
pub(super) struct Listener(pub(super) Box<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Listener")
    }
}

/// A request this node sends every other node, expecting no answer.
#[derive(Debug)]
pub(super) enum Outgoing {
    /// REMOTE_JOIN / REMOTE_LEAVE / REMOTE_DISCONNECT.
    Command(RemoteCommand),
    /// SERVER_SIDE_EMIT of this `data` array (JSON text).
    ServerSideEmit(String),
    /// A broadcast of [`RedisOptions::relay_namespace`], on its broadcast channel.
    Relay(BroadcastOp),
}

impl Inner {
    /// A fresh node identity (a random uid) and the receiving end of its control channel.
    pub(super) fn new(options: RedisOptions) -> (Inner, mpsc::UnboundedReceiver<Control>) {
        let uid = random_id(6);
        let (control, control_rx) = mpsc::unbounded_channel();
        let relay = options
            .relay_namespace
            .as_ref()
            .map(|nsp| (nsp.clone(), format!("{}#{nsp}#", options.key_prefix)));
        let inner = Inner {
            relay,
            channels: Channels::new(&options.key_prefix, NSP, &uid),
            queue: ArrayQueue::new(options.queue_capacity.max(1)),
            uid,
            options,
            wake: Notify::new(),
            control,
            stats: ClusterStats::default(),
            stopping: AtomicBool::new(false),
            listener: std::sync::OnceLock::new(),
        };
        (inner, control_rx)
    }

    /// Where to answer a request from `uid`: its own response channel when the option says so
    /// and the requester named itself (the emitter does not), else the shared one.
    pub(super) fn response_channel(&self, uid: Option<&str>) -> String {
        let ch = &self.channels;
        match uid {
            Some(uid) if self.options.respond_on_specific_channel => {
                format!("{}{uid}#", ch.response)
            }
            _ => ch.response.clone(),
        }
    }
}

/// A broadcast awaiting publication, and the request waiting for its answer (HTTP publishes).
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) op: BroadcastOp,
    pub(super) ack: Option<PublishAck>,
}

impl Queued {
    /// Answers the waiting request, if any, and counts the outcome.
    pub(super) fn answer(self, stats: &ClusterStats, outcome: Result<Handed, PublishError>) {
        match outcome {
            Ok(_) => ClusterStats::bump(&stats.acknowledged),
            Err(e) => stats.unconfirmed(e, 1),
        }
        if let Some(ack) = self.ack {
            ack.complete(outcome);
        }
    }

    /// A batch of `sent` broadcasts that Redis did not take (`reason`, for the log, with
    /// `what` the command): counted as failed, logged once, and each answered `failure` (503).
    pub(super) fn fail_batch(
        stats: &ClusterStats,
        batch: impl IntoIterator<Item = Queued>,
        sent: u64,
        failure: PublishError,
        what: &'static str,
        reason: &'static str,
    ) {
        stats.publish_failed.fetch_add(sent, Ordering::Relaxed);
        tracing::warn!(
            reason,
            unconfirmed = sent,
            "{what} failed; those publishes are answered 503"
        );
        for queued in batch {
            queued.answer(stats, Err(failure));
        }
    }
}

/// Messages to the bridge thread.
pub(super) enum Control {
    ServerCount(oneshot::Sender<Result<usize, ClusterError>>),
    Gather(Query, Reply),
    /// This node's part of a gather.
    LocalPart {
        request_id: String,
        part: Part,
    },
    /// Publish an answer to another node.
    Publish {
        channel: String,
        payload: Vec<u8>,
    },
    /// A legacy remote join/leave/disconnect for a socket found on this node.
    ApplyLegacy {
        command: RemoteCommand,
        ack: Option<(String, Vec<u8>)>,
    },
    /// Publish a request on the request channel; `done` hears whether Redis took it.
    Request {
        request: Outgoing,
        done: oneshot::Sender<Result<(), ClusterError>>,
    },
    Stop,
}

/// What a gather asks every node for.
pub(super) enum Query {
    Sockets(Selector),
    Rooms,
}

/// Where a gather's outcome goes.
pub(super) enum Reply {
    Sockets(oneshot::Sender<Result<Gathered<SocketInfo>, ClusterError>>),
    Rooms(oneshot::Sender<Result<Gathered<String>, ClusterError>>),
}

/// This node's own part of a gather.
pub(super) enum Part {
    Sockets(Vec<SocketInfo>),
    Rooms(Vec<String>),
}

impl Reply {
    pub(super) fn fail(self, e: ClusterError) {
        match self {
            Reply::Sockets(tx) => drop(tx.send(Err(e))),
            Reply::Rooms(tx) => drop(tx.send(Err(e))),
        }
    }
}
