//! permessage-deflate (RFC 7692): the offer/response negotiation, compressing a server message,
//! and inflating a client message with a hard bound on its output.
//!
//! The server always answers `server_no_context_takeover` (§7.1.1.1): every server message is
//! compressed on its own, so one compressed broadcast frame is valid for every recipient and is
//! made once ([`super::OutFrame::share_deflated`]), and one [`Deflater`] per core serves every
//! connection. Client messages may use context takeover: an [`Inflater`] keeps the client's
//! 32 KiB window between messages unless the client offered `client_no_context_takeover`.
//!
//! `server_max_window_bits` below 15 is declined (§7.1.2.1 "A server declines an extension
//! negotiation offer with this parameter if the server doesn't support it"): the compressor
//! (miniz_oxide) always uses a 32 KiB window, and a shared frame has to suit every recipient.
//! Browsers and `ws` (socket.io-client) do not send it by default.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::WsError;

/// §7.2.1: a sender removes the trailing `0x00 0x00 0xff 0xff` of a sync flush; §7.2.2: the
/// receiver appends it again before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// zlib's default level (what `ws`, the reference server's WebSocket library, uses). Level 1
/// would compress ~2× faster but a broadcast is compressed once for all its recipients, so the
/// better ratio is paid for once and saved per recipient.
const LEVEL: u32 = 6;

/// An inflate output buffer that grew past this is freed after its message: an idle connection
/// keeps at most 16 KiB of it.
const RETAIN_OUTPUT: usize = 16 * 1024;

/// The accepted offer: what the server answered in `Sec-WebSocket-Extensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// The client offered `client_no_context_takeover` and the answer confirms it: each client
    /// message is inflated on its own (§7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The offer had `server_max_window_bits=15`, which the answer must repeat (§7.1.2.1).
    pub server_max_window_bits: bool,
}

impl Agreement {
    /// Appends the `Sec-WebSocket-Extensions` response header line (with its CRLF).
    pub fn write_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover",
        );
        if self.client_no_context_takeover {
            out.extend_from_slice(b"; client_no_context_takeover");
        }
        if self.server_max_window_bits {
            out.extend_from_slice(b"; server_max_window_bits=15");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Picks the first acceptable `permessage-deflate` offer of a `Sec-WebSocket-Extensions` value
/// (§5: offers are listed in the client's order of preference). An offer with an unknown or
/// repeated parameter, a malformed value, or `server_max_window_bits` below 15 is declined (the
/// next one is tried); `None` means no compression, never a failed upgrade.
pub fn negotiate(extensions: &[u8]) -> Option<Agreement> {
    let text = std::str::from_utf8(extensions).ok()?;
    text.split(',').find_map(accept_offer)
}

/// One offer: `permessage-deflate *( ";" param [ "=" value ] )`.
fn accept_offer(offer: &str) -> Option<Agreement> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let mut agreement = Agreement {
        client_no_context_takeover: false,
        server_max_window_bits: false,
    };
    let (mut seen_server_nct, mut seen_client_bits) = (false, false);
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(unquote(v.trim())?)),
            None => (param, None),
        };
        // §7: "A server MUST decline an extension negotiation offer ... if [it] has any
        // extension parameter not defined for use in an offer ... [or] has an extension
        // parameter with an invalid value ... [or] has multiple extension parameters with the
        // same name."
        let seen = match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) => &mut seen_server_nct,
            ("client_no_context_takeover", None) => &mut agreement.client_no_context_takeover,
            ("server_max_window_bits", Some(v)) => {
                // Only 15 is honoured: see the module docs.
                if window_bits(v)? != 15 {
                    return None;
                }
                &mut agreement.server_max_window_bits
            }
            ("client_max_window_bits", v) => {
                // §7.1.2.2: with or without a value; the server need not answer it, and an
                // inflater with a 32 KiB window reads any smaller window.
                if let Some(v) = v {
                    window_bits(v)?;
                }
                &mut seen_client_bits
            }
            _ => return None,
        };
        if std::mem::replace(seen, true) {
            return None;
        }
    }
    Some(agreement)
}

/// §7.1.2: "The value MUST be an integer in the range 8 to 15 ... without leading zeros"
/// (`1*DIGIT`, so `08` and `+9` are malformed).
fn window_bits(v: &str) -> Option<u8> {
    if v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|n| (8..=15).contains(n))
}

/// A quoted-string value without its quotes (§7: "the value ... may be a quoted-string").
fn unquote(v: &str) -> Option<&str> {
    match v.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"'),
        None => Some(v),
    }
}

/// Compresses whole server messages, each on its own (`server_no_context_takeover`): one per
/// core serves every connection. miniz_oxide's compressor state is over 200 KiB (its hash chains
/// and 32 KiB window), which is why it is never per connection.
#[derive(Debug)]
pub struct Deflater {
    compress: Compress,
}

impl Deflater {
    pub fn new() -> Self {
        Deflater {
            compress: Compress::new(Compression::new(LEVEL), false),
        }
    }

    /// Appends the compressed form of `payload` to `out` (§7.2.1: raw DEFLATE, sync-flushed, the
    /// trailing `00 00 ff ff` removed). `false` (with `out` as it was) if the compressor failed,
    /// which miniz_oxide does not do on a fresh stream; the caller then sends the plain frame.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool {
        self.compress.reset();
        let start = out.len();
        loop {
            // Compressed output is at most ~payload + 5 bytes per 64 KiB stored block.
            out.reserve(payload.len() / 2 + 64);
            let consumed = self.compress.total_in() as usize;
            let Some(rest) = payload.get(consumed..) else {
                out.truncate(start);
                return false;
            };
            if self
                .compress
                .compress_vec(rest, out, FlushCompress::Sync)
                .is_err()
            {
                out.truncate(start);
                return false;
            }
            // Done once all input went in and the flush left spare room (it did not stop
            // because the output was full).
            if self.compress.total_in() as usize == payload.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        true
    }
}

impl Default for Deflater {
    fn default() -> Self {
        Self::new()
    }
}

/// Inflates one connection's client messages with a hard bound on each message's output.
///
/// The DEFLATE state (~43 KiB: a 32 KiB window and the decoder's tables) is allocated at the
/// first compressed message, not at the upgrade. With context takeover it keeps the window
/// between messages (§7.2.2); with `client_no_context_takeover` it is reset after each one.
#[derive(Debug)]
pub struct Inflater {
    state: Option<Box<Decompress>>,
    reset_each: bool,
    out: Vec<u8>,
}

impl Inflater {
    pub fn new(agreement: Agreement) -> Self {
        Inflater {
            state: None,
            reset_each: agreement.client_no_context_takeover,
            out: Vec::new(),
        }
    }

    /// Inflates one message's compressed payload (all of its frames' payloads, in order).
    ///
    /// Output past `max` bytes is [`WsError::InflatedTooBig`], found before the buffer grows past
    /// `max + 1` bytes (a decompression bomb costs at most that); data that is not DEFLATE is
    /// [`WsError::InvalidDeflate`]. The result borrows the inflater until the next call.
    pub fn inflate(&mut self, data: &[u8], max: usize) -> Result<&[u8], WsError> {
        if self.out.capacity() > RETAIN_OUTPUT {
            self.out = Vec::new();
        }
        let state = self
            .state
            .get_or_insert_with(|| Box::new(Decompress::new(false)));
        let (produced, ended) = inflate_bounded(state, &mut self.out, [data, &TAIL], max)?;
        self.out.truncate(produced);
        // A final block (BFINAL; RFC 7692 §7.2.3.3 lets a sender end with one) ends the stream: the next message starts anew.
        if self.reset_each || ended {
            state.reset(false);
        }
        Ok(&self.out)
    }

    /// The last inflated message.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Capacity of the output buffer (at most `max + 1` of the largest call, see
    /// [`Inflater::inflate`]).
    pub fn output_capacity(&self) -> usize {
        self.out.capacity()
    }

    /// Bytes held between messages (the DEFLATE state once made, and the output buffer).
    pub fn buffered(&self) -> usize {
        self.out.capacity()
            + self
                .state
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<Decompress>() + INFLATE_STATE)
    }
}

/// miniz_oxide's inflate state (`InflateState`): the 32 KiB window plus the decoder's tables,
/// ~43 KiB, behind the `Decompress` handle.
pub const INFLATE_STATE: usize = 43 * 1024;

/// Feeds `chunks` through `state` into `out` (grown as needed, never past `max + 1`):
/// `(bytes produced, stream ended)`.
fn inflate_bounded(
    state: &mut Decompress,
    out: &mut Vec<u8>,
    chunks: [&[u8]; 2],
    max: usize,
) -> Result<(usize, bool), WsError> {
    let limit = max.saturating_add(1);
    let mut produced = 0;
    for chunk in chunks {
        let mut pos = 0;
        loop {
            if produced == out.len() {
                if out.len() >= limit {
                    return Err(WsError::InflatedTooBig);
                }
                // Double, starting from 4× the input (typical text ratios are 3–10×).
                let want = out.len().max(4 * chunk.len()).max(1024);
                let len = out.len().saturating_add(want).min(limit);
                // Exact: `resize` alone may double the capacity past `limit`.
                out.reserve_exact(len - out.len());
                out.resize(len, 0);
            }
            let (in0, out0) = (state.total_in(), state.total_out());
            let status = state
                .decompress(&chunk[pos..], &mut out[produced..], FlushDecompress::Sync)
                .map_err(|_| WsError::InvalidDeflate)?;
            let read = (state.total_in() - in0) as usize;
            let wrote = (state.total_out() - out0) as usize;
            pos += read;
            produced += wrote;
            if produced > max {
                return Err(WsError::InflatedTooBig);
            }
            if status == Status::StreamEnd {
                return Ok((produced, true));
            }
            if pos == chunk.len() && produced < out.len() {
                break;
            }
            if read == 0 && wrote == 0 && produced < out.len() {
                // No progress with room to write: the decoder needs input this chunk lacks.
                break;
            }
        }
    }
    Ok((produced, false))
}

#[cfg(test)]
mod tests;
