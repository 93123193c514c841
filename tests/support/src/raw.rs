//! A hand-written client to send what no stock client would: raw TCP with bounded reads, RFC
//! 6455 WebSocket frames (masked or not, any opcode, length lies), Engine.IO over websocket and
//! polling, and the Socket.IO CONNECT.
//!
//! Only `std::net` and hand-written framing, so the server's own codec is never the oracle.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

/// RFC 6455 §1.3's sample key and its accept value: a fixed key keeps the check independent of
/// the server's own SHA-1/base64 code.
pub const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The `Sec-WebSocket-Accept` for [`WS_KEY`].
pub const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The Engine.IO path the spec's clients use.
pub const PATH: &str = "/ws/";

pub use crate::tcp::{Ended, SOON, connect, connect_small_window, find, read_until};

/// A `system:alert` to `dashboard` whose message is `marker`.
pub fn alert_body(marker: &str) -> String {
    format!(r#"{{"event":"system:alert","data":{{"message":"{marker}","severity":"info"}}}}"#)
}

/// Opens an Engine.IO polling session; returns its sid.
pub fn polling_open(addr: SocketAddr) -> Result<String, String> {
    let r = crate::http::get(addr, &format!("{PATH}?EIO=4&transport=polling"))?;
    let body = r.body;
    if r.status != 200 || !body.starts_with('0') {
        return Err(format!("polling handshake: {} {body}", r.status));
    }
    let open: serde_json::Value =
        serde_json::from_str(&body[1..]).map_err(|e| format!("OPEN json: {e}"))?;
    open["sid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "OPEN without sid".into())
}

// ---- WebSocket --------------------------------------------------------------------------------

/// RFC 6455 §5.2 opcodes.
pub const OP_CONT: u8 = 0x0;
/// Text frame.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame.
pub const OP_PING: u8 = 0x9;
/// Pong frame.
pub const OP_PONG: u8 = 0xA;

/// The masking key of every client frame here. RFC 6455 §5.3 wants it unpredictable (against
/// cache poisoning of proxies); a fixed one is fine on loopback and makes captures readable.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A client frame: FIN, RSV bits (0–7, placed at bits 6–4), opcode, payload, masked or not.
pub fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = header(fin, rsv, opcode, payload.len() as u64, masked);
    let start = out.len();
    out.extend_from_slice(payload);
    if masked {
        for (i, b) in out[start..].iter_mut().enumerate() {
            *b ^= MASK[i % 4];
        }
    }
    out
}

/// Just a frame header claiming `len` payload bytes (for length lies).
pub fn header(fin: bool, rsv: u8, opcode: u8, len: u64, masked: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(14);
    out.push(u8::from(fin) << 7 | (rsv & 7) << 4 | (opcode & 0x0f));
    let m = u8::from(masked) << 7;
    match len {
        0..=125 => out.push(m | len as u8),
        126..=0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
    }
    out
}

/// A masked, final text frame.
pub fn text(s: &str) -> Vec<u8> {
    frame(true, 0, OP_TEXT, s.as_bytes(), true)
}

/// A masked binary frame (one whole message).
pub fn binary(payload: &[u8]) -> Vec<u8> {
    frame(true, 0, OP_BINARY, payload, true)
}

/// A masked close frame with `code` and `reason` bytes.
pub fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(true, 0, OP_CLOSE, &payload, true)
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode ([`OP_TEXT`], …).
    pub opcode: u8,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

impl Frame {
    /// The close code of a close frame (None: empty payload).
    pub fn close_code(&self) -> Option<u16> {
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    /// The payload as text (lossily).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// What the next read of a websocket brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A whole frame.
    Frame(Frame),
    /// No frame: how the connection ended, or the deadline.
    Ended(Ended),
}

/// A raw WebSocket client connection.
#[derive(Debug)]
pub struct Ws {
    /// The connection, for writing bytes no frame builder here would.
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// The server's `Sec-WebSocket-Extensions` answer (lowercase), if it sent one.
    pub extensions: Option<String>,
}

impl Ws {
    /// Upgrades `target` (e.g. `/ws/?EIO=4&transport=websocket`) on a new connection.
    pub fn upgrade(addr: SocketAddr, target: &str) -> Result<Ws, String> {
        Ws::upgrade_on(connect(addr)?, target)
    }

    /// Upgrades `target` on an existing connection.
    pub fn upgrade_on(stream: TcpStream, target: &str) -> Result<Ws, String> {
        Ws::upgrade_with(stream, target, "")
    }

    /// Upgrades `target` on an existing connection, with `headers` (each line ending in CRLF)
    /// added to the request, say a `Sec-WebSocket-Extensions` offer.
    pub fn upgrade_with(mut stream: TcpStream, target: &str, headers: &str) -> Result<Ws, String> {
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
        );
        stream
            .write_all(req.as_bytes())
            .map_err(|e| format!("write upgrade: {e}"))?;
        let mut buf = Vec::new();
        let deadline = Instant::now() + SOON;
        read_until(&mut stream, &mut buf, deadline, |b| {
            find(b, b"\r\n\r\n").is_some()
        });
        let Some(h) = find(&buf, b"\r\n\r\n") else {
            return Err(format!("no upgrade response ({} bytes)", buf.len()));
        };
        let head = String::from_utf8_lossy(&buf[..h]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 101") {
            return Err(format!(
                "upgrade refused: {}",
                head.lines().next().unwrap_or("")
            ));
        }
        if !head.contains(&format!(
            "sec-websocket-accept: {}",
            WS_ACCEPT.to_ascii_lowercase()
        )) {
            return Err(format!("wrong Sec-WebSocket-Accept in {head:?}"));
        }
        let rest = buf[h + 4..].to_vec();
        let extensions = head
            .lines()
            .find_map(|l| l.strip_prefix("sec-websocket-extensions:"))
            .map(|v| v.trim().to_owned());
        Ok(Ws {
            stream,
            buf: rest,
            extensions,
        })
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("write: {e}"))
    }

    /// Sends a masked text frame.
    pub fn send_text(&mut self, s: &str) -> Result<(), String> {
        self.send(&text(s))
    }

    /// Reads the next frame, or how the connection ended, by `deadline`.
    pub fn next(&mut self, deadline: Instant) -> Next {
        let mut buf = std::mem::take(&mut self.buf);
        let ended = read_until(&mut self.stream, &mut buf, deadline, |b| {
            parse_frame(b).is_some()
        });
        let out = match parse_frame(&buf) {
            Some((f, n)) => {
                buf.drain(..n);
                Next::Frame(f)
            }
            None => Next::Ended(ended.unwrap_or(Ended::Timeout)),
        };
        self.buf = buf;
        out
    }

    /// The next text message, answering Engine.IO pings (`2` → `3`) on the way.
    pub fn next_text(&mut self, deadline: Instant) -> Result<String, Next> {
        loop {
            match self.next(deadline) {
                Next::Frame(f) if f.opcode == OP_TEXT && f.payload == b"2" => {
                    let _ = self.send_text("3");
                }
                Next::Frame(f) if f.opcode == OP_TEXT => return Ok(f.text()),
                other => return Err(other),
            }
        }
    }

    /// Waits for a text message satisfying `want`, skipping others.
    pub fn wait_text(
        &mut self,
        deadline: Instant,
        want: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let mut seen = Vec::new();
        loop {
            match self.next_text(deadline) {
                Ok(t) if want(&t) => return Ok(t),
                Ok(t) => seen.push(cut(&t, 120)),
                Err(n) => return Err(format!("{} (after {seen:?})", describe(&n))),
            }
        }
    }

    /// The local and remote addresses of the connection.
    pub fn addrs(&self) -> (SocketAddr, SocketAddr) {
        (
            self.stream.local_addr().expect("local addr"),
            self.stream.peer_addr().expect("peer addr"),
        )
    }
}

/// A readable account of a `Next` for failure messages.
pub fn describe(n: &Next) -> String {
    match n {
        Next::Frame(f) if f.opcode == OP_CLOSE => format!("close frame {:?}", f.close_code()),
        Next::Frame(f) => format!("frame op {:#x} {:?}", f.opcode, cut(&f.text(), 120)),
        Next::Ended(Ended::Closed) => "connection closed".into(),
        Next::Ended(Ended::Timeout) => "nothing before the deadline".into(),
    }
}

/// At most `n` characters of `s`.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Parses one frame from the front of `b` (server frames are unmasked, but a mask is honoured).
pub fn parse_frame(b: &[u8]) -> Option<(Frame, usize)> {
    if b.len() < 2 {
        return None;
    }
    let (fin, opcode, masked) = (b[0] & 0x80 != 0, b[0] & 0x0f, b[1] & 0x80 != 0);
    let (len, mut at) = match b[1] & 0x7f {
        126 => (u64::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])), 4),
        127 => (u64::from_be_bytes(b.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let key = if masked {
        let k: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(k)
    } else {
        None
    };
    let end = at.checked_add(usize::try_from(len).ok()?)?;
    let mut payload = b.get(at..end)?.to_vec();
    if let Some(k) = key {
        for (i, x) in payload.iter_mut().enumerate() {
            *x ^= k[i % 4];
        }
    }
    Some((
        Frame {
            fin,
            opcode,
            payload,
        },
        end,
    ))
}

// ---- Engine.IO / Socket.IO over websocket ------------------------------------------------------

/// A websocket Engine.IO session and its sid.
#[derive(Debug)]
pub struct Eio {
    /// The websocket under the session.
    pub ws: Ws,
    /// The session id from the OPEN packet.
    pub sid: String,
}

impl Eio {
    /// Opens a websocket-only Engine.IO session on [`PATH`] and reads its OPEN packet.
    pub fn open(addr: SocketAddr) -> Result<Eio, String> {
        Eio::open_on(connect(addr)?)
    }

    /// [`Eio::open`] on an existing connection.
    pub fn open_on(stream: TcpStream) -> Result<Eio, String> {
        Eio::open_path_with(stream, PATH, "")
    }

    /// [`Eio::open_on`] with extra upgrade request `headers` (see [`Ws::upgrade_with`]).
    pub fn open_with(stream: TcpStream, headers: &str) -> Result<Eio, String> {
        Eio::open_path_with(stream, PATH, headers)
    }

    /// [`Eio::open`] on another Engine.IO path (`/ws-msgpack/`).
    pub fn open_path(addr: SocketAddr, path: &str) -> Result<Eio, String> {
        Eio::open_path_with(connect(addr)?, path, "")
    }

    fn open_path_with(stream: TcpStream, path: &str, headers: &str) -> Result<Eio, String> {
        let target = format!("{path}?EIO=4&transport=websocket");
        let mut ws = Ws::upgrade_with(stream, &target, headers)?;
        let open = ws
            .next_text(Instant::now() + SOON)
            .map_err(|n| format!("no OPEN packet: {}", describe(&n)))?;
        let json = open
            .strip_prefix('0')
            .ok_or_else(|| format!("first packet is not OPEN: {open:?}"))?;
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("OPEN json: {e}"))?;
        let sid = v["sid"].as_str().ok_or("OPEN without sid")?.to_owned();
        Ok(Eio { ws, sid })
    }

    /// Sends a Socket.IO CONNECT to `/` with `auth` (raw JSON) and returns the answer packet
    /// (`40{…}` or `44{…}`).
    pub fn connect(&mut self, auth: &str) -> Result<String, String> {
        self.ws.send_text(&format!("40{auth}"))?;
        self.ws.wait_text(Instant::now() + SOON, |t| {
            t.starts_with("40") || t.starts_with("44")
        })
    }
}

/// Opens a session and connects to `/` with a valid token: a Socket.IO client in `dashboard`.
pub fn sio_client(addr: SocketAddr, token: &str) -> Result<Eio, String> {
    sio_client_on(connect(addr)?, token)
}

/// [`sio_client`] on an existing connection (say, one from [`connect_small_window`]).
pub fn sio_client_on(stream: TcpStream, token: &str) -> Result<Eio, String> {
    let mut eio = Eio::open_on(stream)?;
    let answer = eio.connect(&format!(r#"{{"token":"{token}"}}"#))?;
    if !answer.starts_with("40{") {
        return Err(format!("CONNECT refused: {answer}"));
    }
    Ok(eio)
}

/// A Socket.IO client with socket.io-msgpack-parser's packets on the msgpack path `path`,
/// connected to `/` with `token`.
pub fn msgpack_client(addr: SocketAddr, path: &str, token: &str) -> Result<Eio, String> {
    let mut eio = Eio::open_path(addr, path)?;
    eio.ws.send(&binary(&msgpack_connect(token)))?;
    let deadline = Instant::now() + SOON;
    loop {
        match eio.ws.next(deadline) {
            Next::Frame(f) if f.opcode == OP_TEXT && f.payload == b"2" => eio.ws.send_text("3")?,
            // The CONNECT reply `{type: 0, nsp: "/", data: {sid}}`; a refusal is type 4.
            Next::Frame(f) if f.opcode == OP_BINARY => {
                if f.payload.windows(4).any(|w| w == b"\xa3sid") {
                    return Ok(eio);
                }
                return Err(format!("CONNECT refused: {:?}", f.payload));
            }
            other => return Err(format!("no CONNECT reply: {}", describe(&other))),
        }
    }
}

/// `{type: 0, nsp: "/", data: {token}}` in MessagePack, as socket.io-msgpack-parser writes a
/// CONNECT (the token as a str16, whatever its length).
pub fn msgpack_connect(token: &str) -> Vec<u8> {
    let mut b = vec![0x83, 0xa4];
    b.extend_from_slice(b"type");
    b.extend_from_slice(&[0x00, 0xa3]);
    b.extend_from_slice(b"nsp");
    b.extend_from_slice(&[0xa1, b'/', 0xa4]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&[0x81, 0xa5]);
    b.extend_from_slice(b"token");
    b.push(0xda);
    b.extend_from_slice(&(token.len() as u16).to_be_bytes());
    b.extend_from_slice(token.as_bytes());
    b
}

/// [`sio_client`] on a websocket that offered permessage-deflate (as Chrome does) and had it
/// accepted (the server runs with `--ws-compression true`).
pub fn sio_client_deflate(addr: SocketAddr, token: &str) -> Result<Eio, String> {
    let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    let mut eio = Eio::open_with(connect(addr)?, offer)?;
    match &eio.ws.extensions {
        Some(e) if e.starts_with("permessage-deflate") => {}
        other => return Err(format!("permessage-deflate not accepted: {other:?}")),
    }
    let answer = eio.connect(&format!(r#"{{"token":"{token}"}}"#))?;
    if !answer.starts_with("40{") {
        return Err(format!("CONNECT refused: {answer}"));
    }
    Ok(eio)
}

/// The event name and first argument of an EVENT packet (`42["name",{…}]`).
pub fn event_of(packet: &str) -> Option<(String, serde_json::Value)> {
    let json = packet.strip_prefix("42")?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let name = v.get(0)?.as_str()?.to_owned();
    Some((name, v.get(1).cloned().unwrap_or(serde_json::Value::Null)))
}
