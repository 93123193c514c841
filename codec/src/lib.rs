//! Sans-IO, zero-copy codecs for ringcast.
//!
//! Bytes in, values out. Nothing here performs IO, spawns threads or reads a clock:
//! time is always a parameter (milliseconds on a caller-chosen monotonic scale), and
//! "need more bytes" is the value [`Status::Partial`], never an error.
//!
//! Layers, outermost first:
//! - [`http`]: HTTP/1.1 request heads (`httparse`) and response heads, the RFC 6455 upgrade.
//! - [`ws`]: RFC 6455 frames, unmasking, the per-connection message assembler, close codes,
//!   and server frames encoded once into shareable [`bytes::Bytes`].
//! - [`eio`]: Engine.IO v4 packets, polling payloads, the handshake, and the sans-IO
//!   [`eio::Session`] state machine (ping schedule, upgrade, polling rules, outbound queue).
//! - [`sio`]: Socket.IO v5 packets, events, acks and binary attachments, and the sans-IO
//!   [`sio::Session`] state machine (namespaces, CONNECT hand-off, acks, connect timeout);
//!   [`sio::msgpack`], the `socket.io-msgpack-parser` wire form of the same packets.
//! - [`msgpack`]: MessagePack as notepack.io reads and writes it (a pull reader, a writer).
//! - [`date`]: dates as JavaScript's `toISOString` writes them.
//!
//! Each layer has one small `Copy` error enum whose variants map to that protocol's own
//! reaction (an HTTP status, a WebSocket close code, an Engine.IO close, a `CONNECT_ERROR`).

pub mod date;
pub mod eio;
pub mod http;
pub mod json;
pub mod msgpack;
pub mod sio;
pub mod ws;

#[cfg(test)]
mod testing;

/// The outcome of feeding bytes to an incremental decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// A whole value was decoded.
    Complete(T),
    /// The input ends before a whole value; call again with more bytes.
    Partial,
}

impl<T> Status<T> {
    /// `Some(value)` when complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(v) => Some(v),
            Status::Partial => None,
        }
    }
}

/// An append-only byte sink that encoders write into: a `Vec<u8>`, or a
/// [`ws::FrameBuf`] that leaves room for the WebSocket header in front.
pub trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
    /// Appends one byte.
    fn put_u8(&mut self, byte: u8) {
        self.put(&[byte]);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn put_u8(&mut self, byte: u8) {
        self.push(byte);
    }
}
