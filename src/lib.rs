//! ringcast: a thread-per-core io_uring Socket.IO v4 gateway.
//!
//! Layers, each allowed to use only the ones below it (`scripts/check-layers` enforces it):
//! - [`engine`]: Engine.IO v4 / Socket.IO v5 on thread-per-core monoio workers, calling an
//!   application [`engine::Handler`]; the adapter contract a cluster implements. Uses the codec,
//!   monoio and small crates only.
//! - `cluster` (cargo feature `cluster`, on by default): the Redis bridge and wire formats.
//! - [`auth`] (JWTs, API keys), [`config`] (every setting, declared once), [`metrics`].
//! - [`webhooks`]: signed HTTP callbacks for socket events, on their own thread.
//! - [`gateway`]: the spec's rules, the handler, and [`run`].
//! - [`admin`]: the Socket.IO admin UI's server side on `/admin`, beside `gateway` (which calls
//!   it), above `engine`.

pub mod admin;
pub mod auth;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod config;
pub mod engine;
pub mod gateway;
pub mod metrics;
pub mod webhooks;

pub use engine::{Room, ShardId, Sid};
pub use gateway::run;
