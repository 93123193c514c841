//! What a socket's core knows of the broadcasts it handled: per socket, the offsets of the last
//! broadcasts queued to it ([`SentTrail`]); per core, the highest offset it fanned out from each
//! source log ([`Watermarks`]). Plain data.
//!
//! Why offsets alone cannot say what a client missed: a core fans out broadcasts from several
//! source logs (every core's, and the link to other nodes) in the order they arrive, which is
//! not offset order (core B's offset 10 can arrive after core C's 11). So "everything after the
//! client's offset" is wrong both ways: it repeats 11 to a client that holds 10, and it skips
//! 10 for one that holds 11. What is exact: the client received a prefix of what was queued to
//! it (one ordered connection), and each source's broadcasts reach a core in that source's order
//! (one FIFO queue per pair of cores).

use super::{ClientOffset, Seq};

/// How many queued offsets a socket remembers: a client that lost more than this in flight
/// with its connection (a few TCP buffers' worth of small events) gets a fresh session. 8 × 8
/// bytes per socket (640 KB for 10 000 sockets).
pub const TRAIL_LEN: usize = 8;

/// The offsets of the last [`TRAIL_LEN`] broadcasts queued to a socket, in queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SentTrail {
    recent: [Seq; TRAIL_LEN],
    /// How many were queued since the socket connected (or was restored).
    queued: u64,
}

impl SentTrail {
    /// Queued `seq` to the socket.
    pub fn push(&mut self, seq: Seq) {
        self.recent[(self.queued % TRAIL_LEN as u64) as usize] = seq;
        self.queued += 1;
    }

    /// The remembered offsets, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Seq> + '_ {
        let kept = self.queued.min(TRAIL_LEN as u64);
        (self.queued - kept..self.queued).map(|i| self.recent[(i % TRAIL_LEN as u64) as usize])
    }

    pub fn queued(&self) -> u64 {
        self.queued
    }

    pub fn last(&self) -> Option<Seq> {
        self.iter().last()
    }

    /// Whether it remembers everything queued since the connect.
    pub fn complete(&self) -> bool {
        self.queued <= TRAIL_LEN as u64
    }

    /// What was queued after the client's position, in queue order: after its offset if that
    /// is one of the queued ones; everything if it holds none of them (its offset, if any, is
    /// from before this socket connected) and the trail is complete. `None`: its offset is not
    /// remembered, so what it lost is unknown.
    pub fn lost(&self, client: ClientOffset) -> Option<Vec<Seq>> {
        let queued: Vec<Seq> = self.iter().collect();
        if let ClientOffset::Ours(o) = client
            && let Some(at) = queued.iter().position(|&s| s == o)
        {
            return Some(queued[at + 1..].to_vec());
        }
        self.complete().then_some(queued)
    }
}

/// Per source log, the highest offset this core fanned out from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watermarks(Vec<Seq>);

impl Watermarks {
    pub fn new(sources: usize) -> Watermarks {
        Watermarks(vec![Seq::ZERO; sources])
    }

    /// This core fanned out `seq` of `source`.
    pub fn observe(&mut self, source: usize, seq: Seq) {
        if let Some(w) = self.0.get_mut(source) {
            *w = (*w).max(seq);
        }
    }

    pub fn as_slice(&self) -> &[Seq] {
        &self.0
    }
}

/// Per source log, how far a restored socket's replay read (the last offset of each log it
/// saw, for the socket or not). Each source's broadcasts reach a core in offset order, so a
/// copy that arrives at or before that point after the restore was still in the core's queue:
/// it was replayed already, or is not for the socket. Empty: not a restored socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed(Vec<Seq>);

impl Replayed {
    pub fn new(read: Vec<Seq>) -> Replayed {
        Replayed(read)
    }

    /// Whether the replay already covered `offset` of `source`.
    pub fn covers(&self, offset: Seq, source: usize) -> bool {
        self.0.get(source).is_some_and(|&read| offset <= read)
    }

    /// A later read (a catch-up) got this far.
    pub fn extend_to(&mut self, read: &[Seq]) {
        for (mine, &read) in self.0.iter_mut().zip(read) {
            *mine = (*mine).max(read);
        }
    }

    pub fn as_slice(&self) -> &[Seq] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where a core is in a cluster log that gives every broadcast its offset in one total order
/// (Redis Streams: the stream): every entry up to `upto` that this core's sockets were to get
/// has been fanned out here, and `read` entries of the log had been read by then. The adapter
/// sends it through the same queue as the broadcasts it covers, after them
/// ([`crate::engine::adapter::LocalNode::mark`]), so a core never holds a mark past a
/// broadcast still on its way. A [`Watermarks`] entry is no such promise: an offset fanned out
/// can overtake a smaller one still in another queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogMark {
    pub upto: Seq,
    pub read: u64,
}

impl LogMark {
    /// The later of `self` and `other` (marks can arrive out of order only across adapters'
    /// restarts; neither field ever goes back).
    pub fn max(self, other: LogMark) -> LogMark {
        LogMark {
            upto: self.upto.max(other.upto),
            read: self.read.max(other.read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(seqs: &[u64]) -> SentTrail {
        let mut t = SentTrail::default();
        for &s in seqs {
            t.push(Seq(s));
        }
        t
    }

    #[test]
    fn lost_is_what_was_queued_after_the_clients_offset() {
        use ClientOffset::{Foreign, None as Absent, Ours};
        let long: Vec<u64> = (1..=10).collect();
        // (name, queued, client, lost)
        type Row<'a> = (&'a str, &'a [u64], ClientOffset, Option<&'a [u64]>);
        let rows: [Row; 8] = [
            ("nothing queued", &[], Absent, Some(&[])),
            ("nothing queued, stale offset", &[], Ours(Seq(3)), Some(&[])),
            ("up to date", &[4, 2], Ours(Seq(2)), Some(&[])),
            ("out of offset order", &[4, 2, 9], Ours(Seq(2)), Some(&[9])),
            ("received none", &[4, 2], Absent, Some(&[4, 2])),
            ("another process's offset", &[4, 2], Foreign, Some(&[4, 2])),
            (
                "remembered in a long trail",
                &long,
                Ours(Seq(8)),
                Some(&[9, 10]),
            ),
            ("forgotten in a long trail", &long, Ours(Seq(1)), None),
        ];
        for (name, queued, client, want) in rows {
            let got = trail(queued).lost(client);
            assert_eq!(
                got.as_deref(),
                want.map(|w| w.iter().map(|&s| Seq(s)).collect::<Vec<_>>())
                    .as_deref(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_replay_covers_each_source_up_to_what_it_read() {
        let mut r = Replayed::new(vec![Seq(7), Seq(3)]);
        // (offset, source, covered)
        let cases = [
            (7, 0, true),
            (8, 0, false),
            (3, 1, true),
            (4, 1, false),
            (1, 2, false),
        ];
        for (offset, source, want) in cases {
            assert_eq!(r.covers(Seq(offset), source), want, "{offset} of {source}");
        }
        r.extend_to(&[Seq(9), Seq(2)]);
        assert_eq!(r.as_slice(), [Seq(9), Seq(3)]);
        assert!(!Replayed::default().covers(Seq(1), 0));
    }

    #[test]
    fn a_log_mark_only_grows() {
        let a = LogMark {
            upto: Seq(9),
            read: 3,
        };
        let b = LogMark {
            upto: Seq(4),
            read: 5,
        };
        assert_eq!(
            a.max(b),
            LogMark {
                upto: Seq(9),
                read: 5
            }
        );
        assert_eq!(b.max(LogMark::default()), b);
    }

    #[test]
    fn watermarks_only_grow() {
        let mut w = Watermarks::new(2);
        w.observe(1, Seq(5));
        w.observe(1, Seq(3));
        w.observe(7, Seq(9));
        assert_eq!(w.as_slice(), [Seq::ZERO, Seq(5)]);
    }
}
