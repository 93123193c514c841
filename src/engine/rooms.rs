//! The per-core room index: namespace → room → the sockets of this core in it.
//!
//! Plain data, owned by one worker, no locks. It only answers "who is in this room here" and
//! reports when a room appears on or vanishes from the core ([`Join::FirstIn`],
//! [`Leave::LastOut`]), which is when the worker tells the node-wide
//! [`Directory`](super::directory::Directory); it never touches the directory or the counters
//! itself.

use std::collections::HashMap;

use crate::room::Room;

/// One socket on this core: its session's slab key and its slot among the session's sockets
/// (one slot per namespace, so a `u8` is plenty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Member {
    pub key: u32,
    pub slot: u8,
}

impl Member {
    /// The member for session `key`, socket `slot` (as the worker numbers them).
    #[inline]
    pub fn new(key: usize, slot: usize) -> Self {
        Member {
            key: key as u32,
            slot: slot as u8,
        }
    }
}

/// What [`RoomIndex::join`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Join {
    /// Already a member: nothing changed.
    AlreadyIn,
    /// Added to a room that already had members here.
    Joined,
    /// Added as the room's first member on this core: the directory must learn of it.
    FirstIn,
}

/// What [`RoomIndex::leave`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Leave {
    /// Not a member: nothing changed.
    NotIn,
    /// Removed; the room still has members here.
    Left,
    /// Removed the room's last member on this core: the room is gone from the index and the
    /// directory must forget this core for it.
    LastOut,
}

/// Namespace → room → members, for one core.
#[derive(Debug, Default)]
pub struct RoomIndex {
    nsps: HashMap<Room, HashMap<Room, Members>>,
    /// Memberships over every room (what the `memberships` gauge counts).
    memberships: usize,
}

impl RoomIndex {
    /// An empty index.
    pub fn new() -> Self {
        RoomIndex::default()
    }

    /// Registers a namespace even while none of its rooms has members.
    pub fn add_namespace(&mut self, nsp: Room) {
        self.nsps.entry(nsp).or_default();
    }

    /// Adds `member` to `room` of `nsp`.
    pub fn join(&mut self, nsp: &Room, room: &Room, member: Member) -> Join {
        let members = self
            .nsps
            .entry(nsp.clone())
            .or_default()
            .entry(room.clone())
            .or_default();
        let first = members.is_empty();
        if !members.insert(member) {
            return Join::AlreadyIn;
        }
        self.memberships += 1;
        if first { Join::FirstIn } else { Join::Joined }
    }

    /// Removes `member` from `room` of `nsp`; a room left empty is dropped from the index.
    pub fn leave(&mut self, nsp: &Room, room: &Room, member: Member) -> Leave {
        let Some(rooms) = self.nsps.get_mut(nsp.as_str()) else {
            return Leave::NotIn;
        };
        let Some(members) = rooms.get_mut(room.as_str()) else {
            return Leave::NotIn;
        };
        if !members.remove(member) {
            return Leave::NotIn;
        }
        self.memberships -= 1;
        if members.is_empty() {
            rooms.remove(room.as_str());
            Leave::LastOut
        } else {
            Leave::Left
        }
    }

    /// The members of `room` of `nsp` on this core, in no particular order; `None` if the room
    /// has no members here (rooms are dropped when their last member leaves).
    #[inline]
    pub fn members(&self, nsp: &str, room: &str) -> Option<&[Member]> {
        self.nsps
            .get(nsp)?
            .get(room)
            .map(|m| m.as_slice())
            .filter(|m| !m.is_empty())
    }

    /// Whether `member` is in `room` of `nsp`.
    pub fn contains(&self, nsp: &str, room: &str, member: Member) -> bool {
        self.nsps
            .get(nsp)
            .and_then(|rooms| rooms.get(room))
            .is_some_and(|m| m.contains(member))
    }

    /// How many members `room` of `nsp` has on this core.
    pub fn len(&self, nsp: &str, room: &str) -> usize {
        self.members(nsp, room).map_or(0, <[Member]>::len)
    }

    /// How many rooms of `nsp` have members on this core.
    pub fn room_count(&self, nsp: &str) -> usize {
        self.nsps.get(nsp).map_or(0, HashMap::len)
    }

    /// Memberships over every room of every namespace.
    pub fn memberships(&self) -> usize {
        self.memberships
    }

    /// Whether no room has members.
    pub fn is_empty(&self) -> bool {
        self.memberships == 0
    }
}

/// The members of one room.
#[derive(Debug, Default)]
struct Members {
    list: Vec<Member>,
}

impl Members {
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn as_slice(&self) -> &[Member] {
        &self.list
    }

    fn contains(&self, member: Member) -> bool {
        self.list.contains(&member)
    }

    /// `false` if already there. (Baseline: the caller never joins twice, as before.)
    fn insert(&mut self, member: Member) -> bool {
        self.list.push(member);
        true
    }

    /// `false` if not there.
    fn remove(&mut self, member: Member) -> bool {
        match self.list.iter().position(|&m| m == member) {
            Some(pos) => {
                self.list.swap_remove(pos);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Join::{FirstIn, Joined};
    use Leave::{LastOut, Left, NotIn};

    /// One operation on namespace `/` by member (key, slot 0), with the outcome it must have.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        J(&'static str, u32, Join),
        L(&'static str, u32, Leave),
    }
    use Step::{J, L};

    fn m(key: u32) -> Member {
        Member { key, slot: 0 }
    }

    /// (case, steps, rooms and their members afterwards)
    type Case = (
        &'static str,
        &'static [Step],
        &'static [(&'static str, &'static [u32])],
    );

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        ("first join opens the room",        &[J("a", 1, FirstIn)],                                   &[("a", &[1])]),
        ("second join",                      &[J("a", 1, FirstIn), J("a", 2, Joined)],                &[("a", &[1, 2])]),
        ("leave of a non-member",            &[J("a", 1, FirstIn), L("a", 2, NotIn)],                 &[("a", &[1])]),
        ("leave of an unknown room",         &[L("a", 1, NotIn)],                                     &[("a", &[])]),
        ("last out drops the room",          &[J("a", 1, FirstIn), L("a", 1, LastOut)],               &[("a", &[])]),
        ("leave twice",                      &[J("a", 1, FirstIn), L("a", 1, LastOut), L("a", 1, NotIn)], &[("a", &[])]),
        ("rejoin after last out is first",   &[J("a", 1, FirstIn), L("a", 1, LastOut), J("a", 1, FirstIn)], &[("a", &[1])]),
        ("leave from the middle",            &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 3, Joined), L("a", 2, Left)], &[("a", &[1, 3])]),
        ("leave the first",                  &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 3, Joined), L("a", 1, Left)], &[("a", &[2, 3])]),
        ("leave the last",                   &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 3, Joined), L("a", 3, Left)], &[("a", &[1, 2])]),
        ("leave in join order",              &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 3, Joined), L("a", 1, Left), L("a", 2, Left), L("a", 3, LastOut)], &[("a", &[])]),
        ("leave in reverse order",           &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 3, Joined), L("a", 3, Left), L("a", 2, Left), L("a", 1, LastOut)], &[("a", &[])]),
        ("moved member still leaves",        &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 3, Joined), L("a", 1, Left), L("a", 3, Left), J("a", 4, Joined)], &[("a", &[2, 4])]),
        ("rooms are independent",            &[J("a", 1, FirstIn), J("b", 1, FirstIn), L("a", 1, LastOut)], &[("a", &[]), ("b", &[1])]),
        ("a room's first member per room",   &[J("a", 1, FirstIn), J("b", 2, FirstIn), J("b", 1, Joined)], &[("a", &[1]), ("b", &[1, 2])]),
    ];

    #[test]
    fn table() {
        let nsp = Room::from("/");
        for &(case, steps, expected) in CASES {
            let mut index = RoomIndex::new();
            for (i, &step) in steps.iter().enumerate() {
                match step {
                    J(room, key, want) => {
                        let got = index.join(&nsp, &Room::from(room), m(key));
                        assert_eq!(got, want, "{case}: step {i} {step:?}");
                    }
                    L(room, key, want) => {
                        let got = index.leave(&nsp, &Room::from(room), m(key));
                        assert_eq!(got, want, "{case}: step {i} {step:?}");
                    }
                }
            }
            let mut total = 0;
            for &(room, keys) in expected {
                let mut got: Vec<u32> = index
                    .members("/", room)
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.key)
                    .collect();
                got.sort_unstable();
                assert_eq!(got, keys, "{case}: members of {room}");
                assert_eq!(index.len("/", room), keys.len(), "{case}: len of {room}");
                for &k in keys {
                    assert!(index.contains("/", room, m(k)), "{case}: {k} in {room}");
                }
                total += keys.len();
            }
            assert_eq!(index.memberships(), total, "{case}: memberships");
            let rooms = expected.iter().filter(|(_, k)| !k.is_empty()).count();
            assert_eq!(index.room_count("/"), rooms, "{case}: room count");
        }
    }

    #[test]
    fn namespaces_and_slots_are_separate() {
        let mut index = RoomIndex::new();
        let (root, admin, room) = (Room::from("/"), Room::from("/admin"), Room::from("a"));
        let (s0, s1) = (Member::new(7, 0), Member::new(7, 1));
        assert_eq!(index.join(&root, &room, s0), FirstIn);
        assert_eq!(index.join(&admin, &room, s1), FirstIn);
        assert_eq!(index.leave(&root, &room, s1), NotIn);
        assert_eq!(index.leave(&admin, &room, s0), NotIn);
        assert_eq!(index.members("/", "a"), Some(&[s0][..]));
        assert_eq!(index.members("/admin", "a"), Some(&[s1][..]));
        assert_eq!(index.leave(&root, &room, s0), LastOut);
        assert_eq!(index.members("/", "a"), None);
        assert_eq!(index.members("/admin", "a"), Some(&[s1][..]));
        assert_eq!(index.memberships(), 1);
    }

    #[test]
    fn a_registered_namespace_has_no_rooms() {
        let mut index = RoomIndex::new();
        index.add_namespace(Room::from("/"));
        assert_eq!(index.room_count("/"), 0);
        assert_eq!(index.members("/", "a"), None);
        assert!(index.is_empty());
    }
}
