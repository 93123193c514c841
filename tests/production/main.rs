//! Production behaviour, proven with real clients: a real browser (Debian's Chromium driven by
//! playwright-core) on another origin, a few hundred stock socket.io-client sockets drained by
//! SIGTERM, `/metrics` after real traffic, the log (summary, rate-limited lines, ids, the last
//! line), the command line (`--help`, bad configurations, `ringcast token`), the systemd unit,
//! the Socket.IO admin UI (its own build in Chromium, and socket.io-client on `/admin`).
//! Each test runs the `ringcast` binary itself, as an operator would.
//!
//! Needs `bash scripts/install-test-deps` first (Node packages from
//! `tests/production/js/package-lock.json`, `/usr/bin/chromium` and `systemd-analyze`).

mod admin_ui;
mod admin_ui_browser;
mod browser;
mod cli;
mod drain;
mod listen;
mod logs;
mod metrics;
mod ping_timeout;
mod protocol_closes;
mod require_exp;
mod safe_defaults;
mod systemd;
mod token;
mod webhooks;

use std::path::Path;
use std::time::Duration;

use ringcast_test_support::{Gateway, Proc, production_js};

/// The binary under test (only this package's integration tests see `CARGO_BIN_EXE_ringcast`).
fn ringcast() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ringcast"))
}

/// The gateway as an operator would run it here: two workers, so sessions and broadcasts cross
/// cores.
fn gateway() -> Gateway {
    Gateway::new(ringcast()).workers(2)
}

/// `node tests/production/js/<script> <args>`. Given time to exit once its stdin closes: the
/// browser driver removes its profile then.
fn node(script: &str, args: &[&str]) -> Proc {
    Proc::node(&production_js(), script, args).grace(Duration::from_secs(5))
}
