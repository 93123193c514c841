//! Connection drivers: a thin task per TCP connection that reads request heads, routes them
//! (Engine.IO polling, WebSocket upgrade, the handler's HTTP routes), and hands sessions owned
//! by another core to that core.

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::time::Duration;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use ringcast_codec::Status;
use ringcast_codec::http::{self, Method};

use crate::engine::limits::{Permit, Refusal};
use crate::engine::sid::ShardId;
use crate::engine::worker::with_worker;
use crate::engine::{Msg, PathKind};

mod buffers;
mod engine_io;
mod http_api;
mod task_block;
pub(crate) mod write_policy;
pub(crate) mod ws;

use engine_io::{EioQuery, engine_request};
use http_api::other_request;

/// Initial read buffer of a connection; grows on demand up to the largest request allowed.
const READ_CHUNK: usize = 4096;

/// Answers a connection refused at accept and closes it: 503 when the node is full, 429 when
/// its IP has too many connections. The request is not read (nothing in it could change that).
pub(crate) async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let (status, body): (u16, &[u8]) = match refusal {
        Refusal::NodeFull => (503, br#"{"error":"too many connections"}"#),
        Refusal::IpFull => (
            429,
            br#"{"error":"too many connections from this address"}"#,
        ),
    };
    let mut out = Vec::with_capacity(160);
    http::write_response(
        &mut out,
        status,
        "application/json",
        &[("Retry-After", "1")],
        false,
        body,
    );
    let _ = stream.write_all(out).await;
}

/// What the engine learnt from a request head, owned so the buffer can be read into again.
struct Head {
    method: Method,
    route: Route,
    keep_alive: bool,
    content_length: usize,
    head_len: usize,
    cors: Vec<(&'static str, String)>,
    origin_denied: bool,
}

enum Route {
    /// An Engine.IO path, with the request's Engine.IO query.
    Engine(EioQuery),
    Other,
}

/// What every connection of a worker reads its requests with (copied once per connection).
struct ServeSettings {
    limits: http::Limits,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    max_payload: usize,
    /// Engine.IO paths, each with what it serves (see `EngineConfig::path_kinds`).
    paths: Vec<(String, PathKind)>,
    cors: crate::engine::CorsConfig,
    /// permessage-deflate is offered back to upgrades (`EngineConfig::compression`).
    compression: bool,
}

impl ServeSettings {
    fn of_this_worker() -> Self {
        with_worker(|w| {
            let c = &w.config;
            ServeSettings {
                limits: c.http_limits,
                handshake_timeout: Duration::from_millis(c.handshake_timeout_ms),
                idle_timeout: Duration::from_millis(
                    c.session.ping_interval + c.session.ping_timeout + 5_000,
                ),
                max_payload: c.session.max_payload,
                paths: c.path_kinds(),
                cors: c.cors.clone(),
                compression: c.compression.is_some(),
            }
        })
    }
}

/// Spawns [`serve`] for a connection, its future in a recycled block (see `task_block`).
pub(crate) fn spawn_serve(stream: TcpStream, peer: SocketAddr, buf: Vec<u8>, permit: Permit) {
    monoio::spawn(task_block::InBlock::new(serve(stream, peer, buf, permit)));
}

/// Serves one TCP connection from its first byte (or from `buf`, bytes already read by another
/// core before a hand-over).
async fn serve(mut stream: TcpStream, peer: SocketAddr, mut buf: Vec<u8>, permit: Permit) {
    // Held for the life of this task (or handed to the websocket task): the connection counts
    // against the caps until it ends.
    let mut permit = Some(permit);
    let settings = ServeSettings::of_this_worker();
    let mut out = Vec::with_capacity(256);
    loop {
        let mut head;
        (head, buf, out) = match read_request(&mut stream, buf, out, &settings).await {
            Some(request) => request,
            None => return,
        };
        let total = head.head_len + head.content_length;
        // Taken out of the head (nothing below reads `head.route`): its strings move, no clones.
        let next = match std::mem::replace(&mut head.route, Route::Other) {
            Route::Engine(query) => {
                match engine_request(stream, peer, buf, &head, query, out, &mut permit).await {
                    Some(next) => next,
                    None => return,
                }
            }
            Route::Other => {
                let (s, b, o) = other_request(stream, peer, buf, &head, out).await;
                match s {
                    Some(s) => (s, b, o),
                    None => return,
                }
            }
        };
        (stream, buf, out) = next;
        if !head.keep_alive {
            return;
        }
        buf.drain(..total.min(buf.len()));
        if out.capacity() > 64 * 1024 {
            out = Vec::with_capacity(256);
        }
        out.clear();
    }
}

/// Reads one whole request (head and body) into `buf`. `None`: the connection is done (closed,
/// or answered with 4xx: a bad head, a body over the payload limit, a request cut short).
async fn read_request(
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
    mut out: Vec<u8>,
    settings: &ServeSettings,
) -> Option<(Head, Vec<u8>, Vec<u8>)> {
    let head = loop {
        match http::parse_request(&buf, &settings.limits) {
            Ok(Status::Complete(req)) => break summarize(&req, settings),
            Ok(Status::Partial) => {}
            Err(e) => {
                let body = format!("{{\"error\":\"{e}\"}}");
                refuse_request(stream, out, e.status(), &[], body.as_bytes()).await;
                return None;
            }
        }
        let idle = buf.is_empty();
        let timeout = if idle {
            settings.idle_timeout
        } else {
            settings.handshake_timeout
        };
        match read_more(stream, buf, timeout).await {
            Ok(b) => buf = b,
            // An idle keep-alive connection just closes; a head cut short gets a 408.
            Err(ReadEnd::TimedOut) if !idle => return request_timeout(stream, out).await,
            Err(_) => return None,
        }
    };
    let limit = settings.max_payload;
    if head.content_length > limit {
        let body = format!("{{\"error\":\"body larger than {limit} bytes\"}}");
        refuse_request(stream, out, 413, &head.cors_refs(), body.as_bytes()).await;
        return None;
    }
    let total = head.head_len + head.content_length;
    while buf.len() < total {
        match read_more(stream, buf, settings.handshake_timeout).await {
            Ok(b) => buf = b,
            Err(ReadEnd::TimedOut) => return request_timeout(stream, out).await,
            Err(ReadEnd::Closed) => return None,
        }
    }
    out.clear();
    Some((head, buf, out))
}

/// Answers a request the engine refuses (counted as an HTTP error) and ends the connection.
async fn refuse_request(
    stream: &mut TcpStream,
    mut out: Vec<u8>,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    with_worker(|w| w.stats().http_errors.add(1));
    out.clear();
    http::write_response(&mut out, status, "application/json", headers, false, body);
    let _ = stream.write_all(out).await;
}

impl Head {
    fn cors_refs(&self) -> Vec<(&str, &str)> {
        self.cors.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

fn summarize(req: &http::Request<'_>, settings: &ServeSettings) -> Head {
    let cors = &settings.cors;
    let path = req.path;
    let engine = settings
        .paths
        .iter()
        .find(|(p, _)| path == p || path == p.trim_end_matches('/'));
    let route = if let Some(&(_, kind)) = engine {
        Route::Engine(EioQuery {
            kind,
            eio: req.eio().map(str::to_owned),
            transport: req.transport().map(str::to_owned),
            sid: req.sid().map(str::to_owned),
            websocket: req.wants_websocket(),
            b64: req.query_param("b64").is_some(),
            v3_auth: (req.eio() != Some("4") && req.sid().is_none())
                .then(|| ringcast_codec::sio::v4::query_auth(req.query))
                .flatten(),
            ws_accept: http::validate_websocket_upgrade(req),
            // Only the first `Sec-WebSocket-Extensions` line is read (browsers send one).
            deflate: req
                .ws_extensions
                .filter(|_| settings.compression)
                .and_then(ringcast_codec::ws::deflate::negotiate),
        })
    } else {
        Route::Other
    };
    let mut headers = Vec::new();
    let mut origin_denied = false;
    if req.origin.is_some() {
        match cors.allow(req.origin) {
            Some(allowed) => {
                headers.push(("Access-Control-Allow-Origin", allowed.to_owned()));
                headers.push(("Vary", "Origin".to_owned()));
                if cors.credentials_for(allowed) {
                    headers.push(("Access-Control-Allow-Credentials", "true".to_owned()));
                }
            }
            None => origin_denied = true,
        }
    }
    Head {
        method: req.method,
        route,
        keep_alive: req.keep_alive,
        content_length: req.content_length.unwrap_or(0).min(usize::MAX as u64) as usize,
        head_len: req.head_len,
        cors: headers,
        origin_denied,
    }
}

/// Why a connection stopped delivering bytes.
enum ReadEnd {
    /// EOF or an error: nothing to answer.
    Closed,
    /// Nothing arrived within the timeout.
    TimedOut,
}

/// Answers a request that stopped arriving half-way (slowloris): 408 with a JSON body.
async fn request_timeout<T>(stream: &mut TcpStream, out: Vec<u8>) -> Option<T> {
    let body = br#"{"error":"request not received in time"}"#;
    refuse_request(stream, out, 408, &[], body).await;
    None
}

/// Reads more bytes into `buf`; `Err` on EOF, error or timeout (the connection is done).
async fn read_more(
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
    timeout: Duration,
) -> Result<Vec<u8>, ReadEnd> {
    if buf.capacity() - buf.len() < READ_CHUNK / 2 {
        buf.reserve(READ_CHUNK.max(buf.len()));
    }
    let len = buf.len();
    // A timed-out read is dropped mid-flight; that can lose bytes the kernel already read,
    // which is harmless here because the connection is closed right after.
    let read = stream.read(buf.slice_mut(len..));
    match monoio::time::timeout(timeout, read).await {
        Ok((Ok(n), slice)) if n > 0 => {
            with_worker(|w| w.stats().bytes_in.add(n as u64));
            Ok(slice.into_inner())
        }
        Ok(_) => Err(ReadEnd::Closed),
        Err(_) => Err(ReadEnd::TimedOut),
    }
}

type Next = (TcpStream, Vec<u8>, Vec<u8>);

fn preflight(out: &mut Vec<u8>, head: &Head) {
    if head.origin_denied || head.cors.is_empty() {
        http::write_response(
            out,
            403,
            "application/json",
            &[],
            head.keep_alive,
            b"{\"error\":\"origin not allowed\"}",
        );
        return;
    }
    let mut extra = head.cors_refs();
    extra.push(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"));
    extra.push((
        "Access-Control-Allow-Headers",
        "authorization, content-type",
    ));
    extra.push(("Access-Control-Max-Age", "86400"));
    http::write_response(out, 204, "text/plain", &extra, head.keep_alive, b"");
}

async fn write(mut stream: TcpStream, buf: Vec<u8>, out: Vec<u8>) -> Option<Next> {
    let (res, out) = stream.write_all(out).await;
    let n = res.ok()?;
    with_worker(|w| w.stats().bytes_out.add(n as u64));
    Some((stream, buf, out))
}

/// Hands a connection to the core that owns its session: the raw fd plus the bytes already read.
fn hand_over(stream: TcpStream, peer: SocketAddr, buf: Vec<u8>, owner: ShardId) {
    let raw = stream.into_raw_fd();
    // SAFETY: `into_raw_fd` gave up the stream's only reference to this open descriptor (no
    // operation is in flight on it), so the OwnedFd becomes its sole owner.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    with_worker(|w| {
        w.stats().handoffs.add(1);
        w.send(
            owner,
            Msg::Handoff {
                fd,
                peer,
                preread: buf,
            },
        )
    });
}

/// Serves a connection handed over by another core.
/// Called from the mesh loop with this core's worker already borrowed: it must not call
/// `with_worker` itself.
pub(crate) fn adopt(
    w: &mut crate::engine::worker::Worker,
    fd: OwnedFd,
    peer: SocketAddr,
    preread: Vec<u8>,
) {
    let std_stream = std::net::TcpStream::from(fd);
    if std_stream.set_nonblocking(true).is_err() {
        return;
    }
    match TcpStream::from_std(std_stream) {
        Ok(stream) => {
            let permit = w.admission.admit_again(peer.ip());
            spawn_serve(stream, peer, preread, permit);
        }
        Err(e) => tracing::warn!(error = %e, "could not adopt a handed-over connection"),
    }
}
