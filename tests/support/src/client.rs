//! The stock clients, socket.io-client 4.8 (Node) and python-socketio 5 (asyncio), driven over
//! JSON lines by `tests/clients/{js/driver.js,py/driver.py}`: any number of named sockets each.

use serde_json::{Value, json};

use crate::proc::Proc;
use crate::{Server, clients_js, clients_js_v2, token};

/// Which stock client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// socket.io-client 4.8 on Node.
    Js,
    /// python-socketio 5 AsyncClient (aiohttp).
    Py,
    /// socket.io-client 2.5 on Node (Engine.IO v3: the server needs `--allow-eio3 true`); the
    /// auth object travels as its handshake query.
    JsV2,
}

/// How to connect one socket (defaults: the server's URL, path `/ws/`, a valid token, default
/// transports).
#[derive(Clone, Debug)]
pub struct Connect {
    url: String,
    path: Option<String>,
    auth: Option<Value>,
    transports: Option<Vec<String>>,
    options: Option<Value>,
    parser: Option<String>,
}

impl Connect {
    /// The defaults for `server`.
    pub fn to(server: &Server) -> Connect {
        Connect {
            url: server.url(),
            path: Some("/ws/".into()),
            auth: Some(json!({"token": token::good()})),
            transports: None,
            options: None,
            parser: None,
        }
    }

    /// Another server URL (a proxy in front of the server, say).
    pub fn url(mut self, url: String) -> Connect {
        self.url = url;
        self
    }

    /// More client options, merged into the driver's (Node: the `io()` options, such as
    /// `{"reconnection": true, "reconnectionDelay": 50}`; the driver's default is no
    /// reconnection).
    pub fn options(mut self, options: Value) -> Connect {
        self.options = Some(options);
        self
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

    /// Another Socket.IO parser: `"msgpack"` (socket.io-msgpack-parser on Node, python-socketio's
    /// msgpack serializer).
    pub fn parser(mut self, parser: &str) -> Connect {
        self.parser = Some(parser.to_owned());
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
    next_ack: u64,
    /// Which client.
    pub lang: Lang,
}

impl Client {
    /// Starts a driver and waits for its `ready` line.
    pub fn spawn(lang: Lang, server: &Server) -> Client {
        let proc = match lang {
            Lang::Js => Proc::node(&clients_js(), "driver.js", &[]),
            Lang::Py => Proc::python("driver.py", &[]),
            Lang::JsV2 => Proc::node(&clients_js_v2(), "driver.js", &[]),
        };
        let mut client = Client {
            proc: proc.watching(server).strict_json(),
            next_ack: 0,
            lang,
        };
        client.expect("the driver's ready line", |v| v["type"] == "ready");
        client
    }

    /// Sends a raw command.
    pub fn send(&mut self, cmd: &Value) {
        self.proc.send(cmd);
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
        if let Some(o) = &how.options {
            cmd["options"] = o.clone();
        }
        if let Some(p) = &how.parser {
            cmd["parser"] = json!(p);
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

    /// Waits for the first line (earlier unconsumed lines first) satisfying `pred` and consumes
    /// it. A `fatal` line (the driver could not run a command) fails at once.
    pub fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.proc.expect(what, pred)
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
        self.proc
            .take_read(|v| v["type"] == "event" && v["sock"] == sock)
            .iter()
            .map(|v| (v["event"].as_str().unwrap_or_default().to_owned(), args(v)))
            .collect()
    }

    /// Unconsumed lines of `sock` of the given type (not consumed).
    pub fn pending(&self, sock: &str, kind: &str) -> Vec<Value> {
        self.proc
            .pending(|v| v["sock"] == sock && v["type"] == kind)
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
            self.proc.write_line_quietly(r#"{"cmd":"exit"}"#);
        }
    }
}

fn args(line: &Value) -> Vec<Value> {
    line["args"].as_array().cloned().unwrap_or_default()
}
