//! Engine.IO requests on the engine's paths: the handshake (a new session, polling or
//! WebSocket), and requests naming an existing session (the WebSocket upgrade, a polling GET, a
//! polling POST). A request naming a session another core owns is handed to that core.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::Poll;

use monoio::net::TcpStream;
use ringcast_codec::eio::{self, Handshake, Protocol, Transport};
use ringcast_codec::http::{self, EioErrorCode, Method};
use ringcast_codec::ws::Agreement;

use super::{Head, Next, hand_over, preflight, write, ws};
use crate::engine::PathKind;
use crate::engine::limits::Permit;
use crate::engine::sid::Sid;
use crate::engine::worker::{ConnRef, V3Open, with_worker};

/// The Engine.IO query of a request and the path's mode.
pub(super) struct EioQuery {
    pub eio: Option<String>,
    pub transport: Option<String>,
    pub sid: Option<String>,
    pub websocket: bool,
    pub kind: PathKind,
    /// `b64` is present (an Engine.IO v3 client that cannot take binary polling payloads).
    pub b64: bool,
    /// A handshake not in v4: its query as Socket.IO v4 CONNECT auth (`{"token":…}`), for an
    /// Engine.IO v3 session (computed only then: v4 handshakes carry auth in CONNECT).
    pub v3_auth: Option<String>,
    /// The upgrade checked (RFC 6455 §4.2.1) and its `Sec-WebSocket-Accept`, computed while the
    /// parsed head is at hand: the connection's task owns the buffer across awaits, so the head
    /// would otherwise be parsed a second time (~3 % of the connect storm's CPU).
    pub ws_accept: Result<[u8; 28], http::HttpError>,
    /// The permessage-deflate offer accepted (RFC 7692), when compression is on and the
    /// upgrade offered one.
    pub deflate: Option<Agreement>,
}

/// One request on an Engine.IO path, with what it needs to answer.
struct Exchange<'a> {
    stream: TcpStream,
    peer: SocketAddr,
    buf: Vec<u8>,
    head: &'a Head,
    out: Vec<u8>,
    cors: Vec<(&'a str, &'a str)>,
    deflate: Option<Agreement>,
}

impl Exchange<'_> {
    /// Answers with the Engine.IO error `code` (HTTP 400 or 403 with its JSON body).
    async fn fail(mut self, code: EioErrorCode) -> Option<Next> {
        http::write_eio_error(&mut self.out, code, &self.cors, self.head.keep_alive);
        write(self.stream, self.buf, self.out).await
    }

    /// Answers with `status` and a JSON body.
    async fn json(mut self, status: u16, extra: &[(&str, &str)], body: &[u8]) -> Option<Next> {
        http::write_response(
            &mut self.out,
            status,
            "application/json",
            extra,
            false,
            body,
        );
        write(self.stream, self.buf, self.out).await
    }

    /// Answers 200 with `body` (keep-alive as the client asked).
    async fn ok(mut self, content_type: &str, body: &[u8]) -> Option<Next> {
        let keep_alive = self.head.keep_alive;
        http::write_response(
            &mut self.out,
            200,
            content_type,
            &self.cors,
            keep_alive,
            body,
        );
        write(self.stream, self.buf, self.out).await
    }

    /// A second WebSocket for a session that has one: `101`, then at once a close frame without
    /// a status code (what engine.io's `websocket.close()` sends: the client reads 1005), then
    /// the TCP close. The session and its first websocket are not touched.
    async fn accept_and_close(mut self, accept: &[u8; 28]) -> Option<Next> {
        http::write_switching_protocols(&mut self.out, accept);
        // FIN + opcode 8 (close), unmasked, empty payload (RFC 6455 §5.5.1).
        self.out.extend_from_slice(&[0x88, 0x00]);
        let _ = write(self.stream, self.buf, self.out).await;
        None
    }

    /// Switches to WebSocket: the 101 (plus `first`, e.g. the OPEN packet) goes out on the
    /// websocket's own task, which takes the connection and the permit.
    fn upgrade(
        mut self,
        accept: &[u8; 28],
        r: ConnRef,
        first: Option<&[u8]>,
        permit: &mut Option<Permit>,
    ) {
        http::write_switching_protocols_with(&mut self.out, accept, self.deflate.as_ref());
        if let Some(first) = first {
            ws::append_text_frame(&mut self.out, first);
        }
        let leftover = self.buf[self.head.head_len..].to_vec();
        // The head's buffer is not needed on a websocket: free it before the long wait.
        drop(self.buf);
        // The websocket gets a task of its own (~0.5 KiB) so this one (~2 KiB of HTTP routing
        // state) ends now instead of living as long as the connection.
        let deflate = self.deflate;
        monoio::spawn(ws::run(
            self.stream,
            ws::Start {
                r,
                first: self.out,
                leftover,
                deflate,
            },
            permit.take(),
        ));
    }
}

/// Serves one request on an Engine.IO path. `None`: the connection was handed on (to a
/// websocket task or another core) or is done.
pub(super) async fn engine_request(
    stream: TcpStream,
    peer: SocketAddr,
    buf: Vec<u8>,
    head: &Head,
    query: EioQuery,
    mut out: Vec<u8>,
    permit: &mut Option<Permit>,
) -> Option<Next> {
    if head.method == Method::Options {
        preflight(&mut out, head);
        return write(stream, buf, out).await;
    }
    let x = Exchange {
        stream,
        peer,
        buf,
        head,
        out,
        cors: head.cors_refs(),
        deflate: query.deflate,
    };
    // socket.io: `EIO === "4" ? 4 : 3`, and 3 only with `allowEIO3` (else code 5 for any other
    // value, a missing one included).
    let v3 = match query.eio.as_deref() {
        Some("4") => None,
        _ if with_worker(|w| w.config.allow_eio3) => Some(V3Open {
            binary: !query.b64,
            auth: query.v3_auth,
        }),
        _ => return x.fail(EioErrorCode::UnsupportedProtocolVersion).await,
    };
    let transport = match query.transport.as_deref() {
        Some("polling") => Transport::Polling,
        Some("websocket") => Transport::WebSocket,
        _ => return x.fail(EioErrorCode::TransportUnknown).await,
    };
    if transport == Transport::WebSocket && !query.websocket {
        return x.fail(EioErrorCode::BadRequest).await;
    }
    match query.sid {
        Some(sid) => existing_session(x, &sid, transport, query.ws_accept, permit).await,
        None => new_session(x, transport, query.kind, v3, query.ws_accept, permit).await,
    }
}

/// A request naming a session: served here if this core owns it, else handed to its owner.
async fn existing_session(
    x: Exchange<'_>,
    sid_text: &str,
    transport: Transport,
    ws_accept: Result<[u8; 28], http::HttpError>,
    permit: &mut Option<Permit>,
) -> Option<Next> {
    let Some(sid) = Sid::parse(sid_text) else {
        return x.fail(EioErrorCode::SessionIdUnknown).await;
    };
    let (me, workers) = with_worker(|w| (w.shard, w.mesh.workers()));
    if sid.shard() != me && sid.shard().index() < workers {
        hand_over(x.stream, x.peer, x.buf, sid.shard());
        return None;
    }
    let Some(r) = with_worker(|w| w.lookup(sid)) else {
        return x.fail(EioErrorCode::SessionIdUnknown).await;
    };
    match (transport, x.head.method) {
        (Transport::WebSocket, _) => match ws_accept {
            Ok(accept) => upgrade_session(x, r, &accept, permit).await,
            Err(e) => {
                let cors = x.cors.clone();
                x.json(e.status(), &cors, b"{\"error\":\"bad websocket upgrade\"}")
                    .await
            }
        },
        (Transport::Polling, Method::Get) => poll_get(x, r).await,
        (Transport::Polling, Method::Post) => poll_post(x, r).await,
        _ => x.fail(EioErrorCode::BadHandshakeMethod).await,
    }
}

/// The WebSocket upgrade of a polling session (`2probe`/`3probe`/noop/`5` follow on it).
async fn upgrade_session(
    x: Exchange<'_>,
    r: ConnRef,
    accept: &[u8; 28],
    permit: &mut Option<Permit>,
) -> Option<Next> {
    let (ok, taken) = with_worker(|w| {
        let now = w.now();
        let answer = match w.conn(r) {
            Some(c) => {
                let ok = c.begin_upgrade(now);
                (ok, !ok && c.has_websocket())
            }
            None => (false, false),
        };
        w.after(r.key);
        answer
    });
    if taken {
        return x.accept_and_close(accept).await;
    }
    if !ok {
        return x.fail(EioErrorCode::BadRequest).await;
    }
    x.upgrade(accept, r, None, permit);
    None
}

/// A polling GET: waits for the session's next packets (at the latest its next ping).
async fn poll_get(x: Exchange<'_>, r: ConnRef) -> Option<Next> {
    let (registered, gone, protocol) = with_worker(|w| {
        let now = w.now();
        let (res, protocol) = match w.conn(r) {
            Some(c) => (c.attach_poll(now), c.eio.protocol()),
            None => (false, Protocol::V4),
        };
        w.after(r.key);
        (res, w.conn(r).is_none(), protocol)
    });
    if gone {
        // Closed by a deadline this request found passed (and forgotten): as if the timer had
        // run first, "Session ID unknown".
        return x.fail(EioErrorCode::SessionIdUnknown).await;
    }
    if !registered {
        return x.fail(EioErrorCode::BadRequest).await;
    }
    let body = wait_payload(r, protocol).await;
    // A v3 binary payload starts with its first record's 00/01 flag; every other body with
    // an ASCII digit or `b`.
    let content_type = match body.first() {
        Some(0 | 1) => "application/octet-stream",
        _ => "text/plain; charset=UTF-8",
    };
    let next = x.ok(content_type, &body).await;
    // Detach only once the response is written: a draining worker waits for attached
    // transports, so the process never exits with a response unsent.
    detach_poll(r);
    next
}

/// A polling POST: its body's packets go to the session.
async fn poll_post(x: Exchange<'_>, r: ConnRef) -> Option<Next> {
    let body = &x.buf[x.head.head_len..x.head.head_len + x.head.content_length];
    let ok = with_worker(|w| {
        let Some(protocol) = w
            .conn(r)
            .filter(|c| c.accepts_post())
            .map(|c| c.eio.protocol())
        else {
            return false;
        };
        let fed = match protocol {
            Protocol::V4 => feed(w, r, eio::decode_payload(body)),
            Protocol::V3 { .. } => feed(w, r, eio::v3::decode_payload(body)),
        };
        if let Err(e) = fed {
            tracing::debug!(error = ?e, "bad polling payload: closing the session");
            w.parse_error(r.key);
            return false;
        }
        true
    });
    if ok {
        x.ok("text/html", b"ok").await
    } else {
        x.fail(EioErrorCode::BadRequest).await
    }
}

/// Feeds a polling body's packets to session `r`, up to the first bad one.
fn feed<'a>(
    w: &mut crate::engine::worker::Worker,
    r: ConnRef,
    packets: impl Iterator<Item = Result<eio::Packet<'a>, eio::EioError>>,
) -> Result<(), eio::EioError> {
    for packet in packets {
        w.on_eio_packet(r.key, packet?, Transport::Polling);
    }
    Ok(())
}

/// Opens a session on this core: Engine.IO v4, or v3 when `v3` is given.
fn open(transport: Transport, x: &Exchange<'_>, kind: PathKind, v3: Option<V3Open>) -> Opened {
    with_worker(|w| match v3 {
        None => w.open_session(transport, x.peer, kind),
        Some(v3) => w.open_session_v3(transport, x.peer, kind, v3),
    })
}

type Opened = std::io::Result<ConnRef>;

/// A handshake: a new session on this core, polling or WebSocket.
async fn new_session(
    x: Exchange<'_>,
    transport: Transport,
    kind: PathKind,
    v3: Option<V3Open>,
    ws_accept: Result<[u8; 28], http::HttpError>,
    permit: &mut Option<Permit>,
) -> Option<Next> {
    match (transport, x.head.method) {
        (Transport::Polling, Method::Get) => {
            let v3_open = v3.is_some();
            let opened = open(Transport::Polling, &x, kind, v3);
            let Ok(r) = opened else {
                let cors = x.cors.clone();
                return x
                    .json(503, &cors, b"{\"error\":\"cannot open a session\"}")
                    .await;
            };
            let mut body = open_packet(r.sid, true);
            if v3_open {
                body = eio::v3::string_record(&body).to_vec();
            }
            x.ok("text/plain; charset=UTF-8", &body).await
        }
        (Transport::WebSocket, Method::Get) => {
            let accept = match ws_accept {
                Ok(a) => a,
                Err(e) => {
                    let mut extra = x.cors.clone();
                    if e == http::HttpError::UnsupportedWsVersion {
                        extra.push(("Sec-WebSocket-Version", "13"));
                    }
                    return x
                        .json(e.status(), &extra, b"{\"error\":\"bad websocket upgrade\"}")
                        .await;
                }
            };
            let Ok(r) = open(Transport::WebSocket, &x, kind, v3) else {
                return None;
            };
            let open = open_packet(r.sid, false);
            x.upgrade(&accept, r, Some(&open), permit);
            None
        }
        _ => x.fail(EioErrorCode::BadHandshakeMethod).await,
    }
}

/// The OPEN packet of a new session (upgrades offered to polling sessions only). v3's is the
/// same: socket.io sends `maxPayload` to v3 clients too (they ignore it).
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

/// Waits until the session has something for the pending GET (at the latest its next ping).
async fn wait_payload(r: ConnRef, protocol: Protocol) -> Vec<u8> {
    let body = poll_fn(|cx| {
        with_worker(|w| {
            let Some(conn) = w.conn(r) else {
                return Poll::Ready(None);
            };
            conn.poll_payload(cx.waker())
        })
    })
    .await;
    match body {
        Some(b) => b.to_vec(),
        // The session ended without a last word: tell the client it is closed.
        None if protocol == Protocol::V4 => b"1".to_vec(),
        None => b"1:1".to_vec(),
    }
}

/// The polling GET of `r` is done (its response written or failed).
fn detach_poll(r: ConnRef) {
    with_worker(|w| {
        if let Some(conn) = w.conn(r) {
            conn.detach_poll();
        }
        w.after(r.key);
    });
}
