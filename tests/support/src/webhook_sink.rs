//! A webhook receiver for the tests: a real TCP server on a loopback port that records every
//! request (headers and body), checks its `X-Ringcast-Signature` the way a backend would
//! (HMAC-SHA256 over `"<timestamp>.<body>"`, computed here with aws-lc-rs directly), and
//! answers 200, 500 for the first N requests, or never (to fill the gateway's queue).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use serde_json::Value;

use crate::wait_until;

/// How the sink answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200 to everything.
    Ok,
    /// 500 to the first `n` requests, then 200.
    FailFirst(usize),
    /// Reads the request and never answers (until the sink is dropped).
    Hang,
}

/// One request the sink received.
#[derive(Clone, Debug)]
pub struct Hook {
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    /// The body as received.
    pub body: String,
    /// The status the sink answered (0: none).
    pub status: u16,
    /// The signature header matched HMAC-SHA256(secret, "<timestamp>.<body>").
    pub signature_ok: bool,
}

impl Hook {
    /// The body's `events` array.
    pub fn events(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["events"].as_array().cloned())
            .unwrap_or_default()
    }
}

/// The running sink; stops accepting when dropped.
#[derive(Debug)]
pub struct WebhookSink {
    port: u16,
    hooks: Arc<Mutex<Vec<Hook>>>,
    stop: Arc<AtomicBool>,
}

impl WebhookSink {
    /// Starts a sink that verifies signatures with `secret` and answers as `answer` says.
    pub fn start(secret: &str, answer: Answer) -> WebhookSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook sink");
        let port = listener.local_addr().expect("bound").port();
        listener.set_nonblocking(true).expect("nonblocking accept");
        let hooks: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let served = Arc::new(AtomicUsize::new(0));
        {
            let (hooks, stop) = (hooks.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let n = served.fetch_add(1, Ordering::Relaxed);
                            if let Some(conn) = serve(conn, &key, answer, n, &hooks) {
                                held.push(conn);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        WebhookSink { port, hooks, stop }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every request so far.
    pub fn hooks(&self) -> Vec<Hook> {
        self.hooks.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Every event of every request answered 200, in order.
    pub fn delivered(&self) -> Vec<Value> {
        self.hooks()
            .iter()
            .filter(|h| h.status == 200)
            .flat_map(Hook::events)
            .collect()
    }

    /// Waits until a delivered event satisfies `pred`; returns it.
    pub fn wait_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_until(
            what,
            || self.delivered().iter().any(&pred),
            || format!("delivered so far: {:?}", self.delivered()),
        );
        self.delivered()
            .into_iter()
            .find(|e| pred(e))
            .unwrap_or_default()
    }

    /// Waits until `n` requests arrived.
    pub fn wait_requests(&self, n: usize) {
        wait_until(
            &format!("{n} webhook requests"),
            || self.hooks().len() >= n,
            || format!("requests so far: {:?}", self.hooks()),
        );
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request, records it, answers. Returns the connection to keep open (`Hang`).
fn serve(
    mut conn: TcpStream,
    key: &hmac::Key,
    answer: Answer,
    n: usize,
    hooks: &Mutex<Vec<Hook>>,
) -> Option<TcpStream> {
    conn.set_nonblocking(false).ok()?;
    conn.set_read_timeout(Some(crate::DEADLINE)).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let got = conn.read(&mut chunk).ok()?;
        if got == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..got]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let got = conn.read(&mut chunk).ok()?;
        if got == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
    let signature_ok = match (
        headers.get("x-ringcast-timestamp"),
        headers.get("x-ringcast-signature"),
    ) {
        (Some(ts), Some(sig)) => {
            let tag = hmac::sign(key, format!("{ts}.{body}").as_bytes());
            let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            *sig == format!("sha256={hex}")
        }
        _ => false,
    };
    let status = match answer {
        Answer::Ok => 200,
        Answer::FailFirst(k) if n < k => 500,
        Answer::FailFirst(_) => 200,
        Answer::Hang => 0,
    };
    if let Ok(mut h) = hooks.lock() {
        h.push(Hook {
            headers,
            body,
            status,
            signature_ok,
        });
    }
    if status == 0 {
        return Some(conn);
    }
    let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = conn.write_all(reply.as_bytes());
    None
}
