//! Streams mode keeps a live socket's saved session from expiring: a client whose rooms have
//! not changed for longer than the disconnection window (6 s here) still recovers on node B when
//! node A is killed (SIGKILL), because A saves each live session again every half window (on
//! the session's timer, which the 500 ms ping interval wakes).

use std::time::Duration;

use ringcast_test_support::recovery::{receive, recovered_at, subscribed_through};
use ringcast_test_support::{Proxy, RedisServer};

use crate::ringcast_streams_recovery::{publish_n, streams_node_with};

#[test]
fn a_socket_quiet_for_longer_than_the_window_survives_a_sigkill() {
    let redis = RedisServer::start();
    let flags = [
        "--recovery-max-disconnection-ms",
        "6000",
        "--ping-interval-ms",
        "500",
        "--ping-timeout-ms",
        "5000",
    ];
    let mut a = streams_node_with(&redis, &flags);
    let b = streams_node_with(&redis, &flags);
    let proxy = Proxy::start(a.addr);
    let (mut client, room, id) = subscribed_through(&a, &proxy, "quiet");
    publish_n(&b, &room, 0);
    assert_eq!(receive(&mut client, 1), [0]);
    // Quiet past the window: the copy saved at the subscribe alone would have expired.
    std::thread::sleep(Duration::from_millis(9_000));

    proxy.block(true);
    a.signal(libc::SIGKILL);
    a.wait_exit(Duration::from_secs(30), "node A");
    client.expect("the client's disconnect", |v| v["type"] == "disconnect");
    publish_n(&b, &room, 1);
    recovered_at(&mut client, &proxy, b.addr, &id, || b.context());
    assert_eq!(receive(&mut client, 1), [1]);
}
