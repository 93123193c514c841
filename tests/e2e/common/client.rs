//! Client processes: [`Proc`] runs any program and reads its stdout lines with deadlines;
//! [`Client`] drives `tests/clients/{js/driver.js,py/driver.py}` over JSON lines.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};

use super::server::{context, keep_tail};
use super::{DEADLINE, Server, js_dir, jwt, repo, venv_bin};

/// How many of a client's last output lines a failure message shows.
const SHOW_LINES: usize = 60;

/// Which stock client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// socket.io-client 4.8 on Node.
    Js,
    /// python-socketio 5 AsyncClient (aiohttp).
    Py,
}

/// A child program whose stdout lines are read with deadlines. Killed on drop.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    seen: VecDeque<String>,
    name: String,
    stderr: Arc<Mutex<String>>,
    server: (String, Arc<Mutex<String>>),
}

impl Proc {
    /// `node <script> <args>` (script relative to tests/clients/js).
    pub fn node(script: &str, args: &[&str], server: &Server) -> Proc {
        let mut cmd = Command::new("node");
        cmd.arg(js_dir().join(script)).args(args);
        Proc::spawn(cmd, format!("node {script} {args:?}"), server)
    }

    /// `.venv/bin/python <script> <args>` (script relative to tests/clients/py), unbuffered.
    pub fn python(script: &str, args: &[&str], server: &Server) -> Proc {
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(repo().join("tests/clients/py").join(script))
            .args(args)
            .env("PYTHONUNBUFFERED", "1");
        Proc::spawn(cmd, format!("python {script} {args:?}"), server)
    }

    /// Any command, its stdout read line by line.
    pub fn spawn(mut cmd: Command, name: String, server: &Server) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        keep_tail(
            child.stderr.take().expect("stderr is piped"),
            Arc::clone(&stderr),
        );
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            stdin: child.stdin.take(),
            child,
            rx,
            seen: VecDeque::new(),
            name,
            stderr,
            server: (format!("server on port {}", server.port), server.log()),
        }
    }

    /// The next stdout line, waiting until `deadline`; `None` at the deadline. Fails at once if
    /// the program exited.
    pub fn line_until(&mut self, deadline: Instant, what: &str) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(line) => {
                if self.seen.len() == SHOW_LINES {
                    self.seen.pop_front();
                }
                self.seen.push_back(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().ok();
                // let the stderr reader drain the dead child's last words
                std::thread::sleep(std::time::Duration::from_millis(100));
                self.fail(&format!("exited ({status:?}) while waiting for {what}"))
            }
        }
    }

    /// Waits for the first line satisfying `pred` (earlier lines are skipped, and shown on
    /// failure).
    pub fn expect_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.line_until(deadline, what) {
                Some(line) if pred(&line) => return line,
                Some(_) => {}
                None => self.fail(&format!("no {what} within {DEADLINE:?}")),
            }
        }
    }

    /// Writes one line to its stdin.
    pub fn write_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is piped");
        if let Err(e) = stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
        {
            self.fail(&format!("cannot write {line:?} to its stdin: {e}"));
        }
    }

    /// Fails the test with everything that explains it.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{}: {msg}\n{}", self.name, self.context())
    }

    /// Its last lines, its stderr and the server's stderr.
    pub fn context(&self) -> String {
        let lines: Vec<&str> = self.seen.iter().map(String::as_str).collect();
        format!(
            "--- {} stdout (last {} lines):\n{}\n{}\n{}",
            self.name,
            lines.len(),
            lines.join("\n"),
            context(&self.name, &self.stderr),
            context(&self.server.0, &self.server.1)
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to connect one socket (defaults: the server's URL, path `/ws/`, a valid token, default
/// transports).
#[derive(Clone, Debug)]
pub struct Connect {
    url: String,
    path: Option<String>,
    auth: Option<Value>,
    transports: Option<Vec<String>>,
}

impl Connect {
    /// The defaults for `server`.
    pub fn to(server: &Server) -> Connect {
        Connect {
            url: server.url(),
            path: Some("/ws/".into()),
            auth: Some(json!({"token": jwt::valid("user-1")})),
            transports: None,
        }
    }

    /// Another Engine.IO path (`None`: the client's default, `/socket.io/`).
    pub fn path(mut self, path: Option<&str>) -> Connect {
        self.path = path.map(str::to_owned);
        self
    }

    /// `auth: {token}`, or no auth at all for `None`.
    pub fn token(mut self, token: Option<String>) -> Connect {
        self.auth = token.map(|t| json!({"token": t}));
        self
    }

    /// Any handshake auth object.
    pub fn auth(mut self, auth: Value) -> Connect {
        self.auth = Some(auth);
        self
    }

    /// Restricts the transports (`["websocket"]`, `["polling"]`).
    pub fn transports(mut self, transports: &[&str]) -> Connect {
        self.transports = Some(transports.iter().map(|t| (*t).to_owned()).collect());
        self
    }
}

/// A driver process (one per language) holding any number of named sockets.
#[derive(Debug)]
pub struct Client {
    proc: Proc,
    /// Lines read but not yet consumed by an `expect`.
    backlog: VecDeque<Value>,
    next_ack: u64,
    /// Which client.
    pub lang: Lang,
}

impl Client {
    /// Starts a driver and waits for its `ready` line.
    pub fn spawn(lang: Lang, server: &Server) -> Client {
        let proc = match lang {
            Lang::Js => Proc::node("driver.js", &[], server),
            Lang::Py => Proc::python("driver.py", &[], server),
        };
        let mut client = Client {
            proc,
            backlog: VecDeque::new(),
            next_ack: 0,
            lang,
        };
        client.expect("the driver's ready line", |v| v["type"] == "ready");
        client
    }

    /// Sends a raw command.
    pub fn send(&mut self, cmd: &Value) {
        self.proc.write_line(&cmd.to_string());
    }

    /// Starts connecting socket `sock` (see [`Client::connected`] to also wait).
    pub fn connect(&mut self, sock: &str, how: &Connect) {
        let mut cmd = json!({"cmd": "connect", "sock": sock, "url": how.url});
        if let Some(path) = &how.path {
            cmd["path"] = json!(path);
        }
        if let Some(auth) = &how.auth {
            cmd["auth"] = auth.clone();
        }
        if let Some(t) = &how.transports {
            cmd["transports"] = json!(t);
        }
        self.send(&cmd);
    }

    /// Connects `sock` and waits for its `connect` (failing on `connect_error`); returns the line.
    pub fn connected(&mut self, sock: &str, how: &Connect) -> Value {
        self.connect(sock, how);
        let line = self.expect(&format!("{sock} to connect"), |v| {
            v["sock"] == sock && (v["type"] == "connect" || v["type"] == "connect_error")
        });
        if line["type"] == "connect_error" {
            self.fail(&format!("{sock} could not connect ({how:?}): {line}"));
        }
        line
    }

    /// Connects `sock`, expecting a refusal: returns the `connect_error` message.
    pub fn refused(&mut self, sock: &str, how: &Connect) -> String {
        self.connect(sock, how);
        let line = self.expect(&format!("{sock}'s connect_error"), |v| {
            v["sock"] == sock && (v["type"] == "connect" || v["type"] == "connect_error")
        });
        if line["type"] == "connect" {
            self.fail(&format!(
                "{sock} connected but the server must refuse ({how:?})"
            ));
        }
        match line["message"].as_str() {
            Some(m) => m.to_owned(),
            None => self.fail(&format!("connect_error without a message: {line}")),
        }
    }

    /// Emits `event` with `args` (a JSON array; `{"$bin": base64}` is binary) on `sock`.
    pub fn emit(&mut self, sock: &str, event: &str, args: Value) {
        self.send(&json!({"cmd": "emit", "sock": sock, "event": event, "args": args}));
    }

    /// Emits with an ack callback; returns the ack id for [`Client::expect_ack`].
    pub fn emit_ack(&mut self, sock: &str, event: &str, args: Value) -> u64 {
        self.next_ack += 1;
        let id = self.next_ack;
        self.send(&json!({"cmd": "emit", "sock": sock, "event": event, "args": args, "ack": id}));
        id
    }

    /// Waits for the first line (backlog first) satisfying `pred` and consumes it. A `fatal`
    /// line (the driver could not run a command) fails at once.
    pub fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).expect("index from position");
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            let Some(line) = self.proc.line_until(deadline, what) else {
                self.fail(&format!("no {what} within {DEADLINE:?}"))
            };
            let value: Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) => self.fail(&format!("driver printed a non-JSON line ({e}): {line:?}")),
            };
            if value["type"] == "fatal" {
                self.fail(&format!("driver error while waiting for {what}: {value}"));
            }
            if pred(&value) {
                return value;
            }
            self.backlog.push_back(value);
        }
    }

    /// Waits for event `event` on `sock`; returns its args.
    pub fn expect_event(&mut self, sock: &str, event: &str) -> Vec<Value> {
        let line = self.expect(&format!("event {event:?} on {sock}"), |v| {
            v["type"] == "event" && v["sock"] == sock && v["event"] == event
        });
        args(&line)
    }

    /// Waits for the ack `id` on `sock`; returns its args.
    pub fn expect_ack(&mut self, sock: &str, id: u64) -> Vec<Value> {
        let line = self.expect(&format!("ack #{id} on {sock}"), |v| {
            v["type"] == "ack" && v["sock"] == sock && v["ack"] == id
        });
        args(&line)
    }

    /// Subscribes `sock` to `room` and waits for `subscribed {room}`.
    pub fn subscribe(&mut self, sock: &str, room: &str) {
        self.emit(sock, "subscribe", json!([{ "room": room }]));
        let got = self.expect_event(sock, "subscribed");
        if got != [json!({ "room": room })] {
            self.fail(&format!(
                "subscribe {room}: expected subscribed [{{room: {room:?}}}], got {got:?}"
            ));
        }
    }

    /// Unsubscribes `sock` from `room` and waits for `unsubscribed {room}`.
    pub fn unsubscribe(&mut self, sock: &str, room: &str) {
        self.emit(sock, "unsubscribe", json!([{ "room": room }]));
        let got = self.expect_event(sock, "unsubscribed");
        if got != [json!({ "room": room })] {
            self.fail(&format!(
                "unsubscribe {room}: expected unsubscribed [{{room: {room:?}}}], got {got:?}"
            ));
        }
    }

    /// Every event line of `sock` read so far and not yet consumed, in arrival order (consumed).
    pub fn take_events(&mut self, sock: &str) -> Vec<(String, Vec<Value>)> {
        let mut taken = Vec::new();
        self.backlog.retain(|v| {
            if v["type"] == "event" && v["sock"] == sock {
                taken.push((v["event"].as_str().unwrap_or_default().to_owned(), args(v)));
                false
            } else {
                true
            }
        });
        taken
    }

    /// Unconsumed lines of `sock` of the given type (not consumed).
    pub fn pending(&self, sock: &str, kind: &str) -> Vec<Value> {
        self.backlog
            .iter()
            .filter(|v| v["sock"] == sock && v["type"] == kind)
            .cloned()
            .collect()
    }

    /// Fails the test with the driver's and the server's output.
    pub fn fail(&self, msg: &str) -> ! {
        self.proc.fail(&format!("[{:?} client] {msg}", self.lang))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A polite exit first, so sockets close cleanly; Proc's drop kills it regardless.
        if !std::thread::panicking() {
            let _ = self
                .proc
                .stdin
                .as_mut()
                .map(|s| s.write_all(b"{\"cmd\":\"exit\"}\n"));
        }
    }
}

fn args(line: &Value) -> Vec<Value> {
    line["args"].as_array().cloned().unwrap_or_default()
}
