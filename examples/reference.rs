//! The Socket.IO protocol's reference server behaviour on ringcast's engine, so the official
//! protocol test suites (socketio/socket.io-protocol, socketio/engine.io-protocol) can run
//! against it.
//!
//! Run: `cargo run --release --example reference -- --listen 127.0.0.1:3000 [--workers N]`
//!
//! - `/socket.io/`: pingInterval 300, pingTimeout 200, maxPayload 1000000, connectTimeout 1000,
//!   CORS `*`. On connection it emits `auth` with the handshake's auth object; `message` is echoed
//!   as `message-back` with the same arguments (binary included); `message-with-ack` is acked
//!   with its own arguments; namespace `/custom` behaves the same; any other namespace gets
//!   `CONNECT_ERROR {"message":"Invalid namespace"}`.
//! - `/msgpack/`: the same Socket.IO server with socket.io-msgpack-parser's packets.
//! - `/engine.io/`: a bare Engine.IO server with the same timings, echoing every message.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use ringcast::engine::{self, ConnectInfo, CorsConfig, EngineConfig, Handler, Socket};
use ringcast_codec::eio::SessionConfig;

struct Reference;

/// The auth object of the handshake, kept with the socket.
struct Auth(String);

impl Handler for Reference {
    fn namespace_allowed(&self, nsp: &str) -> bool {
        nsp == "/" || nsp == "/custom"
    }

    fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn Any>, String> {
        Ok(Box::new(Auth(info.auth.unwrap_or("{}").to_owned())))
    }

    fn on_connect(&self, socket: &mut Socket<'_>, _info: &ConnectInfo<'_>) {
        let auth = socket
            .data::<Auth>()
            .map(|a| a.0.clone())
            .unwrap_or_else(|| "{}".to_owned());
        socket.emit("auth", &auth);
    }

    fn on_event(
        &self,
        socket: &mut Socket<'_>,
        event: &str,
        args: &str,
        ack: Option<u64>,
        attachments: &[Bytes],
    ) {
        let items = engine::array_items(args);
        match (event, ack) {
            ("message", _) => socket.emit_binary("message-back", items, attachments),
            ("message-with-ack", Some(id)) => socket.ack_binary(id, items, attachments),
            _ => {}
        }
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut listen = "127.0.0.1:3000".to_owned();
    let mut workers = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(v)) => listen = v,
            ("--workers", Some(v)) => workers = v.parse().unwrap_or(1),
            _ => {
                eprintln!("usage: reference [--listen ADDR] [--workers N]");
                std::process::exit(2);
            }
        }
    }
    let Ok(listen) = listen.parse::<std::net::SocketAddr>() else {
        eprintln!("--listen: not an address: {listen}");
        std::process::exit(2);
    };
    let config = EngineConfig {
        listen: vec![listen],
        workers,
        pin_cores: false,
        paths: vec!["/socket.io/".into()],
        echo_paths: vec!["/engine.io/".into()],
        // The same server with socket.io-msgpack-parser's packets (tests/e2e/binary.rs).
        msgpack_paths: vec!["/msgpack/".into()],
        session: SessionConfig {
            ping_interval: 300,
            ping_timeout: 200,
            max_payload: 1_000_000,
            ..SessionConfig::default()
        },
        connect_timeout_ms: 1_000,
        cors: CorsConfig {
            origins: vec!["*".into()],
            credentials: false,
            credentialed_origins: Vec::new(),
        },
        ..EngineConfig::default()
    };
    match ringcast::engine::node::start(config, Arc::new(Reference)) {
        Ok(running) => {
            println!("ringcast listening on http://{}", running.local_addr);
            running.join();
        }
        Err(e) => {
            eprintln!("reference: cannot start: {e}");
            std::process::exit(1);
        }
    }
}
