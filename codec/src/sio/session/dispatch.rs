//! The session's input side: CONNECT handling, packet dispatch and teardown, kept apart from
//! the public `handle_*`/`poll_*` surface in `session.rs`.

use super::*;

impl<S: AsRef<str> + Clone> Session<S> {
    pub(super) fn socket(&self, slot: Slot) -> Option<&Socket<S>> {
        self.sockets.get(slot.0)?.as_ref()
    }

    pub(super) fn live_socket(&mut self, slot: Slot) -> Result<&mut Socket<S>, CommandError> {
        if self.closed {
            return Err(CommandError::Closed);
        }
        self.sockets
            .get_mut(slot.0)
            .and_then(Option::as_mut)
            .ok_or(CommandError::NoSuchSocket)
    }

    pub(super) fn take_request(&mut self, id: ConnectId) -> Result<PendingConnect, CommandError> {
        if self.closed {
            return Err(CommandError::Closed);
        }
        let pos = self
            .connecting
            .iter()
            .position(|c| c.id == id.0)
            .ok_or(CommandError::UnknownRequest)?;
        Ok(self.connecting.swap_remove(pos))
    }

    pub(super) fn on_connect(&mut self, nsp: &str, auth: Option<&str>) {
        let query_auth;
        let (nsp, auth) = match nsp.split_once('?') {
            // v4: `0/admin?token=x,`: the query is the auth.
            Some((path, query)) if self.v4 => {
                query_auth = crate::sio::v4::query_auth(query);
                (path, query_auth.as_deref())
            }
            _ => (nsp, auth),
        };
        if self.slot_of(nsp).is_some() || self.connecting.iter().any(|c| c.nsp == nsp) {
            // Already connected (or connecting) to this namespace: socket.io ignores a
            // duplicate CONNECT.
            return;
        }
        let id = self.next_connect;
        self.next_connect += 1;
        self.connecting.push(PendingConnect {
            id,
            nsp: nsp.to_owned(),
            auth: auth.map(str::to_owned),
        });
        self.outputs.push_back(Output::Authorize(ConnectRequest {
            id: ConnectId(id),
            nsp: nsp.to_owned(),
            auth: auth.map(str::to_owned),
        }));
    }

    /// An EVENT/ACK (binary or not) whose attachments, if any, have all arrived.
    pub(super) fn dispatch(
        &mut self,
        kind: PacketType,
        nsp: &str,
        id: Option<u64>,
        data: &str,
        attachments: Vec<Bytes>,
    ) {
        let Some(slot) = self.slot_of(nsp) else {
            self.stats.unconnected += 1;
            return;
        };
        let max = self.config.max_pending_acks;
        match kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let packet = Packet {
                    kind,
                    nsp,
                    id,
                    attachments: attachments.len(),
                    data: Some(data),
                };
                let event = match packet.event() {
                    Ok(event) => event,
                    Err(e) => return self.fail(ParseError::Event(e)),
                };
                let inner = event.args.trim();
                let mut args = String::with_capacity(inner.len() + 2);
                args.push('[');
                args.push_str(inner);
                args.push(']');
                if let (Some(id), Some(Some(socket))) = (id, self.sockets.get_mut(slot.0)) {
                    self.stats.forgotten_acks += remember(&mut socket.acks_mut().client, id, max);
                }
                self.outputs.push_back(Output::Event {
                    slot,
                    name: event.name.into_owned(),
                    args,
                    ack: id.map(AckId),
                    attachments,
                });
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = id else {
                    return;
                };
                let waiting = self
                    .sockets
                    .get_mut(slot.0)
                    .and_then(Option::as_mut)
                    .is_some_and(|s| s.take_server_ack(id));
                if !waiting {
                    // socket.io's `onack`: "bad ack" — nobody waits for it.
                    self.stats.unknown_acks += 1;
                    return;
                }
                self.outputs.push_back(Output::Ack {
                    slot,
                    id: AckId(id),
                    args: data.to_owned(),
                    attachments,
                });
            }
            PacketType::Connect | PacketType::Disconnect | PacketType::ConnectError => {}
        }
    }

    /// Frees `slot` and reports it.
    pub(super) fn remove(&mut self, slot: Slot, reason: DisconnectReason) {
        let Some(socket) = self.sockets.get_mut(slot.0).and_then(Option::take) else {
            return;
        };
        self.outputs.push_back(Output::Disconnected {
            slot,
            nsp: socket.nsp,
            sid: socket.sid,
            reason,
        });
    }

    pub(super) fn disconnect_all(&mut self, reason: DisconnectReason) {
        for slot in 0..self.sockets.len() {
            self.remove(Slot(slot), reason);
        }
        self.sockets.clear();
        self.connecting.clear();
        self.pending_binary = None;
        self.connect_deadline = None;
    }

    /// A protocol violation: every socket goes with [`DisconnectReason::ParseError`], then the
    /// Engine.IO session is to close.
    pub(super) fn fail(&mut self, error: ParseError) {
        self.close(CloseReason::ParseError(error));
    }

    pub(super) fn close(&mut self, reason: CloseReason) {
        let disconnect = match reason {
            CloseReason::ParseError(_) => DisconnectReason::ParseError,
            CloseReason::ConnectTimeout => DisconnectReason::ServerNamespaceDisconnect,
        };
        self.disconnect_all(disconnect);
        self.outputs.push_back(Output::Close(reason));
        self.closed = true;
    }
}

/// Appends `id` to a bounded wait list; returns how many ids were forgotten to make room.
pub(super) fn remember(list: &mut VecDeque<u64>, id: u64, max: usize) -> u64 {
    let mut forgotten = 0;
    while list.len() >= max {
        list.pop_front();
        forgotten += 1;
    }
    list.push_back(id);
    forgotten
}
