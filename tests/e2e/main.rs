//! End-to-end tests with stock clients: socket.io-client 4.8 (Node) and python-socketio 5
//! (asyncio), one module per behaviour. Needs `bash scripts/install-test-deps` first.
//!
//! `RINGCAST_E2E_TARGET=node cargo test --test e2e` runs the same tests against the Node peers
//! (tests/clients/js/peers/gateway.js and tests/clients/js/peers/) to test the tests.

mod auth;
mod autobahn;
mod bad_payloads;
mod binary;
mod burst;
mod compression;
mod eio3;
mod emit_targets;
mod epoll_driver;
mod heartbeat;
mod msgpack;
mod publish_api;
mod recovery;
mod rooms;
mod routing;
mod server_api_disconnect;
mod server_api_join;
mod server_api_revoke;
mod server_api_rooms;
mod server_api_users;
mod spec_js;
mod spec_python;
mod unsubscribe;
mod user_rooms;
mod workers;

use ringcast_test_support::{Gateway, Target};

/// The gateway under test: the ringcast binary (only this package's integration tests see
/// `CARGO_BIN_EXE_ringcast`), or its Node twin under `RINGCAST_E2E_TARGET=node`.
fn gateway() -> Gateway {
    Gateway::new(env!("CARGO_BIN_EXE_ringcast")).target(Target::from_env())
}
