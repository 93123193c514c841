//! The per-core room index: namespace → room → the sockets of this core in it.
//!
//! Plain data, owned by one worker, no locks. It only answers "who is in this room here" and
//! reports when a room appears on or vanishes from the core ([`Join::FirstIn`],
//! [`Leave::LastOut`]), which is when the worker tells the node-wide
//! [`Directory`](super::Directory); it never touches the directory or the counters
//! itself.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use smallvec::SmallVec;

use super::Room;

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

/// Rooms up to this size find a leaving member by scanning (32 members of 8 bytes: four cache
/// lines); a bigger room keeps each member's position in a map. Measured: with the map always on,
/// a join and a leave in a room of 8 took 432 ns instead of 109 ns, and most rooms are small
/// (`agent:{id}`, `task:{id}`); with the scan always on, 10 000 members leaving `dashboard` (a
/// disconnect storm, a shutdown) took 8.4 ms, 60× the time of 1 000: quadratic.
const SCAN_UP_TO: usize = 32;

/// The members of one room: a dense list (what a broadcast walks), and once the room has held
/// more than [`SCAN_UP_TO`] members, each member's position in it, so that a leave is one lookup
/// and one `swap_remove`.
///
/// Most rooms have one or two members here (every socket's `user:{id}` room; an `agent:` or
/// `task:` room watched by a dashboard or two), so both parts are small while that holds: up to
/// two members inline (no allocation), the position map boxed (8 bytes, not 48, in every
/// room's table slot). Measured at 10 000 idle sockets, each with its own user room: the index
/// took 212 bytes per socket before, 127 after (heaptrack, live at the peak).
#[derive(Debug, Default)]
struct Members {
    list: SmallVec<[Member; 2]>,
    /// `list[at[m]] == m` for every member, while `Some`. Kept until the room empties (a room
    /// hovering around the threshold does not rebuild it).
    #[expect(
        clippy::box_collection,
        reason = "8 bytes in every room's table slot instead of 48"
    )]
    at: Option<Box<HashMap<Member, u32>>>,
}

impl Members {
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn as_slice(&self) -> &[Member] {
        &self.list
    }

    fn contains(&self, member: Member) -> bool {
        match &self.at {
            Some(at) => at.contains_key(&member),
            None => self.list.contains(&member),
        }
    }

    /// `false` if already there.
    fn insert(&mut self, member: Member) -> bool {
        let pos = self.list.len() as u32;
        match &mut self.at {
            Some(at) => match at.entry(member) {
                Entry::Occupied(_) => return false,
                Entry::Vacant(slot) => {
                    slot.insert(pos);
                }
            },
            None if self.list.contains(&member) => return false,
            None if self.list.len() == SCAN_UP_TO => {
                let at = self.list.iter().enumerate().map(|(i, &m)| (m, i as u32));
                let mut at: HashMap<Member, u32> = at.collect();
                at.insert(member, pos);
                self.at = Some(Box::new(at));
            }
            None => {}
        }
        self.list.push(member);
        true
    }

    /// `false` if not there.
    fn remove(&mut self, member: Member) -> bool {
        let found = match &mut self.at {
            Some(at) => at.remove(&member).map(|pos| pos as usize),
            None => self.list.iter().position(|&m| m == member),
        };
        let Some(pos) = found else {
            return false;
        };
        self.list.swap_remove(pos);
        // The last member moved into the hole: it now lives at `pos`.
        if let Some(at) = &mut self.at
            && let Some(&moved) = self.list.get(pos)
            && let Some(at) = at.get_mut(&moved)
        {
            *at = pos as u32;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Join::{AlreadyIn, FirstIn, Joined};
    use Leave::{LastOut, Left, NotIn};
    use proptest::strategy::Strategy;

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
        ("join twice is ignored",            &[J("a", 1, FirstIn), J("a", 1, AlreadyIn)],             &[("a", &[1])]),
        ("join twice among others",          &[J("a", 1, FirstIn), J("a", 2, Joined), J("a", 1, AlreadyIn), L("a", 1, Left)], &[("a", &[2])]),
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

    #[test]
    fn a_room_past_the_scan_threshold() {
        let (nsp, room) = (Room::from("/"), Room::from("dashboard"));
        let mut index = RoomIndex::new();
        let n = 3 * SCAN_UP_TO as u32;
        for k in 0..n {
            let want = if k == 0 { FirstIn } else { Joined };
            assert_eq!(index.join(&nsp, &room, m(k)), want, "join {k}");
        }
        assert_eq!(index.join(&nsp, &room, m(SCAN_UP_TO as u32)), AlreadyIn);
        for k in (0..n).step_by(2) {
            assert_eq!(index.leave(&nsp, &room, m(k)), Left, "leave {k}");
            assert_eq!(index.leave(&nsp, &room, m(k)), NotIn, "leave {k} again");
        }
        let mut left: Vec<u32> = index
            .members("/", "dashboard")
            .unwrap_or_default()
            .iter()
            .map(|m| m.key)
            .collect();
        left.sort_unstable();
        assert_eq!(left, (1..n).step_by(2).collect::<Vec<_>>());
        assert!((0..n).all(|k| index.contains("/", "dashboard", m(k)) == (k % 2 == 1)));
        for k in (1..n).step_by(2).rev() {
            let want = if k == 1 { LastOut } else { Left };
            assert_eq!(index.leave(&nsp, &room, m(k)), want, "leave {k}");
        }
        assert!(index.is_empty());
        assert_eq!(index.room_count("/"), 0);
    }

    /// One generated operation: (join?, namespace, room, key, slot).
    type Op = (bool, u8, u8, u32, u8);

    /// Runs `ops` on an index and on a set-per-room model; outcomes, members and counts must
    /// agree. (A wrong position fix-up after `swap_remove` is what this would catch.)
    fn check_against_model(ops: Vec<Op>) -> Result<(), proptest::test_runner::TestCaseError> {
        use std::collections::{BTreeMap, BTreeSet};
        let mut index = RoomIndex::new();
        let mut model: BTreeMap<(u8, u8), BTreeSet<(u32, u8)>> = BTreeMap::new();
        let name = |n: u8| Room::from(format!("r{n}"));
        for (join, nsp, room, key, slot) in ops {
            let (n, r, member) = (name(nsp), name(room), Member { key, slot });
            let set = model.entry((nsp, room)).or_default();
            if join {
                let want = match (set.is_empty(), set.insert((key, slot))) {
                    (_, false) => Join::AlreadyIn,
                    (true, true) => Join::FirstIn,
                    (false, true) => Join::Joined,
                };
                proptest::prop_assert_eq!(index.join(&n, &r, member), want);
            } else {
                let want = match (set.remove(&(key, slot)), set.is_empty()) {
                    (false, _) => Leave::NotIn,
                    (true, true) => Leave::LastOut,
                    (true, false) => Leave::Left,
                };
                proptest::prop_assert_eq!(index.leave(&n, &r, member), want);
            }
        }
        for ((nsp, room), set) in &model {
            let (n, r) = (format!("r{nsp}"), format!("r{room}"));
            let members = index.members(&n, &r).unwrap_or_default();
            let mut got: Vec<(u32, u8)> = members.iter().map(|m| (m.key, m.slot)).collect();
            got.sort_unstable();
            proptest::prop_assert_eq!(got, set.iter().copied().collect::<Vec<_>>());
            for &(key, slot) in set {
                let member = Member { key, slot };
                proptest::prop_assert!(index.contains(&n, &r, member), "{member:?} in {n} {r}");
            }
        }
        let total: usize = model.values().map(BTreeSet::len).sum();
        proptest::prop_assert_eq!(index.memberships(), total);
        Ok(())
    }

    proptest::proptest! {
        /// Small rooms (at most 12 members: the scanned representation), several of them.
        #[test]
        fn small_rooms_agree_with_a_set_model(
            ops in proptest::collection::vec((proptest::bool::ANY, 0..2u8, 0..3u8, 0..6u32, 0..2u8), 0..200)
        ) {
            check_against_model(ops)?;
        }

        /// One room growing past `SCAN_UP_TO` (joins 3 times out of 4) and shrinking again:
        /// the positioned representation, and the switch to it.
        #[test]
        fn a_big_room_agrees_with_a_set_model(
            ops in proptest::collection::vec((proptest::bool::weighted(0.75), 0..1u8, 0..1u8, 0..80u32, 0..1u8), 0..400)
                .prop_map(|mut ops| {
                    // Then everyone leaves, in generation order.
                    let leaves: Vec<Op> = ops.iter().map(|&(_, n, r, k, s)| (false, n, r, k, s)).collect();
                    ops.extend(leaves);
                    ops
                })
        ) {
            check_against_model(ops)?;
        }
    }
}
