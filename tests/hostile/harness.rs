//! A raw-TCP harness for ringcast: the server as a child process on port 0, HS256/RS256 tokens,
//! a minimal WebSocket client that masks its frames, Engine.IO/Socket.IO handshakes over
//! polling and websocket, the publish API, and /proc readings (RSS, open fds).
//!
//! Only `std::net` and hand-written framing: the point is to send what a stock client never
//! would. Shared by the hostile suite (`tests/hostile/main.rs`) and the soak driver
//! (`examples/soak.rs`, which includes this file by path).

#![allow(dead_code)] // each includer uses a different part

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// HS256 secret the test servers run with (RFC 7518 §3.2 wants at least 32 bytes for HS256).
pub const SECRET: &str = "hostile-suite-hs256-secret-0123456789abcdef";
/// Publish API key of the test servers.
pub const API_KEY: &str = "hostile-suite-api-key-0123456789";
/// RFC 6455 §1.3's sample key and its accept value: a fixed key keeps the check independent of
/// the server's own SHA-1/base64 code.
pub const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The Engine.IO path the spec's clients use.
pub const PATH: &str = "/ws/";

// ---- the server process ---------------------------------------------------------------------

/// A ringcast child process. Killed on drop; with `die_with_parent` it also dies with the
/// thread that started it (for servers shared by a whole test binary, which statics never drop).
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl Server {
    /// Starts `bin` on 127.0.0.1:0 with `args` and waits for its "listening" line.
    /// Its stderr (the log) goes to `log` when given. With `die_with_parent`, the kernel kills
    /// it when the calling thread ends (PR_SET_PDEATHSIG), so keep that thread alive.
    pub fn start(bin: &Path, args: &[String], log: Option<&Path>, die_with_parent: bool) -> Server {
        let mut cmd = Command::new(bin);
        cmd.arg("--listen").arg("127.0.0.1:0").args(args);
        if die_with_parent {
            use std::os::unix::process::CommandExt;
            let hook = || {
                // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on the calling (child)
                // process and is async-signal-safe, so it may run between fork and exec.
                let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
                if rc == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            };
            // SAFETY: the hook allocates nothing and calls only prctl (see above).
            unsafe { cmd.pre_exec(hook) };
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        match log.map(std::fs::File::create) {
            Some(Ok(file)) => cmd.stderr(file),
            _ => cmd.stderr(Stdio::null()),
        };
        let mut child = cmd.spawn().expect("spawn ringcast");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let status = child.wait();
                panic!("ringcast exited before listening: {status:?} (args {args:?})");
            };
            if let Some(rest) = line.strip_prefix("ringcast listening on http://") {
                break rest
                    .trim()
                    .parse::<SocketAddr>()
                    .expect("listening address");
            }
        };
        // Keep draining stdout so a later print never meets a closed pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let pid = child.id();
        Server { child, addr, pid }
    }

    /// Whether the process is still running (a crash is a failure of every case).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident set size in KiB (`VmRSS` in /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid)
    }

    /// Open file descriptors (/proc/PID/fd).
    pub fn fds(&self) -> usize {
        open_fds(self.pid)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of `pid` in KiB (0 if unreadable).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Number of entries in /proc/PID/fd.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Whether `pid` holds an fd on the socket with this inode.
pub fn holds_socket(pid: u32, inode: u64) -> bool {
    let want = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy() == want))
        })
        .unwrap_or(false)
}

/// The inode of the TCP socket whose local end is `local` and remote end is `remote`
/// (from /proc/net/tcp; IPv4 loopback only).
pub fn tcp_inode(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    let hex = |a: SocketAddr| match a {
        SocketAddr::V4(v4) => Some(format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        )),
        SocketAddr::V6(_) => None,
    };
    let (l, r) = (hex(local)?, hex(remote)?);
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() > 9 && f[1] == l && f[2] == r).then(|| f[9].parse().ok())?
    })
}

// ---- tokens ---------------------------------------------------------------------------------

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An HS256 token over `claims` with `secret`.
pub fn hs256(secret: &[u8], claims: &serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("sign HS256")
}

/// An RS256 token over `claims` with a PEM private key.
pub fn rs256(private_pem: &[u8], claims: &serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem).expect("RSA private key");
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, claims, &key).expect("sign RS256")
}

/// A valid token for the suite's HS256 servers: `sub`, an hour of life.
pub fn good_token() -> String {
    hs256(SECRET.as_bytes(), &claims(3600, None))
}

/// Claims with `exp` `ttl` seconds from now (negative: in the past) and an optional `nbf`.
pub fn claims(ttl: i64, nbf: Option<u64>) -> serde_json::Value {
    let exp = now_secs().saturating_add_signed(ttl);
    let mut c = serde_json::json!({"sub": "hostile", "iat": now_secs(), "exp": exp});
    if let Some(nbf) = nbf {
        c["nbf"] = nbf.into();
    }
    c
}

/// Valid claims (an hour) whose `rooms` claim grants `rooms`.
pub fn claims_with_rooms(rooms: &[&str]) -> serde_json::Value {
    let mut c = claims(3600, None);
    c["rooms"] = rooms.into();
    c
}

/// An unsigned token (RFC 7519 §6.1 "Unsecured JWT"): `header` as given, empty signature.
pub fn unsigned_token(header: &str, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// `token` with its payload replaced by `claims` and the signature kept.
pub fn tampered(token: &str, claims: &serde_json::Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts.get(2).copied().unwrap_or("")
    )
}

/// A token signed with HS256 under a header of our choosing (`crit`, odd `alg` spellings):
/// `encode` only writes headers it understands, so the signing input is built here.
pub fn hs256_with_header(header: &str, claims: &serde_json::Value, secret: &[u8]) -> String {
    let signing = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let sig = jsonwebtoken::crypto::sign(signing.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
        .expect("HMAC sign");
    format!("{signing}.{sig}")
}

// ---- HTTP -----------------------------------------------------------------------------------

/// A response read off the wire.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// The head, lowercased, for header checks.
    pub head: String,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_owned())
        })
    }
}

/// Connects with a read timeout (every read in this harness is bounded).
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to ringcast");
    s.set_nodelay(true).expect("nodelay");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    s
}

/// What reading until a deadline found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The peer closed (FIN) or reset the connection.
    Closed,
    /// The deadline passed with the connection still open.
    Timeout,
}

/// Reads into `buf` until `done(buf)` or the connection ends or `deadline` passes.
pub fn read_until(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    done: impl Fn(&[u8]) -> bool,
) -> Option<Ended> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if done(buf) {
            return None;
        }
        if Instant::now() >= deadline {
            return Some(Ended::Timeout);
        }
        match s.read(&mut chunk) {
            Ok(0) => return Some(Ended::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Some(Ended::Closed),
        }
    }
}

/// Reads one HTTP response (head plus `Content-Length` body) from `s`.
pub fn read_response(s: &mut TcpStream, deadline: Instant) -> Result<HttpResponse, String> {
    let mut buf = Vec::new();
    let complete = |b: &[u8]| match find(b, b"\r\n\r\n") {
        Some(h) => {
            let head = String::from_utf8_lossy(&b[..h]).to_ascii_lowercase();
            b.len() >= h + 4 + content_length(&head)
        }
        None => false,
    };
    let ended = read_until(s, &mut buf, deadline, complete);
    let Some(h) = find(&buf, b"\r\n\r\n") else {
        return Err(match ended {
            Some(Ended::Timeout) => "no HTTP response before the deadline (server hung)".into(),
            _ => format!(
                "connection closed without an HTTP response (got {} bytes: {:?})",
                buf.len(),
                String::from_utf8_lossy(&buf[..buf.len().min(80)])
            ),
        });
    };
    let head = String::from_utf8_lossy(&buf[..h]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let end = (h + 4 + content_length(&head)).min(buf.len());
    Ok(HttpResponse {
        status,
        head,
        body: buf[h + 4..end].to_vec(),
    })
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` on a new connection and reads one response.
pub fn http(addr: SocketAddr, request: &[u8]) -> Result<HttpResponse, String> {
    let mut s = connect(addr);
    s.write_all(request).map_err(|e| format!("write: {e}"))?;
    read_response(&mut s, Instant::now() + Duration::from_secs(10))
}

/// A GET of `target` with `Connection: close`.
pub fn get(addr: SocketAddr, target: &str) -> Result<HttpResponse, String> {
    http(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// A POST of `body` to `target` with `Connection: close`.
pub fn post(addr: SocketAddr, target: &str, body: &[u8]) -> Result<HttpResponse, String> {
    let mut req = format!(
        "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    http(addr, &req)
}

/// Publishes through `POST /api/v1/emit` (the suite's API key).
pub fn publish(addr: SocketAddr, body: &str) -> Result<HttpResponse, String> {
    let req = format!(
        "POST /api/v1/emit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(addr, req.as_bytes())
}

/// A `system:alert` to `dashboard` whose message is `marker`.
pub fn alert_body(marker: &str) -> String {
    format!(r#"{{"event":"system:alert","data":{{"message":"{marker}","severity":"info"}}}}"#)
}

/// Opens an Engine.IO polling session; returns its sid.
pub fn polling_open(addr: SocketAddr) -> Result<String, String> {
    let r = get(addr, &format!("{PATH}?EIO=4&transport=polling"))?;
    let body = r.body_str();
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

pub const OP_CONT: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
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

/// A masked close frame with `code` and `reason` bytes.
pub fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(true, 0, OP_CLOSE, &payload, true)
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The close code of a close frame (None: empty payload).
    pub fn close_code(&self) -> Option<u16> {
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// What the next read of a websocket brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Frame(Frame),
    Ended(Ended),
}

/// A raw WebSocket client connection.
#[derive(Debug)]
pub struct Ws {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Ws {
    /// Upgrades `target` (e.g. `/ws/?EIO=4&transport=websocket`) on a new connection.
    pub fn upgrade(addr: SocketAddr, target: &str) -> Result<Ws, String> {
        Ws::upgrade_on(connect(addr), target)
    }

    /// Upgrades `target` on an existing connection.
    pub fn upgrade_on(mut stream: TcpStream, target: &str) -> Result<Ws, String> {
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .write_all(req.as_bytes())
            .map_err(|e| format!("write upgrade: {e}"))?;
        let mut buf = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
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
        Ok(Ws { stream, buf: rest })
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
    pub ws: Ws,
    pub sid: String,
}

impl Eio {
    /// Opens a websocket-only Engine.IO session on [`PATH`] and reads its OPEN packet.
    pub fn open(addr: SocketAddr) -> Result<Eio, String> {
        let mut ws = Ws::upgrade(addr, &format!("{PATH}?EIO=4&transport=websocket"))?;
        let open = ws
            .next_text(Instant::now() + Duration::from_secs(10))
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
        self.ws
            .wait_text(Instant::now() + Duration::from_secs(10), |t| {
                t.starts_with("40") || t.starts_with("44")
            })
    }
}

/// Opens a session and connects to `/` with a valid token: a Socket.IO client in `dashboard`.
pub fn sio_client(addr: SocketAddr, token: &str) -> Result<Eio, String> {
    let mut eio = Eio::open(addr)?;
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

/// The path of a fixture file.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}
