//! The restore decision: from which offset a returning socket must be replayed, or why it
//! cannot be. Pure.
//!
//! The reference server replays from the client's offset and gives up when the client has
//! none (it received no event yet) or when that offset has left the log (a quiet client). Both
//! can be done better because the server knows what it queued to the socket:
//! - The client's position is exact when nothing was queued to it (`last_sent` is none: its
//!   position is the log's head when it connected) or when its offset is the last one queued.
//!   The replay starts there if the log still holds everything after it; if not, it starts at
//!   the log's head at disconnect time, because nothing between the two was for this socket
//!   (it would have been queued, and `last_sent` would be later). So a client with no event
//!   yet, or a quiet one whose offset was trimmed, still recovers.
//! - Otherwise the client missed something queued to it (lost in flight with the connection):
//!   the replay starts at its offset (or, with none, at the head when the socket connected).
//!
//! Either way every entry after the start must still be in the log: if a bound dropped an
//! entry after it (`evicted` is above the start), the replay could have a hole, so the client
//! gets a fresh session instead ([`Failure::OffsetGone`]). That is conservative: the dropped
//! entry may have been for other rooms.
//!
//! Starting at the exact position rather than at the head whenever the log allows closes a
//! race: a broadcast that got its offset on another core just before the disconnect but was
//! not yet fanned out here is after the head's predecessor yet never queued; a replay from the
//! exact position includes it (and nothing queued already, which would be after `last_sent`).

use super::sessions::SavedSession;
use super::{ClientOffset, Failure, Seq};

/// Where the replay of `saved` starts, given what the client sent and the highest offset the
/// logs dropped.
pub fn replay_from(
    saved: &SavedSession,
    client: ClientOffset,
    evicted: Seq,
) -> Result<Seq, Failure> {
    let (exact, fallback) = match (saved.last_sent, client) {
        (None, _) => (saved.connected_head, Some(saved.head)),
        (Some(last), ClientOffset::Ours(o)) if o == last => (last, Some(saved.head)),
        // Never before the socket connected: it was in no room then.
        (Some(_), ClientOffset::Ours(o)) => (o.max(saved.connected_head), None),
        (Some(_), ClientOffset::None | ClientOffset::Foreign) => (saved.connected_head, None),
    };
    if evicted <= exact {
        return Ok(exact);
    }
    match fallback {
        Some(head) if evicted <= head => Ok(head),
        _ => Err(Failure::OffsetGone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::recovery::Pid;
    use crate::engine::sid::Sid;
    use crate::engine::{Room, ShardId};

    fn saved(connected_head: u64, last_sent: Option<u64>, head: u64) -> SavedSession {
        SavedSession {
            pid: Pid::generate(ShardId(0)).expect("csprng"),
            sid: Sid::generate(ShardId(0)).expect("csprng"),
            nsp: Room::from("/"),
            rooms: Vec::new(),
            owner: None,
            connected_head: Seq(connected_head),
            last_sent: last_sent.map(Seq),
            head: Seq(head),
        }
    }

    #[test]
    fn decision_table() {
        use ClientOffset::{Foreign, None as Absent, Ours};
        // (name, (connected_head, last_sent, head at disconnect), client, evicted, result)
        type Row = (
            &'static str,
            (u64, Option<u64>, u64),
            ClientOffset,
            u64,
            Result<u64, Failure>,
        );
        let rows: [Row; 12] = [
            (
                "nothing queued, no offset: from the connect",
                (5, None, 9),
                Absent,
                0,
                Ok(5),
            ),
            (
                "nothing queued, trimmed past the connect: from the head",
                (5, None, 9),
                Absent,
                9,
                Ok(9),
            ),
            (
                "nothing queued, trimmed past the head",
                (5, None, 9),
                Absent,
                10,
                Err(Failure::OffsetGone),
            ),
            (
                "nothing queued, stale offset of an earlier session",
                (5, None, 9),
                Ours(Seq(2)),
                8,
                Ok(9),
            ),
            (
                "up to date: from its offset",
                (5, Some(7), 9),
                Ours(Seq(7)),
                0,
                Ok(7),
            ),
            (
                "up to date, its offset trimmed: from the head",
                (5, Some(7), 9),
                Ours(Seq(7)),
                8,
                Ok(9),
            ),
            (
                "missed some: from its offset",
                (5, Some(8), 9),
                Ours(Seq(7)),
                0,
                Ok(7),
            ),
            (
                "missed some, trimmed past its offset",
                (5, Some(8), 9),
                Ours(Seq(7)),
                8,
                Err(Failure::OffsetGone),
            ),
            (
                "offset before it connected: from the connect",
                (5, Some(8), 9),
                Ours(Seq(1)),
                0,
                Ok(5),
            ),
            (
                "queued some, received none: from the connect",
                (5, Some(8), 9),
                Absent,
                0,
                Ok(5),
            ),
            (
                "queued some, received none, trimmed",
                (5, Some(8), 9),
                Absent,
                6,
                Err(Failure::OffsetGone),
            ),
            (
                "another process's offset: from the connect",
                (5, Some(8), 9),
                Foreign,
                0,
                Ok(5),
            ),
        ];
        for (name, (c, l, h), client, evicted, want) in rows {
            let got = replay_from(&saved(c, l, h), client, Seq(evicted));
            assert_eq!(got, want.map(Seq), "{name}");
        }
    }
}
