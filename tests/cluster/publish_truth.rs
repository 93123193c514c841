//! The harness of issue #13's "a 200 means delivered" tests: two real ringcast nodes on one
//! redis-server, 20 stock clients on node A in `task:1`, and a publisher sending numbered
//! `task:updated` events to node B's API about every 10 ms (~100/s) while the test breaks Redis.
//! Afterwards every sequence number B answered 200 for must have reached all 20 clients; every
//! other answer must be a 503 naming its reason.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use ringcast_test_support::{Client, Lang, RedisServer, Server, wait_until};

use crate::ringcast::{readiness, ready_node, socket_in};

/// Given, so the API forwards the data unchanged.
const TS: &str = "2026-11-26T00:00:00.000Z";
/// Clients on node A.
pub const CLIENTS: usize = 20;
/// Pause between two publishes: ~100 a second.
const PACE: Duration = Duration::from_millis(10);
/// Upper bound on the stream (at 10 ms apiece, well over the test's length): a stuck test
/// stops publishing eventually.
const MAX_PUBLISHES: u64 = 20_000;

/// One answer of B's publish API.
#[derive(Clone, Debug)]
pub struct Answer {
    pub seq: u64,
    pub status: u16,
    pub reason: Option<String>,
}

/// The running cluster and the publisher's record, shared with the publishing thread.
pub struct Shared {
    pub redis: Mutex<RedisServer>,
    pub a: Server,
    pub b: Server,
    stop: AtomicBool,
    last_seq: AtomicU64,
    answers: Mutex<Vec<Answer>>,
}

/// The cluster and A's clients (the driver stays on the test's thread).
pub struct Truth {
    shared: Shared,
    client: Client,
}

fn sock(i: usize) -> String {
    format!("s{i}")
}

impl Truth {
    /// Redis, nodes A and B (both subscribed), 20 clients on A in `task:1`.
    pub fn start() -> Truth {
        let redis = RedisServer::start();
        let a = ready_node(redis.port);
        let b = ready_node(redis.port);
        let mut client = Client::spawn(Lang::Js, &a);
        for i in 0..CLIENTS {
            socket_in(&mut client, &a, &sock(i), &["task:1"]);
        }
        Truth {
            shared: Shared {
                redis: Mutex::new(redis),
                a,
                b,
                stop: AtomicBool::new(false),
                last_seq: AtomicU64::new(0),
                answers: Mutex::new(Vec::new()),
            },
            client,
        }
    }

    /// Runs the publisher while `disrupt` breaks and repairs Redis, then checks the outcome.
    pub fn run(mut self, disrupt: impl FnOnce(&Shared)) {
        let this = &self.shared;
        std::thread::scope(|scope| {
            let stream = scope.spawn(|| this.publish_stream());
            // Cross-node delivery works before anything breaks.
            this.wait_for_200_after(0, "a 200 before the disruption");
            disrupt(this);
            // Delivery resumes: a 200 after the repair.
            let repaired = this.last_seq.load(Ordering::Relaxed);
            this.wait_for_200_after(repaired, "a 200 after Redis is back");
            this.stop.store(true, Ordering::Relaxed);
            stream.join().expect("the publish stream");
        });
        self.check();
    }

    /// Every 200 reached all 20 clients, every other answer is a 503 with a reason, and both
    /// nodes are alive and healthy.
    fn check(&mut self) {
        let shared = &self.shared;
        let answers = std::mem::take(&mut *shared.answers.lock().expect("answers lock"));
        for x in &answers {
            assert!(
                x.status == 200 || (x.status == 503 && x.reason.is_some()),
                "{x:?}\n{}",
                shared.context()
            );
        }
        let ok: BTreeSet<u64> = answers
            .iter()
            .filter(|x| x.status == 200)
            .map(|x| x.seq)
            .collect();
        assert!(
            answers.iter().any(|x| x.status == 503),
            "no 503 while Redis was unusable\n{}",
            shared.context()
        );
        // A last event, published until acknowledged, marks the end of each client's stream:
        // Redis and A keep the order, so whatever was acknowledged before it arrived before it.
        let end = shared.publish_end_marker();
        for i in 0..CLIENTS {
            let s = sock(i);
            self.client
                .expect(&format!("the end marker on {s}"), |v| is_update(v, &s, end));
            let got: BTreeSet<u64> = self
                .client
                .take_events(&s)
                .into_iter()
                .filter(|(event, _)| event == "task:updated")
                .filter_map(|(_, args)| args.first().and_then(|d| d["update"]["seq"].as_u64()))
                .collect();
            let missing: Vec<&u64> = ok.difference(&got).collect();
            assert!(
                missing.is_empty(),
                "{s} missed events B answered 200 for: {missing:?} ({} answers, {} ok)\n{}",
                answers.len(),
                ok.len(),
                shared.context()
            );
        }
        for server in [&shared.a, &shared.b] {
            let resp = server.get("/healthz");
            assert_eq!(resp.status, 200, "{}", server.context());
            assert!(
                !server.log_text().contains("panicked"),
                "{}",
                server.context()
            );
        }
    }
}

impl Shared {
    fn publish_stream(&self) {
        let mut seq = 0;
        while !self.stop.load(Ordering::Relaxed) && seq < MAX_PUBLISHES {
            seq += 1;
            let data = json!({"task_id": "1", "update": {"seq": seq}, "timestamp": TS});
            let resp = self
                .b
                .publish(&json!({"event": "task:updated", "data": data}));
            let reason = serde_json::from_str::<Value>(&resp.body)
                .ok()
                .and_then(|v| v["reason"].as_str().map(str::to_owned));
            self.answers.lock().expect("answers lock").push(Answer {
                seq,
                status: resp.status,
                reason,
            });
            self.last_seq.store(seq, Ordering::Relaxed);
            std::thread::sleep(PACE);
        }
    }

    /// Waits until B answered 200 for a sequence number above `after`.
    fn wait_for_200_after(&self, after: u64, what: &str) {
        wait_until(
            what,
            || {
                self.answers
                    .lock()
                    .expect("answers lock")
                    .iter()
                    .any(|x| x.seq > after && x.status == 200)
            },
            || self.context(),
        );
    }

    /// Waits until B answered 503 for a sequence number above `after`.
    pub fn wait_for_503_after(&self, after: u64) {
        wait_until(
            "B to answer 503 while Redis is unusable",
            || {
                self.answers
                    .lock()
                    .expect("answers lock")
                    .iter()
                    .any(|x| x.seq > after && x.status == 503)
            },
            || self.context(),
        );
    }

    /// The last sequence number published so far.
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Relaxed)
    }

    /// Waits until both nodes' `/readyz` say `want` (`ready` with 200, `unavailable` with
    /// 503, as `readiness` asserts).
    pub fn wait_readiness(&self, want: &str) {
        for server in [&self.a, &self.b] {
            let last = Mutex::new(String::new());
            wait_until(
                &format!("/readyz to say {want}"),
                || {
                    let said = readiness(server);
                    let ok = said == want;
                    *last.lock().expect("last lock") = said;
                    ok
                },
                || {
                    format!(
                        "last {:?}\n{}",
                        last.lock().expect("last lock"),
                        self.context()
                    )
                },
            );
        }
    }

    /// `/readyz`'s JSON body on `server`.
    pub fn readyz_body(server: &Server) -> Value {
        server.get("/readyz").json()
    }

    pub fn context(&self) -> String {
        let tail: Vec<Answer> = self
            .answers
            .lock()
            .expect("answers lock")
            .iter()
            .rev()
            .take(5)
            .cloned()
            .collect();
        format!(
            "last answers {tail:?}\n{}\n{}",
            self.a.context(),
            self.b.context()
        )
    }

    /// Publishes a marker event (sequence number past the stream) until B answers 200.
    fn publish_end_marker(&self) -> u64 {
        let end = MAX_PUBLISHES + 1;
        let data = json!({"task_id": "1", "update": {"seq": end}, "timestamp": TS});
        wait_until(
            "the end marker to be acknowledged",
            || {
                self.b
                    .publish(&json!({"event": "task:updated", "data": data}))
                    .status
                    == 200
            },
            || self.context(),
        );
        end
    }
}

/// A `task:updated` on socket `sock` with sequence number `seq`.
fn is_update(v: &Value, sock: &str, seq: u64) -> bool {
    v["type"] == "event"
        && v["sock"] == sock
        && v["event"] == "task:updated"
        && v["args"][0]["update"]["seq"].as_u64() == Some(seq)
}
