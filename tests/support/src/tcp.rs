//! Plain TCP for the test clients: connections whose every read is bounded, and reading until a
//! condition or a deadline.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// How long anything the server should answer at once may take (generous: shared cores).
pub const SOON: Duration = Duration::from_secs(10);

/// How long one read may block: short, so every loop here re-checks its own deadline.
const READ_SLICE: Duration = Duration::from_millis(200);

/// Connects with a read timeout (every read in this harness is bounded).
pub fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s = TcpStream::connect(addr).map_err(|e| format!("connect to {addr}: {e}"))?;
    bounded(s)
}

/// Connects with a 4 KiB receive buffer (Linux doubles it and keeps a floor of a few KiB), which
/// caps the window this peer ever advertises: once it stops reading, the server's sends pile up
/// in the server's own buffers. A dashboard on a network that died without a FIN.
pub fn connect_small_window(addr: SocketAddr) -> Result<TcpStream, String> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| format!("socket: {e}"))?;
    socket
        .set_recv_buffer_size(4096)
        .map_err(|e| format!("SO_RCVBUF: {e}"))?;
    socket
        .connect(&addr.into())
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    bounded(socket.into())
}

fn bounded(s: TcpStream) -> Result<TcpStream, String> {
    s.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    s.set_read_timeout(Some(READ_SLICE))
        .map_err(|e| format!("read timeout: {e}"))?;
    Ok(s)
}

/// What reading until a deadline found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The peer closed (FIN) or reset the connection.
    Closed,
    /// The deadline passed with the connection still open.
    Timeout,
}

/// Reads into `buf` until `done(buf)` or the connection ends or `deadline` passes.
pub fn read_until(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    done: impl Fn(&[u8]) -> bool,
) -> Option<Ended> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if done(buf) {
            return None;
        }
        if Instant::now() >= deadline {
            return Some(Ended::Timeout);
        }
        match s.read(&mut chunk) {
            Ok(0) => return Some(Ended::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Some(Ended::Closed),
        }
    }
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
