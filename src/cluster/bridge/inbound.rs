//! What to do with a message from Redis: which concern its channel belongs to, and, given what
//! this node is (its uid, channels and options) and which rooms it has, the action a broadcast,
//! a request or a python-socketio message calls for. Pure: no IO, no engine calls; the
//! dispatcher carries the actions out.

use super::NSP;
use super::control::Inner;
use crate::cluster::adapter::{self, BroadcastChannel, Inbound, Request};
use crate::cluster::python::{self, PythonEmit, PythonMessage};
use crate::cluster::stats::ChannelKind;
use crate::cluster::wire::WireError;
use crate::cluster::{RemoteCommand, Selector};
use crate::engine::Room;
use crate::engine::sid::Sid;

/// Which concern a message belongs to, by the channel it came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// Through the `socket.io#/#*` pattern.
    Broadcast,
    /// `socket.io-request#/#`.
    Request,
    /// `socket.io-response#/#` or this node's `socket.io-response#/#<uid>#`.
    Response,
    /// python-socketio's channel.
    Python,
    /// The relayed namespace's broadcast channel (`socket.io#/admin#`).
    Relay,
    /// None of ours (not counted).
    Ignored,
}

impl Route {
    /// The channel kind counted as received.
    pub(super) fn kind(self) -> Option<ChannelKind> {
        match self {
            Route::Broadcast | Route::Relay => Some(ChannelKind::Broadcast),
            Route::Request => Some(ChannelKind::Request),
            Route::Response => Some(ChannelKind::Response),
            Route::Python => Some(ChannelKind::Python),
            Route::Ignored => None,
        }
    }
}

/// Routes a message that came on `channel` (`from_pattern`: through the `PSUBSCRIBE`).
pub(super) fn route(inner: &Inner, channel: &str, from_pattern: bool) -> Route {
    let ch = &inner.channels;
    if from_pattern {
        Route::Broadcast
    } else if channel == ch.request {
        Route::Request
    } else if channel == ch.response || channel == ch.own_response {
        Route::Response
    } else if channel == inner.options.python_channel {
        Route::Python
    } else if inner.relay.as_ref().is_some_and(|(_, c)| c == channel) {
        Route::Relay
    } else {
        Route::Ignored
    }
}

/// What to do with a broadcast.
#[derive(Debug)]
pub(super) enum BroadcastAction {
    /// Not for this node: another namespace, or a room without local members.
    Skip,
    /// This node's own broadcast coming back.
    Own,
    Malformed(WireError),
    Deliver(Inbound),
}

/// Decides what a broadcast on `channel` calls for. `has_local_room(room)`: whether a local
/// socket is in `room` of the namespace.
pub(super) fn broadcast_action(
    inner: &Inner,
    has_local_room: impl Fn(&str) -> bool,
    channel: &str,
    payload: &[u8],
) -> BroadcastAction {
    match inner.channels.classify(channel) {
        BroadcastChannel::Foreign => return BroadcastAction::Skip,
        // Checked before decoding: most room messages are for rooms this node lacks. A room
        // named like a socket id designates that socket, which the directory does not list.
        BroadcastChannel::Room(room) if !has_local_room(room) && Sid::parse(room).is_none() => {
            return BroadcastAction::Skip;
        }
        _ => {}
    }
    let envelope = match adapter::Envelope::parse(payload) {
        Ok(e) => e,
        Err(e) => return BroadcastAction::Malformed(e),
    };
    if envelope.uid == inner.uid {
        return BroadcastAction::Own;
    }
    if envelope.nsp != NSP {
        return BroadcastAction::Skip;
    }
    match envelope.to_inbound() {
        Ok(inbound) => BroadcastAction::Deliver(inbound),
        Err(e) => BroadcastAction::Malformed(e),
    }
}

/// Decides what a broadcast on the relayed namespace's channel calls for: every one from
/// another node is delivered to this node's sockets of that namespace (there are few: admin
/// UIs), so no room check.
pub(super) fn relay_action(inner: &Inner, payload: &[u8]) -> BroadcastAction {
    let Some((nsp, _)) = &inner.relay else {
        return BroadcastAction::Skip;
    };
    let envelope = match adapter::Envelope::parse(payload) {
        Ok(e) => e,
        Err(e) => return BroadcastAction::Malformed(e),
    };
    if envelope.uid == inner.uid {
        return BroadcastAction::Own;
    }
    if envelope.nsp != nsp.as_str() {
        return BroadcastAction::Skip;
    }
    match envelope.to_inbound() {
        Ok(inbound) => BroadcastAction::Deliver(inbound),
        Err(e) => BroadcastAction::Malformed(e),
    }
}

/// How this node answers a SOCKETS / REMOTE_FETCH request with its matching sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SocketsAnswer {
    /// SOCKETS (0): the ids.
    Ids,
    /// REMOTE_FETCH (5): the full socket records.
    Full,
}

/// What to do with a request from another node or an emitter.
#[derive(Debug)]
pub(super) enum RequestAction {
    Malformed(WireError),
    /// This node's own request coming back.
    Own,
    /// Answer on `respond_to` with the local sockets matching `selector`.
    AnswerSockets {
        request_id: String,
        selector: Selector,
        answer: SocketsAnswer,
        respond_to: String,
    },
    /// Answer on `respond_to` with the rooms that have local members.
    AnswerRooms {
        request_id: String,
        respond_to: String,
    },
    /// Apply to local sockets; nobody waits for an answer.
    Apply(RemoteCommand),
    /// A legacy command: apply it (and publish `ack`, `(channel, payload)`) only if socket `sid`
    /// is on this node.
    ApplyIfLocal {
        sid: String,
        command: RemoteCommand,
        ack: Option<(String, Vec<u8>)>,
    },
    /// A BROADCAST waiting for client acks: deliver it, then publish `payload` on `respond_to`
    /// (a client count of 0, so the requester does not wait for acks from here).
    DeliverAndAnnounce {
        inbound: Inbound,
        respond_to: String,
        payload: Vec<u8>,
    },
    /// SERVER_SIDE_EMIT: ringcast has no server-side listeners.
    IgnoreServerSideEmit {
        with_ack: bool,
        /// The event and its arguments (JSON array text), for the gateway's listener.
        data: Option<String>,
    },
    /// A request type ringcast does not handle.
    IgnoreOther {
        kind: u64,
    },
}

/// Decides what a request calls for.
pub(super) fn request_action(inner: &Inner, payload: &[u8]) -> RequestAction {
    let request = match adapter::decode_request(payload, NSP) {
        Ok(r) => r,
        Err(e) => return RequestAction::Malformed(e),
    };
    if request.uid() == Some(inner.uid.as_str()) {
        return RequestAction::Own;
    }
    let respond_to = inner.response_channel(request.uid());
    match request {
        Request::Sockets {
            request_id,
            selector,
            ..
        } => RequestAction::AnswerSockets {
            request_id,
            selector,
            answer: SocketsAnswer::Ids,
            respond_to,
        },
        Request::Fetch {
            request_id,
            selector,
            ..
        } => RequestAction::AnswerSockets {
            request_id,
            selector,
            answer: SocketsAnswer::Full,
            respond_to,
        },
        Request::AllRooms { request_id, .. } => RequestAction::AnswerRooms {
            request_id,
            respond_to,
        },
        Request::Command { command, .. } => RequestAction::Apply(command),
        // Only the node that has the socket applies it and answers (`if (!socket) return`).
        Request::Legacy {
            request_id,
            sid,
            command,
            ..
        } => RequestAction::ApplyIfLocal {
            sid,
            command,
            ack: request_id.map(|id| (respond_to, adapter::legacy_ack(&id))),
        },
        Request::ServerSideEmit {
            request_id, data, ..
        } => RequestAction::IgnoreServerSideEmit {
            with_ack: request_id.is_some(),
            data,
        },
        // Delivered without an ack id (client acks cannot be routed back over Redis here), and
        // announced as expecting 0 acks so the emitter does not wait for us.
        Request::BroadcastWithAck {
            request_id,
            inbound,
            ..
        } => RequestAction::DeliverAndAnnounce {
            inbound,
            respond_to: inner.response_channel(None),
            payload: adapter::client_count_response(&request_id, 0),
        },
        Request::Other { kind, .. } => RequestAction::IgnoreOther { kind },
    }
}

/// The selector of the one socket `sid` (how a legacy command finds whether it is local).
pub(super) fn one_socket(sid: &str) -> Selector {
    Selector {
        nsp: Room::from(NSP),
        rooms: vec![Room::from(sid)],
        except: Vec::new(),
    }
}

/// What to do with a python-socketio message.
#[derive(Debug)]
pub(super) enum PythonAction {
    Malformed(WireError),
    /// An emit for another namespace, or for rooms without local members.
    Skip,
    Deliver(PythonEmit),
    Apply(RemoteCommand),
    /// An ack travelling back to a Python host.
    Ignore,
    /// A method this version does not know.
    Unknown(String),
}

/// Decides what a python-socketio message calls for. `has_local_room(room)` as for broadcasts.
pub(super) fn python_action(has_local_room: impl Fn(&str) -> bool, payload: &[u8]) -> PythonAction {
    let message = match python::decode(payload) {
        Ok(m) => m,
        Err(e) => return PythonAction::Malformed(e),
    };
    match message {
        PythonMessage::Emit(emit) => {
            if emit.nsp.as_str() != NSP {
                return PythonAction::Skip;
            }
            if !emit.rooms.is_empty()
                && !emit
                    .rooms
                    .iter()
                    .any(|r| has_local_room(r.as_str()) || Sid::parse(r.as_str()).is_some())
            {
                return PythonAction::Skip;
            }
            PythonAction::Deliver(emit)
        }
        PythonMessage::Command(command) => PythonAction::Apply(command),
        PythonMessage::Callback => PythonAction::Ignore,
        PythonMessage::Unknown(method) => PythonAction::Unknown(method),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::super::options::RedisOptions;
    use super::super::testing::{SID, envelope, inner, text};
    use super::*;

    fn node(options: RedisOptions) -> Inner {
        let (inner, _rx) = inner(options);
        Arc::try_unwrap(inner).unwrap()
    }

    fn default_node() -> Inner {
        node(RedisOptions::default())
    }

    fn specific_node() -> Inner {
        node(RedisOptions {
            respond_on_specific_channel: true,
            ..RedisOptions::default()
        })
    }

    fn has(rooms: &'static [&'static str]) -> impl Fn(&str) -> bool {
        move |room| rooms.contains(&room)
    }

    // ---- routing ----

    #[test]
    fn routes_by_channel() {
        let me = default_node();
        let ch = &me.channels;
        let cases = [
            (ch.request.as_str(), Route::Request),
            (ch.response.as_str(), Route::Response),
            (ch.own_response.as_str(), Route::Response),
            ("socketio", Route::Python),
            ("socket.io-response#/#other1#", Route::Ignored),
            ("socket.io-request#/admin#", Route::Ignored),
            ("something", Route::Ignored),
        ];
        for (channel, expected) in cases {
            assert_eq!(route(&me, channel, false), expected, "{channel}");
        }
        assert_eq!(route(&me, "socket.io#/#", true), Route::Broadcast);
        // Whatever the pattern matched is a broadcast; its name is checked when it is handled.
        assert_eq!(route(&me, &ch.request, true), Route::Broadcast);
    }

    #[test]
    fn routes_follow_the_key_prefix_and_python_channel() {
        let me = node(RedisOptions {
            key_prefix: "app".to_owned(),
            python_channel: "py".to_owned(),
            ..RedisOptions::default()
        });
        assert_eq!(route(&me, "app-request#/#", false), Route::Request);
        assert_eq!(route(&me, "socket.io-request#/#", false), Route::Ignored);
        assert_eq!(route(&me, "py", false), Route::Python);
        assert_eq!(route(&me, "socketio", false), Route::Ignored);
    }

    #[test]
    fn each_route_counts_as_its_channel_kind() {
        assert_eq!(Route::Broadcast.kind(), Some(ChannelKind::Broadcast));
        assert_eq!(Route::Request.kind(), Some(ChannelKind::Request));
        assert_eq!(Route::Response.kind(), Some(ChannelKind::Response));
        assert_eq!(Route::Python.kind(), Some(ChannelKind::Python));
        assert_eq!(Route::Ignored.kind(), None);
    }

    // ---- broadcasts ----

    fn broadcast(
        me: &Inner,
        rooms: &'static [&'static str],
        channel: &str,
        payload: &[u8],
    ) -> BroadcastAction {
        broadcast_action(me, has(rooms), channel, payload)
    }

    #[test]
    fn delivers_a_broadcast_from_another_node() {
        let me = default_node();
        let payload = envelope("other1", "/", &[], &[]);
        match broadcast(&me, &[], "socket.io#/#", &payload) {
            BroadcastAction::Deliver(inbound) => {
                assert_eq!(text(&inbound.op), r#"42["ev"]"#);
                assert!(inbound.except_rooms.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn skips_a_room_without_local_members_before_decoding() {
        let me = default_node();
        let action = broadcast(&me, &["b"], "socket.io#/#a#", b"not msgpack");
        assert!(matches!(action, BroadcastAction::Skip), "{action:?}");
        let payload = envelope("other1", "/", &["b"], &[]);
        let action = broadcast(&me, &["b"], "socket.io#/#b#", &payload);
        assert!(matches!(action, BroadcastAction::Deliver(_)), "{action:?}");
    }

    #[test]
    fn a_room_named_like_a_socket_id_is_decoded() {
        let me = default_node();
        let payload = envelope("other1", "/", &[SID], &[]);
        let action = broadcast(&me, &[], &format!("socket.io#/#{SID}#"), &payload);
        assert!(matches!(action, BroadcastAction::Deliver(_)), "{action:?}");
    }

    #[test]
    fn skips_foreign_broadcast_channels() {
        let me = default_node();
        let payload = envelope("other1", "/", &[], &[]);
        for channel in [
            "socket.io#/admin#",
            "socket.io#/#a",
            "socket.io#/##",
            "other#/#",
        ] {
            let action = broadcast(&me, &["a"], channel, &payload);
            assert!(
                matches!(action, BroadcastAction::Skip),
                "{channel}: {action:?}"
            );
        }
    }

    #[test]
    fn recognises_its_own_broadcast() {
        let me = default_node();
        let payload = envelope(&me.uid, "/", &[], &[]);
        let action = broadcast(&me, &[], "socket.io#/#", &payload);
        assert!(matches!(action, BroadcastAction::Own), "{action:?}");
    }

    #[test]
    fn skips_another_namespace_in_the_envelope() {
        let me = default_node();
        let payload = envelope("other1", "/admin", &[], &[]);
        let action = broadcast(&me, &[], "socket.io#/#", &payload);
        assert!(matches!(action, BroadcastAction::Skip), "{action:?}");
    }

    #[test]
    fn the_relayed_namespace_is_heard_on_its_own_channel() {
        let me = node(RedisOptions {
            relay_namespace: Some("/admin".to_owned()),
            ..RedisOptions::default()
        });
        assert_eq!(route(&me, "socket.io#/admin#", false), Route::Relay);
        assert_eq!(Route::Relay.kind(), Some(ChannelKind::Broadcast));
        assert_eq!(
            route(&default_node(), "socket.io#/admin#", false),
            Route::Ignored
        );
        // (sender, namespace in the envelope, delivered?)
        let cases = [
            ("other1", "/admin", true),
            ("other1", "/", false),
            (me.uid.as_str(), "/admin", false),
        ];
        for (uid, nsp, delivered) in cases {
            let action = relay_action(&me, &envelope(uid, nsp, &[], &[]));
            match action {
                BroadcastAction::Deliver(inbound) => {
                    assert!(delivered, "{uid} {nsp}");
                    assert_eq!(text(&inbound.op), r#"42/admin,["ev"]"#);
                }
                other => assert!(!delivered, "{uid} {nsp}: {other:?}"),
            }
        }
        assert!(matches!(
            relay_action(&me, b"\x93"),
            BroadcastAction::Malformed(_)
        ));
    }

    #[test]
    fn malformed_broadcasts_are_reported() {
        let me = default_node();
        for payload in [&b""[..], b"\x93", b"{\"json\":1}", b"\x92\xa1a\xa1b"] {
            let action = broadcast(&me, &[], "socket.io#/#", payload);
            assert!(
                matches!(action, BroadcastAction::Malformed(_)),
                "{payload:?}: {action:?}"
            );
        }
    }

    #[test]
    fn room_exclusions_travel_beside_the_op() {
        let me = default_node();
        let payload = envelope("other1", "/", &[], &[SID, "vip"]);
        match broadcast(&me, &[], "socket.io#/#", &payload) {
            BroadcastAction::Deliver(inbound) => {
                assert_eq!(inbound.op.except, vec![Sid::parse(SID).unwrap()]);
                assert_eq!(inbound.except_rooms, vec![Room::from("vip")]);
            }
            other => panic!("{other:?}"),
        }
    }

    // ---- requests ----

    fn request(me: &Inner, json: &str) -> RequestAction {
        request_action(me, json.as_bytes())
    }

    #[test]
    fn ignores_its_own_request() {
        let me = default_node();
        let json = format!(r#"{{"uid":"{}","requestId":"r1","type":1}}"#, me.uid);
        assert!(matches!(request(&me, &json), RequestAction::Own));
    }

    #[test]
    fn answers_a_fetch_from_another_node_on_the_shared_channel() {
        let me = default_node();
        let json =
            r#"{"uid":"other1","requestId":"r1","type":5,"opts":{"rooms":["a"],"except":["b"]}}"#;
        match request(&me, json) {
            RequestAction::AnswerSockets {
                request_id,
                selector,
                answer,
                respond_to,
            } => {
                assert_eq!(
                    (request_id.as_str(), answer, respond_to.as_str()),
                    ("r1", SocketsAnswer::Full, "socket.io-response#/#")
                );
                assert_eq!(selector.rooms, vec![Room::from("a")]);
                assert_eq!(selector.except, vec![Room::from("b")]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_on_the_requesters_channel_when_configured() {
        let me = specific_node();
        let json = r#"{"uid":"other1","requestId":"r1","type":1}"#;
        match request(&me, json) {
            RequestAction::AnswerRooms {
                request_id,
                respond_to,
            } => assert_eq!(
                (request_id.as_str(), respond_to.as_str()),
                ("r1", "socket.io-response#/#other1#")
            ),
            other => panic!("{other:?}"),
        }
        // The emitter names no uid: the shared channel.
        let json = r#"{"requestId":"r2","type":1}"#;
        match request(&me, json) {
            RequestAction::AnswerRooms { respond_to, .. } => {
                assert_eq!(respond_to, "socket.io-response#/#")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_a_sockets_request_with_ids() {
        let me = default_node();
        let json = r#"{"uid":"other1","requestId":"r1","type":0,"rooms":["a"]}"#;
        match request(&me, json) {
            RequestAction::AnswerSockets {
                answer, selector, ..
            } => {
                assert_eq!(answer, SocketsAnswer::Ids);
                assert_eq!(selector.rooms, vec![Room::from("a")]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn applies_commands_with_opts() {
        let me = default_node();
        let json = r#"{"uid":"other1","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}"#;
        match request(&me, json) {
            RequestAction::Apply(RemoteCommand::Join { selector, rooms }) => {
                assert_eq!(selector.rooms, vec![Room::from("a")]);
                assert_eq!(rooms, vec![Room::from("b")]);
            }
            other => panic!("{other:?}"),
        }
        let json = r#"{"type":4,"opts":{"rooms":[],"except":[]},"close":true}"#;
        assert!(matches!(
            request(&me, json),
            RequestAction::Apply(RemoteCommand::Disconnect { close: true, .. })
        ));
    }

    #[test]
    fn a_legacy_command_applies_only_where_the_socket_is_and_acks_there() {
        let me = specific_node();
        let json =
            format!(r#"{{"uid":"other1","requestId":"r1","type":3,"sid":"{SID}","room":"a"}}"#);
        match request(&me, &json) {
            RequestAction::ApplyIfLocal { sid, command, ack } => {
                assert_eq!(sid, SID);
                assert!(matches!(command, RemoteCommand::Leave { .. }));
                let (channel, payload) = ack.unwrap();
                assert_eq!(channel, "socket.io-response#/#other1#");
                assert_eq!(payload, br#"{"requestId":"r1"}"#);
            }
            other => panic!("{other:?}"),
        }
        let json = format!(r#"{{"uid":"other1","type":4,"sid":"{SID}"}}"#);
        match request(&me, &json) {
            RequestAction::ApplyIfLocal { ack, .. } => assert!(ack.is_none()),
            other => panic!("{other:?}"),
        }
        let one = one_socket(SID);
        assert_eq!((one.nsp.as_str(), one.rooms), ("/", vec![Room::from(SID)]));
        assert!(one.except.is_empty());
    }

    #[test]
    fn server_side_emits_and_unknown_types_are_ignored() {
        let me = default_node();
        let json = r#"{"uid":"other1","requestId":"r1","type":6,"data":["x"]}"#;
        assert!(matches!(
            request(&me, json),
            RequestAction::IgnoreServerSideEmit { with_ack: true, .. }
        ));
        let json = r#"{"uid":"other1","type":6,"data":["x"]}"#;
        assert!(matches!(
            request(&me, json),
            RequestAction::IgnoreServerSideEmit {
                with_ack: false,
                ..
            }
        ));
        let json = r#"{"uid":"other1","requestId":"r1","type":9}"#;
        assert!(matches!(
            request(&me, json),
            RequestAction::IgnoreOther { kind: 9 }
        ));
    }

    #[test]
    fn a_broadcast_with_ack_is_delivered_and_announced_on_the_shared_channel() {
        let me = specific_node();
        let json = r#"{"uid":"other1","requestId":"r1","type":7,"packet":{"type":2,"data":["ev",1],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{}}}"#;
        match request(&me, json) {
            RequestAction::DeliverAndAnnounce {
                inbound,
                respond_to,
                payload,
            } => {
                assert_eq!(text(&inbound.op), r#"42["ev",1]"#);
                assert_eq!(respond_to, "socket.io-response#/#");
                assert_eq!(payload, br#"{"type":8,"requestId":"r1","clientCount":0}"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_requests_are_reported() {
        let me = default_node();
        for json in [
            "",
            "{",
            r#"{"uid":"other1","requestId":"r1"}"#,
            r#"{"uid":"other1","type":5}"#,
            r#"{"uid":"other1","type":2,"requestId":"r1"}"#,
            r#"{"uid":"other1","type":7,"requestId":"r1"}"#,
        ] {
            let action = request(&me, json);
            assert!(
                matches!(action, RequestAction::Malformed(_)),
                "{json}: {action:?}"
            );
        }
    }

    // ---- python-socketio ----

    fn python(rooms: &'static [&'static str], json: &str) -> PythonAction {
        python_action(has(rooms), json.as_bytes())
    }

    #[test]
    fn python_emits_for_the_namespace_and_local_rooms_are_delivered() {
        let everyone = r#"{"method":"emit","event":"ev","data":[1],"namespace":"/","room":null}"#;
        assert!(matches!(python(&[], everyone), PythonAction::Deliver(_)));
        let room = r#"{"method":"emit","event":"ev","data":[1],"room":["x","a"]}"#;
        match python(&["a"], room) {
            PythonAction::Deliver(emit) => assert_eq!(emit.event, "ev"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(python(&["b"], room), PythonAction::Skip));
        let to_socket = format!(r#"{{"method":"emit","event":"ev","data":[1],"room":"{SID}"}}"#);
        assert!(matches!(python(&[], &to_socket), PythonAction::Deliver(_)));
        let other_nsp = r#"{"method":"emit","event":"ev","data":[1],"namespace":"/admin"}"#;
        assert!(matches!(python(&[], other_nsp), PythonAction::Skip));
    }

    #[test]
    fn python_commands_callbacks_and_unknown_methods() {
        let json = format!(r#"{{"method":"enter_room","sid":"{SID}","room":"a"}}"#);
        assert!(matches!(
            python(&[], &json),
            PythonAction::Apply(RemoteCommand::Join { .. })
        ));
        let json = r#"{"method":"callback","sid":"x","id":1,"args":[]}"#;
        assert!(matches!(python(&[], json), PythonAction::Ignore));
        match python(&[], r#"{"method":"frobnicate"}"#) {
            PythonAction::Unknown(method) => assert_eq!(method, "frobnicate"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_python_messages_are_reported() {
        for payload in [
            &b"\x80\x04pickle"[..],
            b"{",
            b"{}",
            br#"{"method":"enter_room"}"#,
        ] {
            let action = python_action(has(&[]), payload);
            assert!(
                matches!(action, PythonAction::Malformed(_)),
                "{payload:?}: {action:?}"
            );
        }
        assert!(matches!(
            python_action(has(&[]), b"\x80\x04"),
            PythonAction::Malformed(WireError::Pickle)
        ));
    }
}
