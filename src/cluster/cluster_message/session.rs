//! The connection-state-recovery pieces of the streams adapter: the session record a node
//! stores when a socket drops (`persistSession`), and the room filter of the replay
//! (`restoreSession`'s `shouldIncludePacket`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{MessageError, Opts, msgpack_to_json, take, take_str, take_strs};
use crate::cluster::json::Json;
use crate::cluster::msgpack::Writer;

/// What socket.io persists for a recoverable disconnection (`SessionToPersist`), stored by the
/// streams adapter under `<sessionKeyPrefix><pid>` (default `sio:session:<pid>`) as the base64
/// of `@msgpack/msgpack.encode({sid, pid, rooms, data})`, with the server's
/// `maxDisconnectionDuration` as its expiry; GETDEL'd by the node the client reconnects to.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// The socket id the client gets back.
    pub sid: String,
    /// The private session id the client presents (`auth.pid`).
    pub pid: String,
    /// The socket's rooms (its own id included, as `socket.rooms` holds it).
    pub rooms: Vec<String>,
    /// `socket.data`, opaque (socket.io's default is `{}`). Binary values are refused: the
    /// record would need attachments ringcast's socket data does not have.
    pub data: Json,
}

impl SessionRecord {
    /// The stored text: base64 of the MessagePack map `{sid, pid, rooms, data}`.
    pub fn encode(&self) -> Result<String, MessageError> {
        let mut w = Writer::new();
        w.map(4);
        w.str("sid");
        w.str(&self.sid);
        w.str("pid");
        w.str(&self.pid);
        w.str("rooms");
        w.array(self.rooms.len());
        for room in &self.rooms {
            w.str(room);
        }
        w.str("data");
        self.data.write_msgpack(&mut w, &[])?;
        Ok(BASE64.encode(&w.buf))
    }

    /// Reads a stored record. A missing `data` (`socket.data = undefined`, which msgpack
    /// writes as nil) is `null`; dates in it become their ISO text, as JSON would carry them.
    pub fn decode(text: &[u8]) -> Result<SessionRecord, MessageError> {
        let bytes = BASE64.decode(text).map_err(|_| MessageError::BadBase64)?;
        let (json, attachments) = msgpack_to_json(&bytes)?;
        if !attachments.is_empty() {
            return Err(MessageError::BadField("data"));
        }
        let Json::Object(mut fields) = json else {
            return Err(MessageError::BadField("session"));
        };
        let f = &mut fields;
        Ok(SessionRecord {
            sid: take_str(f, "sid")?,
            pid: take_str(f, "pid")?,
            rooms: take_strs(f, "rooms")?,
            data: take(f, "data").unwrap_or(Json::Null),
        })
    }
}

/// The Redis key of a session record: `<prefix><pid>` (the adapter's `sessionKeyPrefix`,
/// default `sio:session:`).
pub fn session_key(prefix: &str, pid: &str) -> String {
    format!("{prefix}{pid}")
}

/// Whether a stored broadcast reaches a socket that was in `session_rooms`
/// (`shouldIncludePacket`): the broadcast targets everyone or one of the socket's rooms, and
/// none of the socket's rooms is excepted. Socket ids are rooms too (a socket is in the room
/// of its own id), so `except: [sid]` and `rooms: [sid]` work through the same test.
pub fn should_include_packet<S: AsRef<str>>(session_rooms: &[S], opts: &Opts) -> bool {
    let has = |list: &[String], room: &str| list.iter().any(|r| r == room);
    let included =
        opts.rooms.is_empty() || session_rooms.iter().any(|r| has(&opts.rooms, r.as_ref()));
    let not_excluded = session_rooms.iter().all(|r| !has(&opts.except, r.as_ref()));
    included && not_excluded
}
