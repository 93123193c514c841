//! A TCP proxy between a client and a server that a test can cut: [`Proxy::sever`] closes every
//! connection through it (a network drop, as the client and the server see it: the server's
//! reads end, the client's transport closes), and [`Proxy::block`] makes it refuse new ones
//! (accepted, then closed at once) until unblocked, so a client stays away while the test acts.
//! [`Proxy::set_upstream`] points new connections at another server (a load balancer moving
//! clients between nodes).
//!
//! Threads and blocking sockets: a handful of connections per test.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

/// A running proxy; stops (and cuts its connections) on drop.
#[derive(Debug)]
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    upstream: Mutex<SocketAddr>,
    blocked: AtomicBool,
    stopped: AtomicBool,
    /// Both ends of every connection relayed so far (closed ones are harmless to shut again).
    live: Mutex<Vec<TcpStream>>,
}

impl State {
    fn live(&self) -> std::sync::MutexGuard<'_, Vec<TcpStream>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and relays every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State {
            upstream: Mutex::new(upstream),
            blocked: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            live: Mutex::new(Vec::new()),
        });
        let accepting = state.clone();
        thread::Builder::new()
            .name("test-proxy".into())
            .spawn(move || accept_loop(&listener, &accepting))
            .expect("spawn the proxy");
        Proxy { addr, state }
    }

    /// `http://<proxy>` for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every connection through the proxy, both ways.
    pub fn sever(&self) {
        for s in self.state.live().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// While blocked, new connections are accepted and closed at once.
    pub fn block(&self, blocked: bool) {
        self.state.blocked.store(blocked, Ordering::SeqCst);
    }

    /// New connections go to `upstream` from now on.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self
            .state
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = upstream;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.sever();
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    for client in listener.incoming() {
        if state.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if state.blocked.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let upstream = *state
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Ok(server) = TcpStream::connect(upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        state.live().extend([c3, s3]);
        thread::spawn(move || relay(client, server));
        thread::spawn(move || relay(s2, c2));
    }
}

/// Copies `from` to `to` until either ends, then cuts both (a half-closed relay would keep a
/// peer waiting).
fn relay(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
