//! `dynamic` mode's room channels: the engine's directory reports each room that appears on or
//! vanishes from this node ([`RoomChanges`], a [`RoomWatch`]), and the bridge thread turns the
//! changes into `SSUBSCRIBE`/`SUNSUBSCRIBE` of `<prefix>#<nsp>#<room>#` ([`RoomChannels`],
//! sans IO), as the adapter does on its `create-room`/`delete-room` events.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::super::NSP;
use super::super::control::Inner;
use super::message::is_public;
use crate::cluster::RoomWatch;
use crate::engine::Room;

/// Room changes recorded by the workers (under a directory shard's lock, so one room's changes
/// are queued in the order they happened) until the bridge thread takes them.
pub(super) struct RoomChanges {
    inner: Arc<Inner>,
    queue: Mutex<Vec<(Room, bool)>>,
}

impl RoomChanges {
    pub(super) fn new(inner: Arc<Inner>) -> RoomChanges {
        RoomChanges {
            inner,
            queue: Mutex::new(Vec::new()),
        }
    }

    /// Every change since the last call, oldest first.
    pub(super) fn take(&self) -> Vec<(Room, bool)> {
        self.queue
            .lock()
            .map(|mut q| std::mem::take(&mut *q))
            .unwrap_or_default()
    }
}

impl RoomWatch for RoomChanges {
    fn room_changed(&self, nsp: &Room, room: &Room, present: bool) {
        if nsp.as_str() != NSP || !is_public(room.as_str()) {
            return;
        }
        if let Ok(mut q) = self.queue.lock() {
            q.push((room.clone(), present));
        }
        // The bridge thread's one wake-up: it then also publishes what the workers queued.
        self.inner.wake.notify_one();
    }
}

/// The room channels subscribed on the current connection.
#[derive(Debug, Default)]
pub(super) struct RoomChannels {
    subscribed: HashSet<Room>,
}

/// What to send to make the subscriptions match the rooms.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) subscribe: Vec<Room>,
    pub(super) unsubscribe: Vec<Room>,
}

impl RoomChannels {
    /// A new connection: nothing is subscribed; the rooms present now are.
    pub(super) fn reset(&mut self, present: Vec<Room>) -> Plan {
        self.subscribed.clear();
        self.apply(present.into_iter().map(|r| (r, true)).collect())
    }

    /// Applies `changes` in order (the last one of a room wins) and returns the commands that
    /// bring the subscriptions there, counting them as done.
    pub(super) fn apply(&mut self, changes: Vec<(Room, bool)>) -> Plan {
        let mut last: HashMap<Room, bool> = HashMap::with_capacity(changes.len());
        let mut order = Vec::with_capacity(changes.len());
        for (room, present) in changes {
            if !is_public(room.as_str()) {
                continue;
            }
            if last.insert(room.clone(), present).is_none() {
                order.push(room);
            }
        }
        let mut plan = Plan::default();
        for room in order {
            let want = last.get(&room).copied().unwrap_or(false);
            if want && self.subscribed.insert(room.clone()) {
                plan.subscribe.push(room);
            } else if !want && self.subscribed.remove(&room) {
                plan.unsubscribe.push(room);
            }
        }
        plan
    }

    pub(super) fn len(&self) -> usize {
        self.subscribed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rooms(names: &[&str]) -> Vec<Room> {
        names.iter().map(|n| Room::from(*n)).collect()
    }

    #[test]
    fn changes_become_the_commands_that_match_them() {
        let mut channels = RoomChannels::default();
        let twenty = "s".repeat(20);
        let plan = channels.reset(rooms(&["a", "b", &twenty]));
        assert_eq!(
            plan.subscribe,
            rooms(&["a", "b"]),
            "socket-id-like rooms have none"
        );
        // changes (room, present), then what is subscribed and unsubscribed
        type Case<'a> = (&'a [(&'a str, bool)], &'a [&'a str], &'a [&'a str]);
        let cases: [Case; 5] = [
            (&[("c", true)], &["c"], &[]),
            (&[("a", false)], &[], &["a"]),
            (&[("d", true), ("d", false)], &[], &[]),
            (&[("b", false), ("b", true)], &[], &[]),
            (&[("a", true), ("c", true)], &["a"], &[]),
        ];
        for (changes, subscribe, unsubscribe) in cases {
            let changes = changes.iter().map(|(r, p)| (Room::from(*r), *p)).collect();
            let plan = channels.apply(changes);
            assert_eq!(plan.subscribe, rooms(subscribe), "{plan:?}");
            assert_eq!(plan.unsubscribe, rooms(unsubscribe), "{plan:?}");
        }
        assert_eq!(channels.len(), 3);
        let plan = channels.reset(rooms(&["z"]));
        assert_eq!(
            plan.subscribe,
            rooms(&["z"]),
            "a new connection starts empty"
        );
    }
}
