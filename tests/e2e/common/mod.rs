//! The e2e harness: start a server on 127.0.0.1:0, mint tokens, publish over HTTP, and drive the
//! stock Node (socket.io-client 4.8) and Python (python-socketio 5) clients.
//!
//! Every wait has a deadline ([`DEADLINE`]) and fails with context (what was awaited, what the
//! client printed, the server's stderr): a test that hangs is a bug. Deadlines are generous
//! because five people share two cores here; they are not timing assertions.
//!
//! `RINGCAST_E2E_TARGET=node` runs the gateway tests against `tests/clients/js/peers/gateway.js` (and the
//! protocol-suite examples against their Node twins in `tests/clients/js/peers/`), to prove the
//! tests pass against a known-correct implementation.

pub mod client;
pub mod http;
pub mod jwt;
pub mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use client::{Client, Connect, Lang, Proc};
pub use http::{post, publish, publish_ok, publish_until_delivered};
pub use server::{Example, Server, ServerOpts};

/// How long any single wait may take before the test fails with context.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The HS256 secret every test server is started with.
pub const JWT_SECRET: &str = "e2e-test-secret-0123456789abcdef";

/// The publish API key every test server is started with.
pub const API_KEY: &str = "e2e-test-api-key";

/// What the gateway tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `env!("CARGO_BIN_EXE_ringcast")` and the crate's examples.
    Ringcast,
    /// The Node socket.io 4.8 peers (testing the tests).
    Node,
}

impl Target {
    /// Reads `RINGCAST_E2E_TARGET` (`ringcast`, the default, or `node`).
    pub fn get() -> Target {
        match std::env::var("RINGCAST_E2E_TARGET").as_deref() {
            Err(_) | Ok("") | Ok("ringcast") => Target::Ringcast,
            Ok("node") => Target::Node,
            Ok(other) => panic!("RINGCAST_E2E_TARGET={other:?}: expected `ringcast` or `node`"),
        }
    }
}

/// The repository root (where Cargo.toml, tests/ and bench/ live).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/clients/js`, checked to be installed.
pub fn js_dir() -> PathBuf {
    let dir = repo().join("tests/clients/js");
    for needed in ["socket.io-client", "socket.io", "ws"] {
        assert!(
            dir.join("node_modules").join(needed).is_dir(),
            "{} is missing: run scripts/install-test-deps",
            dir.join("node_modules").join(needed).display()
        );
    }
    dir
}

/// `.venv/bin/<tool>`, checked to be installed.
pub fn venv_bin(tool: &str) -> PathBuf {
    let path = repo().join(".venv/bin").join(tool);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-test-deps",
        path.display()
    );
    path
}

/// A unique suffix for room ids, so concurrent tests never share rooms (each also has its own
/// server, but the Node peer and a future shared server should not make tests interfere).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
