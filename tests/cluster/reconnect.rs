//! Redis down at start, killed and restarted mid-stream: the bridge reconnects, resubscribes,
//! delivery resumes, and nothing panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ringcast::cluster::{ClusterStatus, PublishError, Publisher, RedisOptions, start};

use ringcast_test_support::{RedisServer, free_port, wait_until};

use crate::recording_node::{RecordingNode, emitter_tick, stats};

#[test]
fn survives_redis_down_at_start_and_a_restart_mid_stream() {
    let port = free_port();
    let node = RecordingNode::with_rooms(&["agent:7"]);
    let bridge = start(
        &format!("redis://127.0.0.1:{port}/"),
        RedisOptions::default(),
        node.clone(),
    )
    .expect("valid url");
    assert_eq!(bridge.status(), ClusterStatus::Degraded);

    // Redis appears later: the backoff loop finds it.
    let mut redis = RedisServer::start_on(port);
    wait_until(
        "first connection",
        || bridge.status() == ClusterStatus::Connected,
        || stats(&bridge),
    );

    // A publisher streams numbered ticks the whole time, reconnecting whenever Redis is gone.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let stream = {
        let (stop, sent, url) = (stop.clone(), sent.clone(), redis.url());
        std::thread::spawn(move || {
            let client = redis::Client::open(url).expect("url");
            let mut con = None;
            let mut seq = 0u64;
            // Bounded: at most 20 000 ticks of 5 ms (100 s), normally stopped far sooner.
            while !stop.load(Ordering::Relaxed) && seq < 20_000 {
                if con.is_none() {
                    con = client.get_connection().ok();
                }
                if let Some(c) = con.as_mut() {
                    let sent_ok: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                        .arg("socket.io#/#agent:7#")
                        .arg(emitter_tick("agent:7", seq))
                        .query(c);
                    if sent_ok.is_err() {
                        con = None;
                    } else {
                        sent.store(seq, Ordering::Relaxed);
                    }
                }
                seq += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    wait_until(
        "ticks before the restart",
        || node.delivered_ticks().len() >= 5,
        || stats(&bridge),
    );

    redis.kill();
    wait_until(
        "the bridge to notice",
        || bridge.status() == ClusterStatus::Degraded,
        || stats(&bridge),
    );
    let probe = ringcast::engine::BroadcastOp {
        nsp: ringcast::Room::from("/"),
        rooms: vec![],
        except: vec![],
        except_rooms: Vec::new(),
        frames: ringcast::cluster::wire::event_frames("/", "x", "", std::iter::empty()),
    };
    assert_eq!(bridge.publish(&probe, None), Err(PublishError::Unavailable));
    let before_restart = node.delivered_ticks().into_iter().max().unwrap_or(0);

    redis.restart();
    wait_until(
        "reconnection",
        || bridge.status() == ClusterStatus::Connected,
        || stats(&bridge),
    );
    wait_until(
        "ticks after the restart",
        || {
            node.delivered_ticks()
                .iter()
                .filter(|&&s| s > before_restart)
                .count()
                >= 5
        },
        || {
            format!(
                "last sent {}, {}",
                sent.load(Ordering::Relaxed),
                stats(&bridge)
            )
        },
    );
    stop.store(true, Ordering::Relaxed);
    stream.join().expect("publisher thread");

    assert_eq!(bridge.publish(&probe, None), Ok(()));
    let s = bridge.stats().snapshot();
    assert!(s.reconnects >= 1, "{s:?}");
    assert_eq!(s.decode_errors, 0, "{s:?}");
    // At-most-once, in order: what arrived is strictly increasing, nothing duplicated.
    let seqs = node.delivered_ticks();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    bridge.shutdown();
}
