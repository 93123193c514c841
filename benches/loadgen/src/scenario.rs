//! The scenarios: what each one connects, drives and measures, and the report it produces.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::clients::{self, ClientConfig, Shared, Transport, WorkerStats};
use crate::clock;
use crate::histogram::Histogram;
use crate::publisher::{self, Pace, PublishConfig, PublishStats};
use crate::segments::{self, Window};
use crate::sys::{self, ProcSample};
use crate::tokio_clients;

/// What a scenario drives once its clients are connected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A publisher broadcasts to every client in `dashboard`.
    Broadcast(Pace),
    /// Connect, measure memory, hold.
    ConnectStorm,
    /// Closed-loop heartbeat → heartbeat_ack per client.
    RequestResponse,
}

/// Which node the publisher POSTs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The receivers' node (`--addr`).
    OneNode,
    /// Another node of the same cluster (`--publish-addr`, node B): every delivery crosses the
    /// cluster's pub/sub (Redis) from node B to the receivers on node A.
    TwoNodes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub kind: Kind,
    pub topology: Topology,
    pub clients: usize,
    pub transport: Transport,
    pub duration: Duration,
    /// Handshakes in flight across all workers.
    pub handshakes: usize,
    /// Read the server's RSS 1 s after the last connect (lazy allocations settled), as the
    /// idle-memory figure (connect-storm, fanout-19k).
    pub settle_memory: bool,
}

/// The named single-node scenarios of the benchmark plan (what `--scenario all` runs).
pub const NAMES: [&str; 7] = [
    "fanout-1k",
    "fanout-5k",
    "fanout-19k",
    "latency",
    "connect-storm",
    "reqresp",
    "polling",
];

/// The named scenarios that need two nodes of one cluster (`--publish-addr`): not in `all`,
/// since a single server cannot run them.
pub const TWO_NODE_NAMES: [&str; 1] = ["fanout-2node"];

/// Saturating publishers keep at most this many publishes not yet fully delivered.
pub const DEFAULT_MAX_LAG: u64 = 32;

impl Scenario {
    /// A named scenario with its planned sizes.
    pub fn preset(name: &str) -> Option<Scenario> {
        let saturate = Kind::Broadcast(Pace::Saturate {
            max_lag: DEFAULT_MAX_LAG,
        });
        let (kind, clients, transport, secs) = match name {
            "fanout-1k" | "fanout-2node" => (saturate, 1_000, Transport::WebSocket, 8),
            "fanout-5k" => (saturate, 5_000, Transport::WebSocket, 8),
            // The most one process holds here: the hard open-files limit is 20 000, and the
            // generator needs ~100 more for its publisher and itself.
            "fanout-19k" => (saturate, 19_000, Transport::WebSocket, 8),
            "latency" => (
                Kind::Broadcast(Pace::Rate { per_sec: 10.0 }),
                1_000,
                Transport::WebSocket,
                10,
            ),
            "connect-storm" => (Kind::ConnectStorm, 10_000, Transport::WebSocket, 0),
            "reqresp" => (Kind::RequestResponse, 100, Transport::WebSocket, 10),
            "polling" => (saturate, 1_000, Transport::Polling, 8),
            _ => return None,
        };
        let topology = if TWO_NODE_NAMES.contains(&name) {
            Topology::TwoNodes
        } else {
            Topology::OneNode
        };
        Some(Scenario {
            name: name.to_owned(),
            kind,
            topology,
            clients,
            transport,
            duration: Duration::from_secs(secs),
            handshakes: 64,
            settle_memory: matches!(name, "connect-storm" | "fanout-19k"),
        })
    }
}

/// Where and as whom the generator connects.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The receivers' node (node A), and the publisher's in a one-node scenario.
    pub addr: SocketAddr,
    /// The publisher's node in a two-node scenario (node B).
    pub publish_addr: Option<SocketAddr>,
    pub path: String,
    pub jwt_secret: String,
    pub api_key: String,
    /// The server processes measured: CPU time and RSS are summed over them (node A and node B
    /// in a two-node scenario). Empty: not measured.
    pub server_pids: Vec<u32>,
}

impl Target {
    /// Where `sc`'s publisher POSTs, or why the target cannot run it.
    pub fn publisher_addr(&self, sc: &Scenario) -> Result<SocketAddr, String> {
        match (sc.topology, self.publish_addr) {
            (Topology::OneNode, _) => Ok(self.addr),
            (Topology::TwoNodes, Some(b)) if b != self.addr => Ok(b),
            (Topology::TwoNodes, Some(_)) => Err(format!(
                "{} needs --publish-addr on another node than --addr",
                sc.name
            )),
            (Topology::TwoNodes, None) => Err(format!(
                "{} needs --publish-addr (the second node of the cluster)",
                sc.name
            )),
        }
    }
}

/// How the receivers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reader {
    /// Thousands of sessions per thread, an epoll loop, 64 KiB reads through `ringcast-codec`.
    Epoll,
    /// One tokio task per connection (work-stealing runtime), one message per read through
    /// tokio-tungstenite: what ordinary client code costs.
    Tokio,
}

impl Reader {
    pub fn name(self) -> &'static str {
        match self {
            Reader::Epoll => "epoll",
            Reader::Tokio => "tokio",
        }
    }
}

/// Generator-side knobs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub reader: Reader,
    pub threads: usize,
    pub in_flight: usize,
    pub data_bytes: usize,
    /// Longest wait for all clients to connect.
    pub connect_timeout: Duration,
    pub busy_poll: bool,
}

/// Everything measured in one scenario run.
#[derive(Debug)]
pub struct Outcome {
    pub scenario: Scenario,
    pub target: String,
    pub reader: Reader,
    pub threads: usize,
    /// Publish connections (most publishes in flight).
    pub in_flight: usize,
    pub busy_poll: bool,
    pub connected: u64,
    pub failed: u64,
    pub dropped: u64,
    pub connect_wall: Duration,
    pub connect_server_cpu: Option<Duration>,
    /// Server RSS before any client, and with every client connected.
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    /// The measured phase (publishing + drain, or the heartbeat loop).
    pub wall: Duration,
    /// Summed over the server processes; `server_cpu_each` has one entry per process.
    pub server_cpu: Option<Duration>,
    pub server_cpu_each: Vec<Duration>,
    pub gen_cpu: Duration,
    /// The generator's CPU over the measured phase only.
    pub gen_phase_cpu: Duration,
    /// TCP segments over the measured phase (broadcasts only).
    pub segments: Option<Window>,
    pub stats: WorkerStats,
    pub publish: Option<PublishStats>,
    /// Deliveries the receivers should see (see [`expected_deliveries`]).
    pub expected: Option<u64>,
}

/// Runs one scenario against one target and returns what it measured.
pub fn run(sc: &Scenario, target: &Target, opts: &RunOptions) -> Outcome {
    let sample = || sys::sample_all(&target.server_pids);
    let before = sample();
    let threads = opts.threads.clamp(1, sc.clients.max(1));
    let cfg = Arc::new(ClientConfig {
        addr: target.addr,
        host: target.addr.to_string(),
        path: target.path.clone(),
        transport: sc.transport,
        heartbeat: sc.kind == Kind::RequestResponse,
        handshake_budget: sc.handshakes.div_ceil(threads).max(1),
        busy_poll: opts.busy_poll,
    });
    let shared = Arc::new(Shared::default());
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;

    // Tokens are signed before the clock starts: the storm measures the server, not HMAC here.
    let mut handles = Vec::with_capacity(threads);
    let gen_cpu_start = sys::self_cpu();
    let mut connect_start = 0;
    let token = |i: usize| crate::jwt::token(&target.jwt_secret, &format!("loadgen-{i}"), exp);
    match opts.reader {
        Reader::Epoll => {
            for t in 0..threads {
                let tokens: Vec<String> = (t..sc.clients).step_by(threads).map(token).collect();
                if t == 0 {
                    connect_start = clock::now_ns();
                }
                let (cfg, shared) = (cfg.clone(), shared.clone());
                handles.push(std::thread::spawn(move || {
                    clients::run_worker(cfg, shared, tokens)
                }));
            }
        }
        Reader::Tokio => {
            let tokens: Vec<String> = (0..sc.clients).map(token).collect();
            let (cfg, shared) = (cfg.clone(), shared.clone());
            let handshakes = sc.handshakes;
            connect_start = clock::now_ns();
            handles.push(std::thread::spawn(move || {
                tokio_clients::run(cfg, shared, tokens, threads, handshakes)
            }));
        }
    }

    // Connect phase: until every client connected or failed, or no progress for 10 s.
    let mut last_progress = (0, clock::now_ns());
    loop {
        let done = shared.connected.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed);
        let now = clock::now_ns();
        if done >= sc.clients as u64 {
            break;
        }
        if done != last_progress.0 {
            last_progress = (done, now);
        }
        let stalled = now - last_progress.1 > 10_000_000_000;
        if stalled || now - connect_start > opts.connect_timeout.as_nanos() as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let connect_wall = Duration::from_nanos(clock::now_ns() - connect_start);
    let after_connect = sample();
    let connected = shared.connected.load(Ordering::Relaxed);
    let mut rss_after_kib = after_connect.as_deref().map(sys::total_rss_kib);
    if sc.settle_memory {
        // Let the server settle (lazy allocations, GC) with everyone still connected.
        std::thread::sleep(Duration::from_secs(1));
        rss_after_kib = sample().as_deref().map(sys::total_rss_kib);
    }
    let broadcast = matches!(sc.kind, Kind::Broadcast(_));
    // Before the window's CPU sample: `ss` takes a while at 19 000 sockets, outside the window.
    let segments_start = broadcast.then(|| segments::sample(target.addr.port()));

    let phase_sample = sample();
    let gen_phase_start = sys::self_cpu();
    let phase_start_ns = clock::now_ns();
    let mut publish = None;
    match sc.kind {
        Kind::ConnectStorm => {}
        Kind::RequestResponse => {
            shared.running.store(true, Ordering::Relaxed);
            std::thread::sleep(sc.duration);
            shared.running.store(false, Ordering::Relaxed);
        }
        Kind::Broadcast(pace) => {
            // Validated by the caller; the receivers' node is the one-node answer.
            let addr = target.publisher_addr(sc).unwrap_or(target.addr);
            let pcfg = PublishConfig {
                addr,
                host: addr.to_string(),
                api_key: target.api_key.clone(),
                rooms: vec!["dashboard".into()],
                in_flight: opts.in_flight,
                pace,
                duration: sc.duration,
                data_bytes: opts.data_bytes,
                receivers: connected,
                busy_poll: opts.busy_poll,
            };
            let pshared = shared.clone();
            let pstats = std::thread::spawn(move || publisher::run_publisher(&pcfg, pshared))
                .join()
                .unwrap_or_else(|_| PublishStats {
                    errors: vec!["publisher thread panicked".into()],
                    ..PublishStats::default()
                });
            drain(
                &shared,
                expected_deliveries(sc.topology, &pstats, connected),
            );
            publish = Some(pstats);
        }
    }
    let phase_end_ns = clock::now_ns();
    let end_sample = sample();
    let gen_end = sys::self_cpu();
    let gen_cpu = gen_end.saturating_sub(gen_cpu_start);
    let gen_phase_cpu = gen_end.saturating_sub(gen_phase_start);
    let segments =
        segments_start.map(|a| Window::between(&a, &segments::sample(target.addr.port())));

    shared.stop.store(true, Ordering::Relaxed);
    let mut stats = WorkerStats::default();
    for h in handles {
        match h.join() {
            Ok(s) => stats.merge(&s),
            Err(_) => stats.errors.push("worker thread panicked".into()),
        }
    }
    // Per process; a process that could not be sampled at either end loses the whole figure.
    let cpu_between = |a: &Option<Vec<ProcSample>>, b: &Option<Vec<ProcSample>>| match (a, b) {
        (Some(a), Some(b)) if a.len() == b.len() => Some(
            a.iter()
                .zip(b)
                .map(|(a, b)| b.cpu.saturating_sub(a.cpu))
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    let server_cpu_each = cpu_between(&phase_sample, &end_sample);
    let expected = publish
        .as_ref()
        .map(|p| expected_deliveries(sc.topology, p, connected));
    Outcome {
        scenario: sc.clone(),
        target: target.name.clone(),
        reader: opts.reader,
        threads,
        in_flight: opts.in_flight,
        busy_poll: opts.busy_poll,
        connected,
        failed: shared.failed.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        connect_wall,
        connect_server_cpu: cpu_between(&before, &after_connect).map(|c| c.iter().sum()),
        rss_before_kib: before.as_deref().map(sys::total_rss_kib),
        rss_after_kib,
        wall: Duration::from_nanos(phase_end_ns - phase_start_ns),
        server_cpu: server_cpu_each.as_ref().map(|c| c.iter().sum()),
        server_cpu_each: server_cpu_each.unwrap_or_default(),
        gen_cpu,
        gen_phase_cpu,
        segments,
        stats,
        publish,
        expected,
    }
}

/// Deliveries a broadcast run should produce. One node: the sum of the server's
/// `{"delivered": N}` replies. Two nodes: the publisher's node counts only its own sockets
/// (none), so every publish it accepted should reach every receiver connected to node A.
pub fn expected_deliveries(topology: Topology, p: &PublishStats, receivers: u64) -> u64 {
    match topology {
        Topology::OneNode => p.delivered_sum,
        Topology::TwoNodes => p.published.saturating_sub(p.failures) * receivers,
    }
}

/// Waits until the receivers have seen every delivery the server reported, or until deliveries
/// stop arriving for 1 s (lost or still queued: the report shows the gap), at most 10 s.
fn drain(shared: &Shared, expected: u64) {
    let start = clock::now_ns();
    let mut last = (shared.deliveries.load(Ordering::Relaxed), start);
    loop {
        let seen = shared.deliveries.load(Ordering::Relaxed);
        let now = clock::now_ns();
        if seen >= expected || now - start > 10_000_000_000 {
            return;
        }
        if seen != last.0 {
            last = (seen, now);
        } else if now - last.1 > 1_000_000_000 {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl Outcome {
    /// Deliveries (or acks, or connects) per second of the measured phase.
    pub(crate) fn rate(&self) -> Option<f64> {
        match self.scenario.kind {
            Kind::Broadcast(_) => {
                let p = self.publish.as_ref()?;
                let span = self.stats.last_delivery_ns.checked_sub(p.first_send_ns)?;
                (span > 0).then(|| self.stats.deliveries as f64 / (span as f64 / 1e9))
            }
            Kind::RequestResponse => Some(self.stats.acks as f64 / self.wall.as_secs_f64()),
            Kind::ConnectStorm => Some(self.connected as f64 / self.connect_wall.as_secs_f64()),
        }
    }

    /// The scenario's count of work items (deliveries, acks, connects).
    pub(crate) fn work(&self) -> u64 {
        match self.scenario.kind {
            Kind::Broadcast(_) => self.stats.deliveries,
            Kind::RequestResponse => self.stats.acks,
            Kind::ConnectStorm => self.connected,
        }
    }

    pub(crate) fn work_cpu(&self) -> Option<Duration> {
        match self.scenario.kind {
            Kind::ConnectStorm => self.connect_server_cpu,
            _ => self.server_cpu,
        }
    }

    pub(crate) fn latency(&self) -> &Histogram {
        match self.scenario.kind {
            Kind::Broadcast(_) => &self.stats.delivery_ns,
            Kind::RequestResponse => &self.stats.ack_ns,
            Kind::ConnectStorm => &self.stats.connect_ns,
        }
    }

    pub(crate) fn unit(&self) -> &'static str {
        match self.scenario.kind {
            Kind::Broadcast(_) => "deliveries",
            Kind::RequestResponse => "acks",
            Kind::ConnectStorm => "connects",
        }
    }

    /// One JSON object per scenario run, flat, for the comparison script.
    pub fn to_json(&self) -> Value {
        let us = |ns: Option<u64>| ns.map(|v| (v as f64 / 1000.0 * 10.0).round() / 10.0);
        let lat = self.latency();
        let work_cpu = self.work_cpu().map(|d| d.as_secs_f64());
        let wall = match self.scenario.kind {
            Kind::ConnectStorm => self.connect_wall,
            _ => self.wall,
        };
        let gen_cores = sys::allowed_cpus();
        let mut v = json!({
            "scenario": self.scenario.name,
            "target": self.target,
            "reader": self.reader.name(),
            "transport": match self.scenario.transport { Transport::WebSocket => "websocket", Transport::Polling => "polling" },
            "clients": self.scenario.clients,
            "connected": self.connected,
            "failed": self.failed,
            "dropped": self.dropped,
            "unit": self.unit(),
            "count": self.work(),
            "rate_per_s": self.rate().map(round1),
            "server_cpu_s": work_cpu.map(round3),
            "per_server_cpu_s": work_cpu.filter(|c| *c > 0.0).map(|c| round1(self.work() as f64 / c)),
            "server_cpu_util": work_cpu.map(|c| round3(c / wall.as_secs_f64())),
            "server_processes": self.server_cpu_each.len(),
            "topology": match self.scenario.topology { Topology::OneNode => "one node", Topology::TwoNodes => "two nodes" },
            "p50_us": us(lat.quantile(0.5)),
            "p99_us": us(lat.quantile(0.99)),
            "p999_us": us(lat.quantile(0.999)),
            "max_us": us(lat.max()),
            "min_us": us(lat.min()),
            "mean_us": lat.mean().map(|m| round1(m / 1000.0)),
            "samples": lat.count(),
            "connect_p50_us": us(self.stats.connect_ns.quantile(0.5)),
            "connect_p99_us": us(self.stats.connect_ns.quantile(0.99)),
            "connect_s": round3(self.connect_wall.as_secs_f64()),
            "phase_s": round3(self.wall.as_secs_f64()),
            "gen_threads": self.threads,
            "gen_cpu_s": round3(self.gen_cpu.as_secs_f64()),
            "gen_cores": gen_cores,
            "gen_busy_poll": self.busy_poll,
            "malformed": self.stats.malformed,
            "errors": self.stats.errors,
        });
        if self.server_cpu_each.len() > 1 && self.scenario.kind != Kind::ConnectStorm {
            // Node A (the receivers') first, then node B (the publisher's).
            v["server_cpu_util_each"] = json!(
                self.server_cpu_each
                    .iter()
                    .map(|c| round3(c.as_secs_f64() / wall.as_secs_f64()))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(p) = &self.publish {
            v["published"] = json!(p.published);
            v["expected"] = json!(self.expected);
            v["server_delivered"] = json!(p.delivered_sum);
            v["publish_failures"] = json!(p.failures);
            v["publish_late"] = json!(p.late);
            v["publish_reconnects"] = json!(p.reconnects);
            v["api_p50_us"] = json!(us(p.api_ns.quantile(0.5)));
            v["api_p99_us"] = json!(us(p.api_ns.quantile(0.99)));
            if !p.errors.is_empty() {
                v["publish_errors"] = json!(p.errors);
            }
            if let Kind::Broadcast(pace) = self.scenario.kind {
                v["pace"] = json!(match pace {
                    Pace::Saturate { max_lag } =>
                        format!("saturate, {} in flight, max lag {max_lag}", self.in_flight),
                    Pace::Rate { per_sec } => format!("{per_sec}/s"),
                });
            }
        }
        if let Some(w) = &self.segments {
            w.add_json(&mut v, self.stats.deliveries);
            v["gen_phase_cpu_s"] = json!(round3(self.gen_phase_cpu.as_secs_f64()));
            v["gen_cpu_per_delivery_us"] = json!((self.stats.deliveries > 0).then(|| {
                round3(self.gen_phase_cpu.as_secs_f64() * 1e6 / self.stats.deliveries as f64)
            }));
        }
        if let (Some(b), Some(a)) = (self.rss_before_kib, self.rss_after_kib) {
            v["rss_before_kib"] = json!(b);
            v["rss_after_kib"] = json!(a);
            if self.connected > 0 {
                v["kib_per_conn"] = json!(round3((a as f64 - b as f64) / self.connected as f64));
            }
        }
        v
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_scenario_has_a_preset() {
        for name in NAMES.iter().chain(&TWO_NODE_NAMES) {
            let sc = Scenario::preset(name).expect("preset");
            assert_eq!(sc.name, *name);
            assert!(sc.clients >= 100);
        }
        assert!(Scenario::preset("nope").is_none());
    }

    #[test]
    fn planned_sizes() {
        let cases: &[(&str, usize, u64)] = &[
            ("fanout-1k", 1_000, 8),
            ("fanout-5k", 5_000, 8),
            ("fanout-19k", 19_000, 8),
            ("latency", 1_000, 10),
            ("connect-storm", 10_000, 0),
            ("reqresp", 100, 10),
            ("polling", 1_000, 8),
            ("fanout-2node", 1_000, 8),
        ];
        for (name, clients, secs) in cases {
            let sc = Scenario::preset(name).expect("preset");
            assert_eq!(
                (sc.clients, sc.duration.as_secs()),
                (*clients, *secs),
                "{name}"
            );
        }
        assert_eq!(
            Scenario::preset("polling").map(|s| s.transport),
            Some(Transport::Polling)
        );
        for name in NAMES.iter().chain(&TWO_NODE_NAMES) {
            let settles = Scenario::preset(name).map(|s| s.settle_memory);
            let want = matches!(*name, "connect-storm" | "fanout-19k");
            assert_eq!(settles, Some(want), "{name}");
        }
    }

    #[test]
    fn two_node_fanout_is_fanout_1k_published_elsewhere() {
        let one = Scenario::preset("fanout-1k").expect("preset");
        let two = Scenario::preset("fanout-2node").expect("preset");
        assert_eq!(one.topology, Topology::OneNode);
        assert_eq!(two.topology, Topology::TwoNodes);
        assert_eq!(
            Scenario {
                name: one.name.clone(),
                topology: Topology::OneNode,
                ..two
            },
            one
        );
        for name in NAMES {
            assert_eq!(
                Scenario::preset(name).map(|s| s.topology),
                Some(Topology::OneNode),
                "{name}"
            );
        }
    }

    #[test]
    fn publisher_addr_per_topology() {
        let a: SocketAddr = "127.0.0.1:8001".parse().expect("addr");
        let b: SocketAddr = "127.0.0.1:8002".parse().expect("addr");
        // (scenario, --publish-addr, where the publisher POSTs or None for a refusal)
        let cases: &[(&str, Option<SocketAddr>, Option<SocketAddr>)] = &[
            ("fanout-1k", None, Some(a)),
            ("fanout-1k", Some(b), Some(a)),
            ("polling", Some(b), Some(a)),
            ("fanout-2node", Some(b), Some(b)),
            ("fanout-2node", None, None),
            ("fanout-2node", Some(a), None),
        ];
        for (name, publish_addr, want) in cases {
            let target = Target {
                name: "t".into(),
                addr: a,
                publish_addr: *publish_addr,
                path: "/ws/".into(),
                jwt_secret: String::new(),
                api_key: String::new(),
                server_pids: Vec::new(),
            };
            let sc = Scenario::preset(name).expect("preset");
            assert_eq!(
                target.publisher_addr(&sc).ok(),
                *want,
                "{name} {publish_addr:?}"
            );
        }
    }

    #[test]
    fn expected_deliveries_per_topology() {
        // (topology, published, failures, server's delivered sum, receivers, expected)
        let cases: &[(Topology, u64, u64, u64, u64, u64)] = &[
            (Topology::OneNode, 10, 0, 9_990, 1_000, 9_990),
            (Topology::OneNode, 10, 2, 8_000, 1_000, 8_000),
            (Topology::TwoNodes, 10, 0, 0, 1_000, 10_000),
            (Topology::TwoNodes, 10, 2, 0, 1_000, 8_000),
            (Topology::TwoNodes, 1, 3, 0, 1_000, 0),
        ];
        for &(topology, published, failures, delivered_sum, receivers, want) in cases {
            let p = PublishStats {
                published,
                failures,
                delivered_sum,
                ..PublishStats::default()
            };
            assert_eq!(
                expected_deliveries(topology, &p, receivers),
                want,
                "{topology:?} {published} {failures}"
            );
        }
    }
}
