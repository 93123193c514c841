//! The frame header (RFC 6455 §5.2): decode from a byte prefix, encode with the shortest length.

use super::{MAX_HEADER, OpCode, WsError};
use crate::Status;

/// §5.5: "All control frames MUST have a payload length of 125 bytes or less".
pub(crate) const MAX_CONTROL_PAYLOAD: u64 = 125;

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
    ///
    /// Errors are reported as soon as the byte that proves them is present (the opcode and
    /// FIN live in byte 0, a control frame's length form in byte 1, the 64-bit length's MSB in
    /// byte 2), and always in that byte order, so a prefix of some input either returns
    /// `Partial` or exactly what the whole input returns.
    ///
    /// Length encoding is accepted leniently: §5.2 says "the minimal number of bytes MUST be
    /// used to encode the length", but a non-minimal 16- or 64-bit form (say 5 written as
    /// `7E 00 05`) carries no ambiguity, Autobahn does not test it, and rejecting it protects
    /// nothing. Control frames are the exception: a 16/64-bit length form on a control frame
    /// is either over 125 bytes or non-minimal, and is rejected with
    /// [`WsError::ControlTooLong`] straight from byte 1.
    pub fn decode(buf: &[u8]) -> Result<Status<(FrameHeader, usize)>, WsError> {
        let Some(&b0) = buf.first() else {
            return Ok(Status::Partial);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        let opcode = OpCode::try_from(b0 & 0x0F)?;
        // §5.5: "Control frames MUST NOT be fragmented."
        if opcode.is_control() && !fin {
            return Err(WsError::FragmentedControl);
        }
        let Some(&b1) = buf.get(1) else {
            return Ok(Status::Partial);
        };
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;
        if opcode.is_control() && u64::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(WsError::ControlTooLong);
        }
        // §5.2 "Payload length: 7 bits, 7+16 bits, or 7+64 bits ... If 126, the following 2
        // bytes interpreted as a 16-bit unsigned integer are the payload length. If 127, the
        // following 8 bytes interpreted as a 64-bit unsigned integer (the most significant bit
        // MUST be 0) are the payload length."
        let (payload_len, mut len) = match len7 {
            126 => match buf.get(2..).and_then(<[u8]>::first_chunk::<2>) {
                Some(b) => (u64::from(u16::from_be_bytes(*b)), 4),
                None => return Ok(Status::Partial),
            },
            127 => {
                if buf.get(2).is_some_and(|b| b & 0x80 != 0) {
                    return Err(WsError::BadLength);
                }
                match buf.get(2..).and_then(<[u8]>::first_chunk::<8>) {
                    Some(b) => (u64::from_be_bytes(*b), 10),
                    None => return Ok(Status::Partial),
                }
            }
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            match buf.get(len..).and_then(<[u8]>::first_chunk::<4>) {
                Some(key) => {
                    len += 4;
                    Some(*key)
                }
                None => return Ok(Status::Partial),
            }
        } else {
            None
        };
        Ok(Status::Complete((
            FrameHeader {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            len,
        )))
    }

    /// Encodes into `out` with the shortest length form; returns the number of bytes written.
    ///
    /// Only the low three bits of `rsv` are used. `payload_len` must be below 2^63 (§5.2);
    /// a larger value is written as is and every decoder rejects it.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = match self.payload_len {
            n @ 0..=125 => {
                out[1] = mask_bit | n as u8;
                2
            }
            n @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                4
            }
            n => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&n.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask,
            payload_len,
        }
    }

    const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

    /// `(name, input, expected)`; the RFC 6455 §5.7 examples first.
    type Case = (
        &'static str,
        &'static [u8],
        Result<Status<(FrameHeader, usize)>, WsError>,
    );

    fn ok(header: FrameHeader, len: usize) -> Result<Status<(FrameHeader, usize)>, WsError> {
        Ok(Status::Complete((header, len)))
    }

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use OpCode::*;
        vec![
            ("5.7 unmasked Hello",         &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], ok(h(true, Text, None, 5), 2)),
            ("5.7 masked Hello",           &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f], ok(h(true, Text, KEY, 5), 6)),
            ("5.7 fragment Hel",           &[0x01, 0x03, 0x48, 0x65, 0x6c], ok(h(false, Text, None, 3), 2)),
            ("5.7 fragment lo",            &[0x80, 0x02, 0x6c, 0x6f], ok(h(true, Continuation, None, 2), 2)),
            ("5.7 unmasked ping",          &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], ok(h(true, Ping, None, 5), 2)),
            ("5.7 masked pong",            &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f], ok(h(true, Pong, KEY, 5), 6)),
            ("5.7 256 bytes binary",       &[0x82, 0x7E, 0x01, 0x00], ok(h(true, Binary, None, 256), 4)),
            ("5.7 64 KiB binary",          &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0], ok(h(true, Binary, None, 65_536), 10)),
            ("masked 64-bit length",       &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4], ok(h(true, Binary, Some([1, 2, 3, 4]), 65_536), 14)),
            ("largest 64-bit length",      &[0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], ok(h(true, Binary, None, (1 << 63) - 1), 10)),
            ("empty close",                &[0x88, 0x80, 1, 2, 3, 4], ok(h(true, Close, Some([1, 2, 3, 4]), 0), 6)),
            ("control at 125",             &[0x89, 0x7D], ok(h(true, Ping, None, 125), 2)),
            ("rsv bits pass through",      &[0xF1, 0x00], ok(FrameHeader { fin: true, rsv: 7, opcode: Text, mask: None, payload_len: 0 }, 2)),
            ("non-minimal 16-bit accepted", &[0x82, 0x7E, 0x00, 0x05], ok(h(true, Binary, None, 5), 4)),
            ("non-minimal 64-bit accepted", &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x05], ok(h(true, Binary, None, 5), 10)),
            ("empty",                      &[], Ok(Status::Partial)),
            ("one byte",                   &[0x81], Ok(Status::Partial)),
            ("16-bit length cut",          &[0x82, 0x7E, 0x01], Ok(Status::Partial)),
            ("64-bit length cut",          &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0], Ok(Status::Partial)),
            ("mask key cut",               &[0x81, 0x85, 0x37, 0xfa, 0x21], Ok(Status::Partial)),
            ("reserved opcode 0x3",        &[0x83, 0x00], Err(WsError::ReservedOpcode)),
            ("reserved opcode 0x7",        &[0x87], Err(WsError::ReservedOpcode)),
            ("reserved opcode 0xB",        &[0x8B, 0x00], Err(WsError::ReservedOpcode)),
            ("reserved opcode 0xF",        &[0x0F], Err(WsError::ReservedOpcode)),
            ("fragmented ping",            &[0x09, 0x00], Err(WsError::FragmentedControl)),
            ("fragmented close, 1 byte",   &[0x08], Err(WsError::FragmentedControl)),
            ("ping with 126",              &[0x89, 0x7E, 0x00, 0x7E], Err(WsError::ControlTooLong)),
            ("close with 16-bit form",     &[0x88, 0xFE], Err(WsError::ControlTooLong)),
            ("pong with 64-bit form",      &[0x8A, 0x7F], Err(WsError::ControlTooLong)),
            ("64-bit length MSB set",      &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], Err(WsError::BadLength)),
            ("MSB set, rest not yet here", &[0x82, 0x7F, 0x80], Err(WsError::BadLength)),
        ]
    }

    #[test]
    fn decode_table() {
        for (name, input, expected) in cases() {
            assert_eq!(FrameHeader::decode(input), expected, "{name}");
        }
    }

    #[test]
    fn every_prefix_of_a_table_case_is_partial_or_the_same_result() {
        for (name, input, expected) in cases() {
            for cut in 0..input.len() {
                let got = FrameHeader::decode(&input[..cut]);
                assert!(
                    got == Ok(Status::Partial) || got == expected,
                    "{name} cut at {cut}: {got:?}"
                );
            }
        }
    }

    #[rustfmt::skip]
    #[test]
    fn encode_uses_the_shortest_form() {
        use OpCode::*;
        let cases: &[(FrameHeader, &[u8])] = &[
            (h(true, Text, None, 5),             &[0x81, 0x05]),
            (h(true, Text, KEY, 5),              &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]),
            (h(false, Text, None, 3),            &[0x01, 0x03]),
            (h(true, Continuation, None, 2),     &[0x80, 0x02]),
            (h(true, Binary, None, 125),         &[0x82, 0x7D]),
            (h(true, Binary, None, 126),         &[0x82, 0x7E, 0x00, 0x7E]),
            (h(true, Binary, None, 256),         &[0x82, 0x7E, 0x01, 0x00]),
            (h(true, Binary, None, 65_535),      &[0x82, 0x7E, 0xFF, 0xFF]),
            (h(true, Binary, None, 65_536),      &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
            (h(true, Close, KEY, 0),             &[0x88, 0x80, 0x37, 0xfa, 0x21, 0x3d]),
            (FrameHeader { rsv: 0xFF, ..h(true, Ping, None, 0) }, &[0xF9, 0x00]),
        ];
        for (header, bytes) in cases {
            let mut out = [0; MAX_HEADER];
            let n = header.encode(&mut out);
            assert_eq!(&out[..n], *bytes, "{header:?}");
        }
    }
}
