//! The harness: the `ringcast` binary as a child process on 127.0.0.1:0 ([`Server`]), Node
//! programs speaking JSON lines ([`Node`]), a small HTTP client ([`http`]) and a raw WebSocket
//! peer that stops reading ([`StalledPeer`]).
//!
//! Every wait has a deadline ([`DEADLINE`]) and fails with context: what was awaited, what the
//! program printed, the server's stderr. Deadlines are generous because several people share two
//! cores here; they bound a hang, they are not timing assertions.

pub mod http;
pub mod node;
pub mod server;
pub mod stalled;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use http::{Metrics, get, publish, publish_ok};
pub use node::Node;
pub use server::Server;
pub use stalled::StalledPeer;

/// How long any single wait may take before the test fails with context.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The HS256 secret every test server starts with (RFC 7518 §3.2: 32 bytes or more).
pub const JWT_SECRET: &str = "production-test-secret-0123456789abcdef";

/// The publish API key every test server starts with.
pub const API_KEY: &str = "production-test-api-key";

/// The `ringcast` binary cargo built for this test run.
pub fn ringcast() -> &'static str {
    env!("CARGO_BIN_EXE_ringcast")
}

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/production/js`, checked to be installed.
pub fn js_dir() -> PathBuf {
    let dir = repo().join("tests/production/js");
    for package in ["socket.io-client", "playwright-core"] {
        let path = dir.join("node_modules").join(package);
        assert!(
            path.is_dir(),
            "{} is missing: run `bash scripts/install-test-deps`",
            path.display()
        );
    }
    dir
}

/// A room id no other test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
