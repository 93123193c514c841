//! The node-wide room directory: which workers have at least one member of a room.
//!
//! Workers update it only when a room appears on or disappears from their core (the first member
//! joins, the last leaves), never per message. Readers (a broadcast deciding which cores to wake,
//! the Redis bridge deciding whether to decode a room message at all) take a read lock on one of
//! 32 shards picked by the room's hash, so they rarely meet a writer.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::RwLock;

use super::Room;

const SHARDS: usize = 32;

/// Room → bitmask of workers with members (at most 64 workers).
#[derive(Debug)]
pub struct Directory {
    shards: Vec<RwLock<HashMap<Room, HashMap<Room, u64>>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: Default::default(),
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

    /// Worker `worker` now has members in `room`.
    pub fn add(&self, nsp: &Room, room: &Room, worker: usize) {
        let shard = &self.shards[self.shard(nsp.as_str(), room.as_str())];
        if let Ok(mut map) = shard.write() {
            *map.entry(nsp.clone())
                .or_default()
                .entry(room.clone())
                .or_insert(0) |= 1 << worker;
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
}
