//! ringcast: a thread-per-core io_uring Socket.IO v4 gateway.

pub mod room;

pub use room::Room;
