//! The one harness of ringcast's integration suites (`tests/e2e`, `tests/production`,
//! `tests/hostile`, `tests/cluster`) and of the soak driver (`examples/soak.rs`).
//!
//! - [`Server`]: any server process (ringcast, a Node peer, an example), killed on drop, waited
//!   for by its listening line, its stderr kept for failure messages; [`Gateway`] configures
//!   ringcast itself, [`cli`] runs its one-shot commands; [`Server::log_lines`] reads its log
//!   (text or JSON) as [`LogLine`]s.
//! - [`http`]: one HTTP/1.1 client (Content-Length or chunked bodies), raw by address or
//!   failing with a server's context; [`Metrics`] reads `/metrics`.
//! - [`token`]: every JWT the suites mint, good and bad.
//! - [`raw`]: a hand-written WebSocket / Engine.IO / Socket.IO client, to send what no stock
//!   client would; [`procfs`]: a process's RSS, fds and sockets.
//! - [`Proc`]: Node and Python programs speaking JSON lines; [`Client`]: the stock-client
//!   drivers on top of it.
//! - [`Proxy`]: a TCP proxy a test can cut (a network drop) or point elsewhere.
//! - [`RedisServer`] and [`TestPki`]: a real redis-server, plain or TLS.
//! - [`Shell`]: a bash session fed a README's blocks; [`ScratchDir`]: a test's temporary
//!   directory.
//!
//! The binary under test is a parameter: only the root package's integration tests see
//! `CARGO_BIN_EXE_ringcast`, so each suite passes it in.
//!
//! Every wait has a deadline ([`DEADLINE`]) and fails with context (what was awaited, what the
//! program printed, the server's stderr). Deadlines are generous because several people share
//! two cores here; they bound a hang, they are not timing assertions.

pub mod admin_ui;
pub mod cli;
pub mod client;
pub mod gateway;
pub mod http;
pub mod log;
pub mod metrics;
pub mod proc;
pub mod procfs;
pub mod proxy;
pub mod raw;
pub mod recovery;
pub mod redis_server;
pub mod scratch;
pub mod server;
pub mod shell;
pub mod tcp;
pub mod token;
pub mod webhook_sink;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use client::{Client, Connect, Lang};
pub use gateway::{Example, Gateway, Target};
pub use http::Response;
pub use log::{LogLine, parse_lines};
pub use metrics::Metrics;
pub use proc::Proc;
pub use proxy::Proxy;
pub use redis_server::{RedisServer, TestPki};
pub use scratch::ScratchDir;
pub use server::{Launch, Server};
pub use shell::Shell;
pub use webhook_sink::{Answer, WebhookSink};

/// How long any single wait may take before the test fails with context.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The HS256 secret every test server starts with (RFC 7518 §3.2: 32 bytes or more).
pub const SECRET: &str = "ringcast-test-hs256-secret-0123456789abcdef";

/// The publish API key every test server starts with.
pub const API_KEY: &str = "ringcast-test-api-key-0123456789";

/// The repository root (where Cargo.toml, tests/ and examples/ live).
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}

/// A Node package directory under the repository, checked to have `packages` installed.
pub fn js_dir(rel: &str, packages: &[&str]) -> PathBuf {
    let dir = repo().join(rel);
    for package in packages {
        let path = dir.join("node_modules").join(package);
        assert!(
            path.is_dir(),
            "{} is missing: run `bash scripts/install-test-deps`",
            path.display()
        );
    }
    dir
}

/// `tests/clients/js`: the socket.io-client driver and the Node socket.io peers.
pub fn clients_js() -> PathBuf {
    js_dir("tests/clients/js", &["socket.io-client", "socket.io", "ws"])
}

/// `tests/clients/js-v2`: the socket.io-client 2.x driver (Engine.IO v3 clients).
pub fn clients_js_v2() -> PathBuf {
    js_dir("tests/clients/js-v2", &["socket.io-client"])
}

/// `tests/production/js`: the browser, the swarm and the stock clients of the production suite.
pub fn production_js() -> PathBuf {
    js_dir(
        "tests/production/js",
        &["socket.io-client", "playwright-core"],
    )
}

/// `tests/clients/js-redis`: the Node redis emitter and redis-adapter server.
pub fn redis_js() -> PathBuf {
    js_dir("tests/clients/js-redis", &[])
}

/// `.venv/bin/<tool>`, checked to be installed.
pub fn venv_bin(tool: &str) -> PathBuf {
    let path = repo().join(".venv/bin").join(tool);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/install-test-deps`",
        path.display()
    );
    path
}

/// A room id (or any name) no other test in this process uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `done` every 20 ms until it holds; panics with `what` and `context()` at [`DEADLINE`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        if Instant::now() > deadline {
            panic!(
                "timed out after {DEADLINE:?} waiting for {what}; {}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}
