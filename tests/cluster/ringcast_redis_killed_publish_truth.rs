//! Redis `kill -9`ed under a publisher at ~100/s, then restarted on the same port: every
//! publish B answered 200 reached all 20 clients on A (counted per sequence number), the rest
//! got 503 with a reason, `/readyz` is 503 on both nodes while Redis is away and 200 after,
//! no node crashed, and delivery resumed. The publishes in flight at the kill, and those in the
//! gap before A resubscribed, are the ones that used to get a 200 and reach nobody.

use crate::publish_truth::{Shared, Truth};

#[test]
fn with_redis_killed_and_restarted_every_200_reached_every_client() {
    Truth::start().run(|cluster: &Shared| {
        cluster.redis.lock().expect("redis lock").kill();
        let killed_after = cluster.last_seq();
        cluster.wait_for_503_after(killed_after);
        cluster.wait_readiness("unavailable");
        let body = Shared::readyz_body(&cluster.b);
        assert_eq!(body["redis"], "disconnected", "{body}");
        cluster.redis.lock().expect("redis lock").restart();
        cluster.wait_readiness("ready");
    });
}
