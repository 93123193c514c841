//! Streams mode's catch-up: node A's stream reader loses its Redis connection (`CLIENT KILL`
//! of the connection named `ringcast-stream-reader`), events are published through node B and
//! acknowledged (200) meanwhile, and A's client still receives every one of them, in order:
//! the reader resumes after the last entry it read.

use ringcast_test_support::recovery::receive;
use ringcast_test_support::{Client, Lang, RedisServer, unique};

use crate::ringcast::socket_in;
use crate::ringcast_streams_recovery::{publish_n, streams_node};

/// Kills every stream reader's connection; returns how many were killed.
fn kill_readers(redis: &RedisServer) -> usize {
    let mut conn = redis.connection();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut conn)
        .expect("CLIENT LIST");
    let ids: Vec<String> = list
        .lines()
        .filter(|l| l.contains(" name=ringcast-stream-reader "))
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_owned)
        .collect();
    for id in &ids {
        let _: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(&mut conn)
            .expect("CLIENT KILL");
    }
    ids.len()
}

#[test]
fn a_publish_acknowledged_while_a_node_was_not_reading_reaches_its_client() {
    let redis = RedisServer::start();
    let mut a = streams_node(&redis);
    let b = streams_node(&redis);
    let mut client = Client::spawn(Lang::Js, &a);
    let room = format!("task:{}", unique("catchup"));
    socket_in(&mut client, &a, "s", &[&room]);

    assert_eq!(kill_readers(&redis), 2, "one reader per node");
    // A noticed: from here until it reconnects (500 ms later) nobody reads for it.
    a.wait_log("stream reader lost redis");
    for n in 1..=3 {
        publish_n(&b, &room, n);
    }
    assert_eq!(receive(&mut client, 3), [1, 2, 3], "{}", a.context());
}
