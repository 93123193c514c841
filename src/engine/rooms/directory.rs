//! The node-wide room directory: which workers have at least one member of a room.
//!
//! Workers update it only when a room appears on or disappears from their core (the first member
//! joins, the last leaves), never per message. Readers (a broadcast deciding which cores to wake,
//! the Redis bridge deciding whether to decode a room message at all) take a read lock on one of
//! 32 shards picked by the room's hash, so they rarely meet a writer.
//!
//! A [`RoomWatch`] (the sharded Redis bridge's, which subscribes one channel per room) is told
//! when a room appears on or vanishes from the whole node, under the shard's write lock, so the
//! changes of one room reach it in the order they happened.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock, RwLock};

use super::Room;

const SHARDS: usize = 32;

/// Told when a room gains its first member on this node (`present`) or loses its last one.
/// Called with a directory shard locked: it must only record the change (no IO, no waiting).
pub trait RoomWatch: Send + Sync + 'static {
    fn room_changed(&self, nsp: &Room, room: &Room, present: bool);
}

/// Room → bitmask of workers with members (at most 64 workers).
pub struct Directory {
    shards: Vec<RwLock<HashMap<Room, HashMap<Room, u64>>>>,
    hasher: std::collections::hash_map::RandomState,
    watch: OnceLock<Arc<dyn RoomWatch>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("rooms", &self.room_count())
            .field("watched", &self.watch.get().is_some())
            .finish()
    }
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: Default::default(),
            watch: OnceLock::new(),
        }
    }
}

impl Directory {
    fn shard(&self, nsp: &str, room: &str) -> usize {
        let mut h = self.hasher.build_hasher();
        nsp.hash(&mut h);
        room.hash(&mut h);
        (h.finish() as usize) % SHARDS
    }

    /// Installs the one [`RoomWatch`]; `false` when one is already installed.
    pub fn set_watch(&self, watch: Arc<dyn RoomWatch>) -> bool {
        self.watch.set(watch).is_ok()
    }

    /// Worker `worker` now has members in `room`.
    pub fn add(&self, nsp: &Room, room: &Room, worker: usize) {
        let shard = &self.shards[self.shard(nsp.as_str(), room.as_str())];
        if let Ok(mut map) = shard.write() {
            let mask = map
                .entry(nsp.clone())
                .or_default()
                .entry(room.clone())
                .or_insert(0);
            let was_empty = *mask == 0;
            *mask |= 1 << worker;
            if was_empty && let Some(watch) = self.watch.get() {
                watch.room_changed(nsp, room, true);
            }
        }
    }

    /// Worker `worker` no longer has members in `room`.
    pub fn remove(&self, nsp: &Room, room: &Room, worker: usize) {
        let shard = &self.shards[self.shard(nsp.as_str(), room.as_str())];
        if let Ok(mut map) = shard.write()
            && let Some(rooms) = map.get_mut(nsp.as_str())
        {
            {
                if let Some(mask) = rooms.get_mut(room.as_str()) {
                    *mask &= !(1 << worker);
                    if *mask == 0 {
                        rooms.remove(room.as_str());
                        if let Some(watch) = self.watch.get() {
                            watch.room_changed(nsp, room, false);
                        }
                    }
                }
                if rooms.is_empty() {
                    map.remove(nsp.as_str());
                }
            }
        }
    }

    /// The workers with members in `room` (bit i = worker i).
    pub fn workers_of(&self, nsp: &str, room: &str) -> u64 {
        let shard = &self.shards[self.shard(nsp, room)];
        let Ok(map) = shard.read() else {
            return u64::MAX;
        };
        map.get(nsp)
            .and_then(|rooms| rooms.get(room))
            .copied()
            .unwrap_or(0)
    }

    /// How many (namespace, room) pairs have members on this node.
    pub fn room_count(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.read().ok())
            .map(|m| m.values().map(|r| r.len()).sum::<usize>())
            .sum()
    }

    /// Every room of `nsp` with members somewhere on this node.
    pub fn rooms(&self, nsp: &str) -> Vec<Room> {
        let mut out = Vec::new();
        for shard in &self.shards {
            if let Ok(map) = shard.read()
                && let Some(rooms) = map.get(nsp)
            {
                out.extend(rooms.keys().cloned());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_workers_per_room() {
        let d = Directory::default();
        let (nsp, room) = (Room::from("/"), Room::from("task:1"));
        assert_eq!(d.workers_of("/", "task:1"), 0);
        d.add(&nsp, &room, 0);
        d.add(&nsp, &room, 3);
        assert_eq!(d.workers_of("/", "task:1"), 0b1001);
        d.remove(&nsp, &room, 0);
        assert_eq!(d.workers_of("/", "task:1"), 0b1000);
        d.remove(&nsp, &room, 3);
        assert_eq!(d.workers_of("/", "task:1"), 0);
        assert!(d.rooms("/").is_empty());
    }

    /// Records what it is told.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<(String, bool)>>);

    impl RoomWatch for Recorder {
        fn room_changed(&self, _nsp: &Room, room: &Room, present: bool) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push((room.as_str().to_owned(), present));
            }
        }
    }

    #[test]
    fn the_watch_hears_only_node_wide_appearances_and_vanishings() {
        let d = Directory::default();
        let recorder = Arc::new(Recorder::default());
        assert!(d.set_watch(recorder.clone()));
        assert!(!d.set_watch(recorder.clone()), "one watch only");
        let (nsp, room) = (Room::from("/"), Room::from("task:1"));
        // worker, joins (true) or leaves, what the watch hears
        let steps: [(usize, bool, Option<bool>); 5] = [
            (0, true, Some(true)),
            (3, true, None),
            (0, false, None),
            (3, false, Some(false)),
            (1, true, Some(true)),
        ];
        for (worker, join, heard) in steps {
            let before = recorder.0.lock().map(|s| s.len()).unwrap_or(0);
            if join {
                d.add(&nsp, &room, worker);
            } else {
                d.remove(&nsp, &room, worker);
            }
            let seen = recorder.0.lock().map(|s| s.clone()).unwrap_or_default();
            let got = (seen.len() > before).then(|| seen[before].1);
            assert_eq!(got, heard, "worker {worker} join {join}: {seen:?}");
        }
    }
}
