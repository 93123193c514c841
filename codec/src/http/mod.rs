//! HTTP/1.1 request heads and response heads (RFC 9112), and the RFC 6455 §4.2 upgrade.
//!
//! CONTRACT (the server codes against these signatures; keep them):
//! - [`parse_request`] borrows everything from the caller's buffer.
//! - Response writers append to a caller's `Vec<u8>` and write `Content-Length` on every
//!   response that may carry one (not on 1xx, 204 or 304: RFC 9110 §8.6, "A server MUST NOT
//!   send a Content-Length header field in any response with a status code of 1xx
//!   (Informational) or 204 (No Content)").
//!
//! Layout: request heads and the upgrade in `request.rs`, response writers and Engine.IO's
//! error bodies in `response.rs`, re-exported here.

mod request;
mod response;

pub use request::{Method, Request, parse_request, validate_websocket_upgrade, websocket_accept};
pub use response::{
    EioErrorCode, reason_phrase, write_eio_error, write_response, write_response_head,
    write_switching_protocols, write_switching_protocols_with,
};

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
        Limits {
            max_head: 16 * 1024,
            max_headers: 64,
        }
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
    /// `Transfer-Encoding` on a request → 400. Only `Content-Length` bodies are supported,
    /// and a body whose end we cannot find leaves the connection unusable: answer and close.
    ChunkedBody,
    /// A WebSocket upgrade that is not a GET → 400 (what Engine.IO servers answer; RFC 6455
    /// §4.2.1 only asks for "an appropriate HTTP error code").
    UpgradeNotGet,
    /// `Upgrade: websocket` / `Connection: upgrade` missing or wrong, or not HTTP/1.1 → 400.
    NotAnUpgrade,
    /// `Sec-WebSocket-Version` is not 13 (or is missing) → 426 with `Sec-WebSocket-Version: 13`.
    UnsupportedWsVersion,
    /// `Sec-WebSocket-Key` missing or not 16 bytes of base64 → 400.
    BadWsKey,
}

impl HttpError {
    /// The HTTP status code this error is answered with.
    pub fn status(self) -> u16 {
        match self {
            // RFC 6585 §5: "431 Request Header Fields Too Large".
            HttpError::HeadTooLarge | HttpError::TooManyHeaders => 431,
            // RFC 6455 §4.2.2: "426 Upgrade Required" with the versions the server speaks.
            HttpError::UnsupportedWsVersion => 426,
            HttpError::Malformed
            | HttpError::BadHeaderValue
            | HttpError::ChunkedBody
            | HttpError::UpgradeNotGet
            | HttpError::NotAnUpgrade
            | HttpError::BadWsKey => 400,
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            HttpError::HeadTooLarge => "request head too large",
            HttpError::TooManyHeaders => "too many header fields",
            HttpError::Malformed => "malformed request head",
            HttpError::BadHeaderValue => "invalid header value",
            HttpError::ChunkedBody => "Transfer-Encoding is not supported on requests",
            HttpError::UpgradeNotGet => "WebSocket upgrade must be a GET",
            HttpError::NotAnUpgrade => "not a WebSocket upgrade",
            HttpError::UnsupportedWsVersion => "unsupported Sec-WebSocket-Version (13 is)",
            HttpError::BadWsKey => "invalid Sec-WebSocket-Key",
        };
        f.write_str(what)
    }
}

impl std::error::Error for HttpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    #[test]
    fn statuses() {
        let cases = [
            (HttpError::HeadTooLarge, 431), (HttpError::TooManyHeaders, 431), (HttpError::Malformed, 400),
            (HttpError::BadHeaderValue, 400), (HttpError::ChunkedBody, 400), (HttpError::UpgradeNotGet, 400),
            (HttpError::NotAnUpgrade, 400), (HttpError::UnsupportedWsVersion, 426), (HttpError::BadWsKey, 400),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error:?}");
            assert_ne!(reason_phrase(status), "", "{status}");
        }
    }
}
