//! Hostile input over raw TCP: every case sends what no stock client would and asserts the
//! documented answer (docs/SECURITY.md), while a canary Socket.IO client, connected the whole
//! time and subscribed to `dashboard`, must receive a broadcast published before and one
//! published after the case, in order.
//!
//! `cargo test --test hostile` (CI runs it in release). One ringcast process per kind of
//! configuration is shared by all cases (HS256 secret; RSA public key); the slow-consumer test
//! starts its own.

mod cases;
mod msgpack;
mod slow_consumer;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ringcast_test_support::http::{self, Response};
use ringcast_test_support::raw::{self, Eio, Ended, Next, Ws};
use ringcast_test_support::{Gateway, SECRET, Server, token};

/// Generous deadline for anything the server should answer at once.
pub use raw::SOON;

/// Which shared server a case runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Srv {
    /// HS256 secret, 2 workers, short handshake (2 s) and CONNECT (3 s) timeouts.
    Hs,
    /// Only an RSA public key (`tests/fixtures/keys/rsa_public.pem`): RS256 allowed, no HMAC key.
    Rsa,
    /// HS256 with `--max-connections-per-ip 8`.
    Tight,
    /// HS256 with `--room-policy claims`: a socket enters only the rooms its token grants.
    Claims,
    /// HS256 with `--ws-compression true` (permessage-deflate accepted).
    Deflate,
}

/// A shared server and its canary.
struct Env {
    pub addr: SocketAddr,
    server: Mutex<Server>,
    canary: Arc<Canary>,
}

/// A gateway as the hostile cases meet it: two workers, short handshake and CONNECT timeouts
/// (docs/SECURITY.md lists the defaults these shorten), quiet logs.
fn gateway() -> Gateway {
    Gateway::new(env!("CARGO_BIN_EXE_ringcast"))
        .workers(2)
        .args(["--log-level", "warn"])
}

/// The shared servers' configuration.
fn shared_gateway(srv: Srv) -> Gateway {
    let gateway = gateway().args([
        "--handshake-timeout-ms",
        "2000",
        "--connect-timeout-ms",
        "3000",
    ]);
    match srv {
        Srv::Hs => gateway,
        Srv::Claims => gateway.args(["--room-policy", "claims"]),
        Srv::Deflate => gateway.args(["--ws-compression", "true"]),
        Srv::Tight => gateway.args(["--max-connections-per-ip", "8"]),
        Srv::Rsa => gateway.public_key(token::key_file("rsa_public.pem"), None),
    }
}

/// The shared server of kind `srv`, started on first use. It is started from a thread that
/// never ends, so PR_SET_PDEATHSIG kills it exactly when this test process exits.
fn env(srv: Srv) -> &'static Env {
    static HS: OnceLock<Env> = OnceLock::new();
    static RSA: OnceLock<Env> = OnceLock::new();
    static TIGHT: OnceLock<Env> = OnceLock::new();
    static CLAIMS: OnceLock<Env> = OnceLock::new();
    static DEFLATE: OnceLock<Env> = OnceLock::new();
    let cell = match srv {
        Srv::Claims => &CLAIMS,
        Srv::Deflate => &DEFLATE,
        Srv::Hs => &HS,
        Srv::Rsa => &RSA,
        Srv::Tight => &TIGHT,
    };
    cell.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("hostile-{srv:?}.log"));
            let server = shared_gateway(srv)
                .launch()
                .log_file(log)
                .die_with_parent()
                .start();
            tx.send(server)
                .expect("the test thread waits for the server");
            loop {
                std::thread::park();
            }
        });
        let server = rx.recv().expect("server started");
        let addr = server.addr;
        let token = match srv {
            Srv::Hs | Srv::Tight | Srv::Deflate => token::good(),
            Srv::Claims => {
                token::hs256(SECRET.as_bytes(), &token::claims_with_rooms(&["dashboard"]))
            }
            Srv::Rsa => token::rs256_valid(),
        };
        let canary = Canary::start(addr, &token);
        Env {
            addr,
            server: Mutex::new(server),
            canary,
        }
    })
}

// ---- the canary -----------------------------------------------------------------------------

/// A raw websocket Socket.IO client in `dashboard` that records every `system:alert` message.
struct Canary {
    state: Mutex<CanaryState>,
    changed: Condvar,
}

#[derive(Default)]
struct CanaryState {
    seen: Vec<String>,
    /// Set when the canary's connection ended: every later case fails.
    lost: Option<String>,
}

impl Canary {
    fn start(addr: SocketAddr, token: &str) -> Arc<Canary> {
        let mut client = raw::sio_client(addr, token).expect("canary connects");
        let canary = Arc::new(Canary {
            state: Mutex::new(CanaryState::default()),
            changed: Condvar::new(),
        });
        let me = canary.clone();
        std::thread::spawn(move || {
            loop {
                match client.ws.next_text(Instant::now() + Duration::from_secs(1)) {
                    Ok(packet) => {
                        if let Some((name, data)) = raw::event_of(&packet)
                            && name == "system:alert"
                        {
                            let marker = data["message"].as_str().unwrap_or("").to_owned();
                            me.state.lock().expect("canary lock").seen.push(marker);
                            me.changed.notify_all();
                        }
                    }
                    Err(Next::Ended(Ended::Timeout)) => {}
                    Err(other) => {
                        me.state.lock().expect("canary lock").lost = Some(raw::describe(&other));
                        me.changed.notify_all();
                        return;
                    }
                }
            }
        });
        canary
    }

    /// Waits until `marker` was received; its position in the canary's log.
    fn wait_for(&self, marker: &str, deadline: Instant) -> Result<usize, String> {
        let mut state = self.state.lock().expect("canary lock");
        loop {
            if let Some(i) = state.seen.iter().position(|m| m == marker) {
                return Ok(i);
            }
            if let Some(lost) = &state.lost {
                return Err(format!("canary lost its connection: {lost}"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("canary did not receive {marker:?} in time"));
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .expect("canary lock")
                .0;
        }
    }
}

/// Publishes a unique marker to `dashboard` and waits for the canary to get it.
fn mark(env: &Env, case: &str, when: &str) -> Result<usize, String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let marker = format!("{when}:{case}:{}", SEQ.fetch_add(1, Ordering::Relaxed));
    let r = http::publish(env.addr, &raw::alert_body(&marker))
        .map_err(|e| format!("publish {when}: {e}"))?;
    if r.status != 200 {
        return Err(format!("publish {when}: {} {}", r.status, r.body));
    }
    env.canary.wait_for(&marker, Instant::now() + SOON)
}

// ---- running a case -------------------------------------------------------------------------

/// What a case sends.
enum Attack {
    /// Bytes on a fresh TCP connection.
    Raw(Vec<u8>),
    /// Bytes after the Engine.IO websocket handshake (OPEN read, no Socket.IO CONNECT yet).
    Eio(Vec<u8>),
    /// Bytes after a Socket.IO CONNECT with a valid token was accepted.
    Sio(Vec<u8>),
    /// [`Attack::Sio`] on a websocket that negotiated permessage-deflate.
    DeflateSio(Vec<u8>),
    /// A polling session is opened; the request built from its sid goes on a fresh connection.
    Poll(fn(&str) -> Vec<u8>),
    /// A scenario that checks its own outcome.
    Custom(fn(SocketAddr) -> Result<(), String>),
}

/// The answer a case expects.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// This HTTP status with a JSON body containing the text.
    Http(u16, &'static str),
    /// This HTTP status with the text in the response head (lowercase).
    HttpHead(u16, &'static str),
    /// A WebSocket close frame with this code, then the server closes the TCP connection.
    Close(u16),
    /// The session is ended: an Engine.IO close packet `1`, then a WebSocket close frame with
    /// this code (1002 protocol error, 1007 invalid payload, 1008 policy: what the violation
    /// was), then the TCP connection closes.
    EioClose(u16),
    /// `CONNECT_ERROR` (`44[/nsp,]{"message":…}`) with exactly this message.
    ConnectError(&'static str),
    /// An `error` event whose message contains the text; the socket stays usable.
    Error(&'static str),
    /// A text packet starting with the text.
    Reply(&'static str),
    /// A pong frame echoing this payload.
    Pong(&'static [u8]),
    /// No answer needed: the socket still answers a heartbeat afterwards.
    Alive,
    /// A `Custom` attack checked everything itself.
    Done,
}

/// Runs one case on server `srv`: marker, attack, expected answer, marker; canary in order.
fn run(name: &str, srv: Srv, attack: Attack, expect: Expect) {
    let env = env(srv);
    let before =
        mark(env, name, "before").unwrap_or_else(|e| panic!("{name}: before the case: {e}"));
    let outcome = execute(env.addr, attack, expect);
    let after = mark(env, name, "after");
    let alive = env.server.lock().expect("server lock").alive();
    let mut failures = Vec::new();
    if let Err(e) = outcome {
        failures.push(format!("expected {expect:?}: {e}"));
    }
    match after {
        Ok(after) if after > before => {}
        Ok(after) => failures.push(format!(
            "canary got the markers out of order ({before}, {after})"
        )),
        Err(e) => failures.push(format!("after the case: {e}")),
    }
    if !alive {
        failures.push("the server process died".into());
    }
    assert!(failures.is_empty(), "{name}: {}", failures.join("; "));
}

fn execute(addr: SocketAddr, attack: Attack, expect: Expect) -> Result<(), String> {
    let deadline = Instant::now() + SOON;
    match attack {
        Attack::Raw(bytes) => {
            let mut s = raw::connect(addr)?;
            write_lossy(&mut s, &bytes);
            check_http(http::read_response(&mut s, deadline)?, expect)
        }
        Attack::Poll(build) => {
            let sid = raw::polling_open(addr)?;
            let mut s = raw::connect(addr)?;
            write_lossy(&mut s, &build(&sid));
            check_http(http::read_response(&mut s, deadline)?, expect)
        }
        Attack::Eio(bytes) => {
            let mut eio = Eio::open(addr)?;
            write_lossy(&mut eio.ws.stream, &bytes);
            check_ws(&mut eio.ws, expect, deadline)
        }
        Attack::Sio(bytes) => {
            let mut eio = raw::sio_client(addr, &token::good())?;
            write_lossy(&mut eio.ws.stream, &bytes);
            check_ws(&mut eio.ws, expect, deadline)
        }
        Attack::DeflateSio(bytes) => {
            let mut eio = raw::sio_client_deflate(addr, &token::good())?;
            write_lossy(&mut eio.ws.stream, &bytes);
            check_ws(&mut eio.ws, expect, deadline)
        }
        Attack::Custom(f) => f(addr),
    }
}

/// Writes what the socket takes: the server may answer and close before reading it all (a
/// frame header claiming too much is refused before its payload arrives).
fn write_lossy(s: &mut std::net::TcpStream, bytes: &[u8]) {
    use std::io::Write;
    let _ = s.write_all(bytes);
}

fn check_http(r: Response, expect: Expect) -> Result<(), String> {
    let (status, needle, in_head) = match expect {
        Expect::Http(s, n) => (s, n, false),
        Expect::HttpHead(s, n) => (s, n, true),
        other => return Err(format!("{other:?} is not an HTTP expectation")),
    };
    let body = r.body;
    if r.status != status {
        return Err(format!("got HTTP {} {body}", r.status));
    }
    if in_head {
        if !r.head.contains(needle) {
            return Err(format!("{needle:?} not in head {:?}", r.head));
        }
    } else {
        if serde_json::from_str::<serde_json::Value>(&body).is_err() {
            return Err(format!("body is not JSON: {body:?}"));
        }
        if !body.contains(needle) {
            return Err(format!("{needle:?} not in body {body:?}"));
        }
    }
    Ok(())
}

/// Checks the websocket's answer to an attack.
pub fn check_ws(ws: &mut Ws, expect: Expect, deadline: Instant) -> Result<(), String> {
    match expect {
        Expect::Close(code) => expect_close(ws, code, false, deadline),
        Expect::EioClose(code) => expect_close(ws, code, true, deadline),
        Expect::ConnectError(message) => {
            let packet = ws.wait_text(deadline, |t| t.starts_with("44") || t.starts_with("40"))?;
            let json = packet[2..]
                .split_once(',')
                .filter(|_| packet[2..].starts_with('/'));
            let json = json.map_or(&packet[2..], |(_, j)| j);
            let v: serde_json::Value =
                serde_json::from_str(json).map_err(|_| format!("answer {packet:?}"))?;
            if !packet.starts_with("44") || v["message"] != message {
                return Err(format!("answer {packet:?}"));
            }
            Ok(())
        }
        Expect::Error(needle) => {
            let packet = ws.wait_text(deadline, |t| {
                raw::event_of(t).is_some_and(|(n, _)| n == "error")
            })?;
            let (_, data) = raw::event_of(&packet).expect("matched as an event above");
            if !data["message"].as_str().is_some_and(|m| m.contains(needle)) {
                return Err(format!("error event {packet:?}"));
            }
            heartbeat(ws, deadline)
        }
        Expect::Reply(prefix) => ws.wait_text(deadline, |t| t.starts_with(prefix)).map(drop),
        Expect::Pong(payload) => loop {
            match ws.next(deadline) {
                Next::Frame(f) if f.opcode == raw::OP_PONG && f.payload == payload => {
                    return Ok(());
                }
                Next::Frame(f) if f.opcode == raw::OP_TEXT => {}
                other => return Err(raw::describe(&other)),
            }
        },
        Expect::Alive => heartbeat(ws, deadline),
        other => Err(format!("{other:?} is not a websocket expectation")),
    }
}

/// A heartbeat gets its `heartbeat_ack`.
pub fn heartbeat(ws: &mut Ws, deadline: Instant) -> Result<(), String> {
    ws.send_text(r#"42["heartbeat",{"timestamp":4242}]"#)?;
    ws.wait_text(deadline, |t| {
        t.starts_with(r#"42["heartbeat_ack",{"timestamp":4242"#)
    })
    .map(drop)
    .map_err(|e| format!("no heartbeat_ack: {e}"))
}

/// Reads until a close frame: it must carry `code` (after an Engine.IO `1` when `eio_close`),
/// and the TCP connection must end after it.
fn expect_close(ws: &mut Ws, code: u16, eio_close: bool, deadline: Instant) -> Result<(), String> {
    let mut saw_eio_close = false;
    let mut texts = Vec::new();
    loop {
        match ws.next(deadline) {
            Next::Frame(f) if f.opcode == raw::OP_CLOSE => {
                if f.close_code() != Some(code) {
                    return Err(format!(
                        "close frame {:?} (after {texts:?})",
                        f.close_code()
                    ));
                }
                break;
            }
            Next::Frame(f) if f.opcode == raw::OP_TEXT && f.payload == b"1" => {
                saw_eio_close = true;
            }
            Next::Frame(f) if f.opcode == raw::OP_TEXT && f.payload == b"2" => {
                let _ = ws.send_text("3");
            }
            Next::Frame(f) => texts.push(raw::cut(&f.text(), 60)),
            Next::Ended(Ended::Closed) => {
                return Err(format!("closed without a close frame (after {texts:?})"));
            }
            Next::Ended(Ended::Timeout) => {
                return Err(format!("no close before the deadline (after {texts:?})"));
            }
        }
    }
    if eio_close && !saw_eio_close {
        return Err(format!(
            "no Engine.IO close packet before the close frame (got {texts:?})"
        ));
    }
    match ws.next(deadline) {
        Next::Ended(Ended::Closed) => Ok(()),
        other => Err(format!("after the close frame: {}", raw::describe(&other))),
    }
}

/// Generates one `#[test]` per line: `name: server, attack => expected;`.
#[macro_export]
macro_rules! hostile {
    ($($name:ident: $srv:ident, $attack:expr => $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            $crate::run(stringify!($name), $crate::Srv::$srv, $attack, $expect);
        }
    )*};
}
