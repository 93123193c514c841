//! Production behaviour, proven with real clients: a real browser (Debian's Chromium driven by
//! playwright-core) on another origin, a few hundred stock socket.io-client sockets drained by
//! SIGTERM, `/metrics` after real traffic, the command line (`--help`, bad configurations,
//! `ringcast token`). Each test runs the `ringcast` binary itself, as an operator would.
//!
//! Needs `bash scripts/install-test-deps` first (Node packages from
//! `tests/production/js/package-lock.json`, and `/usr/bin/chromium`).

mod harness;

mod browser;
mod cli;
mod drain;
mod metrics;
mod token;
