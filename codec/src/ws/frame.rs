//! Server frames: encoded once into a refcounted [`Bytes`] that every recipient shares.

use std::sync::{Arc, OnceLock};

use bytes::{Buf, Bytes};

use super::deflate::Deflater;
use super::header::{FrameHeader, MAX_CONTROL_PAYLOAD};
use super::{CloseCode, MAX_HEADER, MAX_SERVER_HEADER, OpCode};
use crate::Sink;

/// A close frame's reason gets what the 2-byte code leaves of 125 bytes.
const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD as usize - 2;

/// A server frame encoded once, shared by refcount between every recipient.
///
/// `bytes` is the whole frame (header + payload); `payload()` is the same allocation
/// without the header, which is what a long-polling transport sends.
///
/// A frame made shareable with [`OutFrame::share_deflated`] also carries its compressed variant
/// (permessage-deflate), made by the first recipient that needs it and reused by every other,
/// on any core.
#[derive(Debug, Clone)]
pub struct OutFrame {
    bytes: Bytes,
    header_len: u8,
    opcode: OpCode,
    /// The compressed whole frame (RSV1 set), or `None` inside when compressing did not make it
    /// smaller; made at most once for every clone of this frame.
    deflated: Option<Arc<OnceLock<Option<Bytes>>>>,
}

/// Two frames are equal when their bytes on an uncompressed connection are.
impl PartialEq for OutFrame {
    fn eq(&self, other: &OutFrame) -> bool {
        (&self.bytes, self.header_len, self.opcode)
            == (&other.bytes, other.header_len, other.opcode)
    }
}

impl Eq for OutFrame {}

/// How [`OutFrame::write_to`] wrote a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// As is.
    Plain,
    /// Compressed, `saved` bytes shorter than the plain frame; `compressed_now`: this call ran
    /// the compressor (else a shared variant was reused).
    Deflated { saved: usize, compressed_now: bool },
}

impl OutFrame {
    /// A final frame with `opcode` carrying `payload` (one allocation, one copy).
    ///
    /// Control frames must carry at most 125 bytes (§5.5); that is the caller's to keep
    /// (checked in debug builds). Use [`OutFrame::close`] for close frames.
    pub fn new(opcode: OpCode, payload: &[u8]) -> OutFrame {
        debug_assert!(
            !opcode.is_control() || payload.len() as u64 <= MAX_CONTROL_PAYLOAD,
            "control frame payload over 125 bytes"
        );
        let (head, header_len) = server_header(opcode, payload.len());
        let mut frame = Vec::with_capacity(header_len + payload.len());
        frame.extend_from_slice(&head[..header_len]);
        frame.extend_from_slice(payload);
        OutFrame {
            bytes: Bytes::from(frame),
            header_len: header_len as u8,
            opcode,
            deflated: None,
        }
    }
    /// A close frame with `code` and `reason` (truncated to fit 125 bytes on a char boundary).
    ///
    /// §5.5.1: the body is the 2-byte big-endian code then the UTF-8 reason, and "All control
    /// frames MUST have a payload length of 125 bytes or less", so at most 123 reason bytes.
    pub fn close(code: CloseCode, reason: &str) -> OutFrame {
        let reason = &reason[..reason.floor_char_boundary(MAX_CLOSE_REASON)];
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD as usize];
        payload[..2].copy_from_slice(&code.0.to_be_bytes());
        payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
        OutFrame::new(OpCode::Close, &payload[..2 + reason.len()])
    }
    /// The whole frame, header included.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
    /// The payload only (a refcounted slice of the same allocation).
    pub fn payload(&self) -> Bytes {
        self.bytes.slice(self.header_len as usize..)
    }
    pub fn opcode(&self) -> OpCode {
        self.opcode
    }
    /// Frame length in bytes (for queue accounting).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Gives this data frame a compressed variant shared by all its clones: the first
    /// [`OutFrame::write_to`] for a compressing connection makes it, every other reuses it (a
    /// broadcast is compressed once, not once per recipient). A control frame is returned as is
    /// (RFC 7692 §6.1: never compressed).
    pub fn share_deflated(mut self) -> OutFrame {
        if !self.opcode.is_control() && self.deflated.is_none() {
            self.deflated = Some(Arc::new(OnceLock::new()));
        }
        self
    }

    /// Appends this frame to `out` as a connection sends it. With `deflate` (the connection
    /// negotiated permessage-deflate: the core's compressor and the size threshold), a data
    /// frame whose payload is at least the threshold goes compressed when that makes it
    /// smaller: the shared variant if the frame has one ([`OutFrame::share_deflated`]), else
    /// compressed for this connection alone.
    ///
    /// Two cores asking for a shared variant at once: one compresses, the other waits for it
    /// (`OnceLock`), so it is still made once.
    pub fn write_to(&self, out: &mut Vec<u8>, deflate: Option<(&mut Deflater, usize)>) -> Sent {
        let Some((deflater, threshold)) = deflate else {
            out.extend_from_slice(&self.bytes);
            return Sent::Plain;
        };
        let payload = &self.bytes[self.header_len as usize..];
        if self.opcode.is_control() || payload.len() < threshold {
            out.extend_from_slice(&self.bytes);
            return Sent::Plain;
        }
        let mut compressed_now = false;
        let deflated = match &self.deflated {
            Some(shared) => shared
                .get_or_init(|| {
                    compressed_now = true;
                    deflated_frame(deflater, self.opcode, payload, self.bytes.len())
                })
                .clone(),
            None => {
                compressed_now = true;
                deflated_frame(deflater, self.opcode, payload, self.bytes.len())
            }
        };
        match deflated {
            Some(frame) => {
                out.extend_from_slice(&frame);
                Sent::Deflated {
                    saved: self.bytes.len() - frame.len(),
                    compressed_now,
                }
            }
            None => {
                out.extend_from_slice(&self.bytes);
                Sent::Plain
            }
        }
    }
}

/// The compressed frame of `payload` (RSV1 set, RFC 7692 §6), if shorter than `plain_len`.
fn deflated_frame(
    deflater: &mut Deflater,
    opcode: OpCode,
    payload: &[u8],
    plain_len: usize,
) -> Option<Bytes> {
    let mut body = Vec::with_capacity(payload.len() / 2 + 64);
    if !deflater.compress(payload, &mut body) {
        return None;
    }
    let header = FrameHeader {
        fin: true,
        rsv: 0b100,
        opcode,
        mask: None,
        payload_len: body.len() as u64,
    };
    let mut head = [0; MAX_HEADER];
    let n = header.encode(&mut head);
    if n + body.len() >= plain_len {
        return None;
    }
    let mut frame = Vec::with_capacity(n + body.len());
    frame.extend_from_slice(&head[..n]);
    frame.extend_from_slice(&body);
    Some(Bytes::from(frame))
}

/// Builds one server frame in place: the payload is written after [`MAX_SERVER_HEADER`]
/// reserved bytes, and [`FrameBuf::finish`] writes the header right in front of it, so the
/// payload is never copied again.
#[derive(Debug)]
pub struct FrameBuf {
    buf: Vec<u8>,
}

impl FrameBuf {
    pub fn new() -> Self {
        Self::with_capacity(64)
    }
    /// `capacity` is the expected payload size.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(MAX_SERVER_HEADER + capacity);
        buf.resize(MAX_SERVER_HEADER, 0);
        FrameBuf { buf }
    }
    /// The payload written so far.
    pub fn payload(&self) -> &[u8] {
        &self.buf[MAX_SERVER_HEADER..]
    }
    /// Writes the header for a final frame with `opcode` and returns the shareable frame.
    pub fn finish(self, opcode: OpCode) -> OutFrame {
        let mut buf = self.buf;
        let payload_len = buf.len() - MAX_SERVER_HEADER;
        debug_assert!(
            !opcode.is_control() || payload_len as u64 <= MAX_CONTROL_PAYLOAD,
            "control frame payload over 125 bytes"
        );
        let (head, header_len) = server_header(opcode, payload_len);
        let start = MAX_SERVER_HEADER - header_len;
        buf[start..MAX_SERVER_HEADER].copy_from_slice(&head[..header_len]);
        // `Bytes::from(Vec)` takes the allocation over without copying, and `advance` only moves
        // the start pointer past the unused part of the reserved room.
        let mut bytes = Bytes::from(buf);
        bytes.advance(start);
        OutFrame {
            bytes,
            header_len: header_len as u8,
            opcode,
            deflated: None,
        }
    }
}

impl Default for FrameBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for FrameBuf {
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    fn put_u8(&mut self, byte: u8) {
        self.buf.push(byte);
    }
}

impl std::io::Write for FrameBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The header of a final, unmasked server frame (§5.1: "A server MUST NOT mask any frames").
fn server_header(opcode: OpCode, payload_len: usize) -> ([u8; MAX_HEADER], usize) {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: None,
        payload_len: payload_len as u64,
    };
    let mut head = [0; MAX_HEADER];
    let len = header.encode(&mut head);
    (head, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    #[test]
    fn new_and_finish_write_the_same_frames() {
        let big = vec![0xAB; 70_000];
        let cases: &[(&str, OpCode, &[u8], &[u8])] = &[
            ("5.7 unmasked Hello", OpCode::Text,   b"Hello",       &[0x81, 0x05]),
            ("empty binary",       OpCode::Binary, b"",            &[0x82, 0x00]),
            ("ping",               OpCode::Ping,   b"Hello",       &[0x89, 0x05]),
            ("125 bytes",          OpCode::Binary, &big[..125],    &[0x82, 0x7D]),
            ("5.7 256 bytes",      OpCode::Binary, &big[..256],    &[0x82, 0x7E, 0x01, 0x00]),
            ("65535 bytes",        OpCode::Binary, &big[..65_535], &[0x82, 0x7E, 0xFF, 0xFF]),
            ("5.7 64 KiB",         OpCode::Binary, &big[..65_536], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
        ];
        for (name, opcode, payload, header) in cases {
            let expected: Vec<u8> = [*header, *payload].concat();
            let frame = OutFrame::new(*opcode, payload);
            let mut fb = FrameBuf::with_capacity(payload.len() / 2);
            fb.put(&payload[..payload.len() / 2]);
            fb.put(&payload[payload.len() / 2..]);
            assert_eq!(fb.payload(), *payload, "{name}");
            let built = fb.finish(*opcode);
            for f in [&frame, &built] {
                assert_eq!(f.bytes()[..], expected[..], "{name}");
                assert_eq!(f.payload()[..], payload[..], "{name}");
                assert_eq!((f.len(), f.is_empty(), f.opcode()), (expected.len(), false, *opcode), "{name}");
            }
            assert_eq!(frame, built, "{name}");
        }
    }

    #[test]
    fn finish_does_not_copy_the_payload() {
        let mut fb = FrameBuf::with_capacity(300);
        fb.put(&[1; 300]);
        let written = fb.payload().as_ptr();
        let frame = fb.finish(OpCode::Binary);
        assert_eq!(frame.payload().as_ptr(), written);
        // The 4-byte header sits right in front of it.
        assert_eq!(frame.bytes().as_ptr(), written.wrapping_sub(4));
    }

    #[test]
    fn payload_shares_the_frame_allocation() {
        let frame = OutFrame::new(OpCode::Text, b"shared");
        assert_eq!(frame.payload().as_ptr(), frame.bytes()[2..].as_ptr());
    }

    #[rustfmt::skip]
    #[test]
    fn close_frames() {
        let long = "é".repeat(100); // 200 bytes; 123 is inside the 62nd 'é'
        let cases: &[(&str, CloseCode, &str, &[u8])] = &[
            ("code only",      CloseCode::NORMAL,         "",    &[0x88, 0x02, 0x03, 0xe8]),
            ("code and reason", CloseCode::GOING_AWAY,    "bye", &[0x88, 0x05, 0x03, 0xe9, b'b', b'y', b'e']),
            ("1009",           CloseCode::MESSAGE_TOO_BIG, "",   &[0x88, 0x02, 0x03, 0xf1]),
        ];
        for (name, code, reason, expected) in cases {
            assert_eq!(OutFrame::close(*code, reason).bytes()[..], expected[..], "{name}");
        }
        let frame = OutFrame::close(CloseCode::POLICY_VIOLATION, &long);
        // 2 + 122 bytes: 61 whole 'é', cut on the char boundary below 123.
        assert_eq!(frame.bytes()[..2], [0x88, 124]);
        assert_eq!(frame.payload()[2..], long.as_bytes()[..122]);
        let exact = "a".repeat(123);
        assert_eq!(OutFrame::close(CloseCode::NORMAL, &exact).payload().len(), 125);
    }

    #[test]
    fn frame_buf_is_an_io_write_sink() {
        use std::io::Write;
        let mut fb = FrameBuf::default();
        write!(fb, "4{}", 2).expect("writing to memory cannot fail");
        fb.put_u8(b'!');
        fb.flush().expect("no-op");
        assert_eq!(
            fb.finish(OpCode::Text).bytes()[..],
            [0x81, 3, b'4', b'2', b'!']
        );
    }
}
