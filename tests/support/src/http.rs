//! One HTTP/1.1 client over std::net: one request per connection (`Connection: close`), bodies
//! framed by Content-Length or chunked (the Node peers chunk), or running to EOF.
//!
//! The free functions take an address and return `Result`, for callers that judge failures
//! themselves (the hostile suite, the soak); the [`Server`] methods fail the test with the
//! server's stderr instead.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::tcp::{Ended, connect, find, read_until};
use crate::{API_KEY, DEADLINE, Server};

/// A response read off the wire.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The whole head, lower-cased, for "this text is in the head" checks.
    pub head: String,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked), lossily as text.
    pub body: String,
}

impl Response {
    /// A header's value (`name` lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; `None` when it is not JSON.
    pub fn try_json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The body as JSON; fails the test with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): status {} body {:?}",
                self.status, self.body
            )
        })
    }
}

/// Reads one response from `s`; an error says what arrived instead (nothing, a hang, garbage).
pub fn read_response(s: &mut TcpStream, deadline: Instant) -> Result<Response, String> {
    let mut buf = Vec::new();
    let ended = read_until(s, &mut buf, deadline, |b| parse(b, false).is_some());
    if let Some(response) = parse(&buf, ended == Some(Ended::Closed)) {
        return Ok(response);
    }
    Err(match (ended, find(&buf, b"\r\n\r\n")) {
        (Some(Ended::Timeout), None) => "no HTTP response before the deadline (server hung)".into(),
        (Some(Ended::Timeout), Some(_)) => format!(
            "response body incomplete at the deadline: {:?}",
            String::from_utf8_lossy(&buf)
        ),
        _ => format!(
            "connection closed without a whole HTTP response (got {} bytes: {:?})",
            buf.len(),
            String::from_utf8_lossy(&buf[..buf.len().min(200)])
        ),
    })
}

/// The response at the front of `buf`, once complete: its body framed by Content-Length, by
/// chunks, or (neither) by the end of the connection, which `closed` says has come.
fn parse(buf: &[u8], closed: bool) -> Option<Response> {
    let end = find(buf, b"\r\n\r\n")?;
    let raw_head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = raw_head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    // Names are case-insensitive (RFC 9110 §5.1); values keep their case.
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let head = raw_head.to_ascii_lowercase();
    let mut rest = &buf[end + 4..];
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let eol = find(rest, b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[..eol]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        body
    } else if let Some(len) = header("content-length") {
        rest.get(..len.parse::<usize>().ok()?)?.to_vec()
    } else if closed {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Response {
        status,
        head,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Sends `raw` on a new connection and reads one response.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Result<Response, String> {
    let mut s = connect(addr)?;
    s.write_all(raw).map_err(|e| format!("write: {e}"))?;
    read_response(&mut s, Instant::now() + DEADLINE)
}

/// `method path` with these extra headers and body, `Connection: close`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    exchange(addr, &raw)
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Result<Response, String> {
    request(addr, "GET", path, &[], b"")
}

/// `POST path` of a text body, as an Engine.IO polling client sends its packets.
pub fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Result<Response, String> {
    let text = [("Content-Type", "text/plain;charset=UTF-8")];
    request(addr, "POST", path, &text, body)
}

/// `POST /api/v1/emit` of `body` with `key`.
pub fn publish_with_key(addr: SocketAddr, key: &str, body: &[u8]) -> Result<Response, String> {
    let auth = format!("Bearer {key}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    request(addr, "POST", "/api/v1/emit", &headers, body)
}

/// `POST /api/v1/emit` of `body` (JSON text) with the test [`API_KEY`].
pub fn publish(addr: SocketAddr, body: &str) -> Result<Response, String> {
    publish_with_key(addr, API_KEY, body.as_bytes())
}

/// The same requests against a test server, failing the test with its stderr.
impl Server {
    /// Any request.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        request(self.addr, method, path, headers, body)
            .unwrap_or_else(|e| self.fail(&format!("{method} {path}: {e}")))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    /// `POST path` with these headers.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.request("POST", path, headers, body)
    }

    /// A server API call (`/api/v1/…`) with the right key and `body` as JSON: the status and
    /// the JSON answer (`null` if it is not JSON).
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let auth = format!("Bearer {API_KEY}");
        let body = body.map(Value::to_string).unwrap_or_default();
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let resp = self.request(method, path, &headers, body.as_bytes());
        (resp.status, resp.try_json().unwrap_or(Value::Null))
    }

    /// [`Server::api`], failing the test unless it answers 200; the JSON answer.
    pub fn api_ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, answer) = self.api(method, path, body);
        if status != 200 {
            self.fail(&format!("{method} {path} answered {status} {answer}"));
        }
        answer
    }

    /// Publishes `body` with `key`.
    pub fn publish_with_key(&self, key: &str, body: &[u8]) -> Response {
        publish_with_key(self.addr, key, body)
            .unwrap_or_else(|e| self.fail(&format!("publish: {e}")))
    }

    /// Publishes `body` with the right key; returns the response.
    pub fn publish(&self, body: &Value) -> Response {
        self.publish_with_key(API_KEY, body.to_string().as_bytes())
    }

    /// Publishes and asserts 200; returns `delivered`.
    pub fn publish_ok(&self, body: &Value) -> u64 {
        let resp = self.publish(body);
        if resp.status != 200 {
            self.fail(&format!(
                "publish {body} answered {} {:?}",
                resp.status, resp.body
            ));
        }
        resp.try_json()
            .and_then(|v| v["delivered"].as_u64())
            .unwrap_or_else(|| {
                self.fail(&format!(
                    "publish {body}: no numeric `delivered` in {:?}",
                    resp.body
                ))
            })
    }

    /// Publishes `body` every 100 ms until the server reports `want` sockets reached, for
    /// clients whose subscription cannot be observed (the spec's verbatim programs print nothing
    /// on `subscribed`). Earlier attempts reached fewer sockets: with `want == 1`, none, so
    /// exactly one delivery happens.
    pub fn publish_until_delivered(&self, body: &Value, want: u64) {
        let deadline = Instant::now() + DEADLINE;
        let mut last = 0;
        while Instant::now() < deadline {
            last = self.publish_ok(body);
            if last == want {
                return;
            }
            if last > want {
                self.fail(&format!(
                    "publish {body} reached {last} sockets, more than the {want} expected"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.fail(&format!(
            "publish {body}: delivered stayed {last}, never {want}, within {DEADLINE:?}"
        ));
    }
}
