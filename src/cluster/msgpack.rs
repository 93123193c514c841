//! MessagePack as notepack.io writes it: the codec's reader and writer (moved to
//! `ringcast_codec::msgpack`, which the msgpack Socket.IO parser shares), re-exported under the
//! name the cluster's formats use.

pub use ringcast_codec::msgpack::*;
