//! One signed webhook request: a blocking HTTP/1.1 POST over a plain TCP connection (one per
//! request, `Connection: close`), on the sender thread. No TLS: the single-node build carries no
//! TLS library, and the URL check refuses `https://`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;

use crate::config::WebhookUrl;

/// The signature header: `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "X-Ringcast-Signature";
/// The signing time, Unix seconds: receivers refuse old ones (replay protection).
pub const TIMESTAMP_HEADER: &str = "X-Ringcast-Timestamp";

/// The most of a response read: its status line and headers fit in 16 KiB (the body is not
/// read: the status alone says whether the batch was taken).
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// `sha256=<hex>` over `"<timestamp>.<body>"`.
pub fn signature(secret: &[u8], timestamp: u64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body.as_bytes());
    let tag = ctx.sign();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in tag.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// POSTs `body` to `url`, signed; the response's status code, or why there is none. The whole
/// exchange gets `timeout`.
pub fn post(
    url: &WebhookUrl,
    secret: &[u8],
    timestamp: u64,
    body: &str,
    timeout: Duration,
) -> Result<u16, String> {
    let deadline = Instant::now() + timeout;
    let host = url.host().trim_start_matches('[').trim_end_matches(']');
    let addrs = (host, url.port())
        .to_socket_addrs()
        .map_err(|e| format!("resolving {}: {e}", url.host()))?;
    let mut last = format!("{} resolved to no address", url.host());
    let mut stream = None;
    for addr in addrs {
        let left = remaining(deadline)?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: ringcast/{version}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n{SIGNATURE_HEADER}: {sig}\r\n{TIMESTAMP_HEADER}: {timestamp}\r\nConnection: close\r\n\r\n",
        path = url.path(),
        host = url.host(),
        port = url.port(),
        version = env!("CARGO_PKG_VERSION"),
        len = body.len(),
        sig = signature(secret, timestamp, body),
    );
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("sending: {e}"))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        stream
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| e.to_string())?;
        let n = stream
            .read(&mut chunk)
            .map_err(|e| format!("reading the answer: {e}"))?;
        if n == 0 {
            return Err("connection closed before a complete answer".to_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(status) = status_code(&buf)? {
            return Ok(status);
        }
    }
}

/// The status code once the whole head is in `buf` (`HTTP/1.x NNN …\r\n…\r\n\r\n`); `None`
/// while more is needed.
fn status_code(buf: &[u8]) -> Result<Option<u16>, String> {
    if !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        return if buf.len() < MAX_RESPONSE_HEAD {
            Ok(None)
        } else {
            Err("answer head too large".to_owned())
        };
    }
    let line = buf.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = std::str::from_utf8(line).map_err(|_| "status line is not UTF-8".to_owned())?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(v), Some(Ok(code))) if v.starts_with("HTTP/1.") && (100..=599).contains(&code) => {
            Ok(Some(code))
        }
        _ => Err(format!("not an HTTP answer: {:?}", super::cut(line))),
    }
}

/// Time left before `deadline`; an error once it has passed (a zero timeout would mean "none"
/// to the socket calls).
fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err("timed out".to_owned())
    } else {
        Ok(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        /// The status (`None`: more to read), or a fragment of the error.
        type Status = Result<Option<u16>, &'static str>;
        let cases: &[(&[u8], Status)] = &[
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                Ok(Some(200)),
            ),
            (b"HTTP/1.0 503 Busy\r\n\r\n", Ok(Some(503))),
            (b"HTTP/1.1 204\r\n\r\n", Ok(Some(204))),
            (b"HTTP/1.1 200 OK\r\nContent-", Ok(None)),
            (b"SSH-2.0-OpenSSH\r\n\r\n", Err("not an HTTP answer")),
            (b"HTTP/1.1 abc\r\n\r\n", Err("not an HTTP answer")),
            (b"HTTP/1.1 999 X\r\n\r\n", Err("not an HTTP answer")),
        ];
        for (raw, want) in cases {
            match (status_code(raw), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{raw:?}"),
                (Err(e), Err(fragment)) => assert!(e.contains(fragment), "{raw:?}: {e}"),
                (got, want) => panic!("{raw:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // The reference values come from Python's hmac module, as a receiver computes them:
        // `hmac.new(b"Jefe", b"1700000000.{}", hashlib.sha256).hexdigest()`.
        assert_eq!(
            signature(b"Jefe", 1_700_000_000, "{}"),
            "sha256=d3793e2b4103edfbd98cc19591832f5fad701d413db9fcae0ae7dab8184ed207"
        );
    }
}
