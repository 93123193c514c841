//! Redis killed and restarted mid-stream under two real ringcast nodes: a steady stream of
//! numbered publishes through B's HTTP API while a stock client on A listens on `task:1`. Both
//! processes stay up (no panic, `/healthz` answers), B answers 503 with `delivered: 0` while Redis
//! is away, and once redis-server is back on the same port B's publishes reach A's client again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use ringcast_test_support::{Client, Lang, RedisServer, Server, wait_until};

use crate::ringcast::{ready_node, socket_in};

/// Given, so the API forwards the data unchanged (it adds one only when absent).
const TS: &str = "2026-11-26T00:00:00.000Z";

/// Pause between two publishes of the stream: ~50 a second, enough to land many on each side
/// of the kill and the restart without flooding two shared cores.
const PACE: Duration = Duration::from_millis(20);

/// Upper bound on the stream (at 20 ms apiece, over 3 minutes): stops a stuck test eventually.
const MAX_PUBLISHES: u64 = 10_000;

/// One answer of B's publish API.
#[derive(Clone, Debug)]
struct Answer {
    seq: u64,
    status: u16,
    delivered: Option<u64>,
    /// A 503's `reason`.
    reason: Option<String>,
}

#[test]
fn nodes_survive_a_redis_restart_mid_stream_and_delivery_resumes() {
    let mut redis = RedisServer::start();
    let a = ready_node(redis.port);
    let b = ready_node(redis.port);

    let mut client = Client::spawn(Lang::Js, &a);
    socket_in(&mut client, &a, "s", &["task:1"]);

    let stop = AtomicBool::new(false);
    // The last sequence number the stream published (0: none yet).
    let last_seq = AtomicU64::new(0);
    let answers: Mutex<Vec<Answer>> = Mutex::new(Vec::new());

    let mut received = std::thread::scope(|scope| {
        let stream = scope.spawn(|| {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) && seq < MAX_PUBLISHES {
                seq += 1;
                let data = json!({"task_id": "1", "update": {"seq": seq}, "timestamp": TS});
                let resp = b.publish(&json!({"event": "task:updated", "data": data}));
                let body = serde_json::from_str::<Value>(&resp.body).ok();
                let delivered = body.as_ref().and_then(|v| v["delivered"].as_u64());
                let reason = body
                    .as_ref()
                    .and_then(|v| v["reason"].as_str().map(str::to_owned));
                answers.lock().expect("answers lock").push(Answer {
                    seq,
                    status: resp.status,
                    delivered,
                    reason,
                });
                last_seq.store(seq, Ordering::Relaxed);
                std::thread::sleep(PACE);
            }
        });
        let context = || {
            let tail: Vec<Answer> = answers
                .lock()
                .expect("answers lock")
                .iter()
                .rev()
                .take(5)
                .cloned()
                .collect();
            format!("last answers {tail:?}\n{}\n{}", a.context(), b.context())
        };

        // Cross-node delivery works before anything breaks: a few updates, so the kill lands
        // in a running stream rather than right after its first publish.
        let mut received = Vec::new();
        while received.len() < 3 {
            let after = received.last().copied().unwrap_or(0);
            let line = client.expect("streamed updates before the kill", |v| is_update(v, after));
            received.push(seq_of(&line));
        }

        redis.kill();
        let killed_after = last_seq.load(Ordering::Relaxed);
        wait_until(
            "B to answer 503 while Redis is away",
            || {
                answers
                    .lock()
                    .expect("answers lock")
                    .iter()
                    .any(|x| x.seq > killed_after && x.status == 503)
            },
            context,
        );
        for server in [&a, &b] {
            assert_healthy(server, "while Redis is away");
        }

        redis.restart();
        let restarted_after = last_seq.load(Ordering::Relaxed);
        // The bridges retry with a backoff capped at 3 s; `expect`'s deadline is 30 s.
        received.push(seq_of(
            &client.expect("a streamed update published after the restart", |v| {
                is_update(v, restarted_after)
            }),
        ));

        stop.store(true, Ordering::Relaxed);
        stream.join().expect("the publish stream");
        received
    });

    for server in [&a, &b] {
        assert_healthy(server, "after the restart");
    }

    let answers = answers.into_inner().expect("answers lock");
    let refused: Vec<u64> = answers
        .iter()
        .filter(|x| x.status == 503)
        .map(|x| x.seq)
        .collect();
    // Refused before reaching Redis (disconnected), or published while A was not subscribed:
    // these cannot have reached A. (A 503 for a PUBLISH whose answer was lost may have.)
    let never_sent: Vec<u64> = answers
        .iter()
        .filter(|x| {
            matches!(
                x.reason.as_deref(),
                Some("redis_unavailable" | "subscribers_missing")
            )
        })
        .map(|x| x.seq)
        .collect();
    for x in &answers {
        // B has no sockets of its own, whichever way the cluster went.
        assert_eq!(x.delivered, Some(0), "{x:?}\n{}", b.context());
        assert!(x.status == 200 || x.status == 503, "{x:?}\n{}", b.context());
    }
    assert!(!refused.is_empty(), "no 503 while Redis was away");

    // Everything A's client saw, in arrival order: at most once, and never an update B
    // refused before Redis had it.
    received.extend(
        client
            .take_events("s")
            .into_iter()
            .filter(|(event, _)| event == "task:updated")
            .filter_map(|(_, args)| args.first().and_then(|d| d["update"]["seq"].as_u64())),
    );
    received.sort_unstable();
    let before = received.len();
    received.dedup();
    assert_eq!(received.len(), before, "a duplicated update: {received:?}");
    let leaked: Vec<&u64> = received.iter().filter(|s| never_sent.contains(s)).collect();
    assert!(
        leaked.is_empty(),
        "updates B answered 503 for reached A: {leaked:?}"
    );
}

/// A `task:updated` on socket `s` whose sequence number is above `after`.
fn is_update(v: &Value, after: u64) -> bool {
    v["type"] == "event"
        && v["sock"] == "s"
        && v["event"] == "task:updated"
        && v["args"][0]["update"]["seq"]
            .as_u64()
            .is_some_and(|s| s > after)
}

fn seq_of(line: &Value) -> u64 {
    line["args"][0]["update"]["seq"]
        .as_u64()
        .unwrap_or_default()
}

/// `/healthz` answers 200 and nothing on stderr says the process panicked.
fn assert_healthy(server: &Server, when: &str) {
    let resp = server.get("/healthz");
    let (status, body) = (resp.status, resp.body);
    assert_eq!(
        status,
        200,
        "/healthz {when}: {body:?}\n{}",
        server.context()
    );
    let panicked = server.log_text().contains("panicked");
    assert!(!panicked, "a panic {when}\n{}", server.context());
}
