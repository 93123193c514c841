//! Redis clustering against a real `redis-server` and the ecosystem's own peers: the Node
//! `@socket.io/redis-emitter`, a Node socket.io server on `@socket.io/redis-adapter`, and
//! python-socketio's `AsyncRedisManager`. The engine side is a recording `LocalNode`.
//!
//! Needs `redis-server`, `node` with tests/clients/js-redis installed, and `.venv` with
//! tests/clients/py/requirements-redis.txt: `bash scripts/install-test-deps`.

mod emitter;
mod node_adapter;
mod publish;
mod python;
mod reconnect;
mod support;
mod throughput;
