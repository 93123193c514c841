//! A tiny HTTP/1.1 client over std::net (one request per connection, `Connection: close`) and a
//! parser for the `/metrics` exposition. No new dependency.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use super::{API_KEY, DEADLINE, Server};

/// A response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; `None` when it is not JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// `GET path`.
pub fn get(server: &Server, path: &str) -> Response {
    request(server, "GET", path, &[], b"")
}

/// `POST /api/v1/emit` with the test API key (or `key`), body `body`.
pub fn publish(server: &Server, key: &str, body: &[u8]) -> Response {
    let auth = format!("Bearer {key}");
    request(
        server,
        "POST",
        "/api/v1/emit",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ],
        body,
    )
}

/// Publishes `body` (JSON) with the right key and asserts 200; returns `delivered`.
pub fn publish_ok(server: &Server, body: &Value) -> u64 {
    let resp = publish(server, API_KEY, body.to_string().as_bytes());
    if resp.status != 200 {
        server.fail(&format!(
            "publish {body} answered {} {:?}",
            resp.status, resp.body
        ));
    }
    resp.json()
        .and_then(|v| v["delivered"].as_u64())
        .unwrap_or_else(|| server.fail(&format!("publish: no `delivered` in {:?}", resp.body)))
}

/// Any request.
pub fn request(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.port,
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    let fail = |what: String| -> ! { server.fail(&format!("{method} {path}: {what}")) };
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    stream
        .set_read_timeout(Some(DEADLINE))
        .unwrap_or_else(|e| fail(format!("set_read_timeout: {e}")));
    stream
        .write_all(&raw)
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    let mut buf = Vec::new();
    stream
        .read_to_end(&mut buf)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    parse(&buf).unwrap_or_else(|| {
        fail(format!(
            "unparsable response {:?}",
            String::from_utf8_lossy(&buf)
        ))
    })
}

/// One HTTP/1.1 response with a Content-Length body (or a body running to EOF).
fn parse(buf: &[u8]) -> Option<Response> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &buf[end + 4..];
    let body = match headers.iter().find(|(n, _)| n == "content-length") {
        Some((_, len)) => rest.get(..len.parse::<usize>().ok()?)?,
        None => rest,
    };
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    })
}

/// A `/metrics` scrape: every sample line as `name{labels}` → value, and every `# TYPE`.
#[derive(Debug)]
pub struct Metrics {
    samples: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
    text: String,
}

impl Metrics {
    /// Scrapes `server`, checking the status and the OpenMetrics content type.
    pub fn scrape(server: &Server) -> Metrics {
        let resp = get(server, "/metrics");
        if resp.status != 200 {
            server.fail(&format!("/metrics answered {}: {}", resp.status, resp.body));
        }
        let ctype = resp.header("content-type").unwrap_or_default();
        if !ctype.starts_with("application/openmetrics-text") {
            server.fail(&format!("/metrics content-type {ctype:?}"));
        }
        Metrics::parse(&resp.body)
            .unwrap_or_else(|why| server.fail(&format!("/metrics: {why}\n{}", resp.body)))
    }

    /// Parses the exposition text.
    pub fn parse(text: &str) -> Result<Metrics, String> {
        let mut samples = BTreeMap::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').ok_or(format!("bad line {line:?}"))?;
                types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (key, value) = line.rsplit_once(' ').ok_or(format!("bad line {line:?}"))?;
            let value: f64 = value
                .parse()
                .map_err(|_| format!("bad value in {line:?}"))?;
            samples.insert(key.to_owned(), value);
        }
        if !text.trim_end().ends_with("# EOF") {
            return Err("OpenMetrics text must end with `# EOF`".to_owned());
        }
        Ok(Metrics {
            samples,
            types,
            text: text.to_owned(),
        })
    }

    /// A sample's value (`name{label="v"}` exactly as exposed), `None` when absent.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.samples.get(key).copied()
    }

    /// A sample's value, 0 when absent (a labelled counter appears at its first increment).
    pub fn or_zero(&self, key: &str) -> f64 {
        self.value(key).unwrap_or(0.0)
    }

    /// The `# TYPE` of a family.
    pub fn kind(&self, family: &str) -> Option<&str> {
        self.types.get(family).map(String::as_str)
    }

    /// The whole text, for failure messages.
    pub fn text(&self) -> &str {
        &self.text
    }
}
