//! The handler's view of one socket ([`Socket`]) and of the server ([`Emitter`]).

use bytes::Bytes;
use ringcast_codec::sio::{self, AckId, Slot};
use ringcast_codec::ws::OutFrame;

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

    /// The Engine.IO session id carrying this socket (the `sid` of the transport's URLs): with
    /// [`Socket::id`], what lets a log reader follow one connection from handshake to close.
    pub fn session_id(&self) -> Option<Sid> {
        self.worker.conns.get(self.key).map(|c| c.sid)
    }

    /// The peer address of the connection that carried the handshake.
    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        self.worker.conns.get(self.key).map(|c| c.peer)
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
        self.worker.keep_current(self.key, self.slot);
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
        self.worker.keep_current(self.key, self.slot);
        true
    }

    /// Emits `event` with `args` (raw JSON of the arguments, comma-separated: `{"a":1}`).
    pub fn emit(&mut self, event: &str, args: &str) {
        self.emit_binary(event, args, &[]);
    }

    /// Emits with binary attachments (`args` holds their placeholders).
    pub fn emit_binary(&mut self, event: &str, args: &str, attachments: &[Bytes]) {
        let slot = Slot(self.slot);
        let frames = self
            .session()
            .map(|sio| sio.emit(slot, event, args, attachments));
        self.queue_all(frames);
    }

    /// Emits and asks the client for an acknowledgement; returns the ack id that
    /// [`super::Handler::on_ack`] will see (0 if the socket is gone: nothing is sent).
    pub fn emit_with_ack(&mut self, event: &str, args: &str) -> u64 {
        let slot = Slot(self.slot);
        let sent = self
            .session()
            .map(|sio| sio.emit_with_ack(slot, event, args, &[]));
        let id = match &sent {
            Some(Ok((id, _))) => id.0,
            _ => 0,
        };
        self.queue_all(sent.map(|sent| sent.map(|(_, frames)| frames)));
        id
    }

    /// Acknowledges the client's event `id` with `args` (raw JSON, comma-separated).
    pub fn ack(&mut self, id: u64, args: &str) {
        self.ack_binary(id, args, &[]);
    }

    /// Acknowledges with binary attachments. Each id the client asked for is answered once;
    /// another answer is dropped.
    pub fn ack_binary(&mut self, id: u64, args: &str, attachments: &[Bytes]) {
        let slot = Slot(self.slot);
        let frames = self
            .session()
            .map(|sio| sio.ack(slot, AckId(id), args, attachments));
        self.queue_all(frames);
    }

    /// Disconnects this socket (Socket.IO DISCONNECT to the client), keeping other namespaces.
    /// The handler's `on_disconnect` has run when this returns.
    pub fn disconnect(&mut self) {
        let slot = Slot(self.slot);
        let frame = self.session().map(|sio| sio.disconnect(slot));
        self.queue_all(frame.map(|f| f.map(|f| [f])));
        self.worker.drive_sio(self.key);
    }

    /// The Socket.IO session this socket belongs to.
    fn session(&mut self) -> Option<&mut sio::Session<Sid>> {
        self.worker.conns.get_mut(self.key)?.sio.as_mut()
    }

    /// Queues what a session command returned, in order; a refused command sends nothing.
    fn queue_all(
        &mut self,
        frames: Option<Result<impl IntoIterator<Item = OutFrame>, sio::CommandError>>,
    ) {
        match frames {
            Some(Ok(frames)) => {
                for frame in frames {
                    self.worker.queue(self.key, frame);
                }
            }
            Some(Err(error)) => {
                tracing::debug!(
                    ?error,
                    slot = self.slot,
                    "socket command refused by the session"
                )
            }
            None => {}
        }
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
        self.worker.broadcast(op, None, None).local
    }

    /// Every worker's counters (for metrics).
    pub fn stats(&self) -> &[super::stats::WorkerStats] {
        &self.worker.all_stats
    }

    /// What the recovery store holds, when recovery is on (for metrics).
    pub fn recovery_size(&self) -> Option<super::recovery::LogSize> {
        self.worker.recovery.as_ref().map(|r| r.size())
    }

    /// The node's room directory (for metrics).
    pub fn directory(&self) -> &super::rooms::Directory {
        &self.worker.directory
    }

    /// A handle on this node's cores that outlives the request (the server API's queries
    /// and commands, which run after a cluster round trip).
    pub fn cores(&self) -> Cores {
        Cores {
            mesh: self.worker.mesh.clone(),
        }
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
            except_rooms: Vec::new(),
            frames,
        })
    }
}

/// This node's cores, for work an HTTP reply does later ([`Emitter::cores`]).
#[derive(Clone)]
pub struct Cores {
    mesh: std::sync::Arc<super::mesh::Mesh<super::Msg>>,
}

impl std::fmt::Debug for Cores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cores")
            .field("workers", &self.mesh.workers())
            .finish()
    }
}

impl Cores {
    /// This node's sockets matching `selector`, from every core (each answers from its mesh
    /// loop, as it does a cluster FETCH_SOCKETS).
    pub fn fetch_sockets(
        &self,
        selector: super::adapter::Selector,
    ) -> impl Future<Output = Vec<super::adapter::SocketInfo>> + 'static {
        use std::sync::{Arc, Mutex};
        type Slot = (
            Option<Vec<super::adapter::SocketInfo>>,
            Option<std::task::Waker>,
        );
        let slot: Arc<Mutex<Slot>> = Arc::new(Mutex::new((None, None)));
        let filled = slot.clone();
        let workers = self.mesh.workers();
        let collector = Arc::new(super::adapter::Collector::new(
            workers,
            Box::new(move |found| {
                if let Ok(mut s) = filled.lock() {
                    s.0 = Some(found);
                    if let Some(waker) = s.1.take() {
                        waker.wake();
                    }
                }
            }),
        ));
        for i in 0..workers {
            self.mesh.inject(
                super::ShardId(i as u16),
                super::Msg::Fetch {
                    selector: selector.clone(),
                    collector: collector.clone(),
                },
            );
        }
        std::future::poll_fn(move |cx| {
            let Ok(mut s) = slot.lock() else {
                return std::task::Poll::Ready(Vec::new());
            };
            match s.0.take() {
                Some(found) => std::task::Poll::Ready(found),
                None => {
                    s.1 = Some(cx.waker().clone());
                    std::task::Poll::Pending
                }
            }
        })
    }

    /// Applies `command` to this node's matching sockets on every core.
    pub fn apply(&self, command: &super::adapter::RemoteCommand) {
        for i in 0..self.mesh.workers() {
            self.mesh.inject(
                super::ShardId(i as u16),
                super::Msg::Remote(command.clone()),
            );
        }
    }
}
