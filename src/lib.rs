//! ringcast: a thread-per-core io_uring Socket.IO v4 gateway.

pub mod auth;
pub mod config;
pub mod gateway;
pub mod room;

pub use room::Room;

/// Runs the server.
///
/// TEMPORARY STUB on the `app` branch so `main` compiles: the lead's runtime replaces it. It
/// only shows what dev mode prints, then reports that the runtime is missing.
pub fn run(mut config: config::Config) -> std::io::Result<()> {
    if let Some(dev) = auth::dev_mode_material(&mut config) {
        eprintln!("ringcast: DEV MODE: no JWT secret or public key configured; generated:");
        eprintln!("  token (sub \"dev\", 24h): {}", dev.token);
        eprintln!("  API key: {}", dev.api_key);
    }
    Err(std::io::Error::other(
        "the server runtime is not in this branch yet",
    ))
}
