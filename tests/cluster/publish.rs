//! ringcast → Redis: channel choice and byte-exact adapter format, own messages, refusal.

use std::time::Duration;

use ringcast::Room;
use ringcast::cluster::adapter::encode_broadcast;
use ringcast::cluster::msgpack::Writer;
use ringcast::cluster::wire::event_frames;
use ringcast::cluster::{
    ClusterError, ClusterStatus, PublishError, Publisher, RedisOptions, RedisTls, StartError, start,
};
use ringcast::engine::BroadcastOp;

use ringcast_test_support::{RedisServer, TestPki, free_port, wait_until};

use crate::recording_node::{RecordingNode, block_on, connected_bridge, stats};

fn op(rooms: &[&str], args: &str) -> BroadcastOp {
    BroadcastOp {
        nsp: Room::from("/"),
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: vec![],
        except_rooms: Vec::new(),
        frames: event_frames("/", "agent:status_changed", args, std::iter::empty()),
    }
}

#[test]
fn publishes_in_the_adapter_format_on_the_right_channel() {
    let redis = RedisServer::start();
    let node = RecordingNode::with_rooms(&["dashboard"]);
    let bridge = connected_bridge(&redis, node.clone());
    let mut con = redis.connection();
    let mut sub = con.as_pubsub();
    sub.psubscribe("socket.io#/#*").expect("psubscribe");
    sub.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");

    let cases = [
        (
            op(&["dashboard"], r#"{"id":"42","status":"online"}"#),
            "socket.io#/#dashboard#",
        ),
        (op(&["a", "b"], "1"), "socket.io#/#"),
        (op(&[], ""), "socket.io#/#"),
    ];
    for (op, channel) in &cases {
        bridge
            .publish(op, None)
            .expect("connected: publish accepted");
        let msg = sub.get_message().expect("the broadcast arrives");
        assert_eq!(msg.get_channel_name(), *channel);
        let mut want = Writer::new();
        encode_broadcast(bridge.uid(), op, &mut want).expect("encodable");
        assert_eq!(msg.get_payload_bytes(), &want.buf[..]);
    }
    // The bridge hears its own broadcasts and drops them by uid (the room is local, so it
    // had to decode the first one).
    wait_until(
        "own broadcasts dropped",
        || bridge.stats().snapshot().own >= 1,
        || stats(&bridge),
    );
    assert!(node.delivered_texts().is_empty());
    // Counted once Redis acknowledged the pipeline, which may be after the subscriber got it.
    wait_until(
        "3 broadcasts counted",
        || bridge.stats().snapshot().published[0] == 3,
        || stats(&bridge),
    );
    // The liveness PING runs every second on the subscriber and records its round trip.
    wait_until(
        "a PING round trip",
        || bridge.stats().snapshot().ping_rtt_us > 0,
        || stats(&bridge),
    );
    bridge.shutdown();
}

#[test]
fn a_node_without_redis_starts_degraded_and_refuses_publishes() {
    let port = free_port();
    let bridge = start(
        &format!("redis://127.0.0.1:{port}/"),
        RedisOptions::default(),
        RecordingNode::with_rooms(&[]),
    )
    .expect("an unreachable server is not a config error");
    assert_eq!(bridge.status(), ClusterStatus::Degraded);
    assert_eq!(
        bridge.publish(&op(&[], ""), None),
        Err(PublishError::Unavailable)
    );
    assert_eq!(
        block_on(bridge.server_count()),
        Err(ClusterError::Unavailable)
    );
    assert!(bridge.stats().snapshot().publish_refused >= 1);
    bridge.shutdown();
    assert_eq!(block_on(bridge.server_count()), Err(ClusterError::Stopped));
}

#[test]
fn unix_socket_password_and_tls_urls_are_accepted() {
    for url in [
        "unix:///nonexistent/redis.sock?db=2&pass=pw",
        "redis://:pw@127.0.0.1:1/3",
        "rediss://127.0.0.1:1/",
        "rediss://:pw@127.0.0.1:1/0#insecure",
    ] {
        let bridge =
            start(url, RedisOptions::default(), RecordingNode::with_rooms(&[])).expect(url);
        assert_eq!(bridge.status(), ClusterStatus::Degraded);
        bridge.shutdown();
    }
}

#[test]
fn a_bad_url_is_a_configuration_error() {
    for url in [
        "not a url",
        "http://127.0.0.1:6379/",
        "",
        "rediss://127.0.0.1:6380/#verify",
    ] {
        assert!(
            matches!(
                start(url, RedisOptions::default(), RecordingNode::with_rooms(&[])),
                Err(StartError::BadUrl(_))
            ),
            "{url:?}"
        );
    }
}

#[test]
fn unusable_tls_settings_are_a_configuration_error() {
    let pki = TestPki::generate("bridge");
    let ca = std::fs::read(&pki.ca).expect("read the test CA");
    let not_a_certificate = b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
    for (url, pem, why) in [
        ("redis://127.0.0.1:1/", &ca[..], "a CA with a plain URL"),
        ("unix:///run/redis.sock", &ca[..], "a CA with a unix socket"),
        (
            "rediss://127.0.0.1:1/",
            &not_a_certificate[..],
            "a corrupt CA",
        ),
    ] {
        let options = RedisOptions {
            tls: RedisTls {
                ca: Some(pem.to_vec()),
            },
            ..RedisOptions::default()
        };
        let started = start(url, options, RecordingNode::with_rooms(&[]));
        assert!(matches!(started, Err(StartError::Tls(_))), "{why}");
    }
    // A good CA with a rediss:// URL starts (degraded: nothing listens on port 1).
    let options = RedisOptions {
        tls: RedisTls { ca: Some(ca) },
        ..RedisOptions::default()
    };
    let bridge = start(
        "rediss://127.0.0.1:1/",
        options,
        RecordingNode::with_rooms(&[]),
    )
    .expect("valid TLS settings");
    assert_eq!(bridge.status(), ClusterStatus::Degraded);
    bridge.shutdown();
}
