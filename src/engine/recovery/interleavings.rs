//! Exactly-once across cores: every interleaving of a broadcast in flight to a socket's core
//! with that socket's disconnect, replayed through the real [`LocalStore`] and the same
//! per-core bookkeeping the worker keeps ([`Watermarks`], [`SentTrail`]).

use ringcast_codec::ws::OutFrame;

use super::{
    LocalStore, LogBounds, LogMark, Pid, RecoveryConfig, RecoveryStore, Replayed, SavedSession,
    SentTrail, Seq, Watermarks,
};
use crate::engine::sid::{ShardId, Sid};
use crate::engine::{BroadcastOp, Room, encode_event};

/// Core 0 holds the socket; core 1 is another producer.
const A: usize = 0;
const B: usize = 1;
const ROOM: &str = "task:1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Core B records event 1 for the room and sends it to core A.
    RecordOnB,
    /// Core A records event 2 for the room and fans it out at once (its own broadcast).
    RecordOnA,
    /// Event 1 reaches core A, which fans it out.
    ArriveOnA,
    /// The socket's transport goes away: core A saves its session.
    Disconnect,
}

fn op(room: &str, n: u64) -> BroadcastOp {
    BroadcastOp {
        nsp: Room::from("/"),
        rooms: vec![Room::from(room)],
        frames: encode_event("/", None, "ev", &n.to_string(), &[]),
        ..Default::default()
    }
}

/// (event number, offset text) of a broadcast frame `42["ev",<n>,"<offset>"]`.
fn read(frames: &[OutFrame]) -> (u64, String) {
    let payload = frames[0].payload();
    let args: Vec<serde_json::Value> = serde_json::from_slice(&payload[2..]).expect("json");
    (
        args[1].as_u64().expect("n"),
        args[2].as_str().expect("offset").to_owned(),
    )
}

/// The session core A saves of a socket in the room (`unqueued_after`: the store's start per
/// log, given the connected head).
fn in_room(
    pid: Pid,
    sid: Sid,
    connected_head: Seq,
    sent: SentTrail,
    unqueued_after: impl Fn(Seq) -> Vec<Seq>,
) -> SavedSession {
    SavedSession {
        pid,
        sid,
        nsp: Room::from("/"),
        rooms: vec![Room::from(ROOM)],
        owner: None,
        connected_head,
        sent,
        unqueued_after: unqueued_after(connected_head),
        mark: LogMark::default(),
    }
}

/// Core A as the worker keeps it: its watermarks, and the socket while it is connected.
struct CoreA<'s> {
    store: &'s LocalStore,
    seen: Watermarks,
    /// The socket: its trail and what was queued to it (event number, offset).
    socket: Option<(SentTrail, Vec<(u64, String)>)>,
    connected_head: Seq,
}

impl CoreA<'_> {
    fn fan_out(&mut self, op: &BroadcastOp) {
        let seq = self.store.offset_of(op).expect("an offset");
        self.seen.observe(self.store.source_of(seq), seq);
        let for_it = op.rooms.iter().any(|r| r.as_str() == ROOM);
        if let Some((trail, queue)) = self.socket.as_mut().filter(|_| for_it) {
            trail.push(seq);
            queue.push(read(&op.frames));
        }
    }
}

/// Plays `steps` (event 1 recorded before it arrives); the client receives what was queued
/// before the disconnect except the last `lost` (lost in flight). With `trimmed`, core A's log
/// has dropped the client's own offset before the steps. Returns how many times the client got
/// each of events 1 and 2, received or replayed, and whether it recovered.
fn play(steps: &[Step], lost: usize, trimmed: bool) -> (bool, [usize; 2]) {
    let config = RecoveryConfig {
        max_disconnection_ms: 60_000,
        log: LogBounds {
            max_events: 3,
            max_bytes: 1 << 20,
            max_age_ms: 60_000,
        },
    };
    let store = LocalStore::new(config, 2).expect("csprng");
    let mut core = CoreA {
        store: &store,
        seen: Watermarks::new(store.sources()),
        socket: Some((SentTrail::default(), Vec::new())),
        connected_head: store.head(),
    };
    // Event 0, received: the client holds its offset.
    let zero = store.record(A, op(ROOM, 0), 1 << A);
    core.fan_out(&zero);
    let mut received: Vec<(u64, String)> = core
        .socket
        .as_mut()
        .map(|(_, q)| q.split_off(0))
        .unwrap_or_default();
    if trimmed {
        // Three events for a room nobody is in push event 0 out of A's log of 3.
        for n in 10..13 {
            core.fan_out(&store.record(A, op("elsewhere", n), 1 << A));
        }
    }
    let pid = Pid::generate(ShardId(A as u16)).expect("csprng");
    let sid = Sid::generate(ShardId(A as u16)).expect("csprng");
    let mut in_flight = None;
    for &step in steps {
        match step {
            Step::RecordOnB => in_flight = Some(store.record(B, op(ROOM, 1), 1 << A)),
            Step::ArriveOnA => {
                let event = in_flight.take().expect("recorded before it arrives");
                core.fan_out(&event);
            }
            Step::RecordOnA => {
                let to = if core.socket.is_some() { 1 << A } else { 0 };
                let event = store.record(A, op(ROOM, 2), to);
                core.fan_out(&event);
            }
            Step::Disconnect => {
                let (sent, mut queue) = core.socket.take().expect("connected");
                queue.truncate(queue.len().saturating_sub(lost));
                received.extend(queue);
                store.save(in_room(pid, sid, core.connected_head, sent, |head| {
                    store.unqueued_after(A, &core.seen, head)
                }));
            }
        }
    }
    let offset = received.last().map(|(_, o)| o.clone());
    let mut got = [0; 2];
    let mut count = |n: u64| {
        if let Some(c) = n.checked_sub(1).and_then(|i| got.get_mut(i as usize)) {
            *c += 1;
        }
    };
    for (n, _) in &received {
        count(*n);
    }
    match store.restore(pid, offset.as_deref(), None) {
        Ok(restored) => {
            for frames in &restored.missed {
                count(read(frames).0);
            }
            (true, got)
        }
        Err(_) => (false, got),
    }
}

/// Every order of four steps, keeping those where each pair `(a, b)` of `before` has `a`
/// first.
fn orders<S: Copy + PartialEq>(all: [S; 4], before: &[(S, S)]) -> Vec<Vec<S>> {
    let mut out = Vec::new();
    for n in 0..4usize.pow(4) {
        let idx = [n % 4, n / 4 % 4, n / 16 % 4, n / 64];
        let mut seen = [false; 4];
        if idx.iter().any(|&i| std::mem::replace(&mut seen[i], true)) {
            continue;
        }
        let steps: Vec<S> = idx.iter().map(|&i| all[i]).collect();
        let pos = |s: S| steps.iter().position(|&x| x == s);
        if before.iter().all(|&(a, b)| pos(a) < pos(b)) {
            out.push(steps);
        }
    }
    out
}

/// Every order of the four steps in which event 1 is recorded before it arrives.
fn interleavings() -> Vec<Vec<Step>> {
    use Step::*;
    orders(
        [RecordOnB, RecordOnA, ArriveOnA, Disconnect],
        &[(RecordOnB, ArriveOnA)],
    )
}

#[test]
fn a_broadcast_in_flight_to_the_core_at_the_disconnect_is_replayed_once() {
    let orders = interleavings();
    assert_eq!(orders.len(), 12);
    for steps in &orders {
        for lost in [0, 1, 2] {
            for trimmed in [false, true] {
                let (recovered, got) = play(steps, lost, trimmed);
                let case = format!("{steps:?}, {lost} lost in flight, trimmed: {trimmed}");
                assert!(recovered, "{case}: not recovered");
                assert_eq!(
                    got,
                    [1, 1],
                    "{case}: times events 1 and 2 reached the client"
                );
            }
        }
    }
}

/// What happens on core A after the disconnect, around a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Around {
    /// Core B records event 1 for the room, sent to core A if the socket is back in the room
    /// there or another member is (B's view of the directory).
    RecordOnB,
    /// The restore reads the logs and queues what the socket missed.
    Replay,
    /// The socket is back in its rooms; its catch-up reads the logs again.
    Rejoin,
    /// Event 1 reaches core A, if B sent it there.
    ArriveOnA,
}

/// Plays `steps` after the socket's disconnect (`neighbour`: another socket on core A is in
/// the room); returns how many times event 1 was queued to the restored socket (replay,
/// catch-up or live), through the real [`LocalStore`] and the worker's [`Replayed`] rule for
/// in-flight copies.
fn play_restore(steps: &[Around], neighbour: bool) -> usize {
    let config = RecoveryConfig {
        max_disconnection_ms: 60_000,
        log: LogBounds {
            max_events: 10,
            max_bytes: 1 << 20,
            max_age_ms: 60_000,
        },
    };
    let store = LocalStore::new(config, 2).expect("csprng");
    let pid = Pid::generate(ShardId(A as u16)).expect("csprng");
    let sid = Sid::generate(ShardId(A as u16)).expect("csprng");
    let head = store.head();
    let seen = Watermarks::new(store.sources());
    store.save(in_room(pid, sid, head, SentTrail::default(), |head| {
        store.unqueued_after(A, &seen, head)
    }));
    let mut replayed = Replayed::default();
    let mut in_room = false;
    let mut in_flight = None;
    let mut queued = 0;
    let is_one = |frames: &[OutFrame]| read(frames).0 == 1;
    for &step in steps {
        match step {
            Around::RecordOnB => {
                let sent = in_room || neighbour;
                let event = store.record(B, op(ROOM, 1), if sent { 1 << A } else { 0 });
                in_flight = Some((event, sent));
            }
            Around::Replay => {
                let restored = store.restore(pid, None, None).expect("restored");
                queued += restored.missed.iter().filter(|f| is_one(f)).count();
                replayed = restored.replayed;
            }
            Around::Rejoin => {
                in_room = true;
                let rooms = [Room::from(ROOM)];
                let caught = store.catch_up(&Room::from("/"), sid, &rooms, replayed.as_slice());
                for (seq, frames) in &caught.found {
                    if !replayed.covers(*seq, store.source_of(*seq)) && is_one(frames) {
                        queued += 1;
                    }
                }
                replayed.extend_to(&caught.read);
            }
            Around::ArriveOnA => {
                let (event, sent) = in_flight.take().expect("recorded before it arrives");
                let seq = store.offset_of(&event).expect("an offset");
                if sent && in_room && !replayed.covers(seq, store.source_of(seq)) {
                    queued += 1;
                }
            }
        }
    }
    queued
}

#[test]
fn a_broadcast_around_a_restore_reaches_the_socket_once() {
    use Around::*;
    let all = orders(
        [RecordOnB, Replay, Rejoin, ArriveOnA],
        &[(RecordOnB, ArriveOnA), (Replay, Rejoin)],
    );
    assert_eq!(all.len(), 6);
    for steps in &all {
        for neighbour in [false, true] {
            let case = format!("{steps:?}, another member on A: {neighbour}");
            assert_eq!(play_restore(steps, neighbour), 1, "{case}");
        }
    }
}
