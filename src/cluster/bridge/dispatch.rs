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

/// The bridge thread's state that outlives a connection: the engine, the gathers in flight.
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

    /// A broadcast on the relayed namespace's channel (`socket.io#/admin#`).
    pub(super) fn on_relay(&mut self, payload: &[u8]) {
        let stats = &self.inner.stats;
        match inbound::relay_action(&self.inner, payload) {
            BroadcastAction::Skip => ClusterStats::bump(&stats.skipped),
            BroadcastAction::Own => ClusterStats::bump(&stats.own),
            BroadcastAction::Malformed(e) => self.decode_error("relayed broadcast", e),
            BroadcastAction::Deliver(inbound) => self.deliver(inbound),
        }
    }

    /// [`Dispatcher::deliver`] of this node's own publish (streams mode), reporting how many
    /// local sockets it reached to `count` (the publish answer's `delivered`). One that also
    /// excludes rooms is not counted (0): this node's publish API never sends one.
    pub(super) fn deliver_counted(
        &mut self,
        inbound: Inbound,
        count: Option<crate::engine::adapter::CountReport>,
    ) {
        match count {
            Some(count) if inbound.except_rooms.is_empty() => {
                self.node.deliver_counted(inbound.op, count);
                ClusterStats::bump(&self.inner.stats.delivered);
            }
            _ => self.deliver(inbound),
        }
    }

    pub(super) fn deliver(&mut self, inbound: Inbound) {
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
        let uid = self.inner.uid.clone();
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
                Box::new(move |mut s| {
                    stamp_node(&mut s, &uid);
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
            RequestAction::IgnoreServerSideEmit { with_ack, data } => {
                match (self.inner.listener.get(), data) {
                    // The gateway's own events (`ringcast:revoke`); still never acknowledged.
                    (Some(listener), Some(data)) => (listener.0)(&data),
                    _ => tracing::debug!(
                        with_ack,
                        "serverSideEmit ignored: ringcast has no server-side listeners"
                    ),
                }
            }
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

    /// A response to one of this node's gathers that arrived in another format (the sharded
    /// adapter's FETCH_SOCKETS_RESPONSE).
    pub(super) fn on_gather_response(&mut self, response: adapter::Response) {
        self.gathers.response(response);
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
            Control::Request { done, .. } => {
                let _ = done.send(Err(ClusterError::Unavailable));
            }
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

    pub(super) fn decode_error(&self, what: &'static str, e: WireError) {
        ClusterStats::bump(&self.inner.stats.decode_errors);
        tracing::debug!(what, error = ?e, "undecodable redis message dropped");
    }
}

/// Names this node (`uid`) as the one that answered with `sockets`, for the server API.
pub(super) fn stamp_node(sockets: &mut [crate::cluster::SocketInfo], uid: &str) {
    for meta in sockets.iter_mut().filter_map(|s| s.meta.as_mut()) {
        meta.node = Some(uid.to_owned());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use tokio::sync::{mpsc, oneshot};

    use super::super::options::{Gathered, RedisOptions};
    use super::super::testing::{Call, FakeNode, SID, drain, envelope, inner, text};
    use super::*;
    use crate::cluster::stats::StatsSnapshot;
    use crate::cluster::{RemoteCommand, Selector, SocketInfo};
    use crate::engine::Room;

    struct Harness {
        dispatch: Dispatcher,
        node: Arc<FakeNode>,
        control: mpsc::UnboundedReceiver<Control>,
    }

    fn harness(node: FakeNode) -> Harness {
        harness_with(node, RedisOptions::default())
    }

    fn harness_with(node: FakeNode, options: RedisOptions) -> Harness {
        let (inner, control) = inner(options);
        let node = Arc::new(node);
        Harness {
            dispatch: Dispatcher::new(inner, node.clone()),
            node,
            control,
        }
    }

    impl Harness {
        fn stats(&self) -> StatsSnapshot {
            self.dispatch.inner.stats.snapshot()
        }

        fn uid(&self) -> String {
            self.dispatch.inner.uid.clone()
        }

        /// The `Control::Publish` messages sent so far, as `(channel, payload text)`.
        fn published(&mut self) -> Vec<(String, String)> {
            drain(&mut self.control)
                .into_iter()
                .map(|c| match c {
                    Control::Publish { channel, payload } => {
                        (channel, String::from_utf8(payload).unwrap())
                    }
                    _ => panic!("not a publish"),
                })
                .collect()
        }

        /// Feeds the control messages sent so far back (as the thread does), offline.
        fn loop_back(&mut self) {
            for c in drain(&mut self.control) {
                self.dispatch.control_offline(c);
            }
        }
    }

    fn socket(id: &str) -> SocketInfo {
        SocketInfo {
            id: id.to_owned(),
            rooms: vec![id.to_owned()],
            ..Default::default()
        }
    }

    // ---- broadcasts ----

    #[test]
    fn broadcasts_are_delivered_or_counted() {
        let mut h = harness(FakeNode::with_rooms(&["a"]));
        h.dispatch
            .on_broadcast("socket.io#/#a#", &envelope("other1", "/", &["a"], &[]));
        h.dispatch
            .on_broadcast("socket.io#/#b#", &envelope("other1", "/", &["b"], &[]));
        h.dispatch
            .on_broadcast("socket.io#/#", &envelope(&h.uid(), "/", &[], &[]));
        h.dispatch.on_broadcast("socket.io#/#", b"\xc1");
        match &h.node.take()[..] {
            [Call::Deliver(op)] => {
                assert_eq!(op.rooms, vec![Room::from("a")]);
                assert_eq!(text(op), r#"42["ev"]"#);
            }
            other => panic!("{other:?}"),
        }
        let s = h.stats();
        assert_eq!(
            (s.delivered, s.skipped, s.own, s.decode_errors),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn room_exclusions_go_to_the_engine() {
        let mut h = harness(FakeNode::default());
        h.dispatch
            .on_broadcast("socket.io#/#", &envelope("other1", "/", &[], &["vip"]));
        match &h.node.take()[..] {
            [Call::DeliverExceptRooms(op, rooms)] => {
                assert_eq!(text(op), r#"42["ev"]"#);
                assert_eq!(rooms, &[Room::from("vip")]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!((h.stats().delivered, h.stats().unsupported), (1, 0));
    }

    #[test]
    fn room_exclusions_an_engine_refuses_are_dropped_and_counted() {
        let mut h = harness(FakeNode {
            refuse_except_rooms: true,
            ..FakeNode::default()
        });
        let payload = envelope("other1", "/", &[], &["vip"]);
        h.dispatch.on_broadcast("socket.io#/#", &payload);
        h.dispatch.on_broadcast("socket.io#/#", &payload);
        assert!(h.node.take().is_empty());
        assert_eq!((h.stats().delivered, h.stats().unsupported), (0, 2));
    }

    // ---- requests ----

    #[test]
    fn a_fetch_is_answered_with_the_local_sockets() {
        let mut h = harness(FakeNode {
            sockets: vec![socket("s1")],
            ..FakeNode::default()
        });
        let out = h.dispatch.on_request(
            br#"{"uid":"other1","requestId":"r1","type":5,"opts":{"rooms":["a"],"except":[]}}"#,
        );
        assert!(out.is_none());
        match &h.node.take()[..] {
            [Call::FetchSockets(selector)] => assert_eq!(selector.rooms, vec![Room::from("a")]),
            other => panic!("{other:?}"),
        }
        let published = h.published();
        assert_eq!(published.len(), 1);
        let (channel, payload) = &published[0];
        assert_eq!(channel, "socket.io-response#/#");
        assert!(
            payload.starts_with(r#"{"requestId":"r1","sockets":[{"id":"s1""#),
            "{payload}"
        );
    }

    #[test]
    fn sockets_and_all_rooms_requests_are_answered() {
        let mut h = harness_with(
            FakeNode {
                rooms: vec!["a", "b"],
                sockets: vec![socket("s1")],
                ..FakeNode::default()
            },
            RedisOptions {
                respond_on_specific_channel: true,
                ..RedisOptions::default()
            },
        );
        h.dispatch
            .on_request(br#"{"uid":"other1","requestId":"r1","type":0,"rooms":[]}"#);
        h.dispatch
            .on_request(br#"{"uid":"other2","requestId":"r2","type":1}"#);
        assert_eq!(
            h.published(),
            [
                (
                    "socket.io-response#/#other1#".to_owned(),
                    r#"{"requestId":"r1","sockets":["s1"]}"#.to_owned()
                ),
                (
                    "socket.io-response#/#other2#".to_owned(),
                    r#"{"requestId":"r2","rooms":["a","b"]}"#.to_owned()
                ),
            ]
        );
    }

    #[test]
    fn its_own_requests_and_malformed_ones_are_counted_not_answered() {
        let mut h = harness(FakeNode::default());
        let own = format!(r#"{{"uid":"{}","requestId":"r1","type":1}}"#, h.uid());
        assert!(h.dispatch.on_request(own.as_bytes()).is_none());
        assert!(h.dispatch.on_request(b"{").is_none());
        assert!(h.node.take().is_empty());
        assert!(h.published().is_empty());
        assert_eq!((h.stats().own, h.stats().decode_errors), (1, 1));
    }

    #[test]
    fn commands_are_applied() {
        let mut h = harness(FakeNode::default());
        h.dispatch.on_request(
            br#"{"uid":"other1","type":3,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}"#,
        );
        match &h.node.take()[..] {
            [Call::Apply(RemoteCommand::Leave { rooms, .. })] => {
                assert_eq!(rooms, &[Room::from("b")])
            }
            other => panic!("{other:?}"),
        }
        assert!(h.published().is_empty());
    }

    #[test]
    fn a_legacy_command_for_a_local_socket_comes_back_to_be_applied_and_acked() {
        let mut h = harness(FakeNode {
            sockets: vec![socket(SID)],
            ..FakeNode::default()
        });
        let json =
            format!(r#"{{"uid":"other1","requestId":"r1","type":2,"sid":"{SID}","room":"a"}}"#);
        h.dispatch.on_request(json.as_bytes());
        match &h.node.take()[..] {
            [Call::FetchSockets(selector)] => assert_eq!(selector.rooms, vec![Room::from(SID)]),
            other => panic!("{other:?}"),
        }
        match &drain(&mut h.control)[..] {
            [Control::ApplyLegacy { command, ack }] => {
                assert!(matches!(command, RemoteCommand::Join { .. }));
                let (channel, payload) = ack.as_ref().unwrap();
                assert_eq!(channel, "socket.io-response#/#");
                assert_eq!(payload, br#"{"requestId":"r1"}"#);
            }
            _ => panic!("expected one ApplyLegacy"),
        }
    }

    #[test]
    fn a_legacy_command_for_a_socket_elsewhere_is_left_alone() {
        let mut h = harness(FakeNode::default());
        let json = format!(r#"{{"uid":"other1","requestId":"r1","type":4,"sid":"{SID}"}}"#);
        h.dispatch.on_request(json.as_bytes());
        assert!(matches!(&h.node.take()[..], [Call::FetchSockets(_)]));
        assert!(drain(&mut h.control).is_empty());
    }

    #[test]
    fn a_broadcast_with_ack_is_delivered_and_its_announcement_returned() {
        let mut h = harness(FakeNode::default());
        let out = h.dispatch.on_request(
            br#"{"uid":"other1","requestId":"r1","type":7,"packet":{"type":2,"data":["ev"],"nsp":"/"},"opts":{"rooms":[],"except":[]}}"#,
        );
        let (channel, payload) = out.unwrap();
        assert_eq!(channel, "socket.io-response#/#");
        assert_eq!(payload, br#"{"type":8,"requestId":"r1","clientCount":0}"#);
        assert!(matches!(&h.node.take()[..], [Call::Deliver(_)]));
        assert_eq!(h.stats().delivered, 1);
    }

    #[test]
    fn server_side_emits_are_ignored() {
        let mut h = harness(FakeNode::default());
        let out = h
            .dispatch
            .on_request(br#"{"uid":"other1","requestId":"r1","type":6,"data":["x"]}"#);
        assert!(out.is_none());
        assert!(h.node.take().is_empty());
        assert!(drain(&mut h.control).is_empty());
    }

    // ---- gathers ----

    fn gather_sockets(
        h: &mut Harness,
        id: &str,
        servers: usize,
    ) -> oneshot::Receiver<Result<Gathered<SocketInfo>, ClusterError>> {
        let (tx, rx) = oneshot::channel();
        h.dispatch.begin_gather(
            id.to_owned(),
            Query::Sockets(Selector::default()),
            Reply::Sockets(tx),
            servers,
        );
        rx
    }

    #[test]
    fn a_gather_completes_with_the_local_part_and_every_response() {
        let mut h = harness(FakeNode {
            sockets: vec![socket("s1")],
            ..FakeNode::default()
        });
        let mut rx = gather_sockets(&mut h, "q1", 2);
        h.loop_back();
        // Unknown ids and other shapes are ignored, and not counted as decode errors.
        h.dispatch
            .on_response(br#"{"requestId":"zz","sockets":[{"id":"x","rooms":[]}]}"#);
        h.dispatch.on_response(br#"{"type":9,"packet":[]}"#);
        h.dispatch.on_response(b"\xc1");
        assert!(rx.try_recv().is_err());
        h.dispatch
            .on_response(br#"{"requestId":"q1","sockets":[{"id":"s2","rooms":["s2","a"]}]}"#);
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!(
            got.items,
            [
                socket("s1"),
                SocketInfo {
                    id: "s2".to_owned(),
                    rooms: vec!["s2".to_owned(), "a".to_owned()],
                    ..Default::default()
                }
            ]
        );
        assert_eq!((got.servers, got.responses, got.complete), (2, 1, true));
        assert_eq!(h.stats().decode_errors, 0);
    }

    #[test]
    fn an_all_rooms_gather_includes_the_local_rooms() {
        let mut h = harness(FakeNode::with_rooms(&["b", "a"]));
        let (tx, mut rx) = oneshot::channel();
        h.dispatch
            .begin_gather("q1".to_owned(), Query::Rooms, Reply::Rooms(tx), 2);
        assert!(matches!(&h.node.take()[..], [Call::AllRooms(nsp)] if nsp == "/"));
        h.loop_back();
        h.dispatch
            .on_response(br#"{"requestId":"q1","rooms":["c","a"]}"#);
        assert_eq!(rx.try_recv().unwrap().unwrap().items, ["a", "b", "c"]);
    }

    #[test]
    fn a_gather_times_out_with_what_arrived() {
        let mut h = harness_with(
            FakeNode {
                sockets: vec![socket("s1")],
                ..FakeNode::default()
            },
            RedisOptions {
                request_timeout: Duration::from_secs(5),
                ..RedisOptions::default()
            },
        );
        let mut rx = gather_sockets(&mut h, "q1", 3);
        h.loop_back();
        h.dispatch.expire(Instant::now());
        assert!(rx.try_recv().is_err());
        h.dispatch.expire(Instant::now() + Duration::from_secs(5));
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!(
            (got.items, got.responses, got.complete),
            (vec![socket("s1")], 0, false)
        );
    }

    // ---- control messages without a connection ----

    #[test]
    fn offline_control_messages_fail_or_apply() {
        let mut h = harness(FakeNode::default());
        let (tx, mut count) = oneshot::channel();
        h.dispatch.control_offline(Control::ServerCount(tx));
        assert_eq!(count.try_recv().unwrap(), Err(ClusterError::Unavailable));
        let (tx, mut rooms) = oneshot::channel();
        h.dispatch
            .control_offline(Control::Gather(Query::Rooms, Reply::Rooms(tx)));
        assert_eq!(rooms.try_recv().unwrap(), Err(ClusterError::Unavailable));
        h.dispatch.control_offline(Control::Publish {
            channel: "c".to_owned(),
            payload: Vec::new(),
        });
        assert_eq!(h.stats().publish_failed, 1);
        let command = RemoteCommand::Disconnect {
            selector: Selector::default(),
            close: false,
        };
        h.dispatch.control_offline(Control::ApplyLegacy {
            command: command.clone(),
            ack: Some(("c".to_owned(), Vec::new())),
        });
        match &h.node.take()[..] {
            [Call::Apply(applied)] => assert_eq!(applied, &command),
            other => panic!("{other:?}"),
        }
        h.dispatch.control_offline(Control::LocalPart {
            request_id: "gone".to_owned(),
            part: Part::Rooms(Vec::new()),
        });
        h.dispatch.control_offline(Control::Stop);
        assert!(drain(&mut h.control).is_empty());
    }

    // ---- python-socketio ----

    #[test]
    fn python_messages_are_delivered_applied_or_counted() {
        let mut h = harness(FakeNode::with_rooms(&["a"]));
        h.dispatch
            .on_python(br#"{"method":"emit","event":"ev","data":[1],"room":"a","callback":1}"#);
        h.dispatch
            .on_python(br#"{"method":"emit","event":"ev","data":[1],"room":"b"}"#);
        h.dispatch
            .on_python(br#"{"method":"close_room","room":"a"}"#);
        h.dispatch
            .on_python(br#"{"method":"callback","sid":"x","id":1,"args":[]}"#);
        h.dispatch.on_python(br#"{"method":"what"}"#);
        h.dispatch.on_python(b"\x80\x04");
        match &h.node.take()[..] {
            [Call::Deliver(op), Call::Apply(RemoteCommand::Leave { .. })] => {
                assert_eq!(text(op), r#"42["ev",1]"#);
            }
            other => panic!("{other:?}"),
        }
        let s = h.stats();
        assert_eq!((s.delivered, s.skipped, s.decode_errors), (1, 1, 1));
    }
}
