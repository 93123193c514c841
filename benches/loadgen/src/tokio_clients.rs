//! The second reader personality (`--reader tokio`): receivers written the way ordinary client
//! code is, so a server's batching is judged against a reader that pays real CPU per read.
//!
//! One tokio task per connection on a multi-thread (work-stealing) runtime, each driving a
//! `tokio-tungstenite` stream (tungstenite does the upgrade, framing and masking; the project's
//! codec is not used for WebSocket here) and reading one message per `StreamExt::next`. The
//! Engine.IO / Socket.IO meaning of each text message comes from the generator's own
//! [`proto::classify`], so deliveries and their latency are recorded exactly as the epoll
//! clients record them, into the same [`Shared`] counters and [`WorkerStats`].
//!
//! WebSocket only, and no closed-loop heartbeats: `main` refuses `polling` and `reqresp` with
//! this reader.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{ClientConfig, Shared, WorkerStats};
use crate::clock;
use crate::proto::{self, Incoming};

/// What one runtime thread recorded, whichever tasks ran on it: tasks migrate between threads
/// (work stealing), and a histogram per task would cost 19 000 × its buckets. Merged into the
/// run's stats when the thread stops.
#[derive(Debug, Default)]
struct Local {
    stats: WorkerStats,
    /// Deliveries not yet added to [`Shared::deliveries`] (the coordinator's drain check).
    unreported: u64,
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
}

/// Runs one task per token on a `threads`-worker runtime until [`Shared::stop`]; returns the
/// merged stats of every runtime thread. `handshakes`: TCP connects → CONNECT acks in flight.
pub fn run(
    cfg: Arc<ClientConfig>,
    shared: Arc<Shared>,
    tokens: Vec<String>,
    threads: usize,
    handshakes: usize,
) -> WorkerStats {
    let merged = Arc::new(Mutex::new(WorkerStats::default()));
    let on_stop = {
        let (merged, shared) = (merged.clone(), shared.clone());
        move || {
            let local = LOCAL.with(|l| std::mem::take(&mut *l.borrow_mut()));
            shared
                .deliveries
                .fetch_add(local.unreported, Ordering::Relaxed);
            if let Ok(mut m) = merged.lock() {
                m.merge(&local.stats);
            }
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_io()
        .enable_time()
        .on_thread_stop(on_stop)
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            let mut stats = WorkerStats::default();
            stats.error(format!("tokio runtime: {e}"));
            return stats;
        }
    };
    let gate = Arc::new(Semaphore::new(handshakes.max(1)));
    runtime.block_on(async {
        for token in tokens {
            tokio::spawn(client(cfg.clone(), shared.clone(), token, gate.clone()));
        }
        // 2 ms, as the epoll workers: how late the runtime notices `stop`.
        while !shared.stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    // Dropping the runtime drops every task (closing its socket) and joins its threads, each
    // merging its stats on the way out.
    drop(runtime);
    merged
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default()
}

/// Records into the current runtime thread's [`Local`].
fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> R {
    LOCAL.with(|l| f(&mut l.borrow_mut()))
}

/// Publishes this thread's unreported deliveries: called whenever a task is about to wait, so
/// once every receiver is idle the coordinator's count is whole.
fn report_progress(shared: &Shared) {
    let n = with_local(|l| std::mem::take(&mut l.unreported));
    if n > 0 {
        shared.deliveries.fetch_add(n, Ordering::Relaxed);
    }
}

/// How a session ended, for the shared books.
enum End {
    /// Before its CONNECT ack.
    Failed(String),
    /// After connecting: closed by the server or an error.
    Dropped(Option<String>),
}

async fn client(cfg: Arc<ClientConfig>, shared: Arc<Shared>, token: String, gate: Arc<Semaphore>) {
    let end = session(&cfg, &shared, &token, &gate).await;
    match end {
        End::Failed(why) => {
            with_local(|l| l.stats.error(why));
            shared.failed.fetch_add(1, Ordering::Relaxed);
        }
        End::Dropped(why) => {
            if !shared.stop.load(Ordering::Relaxed) {
                if let Some(why) = why {
                    with_local(|l| l.stats.error(why));
                }
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            shared.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One client from TCP connect to its end.
async fn session(cfg: &ClientConfig, shared: &Shared, token: &str, gate: &Semaphore) -> End {
    let Ok(permit) = gate.acquire().await else {
        return End::Failed("handshake gate closed".into());
    };
    let started_ns = clock::now_ns();
    let tcp = match TcpStream::connect(cfg.addr).await {
        Ok(s) => s,
        Err(e) => return End::Failed(format!("connect: {e}")),
    };
    // As the epoll clients and the servers: no Nagle delay on either side.
    if let Err(e) = tcp.set_nodelay(true) {
        return End::Failed(format!("TCP_NODELAY: {e}"));
    }
    let url = format!("ws://{}{}?EIO=4&transport=websocket", cfg.host, cfg.path);
    let mut ws = match tokio_tungstenite::client_async(url, tcp).await {
        Ok((ws, _response)) => ws,
        Err(e) => return End::Failed(format!("upgrade: {e}")),
    };
    let mut permit = Some(permit);
    loop {
        // One message per `next`, as ordinary client code reads; when none is ready, hand this
        // thread's delivery count to the coordinator before waiting.
        let next = match ws.next().now_or_never() {
            Some(next) => next,
            None => {
                report_progress(shared);
                ws.next().await
            }
        };
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            // tungstenite answers WebSocket pings itself on the next read or write.
            Some(Ok(
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_),
            )) => {
                continue;
            }
            Some(Ok(Message::Close(_))) | None => return ended(&permit, None),
            Some(Err(e)) => return ended(&permit, Some(format!("read: {e}"))),
        };
        let reply = match proto::classify(text.as_str()) {
            Incoming::Open if permit.is_some() => {
                let mut out = Vec::with_capacity(token.len() + 16);
                proto::write_connect_auth(&mut out, token);
                Some(out)
            }
            Incoming::Connected if permit.is_some() => {
                let now = clock::now_ns();
                with_local(|l| l.stats.connect_ns.record(now.saturating_sub(started_ns)));
                shared.connected.fetch_add(1, Ordering::Relaxed);
                permit = None;
                None
            }
            Incoming::Refused => {
                return ended(&permit, Some("CONNECT refused (CONNECT_ERROR)".into()));
            }
            Incoming::Delivery { sent_ns } => {
                let now = clock::now_ns();
                with_local(|l| {
                    l.stats.delivery_ns.record(now.saturating_sub(sent_ns));
                    l.stats.deliveries += 1;
                    l.stats.last_delivery_ns = now;
                    l.unreported += 1;
                });
                None
            }
            Incoming::Ping => {
                let mut out = Vec::with_capacity(1);
                proto::write_pong(&mut out);
                Some(out)
            }
            Incoming::Closed => return ended(&permit, None),
            Incoming::Malformed => {
                with_local(|l| l.stats.malformed += 1);
                None
            }
            _ => None,
        };
        if let Some(out) = reply {
            // The generator's own packets are ASCII JSON.
            let text = String::from_utf8_lossy(&out).into_owned();
            if let Err(e) = ws.send(Message::text(text)).await {
                return ended(&permit, Some(format!("write: {e}")));
            }
        }
    }
}

/// The end of a session: failed while its handshake permit is held, dropped after.
fn ended(permit: &Option<tokio::sync::SemaphorePermit<'_>>, why: Option<String>) -> End {
    match (permit, why) {
        (Some(_), why) => End::Failed(why.unwrap_or_else(|| "closed during the handshake".into())),
        (None, why) => End::Dropped(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::Transport;

    /// Every session of a refused connect is counted as failed, and what each runtime thread
    /// recorded reaches the returned stats when the runtime stops.
    #[test]
    fn refused_connects_fail_and_their_errors_are_merged() {
        // A port nothing listens on: bound, then released.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a loopback port");
        let cfg = Arc::new(ClientConfig {
            addr,
            host: addr.to_string(),
            path: "/ws/".into(),
            transport: Transport::WebSocket,
            heartbeat: false,
            handshake_budget: 2,
            busy_poll: false,
        });
        let shared = Arc::new(Shared::default());
        let tokens = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let stopper = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                // Bounded, so a regression fails the asserts below instead of hanging the suite.
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                while shared.failed.load(Ordering::Relaxed) < 3
                    && std::time::Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                shared.stop.store(true, Ordering::Relaxed);
            })
        };
        let stats = run(cfg, shared.clone(), tokens, 2, 2);
        stopper.join().expect("stopper thread");
        assert_eq!(shared.failed.load(Ordering::Relaxed), 3);
        assert_eq!(shared.connected.load(Ordering::Relaxed), 0);
        assert_eq!(stats.errors.len(), 3);
        assert!(
            stats.errors.iter().all(|e| e.starts_with("connect: ")),
            "{:?}",
            stats.errors
        );
    }
}
