//! Incremental UTF-8 validation for text messages that arrive in pieces.
//!
//! RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the
//! byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
//! Connection_." Autobahn section 6 additionally wants the failure as early as possible ("fail
//! fast"): as soon as a prefix cannot be the start of any valid UTF-8 text, not when the final
//! fragment arrives.
//!
//! `std::str::from_utf8` already tells the two cases apart: `error_len() == Some(_)` means an
//! invalid byte (including overlongs, surrogates and code points above U+10FFFF, which it
//! rejects at the first byte that proves them), `None` means "valid so far, input ended inside
//! a code point". Only the second case carries (at most 3 bytes) into the next piece.

/// The validation state between two pieces of one text message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Utf8Stream {
    /// The start of a code point cut by the end of the previous piece.
    carry: [u8; 4],
    carry_len: u8,
}

/// The input is not (the beginning of) valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Stream {
    /// Validates the next piece; fails as soon as the text so far cannot be valid UTF-8.
    pub(crate) fn feed(&mut self, piece: &[u8]) -> Result<(), InvalidUtf8> {
        let mut rest = piece;
        if self.carry_len > 0 {
            let have = usize::from(self.carry_len);
            let need = sequence_len(self.carry[0]).saturating_sub(have);
            let take = need.min(rest.len());
            self.carry[have..have + take].copy_from_slice(&rest[..take]);
            let now = have + take;
            rest = &rest[take..];
            match std::str::from_utf8(&self.carry[..now]) {
                Ok(_) => self.carry_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    // Still cut short: `take == rest.len()` so the piece is used up.
                    self.carry_len = now as u8;
                    return Ok(());
                }
            }
        }
        match std::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let tail = &rest[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// The message is complete: fails if it ends inside a code point.
    pub(crate) fn finish(&self) -> Result<(), InvalidUtf8> {
        if self.carry_len == 0 {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// Length of the sequence a lead byte starts (RFC 3629 §4). Only called on a carried byte,
/// which `from_utf8` has already accepted as a lead byte (0xC2..=0xF4).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` in order; `Err(i)` is the index of the piece that failed, `Err(len)`
    /// a failure at `finish`.
    fn run(pieces: &[&[u8]]) -> Result<(), usize> {
        let mut s = Utf8Stream::default();
        for (i, p) in pieces.iter().enumerate() {
            s.feed(p).map_err(|_| i)?;
        }
        s.finish().map_err(|_| pieces.len())
    }

    /// `(name, pieces, expected)`.
    type PiecesCase<'a> = (&'a str, &'a [&'a [u8]], Result<(), usize>);

    #[rustfmt::skip]
    #[test]
    fn pieces_table() {
        // κόσμε = ce ba e1 bd b9 cf 83 ce bc ce b5 (Autobahn 6.x).
        let cases: &[PiecesCase<'_>] = &[
            ("empty message",                &[],                                     Ok(())),
            ("empty pieces",                 &[b"", b""],                             Ok(())),
            ("ascii",                        &[b"Hel", b"lo"],                        Ok(())),
            ("2-byte split 1|1",             &[&[0xce], &[0xba]],                     Ok(())),
            ("3-byte split 1|1|1",           &[&[0xe1], &[0xbd], &[0xb9]],            Ok(())),
            ("4-byte split 1|3",             &[&[0xf0], &[0x9f, 0x98, 0x80]],         Ok(())),
            ("4-byte split 2|1|1 + ascii",   &[&[0xf0, 0x9f], &[0x98], &[0x80, b'a']], Ok(())),
            ("kosme by bytes",               &[&[0xce], &[0xba, 0xe1], &[0xbd, 0xb9, 0xcf], &[0x83, 0xce, 0xbc, 0xce], &[0xb5]], Ok(())),
            ("ends inside a code point",     &[b"ok", &[0xe1, 0xbd]],                 Err(2)),
            ("bad continuation, 1st piece",  &[&[0xce, 0x41], b"x"],                  Err(0)),
            ("bad byte after carry",         &[&[0xe1], &[0x41]],                     Err(1)),
            ("surrogate fails at 2nd byte",  &[&[0xed], &[0xa0], &[0x80]],            Err(1)),
            ("> U+10FFFF fails at 2nd byte", &[&[0xf4], &[0x90], &[0x80, 0x80]],      Err(1)),
            ("overlong fails at 1st byte",   &[&[0xc0], &[0x80]],                     Err(0)),
            ("0xff is never valid",          &[b"abc", &[0xff]],                      Err(1)),
            ("invalid after a carried cp",   &[&[0xce], &[0xba, 0x80]],               Err(1)),
        ];
        for (name, pieces, expected) in cases {
            assert_eq!(run(pieces), *expected, "{name}");
        }
    }

    #[test]
    fn every_split_of_valid_text_is_accepted() {
        let text = "a κόσμε 😀 z".as_bytes();
        for i in 0..=text.len() {
            for j in i..=text.len() {
                assert_eq!(
                    run(&[&text[..i], &text[i..j], &text[j..]]),
                    Ok(()),
                    "{i} {j}"
                );
            }
        }
    }
}
