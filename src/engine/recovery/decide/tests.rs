use super::*;
use crate::engine::recovery::{LogMark, Pid, SentTrail};
use crate::engine::sid::Sid;
use crate::engine::{Room, ShardId};

/// Offsets in these tables are `n * 10 + source` (two sources: 0 and 1), so `source` is the
/// last digit.
fn source(seq: Seq) -> usize {
    (seq.0 % 10) as usize
}

fn saved(queued: &[u64], after: [u64; 2]) -> SavedSession {
    let mut sent = SentTrail::default();
    for &s in queued {
        sent.push(Seq(s));
    }
    SavedSession {
        pid: Pid::generate(ShardId(0)).expect("csprng"),
        sid: Sid::generate(ShardId(0)).expect("csprng"),
        nsp: Room::from("/"),
        rooms: Vec::new(),
        owner: None,
        connected_head: Seq::ZERO,
        sent,
        unqueued_after: after.iter().map(|&a| Seq(a)).collect(),
        mark: LogMark::default(),
    }
}

#[test]
fn decision_table() {
    use ClientOffset::{Foreign, None as Absent, Ours};
    // (name, (queued, unqueued starts), client, evicted per source, Ok((resend, after)))
    type Row = (
        &'static str,
        (&'static [u64], [u64; 2]),
        ClientOffset,
        [u64; 2],
        Result<(&'static [u64], [u64; 2]), Failure>,
    );
    let rows: [Row; 12] = [
        (
            "nothing queued, no offset: the unqueued part only",
            (&[], [50, 41]),
            Absent,
            [0, 0],
            Ok((&[], [50, 41])),
        ),
        (
            "nothing queued, logs trimmed up to the starts: still recovers",
            (&[], [50, 41]),
            Absent,
            [50, 41],
            Ok((&[], [50, 41])),
        ),
        (
            "nothing queued, a log trimmed past its start",
            (&[], [50, 41]),
            Absent,
            [50, 51],
            Err(Failure::OffsetGone),
        ),
        (
            "nothing queued, a stale offset of an earlier session",
            (&[], [50, 41]),
            Ours(Seq(20)),
            [0, 0],
            Ok((&[], [50, 41])),
        ),
        (
            "up to date",
            (&[30, 21], [50, 41]),
            Ours(Seq(21)),
            [0, 0],
            Ok((&[], [50, 41])),
        ),
        (
            "up to date, its offset trimmed long ago",
            (&[30, 21], [50, 41]),
            Ours(Seq(21)),
            [40, 31],
            Ok((&[], [50, 41])),
        ),
        (
            "lost one queued out of offset order (31 after 40): resent, nothing more",
            (&[40, 31], [50, 41]),
            Ours(Seq(40)),
            [0, 0],
            Ok((&[31], [50, 41])),
        ),
        (
            "lost one that left the log",
            (&[40, 31], [50, 41]),
            Ours(Seq(40)),
            [0, 31],
            Err(Failure::OffsetGone),
        ),
        (
            "received none of the queued",
            (&[40, 31], [50, 41]),
            Absent,
            [0, 0],
            Ok((&[40, 31], [50, 41])),
        ),
        (
            "received none, holds another process's offset",
            (&[40, 31], [50, 41]),
            Foreign,
            [0, 0],
            Ok((&[40, 31], [50, 41])),
        ),
        (
            "an offset the trail forgot (more than 8 queued after it)",
            (&[10, 20, 30, 40, 50, 60, 70, 80, 90], [90, 41]),
            Ours(Seq(10)),
            [0, 0],
            Err(Failure::OffsetGone),
        ),
        (
            "the last of a long trail",
            (&[10, 20, 30, 40, 50, 60, 70, 80, 90], [90, 41]),
            Ours(Seq(90)),
            [0, 0],
            Ok((&[], [90, 41])),
        ),
    ];
    for (name, (queued, after), client, evicted, want) in rows {
        let evicted = evicted.map(Seq);
        let got = plan(&saved(queued, after), client, &evicted, source);
        let want = want.map(|(resend, after)| Plan {
            resend: resend.iter().map(|&s| Seq(s)).collect(),
            after: after.iter().map(|&a| Seq(a)).collect(),
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn the_unqueued_start_is_the_sources_head_unless_something_is_in_flight() {
    // (name, seen, sent, head, connected, start)
    let rows = [
        ("nothing ever sent to the core", 0, 0, 90, 10, 90),
        ("all sent handled", 70, 70, 90, 10, 90),
        ("one in flight", 70, 80, 90, 10, 70),
        (
            "in flight, handled nothing since the connect",
            5,
            80,
            90,
            10,
            10,
        ),
        ("an empty source", 0, 0, 0, 10, 10),
    ];
    for (name, seen, sent, head, connected, want) in rows {
        let got = unqueued_start(Seq(seen), Seq(sent), Seq(head), Seq(connected));
        assert_eq!(got, Seq(want), "{name}");
    }
}
