//! Redis down: the node's "cannot connect" WARN lines space out instead of repeating every 3 s,
//! each saying how long Redis has been down and how many attempts failed (both grow from line to
//! line); when Redis comes up, one INFO line gives the outage's length.

use ringcast_test_support::{LogLine, RedisServer, Server, free_port, wait_until};

use crate::ringcast::{node, wait_ready};

const STILL_DOWN: &str = "cannot connect to redis; retrying";
const BACK: &str = "redis is back: bridge connected and subscribed";

fn lines(server: &Server, message: &str) -> Vec<LogLine> {
    server
        .log_lines()
        .into_iter()
        .filter(|l| l.message == message)
        .collect()
}

#[test]
fn the_redis_down_warnings_back_off_and_say_how_long_it_has_been_down() {
    let port = free_port();
    let a = node(port);
    // Three lines: at the first failure, then about 3 s and 9 s into the outage (the spacing
    // itself is unit-tested in src/cluster/bridge/outage.rs, on a simulated clock).
    wait_until(
        "three still-down lines",
        || lines(&a, STILL_DOWN).len() >= 3,
        || a.context(),
    );
    let down = lines(&a, STILL_DOWN);
    for pair in down.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert!(
            after.num("down_for_s") > before.num("down_for_s"),
            "down_for_s must grow: {before:?} then {after:?}"
        );
        assert!(
            after.num("attempts") > before.num("attempts"),
            "attempts must grow: {before:?} then {after:?}"
        );
    }
    assert!(down.iter().all(|l| l.level == "WARN"), "{down:?}");

    let _redis = RedisServer::start_on(port);
    wait_ready(&a);
    wait_until(
        "the back line",
        || !lines(&a, BACK).is_empty(),
        || a.context(),
    );
    let back = &lines(&a, BACK)[0];
    let last = lines(&a, STILL_DOWN)
        .last()
        .cloned()
        .unwrap_or_else(|| a.fail("no WARN"));
    assert_eq!(back.level, "INFO", "{back:?}");
    assert!(
        back.num("down_for_s") >= last.num("down_for_s"),
        "{last:?} then {back:?}"
    );
    assert!(
        back.num("attempts") >= last.num("attempts"),
        "{last:?} then {back:?}"
    );
}
