//! `loadgen`: drives a Socket.IO v4 server (ringcast or a peer) on loopback through the
//! benchmark scenarios and reports throughput, latency and the server's CPU and memory.
//!
//! ```sh
//! loadgen --addr 127.0.0.1:8000 --path /ws/ --jwt-secret S --api-key K \
//!     --server-pid $(pgrep -n ringcast) --target-name ringcast --scenario fanout-1k,latency
//! loadgen --addr 127.0.0.1:8001 --publish-addr 127.0.0.1:8002 --server-pid $A,$B \
//!     --jwt-secret S --api-key K --target-name ringcast --scenario fanout-2node
//! ```
//! Prints a summary per scenario, and a JSON line per scenario on stdout (or appended to
//! `--json FILE`).

mod clients;
mod clock;
mod histogram;
mod http1;
mod jwt;
mod proto;
mod publisher;
mod reactor;
mod scenario;
mod segments;
mod summary;
mod sys;
mod tokio_clients;

use std::io::Write as _;
use std::time::Duration;

use clap::Parser;

use crate::publisher::Pace;
use crate::scenario::{Kind, Reader, RunOptions, Scenario, Target};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Socket.IO load generator for ringcast and its peers (loopback only)"
)]
struct Args {
    /// Server address (loopback): node A, where the clients connect.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: std::net::SocketAddr,
    /// Node B of the same cluster, where the publisher POSTs in the two-node scenarios
    /// (fanout-2node); the one-node scenarios publish to --addr.
    #[arg(long)]
    publish_addr: Option<std::net::SocketAddr>,
    /// Engine.IO path.
    #[arg(long, default_value = "/ws/")]
    path: String,
    #[arg(long, env = "RINGCAST_JWT_SECRET")]
    jwt_secret: String,
    #[arg(long, env = "RINGCAST_API_KEY")]
    api_key: String,
    /// The server's pid, for its CPU time and RSS (/proc/PID/stat, /proc/PID/status); a
    /// comma-separated list (node A,node B) sums them.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Label for the report.
    #[arg(long, default_value = "target")]
    target_name: String,
    /// Comma-separated: fanout-1k, fanout-5k, fanout-19k, latency, connect-storm, reqresp,
    /// polling, or all (those seven); fanout-2node (needs --publish-addr).
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Override every scenario's measured duration (seconds, fractions allowed): for smokes.
    #[arg(long)]
    duration: Option<f64>,
    /// Override every scenario's client count.
    #[arg(long)]
    clients: Option<usize>,
    /// How the receivers read: `epoll` (thousands of sessions per thread, 64 KiB reads through
    /// ringcast-codec) or `tokio` (one task per connection on a work-stealing runtime, one
    /// message per read through tokio-tungstenite; WebSocket scenarios without heartbeats only).
    #[arg(long, value_enum, default_value = "epoll")]
    reader: Reader,
    /// Client threads, or tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
    /// Publish connections, i.e. most publishes in flight.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Saturating publishers: most publishes not yet seen by every receiver.
    #[arg(long, default_value_t = scenario::DEFAULT_MAX_LAG)]
    max_lag: u64,
    /// Publish at this fixed rate instead (per second) in the broadcast scenarios.
    #[arg(long)]
    rate: Option<f64>,
    /// Handshakes in flight.
    #[arg(long, default_value_t = 64)]
    handshakes: usize,
    /// Bytes of each publish's `data` object.
    #[arg(long, default_value_t = 200)]
    data_bytes: usize,
    /// Spin instead of sleeping in epoll_wait, so the generator adds no wake-up latency of its
    /// own (it then uses its whole core: its CPU figure no longer shows headroom).
    #[arg(long)]
    busy_poll: bool,
    /// Append the JSON lines to this file instead of printing them.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    clock::now_ns();
    let nofile = sys::raise_nofile_limit();
    for addr in std::iter::once(args.addr).chain(args.publish_addr) {
        if !addr.ip().is_loopback() {
            eprintln!("loadgen: refusing {addr}: load runs on loopback only");
            return std::process::ExitCode::from(2);
        }
    }
    let target = Target {
        name: args.target_name.clone(),
        addr: args.addr,
        publish_addr: args.publish_addr,
        path: args.path.clone(),
        jwt_secret: args.jwt_secret.clone(),
        api_key: args.api_key.clone(),
        server_pids: args.server_pid.clone(),
    };
    let names: Vec<&str> = if args.scenario == "all" {
        scenario::NAMES.to_vec()
    } else {
        args.scenario
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut scenarios = Vec::new();
    for name in names {
        let Some(mut sc) = Scenario::preset(name) else {
            eprintln!(
                "loadgen: unknown scenario {name} (known: {}, {})",
                scenario::NAMES.join(", "),
                scenario::TWO_NODE_NAMES.join(", ")
            );
            return std::process::ExitCode::from(2);
        };
        if args.reader == Reader::Tokio
            && (sc.transport != clients::Transport::WebSocket || sc.kind == Kind::RequestResponse)
        {
            eprintln!(
                "loadgen: {name} needs the epoll reader: --reader tokio drives WebSocket receivers \
                 without heartbeats only (fan-out, latency, connect-storm)"
            );
            return std::process::ExitCode::from(2);
        }
        if let Err(why) = target.publisher_addr(&sc) {
            eprintln!("loadgen: {why}");
            return std::process::ExitCode::from(2);
        }
        if let Some(d) = args.duration {
            sc.duration = Duration::from_secs_f64(d.max(0.0));
        }
        if let Some(c) = args.clients {
            sc.clients = c;
        }
        sc.handshakes = args.handshakes;
        if let Kind::Broadcast(pace) = &mut sc.kind {
            *pace = match (args.rate, *pace) {
                (Some(per_sec), _) => Pace::Rate { per_sec },
                (None, Pace::Saturate { .. }) => Pace::Saturate {
                    max_lag: args.max_lag,
                },
                (None, rate) => rate,
            };
        }
        let per_client = if sc.transport == clients::Transport::Polling {
            2
        } else {
            1
        };
        if (sc.clients * per_client + args.in_flight + 64) as u64 > nofile {
            eprintln!(
                "loadgen: warning: {} clients may exceed the open-files limit {nofile}",
                sc.clients
            );
        }
        scenarios.push(sc);
    }
    if args.publish_addr.is_some()
        && scenarios
            .iter()
            .all(|sc| sc.topology == scenario::Topology::OneNode)
    {
        eprintln!("loadgen: warning: --publish-addr is unused: no two-node scenario selected");
    }
    let opts = RunOptions {
        reader: args.reader,
        threads: args.threads.unwrap_or_else(sys::allowed_cpus).max(1),
        in_flight: args.in_flight.max(1),
        data_bytes: args.data_bytes,
        connect_timeout: Duration::from_secs(120),
        busy_poll: args.busy_poll,
    };
    let mut failed = false;
    for sc in &scenarios {
        let outcome = scenario::run(sc, &target, &opts);
        print!("{}", outcome.summary());
        failed |= outcome.connected == 0;
        let line = outcome.to_json().to_string();
        match &args.json {
            Some(path) => {
                let written = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| writeln!(f, "{line}"));
                if let Err(e) = written {
                    eprintln!("loadgen: cannot write {}: {e}", path.display());
                    failed = true;
                }
            }
            None => println!("{line}"),
        }
        let _ = std::io::stdout().flush();
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
