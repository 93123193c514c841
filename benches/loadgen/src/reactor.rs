//! One `epoll` instance per thread and a non-blocking TCP connection with an output buffer.
//!
//! Level-triggered: a socket is watched for input always and for output only while bytes are
//! waiting, so an idle connection costs nothing per loop turn. A read that fills less than the
//! buffer is taken to have drained the socket (level triggering re-reports it otherwise), which
//! saves the extra `read` → `EAGAIN` round trip per wake-up that edge triggering would need.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// One readiness report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub token: u64,
    pub readable: bool,
    pub writable: bool,
    /// EPOLLERR or EPOLLHUP: the connection failed or the peer is gone.
    pub failed: bool,
}

/// An epoll instance.
#[derive(Debug)]
pub struct Poller {
    fd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Poller {
    /// `batch` is the most events one `wait` returns.
    pub fn new(batch: usize) -> io::Result<Poller> {
        // SAFETY: epoll_create1 has no memory preconditions; the result is checked below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor we exclusively own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let empty = libc::epoll_event { events: 0, u64: 0 };
        Ok(Poller {
            fd,
            events: vec![empty; batch.max(1)],
        })
    }

    /// Starts watching `fd`: input always, output when `write` is set.
    pub fn add(&self, fd: RawFd, token: u64, write: bool) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, write)
    }

    /// Changes whether output readiness is watched.
    pub fn modify(&self, fd: RawFd, token: u64, write: bool) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, write)
    }

    /// Waits up to `timeout_ms` and returns the ready events.
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<impl Iterator<Item = Event> + '_> {
        let cap = self.events.len() as libc::c_int;
        // SAFETY: `events` holds `cap` initialised entries that epoll_wait may overwrite.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                self.events.as_mut_ptr(),
                cap,
                timeout_ms,
            )
        };
        let n = if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
            0
        } else {
            n as usize
        };
        Ok(self.events[..n].iter().map(|e| {
            let bits = e.events as libc::c_int;
            Event {
                token: e.u64,
                readable: bits & libc::EPOLLIN != 0,
                writable: bits & libc::EPOLLOUT != 0,
                failed: bits & (libc::EPOLLERR | libc::EPOLLHUP) != 0,
            }
        }))
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, write: bool) -> io::Result<()> {
        let mut bits = libc::EPOLLIN | libc::EPOLLRDHUP;
        if write {
            bits |= libc::EPOLLOUT;
        }
        let mut ev = libc::epoll_event {
            events: bits as u32,
            u64: token,
        };
        // SAFETY: both descriptors are open (the caller owns `fd`); `ev` is a valid event.
        let rc = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

/// What a read produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes appended; `drained` when the socket had no more to give right now.
    Data { n: usize, drained: bool },
    /// Nothing to read now.
    WouldBlock,
    /// The peer closed (or reset) the connection.
    Closed,
}

/// A non-blocking TCP connection with an output buffer for what the kernel would not take.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    token: u64,
    out: Vec<u8>,
    /// Whether EPOLLOUT is registered (a connect in progress, or bytes waiting in `out`).
    watching_write: bool,
    connected: bool,
}

impl Conn {
    /// Starts a non-blocking connect with TCP_NODELAY set (every write is a whole message the
    /// peer is waiting for; Nagle would hold it for an ACK) and registers it with `poller`.
    pub fn connect(addr: SocketAddr, poller: &Poller, token: u64) -> io::Result<Conn> {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM.nonblocking().cloexec(),
            Some(socket2::Protocol::TCP),
        )?;
        socket.set_nodelay(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let stream: TcpStream = socket.into();
        poller.add(stream.as_raw_fd(), token, true)?;
        Ok(Conn {
            stream,
            token,
            out: Vec::new(),
            watching_write: true,
            connected: false,
        })
    }

    /// Call on every writable event: the first one completes a non-blocking connect (or
    /// reports why it failed, from SO_ERROR).
    pub fn finish_connect(&mut self, poller: &Poller) -> io::Result<()> {
        if self.connected {
            return Ok(());
        }
        if let Some(err) = self.stream.take_error()? {
            return Err(err);
        }
        self.connected = true;
        self.update_interest(poller)
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Writes `bytes` now if possible, keeping the rest for the next writable event.
    pub fn send(&mut self, bytes: &[u8], poller: &Poller) -> io::Result<()> {
        if !self.out.is_empty() || !self.connected {
            self.out.extend_from_slice(bytes);
            return Ok(());
        }
        let written = write_some(&mut self.stream, bytes)?;
        if written < bytes.len() {
            self.out.extend_from_slice(&bytes[written..]);
            self.update_interest(poller)?;
        }
        Ok(())
    }

    /// On a writable event: writes what is waiting.
    pub fn flush(&mut self, poller: &Poller) -> io::Result<()> {
        if !self.out.is_empty() {
            let written = write_some(&mut self.stream, &self.out)?;
            self.out.drain(..written);
            if self.out.is_empty() {
                // A burst (10 000 CONNECT frames) should not pin its buffer for the whole run.
                self.out = Vec::new();
            }
        }
        self.update_interest(poller)
    }

    /// Reads once into `buf` (the caller's scratch space after any bytes it keeps).
    pub fn read_into(&mut self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        match self.stream.read(buf) {
            Ok(0) if !buf.is_empty() => Ok(ReadOutcome::Closed),
            Ok(n) => Ok(ReadOutcome::Data {
                n,
                drained: n < buf.len(),
            }),
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock => Ok(ReadOutcome::WouldBlock),
                io::ErrorKind::Interrupted => Ok(ReadOutcome::Data {
                    n: 0,
                    drained: false,
                }),
                io::ErrorKind::ConnectionReset => Ok(ReadOutcome::Closed),
                _ => Err(e),
            },
        }
    }

    fn update_interest(&mut self, poller: &Poller) -> io::Result<()> {
        let want = !self.connected || !self.out.is_empty();
        if want != self.watching_write {
            poller.modify(self.stream.as_raw_fd(), self.token, want)?;
            self.watching_write = want;
        }
        Ok(())
    }
}

fn write_some(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn connect_send_and_read_over_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let mut poller = Poller::new(8).expect("epoll");
        let mut conn = Conn::connect(addr, &poller, 7).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        conn.send(b"hello", &poller)
            .expect("queue before connect completes");
        // The connect completes: the socket becomes writable and the queued bytes go out.
        let mut writable = false;
        for _ in 0..100 {
            let evs: Vec<Event> = poller.wait(100).expect("wait").collect();
            if evs.iter().any(|e| e.token == 7 && e.writable) {
                writable = true;
                break;
            }
        }
        assert!(writable, "no writable event for the connecting socket");
        conn.finish_connect(&poller).expect("connected");
        assert!(conn.is_connected());
        conn.flush(&poller).expect("flush");
        let mut got = [0u8; 5];
        server.read_exact(&mut got).expect("server reads");
        assert_eq!(&got, b"hello");
        server.write_all(b"world").expect("server writes");
        let mut buf = [0u8; 64];
        let mut outcome = ReadOutcome::WouldBlock;
        for _ in 0..100 {
            let _ = poller.wait(100).expect("wait").count();
            outcome = conn.read_into(&mut buf).expect("read");
            if outcome != ReadOutcome::WouldBlock {
                break;
            }
        }
        assert_eq!(
            outcome,
            ReadOutcome::Data {
                n: 5,
                drained: true
            }
        );
        assert_eq!(&buf[..5], b"world");
        drop(server);
        let mut closed = false;
        for _ in 0..100 {
            let _ = poller.wait(100).expect("wait").count();
            if conn.read_into(&mut buf).expect("read") == ReadOutcome::Closed {
                closed = true;
                break;
            }
        }
        assert!(closed, "peer close not seen");
    }
}
