//! Engine.IO v3 sessions (socket.io-client 2.x, with `allow_eio3`): opened like any other,
//! then switched to the v3 Engine.IO session and Socket.IO protocol v4, whose default namespace
//! is connected at once with the handshake query as its auth (see `ringcast_codec::sio::v4`).

use std::any::Any;
use std::net::SocketAddr;

use ringcast_codec::eio::{Session, Transport};
use ringcast_codec::sio;

use super::recovery::Admitted;
use super::{ConnRef, Worker};
use crate::engine::PathKind;
use crate::engine::sid::Sid;

/// What a v3 handshake brings besides the transport.
pub(crate) struct V3Open {
    /// The client takes binary polling payloads (it did not ask for `b64=1`).
    pub binary: bool,
    /// The handshake query as the CONNECT auth of `/` (`{"token":…}`), if it has any.
    pub auth: Option<String>,
}

impl Worker {
    /// Creates a v3 session on this core and connects its default namespace (the handler
    /// decides now: the `40` or `44"…"` reply is queued behind the OPEN packet the caller
    /// writes).
    pub fn open_session_v3(
        &mut self,
        transport: Transport,
        peer: SocketAddr,
        kind: PathKind,
        v3: V3Open,
    ) -> std::io::Result<ConnRef> {
        let r = self.open_session(transport, peer, kind)?;
        let now = self.now();
        let session = self.eio_config.clone();
        let Some(conn) = self.conn(r) else {
            return Ok(r);
        };
        conn.eio = Session::new_v3(session, transport, now, v3.binary);
        if let Some(sio) = conn.sio.as_mut() {
            sio.open_v4(v3.auth.as_deref());
            self.drive_sio(r.key);
        }
        // The v3 heartbeat deadline replaces the v4 ping schedule armed at open.
        self.rearm(r.key);
        Ok(r)
    }

    /// The socket an accepted CONNECT of session `key` gets. A Socket.IO v4 session is never
    /// recovered (2.x clients send no pid) and, as socket.io does for `conn.protocol === 3`, its
    /// `/` socket's id is the Engine.IO session id (the client computes `socket.id` so); a v5
    /// session goes through [`Worker::admit`].
    pub(super) fn admit_any(
        &mut self,
        key: usize,
        nsp: &str,
        auth: Option<&str>,
        data: &dyn Any,
    ) -> std::io::Result<Admitted> {
        let v4_sid = self
            .conns
            .get(key)
            .filter(|c| c.sio.as_ref().is_some_and(sio::Session::is_v4))
            .map(|c| c.sid);
        let Some(engine_sid) = v4_sid else {
            return self.admit(auth, data);
        };
        Ok(Admitted {
            sid: if nsp == "/" {
                engine_sid
            } else {
                Sid::generate(self.shard)?
            },
            recovery: None,
            restored: None,
            missed: Vec::new(),
        })
    }
}
