//! Redis frozen (`kill -STOP`) for ~5 s under a publisher at ~100/s, then resumed
//! (`kill -CONT`): the health check (a PING every 250 ms, 1 s deadline) declares it unusable,
//! `/readyz` turns 503 on both nodes with the detail in the body, B answers 503 (not 200 for
//! events that are then dropped), every publish B answered 200 reached all 20 clients on A, and
//! delivery resumes after the thaw; the metrics count the health-check failure, the
//! acknowledged and unconfirmed publishes and the time Redis was unusable.

use std::time::{Duration, Instant};

use ringcast_test_support::Metrics;

use crate::publish_truth::{Shared, Truth};

/// How long Redis stays frozen: the 5 s, longer than every deadline involved (1 s).
const FROZEN_FOR: Duration = Duration::from_secs(5);

#[test]
fn with_redis_frozen_then_resumed_every_200_reached_every_client() {
    Truth::start().run(|cluster: &Shared| {
        cluster.redis.lock().expect("redis lock").freeze();
        let frozen_at = Instant::now();
        let frozen_after = cluster.last_seq();
        cluster.wait_for_503_after(frozen_after);
        cluster.wait_readiness("unavailable");
        let body = Shared::readyz_body(&cluster.b);
        assert_eq!(body["status"], "unavailable", "{body}");
        assert!(body["detail"].is_string(), "{body}");
        // Keep it frozen for the rest of the 5 s while the publisher runs (not a timing
        // assertion: only how long the fault lasts).
        std::thread::sleep(FROZEN_FOR.saturating_sub(frozen_at.elapsed()));
        cluster.redis.lock().expect("redis lock").thaw();
        cluster.wait_readiness("ready");
        assert_metrics(cluster);
    });
}

/// The outage shows in the metrics: A (which only listens) caught it with its health check;
/// B counted acknowledged and unconfirmed publishes and the time Redis was unusable.
fn assert_metrics(cluster: &Shared) {
    let a = Metrics::scrape(&cluster.a);
    assert!(
        a.or_zero("ringcast_redis_health_check_failures_total") >= 1.0,
        "{}",
        a.text()
    );
    let b = Metrics::scrape(&cluster.b);
    let unconfirmed: f64 = b
        .text()
        .lines()
        .filter(|l| l.starts_with("ringcast_redis_publish_unconfirmed_total{"))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    let cases = [
        (
            "ringcast_redis_publish_acknowledged_total",
            b.or_zero("ringcast_redis_publish_acknowledged_total"),
        ),
        ("ringcast_redis_publish_unconfirmed_total", unconfirmed),
        (
            "ringcast_redis_unusable_seconds_total",
            b.or_zero("ringcast_redis_unusable_seconds_total"),
        ),
    ];
    for (name, value) in cases {
        assert!(value > 0.0, "{name} is {value}\n{}", b.text());
    }
}
