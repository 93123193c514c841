//! Soak: `bash scripts/soak [SECONDS]` (default 900) — churn of Socket.IO clients against a
//! ringcast on loopback, with RSS and open-fd readings; exits non-zero on a leak.
//!
//! Direct use: `cargo run --release --example soak -- --seconds 180 --bin target/release/ringcast`.
//! Options: `--seconds N` (soak length, default 900), `--warmup N` (default 20), `--threads N`
//! (churning client threads, default 24), `--rate N` (target connections per second, default
//! 300), `--bin PATH` (the server, default target/release/ringcast).
//!
//! Phases:
//! 1. Start the server (2 workers) and a steady broadcaster (10 `system:alert`/s to
//!    `dashboard` and 10 `agent:status_changed`/s spread over 50 agent rooms).
//! 2. Warm-up: `--warmup` seconds of churn, then every client leaves. The baseline RSS and fd
//!    count are read after that, once the server is quiet: the first minutes of any allocator
//!    touch pages and grow arenas that stay mapped; a leak is what grows after them.
//! 3. Soak: `--seconds` of churn. Each cycle: open a websocket session (4 in 5) or a polling
//!    session (1 in 5), CONNECT with a JWT, subscribe to an agent room, receive a broadcast,
//!    then leave (clean close frame, Engine.IO close, or an abrupt TCP drop, in turn).
//!    RSS, fds, cycles and errors are printed every 10 s.
//! 4. After: clients gone, wait up to 30 s for the server to settle; fail unless RSS is within
//!    10% of the baseline and the fd count is back to the baseline.
//!
//! Loopback only, bounded in time; not run by CI.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringcast_test_support::raw::{self, Ended, Next, Ws};
use ringcast_test_support::{Gateway, Server, http, token};

struct Options {
    seconds: u64,
    warmup: u64,
    threads: usize,
    rate: u64,
    bin: PathBuf,
}

#[derive(Default)]
struct Counters {
    cycles: AtomicU64,
    errors: AtomicU64,
    received: AtomicU64,
}

fn main() {
    let o = options();
    // Killed with this thread (the main thread): the soak may be interrupted at any point.
    let server = Gateway::new(&o.bin)
        .workers(2)
        .args(["--log-level", "error"])
        .launch()
        .die_with_parent()
        .start();
    let addr = server.addr;
    let cold = (server.rss_kib(), server.fds());
    println!(
        "soak: ringcast pid {} on {addr}; cold RSS {} KiB, {} fds",
        server.pid, cold.0, cold.1
    );

    let stop_broadcast = Arc::new(AtomicBool::new(false));
    let broadcaster = {
        let stop = stop_broadcast.clone();
        std::thread::spawn(move || broadcast(addr, &stop))
    };

    println!("soak: warm-up {} s", o.warmup);
    churn(addr, &o, Duration::from_secs(o.warmup), &server);
    let baseline = settle(&server);
    println!("soak: baseline RSS {} KiB, {} fds", baseline.0, baseline.1);

    println!(
        "soak: churn {} s, {} threads, target {}/s",
        o.seconds, o.threads, o.rate
    );
    let counters = churn(addr, &o, Duration::from_secs(o.seconds), &server);
    let after = settle(&server);
    stop_broadcast.store(true, Ordering::Relaxed);
    let _ = broadcaster.join();

    let cycles = counters.cycles.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);
    println!(
        "soak: after RSS {} KiB ({:+.1}% of baseline), {} fds (baseline {}); {cycles} cycles ({:.0}/s), {errors} errors, {} broadcasts received",
        after.0,
        (after.0 as f64 / baseline.0.max(1) as f64 - 1.0) * 100.0,
        after.1,
        baseline.1,
        cycles as f64 / o.seconds.max(1) as f64,
        counters.received.load(Ordering::Relaxed),
    );
    let mut failed = Vec::new();
    if after.0 as f64 > baseline.0 as f64 * 1.10 {
        failed.push("RSS did not return within 10% of the baseline");
    }
    if after.1 > baseline.1 {
        failed.push("open fds did not return to the baseline");
    }
    if errors * 100 > cycles.max(1) {
        failed.push("more than 1% of the cycles failed");
    }
    if failed.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL: {}", failed.join("; "));
        std::process::exit(1);
    }
}

fn options() -> Options {
    let mut o = Options {
        seconds: 900,
        warmup: 20,
        threads: 24,
        rate: 300,
        bin: PathBuf::from("target/release/ringcast"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage(&pair[0]));
        match pair[0].as_str() {
            "--seconds" => o.seconds = number(),
            "--warmup" => o.warmup = number(),
            "--threads" => o.threads = number() as usize,
            "--rate" => o.rate = number().max(1),
            "--bin" => o.bin = PathBuf::from(value),
            other => usage(other),
        }
    }
    o
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "soak: bad argument {arg:?}; options: --seconds N --warmup N --threads N --rate N --bin PATH"
    );
    std::process::exit(2)
}

/// 10 dashboard alerts and 10 agent events a second until `stop`.
fn broadcast(addr: SocketAddr, stop: &AtomicBool) {
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let body = format!(
            r#"[{{"event":"system:alert","data":{{"message":"soak-{i}","severity":"info"}}}},{{"event":"agent:status_changed","data":{{"agent_id":"soak-{}","old_status":"idle","new_status":"busy"}}}}]"#,
            i % 50
        );
        if let Err(e) = http::publish(addr, &body) {
            eprintln!("soak: publish failed: {e}");
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `threads` churning clients for `length`, printing readings every 10 s.
fn churn(addr: SocketAddr, o: &Options, length: Duration, server: &Server) -> Arc<Counters> {
    let counters = Arc::new(Counters::default());
    let end = Instant::now() + length;
    // Each thread paces itself so that all of them together aim at `rate` cycles a second.
    let pace = Duration::from_secs_f64(o.threads as f64 / o.rate as f64);
    let token = token::good();
    let workers: Vec<_> = (0..o.threads)
        .map(|t| {
            let (counters, token) = (counters.clone(), token.clone());
            std::thread::spawn(move || {
                let mut n = t as u64;
                while Instant::now() < end {
                    let started = Instant::now();
                    let ok = if n % 5 == 4 {
                        polling_cycle(addr, &token, &counters)
                    } else {
                        websocket_cycle(addr, &token, n, &counters)
                    };
                    // Print the first few failures; count them all.
                    if let Err(e) = ok
                        && counters.errors.fetch_add(1, Ordering::Relaxed) < 10
                    {
                        eprintln!("soak: cycle failed: {e}");
                    }
                    counters.cycles.fetch_add(1, Ordering::Relaxed);
                    // A prime step spreads each thread over rooms and leaving modes.
                    n += 7;
                    std::thread::sleep(pace.saturating_sub(started.elapsed()));
                }
            })
        })
        .collect();
    let start = Instant::now();
    while Instant::now() < end {
        std::thread::sleep(
            Duration::from_secs(10).min(end.saturating_duration_since(Instant::now())),
        );
        println!(
            "soak: t={:>4}s RSS {} KiB, {} fds, {} cycles, {} errors",
            start.elapsed().as_secs(),
            server.rss_kib(),
            server.fds(),
            counters.cycles.load(Ordering::Relaxed),
            counters.errors.load(Ordering::Relaxed)
        );
    }
    for w in workers {
        let _ = w.join();
    }
    counters
}

/// Connect over websocket, subscribe, receive one broadcast, leave in one of three ways.
fn websocket_cycle(addr: SocketAddr, token: &str, n: u64, c: &Counters) -> Result<(), String> {
    let mut eio = raw::sio_client(addr, token)?;
    let room = format!("agent:soak-{}", n % 50);
    eio.ws
        .send_text(&format!(r#"42["subscribe",{{"room":"{room}"}}]"#))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    eio.ws
        .wait_text(deadline, |t| t.starts_with(r#"42["subscribed""#))?;
    eio.ws.wait_text(deadline, |t| {
        t.starts_with(r#"42["system:alert""#) || t.starts_with(r#"42["agent:status_changed""#)
    })?;
    c.received.fetch_add(1, Ordering::Relaxed);
    match n % 3 {
        // A clean WebSocket close: the server answers 1000 and closes.
        0 => {
            eio.ws.send(&raw::close_frame(1000, b""))?;
            wait_end(&mut eio.ws, deadline)
        }
        // Engine.IO close packet.
        1 => {
            eio.ws.send_text("1")?;
            wait_end(&mut eio.ws, deadline)
        }
        // Abrupt: drop the TCP connection.
        _ => Ok(()),
    }
}

/// Reads until the server closes the connection.
fn wait_end(ws: &mut Ws, deadline: Instant) -> Result<(), String> {
    loop {
        match ws.next(deadline) {
            Next::Frame(_) => {}
            Next::Ended(Ended::Closed) => return Ok(()),
            Next::Ended(Ended::Timeout) => return Err("server did not close".into()),
        }
    }
}

/// Open a polling session, CONNECT, read the answer, close with an Engine.IO `1`.
fn polling_cycle(addr: SocketAddr, token: &str, c: &Counters) -> Result<(), String> {
    let sid = raw::polling_open(addr)?;
    let target = format!("{}?EIO=4&transport=polling&sid={sid}", raw::PATH);
    let r = http::post(
        addr,
        &target,
        format!(r#"40{{"token":"{token}"}}"#).as_bytes(),
    )?;
    if r.status != 200 {
        return Err(format!("polling CONNECT: {} {}", r.status, r.body));
    }
    let r = http::get(addr, &target)?;
    if !r.body.starts_with("40{") {
        return Err(format!("polling CONNECT answer: {}", r.body));
    }
    c.received.fetch_add(1, Ordering::Relaxed);
    let r = http::post(addr, &target, b"1")?;
    if r.status != 200 {
        return Err(format!("polling close: {} {}", r.status, r.body));
    }
    Ok(())
}

/// Waits (up to 30 s) until RSS and fds stop falling; returns the last reading.
fn settle(server: &Server) -> (u64, usize) {
    let mut last = (server.rss_kib(), server.fds());
    for _ in 0..30 {
        std::thread::sleep(Duration::from_secs(1));
        let now = (server.rss_kib(), server.fds());
        if now == last {
            break;
        }
        last = now;
    }
    last
}
