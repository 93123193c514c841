//! A minimal sans-IO HTTP/1.1 client: request writers and a response reader.
//!
//! Just what the generator needs against a server on loopback: keep-alive requests with a
//! `Content-Length` body, responses framed by `Content-Length` or `Transfer-Encoding: chunked`
//! (RFC 9112 §6.3: a response to a request with neither ends at close, which we treat as an
//! error since every target sends one of the two). The codec's `http` module parses
//! *requests* (it is a server's codec); responses are parsed here with `httparse`.

use std::borrow::Cow;

use ringcast_codec::Status;

/// Most header fields a response may carry (socket.io's polling responses send ~8).
const MAX_HEADERS: usize = 32;
/// Largest head accepted: far above the ~300 bytes every target sends.
const MAX_HEAD: usize = 16 * 1024;

/// Why a response could not be read; the connection is unusable afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpClientError {
    Malformed,
    HeadTooLarge,
    /// Neither `Content-Length` nor chunked, on a status that has a body.
    UnframedBody,
    BadChunk,
}

/// A whole response: status, the headers the generator cares about, and the body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response<'a> {
    pub status: u16,
    /// `Sec-WebSocket-Accept`, for the 101 of an upgrade.
    pub ws_accept: Option<&'a [u8]>,
    /// Body bytes: borrowed for `Content-Length`, decoded for chunked.
    pub body: Cow<'a, [u8]>,
    /// Bytes of `buf` the response occupies (head + framed body); the rest belongs to what
    /// follows (WebSocket frames after a 101, the next response on a keep-alive connection).
    pub consumed: usize,
}

/// Reads one whole response from the front of `buf`. A 101 has no body: whatever follows the
/// head is the upgraded protocol's.
pub fn read_response(buf: &[u8]) -> Result<Status<Response<'_>>, HttpClientError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(HttpClientError::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(Status::Partial),
        Err(_) => return Err(HttpClientError::Malformed),
    };
    let status = resp.code.ok_or(HttpClientError::Malformed)?;
    let mut content_length = None;
    let mut chunked = false;
    let mut ws_accept = None;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(h.value).map_err(|_| HttpClientError::Malformed)?;
            content_length = Some(
                text.trim()
                    .parse::<usize>()
                    .map_err(|_| HttpClientError::Malformed)?,
            );
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h.value.eq_ignore_ascii_case(b"chunked");
        } else if h.name.eq_ignore_ascii_case("sec-websocket-accept") {
            ws_accept = Some(h.value);
        }
    }
    // RFC 9112 §6.3: 1xx, 204 and 304 never have a body.
    if status == 101 || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Status::Complete(Response {
            status,
            ws_accept,
            body: Cow::Borrowed(&[]),
            consumed: head_len,
        }));
    }
    let rest = &buf[head_len..];
    if chunked {
        return Ok(match read_chunked(rest)? {
            Status::Complete((body, used)) => Status::Complete(Response {
                status,
                ws_accept,
                body: Cow::Owned(body),
                consumed: head_len + used,
            }),
            Status::Partial => Status::Partial,
        });
    }
    let len = content_length.ok_or(HttpClientError::UnframedBody)?;
    if rest.len() < len {
        return Ok(Status::Partial);
    }
    Ok(Status::Complete(Response {
        status,
        ws_accept,
        body: Cow::Borrowed(&rest[..len]),
        consumed: head_len + len,
    }))
}

/// Appends a request with a `Content-Length` body (`GET` sends none when `body` is empty).
pub fn write_request(
    out: &mut Vec<u8>,
    method: &str,
    host: &str,
    target: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in extra {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if method != "GET" || !body.is_empty() {
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Decodes a chunked body (RFC 9112 §7.1): `size[;ext] CRLF data CRLF … 0 CRLF [trailers] CRLF`.
fn read_chunked(buf: &[u8]) -> Result<Status<(Vec<u8>, usize)>, HttpClientError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = memchr::memmem::find(&buf[at..], b"\r\n") else {
            return Ok(Status::Partial);
        };
        let line = &buf[at..at + eol];
        let size_text = line.split(|&b| b == b';').next().unwrap_or(line);
        let size_text = std::str::from_utf8(size_text).map_err(|_| HttpClientError::BadChunk)?;
        let size =
            usize::from_str_radix(size_text.trim(), 16).map_err(|_| HttpClientError::BadChunk)?;
        at += eol + 2;
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                let Some(eol) = memchr::memmem::find(&buf[at..], b"\r\n") else {
                    return Ok(Status::Partial);
                };
                at += eol + 2;
                if eol == 0 {
                    return Ok(Status::Complete((body, at)));
                }
            }
        }
        if buf.len() < at + size + 2 {
            return Ok(Status::Partial);
        }
        body.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err(HttpClientError::BadChunk);
        }
        at += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> Response<'_> {
        match read_response(buf) {
            Ok(Status::Complete(r)) => r,
            other => panic!("expected a complete response, got {other:?}"),
        }
    }

    #[test]
    fn content_length_body_and_pipelined_rest() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"delivered\":3}HTTP/1.1";
        let r = complete(raw);
        assert_eq!(r.status, 200);
        assert_eq!(&*r.body, b"{\"delivered\":3}");
        assert_eq!(r.consumed, raw.len() - 8);
    }

    #[test]
    fn every_prefix_is_partial() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        for cut in 0..raw.len() {
            assert_eq!(
                read_response(&raw[..cut]),
                Ok(Status::Partial),
                "cut at {cut}"
            );
        }
        assert_eq!(&*complete(raw).body, b"ok");
    }

    #[test]
    fn switching_protocols_leaves_frames_unconsumed() {
        let raw =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
        let r = complete(raw);
        assert_eq!(r.status, 101);
        assert_eq!(r.ws_accept, Some(&b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="[..]));
        assert_eq!(&raw[r.consumed..], b"\x81\x02hi");
    }

    #[test]
    fn chunked_body_is_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n40{\r\n2\r\n}x\r\n0\r\n\r\nNEXT";
        let r = complete(raw);
        assert_eq!(&*r.body, b"40{}x");
        assert_eq!(&raw[r.consumed..], b"NEXT");
        for cut in 45..raw.len() - 4 {
            assert_eq!(
                read_response(&raw[..cut]),
                Ok(Status::Partial),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn rejects() {
        let cases: &[(&[u8], HttpClientError)] = &[
            (b"HTTP/1.1 200 OK\r\n\r\n", HttpClientError::UnframedBody),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                HttpClientError::Malformed,
            ),
            (b"NOPE\r\n\r\n", HttpClientError::Malformed),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                HttpClientError::BadChunk,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
                HttpClientError::BadChunk,
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(
                read_response(raw),
                Err(*want),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn request_writer() {
        let mut out = Vec::new();
        write_request(
            &mut out,
            "POST",
            "h:1",
            "/api",
            &[("Authorization", "Bearer k")],
            b"{}",
        );
        assert_eq!(
            out,
            b"POST /api HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n\r\n{}"
        );
        out.clear();
        write_request(&mut out, "GET", "h:1", "/x?a=1", &[], b"");
        assert_eq!(out, b"GET /x?a=1 HTTP/1.1\r\nHost: h:1\r\n\r\n");
    }
}
