//! Webhooks: `connect`, `disconnect` (with the reason), `subscribe` and `unsubscribe` events
//! POSTed to a backend as signed JSON batches (README "Webhooks").
//!
//! Workers never wait: [`Webhooks`]'s calls serialize the event and push it into a bounded
//! lock-free queue (`crossbeam_queue::ArrayQueue`); a full queue drops the event and counts it
//! (`ringcast_webhook_events_dropped_total`). One sender thread drains the queue in batches
//! ([`schedule`], sans-IO) and POSTs them ([`http`]), retrying with backoff.

mod event;
mod http;
mod schedule;
mod sender;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crossbeam_queue::ArrayQueue;

pub use event::Kind;
pub use http::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};
pub use schedule::{Limits, Outcome, Schedule, Transmit};

use crate::config::{WebhookEvents, WebhookSettings};
use crate::engine::{DisconnectReason, Socket};
use crate::metrics::GatewayStats;

/// `text` cut to 64 characters, for an error message quoting a peer's bytes.
fn cut(text: &str) -> &str {
    text.char_indices()
        .nth(64)
        .map_or(text, |(i, _)| &text[..i])
}

/// The workers' side of the webhooks; does nothing when they are off.
#[derive(Debug, Default)]
pub struct Webhooks {
    inner: Option<Inner>,
}

#[derive(Debug)]
struct Inner {
    queue: Arc<ArrayQueue<String>>,
    events: WebhookEvents,
    /// This process's id in events: 16 random hex digits, new at each start.
    node: String,
    /// The events' sequence numbers (their `id` is `<node>-<seq>`).
    seq: AtomicU64,
    stats: Arc<GatewayStats>,
    sender: std::thread::Thread,
    /// When the last "queue full" WARN went out (ms since the Unix epoch; 0: never).
    drop_logged_ms: AtomicU64,
}

/// At most one "queue full" WARN per 10 s: a receiver outage drops events by the thousand.
const DROP_LOG_EVERY_MS: u64 = 10_000;

impl Webhooks {
    /// Starts the sender thread when a URL is configured.
    pub fn start(settings: &WebhookSettings, stats: Arc<GatewayStats>) -> std::io::Result<Self> {
        let Some((url, secret)) = settings.active() else {
            return Ok(Webhooks::default());
        };
        stats.webhooks.enabled.store(true, Ordering::Relaxed);
        let queue = Arc::new(ArrayQueue::new(settings.queue));
        let node = format!(
            "{:016x}",
            getrandom::u64().map_err(|e| std::io::Error::other(e.to_string()))?
        );
        let sender = sender::Sender {
            queue: queue.clone(),
            url: url.clone(),
            secret: secret.clone(),
            limits: Limits {
                batch_max: settings.batch_max,
                batch_wait: Duration::from_millis(settings.batch_ms),
                attempts: settings.attempts,
            },
            timeout: Duration::from_millis(settings.timeout_ms),
            stats: stats.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("ringcast-webhooks".to_owned())
            .spawn(move || sender.run())?;
        tracing::info!(url = %url, events = settings.events.names(), node, "webhooks on");
        Ok(Webhooks {
            inner: Some(Inner {
                queue,
                events: settings.events,
                node,
                seq: AtomicU64::new(0),
                stats,
                sender: handle.thread().clone(),
                drop_logged_ms: AtomicU64::new(0),
            }),
        })
    }

    /// A socket connected (`recovered`: restored by connection state recovery).
    pub fn connect(&self, socket: &Socket<'_>, sub: Option<&str>, recovered: bool) {
        self.push(Kind::Connect, socket, sub, None, None, Some(recovered));
    }

    /// A socket is gone.
    pub fn disconnect(&self, socket: &Socket<'_>, sub: Option<&str>, reason: DisconnectReason) {
        self.push(
            Kind::Disconnect,
            socket,
            sub,
            None,
            Some(reason.as_str()),
            None,
        );
    }

    /// A client `subscribe` joined `room`.
    pub fn subscribe(&self, socket: &Socket<'_>, sub: Option<&str>, room: &str) {
        self.push(Kind::Subscribe, socket, sub, Some(room), None, None);
    }

    /// A client `unsubscribe` left `room`.
    pub fn unsubscribe(&self, socket: &Socket<'_>, sub: Option<&str>, room: &str) {
        self.push(Kind::Unsubscribe, socket, sub, Some(room), None, None);
    }

    fn push(
        &self,
        kind: Kind,
        socket: &Socket<'_>,
        sub: Option<&str>,
        room: Option<&str>,
        reason: Option<&str>,
        recovered: Option<bool>,
    ) {
        let Some(inner) = &self.inner else { return };
        let wanted = match kind {
            Kind::Connect => inner.events.connect,
            Kind::Disconnect => inner.events.disconnect,
            Kind::Subscribe => inner.events.subscribe,
            Kind::Unsubscribe => inner.events.unsubscribe,
        };
        if !wanted {
            return;
        }
        let nsp = socket.nsp();
        let event = event::Event {
            id: format!(
                "{}-{}",
                inner.node,
                inner.seq.fetch_add(1, Ordering::Relaxed)
            ),
            kind,
            sid: socket.id().map(|s| s.to_string()),
            sub,
            nsp: nsp.as_str(),
            room,
            reason,
            recovered,
            node: &inner.node,
            at: event::timestamp(SystemTime::now()),
        };
        if inner.queue.push(event.to_json()).is_err() {
            // Full: the event is dropped and counted, and logged here (the sender may be stuck
            // in a request for webhook_timeout_ms): one worker wins the 10 s slot, none waits.
            let dropped = inner.stats.webhooks.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let now_ms = SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let last = inner.drop_logged_ms.load(Ordering::Relaxed);
            if now_ms.saturating_sub(last) >= DROP_LOG_EVERY_MS
                && inner
                    .drop_logged_ms
                    .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                tracing::warn!(
                    dropped_total = dropped,
                    capacity = inner.queue.capacity(),
                    "webhook queue full: events dropped (the receiver is slow or down; see webhook_queue)"
                );
            }
            return;
        }
        inner.sender.unpark();
    }
}
