//! A tiny HTTP/1.1 client over std::net: one request per connection (`Connection: close`), enough
//! for the publish API, with no new dependency.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use super::{API_KEY, DEADLINE, Server};

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: String,
}

impl Response {
    /// The body as JSON; fails the test with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): status {} body {:?}",
                self.status, self.body
            )
        })
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `POST path` with the given extra headers and body.
pub fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.port,
        body.len()
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    let mut raw = req.into_bytes();
    raw.extend_from_slice(body);
    exchange(server, &raw)
}

/// Publishes `body` through `POST /api/v1/emit` with the right key; returns the response.
pub fn publish(server: &Server, body: &Value) -> Response {
    post(
        server,
        "/api/v1/emit",
        &[
            ("Authorization", &format!("Bearer {API_KEY}")),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

/// Publishes and asserts 200; returns `delivered`.
pub fn publish_ok(server: &Server, body: &Value) -> u64 {
    let resp = publish(server, body);
    assert_eq!(
        resp.status,
        200,
        "publish {body} answered {} {:?}\n{}",
        resp.status,
        resp.body,
        server.context()
    );
    resp.json()["delivered"].as_u64().unwrap_or_else(|| {
        panic!(
            "publish {body}: no numeric `delivered` in {:?}\n{}",
            resp.body,
            server.context()
        )
    })
}

fn exchange(server: &Server, raw: &[u8]) -> Response {
    let fail =
        |what: String| -> ! { panic!("HTTP to {}: {what}\n{}", server.url(), server.context()) };
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    stream
        .set_read_timeout(Some(DEADLINE))
        .unwrap_or_else(|e| fail(format!("set_read_timeout: {e}")));
    stream
        .write_all(raw)
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    let mut buf = Vec::new();
    // Connection: close, so the response ends at EOF (a server that keeps it open anyway is cut
    // off by the read deadline and reported).
    stream.read_to_end(&mut buf).unwrap_or_else(|e| {
        fail(format!(
            "read (got {:?}): {e}",
            String::from_utf8_lossy(&buf)
        ))
    });
    parse(&buf).unwrap_or_else(|| {
        fail(format!(
            "unparsable response {:?}",
            String::from_utf8_lossy(&buf)
        ))
    })
}

fn parse(buf: &[u8]) -> Option<Response> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?;
    let mut rest = &buf[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n")?;
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
    } else {
        let len = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(rest.len());
        rest.get(..len)?.to_vec()
    };
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Publishes `body` every 100 ms until the server reports `want` sockets reached, for clients
/// whose subscription cannot be observed (the spec's verbatim programs print nothing on
/// `subscribed`). Earlier attempts reached fewer sockets: with `want == 1`, none, so exactly one
/// delivery happens.
pub fn publish_until_delivered(server: &Server, body: &Value, want: u64) {
    let deadline = std::time::Instant::now() + DEADLINE;
    let mut last = 0;
    while std::time::Instant::now() < deadline {
        last = publish_ok(server, body);
        if last == want {
            return;
        }
        assert!(
            last < want,
            "publish {body} reached {last} sockets, more than the {want} expected\n{}",
            server.context()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "publish {body}: delivered stayed {last}, never {want}, within {DEADLINE:?}\n{}",
        server.context()
    );
}
