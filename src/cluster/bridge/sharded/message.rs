//! The sharded adapter's side of the wire, sans IO: its channel names, which channel a
//! broadcast goes to, what an inbound `ClusterAdapter` message calls for, and the messages
//! ringcast sends. Mirrors `@socket.io/redis-adapter` 8.3.0 `lib/sharded-adapter.ts` and
//! socket.io-adapter 2.5.x `ClusterAdapter.onMessage`.

use crate::cluster::adapter::{self, Inbound, Response};
use crate::cluster::cluster_message::{Body, Broadcast, ClusterMessage, MessageError, Opts, Value};
use crate::cluster::json::Json;
use crate::cluster::{RemoteCommand, Selector, SocketInfo};
use crate::engine::{BroadcastOp, Room};

use super::super::SubscriptionMode;

/// The sharded adapter's channels of one namespace.
#[derive(Debug, Clone)]
pub(super) struct ShardedChannels {
    /// `<prefix>#<nsp>#`: every node subscribes it; broadcasts, requests, commands.
    pub(super) main: String,
    /// `<prefix>#<nsp>#<uid>#`: responses addressed to this node.
    pub(super) own: String,
}

/// What a channel a message arrived on is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    /// The main channel or a room's: `onMessage`.
    Message,
    /// This node's response channel: `onResponse`.
    Response,
    /// Not one of this namespace's channels.
    Foreign,
}

impl ShardedChannels {
    pub(super) fn new(prefix: &str, nsp: &str, uid: &str) -> ShardedChannels {
        let main = format!("{prefix}#{nsp}#");
        ShardedChannels {
            own: format!("{main}{uid}#"),
            main,
        }
    }

    /// `dynamicChannel(room)`.
    pub(super) fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.main)
    }

    /// Where another node answers a request from `uid` (`doPublishResponse`).
    pub(super) fn response_to(&self, uid: &str) -> String {
        format!("{}{uid}#", self.main)
    }

    pub(super) fn arrival(&self, channel: &str) -> Arrival {
        if channel == self.own {
            Arrival::Response
        } else if channel.starts_with(self.main.as_str()) {
            Arrival::Message
        } else {
            Arrival::Foreign
        }
    }

    /// `computeChannel` for a broadcast without acks: its room's channel when it targets
    /// exactly one room and the mode is `dynamic` and the room does not look like a socket id,
    /// else the main channel. `Some(room)` when it is a room's channel.
    pub(super) fn broadcast_channel<'r>(
        &self,
        mode: SubscriptionMode,
        rooms: &'r [Room],
    ) -> (String, Option<&'r str>) {
        match (mode, rooms) {
            (SubscriptionMode::Dynamic, [room]) if is_public(room.as_str()) => {
                (self.room(room.as_str()), Some(room.as_str()))
            }
            _ => (self.main.clone(), None),
        }
    }
}

/// Whether a room gets its own channel in `dynamic` mode. The adapter subscribes rooms that are
/// not one of its socket ids and publishes to a room's channel unless the name
/// `looksLikeASocketId` (20 characters, the length of a socket.io id). A 20-character room is
/// therefore always published on the main channel, so its channel is never needed.
pub(super) fn is_public(room: &str) -> bool {
    room.len() != 20
}

/// What an inbound message calls for.
#[derive(Debug)]
pub(super) enum Action {
    /// Sent by this node (it subscribes the channels it publishes to).
    Own,
    /// Another namespace's, a type ringcast has no part in (heartbeats, server-side emits, acks
    /// of other nodes' broadcasts), or a response to a request that is not ours.
    Ignore(&'static str),
    Deliver(Inbound),
    /// A broadcast waiting for client acks: delivered without an ack id (ringcast's clients'
    /// acks do not travel back), and answered "0 clients" so that the sender does not wait.
    DeliverAndCount {
        inbound: Inbound,
        requester: String,
        request_id: String,
    },
    Apply(RemoteCommand),
    /// FETCH_SOCKETS: answer `requester` with the local sockets matching `selector`.
    Fetch {
        requester: String,
        request_id: String,
        selector: Selector,
    },
    /// A FETCH_SOCKETS_RESPONSE to one of this node's gathers.
    Gathered(Response),
    Malformed(MessageError),
}

/// Decides what `payload` (JSON when it starts with `{`, else msgpack) calls for, as
/// `ClusterAdapter.onMessage` does for a node serving namespace `nsp`.
pub(super) fn action(own_uid: &str, nsp: &str, payload: &[u8]) -> Action {
    let message = match ClusterMessage::decode(payload) {
        Ok(m) => m,
        Err(e) => return Action::Malformed(e),
    };
    if message.uid == own_uid {
        return Action::Own;
    }
    if message.nsp != nsp {
        return Action::Ignore("another namespace");
    }
    let selector = |opts: &Opts| Selector {
        nsp: Room::from(nsp),
        rooms: rooms(&opts.rooms),
        except: rooms(&opts.except),
    };
    match message.body {
        Body::Broadcast(b) => broadcast_action(b, message.uid),
        Body::SocketsJoin { opts, rooms: r } => Action::Apply(RemoteCommand::Join {
            selector: selector(&opts),
            rooms: rooms(&r),
        }),
        Body::SocketsLeave { opts, rooms: r } => Action::Apply(RemoteCommand::Leave {
            selector: selector(&opts),
            rooms: rooms(&r),
        }),
        Body::DisconnectSockets { opts, close } => Action::Apply(RemoteCommand::Disconnect {
            selector: selector(&opts),
            close: close.unwrap_or(false),
        }),
        Body::FetchSockets { opts, request_id } => Action::Fetch {
            requester: message.uid,
            request_id,
            selector: selector(&opts),
        },
        Body::FetchSocketsResponse {
            request_id,
            sockets,
        } => gathered(&request_id, &sockets),
        Body::InitialHeartbeat | Body::Heartbeat | Body::AdapterClose => {
            Action::Ignore("heartbeat")
        }
        Body::ServerSideEmit { .. } => Action::Ignore("server-side emit"),
        Body::ServerSideEmitResponse { .. }
        | Body::BroadcastClientCount { .. }
        | Body::BroadcastAck { .. } => Action::Ignore("response to another request"),
    }
}

fn broadcast_action(b: Broadcast, sender: String) -> Action {
    let inbound = match b.to_inbound(None) {
        Ok(i) => i,
        Err(e) => return Action::Malformed(e),
    };
    match b.request_id {
        None => Action::Deliver(inbound),
        Some(request_id) => Action::DeliverAndCount {
            inbound,
            requester: sender,
            request_id,
        },
    }
}

/// A FETCH_SOCKETS_RESPONSE's sockets as the gathers read them (`{id, rooms}` of each).
fn gathered(request_id: &str, sockets: &Value) -> Action {
    let mut text = Vec::with_capacity(64);
    text.extend_from_slice(b"{\"requestId\":");
    Json::Str(request_id.to_owned()).write(&mut text);
    text.extend_from_slice(b",\"sockets\":");
    sockets.json.write(&mut text);
    text.push(b'}');
    match adapter::decode_response(&text) {
        Ok(r) => Action::Gathered(r),
        Err(e) => Action::Malformed(MessageError::Wire(e)),
    }
}

fn rooms(names: &[String]) -> Vec<Room> {
    names.iter().map(|r| Room::from(r.as_str())).collect()
}

// ---- what ringcast sends ----

/// A broadcast of this node's, as the sharded adapter encodes it (JSON, msgpack with binary).
pub(super) fn broadcast(uid: &str, nsp: &str, op: &BroadcastOp) -> Result<Vec<u8>, MessageError> {
    message(
        uid,
        nsp,
        Body::Broadcast(Broadcast::from_op(op, &op.except_rooms)?),
    )
}

/// FETCH_SOCKETS for every socket matching `selector`.
pub(super) fn fetch_request(
    uid: &str,
    nsp: &str,
    request_id: &str,
    selector: &Selector,
) -> Result<Vec<u8>, MessageError> {
    let names = |rooms: &[Room]| rooms.iter().map(|r| r.as_str().to_owned()).collect();
    let opts = Opts {
        rooms: names(&selector.rooms),
        except: names(&selector.except),
        // `encodeOptions` copies `flags`; socket.io's `fetchSockets` passes `{}`.
        flags: Some(Json::Object(Vec::new())),
    };
    message(
        uid,
        nsp,
        Body::FetchSockets {
            opts,
            request_id: request_id.to_owned(),
        },
    )
}

/// FETCH_SOCKETS_RESPONSE with `sockets` (`{id, handshake, rooms, data}` each, the handshake
/// empty: ringcast keeps no handshake record).
pub(super) fn fetch_response(
    uid: &str,
    nsp: &str,
    request_id: &str,
    sockets: &[SocketInfo],
) -> Result<Vec<u8>, MessageError> {
    let classic = adapter::fetch_response(request_id, sockets);
    let sockets = Json::parse(&classic)?
        .get("sockets")
        .cloned()
        .ok_or(MessageError::MissingField("sockets"))?;
    message(
        uid,
        nsp,
        Body::FetchSocketsResponse {
            request_id: request_id.to_owned(),
            sockets: Value {
                json: sockets,
                attachments: Vec::new(),
            },
        },
    )
}

/// BROADCAST_CLIENT_COUNT 0: none of this node's clients will acknowledge.
pub(super) fn no_clients(uid: &str, nsp: &str, request_id: &str) -> Result<Vec<u8>, MessageError> {
    message(
        uid,
        nsp,
        Body::BroadcastClientCount {
            request_id: request_id.to_owned(),
            client_count: 0,
        },
    )
}

fn message(uid: &str, nsp: &str, body: Body) -> Result<Vec<u8>, MessageError> {
    ClusterMessage {
        uid: uid.to_owned(),
        nsp: nsp.to_owned(),
        body,
    }
    .encode_sharded()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cluster::wire::event_frames;

    fn op(rooms: &[&str]) -> BroadcastOp {
        BroadcastOp {
            nsp: Room::from("/"),
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: vec![],
            except_rooms: Vec::new(),
            frames: event_frames("/", "ev", r#"{"a":1}"#, std::iter::empty()),
        }
    }

    #[test]
    fn a_broadcast_goes_to_its_rooms_channel_only_in_dynamic_mode_for_one_public_room() {
        let ch = ShardedChannels::new("socket.io", "/", "abc123");
        let twenty = "a".repeat(20);
        // mode, rooms, channel
        let cases: [(SubscriptionMode, &[&str], &str); 6] = [
            (
                SubscriptionMode::Dynamic,
                &["task:1"],
                "socket.io#/#task:1#",
            ),
            (SubscriptionMode::Dynamic, &[], "socket.io#/#"),
            (SubscriptionMode::Dynamic, &["a", "b"], "socket.io#/#"),
            (
                SubscriptionMode::Dynamic,
                &[twenty.as_str()],
                "socket.io#/#",
            ),
            (SubscriptionMode::Static, &["task:1"], "socket.io#/#"),
            (SubscriptionMode::Static, &[], "socket.io#/#"),
        ];
        for (mode, rooms, want) in cases {
            let rooms: Vec<Room> = rooms.iter().map(|r| Room::from(*r)).collect();
            assert_eq!(
                ch.broadcast_channel(mode, &rooms).0,
                want,
                "{mode:?} {rooms:?}"
            );
        }
        assert_eq!(ch.own, "socket.io#/#abc123#");
        assert_eq!(ch.arrival("socket.io#/#abc123#"), Arrival::Response);
        assert_eq!(ch.arrival("socket.io#/#task:1#"), Arrival::Message);
        assert_eq!(ch.arrival("socket.io#/#"), Arrival::Message);
        assert_eq!(ch.arrival("other#/#"), Arrival::Foreign);
    }

    #[test]
    fn inbound_messages_call_for_what_cluster_adapter_does() {
        let ours = broadcast("me", "/", &op(&["task:1"])).unwrap();
        assert!(matches!(action("me", "/", &ours), Action::Own));
        let theirs = broadcast("node2", "/", &op(&["task:1"])).unwrap();
        match action("me", "/", &theirs) {
            Action::Deliver(i) => assert_eq!(i.op.rooms, vec![Room::from("task:1")]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(action("me", "/other", &theirs), Action::Ignore(_)));
        let join = br#"{"type":4,"data":{"opts":{"rooms":["a"],"except":[]},"rooms":["b"]},"uid":"n","nsp":"/"}"#;
        match action("me", "/", join) {
            Action::Apply(RemoteCommand::Join { selector, rooms }) => {
                assert_eq!(selector.rooms, vec![Room::from("a")]);
                assert_eq!(rooms, vec![Room::from("b")]);
            }
            other => panic!("{other:?}"),
        }
        let fetch = br#"{"type":7,"data":{"opts":{"rooms":[],"except":[]},"requestId":"r1"},"uid":"n","nsp":"/"}"#;
        assert!(matches!(
            action("me", "/", fetch),
            Action::Fetch { ref requester, ref request_id, .. } if requester == "n" && request_id == "r1"
        ));
        assert!(matches!(action("me", "/", b"{nope"), Action::Malformed(_)));
        let heartbeat = br#"{"type":2,"uid":"n","nsp":"/"}"#;
        assert!(matches!(action("me", "/", heartbeat), Action::Ignore(_)));
    }

    #[test]
    fn a_socket_io_broadcast_without_the_packets_nsp_is_delivered_to_the_messages() {
        // What @socket.io/redis-adapter 8.3.0 + socket.io 4.8.4 SPUBLISHed for
        // io.to("agent:7").emit("x", {a: 1}) (captured with redis-cli SSUBSCRIBE).
        let payload = br#"{"type":3,"data":{"packet":{"type":2,"data":["x",{"a":1}]},"opts":{"rooms":["agent:7"],"except":[],"flags":{}}},"uid":"787fb47b9803f099","nsp":"/"}"#;
        match action("me", "/", payload) {
            Action::Deliver(i) => {
                assert_eq!(i.op.nsp, Room::from("/"));
                assert_eq!(i.op.rooms, vec![Room::from("agent:7")]);
                assert_eq!(&i.op.frames[0].payload()[..], br#"42["x",{"a":1}]"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_fetch_response_round_trips_into_a_gathered_answer() {
        let socket = SocketInfo {
            id: "s1".to_owned(),
            rooms: vec!["s1".to_owned(), "task:1".to_owned()],
            ..Default::default()
        };
        let payload = fetch_response("node2", "/", "r1", std::slice::from_ref(&socket)).unwrap();
        assert_eq!(payload[0], b'{', "JSON: no binary");
        match action("me", "/", &payload) {
            Action::Gathered(r) => {
                assert_eq!(r.request_id, "r1");
                assert_eq!(r.sockets, Some(vec![socket]));
            }
            other => panic!("{other:?}"),
        }
        let count = no_clients("node2", "/", "r2").unwrap();
        assert_eq!(
            String::from_utf8(count).unwrap(),
            r#"{"type":11,"data":{"requestId":"r2","clientCount":0},"uid":"node2","nsp":"/"}"#
        );
    }
}
