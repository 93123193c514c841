//! Rooms and broadcasts on this core: the room index and the directory kept in step, the local
//! fan-out, broadcasts to other cores and nodes, and commands from other nodes.

use std::sync::Arc;

use super::{Sent, Worker};
use crate::engine::Room;
use crate::engine::adapter::{PublishAck, RemoteCommand, Selector, SocketInfo, SocketMeta};
use crate::engine::conn::write_policy::FlushPolicy;
use crate::engine::delivery::ReplyToken;
use crate::engine::rooms::{Join, Leave, Member};
use crate::engine::sid::{ShardId, Sid};
use crate::engine::{BroadcastOp, Msg, SharedBroadcast, Socket};

impl Worker {
    // ---- rooms ----

    pub fn index_join(&mut self, nsp: &Room, room: &Room, key: usize, slot: usize) {
        let joined = self.rooms.join(nsp, room, Member::new(key, slot));
        if joined == Join::FirstIn {
            self.directory.add(nsp, room, self.shard.index());
        }
        if joined != Join::AlreadyIn {
            self.all_stats[self.shard.index()].memberships.add(1);
        }
    }

    pub fn index_leave(&mut self, nsp: &Room, room: &Room, key: usize, slot: usize) {
        let left = self.rooms.leave(nsp, room, Member::new(key, slot));
        if left != Leave::NotIn {
            self.all_stats[self.shard.index()].memberships.sub(1);
        }
        if left == Leave::LastOut {
            self.directory.remove(nsp, room, self.shard.index());
        }
    }

    /// Fans a broadcast out to this core's members, skipping its `except_rooms`. Returns how
    /// many sockets it reached.
    pub fn fan_out(&mut self, op: &SharedBroadcast) -> usize {
        self.fan_out_except(op, &[])
    }

    /// [`Worker::fan_out`], also skipping every member of `except_rooms` (socket.io's
    /// `except(room)`, which arrives from other nodes).
    pub fn fan_out_except(&mut self, op: &SharedBroadcast, except_rooms: &[Room]) -> usize {
        let (now, epoch) = self.flush_for_broadcast();
        self.stamp += 1;
        let stamp = self.stamp;
        // (`targets` with no rooms means the whole namespace: only ask when there are some.)
        let mut excluded = if except_rooms.is_empty() {
            Vec::new()
        } else {
            self.targets(&op.nsp, except_rooms)
        };
        if !op.except_rooms.is_empty() {
            excluded.extend(self.targets(&op.nsp, &op.except_rooms));
        }
        for (key, slot) in excluded {
            if let Some(Some(s)) = self
                .conns
                .get_mut(key as usize)
                .and_then(|c| c.sockets.get_mut(slot as usize))
            {
                s.stamp = stamp;
            }
        }
        for sid in &op.except {
            if let Some(&(key, slot)) = self.sockets.get(sid)
                && let Some(Some(s)) = self
                    .conns
                    .get_mut(key)
                    .and_then(|c| c.sockets.get_mut(slot))
            {
                s.stamp = stamp;
            }
        }
        let targets = self.targets(&op.nsp, &op.rooms);
        // Read once per broadcast from its frame's tail; each recipient then stores a u64.
        let offset = self.recovery.as_ref().and_then(|r| {
            let offset = r.offset_of(op)?;
            Some((offset, r.source_of(offset)))
        });
        if let Some((offset, source)) = offset {
            self.seen.observe(source, offset);
        }
        let mut reached = 0;
        let mut msgpack_built = false;
        let mut full = Vec::new();
        for (key, slot) in targets {
            let (key, slot) = (key as usize, slot as usize);
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            let Some(Some(socket)) = conn.sockets.get_mut(slot) else {
                continue;
            };
            if socket.stamp == stamp {
                continue;
            }
            socket.stamp = stamp;
            if let (Some((offset, source)), Some(rec)) = (offset, socket.recovery.as_mut())
                && !rec.queues(offset, source)
            {
                continue;
            }
            reached += 1;
            let mut ok = true;
            if conn.msgpack.is_some() {
                // The msgpack parser's frame, encoded by the first core that needs it.
                let (frame, built) = op.msgpack_frame();
                msgpack_built |= built;
                ok = frame.is_none_or(|f| conn.eio.send(f.clone()).is_ok());
            } else {
                for frame in &op.frames {
                    if conn.eio.send(frame.clone()).is_err() {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                full.push(key);
                continue;
            }
            conn.streaming = FlushPolicy::streaming(conn.last_broadcast, now);
            conn.last_broadcast = Some(now);
            // During a flush epoch a streaming socket's asleep writer stays asleep: it is woken
            // with every other held writer when the epoch ends. Otherwise the writer is woken
            // and decides (see `conn::write_policy`).
            if epoch.is_some() && conn.streaming && conn.writer_asleep() {
                conn.waited = true;
                if !conn.held {
                    conn.held = true;
                    self.held.push(key);
                }
            } else {
                conn.wake_for_broadcast();
            }
        }
        for key in full {
            self.after(key);
        }
        let stats = self.stats();
        stats.broadcasts.add(1);
        stats
            .msgpack_broadcast_encodes
            .add(u64::from(msgpack_built));
        stats.broadcast_recipients.add(reached as u64);
        stats.frames_out.add((reached * op.frames.len()) as u64);
        reached
    }

    /// Session slots that a broadcast to `rooms` of `nsp` reaches on this core (possibly with
    /// repeats; `fan_out` stamps them). Empty `rooms`: the whole namespace. A room that is a
    /// local socket's id designates that socket, as in socket.io.
    fn targets(&self, nsp: &Room, rooms: &[Room]) -> Vec<(u32, u8)> {
        let mut targets: Vec<(u32, u8)> = Vec::new();
        if rooms.is_empty() {
            for (key, conn) in self.conns.iter() {
                for (slot, s) in conn.sockets.iter().enumerate() {
                    if matches!(s, Some(s) if s.nsp == *nsp) {
                        targets.push((key as u32, slot as u8));
                    }
                }
            }
            return targets;
        }
        for room in rooms {
            if let Some(members) = self.rooms.members(nsp.as_str(), room.as_str()) {
                targets.extend(members.iter().map(|m| (m.key, m.slot)));
            } else if let Some(&(key, slot)) =
                Sid::parse(room.as_str()).and_then(|sid| self.sockets.get(&sid))
            {
                targets.push((key as u32, slot as u8));
            }
        }
        targets
    }

    /// The cores (bitmask) that may have recipients of a broadcast to `rooms`.
    fn cores_for(&self, nsp: &Room, rooms: &[Room]) -> u64 {
        if rooms.is_empty() {
            return u64::MAX;
        }
        let mut mask = 0u64;
        for room in rooms {
            mask |= self.directory.workers_of(nsp.as_str(), room.as_str());
            if let Some(sid) = Sid::parse(room.as_str()) {
                mask |= 1 << sid.shard().index();
            }
        }
        mask
    }

    /// Local fan-out, a copy to every other core that has recipients, and a publish to the
    /// other nodes. `reply` asks cores to report counts; `ack` asks the cluster adapter to
    /// answer too (see [`crate::engine::adapter::Publisher::publish`]).
    pub fn broadcast(
        &mut self,
        op: BroadcastOp,
        reply: Option<ReplyToken>,
        ack: Option<PublishAck>,
    ) -> Sent {
        // A refusal is counted by the adapter; with an `ack` it also answers the request.
        if let Some(p) = &self.publisher {
            let counted = ack.as_ref().is_some_and(PublishAck::counts);
            let _ = p.publish(&op, ack);
            if p.delivers_locally() {
                // Redis Streams: the bridge delivers it here too, once XADD gave its offset;
                // a counted ack brings this node's count back (one more answer to wait for).
                return Sent {
                    local: 0,
                    cores_asked: usize::from(counted),
                };
            }
        }
        // Before recording: the store notes which cores the event is sent to.
        let mask = self.cores_for(&op.nsp, &op.rooms);
        // After the publish: other nodes give the event offsets of their own.
        let op = match &self.recovery {
            Some(store) => store.record(self.shard.index(), op, mask),
            None => op,
        };
        // After recording: the recovery store may re-frame the event with its offset.
        let op = Arc::new(SharedBroadcast::new(
            op.share_deflated(self.config.compression),
        ));
        let mut asked = 0;
        for to in 0..self.mesh.workers() {
            let to = ShardId(to as u16);
            if to == self.shard || mask & (1 << to.index()) == 0 {
                continue;
            }
            asked += 1;
            let msg = Msg::Broadcast {
                op: op.clone(),
                reply: reply.map(|t| (self.shard, t)),
            };
            self.send(to, msg);
        }
        Sent {
            local: self.fan_out(&op),
            cores_asked: asked,
        }
    }

    /// The local sockets a selector designates: (session key, slot).
    pub fn select(&self, sel: &Selector) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (key, slot) in self.targets(&sel.nsp, &sel.rooms) {
            let (key, slot) = (key as usize, slot as usize);
            if !out.contains(&(key, slot)) && !self.excluded(sel, key, slot) {
                out.push((key, slot));
            }
        }
        out
    }

    fn excluded(&self, sel: &Selector, key: usize, slot: usize) -> bool {
        let Some(Some(socket)) = self.conns.get(key).and_then(|c| c.sockets.get(slot)) else {
            return true;
        };
        sel.except
            .iter()
            .any(|r| r.as_str() == socket.sid.as_str() || socket.rooms.contains(r))
    }

    /// Applies a remote command to the matching local sockets.
    pub fn apply_remote(&mut self, command: RemoteCommand) {
        match command {
            RemoteCommand::Join { selector, rooms } => {
                let handler = self.handler.clone();
                for (key, slot) in self.select(&selector) {
                    let mut s = Socket::new(self, key, slot);
                    for room in &rooms {
                        s.join(room.clone());
                        handler.on_server_join(&mut s, room.as_str());
                    }
                    self.after(key);
                }
            }
            RemoteCommand::Leave { selector, rooms } => {
                let handler = self.handler.clone();
                for (key, slot) in self.select(&selector) {
                    let mut s = Socket::new(self, key, slot);
                    for room in &rooms {
                        s.leave(room.as_str());
                        handler.on_server_leave(&mut s, room.as_str());
                    }
                    self.after(key);
                }
            }
            RemoteCommand::Disconnect { selector, close } => {
                for (key, slot) in self.select(&selector) {
                    if close {
                        self.close_session(key);
                    } else {
                        let mut s = Socket::new(self, key, slot);
                        s.disconnect();
                        self.after(key);
                    }
                }
            }
        }
    }

    /// The local sockets matching `sel`, for `fetchSockets`.
    pub fn fetch(&self, sel: &Selector) -> Vec<SocketInfo> {
        self.select(sel)
            .into_iter()
            .filter_map(|(key, slot)| {
                let conn = self.conns.get(key)?;
                let s = conn.sockets.get(slot)?.as_ref()?;
                let mut rooms = vec![s.sid.as_str().to_owned()];
                rooms.extend(s.rooms.iter().map(|r| r.as_str().to_owned()));
                let transport = match conn.eio.transport() {
                    ringcast_codec::eio::Transport::WebSocket => "websocket",
                    ringcast_codec::eio::Transport::Polling => "polling",
                };
                Some(SocketInfo {
                    id: s.sid.as_str().to_owned(),
                    rooms,
                    meta: Some(SocketMeta {
                        sub: self.handler.owner(&*s.data),
                        transport: transport.to_owned(),
                        connected_at_ms: s.connected_at_ms,
                        node: None,
                        jti: self.handler.token_id(&*s.data),
                    }),
                })
            })
            .collect()
    }

    /// Sends to another core; a full queue keeps the message in the backlog for the mesh task.
    pub fn send(&mut self, to: ShardId, msg: Msg) {
        if !self.backlog[to.index()].is_empty() {
            self.backlog[to.index()].push_back(msg);
            return;
        }
        if let Err(msg) = self.mesh.send(self.shard, to, msg) {
            self.backlog[to.index()].push_back(msg);
            // The queue handed the message back: make sure this core's mesh loop is awake to
            // retry it (it may be parked on its doorbell with nothing inbound).
            self.mesh.nudge(self.shard);
        }
    }

    /// Retries backlogged messages; returns how many are still waiting.
    pub fn flush_backlog(&mut self) -> usize {
        let mut waiting = 0;
        for to in 0..self.backlog.len() {
            while let Some(msg) = self.backlog[to].pop_front() {
                if let Err(msg) = self.mesh.send(self.shard, ShardId(to as u16), msg) {
                    self.backlog[to].push_front(msg);
                    break;
                }
            }
            waiting += self.backlog[to].len();
        }
        waiting
    }
}
