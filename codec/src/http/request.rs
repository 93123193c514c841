//! Request heads (RFC 9112 §3, §5) and the WebSocket opening handshake (RFC 6455 §4.2).

use std::mem::MaybeUninit;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{HttpError, Limits};
use crate::Status;

/// RFC 6455 §1.3: the GUID appended to the key before hashing.
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Header slots kept on the stack (64 × 32 bytes = 2 KiB); larger limits use the heap.
const STACK_HEADERS: usize = 64;

/// The request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Options,
    Head,
    Put,
    Delete,
    Patch,
    Other,
}

/// A parsed request head; every field borrows from the input buffer.
///
/// Header names match case-insensitively (RFC 9110 §5.1). When a field appears more than
/// once, the first occurrence is kept, except: `Content-Length` lines must all agree (RFC 9112
/// §6.3 lets a recipient reject differing ones, and request smuggling lives in that gap),
/// `Sec-WebSocket-Key` must appear at most once (RFC 6455 §11.3.1: "MUST NOT appear more than
/// once in an HTTP request"), and every `Connection` line counts for `keep_alive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: Method,
    /// The path without the query string, e.g. `/ws/`. An absolute-form target
    /// (`http://host/ws/?EIO=4`, RFC 9112 §3.2.2) is reduced to its path (`/` when empty).
    pub path: &'a str,
    /// The raw query string after `?` (empty when absent).
    pub query: &'a str,
    /// HTTP/1.0 (`0`) or HTTP/1.1 (`1`).
    pub version: u8,
    /// Whether the connection stays open after the response (HTTP/1.1 default, `Connection: close`,
    /// HTTP/1.0 without `keep-alive`).
    pub keep_alive: bool,
    pub upgrade: Option<&'a [u8]>,
    pub connection: Option<&'a [u8]>,
    pub ws_key: Option<&'a [u8]>,
    pub ws_version: Option<&'a [u8]>,
    pub ws_protocol: Option<&'a [u8]>,
    pub ws_extensions: Option<&'a [u8]>,
    pub origin: Option<&'a [u8]>,
    pub content_length: Option<u64>,
    pub content_type: Option<&'a [u8]>,
    pub authorization: Option<&'a [u8]>,
    pub x_forwarded_for: Option<&'a [u8]>,
    /// `Access-Control-Request-Method` / `-Headers` (CORS preflight).
    pub acr_method: Option<&'a [u8]>,
    pub acr_headers: Option<&'a [u8]>,
    /// Length of the head in bytes, including the final CRLF CRLF: the body starts here.
    pub head_len: usize,
}

impl<'a> Request<'a> {
    /// The first value of query parameter `name` (not percent-decoded; Engine.IO's
    /// `EIO`, `transport`, `sid`, `t` never need it). A parameter without `=` has the value `""`.
    pub fn query_param(&self, name: &str) -> Option<&'a str> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then_some(value)
        })
    }
    /// `EIO` query parameter.
    pub fn eio(&self) -> Option<&'a str> {
        self.query_param("EIO")
    }
    /// `transport` query parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.query_param("transport")
    }
    /// `sid` query parameter.
    pub fn sid(&self) -> Option<&'a str> {
        self.query_param("sid")
    }
    /// True when the head asks for a WebSocket upgrade (`Upgrade: websocket`, case-insensitive).
    pub fn wants_websocket(&self) -> bool {
        self.upgrade.is_some_and(|u| has_token(u, b"websocket"))
    }
}

/// Parses a request head from the start of `buf`.
///
/// `Ok(Status::Partial)` means the head is not complete yet (and is still within limits).
///
/// Only the first [`Limits::max_head`] bytes are ever looked at: a head that has not ended
/// by then is [`HttpError::HeadTooLarge`], however much more the caller has buffered, so a
/// client cannot make the server re-scan an ever-growing head. More than
/// [`Limits::max_headers`] fields is [`HttpError::TooManyHeaders`], reported as soon as the
/// extra field is seen. Syntax is `httparse`'s (strict: no obs-fold, no bare LF inside
/// tokens), and a head that parses is then checked field by field: `Content-Length` must be
/// digits only (so `42, 42` is rejected too), and `Transfer-Encoding` is
/// [`HttpError::ChunkedBody`] (RFC 9112 §6.1: a server that receives it must decode the
/// chunked framing or reject the request; we reject).
pub fn parse_request<'a>(buf: &'a [u8], limits: &Limits) -> Result<Status<Request<'a>>, HttpError> {
    let window = &buf[..buf.len().min(limits.max_head)];
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
    let mut heap = Vec::new();
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if limits.max_headers <= STACK_HEADERS {
        &mut stack[..limits.max_headers]
    } else {
        heap.resize_with(limits.max_headers, MaybeUninit::uninit);
        &mut heap
    };
    let mut parsed = httparse::Request::new(&mut []);
    let head_len = match parsed.parse_with_uninit_headers(window, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if window.len() < limits.max_head => {
            return Ok(Status::Partial);
        }
        Ok(httparse::Status::Partial) => return Err(HttpError::HeadTooLarge),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::TooManyHeaders),
        Err(_) => return Err(HttpError::Malformed),
    };
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(HttpError::Malformed);
    };
    let (path, query) = split_target(target);
    let mut req = Request {
        method: method_from(method),
        path,
        query,
        version,
        keep_alive: false,
        upgrade: None,
        connection: None,
        ws_key: None,
        ws_version: None,
        ws_protocol: None,
        ws_extensions: None,
        origin: None,
        content_length: None,
        content_type: None,
        authorization: None,
        x_forwarded_for: None,
        acr_method: None,
        acr_headers: None,
        head_len,
    };
    let (mut close, mut keep_alive) = (false, false);
    for header in parsed.headers.iter() {
        let name = header.name;
        let value = header.value.trim_ascii();
        if name.eq_ignore_ascii_case("content-length") {
            let n = parse_content_length(value)?;
            if req.content_length.is_some_and(|prev| prev != n) {
                return Err(HttpError::BadHeaderValue);
            }
            req.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::ChunkedBody);
        } else if name.eq_ignore_ascii_case("connection") {
            // RFC 9112 §9.3: HTTP/1.1 persists unless "close" is listed; HTTP/1.0 persists
            // only with "keep-alive" (§C.2.2). "close" wins over anything else.
            close |= has_token(value, b"close");
            keep_alive |= has_token(value, b"keep-alive");
            req.connection.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            if req.ws_key.replace(value).is_some() {
                return Err(HttpError::BadHeaderValue);
            }
        } else {
            let slot = match name.len() {
                6 if name.eq_ignore_ascii_case("origin") => &mut req.origin,
                7 if name.eq_ignore_ascii_case("upgrade") => &mut req.upgrade,
                12 if name.eq_ignore_ascii_case("content-type") => &mut req.content_type,
                13 if name.eq_ignore_ascii_case("authorization") => &mut req.authorization,
                15 if name.eq_ignore_ascii_case("x-forwarded-for") => &mut req.x_forwarded_for,
                21 if name.eq_ignore_ascii_case("sec-websocket-version") => &mut req.ws_version,
                22 if name.eq_ignore_ascii_case("sec-websocket-protocol") => &mut req.ws_protocol,
                24 if name.eq_ignore_ascii_case("sec-websocket-extensions") => {
                    &mut req.ws_extensions
                }
                29 if name.eq_ignore_ascii_case("access-control-request-method") => {
                    &mut req.acr_method
                }
                30 if name.eq_ignore_ascii_case("access-control-request-headers") => {
                    &mut req.acr_headers
                }
                _ => continue,
            };
            slot.get_or_insert(value);
        }
    }
    req.keep_alive = !close && (version >= 1 || keep_alive);
    Ok(Status::Complete(req))
}

/// Checks an upgrade request per RFC 6455 §4.2.1 and returns the `Sec-WebSocket-Accept` value.
///
/// In order: "An HTTP/1.1 or higher GET request" ([`HttpError::UpgradeNotGet`], then
/// [`HttpError::NotAnUpgrade`] for HTTP/1.0); "An |Upgrade| header field containing the value
/// "websocket", treated as an ASCII case-insensitive value"; "A |Connection| header field that
/// includes the token "Upgrade", treated as an ASCII case-insensitive value" (both
/// [`HttpError::NotAnUpgrade`]); "A |Sec-WebSocket-Version| header field, with a value of 13"
/// ([`HttpError::UnsupportedWsVersion`], also when missing: pre-RFC drafts such as hixie-76
/// send none, and 426 with `Sec-WebSocket-Version: 13` is the answer that tells them what to
/// speak; the caller adds that header); "A |Sec-WebSocket-Key| header field with a
/// base64-encoded value that, when decoded, is 16 bytes in length" ([`HttpError::BadWsKey`]).
pub fn validate_websocket_upgrade(req: &Request<'_>) -> Result<[u8; 28], HttpError> {
    if req.method != Method::Get {
        return Err(HttpError::UpgradeNotGet);
    }
    if req.version < 1
        || !req.wants_websocket()
        || !req.connection.is_some_and(|c| has_token(c, b"upgrade"))
    {
        return Err(HttpError::NotAnUpgrade);
    }
    if req.ws_version != Some(b"13") {
        return Err(HttpError::UnsupportedWsVersion);
    }
    let key = req.ws_key.ok_or(HttpError::BadWsKey)?;
    // 16 bytes are 24 base64 characters, the last two `==`. Decoding into 18 bytes (the
    // decoder's worst-case estimate for 24 characters) must yield exactly 16; the strict
    // engine also rejects non-canonical padding and trailing bits.
    let mut decoded = [0u8; 18];
    if key.len() != 24 || BASE64.decode_slice(key, &mut decoded) != Ok(16) {
        return Err(HttpError::BadWsKey);
    }
    Ok(websocket_accept(key))
}

/// `base64(sha1(key ++ "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))` (RFC 6455 §4.2.2).
pub fn websocket_accept(key: &[u8]) -> [u8; 28] {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key);
    sha1.update(WS_GUID);
    let digest = sha1.digest().bytes();
    // 20 bytes always encode to exactly 28 characters (with one `=`), so this cannot fail.
    let mut accept = [0u8; 28];
    let written = BASE64.encode_slice(digest, &mut accept);
    debug_assert_eq!(written, Ok(28));
    accept
}

/// RFC 9110 §9.1: "The method token is case-sensitive".
fn method_from(method: &str) -> Method {
    match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "OPTIONS" => Method::Options,
        "HEAD" => Method::Head,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        _ => Method::Other,
    }
}

/// Splits a request-target into path and query, reducing absolute-form to origin-form.
fn split_target(target: &str) -> (&str, &str) {
    let origin_form = match target.find("://") {
        Some(i) if i > 0 && target[..i].bytes().all(|b| b.is_ascii_alphabetic()) => {
            let rest = &target[i + 3..];
            &rest[rest.find(['/', '?']).unwrap_or(rest.len())..]
        }
        _ => target,
    };
    let (path, query) = origin_form.split_once('?').unwrap_or((origin_form, ""));
    (if path.is_empty() { "/" } else { path }, query)
}

/// RFC 9110 §8.6: `Content-Length = 1*DIGIT`; anything else, or a value beyond u64, is an error.
fn parse_content_length(value: &[u8]) -> Result<u64, HttpError> {
    if value.is_empty() {
        return Err(HttpError::BadHeaderValue);
    }
    value.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return Err(HttpError::BadHeaderValue);
        }
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(HttpError::BadHeaderValue)
    })
}

/// Whether a comma-separated list (`keep-alive, Upgrade`) contains `token`, ignoring ASCII case
/// and optional whitespace (RFC 9110 §5.6.1).
fn has_token(list: &[u8], token: &[u8]) -> bool {
    list.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &[u8] = b"GET /ws/?EIO=4&transport=websocket HTTP/1.1\r\n\
        Host: example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\
        Origin: http://example.com\r\n\r\n";

    fn parse(head: &[u8]) -> Result<Status<Request<'_>>, HttpError> {
        parse_request(head, &Limits::default())
    }

    fn complete(head: &[u8]) -> Request<'_> {
        match parse(head) {
            Ok(Status::Complete(req)) => req,
            other => panic!("expected a complete head, got {other:?}"),
        }
    }

    #[test]
    fn rfc_6455_accept_example() {
        // §1.3: "dGhlIHNhbXBsZSBub25jZQ==" → "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
        assert_eq!(
            &websocket_accept(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn upgrade_head_fields() {
        let req = complete(UPGRADE);
        assert_eq!(req.method, Method::Get);
        assert_eq!(
            (req.path, req.query, req.version, req.keep_alive),
            ("/ws/", "EIO=4&transport=websocket", 1, true)
        );
        assert_eq!(req.upgrade, Some(&b"websocket"[..]));
        assert_eq!(req.connection, Some(&b"Upgrade"[..]));
        assert_eq!(req.ws_key, Some(&b"dGhlIHNhbXBsZSBub25jZQ=="[..]));
        assert_eq!(req.ws_version, Some(&b"13"[..]));
        assert_eq!(req.origin, Some(&b"http://example.com"[..]));
        assert_eq!(req.head_len, UPGRADE.len());
        assert_eq!(
            (req.eio(), req.transport(), req.sid()),
            (Some("4"), Some("websocket"), None)
        );
        assert!(req.wants_websocket());
        assert_eq!(
            validate_websocket_upgrade(&req),
            Ok(*b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
    }

    #[test]
    fn every_other_field_and_the_body_offset() {
        let head = b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n\
            content-type: text/plain;charset=UTF-8\r\n\
            CONTENT-LENGTH: 5\r\n\
            Authorization: Bearer x.y.z\r\n\
            X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n\
            Access-Control-Request-Method: POST\r\n\
            Access-Control-Request-Headers: authorization\r\n\
            Sec-WebSocket-Protocol: chat\r\n\
            Sec-WebSocket-Extensions: permessage-deflate\r\n\r\nhello";
        let req = complete(head);
        assert_eq!(req.method, Method::Post);
        assert_eq!(req.sid(), Some("abc"));
        assert_eq!(req.content_type, Some(&b"text/plain;charset=UTF-8"[..]));
        assert_eq!(req.content_length, Some(5));
        assert_eq!(req.authorization, Some(&b"Bearer x.y.z"[..]));
        assert_eq!(req.x_forwarded_for, Some(&b"10.0.0.1, 10.0.0.2"[..]));
        assert_eq!(req.acr_method, Some(&b"POST"[..]));
        assert_eq!(req.acr_headers, Some(&b"authorization"[..]));
        assert_eq!(req.ws_protocol, Some(&b"chat"[..]));
        assert_eq!(req.ws_extensions, Some(&b"permessage-deflate"[..]));
        assert_eq!(&head[req.head_len..], b"hello");
        assert!(!req.wants_websocket());
    }

    #[rustfmt::skip]
    #[test]
    fn request_line_table() {
        // (request line, method, path, query, version, keep_alive)
        let cases: &[(&str, Method, &str, &str, u8, bool)] = &[
            ("GET / HTTP/1.1",                       Method::Get,     "/",     "",         1, true),
            ("GET /a?b HTTP/1.0",                    Method::Get,     "/a",    "b",        0, false),
            ("OPTIONS /x HTTP/1.1",                  Method::Options, "/x",    "",         1, true),
            ("HEAD /x HTTP/1.1",                     Method::Head,    "/x",    "",         1, true),
            ("PUT /x HTTP/1.1",                      Method::Put,     "/x",    "",         1, true),
            ("DELETE /x HTTP/1.1",                   Method::Delete,  "/x",    "",         1, true),
            ("PATCH /x HTTP/1.1",                    Method::Patch,   "/x",    "",         1, true),
            ("get / HTTP/1.1",                       Method::Other,   "/",     "",         1, true),
            ("BREW /pot HTTP/1.1",                   Method::Other,   "/pot",  "",         1, true),
            ("GET /p?a=1?b=2 HTTP/1.1",              Method::Get,     "/p",    "a=1?b=2",  1, true),
            ("GET http://h:80/ws/?EIO=4 HTTP/1.1",   Method::Get,     "/ws/",  "EIO=4",    1, true),
            ("GET https://h HTTP/1.1",               Method::Get,     "/",     "",         1, true),
            ("GET http://h?x=1 HTTP/1.1",            Method::Get,     "/",     "x=1",      1, true),
            ("OPTIONS * HTTP/1.1",                   Method::Options, "*",     "",         1, true),
        ];
        for (line, method, path, query, version, keep_alive) in cases {
            let head = format!("{line}\r\nHost: h\r\n\r\n");
            let req = complete(head.as_bytes());
            assert_eq!((req.method, req.path, req.query, req.version, req.keep_alive),
                (*method, *path, *query, *version, *keep_alive), "{line}");
        }
    }

    #[rustfmt::skip]
    #[test]
    fn keep_alive_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("HTTP/1.1", "",                                        true),
            ("HTTP/1.1", "Connection: close\r\n",                   false),
            ("HTTP/1.1", "Connection: Keep-Alive, CLOSE\r\n",       false),
            ("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n", false),
            ("HTTP/1.1", "Connection: closed\r\n",                  true),
            ("HTTP/1.0", "",                                        false),
            ("HTTP/1.0", "Connection: keep-alive\r\n",              true),
            ("HTTP/1.0", "Connection: Upgrade , Keep-Alive\r\n",    true),
            ("HTTP/1.0", "Connection: keep-alive, close\r\n",       false),
        ];
        for (version, headers, keep_alive) in cases {
            let head = format!("GET / {version}\r\n{headers}\r\n");
            assert_eq!(complete(head.as_bytes()).keep_alive, *keep_alive, "{version} {headers:?}");
        }
    }

    #[rustfmt::skip]
    #[test]
    fn query_param_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("EIO=4&transport=polling", "transport", Some("polling")),
            ("EIO=4&transport=polling", "EIO",       Some("4")),
            ("EIO=4&transport=polling", "eio",       None),
            ("a=1&a=2",                 "a",         Some("1")),
            ("flag&x=",                 "flag",      Some("")),
            ("flag&x=",                 "x",         Some("")),
            ("sid=a=b",                 "sid",       Some("a=b")),
            ("",                        "EIO",       None),
            ("xEIO=4",                  "EIO",       None),
            ("t=NQ%2Dx",                "t",         Some("NQ%2Dx")),
        ];
        for (query, name, expected) in cases {
            let head = format!("GET /?{query} HTTP/1.1\r\n\r\n");
            assert_eq!(complete(head.as_bytes()).query_param(name), *expected, "{query} {name}");
        }
    }

    #[rustfmt::skip]
    #[test]
    fn head_errors_table() {
        let many: String = (0..65).map(|i| format!("X-{i}: v\r\n")).collect();
        let cases: Vec<(&str, String, HttpError)> = vec![
            ("not http",                 "HELLO\r\n\r\n".into(),                                          HttpError::Malformed),
            ("http/2 preface",           "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".into(),                       HttpError::Malformed),
            ("space in header name",     "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n".into(),                  HttpError::Malformed),
            ("obs-fold",                 "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n".into(),                   HttpError::Malformed),
            ("65 headers",               format!("GET / HTTP/1.1\r\n{many}\r\n"),                         HttpError::TooManyHeaders),
            ("content-length letters",   "POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n".into(),         HttpError::BadHeaderValue),
            ("content-length negative",  "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n".into(),          HttpError::BadHeaderValue),
            ("content-length empty",     "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n".into(),              HttpError::BadHeaderValue),
            ("content-length list",      "POST / HTTP/1.1\r\nContent-Length: 4, 4\r\n\r\n".into(),         HttpError::BadHeaderValue),
            ("content-length overflow",  "POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n".into(), HttpError::BadHeaderValue),
            ("content-length differs",   "POST / HTTP/1.1\r\nContent-Length: 4\r\ncontent-length: 5\r\n\r\n".into(), HttpError::BadHeaderValue),
            ("two websocket keys",       "GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: a\r\n\r\n".into(), HttpError::BadHeaderValue),
            ("chunked",                  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".into(),   HttpError::ChunkedBody),
            ("any transfer-encoding",    "POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\nContent-Length: 3\r\n\r\n".into(), HttpError::ChunkedBody),
        ];
        for (name, head, error) in cases {
            assert_eq!(parse(head.as_bytes()), Err(error), "{name}");
        }
    }

    #[test]
    fn identical_content_lengths_are_accepted() {
        let req = complete(b"POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n");
        assert_eq!(req.content_length, Some(7));
        assert_eq!(
            complete(b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n")
                .content_length,
            Some(u64::MAX)
        );
    }

    #[test]
    fn first_occurrence_wins_for_plain_fields() {
        let req = complete(b"GET / HTTP/1.1\r\nOrigin: a\r\nOrigin: b\r\nConnection: Upgrade\r\nConnection: x\r\n\r\n");
        assert_eq!(
            (req.origin, req.connection),
            (Some(&b"a"[..]), Some(&b"Upgrade"[..]))
        );
    }

    #[test]
    fn every_prefix_of_a_head_is_partial() {
        for cut in 0..UPGRADE.len() {
            assert_eq!(parse(&UPGRADE[..cut]), Ok(Status::Partial), "cut at {cut}");
        }
    }

    #[test]
    fn head_size_limit() {
        let limits = |max_head| Limits {
            max_head,
            max_headers: 64,
        };
        let n = UPGRADE.len();
        // Exactly at the limit: fine, even with body bytes after it.
        let mut with_body = UPGRADE.to_vec();
        with_body.extend_from_slice(&[b'x'; 100]);
        assert!(
            matches!(parse_request(&with_body, &limits(n)), Ok(Status::Complete(r)) if r.head_len == n)
        );
        // One byte over: the head has not ended within the limit.
        assert_eq!(
            parse_request(UPGRADE, &limits(n - 1)),
            Err(HttpError::HeadTooLarge)
        );
        // Partial only while under the limit.
        assert_eq!(
            parse_request(&UPGRADE[..n - 2], &limits(n - 1)),
            Ok(Status::Partial)
        );
        assert_eq!(
            parse_request(&UPGRADE[..n - 1], &limits(n - 1)),
            Err(HttpError::HeadTooLarge)
        );
        // The default: 16 KiB of one header value.
        let huge = format!("GET / HTTP/1.1\r\nCookie: {}", "a".repeat(16 * 1024));
        assert_eq!(parse(huge.as_bytes()), Err(HttpError::HeadTooLarge));
        assert_eq!(
            parse(&huge.as_bytes()[..16 * 1024 - 1]),
            Ok(Status::Partial)
        );
    }

    #[test]
    fn header_count_limit_above_the_stack_slots() {
        let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
        let head = format!("GET / HTTP/1.1\r\n{many}\r\n");
        let at = |max_headers| {
            parse_request(
                head.as_bytes(),
                &Limits {
                    max_head: 16 * 1024,
                    max_headers,
                },
            )
        };
        assert!(matches!(at(100), Ok(Status::Complete(_))));
        assert!(matches!(at(256), Ok(Status::Complete(_))));
        assert_eq!(at(99), Err(HttpError::TooManyHeaders));
        assert_eq!(at(0), Err(HttpError::TooManyHeaders));
    }

    #[rustfmt::skip]
    #[test]
    fn upgrade_validation_table() {
        let base = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
        let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        let cases: Vec<(&str, String, Result<(), HttpError>)> = vec![
            ("ok",                   format!("GET / HTTP/1.1\r\n{base}{key}"), Ok(())),
            ("case-insensitive",     format!("GET / HTTP/1.1\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\nsec-websocket-version: 13\r\n{key}"), Ok(())),
            ("upgrade token list",   format!("GET / HTTP/1.1\r\nUpgrade: h2c, websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{key}"), Ok(())),
            ("POST",                 format!("POST / HTTP/1.1\r\n{base}{key}"), Err(HttpError::UpgradeNotGet)),
            ("HTTP/1.0",             format!("GET / HTTP/1.0\r\n{base}{key}"), Err(HttpError::NotAnUpgrade)),
            ("no Upgrade",           format!("GET / HTTP/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{key}"), Err(HttpError::NotAnUpgrade)),
            ("Upgrade: h2c",         format!("GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{key}"), Err(HttpError::NotAnUpgrade)),
            ("no Connection",        format!("GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n{key}"), Err(HttpError::NotAnUpgrade)),
            ("Connection: keep-alive", format!("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Version: 13\r\n{key}"), Err(HttpError::NotAnUpgrade)),
            ("version 8",            format!("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n{key}"), Err(HttpError::UnsupportedWsVersion)),
            ("no version",           format!("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{key}"), Err(HttpError::UnsupportedWsVersion)),
            ("no key",               format!("GET / HTTP/1.1\r\n{base}"), Err(HttpError::BadWsKey)),
            ("key of 15 bytes",      format!("GET / HTTP/1.1\r\n{base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n"), Err(HttpError::BadWsKey)),
            ("key of 17 bytes",      format!("GET / HTTP/1.1\r\n{base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQA=\r\n"), Err(HttpError::BadWsKey)),
            ("key not base64",       format!("GET / HTTP/1.1\r\n{base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!\r\n"), Err(HttpError::BadWsKey)),
            ("key without padding",  format!("GET / HTTP/1.1\r\n{base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n"), Err(HttpError::BadWsKey)),
            ("key with trailing bits", format!("GET / HTTP/1.1\r\n{base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"), Err(HttpError::BadWsKey)),
        ];
        for (name, head, expected) in cases {
            let head = format!("{head}\r\n");
            let req = complete(head.as_bytes());
            assert_eq!(validate_websocket_upgrade(&req).map(|_| ()), expected, "{name}");
        }
    }
}
