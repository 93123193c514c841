//! RFC 6455 WebSocket framing: headers, masking, message assembly, close frames, server frames.
//!
//! CONTRACT (the server codes against these signatures; keep them).

use bytes::Bytes;

use crate::{Sink, Status};

pub mod mask;

/// Largest header a server frame needs: 2 + 8 (servers never mask).
pub const MAX_SERVER_HEADER: usize = 10;
/// Largest header any frame can have: 2 + 8 + 4.
pub const MAX_HEADER: usize = 14;

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OpCode {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

impl OpCode {
    /// Close, Ping or Pong.
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A WebSocket close status code (RFC 6455 §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    pub const NORMAL: CloseCode = CloseCode(1000);
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// Whether a peer may send this code in a close frame (§7.4.1, §7.4.2: 1000–1003,
    /// 1007–1011, 3000–4999; never 1004–1006, 1015, or anything below 1000).
    pub fn is_allowed_on_wire(self) -> bool {
        unimplemented!()
    }
}

/// Why a frame or message was rejected. Each maps to the close code the server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsError {
    /// RSV1–3 set without a negotiated extension → 1002.
    ReservedBits,
    /// Opcode 0x3–0x7 or 0xB–0xF → 1002.
    ReservedOpcode,
    /// A client frame without the mask bit (§5.1) → 1002.
    Unmasked,
    /// A control frame with FIN clear → 1002.
    FragmentedControl,
    /// A control frame with more than 125 payload bytes → 1002.
    ControlTooLong,
    /// Continuation without a message in progress → 1002.
    UnexpectedContinuation,
    /// Text/Binary while a fragmented message is in progress → 1002.
    ExpectedContinuation,
    /// A 64-bit length with the most significant bit set (§5.2) → 1002.
    BadLength,
    /// Close payload of 1 byte, or a code not allowed on the wire → 1002.
    BadClosePayload,
    /// Text message or close reason that is not UTF-8 → 1007.
    InvalidUtf8,
    /// Message (or a frame claiming a length) larger than the configured maximum → 1009.
    MessageTooBig,
}

impl WsError {
    /// The close code the server sends before closing.
    pub fn close_code(self) -> CloseCode {
        unimplemented!()
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits.
    pub rsv: u8,
    pub opcode: OpCode,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
}

impl FrameHeader {
    /// Decodes a header from the start of `buf`; `Complete((header, header_len))`.
    /// Rejects reserved opcodes, MSB-set 64-bit lengths and control-frame rules; does not
    /// check masking or RSV (the assembler does, as it knows the negotiated state).
    pub fn decode(buf: &[u8]) -> Result<Status<(FrameHeader, usize)>, WsError> {
        let _ = buf;
        unimplemented!()
    }

    /// Encodes into `out` with the shortest length form; returns the number of bytes written.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER]) -> usize {
        let _ = out;
        unimplemented!()
    }
}

/// Settings for an [`Assembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblerConfig {
    /// Largest message (sum of fragments) accepted, default 1 000 000.
    pub max_message: usize,
    /// Require the mask bit (true for a server reading client frames).
    pub require_mask: bool,
}

impl Default for AssemblerConfig {
    fn default() -> Self {
        AssemblerConfig { max_message: 1_000_000, require_mask: true }
    }
}

/// One whole message (or control frame) out of the [`Assembler`].
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    /// `None` for an empty close payload.
    Close(Option<(CloseCode, &'a str)>),
}

/// Per-connection message assembler: frames in, messages out.
///
/// Call [`Assembler::decode`] with the unconsumed bytes of the connection's read buffer, then
/// drop the returned message and remove `consumed` bytes from the front. Repeat until it
/// returns `(0, None)`, which means "need more bytes". Only whole frames are consumed, so
/// feeding the same bytes whole or split at any point yields the same messages. Payloads are
/// unmasked in place; a single-frame message borrows straight from the input; fragments are
/// copied into an internal buffer (freed when the message completes). UTF-8 is validated
/// incrementally across fragments and fails as soon as a sequence is invalid.
#[derive(Debug)]
pub struct Assembler {
    _priv: (),
}

impl Assembler {
    pub fn new(config: AssemblerConfig) -> Self {
        let _ = config;
        unimplemented!()
    }

    /// Decodes at most one message from the front of `buf`: `Ok((consumed, message))`.
    /// `(n > 0, None)` means a fragment or partial progress was consumed; call again.
    /// `(0, None)` means more bytes are needed.
    pub fn decode<'a>(&'a mut self, buf: &'a mut [u8]) -> Result<(usize, Option<Message<'a>>), WsError> {
        let _ = buf;
        unimplemented!()
    }

    /// Bytes held for a fragmented message in progress (for memory accounting).
    pub fn buffered(&self) -> usize {
        unimplemented!()
    }
}

/// A server frame encoded once, shared by refcount between every recipient.
///
/// `bytes` is the whole frame (header + payload); `payload()` is the same allocation
/// without the header, which is what a long-polling transport sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFrame {
    bytes: Bytes,
    header_len: u8,
    opcode: OpCode,
}

impl OutFrame {
    /// A final frame with `opcode` carrying `payload` (one allocation, one copy).
    pub fn new(opcode: OpCode, payload: &[u8]) -> OutFrame {
        let mut buf = FrameBuf::with_capacity(payload.len());
        buf.put(payload);
        buf.finish(opcode)
    }
    /// A close frame with `code` and `reason` (truncated to fit 125 bytes on a char boundary).
    pub fn close(code: CloseCode, reason: &str) -> OutFrame {
        // RFC 6455 §5.5: control payloads are at most 125 bytes, 2 of which are the code.
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let mut buf = FrameBuf::with_capacity(2 + end);
        buf.put(&code.0.to_be_bytes());
        buf.put(&reason.as_bytes()[..end]);
        buf.finish(OpCode::Close)
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
        let len = buf.len() - MAX_SERVER_HEADER;
        // RFC 6455 §5.2: 7-bit length up to 125, else 126 + u16, else 127 + u64; no mask bit.
        let header_len = match len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        let start = MAX_SERVER_HEADER - header_len;
        let header = &mut buf[start..MAX_SERVER_HEADER];
        header[0] = 0x80 | opcode as u8;
        match header_len {
            2 => header[1] = len as u8,
            4 => {
                header[1] = 126;
                header[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                header[1] = 127;
                header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            }
        }
        let mut bytes = Bytes::from(buf);
        bytes::Buf::advance(&mut bytes, start);
        OutFrame {
            bytes,
            header_len: header_len as u8,
            opcode,
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
