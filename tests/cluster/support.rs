//! Test harness: a real `redis-server` on a free loopback port (killed on drop), plain or TLS
//! with certificates generated at test time ([`TestPki`]), a recording `LocalNode` standing in
//! for the engine, helpers to run the Node/Python peers, and waits with generous deadlines that
//! fail with context.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringcast::Room;
use ringcast::cluster::{
    Bridge, ClusterStatus, LocalNode, RedisOptions, RemoteCommand, Selector, SocketInfo,
    StatsSnapshot, start,
};
use ringcast::engine::BroadcastOp;

/// Every wait gives up after this long (generous: two cores shared by several builds).
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Polls `done` every 20 ms until it holds; panics with `what` and `context()` at the deadline.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > DEADLINE {
            panic!(
                "timed out after {DEADLINE:?} waiting for {what}; {}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port nothing listens on (bound then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A `redis-server` child on 127.0.0.1:`port`, no persistence; with [`RedisServer::start_tls`]
/// its only port speaks TLS.
#[derive(Debug)]
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    /// The certificates of a TLS server (`--port 0 --tls-port port`).
    tls: Option<ServerTls>,
}

/// The files a TLS redis-server is started with.
#[derive(Debug, Clone)]
struct ServerTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> RedisServer {
        let mut server = RedisServer {
            port,
            child: None,
            tls: None,
        };
        server.spawn();
        server
    }

    /// A server that accepts only TLS (no plain port), presenting `pki`'s server certificate
    /// (valid for 127.0.0.1) and not asking clients for one (`--tls-auth-clients no`).
    pub fn start_tls(pki: &TestPki) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            tls: Some(ServerTls {
                ca: pki.ca.clone(),
                cert: pki.cert.clone(),
                key: pki.key.clone(),
            }),
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:port/`, or `rediss://…` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// A plain (non-pubsub) connection for publishing test messages (over TLS, trusting the
    /// test CA, for a TLS server).
    pub fn connection(&self) -> redis::Connection {
        self.client()
            .get_connection()
            .expect("connect to the test redis")
    }

    fn client(&self) -> redis::Client {
        match &self.tls {
            None => redis::Client::open(self.url()).expect("url"),
            Some(tls) => {
                let certificates = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(&tls.ca).expect("read the test CA")),
                };
                redis::Client::build_with_tls(self.url(), certificates).expect("TLS client")
            }
        }
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let mut args: Vec<String> = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            .map(String::from)
            .to_vec();
        match &self.tls {
            None => args.extend(["--port".into(), port.clone()]),
            Some(tls) => {
                let path = |p: &PathBuf| p.display().to_string();
                args.extend([
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    port.clone(),
                    "--tls-cert-file".into(),
                    path(&tls.cert),
                    "--tls-key-file".into(),
                    path(&tls.key),
                    "--tls-ca-cert-file".into(),
                    path(&tls.ca),
                    "--tls-auth-clients".into(),
                    "no".into(),
                ]);
            }
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/install-test-deps installs it)");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{port}");
        wait_until(
            "redis-server to accept connections",
            || match self.tls {
                None => TcpStream::connect(&addr)
                    .and_then(|mut s| {
                        s.write_all(b"PING\r\n")?;
                        let mut line = String::new();
                        BufReader::new(s).read_line(&mut line)?;
                        Ok(line.starts_with("+PONG"))
                    })
                    .unwrap_or(false),
                // A PING through a full TLS handshake: the port is up and the certificate fits.
                Some(_) => self
                    .client()
                    .get_connection()
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                    .is_ok_and(|pong| pong == "PONG"),
            },
            || format!("port {port} {args:?}"),
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CA and a server certificate it signed for 127.0.0.1 and localhost, generated with rcgen
/// and written as PEM files to a fresh directory (removed on drop).
#[derive(Debug)]
pub struct TestPki {
    dir: PathBuf,
    /// The CA certificate: what clients must trust.
    pub ca: PathBuf,
    /// The server's certificate and its key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestPki {
    /// `name` goes into the CA's common name and the directory name.
    pub fn generate(name: &str) -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

        let mut ca_params = CertificateParams::new(Vec::new()).expect("no names");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("ringcast test CA {name}"));
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-signed CA");
        let issuer = Issuer::new(ca_params, ca_key);

        // rcgen turns a name that parses as an IP address into an IP SAN, which is what rustls
        // checks for rediss://127.0.0.1.
        let mut params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("server names");
        params
            .distinguished_name
            .push(DnType::CommonName, "redis-server");
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ringcast-pki-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the PKI directory");
        let write = |file: &str, pem: String| {
            let path = dir.join(file);
            std::fs::write(&path, pem).expect("write a PEM file");
            path
        };
        TestPki {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("server.pem", cert.pem()),
            key: write("server.key", key.serialize_pem()),
            dir,
        }
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the engine would be: records every call, answers from configured state.
#[derive(Debug, Default)]
pub struct RecordingNode {
    pub rooms: Mutex<BTreeSet<String>>,
    pub sockets: Mutex<Vec<SocketInfo>>,
    pub delivered: Mutex<Vec<BroadcastOp>>,
    pub applied: Mutex<Vec<RemoteCommand>>,
}

impl RecordingNode {
    pub fn with_rooms(rooms: &[&str]) -> Arc<RecordingNode> {
        let node = RecordingNode::default();
        node.rooms
            .lock()
            .expect("lock")
            .extend(rooms.iter().map(|r| r.to_string()));
        Arc::new(node)
    }

    pub fn delivered_texts(&self) -> Vec<String> {
        self.delivered
            .lock()
            .expect("lock")
            .iter()
            .map(text)
            .collect()
    }

    pub fn find(&self, prefix: &str) -> Option<BroadcastOp> {
        self.delivered
            .lock()
            .expect("lock")
            .iter()
            .find(|op| text(op).starts_with(prefix))
            .cloned()
    }

    pub fn applied(&self) -> Vec<RemoteCommand> {
        self.applied.lock().expect("lock").clone()
    }

    fn matches(selector: &Selector, s: &SocketInfo) -> bool {
        let has = |r: &Room| s.id == r.as_str() || s.rooms.iter().any(|x| x == r.as_str());
        (selector.rooms.is_empty() || selector.rooms.iter().any(has))
            && !selector.except.iter().any(has)
    }
}

impl LocalNode for RecordingNode {
    fn has_local_room(&self, _nsp: &str, room: &str) -> bool {
        self.rooms.lock().expect("lock").contains(room)
    }
    fn deliver(&self, op: BroadcastOp) {
        self.delivered.lock().expect("lock").push(op);
    }
    fn apply(&self, command: RemoteCommand) {
        self.applied.lock().expect("lock").push(command);
    }
    fn fetch_sockets(&self, selector: Selector, reply: Box<dyn FnOnce(Vec<SocketInfo>) + Send>) {
        let found: Vec<SocketInfo> = self
            .sockets
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| Self::matches(&selector, s))
            .cloned()
            .collect();
        // From another thread, as the engine's workers answer.
        std::thread::spawn(move || reply(found));
    }
    fn all_rooms(&self, _nsp: &str, reply: Box<dyn FnOnce(Vec<Room>) + Send>) {
        reply(
            self.rooms
                .lock()
                .expect("lock")
                .iter()
                .map(|r| Room::from(r.as_str()))
                .collect(),
        );
    }
}

/// The Engine.IO text of a broadcast's first frame (`42[…]`).
pub fn text(op: &BroadcastOp) -> String {
    String::from_utf8(op.frames[0].payload().to_vec()).expect("utf-8 frame")
}

/// Starts a bridge for `node` and waits until it is connected.
pub fn connected_bridge(redis: &RedisServer, node: Arc<RecordingNode>) -> Arc<Bridge> {
    let bridge = start(&redis.url(), RedisOptions::default(), node).expect("valid url");
    wait_until(
        "the bridge to connect",
        || bridge.status() == ClusterStatus::Connected,
        || stats(&bridge),
    );
    bridge
}

pub fn stats(bridge: &Bridge) -> String {
    let s: StatsSnapshot = bridge.stats().snapshot();
    format!("{s:?}")
}

/// Runs a future on a throwaway tokio runtime (the bridge's query API is runtime-agnostic).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A peer program whose stdout lines are collected by a thread.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub lines: Arc<Mutex<Vec<String>>>,
    name: String,
}

impl Peer {
    /// `node tests/clients/js-redis/<script> args…`
    pub fn node(script: &str, args: &[&str]) -> Peer {
        let dir = repo().join("tests/clients/js-redis");
        let mut cmd = Command::new("node");
        cmd.arg(dir.join(script)).args(args).current_dir(&dir);
        Peer::spawn(script, cmd)
    }

    /// `.venv/bin/python tests/clients/py/<script> args…`
    pub fn python(script: &str, args: &[&str]) -> Peer {
        let mut cmd = Command::new(repo().join(".venv/bin/python"));
        cmd.arg(repo().join("tests/clients/py").join(script))
            .args(args);
        Peer::spawn(script, cmd)
    }

    fn spawn(name: &str, mut cmd: Command) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{name} did not start ({e}); run scripts/install-test-deps")
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        let stdin = child.stdin.take();
        Peer {
            child,
            stdin,
            lines,
            name: name.to_owned(),
        }
    }

    /// Sends one JSON line on stdin.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .expect("write to the peer");
    }

    /// Waits for a stdout line satisfying `pred`; returns it.
    pub fn expect_line(
        &self,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let mut found = None;
        wait_until(
            what,
            || {
                found = self
                    .lines
                    .lock()
                    .expect("lock")
                    .iter()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find(|v| pred(v));
                found.is_some()
            },
            || {
                format!(
                    "{} printed {:?}",
                    self.name,
                    self.lines.lock().expect("lock")
                )
            },
        );
        found.unwrap_or_default()
    }

    /// Waits for the program to exit successfully.
    pub fn wait_success(mut self) {
        let start = Instant::now();
        loop {
            match self.child.try_wait().expect("wait") {
                Some(status) => {
                    assert!(
                        status.success(),
                        "{} failed: {status}; printed {:?}",
                        self.name,
                        self.lines.lock().expect("lock")
                    );
                    return;
                }
                None if start.elapsed() > DEADLINE => {
                    panic!("{} did not finish within {DEADLINE:?}", self.name)
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
