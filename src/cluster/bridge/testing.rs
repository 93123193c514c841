//! Test support: an engine that records what the bridge asks of it, and messages as other
//! nodes, emitters and python-socketio write them.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::control::{Control, Inner};
use super::options::RedisOptions;
use crate::cluster::msgpack::Writer;
use crate::cluster::{LocalNode, RemoteCommand, Selector, SocketInfo};
use crate::engine::BroadcastOp;
use crate::engine::Room;

/// A socket id that the directory never lists as a room.
pub(super) const SID: &str = "AAAAAAAAAAAAAAAAAAAB";

/// What the bridge asked of the engine.
#[derive(Debug)]
pub(super) enum Call {
    Deliver(BroadcastOp),
    DeliverExceptRooms(BroadcastOp, Vec<Room>),
    Apply(RemoteCommand),
    FetchSockets(Selector),
    AllRooms(String),
}

/// An engine with fixed rooms and sockets that answers queries at once, on the caller's thread.
#[derive(Debug, Default)]
pub(super) struct FakeNode {
    /// Rooms with local members.
    pub(super) rooms: Vec<&'static str>,
    /// What `fetch_sockets` finds, whatever the selector.
    pub(super) sockets: Vec<SocketInfo>,
    /// `deliver_except_rooms` hands broadcasts back (an engine without room exclusion).
    pub(super) refuse_except_rooms: bool,
    pub(super) calls: Mutex<Vec<Call>>,
}

impl FakeNode {
    pub(super) fn with_rooms(rooms: &[&'static str]) -> FakeNode {
        FakeNode {
            rooms: rooms.to_vec(),
            ..FakeNode::default()
        }
    }

    /// The calls so far, leaving none.
    pub(super) fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record(&self, call: Call) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }
}

impl LocalNode for FakeNode {
    fn has_local_room(&self, nsp: &str, room: &str) -> bool {
        nsp == "/" && self.rooms.contains(&room)
    }

    fn deliver(&self, op: BroadcastOp) {
        self.record(Call::Deliver(op));
    }

    fn deliver_except_rooms(
        &self,
        op: BroadcastOp,
        except_rooms: Vec<Room>,
    ) -> Result<(), BroadcastOp> {
        if self.refuse_except_rooms {
            return Err(op);
        }
        self.record(Call::DeliverExceptRooms(op, except_rooms));
        Ok(())
    }

    fn apply(&self, command: RemoteCommand) {
        self.record(Call::Apply(command));
    }

    fn fetch_sockets(&self, selector: Selector, reply: Box<dyn FnOnce(Vec<SocketInfo>) + Send>) {
        self.record(Call::FetchSockets(selector));
        reply(self.sockets.clone());
    }

    fn all_rooms(&self, nsp: &str, reply: Box<dyn FnOnce(Vec<Room>) + Send>) {
        self.record(Call::AllRooms(nsp.to_owned()));
        reply(self.rooms.iter().map(|r| Room::from(*r)).collect());
    }
}

/// A bridge's shared state with `options`, and its control channel's receiving end.
pub(super) fn inner(options: RedisOptions) -> (Arc<Inner>, mpsc::UnboundedReceiver<Control>) {
    let (inner, rx) = Inner::new(options);
    (Arc::new(inner), rx)
}

/// The control messages sent so far.
pub(super) fn drain(rx: &mut mpsc::UnboundedReceiver<Control>) -> Vec<Control> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// A broadcast envelope as a Node node publishes it: `[uid, {type: 2, data: [event], nsp},
/// {rooms, except, flags: {}}]`.
pub(super) fn envelope(uid: &str, nsp: &str, rooms: &[&str], except: &[&str]) -> Vec<u8> {
    let mut w = Writer::new();
    w.array(3);
    w.str(uid);
    w.map(3);
    w.str("type");
    w.uint(2);
    w.str("data");
    w.array(1);
    w.str("ev");
    w.str("nsp");
    w.str(nsp);
    w.map(3);
    w.str("rooms");
    w.array(rooms.len());
    for room in rooms {
        w.str(room);
    }
    w.str("except");
    w.array(except.len());
    for room in except {
        w.str(room);
    }
    w.str("flags");
    w.map(0);
    w.buf
}

/// The Socket.IO text of a delivered broadcast.
pub(super) fn text(op: &BroadcastOp) -> String {
    String::from_utf8_lossy(&op.frames[0].payload()[..]).into_owned()
}
