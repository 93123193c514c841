//! The bridge thread's state between connections, and what it does with inbound messages and
//! with control messages that need no Redis round trip: it carries out the decisions of
//! [`super::inbound`] against the engine ([`LocalNode`]) and keeps the gathers in flight
//! ([`super::gather`]). Synchronous: what must be published is handed back to the caller.

use std::sync::Arc;
use std::time::Instant;

use super::NSP;
use super::control::{Control, Inner, Part, Query, Reply};
use super::gather::Gathers;
use super::inbound::{self, BroadcastAction, PythonAction, RequestAction, SocketsAnswer};
use super::options::ClusterError;
use crate::cluster::LocalNode;
use crate::cluster::adapter::{self, Inbound};
use crate::cluster::stats::ClusterStats;
use crate::cluster::wire::WireError;

/// A message to publish now: `(channel, payload)`.
pub(super) type Outgoing = (String, Vec<u8>);

pub(super) struct Dispatcher {
    inner: Arc<Inner>,
    pub(super) node: Arc<dyn LocalNode>,
    gathers: Gathers,
    /// Logged once per bridge: the engine refused a broadcast that excludes rooms.
    warned_except_rooms: bool,
}

impl Dispatcher {
    pub(super) fn new(inner: Arc<Inner>, node: Arc<dyn LocalNode>) -> Dispatcher {
        Dispatcher {
            inner,
            node,
            gathers: Gathers::default(),
            warned_except_rooms: false,
        }
    }

    pub(super) fn on_broadcast(&mut self, channel: &str, payload: &[u8]) {
        let node = &self.node;
        let has_local_room = |room: &str| node.has_local_room(NSP, room);
        let stats = &self.inner.stats;
        match inbound::broadcast_action(&self.inner, has_local_room, channel, payload) {
            BroadcastAction::Skip => ClusterStats::bump(&stats.skipped),
            BroadcastAction::Own => ClusterStats::bump(&stats.own),
            BroadcastAction::Malformed(e) => self.decode_error("broadcast", e),
            BroadcastAction::Deliver(inbound) => self.deliver(inbound),
        }
    }

    fn deliver(&mut self, inbound: Inbound) {
        let stats = &self.inner.stats;
        if inbound.except_rooms.is_empty() {
            self.node.deliver(inbound.op);
            ClusterStats::bump(&stats.delivered);
        } else if self
            .node
            .deliver_except_rooms(inbound.op, inbound.except_rooms)
            .is_ok()
        {
            ClusterStats::bump(&stats.delivered);
        } else {
            ClusterStats::bump(&stats.unsupported);
            if !self.warned_except_rooms {
                self.warned_except_rooms = true;
                tracing::warn!(
                    "dropping broadcasts that exclude rooms (io.except(room)): not supported by this engine"
                );
            }
        }
    }

    /// Handles a request; answers that depend on the engine come back later as
    /// [`Control::Publish`] / [`Control::ApplyLegacy`]. Returns what must be published right
    /// away.
    pub(super) fn on_request(&mut self, payload: &[u8]) -> Option<Outgoing> {
        let control = self.inner.control.clone();
        let publish = move |channel: String, payload: Vec<u8>| {
            let _ = control.send(Control::Publish { channel, payload });
        };
        match inbound::request_action(&self.inner, payload) {
            RequestAction::Malformed(e) => self.decode_error("request", e),
            RequestAction::Own => ClusterStats::bump(&self.inner.stats.own),
            RequestAction::AnswerSockets {
                request_id,
                selector,
                answer,
                respond_to,
            } => self.node.fetch_sockets(
                selector,
                Box::new(move |s| {
                    let payload = match answer {
                        SocketsAnswer::Ids => adapter::sockets_response(&request_id, &s),
                        SocketsAnswer::Full => adapter::fetch_response(&request_id, &s),
                    };
                    publish(respond_to, payload);
                }),
            ),
            RequestAction::AnswerRooms {
                request_id,
                respond_to,
            } => self.node.all_rooms(
                NSP,
                Box::new(move |r| {
                    publish(respond_to, adapter::all_rooms_response(&request_id, &r))
                }),
            ),
            RequestAction::Apply(command) => self.node.apply(command),
            RequestAction::ApplyIfLocal { sid, command, ack } => {
                let control = self.inner.control.clone();
                self.node.fetch_sockets(
                    inbound::one_socket(&sid),
                    Box::new(move |found| {
                        if !found.is_empty() {
                            let _ = control.send(Control::ApplyLegacy { command, ack });
                        }
                    }),
                );
            }
            RequestAction::IgnoreServerSideEmit { with_ack } => tracing::debug!(
                with_ack,
                "serverSideEmit ignored: ringcast has no server-side listeners"
            ),
            RequestAction::DeliverAndAnnounce {
                inbound,
                respond_to,
                payload,
            } => {
                self.deliver(inbound);
                return Some((respond_to, payload));
            }
            RequestAction::IgnoreOther { kind } => tracing::debug!(kind, "request type ignored"),
        }
        None
    }

    pub(super) fn on_response(&mut self, payload: &[u8]) {
        // Undecodable: responses to other nodes' SERVER_SIDE_EMIT/BROADCAST acks have other
        // shapes.
        if let Ok(response) = adapter::decode_response(payload) {
            self.gathers.response(response);
        }
    }

    pub(super) fn on_python(&mut self, payload: &[u8]) {
        let node = &self.node;
        let has_local_room = |room: &str| node.has_local_room(NSP, room);
        match inbound::python_action(has_local_room, payload) {
            PythonAction::Malformed(e) => self.decode_error("python", e),
            PythonAction::Skip => ClusterStats::bump(&self.inner.stats.skipped),
            PythonAction::Deliver(emit) => {
                if emit.wants_ack {
                    tracing::debug!(event = %emit.event, "python emit asks for an ack; delivered without one");
                }
                self.node.deliver(emit.to_op());
                ClusterStats::bump(&self.inner.stats.delivered);
            }
            PythonAction::Apply(command) => self.node.apply(command),
            PythonAction::Ignore => {}
            PythonAction::Unknown(method) => {
                tracing::debug!(%method, "python-socketio method ignored")
            }
        }
    }

    /// Control messages while disconnected (and the ones that need no connection).
    pub(super) fn control_offline(&mut self, c: Control) {
        match c {
            Control::ServerCount(tx) => {
                let _ = tx.send(Err(ClusterError::Unavailable));
            }
            Control::Gather(_, reply) => reply.fail(ClusterError::Unavailable),
            Control::LocalPart { request_id, part } => {
                self.gathers.local_part(&request_id, part);
            }
            Control::Publish { .. } => ClusterStats::bump(&self.inner.stats.publish_failed),
            Control::ApplyLegacy { command, .. } => self.node.apply(command),
            Control::Stop => {}
        }
    }

    /// Registers a gather expecting `servers` answers (this node's included) and asks the engine
    /// for this node's part, which comes back as [`Control::LocalPart`].
    pub(super) fn begin_gather(
        &mut self,
        request_id: String,
        query: Query,
        reply: Reply,
        servers: usize,
    ) {
        let control = self.inner.control.clone();
        let id = request_id.clone();
        let deadline = Instant::now() + self.inner.options.request_timeout;
        self.gathers.begin(request_id, reply, servers, deadline);
        match query {
            Query::Sockets(selector) => self.node.fetch_sockets(
                selector,
                Box::new(move |s| {
                    let _ = control.send(Control::LocalPart {
                        request_id: id,
                        part: Part::Sockets(s),
                    });
                }),
            ),
            Query::Rooms => self.node.all_rooms(
                NSP,
                Box::new(move |r| {
                    let rooms = r.iter().map(|r| r.as_str().to_owned()).collect();
                    let _ = control.send(Control::LocalPart {
                        request_id: id,
                        part: Part::Rooms(rooms),
                    });
                }),
            ),
        }
    }

    /// Answers gathers past their deadline with what arrived.
    pub(super) fn expire(&mut self, now: Instant) {
        self.gathers.expire(now);
    }

    fn decode_error(&self, what: &'static str, e: WireError) {
        ClusterStats::bump(&self.inner.stats.decode_errors);
        tracing::debug!(what, error = ?e, "undecodable redis message dropped");
    }
}
