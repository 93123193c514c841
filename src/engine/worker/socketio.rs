//! Driving each session's Socket.IO state machine (`sio::Session`): its outputs become handler
//! calls, room bookkeeping and queued frames.

use std::any::Any;
use std::borrow::Cow;

use bytes::Bytes;
use ringcast_codec::Sink;
use ringcast_codec::eio::{self, Transport};
use ringcast_codec::sio::{self, Slot};
use ringcast_codec::ws::{CloseCode, FrameBuf, OpCode, OutFrame};
use smallvec::SmallVec;

use super::recovery::Admitted;
use super::{Authorized, SocketSlot, Worker};
use crate::engine::Room;
use crate::engine::sid::Sid;
use crate::engine::{ConnectInfo, Socket};

impl Worker {
    // ---- Socket.IO ----

    /// Acts on every output of session `key`'s Socket.IO session, in order: CONNECTs are
    /// decided with the handler, sockets appear and go, events and acks reach the handler, and
    /// a close the session asks for is applied to the Engine.IO session (then [`Worker::after`]
    /// runs, so it is reported like any other close).
    ///
    /// One output at a time, with no borrow of the session across a handler call: a handler
    /// may command the session (emit, ack, disconnect), and `Socket::disconnect` drives it
    /// re-entrantly.
    pub fn drive_sio(&mut self, key: usize) {
        let mut closed = false;
        loop {
            let Some(output) = self
                .conns
                .get_mut(key)
                .and_then(|c| c.sio.as_mut())
                .and_then(sio::Session::poll_output)
            else {
                break;
            };
            match output {
                sio::Output::Authorize(request) => self.on_authorize(key, request),
                sio::Output::Connected {
                    slot,
                    nsp,
                    sid,
                    auth,
                } => self.on_connected(key, slot, &nsp, sid, auth.as_deref()),
                sio::Output::Event {
                    slot,
                    name,
                    args,
                    ack,
                    attachments,
                } => {
                    self.stats().events_in.add(1);
                    let handler = self.handler.clone();
                    let mut s = Socket::new(self, key, slot.index());
                    handler.on_event(&mut s, &name, &args, ack.map(|a| a.0), &attachments);
                }
                sio::Output::Ack {
                    slot,
                    id,
                    args,
                    attachments,
                } => {
                    self.stats().events_in.add(1);
                    let handler = self.handler.clone();
                    let mut s = Socket::new(self, key, slot.index());
                    handler.on_ack(&mut s, id.0, &args, &attachments);
                }
                sio::Output::Disconnected { slot, reason, .. } => {
                    self.release_socket(key, slot.index(), reason)
                }
                sio::Output::Close(reason) => {
                    let now = self.now();
                    let Some(conn) = self.conns.get_mut(key) else {
                        return;
                    };
                    match reason {
                        sio::CloseReason::ParseError(error) => {
                            tracing::debug!(
                                ?error,
                                "Socket.IO protocol violation: closing the session"
                            );
                            conn.close_code = Some(error.close_code());
                            let from = conn.eio.transport();
                            conn.eio.handle_invalid_packet(from, now);
                        }
                        sio::CloseReason::ConnectTimeout => {
                            tracing::debug!(session_id = %conn.sid, peer = %conn.peer, "no Socket.IO CONNECT within the connect timeout");
                            conn.eio.close(now);
                        }
                    }
                    closed = true;
                }
            }
        }
        if closed {
            self.after(key);
        }
    }

    /// A CONNECT the session asks about: the handler decides, the session answers with the
    /// frame to queue (`40…` or `44…`).
    fn on_authorize(&mut self, key: usize, request: sio::ConnectRequest) {
        let Some((peer, session_id)) = self.conns.get(key).map(|c| (c.peer, c.sid)) else {
            return;
        };
        let handler = self.handler.clone();
        let nsp = request.nsp.as_str();
        let decision: Result<(Admitted, Box<dyn Any>), Cow<'static, str>> =
            if !handler.namespace_allowed(nsp) {
                Err(Cow::Borrowed(sio::INVALID_NAMESPACE))
            } else {
                let info = ConnectInfo {
                    nsp,
                    auth: request.auth.as_deref(),
                    peer,
                    recovered: false,
                };
                match handler.authorize(&info) {
                    Err(message) => {
                        self.stats().connects_refused.add(1);
                        tracing::debug!(%session_id, peer = %peer, message, "CONNECT refused");
                        self.refused(request.auth.as_deref());
                        Err(Cow::Owned(message))
                    }
                    Ok(data) => {
                        match self.admit_any(key, nsp, request.auth.as_deref(), data.as_ref()) {
                            Ok(admitted) => Ok((admitted, data)),
                            Err(e) => {
                                tracing::warn!(error = %e, "CSPRNG failed: refusing CONNECT");
                                Err(Cow::Borrowed("internal error"))
                            }
                        }
                    }
                }
            };
        let decision = decision.map(|(mut admitted, data)| {
            // A restored socket's missed events go before the CONNECT reply (the client
            // buffers them until it is connected, as socket.io's recovery does).
            for frame in std::mem::take(&mut admitted.missed).into_iter().flatten() {
                self.queue(key, frame);
            }
            (admitted, data)
        });
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let Some(session) = conn.sio.as_mut() else {
            return;
        };
        let reply = match decision {
            Ok((admitted, data)) => {
                let pid = admitted.recovery.as_deref().map(|r| r.pid);
                let sid = admitted.sid;
                let reply = session.handle_authorized_recoverable(
                    request.id,
                    sid,
                    pid.as_ref().map(|p| p.as_str()),
                );
                if reply.is_ok() {
                    // `Connected` for it is the session's next output.
                    conn.authorized.push(Authorized {
                        sid,
                        data,
                        recovery: admitted.recovery,
                        restored: admitted.restored,
                    });
                }
                reply
            }
            Err(message) => session.handle_refused(request.id, &message),
        };
        match reply {
            Ok(frame) => self.queue(key, frame),
            Err(e) => tracing::debug!(error = ?e, "CONNECT answer refused by the session"),
        }
    }

    /// A socket the session accepted: its application state, then the handler's `on_connect`.
    fn on_connected(&mut self, key: usize, slot: Slot, nsp: &str, sid: Sid, auth: Option<&str>) {
        let slot = slot.index();
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let (data, recovery, restored) = match conn.authorized.iter().position(|a| a.sid == sid) {
            Some(pos) => {
                let a = conn.authorized.swap_remove(pos);
                (a.data, a.recovery, a.restored)
            }
            None => (Box::new(()) as Box<dyn Any>, None, None),
        };
        let peer = conn.peer;
        let nsp_room = Room::from(nsp);
        if conn.sockets.len() <= slot {
            conn.sockets.resize_with(slot + 1, || None);
        }
        conn.sockets[slot] = Some(SocketSlot {
            nsp: nsp_room.clone(),
            sid,
            rooms: SmallVec::new(),
            stamp: 0,
            data,
            deadline: None,
            recovery,
            connected_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        });
        self.sockets.insert(sid, (key, slot));
        self.stats().sockets.add(1);
        self.stats().connects.add(1);
        // Register the namespace so whole-namespace broadcasts find it even without rooms.
        self.rooms.add_namespace(nsp_room.clone());
        if sid.shard() != self.shard {
            // A restored socket whose id names another core: other cores route a broadcast to
            // a socket id by the core it names, so the id is also indexed here as a room, which
            // puts this core in the directory for it.
            self.index_join(&nsp_room, &Room::from(sid.as_str()), key, slot);
        }
        let recovered = restored.is_some();
        let handler = self.handler.clone();
        let mut s = Socket::new(self, key, slot);
        for room in restored.unwrap_or_default() {
            if handler.may_rejoin(&s, room.as_str()) {
                s.join(room);
            }
        }
        let info = ConnectInfo {
            nsp,
            auth,
            peer,
            recovered,
        };
        handler.on_connect(&mut s, &info);
        if recovered {
            self.catch_up(key, slot);
        }
        // A socket that joined no room has not been saved yet.
        self.keep_current(key, slot);
    }

    /// Encodes one text frame with `write` and queues it for session `key`.
    pub fn send_frame(&mut self, key: usize, write: impl FnOnce(&mut FrameBuf)) {
        let mut buf = FrameBuf::new();
        write(&mut buf);
        let frame = buf.finish(OpCode::Text);
        self.queue(key, frame);
    }

    /// Queues an encoded frame for session `key` and wakes its transport. On a msgpack-parser
    /// session the frames of each packet become its one binary message first.
    pub fn queue(&mut self, key: usize, frame: OutFrame) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let frame = match conn.msgpack.as_mut() {
            None => Ok(Some(frame)),
            Some(out) => out.push(frame),
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(
                    ?error,
                    "frame not encodable for the msgpack parser: dropped"
                );
                return;
            }
        };
        if conn.eio.send(frame).is_err() {
            self.after(key);
            return;
        }
        self.all_stats[self.shard.index()].frames_out.add(1);
        conn.wake_transports();
    }

    /// An Engine.IO protocol violation: close the session.
    pub fn parse_error(&mut self, key: usize) {
        let now = self.now();
        if let Some(conn) = self.conns.get_mut(key) {
            let from = conn.eio.transport();
            conn.eio.handle_invalid_packet(from, now);
        }
        self.after(key);
    }

    /// Feeds one decoded Engine.IO packet from `from` into session `key`.
    pub fn on_eio_packet(&mut self, key: usize, packet: eio::Packet<'_>, from: Transport) {
        let now = self.now();
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let echo = conn.echo;
        let msgpack = conn.msgpack.is_some();
        match conn.eio.handle_packet(packet, from, now) {
            Ok(eio::session::Input::None) => {}
            Ok(eio::session::Input::Message(text)) if echo => {
                self.send_frame(key, |out| {
                    out.put_u8(b'4');
                    out.put(text.as_bytes());
                });
            }
            Ok(eio::session::Input::Binary(data)) if echo => {
                self.queue(key, OutFrame::new(OpCode::Binary, &data))
            }
            Ok(eio::session::Input::Message(_)) if msgpack => {
                // socket.io-msgpack-parser reads binary messages only (notepack cannot decode
                // a string): the session closes as for any undecodable packet.
                tracing::debug!("text message on a msgpack-parser session: closing it");
                conn.close_code = Some(CloseCode::PROTOCOL_ERROR);
                conn.eio.handle_invalid_packet(from, now);
            }
            Ok(eio::session::Input::Binary(data)) if msgpack => {
                let limits = conn.sio.as_ref().map(|s| s.config().limits);
                match sio::msgpack::decode(&data, &limits.unwrap_or_default()) {
                    Ok(packet) => {
                        if let Some(sio) = conn.sio.as_mut() {
                            sio.handle_text(&packet.text);
                            for attachment in packet.attachments {
                                sio.handle_binary(Bytes::copy_from_slice(attachment));
                            }
                        }
                        self.drive_sio(key);
                    }
                    Err(error) => {
                        tracing::debug!(?error, "malformed msgpack packet: closing the session");
                        conn.close_code = Some(error.close_code());
                        conn.eio.handle_invalid_packet(from, now);
                    }
                }
            }
            Ok(eio::session::Input::Message(text)) => {
                if let Some(sio) = conn.sio.as_mut() {
                    sio.handle_text(text);
                }
                self.drive_sio(key);
            }
            Ok(eio::session::Input::Binary(data)) => {
                if let Some(sio) = conn.sio.as_mut() {
                    sio.handle_binary(Bytes::copy_from_slice(&data));
                }
                self.drive_sio(key);
            }
            Err(e) => tracing::debug!(error = ?e, "Engine.IO packet rejected"),
        }
        self.after(key);
    }
}
