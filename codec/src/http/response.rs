//! Response heads (RFC 9112 §4) and Engine.IO's HTTP error bodies.

/// Appends `HTTP/1.1 101 Switching Protocols` with `Upgrade`, `Connection` and
/// `Sec-WebSocket-Accept` (RFC 6455 §4.2.2 step 5). No `Content-Length`: a 1xx response has
/// no content (RFC 9110 §8.6).
pub fn write_switching_protocols(out: &mut Vec<u8>, accept: &[u8; 28]) {
    write_switching_protocols_with(out, accept, None);
}

/// [`write_switching_protocols`], answering a permessage-deflate offer with `deflate` (RFC 7692
/// §5: the accepted extension in `Sec-WebSocket-Extensions`).
pub fn write_switching_protocols_with(
    out: &mut Vec<u8>,
    accept: &[u8; 28],
    deflate: Option<&crate::ws::Agreement>,
) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept);
    out.extend_from_slice(b"\r\n");
    if let Some(agreement) = deflate {
        agreement.write_header(out);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a whole response: status line, `Content-Type`, `Content-Length`, `extra` headers
/// (written as `name: value`), blank line, body. `keep_alive == false` adds `Connection: close`.
///
/// An empty `content_type` writes no `Content-Type`. 1xx, 204 and 304 responses get no
/// `Content-Length` (RFC 9110 §8.6) and must have an empty body (checked in debug builds).
pub fn write_response(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    keep_alive: bool,
    body: &[u8],
) {
    debug_assert!(
        may_have_content(status) || body.is_empty(),
        "status {status} has no content"
    );
    out.reserve(128 + body.len());
    write_response_head(out, status, content_type, extra, keep_alive, body.len());
    out.extend_from_slice(body);
}

/// Like [`write_response`] without the body: the caller appends exactly `content_length` bytes.
///
/// Header names and values come from the server, never straight from a client, but a CR or
/// LF in one would let its source inject headers (response splitting), so such an `extra`
/// header is dropped (and asserted against in debug builds). Values reflected from a request
/// (an `Origin`, say) cannot contain either: the request parser rejects them.
pub fn write_response_head(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    keep_alive: bool,
    content_length: usize,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    write_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason_phrase(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    if !content_type.is_empty() {
        write_header(out, "Content-Type", content_type);
    }
    if may_have_content(status) {
        out.extend_from_slice(b"Content-Length: ");
        write_decimal(out, content_length as u64);
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in extra {
        write_header(out, name, value);
    }
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// The standard reason phrase for `status` (`"OK"`, `"Bad Request"`, ...).
///
/// `""` for a code not listed: RFC 9112 §4 allows an empty reason
/// (`status-line = HTTP-version SP status-code SP [ reason-phrase ]`) and "A client SHOULD
/// ignore the reason-phrase content".
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Engine.IO's HTTP error codes and their JSON bodies (`{"code":0,"message":"Transport unknown"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EioErrorCode {
    TransportUnknown = 0,
    SessionIdUnknown = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}

impl EioErrorCode {
    /// The message of the JSON body, e.g. `"Transport unknown"`.
    pub fn message(self) -> &'static str {
        match self {
            EioErrorCode::TransportUnknown => "Transport unknown",
            EioErrorCode::SessionIdUnknown => "Session ID unknown",
            EioErrorCode::BadHandshakeMethod => "Bad handshake method",
            EioErrorCode::BadRequest => "Bad request",
            EioErrorCode::Forbidden => "Forbidden",
            EioErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
    /// 403 for `Forbidden`, 400 otherwise.
    pub fn status(self) -> u16 {
        match self {
            EioErrorCode::Forbidden => 403,
            _ => 400,
        }
    }
    /// The whole JSON body, exactly as the reference server writes it (no spaces).
    pub fn body(self) -> &'static str {
        match self {
            EioErrorCode::TransportUnknown => r#"{"code":0,"message":"Transport unknown"}"#,
            EioErrorCode::SessionIdUnknown => r#"{"code":1,"message":"Session ID unknown"}"#,
            EioErrorCode::BadHandshakeMethod => r#"{"code":2,"message":"Bad handshake method"}"#,
            EioErrorCode::BadRequest => r#"{"code":3,"message":"Bad request"}"#,
            EioErrorCode::Forbidden => r#"{"code":4,"message":"Forbidden"}"#,
            EioErrorCode::UnsupportedProtocolVersion => {
                r#"{"code":5,"message":"Unsupported protocol version"}"#
            }
        }
    }
}

/// Appends the Engine.IO error response: status per [`EioErrorCode::status`], JSON body.
pub fn write_eio_error(
    out: &mut Vec<u8>,
    code: EioErrorCode,
    extra: &[(&str, &str)],
    keep_alive: bool,
) {
    write_response(
        out,
        code.status(),
        "application/json",
        extra,
        keep_alive,
        code.body().as_bytes(),
    );
}

/// RFC 9110 §6.4.1: "All 1xx (Informational), 204 (No Content), and 304 (Not Modified)
/// responses do not include content."
fn may_have_content(status: u16) -> bool {
    !matches!(status, 100..=199 | 204 | 304)
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &str) {
    let splits = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n');
    if splits(name) || splits(value) {
        debug_assert!(false, "CR or LF in response header {name:?}");
        return;
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Decimal without going through `fmt` (no allocation, no formatter machinery).
fn write_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20]; // u64::MAX has 20 digits
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(out: &[u8]) -> &str {
        std::str::from_utf8(out).expect("responses are ASCII")
    }

    #[test]
    fn switching_protocols() {
        let mut out = Vec::new();
        write_switching_protocols(&mut out, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(
            text(&out),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        );
    }

    /// `(name, status, content type, extra headers, keep-alive, body, expected response)`.
    type ResponseCase<'a> = (
        &'a str,
        u16,
        &'a str,
        &'a [(&'a str, &'a str)],
        bool,
        &'a [u8],
        &'a str,
    );

    #[rustfmt::skip]
    #[test]
    fn response_table() {
        let cors: &[(&str, &str)] = &[("Access-Control-Allow-Origin", "https://a.example"), ("Vary", "Origin")];
        let cases: &[ResponseCase<'_>] = &[
            ("plain 200", 200, "text/plain; charset=UTF-8", &[], true, b"ok",
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 2\r\n\r\nok"),
            ("close + extra", 400, "application/json", cors, false, b"{}",
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
                 Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\nConnection: close\r\n\r\n{}"),
            ("empty body", 404, "text/plain", &[], true, b"",
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"),
            ("204 has no length", 204, "text/plain", cors, true, b"",
                "HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\
                 Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\n\r\n"),
            ("no content type", 503, "", &[], false, b"x",
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"),
            ("unknown status", 599, "text/plain", &[], true, b"",
                "HTTP/1.1 599 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"),
        ];
        for (name, status, content_type, extra, keep_alive, body, expected) in cases {
            let mut out = b"previous".to_vec();
            write_response(&mut out, *status, content_type, extra, *keep_alive, body);
            assert_eq!(text(&out[8..]), *expected, "{name}");
            assert_eq!(&out[..8], b"previous", "{name}: appends");
        }
    }

    #[test]
    fn response_head_announces_the_length_the_caller_appends() {
        let mut out = Vec::new();
        write_response_head(
            &mut out,
            200,
            "application/octet-stream",
            &[],
            true,
            1_234_567,
        );
        assert_eq!(
            text(&out),
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1234567\r\n\r\n"
        );
    }

    #[rustfmt::skip]
    #[test]
    fn engine_io_errors() {
        let cases = [
            (EioErrorCode::TransportUnknown,           400, r#"{"code":0,"message":"Transport unknown"}"#),
            (EioErrorCode::SessionIdUnknown,           400, r#"{"code":1,"message":"Session ID unknown"}"#),
            (EioErrorCode::BadHandshakeMethod,         400, r#"{"code":2,"message":"Bad handshake method"}"#),
            (EioErrorCode::BadRequest,                 400, r#"{"code":3,"message":"Bad request"}"#),
            (EioErrorCode::Forbidden,                  403, r#"{"code":4,"message":"Forbidden"}"#),
            (EioErrorCode::UnsupportedProtocolVersion, 400, r#"{"code":5,"message":"Unsupported protocol version"}"#),
        ];
        for (code, status, body) in cases {
            assert_eq!(code.status(), status, "{code:?}");
            assert_eq!(code.body(), body, "{code:?}");
            assert_eq!(code.body(), format!(r#"{{"code":{},"message":"{}"}}"#, code as u8, code.message()), "{code:?}");
            let mut out = Vec::new();
            write_eio_error(&mut out, code, &[("Vary", "Origin")], true);
            let expected = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nVary: Origin\r\n\r\n{body}",
                reason_phrase(status), body.len());
            assert_eq!(text(&out), expected, "{code:?}");
        }
    }

    #[rustfmt::skip]
    #[test]
    fn reason_phrases() {
        let cases = [(101, "Switching Protocols"), (200, "OK"), (204, "No Content"), (400, "Bad Request"),
            (403, "Forbidden"), (404, "Not Found"), (405, "Method Not Allowed"), (413, "Content Too Large"),
            (426, "Upgrade Required"), (431, "Request Header Fields Too Large"), (500, "Internal Server Error"),
            (503, "Service Unavailable"), (0, ""), (999, "")];
        for (status, phrase) in cases {
            assert_eq!(reason_phrase(status), phrase, "{status}");
        }
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 99, 100, 65_535, u64::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, n);
            assert_eq!(text(&out), n.to_string());
        }
    }

    /// Release builds drop a header that would split the response.
    #[cfg(not(debug_assertions))]
    #[test]
    fn header_with_crlf_is_dropped() {
        let mut out = Vec::new();
        write_response(
            &mut out,
            200,
            "text/plain",
            &[("X-A", "1\r\nSet-Cookie: evil"), ("X-B", "2")],
            true,
            b"",
        );
        assert_eq!(
            text(&out),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nX-B: 2\r\n\r\n"
        );
    }

    /// Debug builds stop at the bug instead.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "CR or LF in response header")]
    fn header_with_crlf_asserts() {
        write_response(
            &mut Vec::new(),
            200,
            "text/plain",
            &[("X-A", "1\r\nSet-Cookie: evil")],
            true,
            b"",
        );
    }
}
