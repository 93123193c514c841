//! Rooms: the [`Room`] name, the per-core [`RoomIndex`] (plain data owned by one worker) and the
//! node-wide [`Directory`] (which cores have members of a room).

use std::fmt;
use std::sync::Arc;

mod directory;
mod index;

pub use directory::{Directory, RoomWatch};
pub use index::{Join, Leave, Member, RoomIndex};

/// A room name. Cheap to clone (one refcount) and `Send`, so broadcasts can carry rooms across
/// cores. The engine accepts any non-empty name; the gateway restricts names further
/// (`dashboard`, `agent:{id}`, `task:{id}`, `conversation:{id}`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Room(Arc<str>);

impl Room {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Room {
    fn from(name: &str) -> Self {
        Room(Arc::from(name))
    }
}

impl From<String> for Room {
    fn from(name: String) -> Self {
        Room(Arc::from(name))
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Room {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// The default namespace, `/` (socket.io's `BroadcastOptions` default).
impl Default for Room {
    fn default() -> Self {
        Room::from("/")
    }
}
