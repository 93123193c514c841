//! The engine's per-core data structures: the room index (join, leave, broadcast targets), the
//! node-wide room directory, and the cross-core mesh (one thread, then two threads with the
//! doorbell protocol the server's mesh loop uses).
//!
//! Run: `cargo bench --bench engine` (shorter: `-- --warm-up-time 1 --measurement-time 3`).

use std::hint::black_box;
use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringcast::engine::mesh::{Doorbell, Mesh};
use ringcast::engine::rooms::Directory;
use ringcast::engine::rooms::{Member, RoomIndex};
use ringcast::engine::{Msg, ReplyToken};
use ringcast::{Room, ShardId};

/// Room sizes: 1 000 and 10 000 members (the gateway's `dashboard` holds every connection of a
/// core: 10 000 is a 20 000-connection node on 2 cores).
const SIZES: [usize; 2] = [1_000, 10_000];

fn members(n: usize) -> Vec<Member> {
    // Session keys as a slab hands them out (dense from 0), slot 0: one namespace.
    (0..n).map(|k| Member::new(k, 0)).collect()
}

/// A fixed permutation (xorshift Fisher-Yates): the same "random" leave order on every run.
fn shuffled(mut v: Vec<Member>) -> Vec<Member> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

fn filled(nsp: &Room, room: &Room, ms: &[Member]) -> RoomIndex {
    let mut index = RoomIndex::new();
    for &m in ms {
        let _ = index.join(nsp, room, m);
    }
    index
}

fn room_index(c: &mut Criterion) {
    let (nsp, room) = (Room::from("/"), Room::from("dashboard"));
    let mut g = c.benchmark_group("rooms");
    // A quadratic leave of 10 000 members takes tens of ms per iteration: fewer samples.
    g.sample_size(20);
    for n in SIZES {
        let ms = members(n);
        let random = shuffled(ms.clone());
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("join", n), &ms, |b, ms| {
            b.iter_batched(
                RoomIndex::new,
                |mut index| {
                    for &m in ms {
                        let _ = index.join(&nsp, &room, black_box(m));
                    }
                    index
                },
                BatchSize::LargeInput,
            )
        });
        for (order, leaving) in [("leave_join_order", &ms), ("leave_random_order", &random)] {
            g.bench_with_input(BenchmarkId::new(order, n), leaving, |b, leaving| {
                b.iter_batched(
                    || filled(&nsp, &room, &ms),
                    |mut index| {
                        for &m in leaving {
                            let _ = index.leave(&nsp, &room, black_box(m));
                        }
                        index
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    // The common case: a member joins and leaves a small room (`agent:{id}`, `task:{id}`).
    g.throughput(Throughput::Elements(1));
    for n in [1usize, 8, 64] {
        let index = filled(&nsp, &room, &members(n - 1));
        let extra = Member::new(n, 0);
        g.bench_function(BenchmarkId::new("join_leave_one_in_room_of", n), |b| {
            b.iter_batched_ref(
                || {
                    let mut i = RoomIndex::new();
                    for &m in index.members("/", "dashboard").unwrap_or_default() {
                        let _ = i.join(&nsp, &room, m);
                    }
                    i
                },
                |i| {
                    let _ = i.join(&nsp, &room, black_box(extra));
                    let _ = i.leave(&nsp, &room, black_box(extra));
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    // Broadcast targets as `Worker::targets` + `fan_out_except` find them: the members of each
    // target room, then one pass that skips a socket already stamped by this broadcast (a socket
    // in several target rooms is reached once). The per-socket stamps live in a Vec indexed by
    // session key here (in the worker: in each socket's slab entry).
    let mut g = c.benchmark_group("targets");
    let n = 1_000;
    let (agent, task) = (Room::from("agent:7"), Room::from("task:9"));
    let mut index = filled(&nsp, &room, &members(n));
    for k in (0..n).step_by(2) {
        let _ = index.join(&nsp, &agent, Member::new(k, 0)); // 500, all in dashboard too
    }
    for k in (0..n).step_by(4) {
        let _ = index.join(&nsp, &task, Member::new(k, 0)); // 250, in both others too
    }
    let mut stamps = vec![0u64; n];
    let mut stamp = 0u64;
    let mut targets: Vec<Member> = Vec::with_capacity(2 * n);
    for (name, rooms) in [
        ("1_room_1000", vec![room.clone()]),
        ("3_overlapping_rooms_1000", vec![room.clone(), agent, task]),
    ] {
        g.throughput(Throughput::Elements(n as u64)); // distinct sockets reached
        g.bench_function(name, |b| {
            b.iter(|| {
                stamp += 1;
                targets.clear();
                for r in black_box(&rooms) {
                    if let Some(ms) = index.members("/", r.as_str()) {
                        targets.extend_from_slice(ms);
                    }
                }
                let mut reached = 0usize;
                for m in &targets {
                    let s = &mut stamps[m.key as usize];
                    if *s != stamp {
                        *s = stamp;
                        reached += 1;
                    }
                }
                black_box(reached)
            })
        });
    }
    g.finish();
}

fn directory(c: &mut Criterion) {
    let mut g = c.benchmark_group("directory");
    let d = Directory::default();
    let nsp = Room::from("/");
    // 1 000 rooms present, as in a node with one `agent:{id}` room per agent.
    let rooms: Vec<Room> = (0..1_000)
        .map(|i| Room::from(format!("agent:{i}")))
        .collect();
    for (i, r) in rooms.iter().enumerate() {
        d.add(&nsp, r, i % 2);
    }
    let fresh = Room::from("task:new");
    g.bench_function("add_remove", |b| {
        b.iter(|| {
            d.add(&nsp, black_box(&fresh), 1);
            d.remove(&nsp, black_box(&fresh), 1);
        })
    });
    g.bench_function("workers_of_hit", |b| {
        b.iter(|| d.workers_of(black_box("/"), black_box("agent:500")))
    });
    g.bench_function("workers_of_miss", |b| {
        b.iter(|| d.workers_of(black_box("/"), black_box("agent:none")))
    });
    g.finish();
}

/// A small message of the server's own type (what a core answers to a counted broadcast).
fn delivered(i: u64) -> Msg {
    Msg::Delivered {
        token: ReplyToken::new(i as usize, 0),
        count: 1,
    }
}

fn count(msg: Msg) -> u64 {
    match msg {
        Msg::Delivered { count, .. } => count as u64,
        _ => 0,
    }
}

/// Blocks until `me` has at least one message, the way the server's mesh loop parks: announce
/// sleep, drain once more, and only then wait for the doorbell. Returns the messages' count sum.
fn wait_and_drain(mesh: &Mesh<Msg>, bell: &Doorbell, me: ShardId) -> u64 {
    let mut buf = [0u8; 64];
    loop {
        let mut got = 0;
        if mesh.drain(me, |m| got += count(m)) > 0 {
            return got;
        }
        mesh.going_to_sleep(me);
        if mesh.drain(me, |m| got += count(m)) > 0 {
            mesh.awake(me);
            return got;
        }
        // The read has a timeout so a lost ring shows as a slow bench, never a hung one.
        match (&bell.0).read(&mut buf) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("doorbell: {e}"),
        }
        mesh.awake(me);
    }
}

/// Shard `from` sends `iters` messages to shard `to` (running `backoff` while the queue is full)
/// as `receive` takes them on another thread; the time until both are done.
fn stream(
    mesh: &Mesh<Msg>,
    (from, to): (ShardId, ShardId),
    iters: u64,
    receive: impl FnOnce() + Send,
    backoff: fn(),
) -> Duration {
    std::thread::scope(|s| {
        let start = Instant::now();
        let rx = s.spawn(receive);
        for i in 0..iters {
            let mut msg = delivered(i);
            while let Err(back) = mesh.send(from, to, msg) {
                msg = back;
                backoff();
            }
        }
        rx.join().expect("receiver");
        start.elapsed()
    })
}

fn mesh(c: &mut Criterion) {
    let mut g = c.benchmark_group("mesh");
    let (mesh, bells) = Mesh::<Msg>::new(2).expect("socketpairs");
    for bell in &bells {
        bell.0.set_nonblocking(false).expect("blocking doorbell");
        bell.0
            .set_read_timeout(Some(Duration::from_secs(1)))
            .expect("doorbell timeout");
    }
    let (a, b) = (ShardId(0), ShardId(1));

    // One thread: 64 sends then one drain (the receiver is awake: no doorbell write).
    const BATCH: u64 = 64;
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("send_drain_1thread_batch64", |bch| {
        bch.iter(|| {
            for i in 0..BATCH {
                mesh.send(a, b, delivered(i))
                    .expect("64 fit in a queue of 4096");
            }
            let mut got = 0;
            mesh.drain(b, |m| got += count(m));
            black_box(got)
        })
    });

    // Two threads, a stream: shard 0 sends `iters` messages (a full queue is retried), shard 1
    // parks on its doorbell whenever it finds nothing, as the server does.
    g.throughput(Throughput::Elements(1));
    g.bench_function("stream_2threads", |bch| {
        bch.iter_custom(|iters| {
            stream(
                &mesh,
                (a, b),
                iters,
                || {
                    let mut got = 0;
                    while got < iters {
                        got += wait_and_drain(&mesh, &bells[1], b);
                    }
                },
                std::hint::spin_loop,
            )
        })
    });

    // The same stream with the queue only: the receiver polls `drain` and never parks (no
    // sleeping flag set, so no send rings); an empty drain or a full queue yields the core
    // rather than spinning, since a spinning thread on a shared 2-core machine mostly waits
    // for the other one to be scheduled. The platform notes' 77–85 M msg/s (idle cores) is this.
    g.bench_function("stream_2threads_queue_only", |bch| {
        bch.iter_custom(|iters| {
            stream(
                &mesh,
                (a, b),
                iters,
                || {
                    let mut got = 0;
                    while got < iters {
                        if mesh.drain(b, |m| got += count(m)) == 0 {
                            std::thread::yield_now();
                        }
                    }
                },
                std::thread::yield_now,
            )
        })
    });

    // Two threads, ping-pong: each round trip is two cross-core messages, and both sides park
    // between them, so it includes two doorbell wakeups (the ~20 µs per wakeup of these VMs).
    g.bench_function("pingpong_2threads_roundtrip", |bch| {
        bch.iter_custom(|iters| {
            std::thread::scope(|s| {
                let start = Instant::now();
                let echo = s.spawn(|| {
                    let mut got = 0;
                    while got < iters {
                        let n = wait_and_drain(&mesh, &bells[1], b);
                        for _ in 0..n {
                            mesh.send(b, a, delivered(0)).expect("one in flight");
                        }
                        got += n;
                    }
                });
                for i in 0..iters {
                    mesh.send(a, b, delivered(i)).expect("one in flight");
                    let mut back = 0;
                    while back == 0 {
                        back = wait_and_drain(&mesh, &bells[0], a);
                    }
                }
                echo.join().expect("echo");
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn config() -> Criterion {
    // 2 cores shared with other builds: short runs, medians reported.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = room_index, directory, mesh
}
criterion_main!(benches);
