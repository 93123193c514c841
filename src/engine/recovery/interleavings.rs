//! Exactly-once across cores: every interleaving of a broadcast in flight to a socket's core
//! with that socket's disconnect, replayed through the real [`LocalStore`] and the same
//! per-core bookkeeping the worker keeps ([`Watermarks`], [`SentTrail`]).

use ringcast_codec::ws::OutFrame;

use super::{
    LocalStore, LogBounds, LogMark, Pid, RecoveryConfig, RecoveryStore, SavedSession, SentTrail,
    Seq, Watermarks,
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
                store.save(SavedSession {
                    pid,
                    sid,
                    nsp: Room::from("/"),
                    rooms: vec![Room::from(ROOM)],
                    owner: None,
                    connected_head: core.connected_head,
                    sent,
                    unqueued_after: store.unqueued_after(A, &core.seen, core.connected_head),
                    mark: LogMark::default(),
                });
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

/// Every order of the four steps in which event 1 is recorded before it arrives.
fn interleavings() -> Vec<Vec<Step>> {
    use Step::*;
    let all = [RecordOnB, RecordOnA, ArriveOnA, Disconnect];
    let mut out = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let idx = [a, b, c, d];
                    let mut seen = [false; 4];
                    if idx.iter().any(|&i| std::mem::replace(&mut seen[i], true)) {
                        continue;
                    }
                    let steps: Vec<Step> = idx.iter().map(|&i| all[i]).collect();
                    let pos = |s: Step| steps.iter().position(|&x| x == s);
                    if pos(RecordOnB) < pos(ArriveOnA) {
                        out.push(steps);
                    }
                }
            }
        }
    }
    out
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
