//! Streams mode (`--cluster-mode streams --recovery true`) across a Redis restart: two ringcast
//! nodes and a stock client on node A behind a proxy. redis-server is killed and started again
//! on the same port (its stream and keys gone); both nodes stay up, a publish through B reaches
//! the client again (A's reader reads on after its last id), and a network drop after that
//! recovers on A with the events published meanwhile.

use ringcast_test_support::recovery::{answer, receive, subscribed_through};
use ringcast_test_support::{Proxy, RedisServer};

use crate::ringcast::wait_ready;
use crate::ringcast_streams_recovery::{publish_n, streams_node};

#[test]
fn streams_nodes_survive_a_redis_restart_and_delivery_and_recovery_resume() {
    let mut redis = RedisServer::start();
    let mut a = streams_node(&redis);
    let mut b = streams_node(&redis);
    let proxy = Proxy::start(a.addr);
    let (mut client, room, id) = subscribed_through(&a, &proxy, "restart");
    publish_n(&b, &room, 0);
    assert_eq!(receive(&mut client, 1), [0]);

    redis.restart();
    wait_ready(&a);
    wait_ready(&b);
    // Delivery resumes: A's reader reconnects and reads on after the last entry it read.
    publish_n(&b, &room, 1);
    assert_eq!(receive(&mut client, 1), [1], "{}", a.context());

    // Recovery resumes: the session saved at the drop is in the new Redis, and so is the
    // client's offset (the entry of event 1).
    proxy.block(true);
    proxy.sever();
    client.expect("the client's disconnect", |v| v["type"] == "disconnect");
    for n in 10..13 {
        publish_n(&b, &room, n);
    }
    proxy.block(false);
    let back = answer(&mut client, "the client back on A");
    assert_eq!(back["recovered"], true, "{back}\n{}", a.context());
    assert_eq!(back["id"], id.as_str());
    assert_eq!(receive(&mut client, 3), [10, 11, 12]);
    assert!(a.alive() && b.alive(), "both nodes are still up");
}
