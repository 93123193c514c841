//! HTTP/1.1 request heads and response heads (RFC 9112), and the RFC 6455 §4.2 upgrade.
//!
//! CONTRACT (the server codes against these signatures; keep them):
//! - [`parse_request`] borrows everything from the caller's buffer.
//! - Response writers append to a caller's `Vec<u8>` and always write `Content-Length`.

use crate::Status;

/// Limits applied while parsing a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of the head, request line through the blank line (default 16 KiB).
    pub max_head: usize,
    /// Maximum number of header fields (default 64).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head: 16 * 1024, max_headers: 64 }
    }
}

/// Why a request head or upgrade was rejected. Each maps to an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// The head exceeds [`Limits::max_head`] → 431.
    HeadTooLarge,
    /// More than [`Limits::max_headers`] fields → 431.
    TooManyHeaders,
    /// Not an HTTP/1.x request head → 400.
    Malformed,
    /// A header value that must be a number or token is not (Content-Length, ...) → 400.
    BadHeaderValue,
    /// `Transfer-Encoding` on a request: not supported → 411? no: 400 (we need Content-Length).
    ChunkedBody,
    /// A WebSocket upgrade that is not a GET → 405... Engine.IO answers 400.
    UpgradeNotGet,
    /// `Upgrade: websocket` / `Connection: upgrade` missing or wrong → 400.
    NotAnUpgrade,
    /// `Sec-WebSocket-Version` is not 13 → 426 with `Sec-WebSocket-Version: 13`.
    UnsupportedWsVersion,
    /// `Sec-WebSocket-Key` missing or not 16 bytes of base64 → 400.
    BadWsKey,
}

impl HttpError {
    /// The HTTP status code this error is answered with.
    pub fn status(self) -> u16 {
        unimplemented!()
    }
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: Method,
    /// The path without the query string, e.g. `/ws/`.
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
    /// `EIO`, `transport`, `sid`, `t` never need it).
    pub fn query_param(&self, name: &str) -> Option<&'a str> {
        let _ = name;
        unimplemented!()
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
        unimplemented!()
    }
}

/// Parses a request head from the start of `buf`.
///
/// `Ok(Status::Partial)` means the head is not complete yet (and is still within limits).
pub fn parse_request<'a>(buf: &'a [u8], limits: &Limits) -> Result<Status<Request<'a>>, HttpError> {
    let _ = (buf, limits);
    unimplemented!()
}

/// Checks an upgrade request per RFC 6455 §4.2.1 and returns the `Sec-WebSocket-Accept` value.
pub fn validate_websocket_upgrade(req: &Request<'_>) -> Result<[u8; 28], HttpError> {
    let _ = req;
    unimplemented!()
}

/// `base64(sha1(key ++ "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))` (RFC 6455 §4.2.2).
pub fn websocket_accept(key: &[u8]) -> [u8; 28] {
    let _ = key;
    unimplemented!()
}

/// Appends `HTTP/1.1 101 Switching Protocols` with `Upgrade`, `Connection` and
/// `Sec-WebSocket-Accept`.
pub fn write_switching_protocols(out: &mut Vec<u8>, accept: &[u8; 28]) {
    let _ = (out, accept);
    unimplemented!()
}

/// Appends a whole response: status line, `Content-Type`, `Content-Length`, `extra` headers
/// (written as `name: value`), blank line, body. `keep_alive == false` adds `Connection: close`.
pub fn write_response(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    keep_alive: bool,
    body: &[u8],
) {
    let _ = (out, status, content_type, extra, keep_alive, body);
    unimplemented!()
}

/// Like [`write_response`] without the body: the caller appends exactly `content_length` bytes.
pub fn write_response_head(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    keep_alive: bool,
    content_length: usize,
) {
    let _ = (out, status, content_type, extra, keep_alive, content_length);
    unimplemented!()
}

/// The standard reason phrase for `status` (`"OK"`, `"Bad Request"`, ...).
pub fn reason_phrase(status: u16) -> &'static str {
    let _ = status;
    unimplemented!()
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
        unimplemented!()
    }
    /// 403 for `Forbidden`, 400 otherwise.
    pub fn status(self) -> u16 {
        unimplemented!()
    }
}

/// Appends the Engine.IO error response: status per [`EioErrorCode::status`], JSON body.
pub fn write_eio_error(out: &mut Vec<u8>, code: EioErrorCode, extra: &[(&str, &str)], keep_alive: bool) {
    let _ = (out, code, extra, keep_alive);
    unimplemented!()
}
