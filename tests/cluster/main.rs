//! Redis clustering against a real `redis-server` and the ecosystem's own peers: the Node
//! `@socket.io/redis-emitter`, a Node socket.io server on `@socket.io/redis-adapter` (classic,
//! and `createShardedAdapter` for sharded mode), and python-socketio's `AsyncRedisManager`. The
//! bridge tests use a recording `LocalNode` as the engine; the `ringcast_*` / cluster modules run the real ringcast binary with stock clients.
//!
//! Needs `redis-server`, `node` with tests/clients/js-redis and tests/clients/js installed, and
//! `.venv` with tests/clients/py/requirements-redis.txt: `bash scripts/install-test-deps`.

mod cluster_message;
mod emitter;
mod node_adapter;
mod publish;
mod publish_truth;
mod python;
mod reconnect;
mod recording_node;
mod ringcast;
mod ringcast_admin_ui_node_mixed;
mod ringcast_admin_ui_two_nodes;
mod ringcast_emit_targets;
mod ringcast_emitter;
mod ringcast_node_mixed;
mod ringcast_node_mixed_targets;
mod ringcast_python;
mod ringcast_redis_down_log;
mod ringcast_redis_frozen_publish_truth;
mod ringcast_redis_killed_publish_truth;
mod ringcast_redis_late;
mod ringcast_redis_restart;
mod ringcast_redis_tls;
mod ringcast_redis_tls_wrong_ca;
mod ringcast_server_api;
mod ringcast_server_api_node_mixed;
mod ringcast_sharded;
mod ringcast_sharded_node_mixed;
mod ringcast_streams_catch_up;
mod ringcast_streams_delivered;
mod ringcast_streams_node_mixed;
mod ringcast_streams_node_mixed_owner;
mod ringcast_streams_node_mixed_recovery;
mod ringcast_streams_node_publisher;
mod ringcast_streams_quiet_kill;
mod ringcast_streams_recovery;
mod ringcast_streams_redis_restart;
mod ringcast_streams_trimmed_offset;
mod ringcast_webhooks_two_nodes;
mod throughput;
mod two_nodes;

use ringcast_test_support::{Gateway, Target};

/// A ringcast node: the binary (only this package's integration tests see
/// `CARGO_BIN_EXE_ringcast`), or the Node gateway under `RINGCAST_E2E_TARGET=node`.
fn gateway() -> Gateway {
    Gateway::new(env!("CARGO_BIN_EXE_ringcast")).target(Target::from_env())
}
