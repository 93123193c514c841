//! Per-connection message assembly: frames in, whole messages out (RFC 6455 §5.4, §5.5, §8.1).

use super::deflate::{Agreement, Inflater};
use super::header::FrameHeader;
use super::utf8::Utf8Stream;
use super::{CloseCode, OpCode, WsError, mask};
use crate::Status;

/// A fragment buffer whose capacity grew past this is freed when its message completes rather
/// than kept for the next one. Fragmented messages are rare on Socket.IO connections, and an
/// idle connection must not pin memory: 10 000 connections × 4 KiB is 40 MB at worst, where
/// keeping 64 KiB each would be 640 MB.
const RETAIN_FRAGMENT_CAPACITY: usize = 4 * 1024;

/// Fail-fast UTF-8 checks of an incomplete frame unmask a copy through a stack buffer this big
/// (the frame's bytes in the caller's buffer stay masked until the whole frame is there).
const SCRATCH: usize = 256;

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
        AssemblerConfig {
            max_message: 1_000_000,
            require_mask: true,
        }
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
/// copied into an internal buffer (emptied by the call after the message completes, and freed
/// then if it grew past 4 KiB). UTF-8 is validated
/// incrementally across fragments and fails as soon as a sequence is invalid.
///
/// What is enforced, with the RFC 6455 text:
/// - §5.2 "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated" → [`WsError::ReservedBits`].
///   With permessage-deflate ([`Assembler::enable_deflate`]), RSV1 marks a compressed message on
///   its first frame only (RFC 7692 §6.1; on a continuation or a control frame it is still
///   [`WsError::ReservedBits`]); the message is inflated when whole, bounded by `max_message`
///   ([`WsError::InflatedTooBig`]), and bad DEFLATE data is [`WsError::InvalidDeflate`].
/// - §5.1 "The server MUST close the connection upon receiving a frame that is not masked"
///   → [`WsError::Unmasked`] when [`AssemblerConfig::require_mask`]. Without it, masked frames
///   are unmasked too.
/// - §5.4 fragmentation: "a single message ... followed by zero or more frames with the FIN bit
///   clear and the opcode set to 0", and "Control frames MAY be injected in the middle of a
///   fragmented message", so pings, pongs and closes come out between fragments without
///   touching the message in progress; a continuation with no message in progress is
///   [`WsError::UnexpectedContinuation`], a new text/binary frame inside one is
///   [`WsError::ExpectedContinuation`]. Control frames are never fragmented and carry at most
///   125 bytes ([`FrameHeader::decode`] checks both).
/// - §5.5.1 close: "If there is a body, the first two bytes of the body MUST be a 2-byte
///   unsigned integer ... representing a status code" → a 1-byte body or a code that fails
///   [`CloseCode::is_allowed_on_wire`] is [`WsError::BadClosePayload`]; the reason must be
///   UTF-8 ([`WsError::InvalidUtf8`]).
/// - §8.1 text must be UTF-8 → [`WsError::InvalidUtf8`], as early as possible: each fragment
///   is validated when it arrives (a code point may straddle fragments; the last fragment must
///   complete it), and even the available part of a text frame that has not fully arrived yet
///   is checked (Autobahn 6.4.3/6.4.4 "fail fast" within one frame).
/// - [`AssemblerConfig::max_message`] → [`WsError::MessageTooBig`] as soon as a header claims a
///   length that would take the message past it, before any payload is buffered.
///
/// An error is final: the connection must be failed with [`WsError::close_code`], and every
/// later call returns the same error.
#[derive(Debug)]
pub struct Assembler {
    config: AssemblerConfig,
    /// The kind of the fragmented message in progress, if any.
    in_progress: Option<Kind>,
    /// Unmasked payload of the fragmented message so far.
    fragments: Vec<u8>,
    /// UTF-8 state at the end of `fragments` (text messages only).
    utf8: Utf8Stream,
    /// The last call returned a message borrowing `fragments`: clear it on the next call.
    delivered: bool,
    /// Fail-fast UTF-8 progress through the incomplete text frame at the front of the input.
    partial: PartialText,
    /// The first error; repeated by every later call.
    failed: Option<WsError>,
    /// permessage-deflate was negotiated: the inflater (its state made at the first compressed
    /// message).
    inflater: Option<Inflater>,
    /// The fragmented message in progress is compressed (RSV1 on its first frame).
    compressed: bool,
}

/// The data message kinds (§5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// What one consumed frame produced.
#[derive(Debug)]
enum Step<'a> {
    /// A control frame or a single-frame message, borrowing the input.
    Message(Message<'a>),
    /// A fragment was added to the message in progress.
    Fragment,
    /// The last fragment arrived: the message is in `fragments`.
    Completed(Kind),
    /// A compressed message, inflated (and checked) into the inflater's buffer.
    Inflated(Kind),
}

/// How much of the incomplete frame at the front of the input has been UTF-8 checked.
#[derive(Debug, Clone, Copy, Default)]
struct PartialText {
    /// Payload bytes checked so far (0: no check in progress).
    checked: usize,
    /// Validator state after them.
    utf8: Utf8Stream,
}

impl Assembler {
    pub fn new(config: AssemblerConfig) -> Self {
        Assembler {
            config,
            in_progress: None,
            fragments: Vec::new(),
            utf8: Utf8Stream::default(),
            delivered: false,
            partial: PartialText::default(),
            failed: None,
            inflater: None,
            compressed: false,
        }
    }

    /// Accepts RSV1 (compressed messages) as negotiated in `agreement` (RFC 7692).
    pub fn enable_deflate(&mut self, agreement: Agreement) {
        self.inflater = Some(Inflater::new(agreement));
    }

    /// Decodes at most one message from the front of `buf`: `Ok((consumed, message))`.
    /// `(n > 0, None)` means a fragment or partial progress was consumed; call again.
    /// `(0, None)` means more bytes are needed.
    ///
    /// `buf` must start at the first byte the assembler has not consumed yet (after
    /// `(0, None)`, the same bytes again plus whatever arrived). Frame payloads are unmasked in
    /// place, but only once the whole frame is there and is being consumed, so bytes left
    /// unconsumed are always still as they arrived.
    ///
    /// The message borrows both the assembler and `buf`, so it must be dropped before the
    /// next call; the intended caller loop over a connection's read buffer:
    ///
    /// ```
    /// use ringcast_codec::ws::{Assembler, AssemblerConfig, Message, WsError};
    ///
    /// fn on_read(asm: &mut Assembler, buf: &mut Vec<u8>, out: &mut Vec<String>) -> Result<(), WsError> {
    ///     let mut pos = 0;
    ///     loop {
    ///         let (consumed, message) = asm.decode(&mut buf[pos..])?;
    ///         if let Some(Message::Text(text)) = message {
    ///             out.push(text.to_owned()); // handle the message (it borrows `buf`)
    ///         }
    ///         if consumed == 0 {
    ///             break; // need more bytes: keep buf[pos..] and read again
    ///         }
    ///         pos += consumed;
    ///     }
    ///     buf.drain(..pos);
    ///     Ok(())
    /// }
    ///
    /// // RFC 6455 §5.7: a masked "Hello" followed by the first 3 bytes of the next frame.
    /// let mut buf = vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x81, 0x85, 0x37];
    /// let (mut asm, mut out) = (Assembler::new(AssemblerConfig::default()), Vec::new());
    /// on_read(&mut asm, &mut buf, &mut out)?;
    /// assert_eq!(out, ["Hello"]);
    /// assert_eq!(buf, [0x81, 0x85, 0x37]);
    /// # Ok::<(), WsError>(())
    /// ```
    pub fn decode<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> Result<(usize, Option<Message<'a>>), WsError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.delivered {
            self.release_fragments();
        }
        // Two steps so that every error can be recorded in `self.failed`: `step` borrows
        // `self` only for its own duration and returns values that borrow `buf` alone; only
        // the final message of a fragmented message borrows `self` afterwards.
        let (frame_len, step) = match self.step(buf) {
            Ok(Some(step)) => step,
            Ok(None) => return Ok((0, None)),
            Err(e) => {
                self.failed = Some(e);
                return Err(e);
            }
        };
        let message = match step {
            Step::Message(message) => Some(message),
            Step::Fragment => None,
            Step::Completed(Kind::Binary) => Some(Message::Binary(&self.fragments)),
            // `step` validated every fragment and the end of the message already; checking the
            // whole again is what keeps this safe code (no `from_utf8_unchecked`), and
            // fragmented text is rare. It cannot fail, so not recording it costs nothing.
            Step::Completed(Kind::Text) => Some(Message::Text(utf8(&self.fragments)?)),
            // The same for an inflated message: `step` checked its UTF-8.
            Step::Inflated(kind) => {
                let data = self.inflater.as_ref().map_or(&[][..], Inflater::output);
                Some(match kind {
                    Kind::Text => Message::Text(utf8(data)?),
                    Kind::Binary => Message::Binary(data),
                })
            }
        };
        Ok((frame_len, message))
    }

    /// Bytes of memory held for fragmented messages (the fragment buffer's capacity, which is
    /// kept up to 4 KiB between messages), for memory accounting.
    pub fn buffered(&self) -> usize {
        self.fragments.capacity() + self.inflater.as_ref().map_or(0, Inflater::buffered)
    }

    /// Decodes, checks and consumes the frame at the front of `buf`: `None` when it has not
    /// fully arrived, else its length and what it produced.
    fn step<'a>(&mut self, buf: &'a mut [u8]) -> Result<Option<(usize, Step<'a>)>, WsError> {
        let (header, header_len) = match FrameHeader::decode(buf)? {
            Status::Complete(h) => h,
            Status::Partial => return Ok(None),
        };
        self.check_header(&header)?;
        // `check_header` bounded the payload by `max_message`, a usize, so neither the
        // conversion nor the sum can fail; they stay checked rather than `as` casts anyway.
        let frame_len = usize::try_from(header.payload_len)
            .ok()
            .and_then(|n| n.checked_add(header_len))
            .ok_or(WsError::MessageTooBig)?;
        if buf.len() < frame_len {
            self.check_partial_text(&header, &buf[header_len..])?;
            return Ok(None);
        }
        self.partial = PartialText::default();
        let payload = &mut buf[header_len..frame_len];
        if let Some(key) = header.mask {
            mask::apply(payload, key, 0);
        }
        let payload: &'a [u8] = payload;
        if header.rsv != 0 {
            // `check_header` let RSV1 through: the first frame of a compressed message.
            return self
                .begin_compressed(&header, payload)
                .map(|s| Some((frame_len, s)));
        }
        let step = match (header.opcode, header.fin) {
            (OpCode::Ping, _) => Step::Message(Message::Ping(payload)),
            (OpCode::Pong, _) => Step::Message(Message::Pong(payload)),
            (OpCode::Close, _) => Step::Message(close_message(payload)?),
            (OpCode::Text, true) => Step::Message(Message::Text(utf8(payload)?)),
            (OpCode::Binary, true) => Step::Message(Message::Binary(payload)),
            (OpCode::Text, false) => self.begin(Kind::Text, payload)?,
            (OpCode::Binary, false) => self.begin(Kind::Binary, payload)?,
            (OpCode::Continuation, fin) => self.append(payload, fin)?,
        };
        Ok(Some((frame_len, step)))
    }

    /// The checks a header alone decides, made before any of its payload is waited for.
    fn check_header(&self, header: &FrameHeader) -> Result<(), WsError> {
        // RFC 7692 §6: RSV1 ("Per-Message Compressed") on the first frame of a data message.
        let compressed_start = header.rsv == 0b100
            && self.inflater.is_some()
            && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if header.rsv != 0 && !compressed_start {
            return Err(WsError::ReservedBits);
        }
        if self.config.require_mask && header.mask.is_none() {
            return Err(WsError::Unmasked);
        }
        let already = match (header.opcode, self.in_progress) {
            (OpCode::Continuation, None) => return Err(WsError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => return Err(WsError::ExpectedContinuation),
            (OpCode::Continuation, Some(_)) => self.fragments.len(),
            // Control frames (≤ 125 bytes) are not part of the message and not limited by it.
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => return Ok(()),
            (OpCode::Text | OpCode::Binary, None) => 0,
        };
        let limit = self.config.max_message.saturating_sub(already) as u64;
        if header.payload_len > limit {
            return Err(WsError::MessageTooBig);
        }
        Ok(())
    }

    /// Fail fast on the part of an incomplete text frame that is already here.
    fn check_partial_text(
        &mut self,
        header: &FrameHeader,
        available: &[u8],
    ) -> Result<(), WsError> {
        // A compressed frame's bytes are not text yet: they are checked once inflated.
        let text = match header.opcode {
            OpCode::Text => header.rsv == 0,
            OpCode::Continuation => self.in_progress == Some(Kind::Text) && !self.compressed,
            _ => false,
        };
        if !text {
            return Ok(());
        }
        if self.partial.checked == 0 {
            // A continuation picks up where the previous fragment left the validator.
            self.partial.utf8 = if header.opcode == OpCode::Continuation {
                self.utf8
            } else {
                Utf8Stream::default()
            };
        }
        let mut scratch = [0u8; SCRATCH];
        while let Some(rest) = available
            .get(self.partial.checked..)
            .filter(|r| !r.is_empty())
        {
            let n = rest.len().min(SCRATCH);
            let chunk = &mut scratch[..n];
            chunk.copy_from_slice(&rest[..n]);
            if let Some(key) = header.mask {
                mask::apply(chunk, key, self.partial.checked);
            }
            self.partial
                .utf8
                .feed(chunk)
                .map_err(|_| WsError::InvalidUtf8)?;
            self.partial.checked += n;
        }
        Ok(())
    }

    /// The first frame of a fragmented message.
    fn begin<'a>(&mut self, kind: Kind, payload: &[u8]) -> Result<Step<'a>, WsError> {
        self.in_progress = Some(kind);
        self.compressed = false;
        self.utf8 = Utf8Stream::default();
        self.append(payload, false)
    }

    /// The first frame of a compressed message: inflated now if it is the only one.
    fn begin_compressed<'a>(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
    ) -> Result<Step<'a>, WsError> {
        let kind = if header.opcode == OpCode::Text {
            Kind::Text
        } else {
            Kind::Binary
        };
        if header.fin {
            return self.inflate(kind, payload);
        }
        self.in_progress = Some(kind);
        self.compressed = true;
        self.fragments.extend_from_slice(payload);
        Ok(Step::Fragment)
    }

    /// Inflates a whole compressed message, bounded by `max_message`.
    fn inflate<'a>(&mut self, kind: Kind, data: &[u8]) -> Result<Step<'a>, WsError> {
        let inflater = self.inflater.as_mut().ok_or(WsError::ReservedBits)?;
        let out = inflater.inflate(data, self.config.max_message)?;
        if kind == Kind::Text {
            utf8(out)?;
        }
        Ok(Step::Inflated(kind))
    }

    /// A continuation (or the first) frame of the message in progress.
    fn append<'a>(&mut self, payload: &[u8], fin: bool) -> Result<Step<'a>, WsError> {
        let Some(kind) = self.in_progress else {
            return Err(WsError::UnexpectedContinuation);
        };
        if kind == Kind::Text && !self.compressed {
            self.utf8.feed(payload).map_err(|_| WsError::InvalidUtf8)?;
        }
        self.fragments.extend_from_slice(payload);
        if !fin {
            return Ok(Step::Fragment);
        }
        if self.compressed {
            self.in_progress = None;
            self.compressed = false;
            // The compressed bytes are spent: keep the buffer's capacity for the next message.
            let data = std::mem::take(&mut self.fragments);
            let step = self.inflate(kind, &data);
            self.fragments = data;
            self.release_fragments();
            return step;
        }
        if kind == Kind::Text {
            self.utf8.finish().map_err(|_| WsError::InvalidUtf8)?;
        }
        self.in_progress = None;
        self.delivered = true;
        Ok(Step::Completed(kind))
    }

    fn release_fragments(&mut self) {
        self.delivered = false;
        if self.fragments.capacity() > RETAIN_FRAGMENT_CAPACITY {
            self.fragments = Vec::new();
        } else {
            self.fragments.clear();
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, WsError> {
    std::str::from_utf8(bytes).map_err(|_| WsError::InvalidUtf8)
}

/// §5.5.1: an empty body, or a 2-byte big-endian status code followed by a UTF-8 reason.
fn close_message(payload: &[u8]) -> Result<Message<'_>, WsError> {
    match payload {
        [] => Ok(Message::Close(None)),
        [_] => Err(WsError::BadClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_allowed_on_wire() {
                return Err(WsError::BadClosePayload);
            }
            Ok(Message::Close(Some((code, utf8(reason)?))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::MAX_HEADER;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// An owned copy of a [`Message`], so results of many calls can be collected.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Owned {
        Text(String),
        Binary(Vec<u8>),
        Ping(Vec<u8>),
        Pong(Vec<u8>),
        Close(Option<(u16, String)>),
    }

    impl From<Message<'_>> for Owned {
        fn from(m: Message<'_>) -> Owned {
            match m {
                Message::Text(t) => Owned::Text(t.to_owned()),
                Message::Binary(b) => Owned::Binary(b.to_vec()),
                Message::Ping(b) => Owned::Ping(b.to_vec()),
                Message::Pong(b) => Owned::Pong(b.to_vec()),
                Message::Close(c) => Owned::Close(c.map(|(code, r)| (code.0, r.to_owned()))),
            }
        }
    }

    fn text(s: &str) -> Owned {
        Owned::Text(s.to_owned())
    }

    /// A client frame: header byte 0 as given, masked with [`KEY`].
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        frame_with(b0, Some(KEY), payload)
    }

    fn frame_with(b0: u8, mask_key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let opcode = OpCode::try_from(b0 & 0x0F).expect("test frames use valid opcodes");
        let header = FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 7,
            opcode,
            mask: mask_key,
            payload_len: payload.len() as u64,
        };
        let mut head = [0; MAX_HEADER];
        let n = header.encode(&mut head);
        let mut out = head[..n].to_vec();
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask_key {
            mask::apply_scalar(&mut out[start..], key, 0);
        }
        out
    }

    fn cat(frames: &[Vec<u8>]) -> Vec<u8> {
        frames.concat()
    }

    /// Runs the documented caller loop over `input` with `config`, delivered in pieces cut at
    /// `cuts`; returns the messages and the error that stopped it, if any.
    fn run_split(
        config: AssemblerConfig,
        input: &[u8],
        cuts: &[usize],
    ) -> (Vec<Owned>, Option<WsError>) {
        let mut asm = Assembler::new(config);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut fed = 0;
        for &end in cuts.iter().chain(std::iter::once(&input.len())) {
            let end = end.clamp(fed, input.len());
            buf.extend_from_slice(&input[fed..end]);
            fed = end;
            let mut pos = 0;
            loop {
                match asm.decode(&mut buf[pos..]) {
                    Err(e) => return (out, Some(e)),
                    Ok((n, m)) => {
                        out.extend(m.map(Owned::from));
                        if n == 0 {
                            break;
                        }
                        pos += n;
                    }
                }
            }
            buf.drain(..pos);
        }
        (out, None)
    }

    fn run(input: &[u8]) -> (Vec<Owned>, Option<WsError>) {
        run_split(AssemblerConfig::default(), input, &[])
    }

    #[rustfmt::skip]
    #[test]
    fn rfc_6455_section_5_7_examples_masked() {
        let big: Vec<u8> = (0..65_536u32).map(|i| i as u8).collect();
        let cases: Vec<(&str, Vec<u8>, Vec<Owned>)> = vec![
            ("single-frame masked Hello",
                vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], vec![text("Hello")]),
            ("fragmented Hel + lo",
                cat(&[frame(0x01, b"Hel"), frame(0x80, b"lo")]), vec![text("Hello")]),
            ("ping Hello",         frame(0x89, b"Hello"), vec![Owned::Ping(b"Hello".to_vec())]),
            ("masked pong Hello",
                vec![0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], vec![Owned::Pong(b"Hello".to_vec())]),
            ("256 bytes binary",   frame(0x82, &big[..256]), vec![Owned::Binary(big[..256].to_vec())]),
            ("64 KiB binary",      frame(0x82, &big), vec![Owned::Binary(big.clone())]),
        ];
        for (name, input, expected) in cases {
            assert_eq!(run(&input), (expected, None), "{name}");
        }
    }

    #[rustfmt::skip]
    #[test]
    fn message_table() {
        let cases: Vec<(&str, Vec<u8>, Vec<Owned>)> = vec![
            ("empty text",                 frame(0x81, b""), vec![text("")]),
            ("empty close",                frame(0x88, b""), vec![Owned::Close(None)]),
            ("close with code only",       frame(0x88, &[0x03, 0xe8]), vec![Owned::Close(Some((1000, String::new())))]),
            ("close with reason",          frame(0x88, b"\x03\xe9bye"), vec![Owned::Close(Some((1001, "bye".into())))]),
            ("close 4999",                 frame(0x88, &[0x13, 0x87]), vec![Owned::Close(Some((4999, String::new())))]),
            ("ping between fragments",     cat(&[frame(0x01, b"He"), frame(0x89, b"p"), frame(0x80, b"y")]),
                                           vec![Owned::Ping(b"p".to_vec()), text("Hey")]),
            ("close between fragments",    cat(&[frame(0x02, &[1]), frame(0x88, b"")]), vec![Owned::Close(None)]),
            ("binary in three fragments",  cat(&[frame(0x02, &[1]), frame(0x00, &[2]), frame(0x80, &[3])]),
                                           vec![Owned::Binary(vec![1, 2, 3])]),
            ("empty fragments",            cat(&[frame(0x01, b""), frame(0x00, b""), frame(0x80, b"")]), vec![text("")]),
            ("code point across fragments", cat(&[frame(0x01, &[0xce]), frame(0x00, &[0xba, 0xe1]), frame(0x80, &[0xbd, 0xb9])]),
                                           vec![text("\u{3ba}\u{1f79}")]),
            ("two messages back to back",  cat(&[frame(0x81, b"a"), frame(0x82, b"b")]),
                                           vec![text("a"), Owned::Binary(b"b".to_vec())]),
            ("message after fragmented",   cat(&[frame(0x01, b"x"), frame(0x80, b"y"), frame(0x81, b"z")]),
                                           vec![text("xy"), text("z")]),
            ("incomplete frame waits",     frame(0x81, b"Hello")[..8].to_vec(), vec![]),
        ];
        for (name, input, expected) in cases {
            assert_eq!(run(&input), (expected, None), "{name}");
        }
    }

    /// `(name, config, input, messages before the error, error)`.
    type ErrorCase = (&'static str, AssemblerConfig, Vec<u8>, Vec<Owned>, WsError);

    #[rustfmt::skip]
    #[test]
    fn every_error_variant() {
        let big = AssemblerConfig { max_message: 10, require_mask: true };
        let cases: Vec<ErrorCase> = vec![
            ("rsv1 set",               Default::default(), frame(0xC1, b"a"), vec![], WsError::ReservedBits),
            ("rsv3 on a ping",         Default::default(), frame(0x99, b""), vec![], WsError::ReservedBits),
            ("reserved opcode",        Default::default(), vec![0x83, 0x80, 1, 2, 3, 4], vec![], WsError::ReservedOpcode),
            ("unmasked client frame",  Default::default(), frame_with(0x81, None, b"a"), vec![], WsError::Unmasked),
            ("fragmented ping",        Default::default(), vec![0x09, 0x80, 1, 2, 3, 4], vec![], WsError::FragmentedControl),
            ("ping of 126 bytes",      Default::default(), frame(0x89, &[0; 126]), vec![], WsError::ControlTooLong),
            ("lone continuation",      Default::default(), frame(0x80, b"a"), vec![], WsError::UnexpectedContinuation),
            ("text inside fragmented", Default::default(), cat(&[frame(0x01, b"a"), frame(0x81, b"b")]), vec![], WsError::ExpectedContinuation),
            ("binary inside fragmented", Default::default(), cat(&[frame(0x02, b"a"), frame(0x02, b"b")]), vec![], WsError::ExpectedContinuation),
            ("64-bit length MSB",      Default::default(), vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0], vec![], WsError::BadLength),
            ("1-byte close",           Default::default(), frame(0x88, &[0x03]), vec![], WsError::BadClosePayload),
            ("close code 1005",        Default::default(), frame(0x88, &[0x03, 0xed]), vec![], WsError::BadClosePayload),
            ("close code 999",         Default::default(), frame(0x88, &[0x03, 0xe7]), vec![], WsError::BadClosePayload),
            ("close code 5000",        Default::default(), frame(0x88, &[0x13, 0x88]), vec![], WsError::BadClosePayload),
            ("close reason not utf-8", Default::default(), frame(0x88, &[0x03, 0xe8, 0xff]), vec![], WsError::InvalidUtf8),
            ("text not utf-8",         Default::default(), frame(0x81, &[0xce, 0x41]), vec![], WsError::InvalidUtf8),
            ("fragment not utf-8",     Default::default(), frame(0x01, &[0xff]), vec![], WsError::InvalidUtf8),
            ("last fragment cuts a code point", Default::default(), cat(&[frame(0x01, b"a"), frame(0x80, &[0xce])]), vec![], WsError::InvalidUtf8),
            ("surrogate across fragments", Default::default(), cat(&[frame(0x01, &[0xed]), frame(0x80, &[0xa0, 0x80])]), vec![], WsError::InvalidUtf8),
            ("single frame too big",   big, frame(0x82, &[0; 11]), vec![], WsError::MessageTooBig),
            ("fragments add up too big", big, cat(&[frame(0x02, &[0; 6]), frame(0x80, &[0; 5])]), vec![], WsError::MessageTooBig),
            ("control frames are not counted", big, cat(&[frame(0x02, &[0; 10]), frame(0x89, &[0; 100]), frame(0x80, &[0; 1])]),
                                       vec![Owned::Ping(vec![0; 100])], WsError::MessageTooBig),
        ];
        for (name, config, input, messages, error) in cases {
            assert_eq!(run_split(config, &input, &[]), (messages, Some(error)), "{name}");
        }
    }

    #[test]
    fn too_big_is_reported_from_the_header_before_the_payload_arrives() {
        let config = AssemblerConfig {
            max_message: 1000,
            require_mask: true,
        };
        // Only the header of a frame claiming 2^40 bytes: no payload at all.
        let header = [0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(
            Assembler::new(config).decode(&mut header.clone()),
            Err(WsError::MessageTooBig)
        );
    }

    #[test]
    fn invalid_utf8_fails_fast_inside_an_incomplete_frame() {
        // Autobahn 6.4.3: the first chop is valid, the second holds 0xf4 0x90 (> U+10FFFF).
        let whole = frame(
            0x81,
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64",
        );
        let mut asm = Assembler::new(AssemblerConfig::default());
        let mut buf = whole[..6 + 11].to_vec();
        assert_eq!(
            asm.decode(&mut buf).map(|(n, m)| (n, m.is_some())),
            Ok((0, false))
        );
        // Nothing was unmasked in place while waiting.
        assert_eq!(buf[..], whole[..6 + 11]);
        let mut buf = whole[..6 + 13].to_vec();
        assert_eq!(asm.decode(&mut buf), Err(WsError::InvalidUtf8));
    }

    #[test]
    fn invalid_utf8_fails_fast_in_a_continuation_still_arriving() {
        let first = frame(0x01, &[b'a', 0xed]);
        let second = frame(0x80, &[0xa0, 0x80, b'z']); // 0xed 0xa0: a surrogate
        let mut asm = Assembler::new(AssemblerConfig::default());
        let mut buf = first.clone();
        assert_eq!(
            asm.decode(&mut buf).map(|(n, m)| (n, m.is_some())),
            Ok((first.len(), false))
        );
        let mut buf = second[..7].to_vec(); // header + the first payload byte
        assert_eq!(asm.decode(&mut buf), Err(WsError::InvalidUtf8));
    }

    #[test]
    fn valid_text_arriving_byte_by_byte_is_not_rejected_early() {
        let input = cat(&[
            frame(0x01, "κόσμε 😀".as_bytes()),
            frame(0x89, b""),
            frame(0x80, "κόσμε".as_bytes()),
        ]);
        let cuts: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            run_split(AssemblerConfig::default(), &input, &cuts),
            (vec![Owned::Ping(vec![]), text("κόσμε 😀κόσμε")], None)
        );
    }

    #[test]
    fn a_single_frame_message_borrows_the_input() {
        let mut input = frame(0x82, b"payload");
        let range = input.as_ptr_range();
        let mut asm = Assembler::new(AssemblerConfig::default());
        let (n, message) = asm.decode(&mut input).expect("valid frame");
        assert_eq!(n, 13);
        match message {
            Some(Message::Binary(b)) => assert!(range.contains(&b.as_ptr()), "payload was copied"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(asm.buffered(), 0);
    }

    #[test]
    fn large_fragment_buffer_is_freed_and_small_one_kept() {
        let mut asm = Assembler::new(AssemblerConfig::default());
        let mut input = cat(&[frame(0x02, &[7; 10_000]), frame(0x80, b"")]);
        let (n, _) = asm.decode(&mut input).expect("first fragment");
        assert!(asm.buffered() >= 10_000);
        let (_, message) = asm.decode(&mut input[n..]).expect("last fragment");
        assert_eq!(
            message.map(Owned::from),
            Some(Owned::Binary(vec![7; 10_000]))
        );
        // Released on the next call, even one that needs more bytes.
        assert_eq!(
            asm.decode(&mut []).map(|(n, m)| (n, m.is_some())),
            Ok((0, false))
        );
        assert_eq!(asm.buffered(), 0);

        let mut small = cat(&[frame(0x02, &[7; 100]), frame(0x80, b"")]);
        let (n, _) = asm.decode(&mut small).expect("first fragment");
        let (_, message) = asm.decode(&mut small[n..]).expect("last fragment");
        assert!(message.is_some());
        assert_eq!(
            asm.decode(&mut []).map(|(n, m)| (n, m.is_some())),
            Ok((0, false))
        );
        assert!((100..=RETAIN_FRAGMENT_CAPACITY).contains(&asm.buffered()));
    }

    #[test]
    fn errors_are_final() {
        let mut asm = Assembler::new(AssemblerConfig::default());
        assert_eq!(
            asm.decode(&mut frame(0x80, b"x")),
            Err(WsError::UnexpectedContinuation)
        );
        assert_eq!(
            asm.decode(&mut frame(0x81, b"fine")),
            Err(WsError::UnexpectedContinuation)
        );
    }

    #[test]
    fn unmasked_frames_are_accepted_when_masks_are_not_required() {
        let config = AssemblerConfig {
            max_message: 100,
            require_mask: false,
        };
        let input = cat(&[
            frame_with(0x81, None, b"plain"),
            frame_with(0x81, Some(KEY), b"masked"),
        ]);
        assert_eq!(
            run_split(config, &input, &[]),
            (vec![text("plain"), text("masked")], None)
        );
    }

    #[test]
    fn every_cut_gives_the_same_messages() {
        let input = cat(&[
            frame(0x81, b"one"),
            frame(0x01, "two κό".as_bytes()),
            frame(0x8A, b"pong"),
            frame(0x80, "σμε".as_bytes()),
            frame(0x82, &[0; 300]),
            frame(0x88, b"\x03\xe8done"),
        ]);
        let whole = run(&input);
        assert_eq!(whole.0.len(), 5);
        assert_eq!(whole.1, None);
        for cut in 0..=input.len() {
            assert_eq!(
                run_split(AssemblerConfig::default(), &input, &[cut]),
                whole,
                "cut at {cut}"
            );
        }
    }
}
