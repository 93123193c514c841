//! The handler's view of one socket ([`Socket`]) and of the server ([`Emitter`]).

use bytes::Bytes;
use ringcast_codec::sio;
use ringcast_codec::ws::{FrameBuf, OpCode, OutFrame};

/// Encodes an EVENT (or BINARY_EVENT with its attachment frames) once.
pub use ringcast_codec::sio::encode_event;

use super::BroadcastOp;
use super::worker::Worker;
use crate::engine::Room;
use crate::engine::sid::Sid;

/// One connected socket, lent to a handler callback.
pub struct Socket<'w> {
    worker: &'w mut Worker,
    key: usize,
    slot: usize,
}

impl std::fmt::Debug for Socket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id()).finish()
    }
}

impl<'w> Socket<'w> {
    pub(crate) fn new(worker: &'w mut Worker, key: usize, slot: usize) -> Self {
        Socket { worker, key, slot }
    }

    fn slot(&self) -> Option<&super::worker::SocketSlot> {
        self.worker
            .conns
            .get(self.key)?
            .sockets
            .get(self.slot)?
            .as_ref()
    }

    fn slot_mut(&mut self) -> Option<&mut super::worker::SocketSlot> {
        self.worker
            .conns
            .get_mut(self.key)?
            .sockets
            .get_mut(self.slot)?
            .as_mut()
    }

    /// The socket id (what the client sees as `socket.id`).
    pub fn id(&self) -> Option<Sid> {
        self.slot().map(|s| s.sid)
    }

    /// The namespace.
    pub fn nsp(&self) -> Room {
        self.slot()
            .map(|s| s.nsp.clone())
            .unwrap_or_else(|| Room::from("/"))
    }

    /// The rooms the socket is in.
    pub fn rooms(&self) -> Vec<Room> {
        self.slot().map(|s| s.rooms.to_vec()).unwrap_or_default()
    }

    /// Whether the socket is in `room`.
    pub fn in_room(&self, room: &str) -> bool {
        self.slot()
            .is_some_and(|s| s.rooms.iter().any(|r| r.as_str() == room))
    }

    /// The data the handler's `authorize` returned.
    pub fn data<T: 'static>(&self) -> Option<&T> {
        self.slot()?.data.downcast_ref()
    }

    /// Mutable access to the handler's data.
    pub fn data_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.slot_mut()?.data.downcast_mut()
    }

    /// Joins `room`; `false` if already in it.
    pub fn join(&mut self, room: Room) -> bool {
        let Some(slot) = self.slot_mut() else {
            return false;
        };
        if slot.rooms.contains(&room) {
            return false;
        }
        slot.rooms.push(room.clone());
        let nsp = slot.nsp.clone();
        self.worker.index_join(&nsp, &room, self.key, self.slot);
        true
    }

    /// Leaves `room`; `false` if not in it.
    pub fn leave(&mut self, room: &str) -> bool {
        let Some(slot) = self.slot_mut() else {
            return false;
        };
        let Some(pos) = slot.rooms.iter().position(|r| r.as_str() == room) else {
            return false;
        };
        let room = slot.rooms.swap_remove(pos);
        let nsp = slot.nsp.clone();
        self.worker.index_leave(&nsp, &room, self.key, self.slot);
        true
    }

    /// Emits `event` with `args` (raw JSON of the arguments, comma-separated: `{"a":1}`).
    pub fn emit(&mut self, event: &str, args: &str) {
        self.emit_inner(event, args, None, &[]);
    }

    /// Emits with binary attachments (`args` holds their placeholders).
    pub fn emit_binary(&mut self, event: &str, args: &str, attachments: &[Bytes]) {
        self.emit_inner(event, args, None, attachments);
    }

    /// Emits and asks the client for an acknowledgement; returns the ack id that
    /// [`super::Handler::on_ack`] will see.
    pub fn emit_with_ack(&mut self, event: &str, args: &str) -> u64 {
        let id = match self.slot_mut() {
            Some(slot) => {
                slot.next_ack += 1;
                slot.next_ack
            }
            None => 0,
        };
        self.emit_inner(event, args, Some(id), &[]);
        id
    }

    fn emit_inner(&mut self, event: &str, args: &str, id: Option<u64>, attachments: &[Bytes]) {
        let nsp = self.nsp();
        let frames = encode_event(nsp.as_str(), id, event, args, attachments);
        for frame in frames {
            self.worker.queue(self.key, frame);
        }
    }

    /// Acknowledges the client's event `id` with `args` (raw JSON, comma-separated).
    pub fn ack(&mut self, id: u64, args: &str) {
        self.ack_binary(id, args, &[]);
    }

    /// Acknowledges with binary attachments.
    pub fn ack_binary(&mut self, id: u64, args: &str, attachments: &[Bytes]) {
        let nsp = self.nsp();
        let mut buf = FrameBuf::with_capacity(args.len() + 16);
        sio::write_ack(&mut buf, nsp.as_str(), id, attachments.len(), args);
        self.worker.queue(self.key, buf.finish(OpCode::Text));
        for a in attachments {
            self.worker
                .queue(self.key, OutFrame::new(OpCode::Binary, a));
        }
    }

    /// Disconnects this socket (Socket.IO DISCONNECT to the client), keeping other namespaces.
    pub fn disconnect(&mut self) {
        let nsp = self.nsp();
        self.worker
            .send_frame(self.key, |out| sio::write_disconnect(out, nsp.as_str()));
        self.worker.remove_socket(
            self.key,
            self.slot,
            super::DisconnectReason::ServerNamespaceDisconnect,
        );
    }

    /// Asks for [`super::Handler::on_deadline`] after `after` (replacing any earlier request);
    /// `None` cancels it. One timer heap per core serves every socket's deadline.
    pub fn set_deadline(&mut self, after: Option<std::time::Duration>) {
        let now = self.worker.now();
        if let Some(slot) = self.slot_mut() {
            slot.deadline = after.map(|d| now.saturating_add(d.as_millis() as u64));
        }
        self.worker.rearm(self.key);
    }

    /// The server, for broadcasts.
    pub fn server(&mut self) -> Emitter<'_> {
        Emitter {
            worker: self.worker,
        }
    }
}

/// Broadcasting from inside a worker: `emitter.to(rooms).emit(event, args)`.
pub struct Emitter<'w> {
    pub(crate) worker: &'w mut Worker,
}

impl std::fmt::Debug for Emitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("shard", &self.worker.shard)
            .finish()
    }
}

impl<'w> Emitter<'w> {
    /// Broadcasts an already-built operation to every core. Returns the sockets reached on this
    /// core (others report through the reply path of `HttpReply::Broadcast`).
    pub fn broadcast(&mut self, op: BroadcastOp) -> usize {
        self.worker.broadcast(op, None).local
    }

    /// Every worker's counters (for metrics).
    pub fn stats(&self) -> &[super::stats::WorkerStats] {
        &self.worker.all_stats
    }

    /// The node's room directory (for metrics).
    pub fn directory(&self) -> &super::rooms::Directory {
        &self.worker.directory
    }

    /// Encodes `event` once and broadcasts it to `rooms` of namespace `/`.
    pub fn to<'e>(&'e mut self, rooms: Vec<Room>) -> Broadcast<'e, 'w> {
        Broadcast {
            emitter: self,
            rooms,
            except: Vec::new(),
            nsp: Room::from("/"),
        }
    }
}

/// A broadcast being built.
#[derive(Debug)]
pub struct Broadcast<'e, 'w> {
    emitter: &'e mut Emitter<'w>,
    rooms: Vec<Room>,
    except: Vec<Sid>,
    nsp: Room,
}

impl Broadcast<'_, '_> {
    /// Skip this socket.
    pub fn except(mut self, sid: Sid) -> Self {
        self.except.push(sid);
        self
    }

    /// Use namespace `nsp` instead of `/`.
    pub fn of(mut self, nsp: Room) -> Self {
        self.nsp = nsp;
        self
    }

    /// Encodes once and sends; returns the sockets reached on this core.
    pub fn emit(self, event: &str, args: &str) -> usize {
        let frames = encode_event(self.nsp.as_str(), None, event, args, &[]);
        self.emitter.broadcast(BroadcastOp {
            nsp: self.nsp,
            rooms: self.rooms,
            except: self.except,
            frames,
        })
    }
}
