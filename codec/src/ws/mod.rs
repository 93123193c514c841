//! RFC 6455 WebSocket framing: headers, masking, message assembly, close frames, server frames.
//!
//! CONTRACT (the server codes against these signatures; keep them).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//! (RFC 6455 §5.2)
//!
//! Layout: [`FrameHeader`] (`header.rs`), [`mask`], [`Assembler`] (`assembler.rs`, with the
//! incremental UTF-8 validator in `utf8.rs`), [`OutFrame`] and [`FrameBuf`] (`frame.rs`),
//! permessage-deflate (RFC 7692) in [`deflate`].

mod assembler;
pub mod deflate;
mod frame;
mod header;
pub mod mask;
mod utf8;

pub use assembler::{Assembler, AssemblerConfig, Message};
pub use deflate::{Agreement, Deflater, Inflater};
pub use frame::{FrameBuf, OutFrame, Sent};
pub use header::FrameHeader;

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

impl TryFrom<u8> for OpCode {
    type Error = WsError;

    /// The low four bits of the first header byte. §5.2: "%x3-7 are reserved for further
    /// non-control frames", "%xB-F are reserved for further control frames".
    fn try_from(bits: u8) -> Result<OpCode, WsError> {
        match bits {
            0x0 => Ok(OpCode::Continuation),
            0x1 => Ok(OpCode::Text),
            0x2 => Ok(OpCode::Binary),
            0x8 => Ok(OpCode::Close),
            0x9 => Ok(OpCode::Ping),
            0xA => Ok(OpCode::Pong),
            _ => Err(WsError::ReservedOpcode),
        }
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
    /// 1007–1014, 3000–4999; never 1004–1006, 1015, or anything below 1000).
    ///
    /// 1004 is reserved, and 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close
    /// control frame by an endpoint" (§7.4.1). 1012–1014 (service restart, try again later,
    /// bad gateway) are not in the RFC's list but are registered in the IANA "WebSocket Close
    /// Code Number" registry that §11.7 creates, so peers may legitimately send them; Autobahn
    /// (case 7.9.x) only requires 0, 999, 1004–1006, 1016, 1100, 2000 and 2999 to be rejected.
    /// The rest of 1016–2999 is reserved for future RFCs, and 5000+ is outside every range.
    pub fn is_allowed_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
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
    /// A compressed message that inflates past the maximum (a decompression bomb), stopped
    /// before the output buffer grew past it → 1009.
    InflatedTooBig,
    /// A compressed message whose payload is not valid DEFLATE data (RFC 7692 §8) → 1007.
    InvalidDeflate,
}

impl WsError {
    /// The close code the server sends before closing.
    ///
    /// §7.4.1: 1002 "protocol error", 1007 "data within a message that was not consistent with
    /// the type of the message (e.g., non-UTF-8 [RFC3629] data within a text message)", 1009 "a
    /// message that is too big for it to process".
    pub fn close_code(self) -> CloseCode {
        match self {
            WsError::InvalidUtf8 | WsError::InvalidDeflate => CloseCode::INVALID_PAYLOAD,
            WsError::MessageTooBig | WsError::InflatedTooBig => CloseCode::MESSAGE_TOO_BIG,
            WsError::ReservedBits
            | WsError::ReservedOpcode
            | WsError::Unmasked
            | WsError::FragmentedControl
            | WsError::ControlTooLong
            | WsError::UnexpectedContinuation
            | WsError::ExpectedContinuation
            | WsError::BadLength
            | WsError::BadClosePayload => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl std::fmt::Display for WsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            WsError::ReservedBits => "RSV bit set without a negotiated extension",
            WsError::ReservedOpcode => "reserved opcode",
            WsError::Unmasked => "unmasked client frame",
            WsError::FragmentedControl => "fragmented control frame",
            WsError::ControlTooLong => "control frame payload over 125 bytes",
            WsError::UnexpectedContinuation => "continuation frame without a message in progress",
            WsError::ExpectedContinuation => {
                "new data frame while a fragmented message is in progress"
            }
            WsError::BadLength => "64-bit payload length with the most significant bit set",
            WsError::BadClosePayload => "malformed close payload",
            WsError::InvalidUtf8 => "invalid UTF-8",
            WsError::MessageTooBig => "message too big",
            WsError::InvalidDeflate => "invalid DEFLATE data in a compressed message",
            WsError::InflatedTooBig => "compressed message inflates past the maximum",
        };
        f.write_str(what)
    }
}

impl std::error::Error for WsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    #[test]
    fn close_codes_per_error() {
        let cases = [
            (WsError::ReservedBits, 1002), (WsError::ReservedOpcode, 1002), (WsError::Unmasked, 1002),
            (WsError::FragmentedControl, 1002), (WsError::ControlTooLong, 1002),
            (WsError::UnexpectedContinuation, 1002), (WsError::ExpectedContinuation, 1002),
            (WsError::BadLength, 1002), (WsError::BadClosePayload, 1002),
            (WsError::InvalidUtf8, 1007), (WsError::MessageTooBig, 1009), (WsError::InvalidDeflate, 1007),
            (WsError::InflatedTooBig, 1009),
        ];
        for (error, code) in cases {
            assert_eq!(error.close_code(), CloseCode(code), "{error:?}");
            assert!(error.close_code().is_allowed_on_wire(), "{error:?}");
        }
    }

    #[test]
    fn close_codes_allowed_on_the_wire() {
        // Autobahn 7.7.x (must be accepted) and 7.9.x (must be rejected), plus the edges.
        let allowed = [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ];
        let rejected = [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ];
        for code in allowed {
            assert!(CloseCode(code).is_allowed_on_wire(), "{code}");
        }
        for code in rejected {
            assert!(!CloseCode(code).is_allowed_on_wire(), "{code}");
        }
    }

    #[test]
    fn opcodes_from_bits() {
        for bits in 0..=0x0F_u8 {
            match OpCode::try_from(bits) {
                Ok(op) => {
                    assert_eq!(op as u8, bits);
                    assert_eq!(op.is_control(), bits >= 8);
                }
                Err(e) => {
                    assert_eq!(e, WsError::ReservedOpcode);
                    assert!(matches!(bits, 0x3..=0x7 | 0xB..=0xF), "{bits:#x}");
                }
            }
        }
    }
}
