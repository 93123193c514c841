//! Connection drivers: a thin task per TCP connection that reads request heads, routes them
//! (Engine.IO polling, WebSocket upgrade, the handler's HTTP routes), and hands sessions owned
//! by another core to that core.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::task::Poll;
use std::time::Duration;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use ringcast_codec::Status;
use ringcast_codec::eio::{self, Handshake, Transport};
use ringcast_codec::http::{self, EioErrorCode, Method};

use crate::engine::limits::{Permit, Refusal};
use crate::engine::worker::{ConnRef, with_worker};
use crate::engine::{Emitter, HttpReply, HttpRequest, HttpResponse, Msg};
use crate::sid::{ShardId, Sid};

pub(crate) mod ws;

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
    Engine {
        eio: Option<String>,
        transport: Option<String>,
        sid: Option<String>,
        websocket: bool,
        echo: bool,
        /// The upgrade checked (RFC 6455 §4.2.1) and its `Sec-WebSocket-Accept`, computed while
        /// the parsed head is at hand: the connection's task owns the buffer across awaits, so
        /// the head would otherwise be parsed a second time (~3 % of the connect storm's CPU).
        ws_accept: Result<[u8; 28], http::HttpError>,
    },
    Other,
}

/// Serves one TCP connection from its first byte (or from `buf`, bytes already read by another
/// core before a hand-over).
pub(crate) async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    mut buf: Vec<u8>,
    permit: Permit,
) {
    // Held for the life of this task (or handed to the websocket task): the connection counts
    // against the caps until it ends.
    let mut permit = Some(permit);
    let (limits, handshake_timeout, idle_timeout, max_payload, paths, cors) = with_worker(|w| {
        let c = &w.config;
        let paths: Vec<(String, bool)> = c
            .paths
            .iter()
            .map(|p| (p.clone(), false))
            .chain(c.echo_paths.iter().map(|p| (p.clone(), true)))
            .collect();
        (
            c.http_limits,
            Duration::from_millis(c.handshake_timeout_ms),
            Duration::from_millis(c.session.ping_interval + c.session.ping_timeout + 5_000),
            c.session.max_payload,
            paths,
            c.cors.clone(),
        )
    });
    let mut out = Vec::with_capacity(256);
    loop {
        // ---- read one request head ----
        let mut head = loop {
            match http::parse_request(&buf, &limits) {
                Ok(Status::Complete(req)) => break summarize(&req, &paths, &cors),
                Ok(Status::Partial) => {}
                Err(e) => {
                    with_worker(|w| w.stats().http_errors.add(1));
                    out.clear();
                    let body = format!("{{\"error\":\"{e}\"}}");
                    http::write_response(
                        &mut out,
                        e.status(),
                        "application/json",
                        &[],
                        false,
                        body.as_bytes(),
                    );
                    let _ = stream.write_all(out).await;
                    return;
                }
            }
            let idle = buf.is_empty();
            let timeout = if idle {
                idle_timeout
            } else {
                handshake_timeout
            };
            match read_more(&mut stream, buf, timeout).await {
                Ok(b) => buf = b,
                // An idle keep-alive connection just closes; a head cut short gets a 408.
                Err(ReadEnd::TimedOut) if !idle => return request_timeout(stream, out).await,
                Err(_) => return,
            }
        };

        // ---- the body, if any ----
        let limit = match head.route {
            Route::Engine { .. } => max_payload,
            Route::Other => max_payload,
        };
        if head.content_length > limit {
            with_worker(|w| w.stats().http_errors.add(1));
            out.clear();
            let body = format!("{{\"error\":\"body larger than {limit} bytes\"}}");
            http::write_response(
                &mut out,
                413,
                "application/json",
                &head.cors_refs(),
                false,
                body.as_bytes(),
            );
            let _ = stream.write_all(out).await;
            return;
        }
        let total = head.head_len + head.content_length;
        while buf.len() < total {
            match read_more(&mut stream, buf, handshake_timeout).await {
                Ok(b) => buf = b,
                Err(ReadEnd::TimedOut) => return request_timeout(stream, out).await,
                Err(ReadEnd::Closed) => return,
            }
        }

        out.clear();
        // Taken out of the head (nothing below reads `head.route`): its strings move, no clones.
        let next = match std::mem::replace(&mut head.route, Route::Other) {
            Route::Engine {
                eio,
                transport,
                sid,
                websocket,
                echo,
                ws_accept,
            } => {
                let query = Query {
                    eio,
                    transport,
                    sid,
                    websocket,
                    echo,
                    ws_accept,
                };
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
    }
}

impl Head {
    fn cors_refs(&self) -> Vec<(&str, &str)> {
        self.cors.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

fn summarize(
    req: &http::Request<'_>,
    paths: &[(String, bool)],
    cors: &crate::engine::CorsConfig,
) -> Head {
    let path = req.path;
    let engine = paths
        .iter()
        .find(|(p, _)| path == p || path == p.trim_end_matches('/'));
    let route = if let Some(&(_, echo)) = engine {
        Route::Engine {
            echo,
            eio: req.eio().map(str::to_owned),
            transport: req.transport().map(str::to_owned),
            sid: req.sid().map(str::to_owned),
            websocket: req.wants_websocket(),
            ws_accept: http::validate_websocket_upgrade(req),
        }
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
                if cors.credentials {
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
async fn request_timeout(mut stream: TcpStream, mut out: Vec<u8>) {
    with_worker(|w| w.stats().http_errors.add(1));
    out.clear();
    http::write_response(
        &mut out,
        408,
        "application/json",
        &[],
        false,
        br#"{"error":"request not received in time"}"#,
    );
    let _ = stream.write_all(out).await;
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

/// The Engine.IO query of a request and the path's mode.
struct Query {
    eio: Option<String>,
    transport: Option<String>,
    sid: Option<String>,
    websocket: bool,
    echo: bool,
    ws_accept: Result<[u8; 28], http::HttpError>,
}

async fn engine_request(
    stream: TcpStream,
    peer: SocketAddr,
    buf: Vec<u8>,
    head: &Head,
    query: Query,
    mut out: Vec<u8>,
    permit: &mut Option<Permit>,
) -> Option<Next> {
    let Query {
        eio: eio_version,
        transport,
        sid,
        websocket,
        echo,
        ws_accept,
    } = query;
    let cors = head.cors_refs();
    let fail = |out: &mut Vec<u8>, code: EioErrorCode| {
        http::write_eio_error(out, code, &cors, head.keep_alive);
    };
    if head.method == Method::Options {
        preflight(&mut out, head);
        return write(stream, buf, out).await;
    }
    if eio_version.as_deref() != Some("4") {
        fail(&mut out, EioErrorCode::UnsupportedProtocolVersion);
        return write(stream, buf, out).await;
    }
    let transport = match transport.as_deref() {
        Some("polling") => Transport::Polling,
        Some("websocket") => Transport::WebSocket,
        _ => {
            fail(&mut out, EioErrorCode::TransportUnknown);
            return write(stream, buf, out).await;
        }
    };
    if transport == Transport::WebSocket && !websocket {
        fail(&mut out, EioErrorCode::BadRequest);
        return write(stream, buf, out).await;
    }

    // ---- an existing session ----
    if let Some(sid_text) = sid {
        let Some(sid) = Sid::parse(&sid_text) else {
            fail(&mut out, EioErrorCode::SessionIdUnknown);
            return write(stream, buf, out).await;
        };
        let (me, workers) = with_worker(|w| (w.shard, w.mesh.workers()));
        if sid.shard() != me && sid.shard().index() < workers {
            hand_over(stream, peer, buf, sid.shard());
            return None;
        }
        let Some(r) = with_worker(|w| w.lookup(sid)) else {
            fail(&mut out, EioErrorCode::SessionIdUnknown);
            return write(stream, buf, out).await;
        };
        return match (transport, head.method) {
            (Transport::WebSocket, _) => {
                let accept = match ws_accept {
                    Ok(a) => a,
                    Err(e) => {
                        http::write_response(
                            &mut out,
                            e.status(),
                            "application/json",
                            &cors,
                            false,
                            b"{\"error\":\"bad websocket upgrade\"}",
                        );
                        return write(stream, buf, out).await;
                    }
                };
                let ok = with_worker(|w| {
                    let now = w.now();
                    let ok = match w.conn(r) {
                        Some(c) if !c.ws_attached => c.eio.handle_upgrade_request(now).is_ok(),
                        _ => false,
                    };
                    w.after(r.key);
                    ok
                });
                if !ok {
                    fail(&mut out, EioErrorCode::BadRequest);
                    return write(stream, buf, out).await;
                }
                http::write_switching_protocols(&mut out, &accept);
                let leftover = buf[head.head_len..].to_vec();
                // The head's buffer is not needed on a websocket: free it before the long wait.
                drop(buf);
                // The websocket gets a task of its own (~0.5 KiB) so this one (~2 KiB of HTTP
                // routing state) ends now instead of living as long as the connection.
                monoio::spawn(ws::run(stream, r, out, leftover, permit.take()));
                None
            }
            (Transport::Polling, Method::Get) => {
                let registered = with_worker(|w| {
                    let now = w.now();
                    let res = match w.conn(r) {
                        // A closed session still answers GETs until its last packets (the
                        // close packet among them) are collected: see `Worker::reap`.
                        Some(c) if c.eio.transport() == Transport::Polling => {
                            let res = c.eio.handle_poll_request(now);
                            if res.is_ok() {
                                c.attached += 1;
                            }
                            res.is_ok()
                        }
                        _ => false,
                    };
                    w.after(r.key);
                    res
                });
                if !registered {
                    fail(&mut out, EioErrorCode::BadRequest);
                    return write(stream, buf, out).await;
                }
                let body = wait_payload(r).await;
                http::write_response(
                    &mut out,
                    200,
                    "text/plain; charset=UTF-8",
                    &cors,
                    head.keep_alive,
                    &body,
                );
                let next = write(stream, buf, out).await;
                // Detach only once the response is written: a draining worker waits for
                // attached transports, so the process never exits with a response unsent.
                detach_poll(r);
                next
            }
            (Transport::Polling, Method::Post) => {
                let body = &buf[head.head_len..head.head_len + head.content_length];
                let ok = with_worker(|w| {
                    if w.conn(r)
                        .is_none_or(|c| c.eio.transport() != Transport::Polling || c.closed)
                    {
                        return false;
                    }
                    for packet in eio::decode_payload(body) {
                        match packet {
                            Ok(p) => w.on_eio_packet(r.key, p, Transport::Polling),
                            Err(e) => {
                                tracing::debug!(error = ?e, "bad polling payload: closing the session");
                                w.parse_error(r.key);
                                return false;
                            }
                        }
                    }
                    true
                });
                if ok {
                    http::write_response(&mut out, 200, "text/html", &cors, head.keep_alive, b"ok");
                } else {
                    fail(&mut out, EioErrorCode::BadRequest);
                }
                write(stream, buf, out).await
            }
            _ => {
                fail(&mut out, EioErrorCode::BadHandshakeMethod);
                write(stream, buf, out).await
            }
        };
    }

    // ---- a new session ----
    match (transport, head.method) {
        (Transport::Polling, Method::Get) => {
            let opened = with_worker(|w| w.open_session(Transport::Polling, peer, echo));
            let Ok(r) = opened else {
                http::write_response(
                    &mut out,
                    503,
                    "application/json",
                    &cors,
                    false,
                    b"{\"error\":\"cannot open a session\"}",
                );
                return write(stream, buf, out).await;
            };
            let body = open_packet(r.sid, true);
            http::write_response(
                &mut out,
                200,
                "text/plain; charset=UTF-8",
                &cors,
                head.keep_alive,
                &body,
            );
            write(stream, buf, out).await
        }
        (Transport::WebSocket, Method::Get) => {
            let accept = match ws_accept {
                Ok(a) => a,
                Err(e) => {
                    let mut extra = cors.clone();
                    if e == http::HttpError::UnsupportedWsVersion {
                        extra.push(("Sec-WebSocket-Version", "13"));
                    }
                    http::write_response(
                        &mut out,
                        e.status(),
                        "application/json",
                        &extra,
                        false,
                        b"{\"error\":\"bad websocket upgrade\"}",
                    );
                    return write(stream, buf, out).await;
                }
            };
            let Ok(r) = with_worker(|w| w.open_session(Transport::WebSocket, peer, echo)) else {
                return None;
            };
            http::write_switching_protocols(&mut out, &accept);
            let open = open_packet(r.sid, false);
            ws::append_text_frame(&mut out, &open);
            let leftover = buf[head.head_len..].to_vec();
            drop(buf);
            monoio::spawn(ws::run(stream, r, out, leftover, permit.take()));
            None
        }
        _ => {
            fail(&mut out, EioErrorCode::BadHandshakeMethod);
            write(stream, buf, out).await
        }
    }
}

fn open_packet(sid: Sid, polling: bool) -> Vec<u8> {
    with_worker(|w| {
        let s = &w.config.session;
        let mut body = Vec::with_capacity(128);
        let upgrades: &[&str] = if polling { &["websocket"] } else { &[] };
        eio::write_open(
            &mut body,
            &Handshake {
                sid: sid.as_str(),
                upgrades,
                ping_interval: s.ping_interval,
                ping_timeout: s.ping_timeout,
                max_payload: s.max_payload as u64,
            },
        );
        body
    })
}

fn reparse(buf: &[u8], head_len: usize) -> Option<http::Request<'_>> {
    let limits = http::Limits {
        max_head: head_len.max(1),
        max_headers: 256,
    };
    match http::parse_request(&buf[..head_len], &limits) {
        Ok(Status::Complete(req)) => Some(req),
        _ => None,
    }
}

/// Waits until the session has something for the pending GET (at the latest its next ping).
async fn wait_payload(r: ConnRef) -> Vec<u8> {
    let body = poll_fn(|cx| {
        with_worker(|w| {
            let Some(conn) = w.conn(r) else {
                return Poll::Ready(None);
            };
            if let Some(body) = conn.eio.poll_payload() {
                return Poll::Ready(Some(body));
            }
            if conn.closed {
                return Poll::Ready(None);
            }
            conn.poll_waker = Some(cx.waker().clone());
            Poll::Pending
        })
    })
    .await;
    match body {
        Some(b) => b.to_vec(),
        // The session ended without a last word: tell the client it is closed.
        None => b"1".to_vec(),
    }
}

/// The polling GET of `r` is done (its response written or failed).
fn detach_poll(r: ConnRef) {
    with_worker(|w| {
        if let Some(conn) = w.conn(r) {
            conn.attached = conn.attached.saturating_sub(1);
        }
        w.after(r.key);
    });
}

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
            monoio::spawn(serve(stream, peer, preread, permit));
        }
        Err(e) => tracing::warn!(error = %e, "could not adopt a handed-over connection"),
    }
}

async fn other_request(
    stream: TcpStream,
    peer: SocketAddr,
    buf: Vec<u8>,
    head: &Head,
    mut out: Vec<u8>,
) -> (Option<TcpStream>, Vec<u8>, Vec<u8>) {
    let cors = head.cors_refs();
    if head.method == Method::Options {
        preflight(&mut out, head);
        return match write(stream, buf, out).await {
            Some((s, b, o)) => (Some(s), b, o),
            None => (None, Vec::new(), Vec::new()),
        };
    }
    let reply = {
        let Some(req) = reparse(&buf, head.head_len) else {
            return (None, buf, out);
        };
        let body = &buf[head.head_len..head.head_len + head.content_length];
        with_worker(|w| {
            w.stats().http_requests.add(1);
            let handler = w.handler.clone();
            let mut emitter = Emitter { worker: w };
            handler.on_http(
                &HttpRequest {
                    head: &req,
                    body,
                    peer,
                },
                &mut emitter,
            )
        })
    };
    let response = match reply {
        None => HttpResponse::json(404, "{\"error\":\"not found\"}"),
        Some(HttpReply::Now(r)) => r,
        Some(HttpReply::Broadcast { ops, respond }) => {
            let outcome = broadcast_and_count(ops).await;
            respond(&outcome)
        }
    };
    let mut extra: Vec<(&str, &str)> = cors.clone();
    for (k, v) in &response.headers {
        extra.push((k, v.as_str()));
    }
    http::write_response(
        &mut out,
        response.status,
        response.content_type,
        &extra,
        head.keep_alive,
        &response.body,
    );
    match write(stream, buf, out).await {
        Some((s, b, o)) => (Some(s), b, o),
        None => (None, Vec::new(), Vec::new()),
    }
}

/// Runs broadcasts on every core and waits for each core's delivery count.
async fn broadcast_and_count(
    ops: Vec<crate::engine::BroadcastOp>,
) -> crate::engine::BroadcastOutcome {
    let n = ops.len();
    let (token, cluster_failures) = with_worker(|w| {
        let token = w.pending.insert(crate::engine::worker::PendingCount {
            remaining: 0,
            counts: vec![0; n],
            waker: None,
        });
        let mut failures = 0;
        for (i, op) in ops.into_iter().enumerate() {
            let reply = ((token as u64) << 16) | i as u64;
            let (local, asked, cluster_failed) = w.broadcast(op, Some(reply));
            failures += usize::from(cluster_failed);
            if let Some(p) = w.pending.get_mut(token) {
                p.counts[i] += local;
                p.remaining += asked;
            }
        }
        (token, failures)
    });
    let delivered = poll_fn(|cx| {
        with_worker(|w| match w.pending.get_mut(token) {
            Some(p) if p.remaining == 0 => Poll::Ready(w.pending.remove(token).counts),
            Some(p) => {
                p.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            None => Poll::Ready(vec![0; n]),
        })
    })
    .await;
    crate::engine::BroadcastOutcome {
        delivered,
        cluster_failures,
    }
}
