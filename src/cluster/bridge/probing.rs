//! The health check's IO side, the same for the classic and the sharded bridge: when a probe is
//! due or Redis counts as hung (decided by the sans-IO [`Health`]), and what a probe's answer
//! does to the stats and the live node count. Each bridge only says how it probes
//! (`PUBSUB NUMSUB` or `PUBSUB SHARDNUMSUB`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::health::{Health, Verdict};
use super::subscribers::Subscribers;
use crate::cluster::stats::ClusterStats;

/// A health probe in flight: PINGs on both connections, then the live node count.
pub(super) type Probe = Pin<Box<dyn Future<Output = redis::RedisResult<usize>>>>;

/// The health check's deadline passed: start a probe (`start`), or give the connection up.
pub(super) fn health_due(
    stats: &ClusterStats,
    health: &mut Health,
    probe: &mut Option<Probe>,
    start: impl FnOnce() -> Probe,
) -> Result<(), &'static str> {
    let now = Instant::now();
    match health.poll_deadline(now) {
        Verdict::Wait => Ok(()),
        Verdict::Ping => {
            *probe = Some(start());
            health.handle_ping_sent(now);
            Ok(())
        }
        Verdict::Hung { waited } => {
            ClusterStats::bump(&stats.health_failures);
            tracing::warn!(
                waited_ms = waited.as_millis() as u64,
                "redis did not answer its health check: unusable"
            );
            Err("health check timed out")
        }
    }
}

/// A probe answered: the round trip and the live node count on success, else the connection is
/// given up.
pub(super) fn on_probe_answer(
    stats: &ClusterStats,
    subscribers: &mut Subscribers,
    health: &mut Health,
    answer: redis::RedisResult<usize>,
) -> Result<(), &'static str> {
    let now = Instant::now();
    match answer {
        Ok(live) => {
            let rtt = health
                .handle_pong(now)
                .as_micros()
                .min(u128::from(u64::MAX)) as u64;
            stats.ping_rtt_us.store(rtt, Ordering::Relaxed);
            subscribers.counted(live, now);
            Ok(())
        }
        Err(e) => {
            ClusterStats::bump(&stats.health_failures);
            tracing::warn!(error = %e, "redis health check failed");
            Err("health check failed")
        }
    }
}

/// The probe's answer, or never while none is in flight.
pub(super) async fn wait_probe(probe: &mut Option<Probe>) -> redis::RedisResult<usize> {
    match probe {
        Some(p) => p.await,
        None => std::future::pending().await,
    }
}
