//! ringcast: a thread-per-core io_uring Socket.IO v4 gateway.
//!
//! The engine ([`engine`], [`server`]) serves Engine.IO v4 / Socket.IO v5 on thread-per-core
//! monoio workers and calls an application [`engine::Handler`]; the gateway ([`app`], with its
//! rules in [`gateway`], [`auth`] and [`config`]) is one such handler.

pub mod app;
pub mod auth;
pub mod cluster;
pub mod config;
pub(crate) mod conn;
pub mod engine;
pub mod gateway;
pub mod mesh;
pub mod metrics;
pub mod room;
pub mod server;
pub mod sid;

pub use app::run;
pub use room::Room;
pub use sid::{ShardId, Sid};
