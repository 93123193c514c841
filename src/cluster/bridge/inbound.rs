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
use crate::room::Room;
use crate::sid::Sid;

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
    /// None of ours (not counted).
    Ignored,
}

impl Route {
    /// The channel kind counted as received.
    pub(super) fn kind(self) -> Option<ChannelKind> {
        match self {
            Route::Broadcast => Some(ChannelKind::Broadcast),
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
        Request::ServerSideEmit { request_id, .. } => RequestAction::IgnoreServerSideEmit {
            with_ack: request_id.is_some(),
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
