//! The restore decision: what a returning socket must be sent, or why that cannot be known.
//! Pure.
//!
//! The reference server replays "every event after the client's offset" and gives up when the
//! client has none (it received no event yet) or when that offset has left the log (a quiet
//! client). On a thread-per-core node that rule is also wrong: a core handles broadcasts from
//! several source logs in arrival order, not offset order (see [`super::trail`]). ringcast
//! splits what the client missed in two, each exact:
//! - **Queued but lost** (in flight with the dead connection): the socket's [`SentTrail`] says
//!   what was queued after the client's offset, in queue order.
//! - **Never queued** (handled by the core after the disconnect, or in flight to it then): per
//!   source log, every event after a start fixed at the disconnect ([`unqueued_start`]) that
//!   reaches the socket's rooms. Per source, because each source reaches a core in its own
//!   order: everything of source `L` up to the core's watermark for `L` was handled already.
//!
//! Neither part needs the client's offset to still be in the log, so a quiet client recovers
//! however far the log moved, as long as nothing after each start was dropped. If a bound
//! dropped an entry after a source's start (or one of the lost ones), the replay could have a
//! hole, so the client gets a fresh session instead ([`Failure::OffsetGone`]). That is
//! conservative: the dropped entry may have been for other rooms.

use super::sessions::SavedSession;
use super::{ClientOffset, Failure, Seq};

/// Where the "never queued" replay of one source log starts for a socket that disconnected
/// from a core: `seen`, the highest offset of the source the core fanned out; `sent`, the
/// highest offset the source sent to the core; `head`, the source's last logged offset (read
/// before `sent`: the source stores `sent` before `head`, so `head` covers nothing sent later).
///
/// With nothing in flight (`sent <= seen`) every logged event of the source up to `head` was
/// either fanned out on the core (and queued to the socket if it was for it) or never sent to
/// the core (not for it): the start is `head`. With something in flight it is `seen`: the
/// in-flight events are after it. Never before the socket connected (`connected`): it was in
/// no room then.
pub fn unqueued_start(seen: Seq, sent: Seq, head: Seq, connected: Seq) -> Seq {
    let start = if sent > seen { seen } else { head.max(seen) };
    start.max(connected)
}

/// What a restore sends: `resend` (queued but lost, in queue order), then every event of
/// source `l` after `after[l]` that reaches the socket, in offset order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub resend: Vec<Seq>,
    pub after: Vec<Seq>,
}

/// The plan for `saved`, given what the client sent, the highest offset each source log
/// dropped (`evicted[l]`), and which log an offset belongs to (`source`).
pub fn plan(
    saved: &SavedSession,
    client: ClientOffset,
    evicted: &[Seq],
    source: impl Fn(Seq) -> usize,
) -> Result<Plan, Failure> {
    let resend = saved.sent.lost(client).ok_or(Failure::OffsetGone)?;
    let dropped = |l: usize| evicted.get(l).copied().unwrap_or(Seq::ZERO);
    if resend.iter().any(|&s| dropped(source(s)) >= s) {
        return Err(Failure::OffsetGone);
    }
    // A source without a start (a store with another number of logs) starts at zero.
    let after: Vec<Seq> = (0..evicted.len().max(saved.unqueued_after.len()))
        .map(|l| saved.unqueued_after.get(l).copied().unwrap_or(Seq::ZERO))
        .collect();
    if after.iter().enumerate().any(|(l, &a)| dropped(l) > a) {
        return Err(Failure::OffsetGone);
    }
    Ok(Plan { resend, after })
}

#[cfg(test)]
mod tests;
