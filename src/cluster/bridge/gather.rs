//! The table of cluster-wide queries in flight (`fetchSockets`, `allRooms`): each waits for
//! this node's own part and for `servers - 1` responses, or for its deadline, then answers its
//! caller. No IO: the bridge feeds it parts, decoded responses and the clock.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use super::control::{Part, Reply};
use super::options::Gathered;
use crate::cluster::SocketInfo;
use crate::cluster::adapter::Response;

/// One query in flight.
struct Pending {
    reply: Reply,
    sockets: Vec<SocketInfo>,
    rooms: BTreeSet<String>,
    servers: usize,
    expected: usize,
    responses: usize,
    local_done: bool,
    deadline: Instant,
}

/// What became of a query after a part or a response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Progress {
    /// No query with that id is in flight (never was, already answered, or timed out).
    Unknown,
    /// Counted; still waiting for this node's part or for other nodes.
    Waiting,
    /// That was the last piece: the caller has been answered (`complete: true`).
    Completed,
}

/// The queries in flight, by request id.
#[derive(Default)]
pub(super) struct Gathers {
    pending: HashMap<String, Pending>,
}

impl Gathers {
    /// Registers a query that expects answers from `servers` nodes (this one included) until
    /// `deadline`.
    pub(super) fn begin(
        &mut self,
        request_id: String,
        reply: Reply,
        servers: usize,
        deadline: Instant,
    ) {
        let pending = Pending {
            reply,
            sockets: Vec::new(),
            rooms: BTreeSet::new(),
            servers,
            expected: servers.saturating_sub(1),
            responses: 0,
            local_done: false,
            deadline,
        };
        self.pending.insert(request_id, pending);
    }

    /// This node's own part of `request_id`.
    pub(super) fn local_part(&mut self, request_id: &str, part: Part) -> Progress {
        let Some(pending) = self.pending.get_mut(request_id) else {
            return Progress::Unknown;
        };
        pending.local_done = true;
        match part {
            Part::Sockets(s) => pending.sockets.extend(s),
            Part::Rooms(r) => pending.rooms.extend(r),
        }
        self.complete_if_done(request_id)
    }

    /// Another node's response. Every response counts as one more node: the protocol carries no
    /// responder id (the Node adapter counts them the same way).
    pub(super) fn response(&mut self, response: Response) -> Progress {
        let Some(pending) = self.pending.get_mut(&response.request_id) else {
            return Progress::Unknown;
        };
        pending.responses += 1;
        if let Some(sockets) = response.sockets {
            pending.sockets.extend(sockets);
        }
        if let Some(rooms) = response.rooms {
            pending.rooms.extend(rooms);
        }
        self.complete_if_done(&response.request_id)
    }

    fn complete_if_done(&mut self, request_id: &str) -> Progress {
        let done = self
            .pending
            .get(request_id)
            .is_some_and(|p| p.local_done && p.responses >= p.expected);
        if done && let Some(p) = self.pending.remove(request_id) {
            p.finish(true);
            return Progress::Completed;
        }
        Progress::Waiting
    }

    /// Answers the queries past their deadline with what arrived (`complete: false`); returns
    /// their ids.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<String> {
        let late: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &late {
            if let Some(p) = self.pending.remove(id) {
                tracing::debug!(request = %id, responses = p.responses, expected = p.expected, "cluster request timed out");
                p.finish(false);
            }
        }
        late
    }

    /// Queries in flight.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }
}

impl Pending {
    fn finish(self, complete: bool) {
        let (servers, responses) = (self.servers, self.responses);
        match self.reply {
            Reply::Sockets(tx) => drop(tx.send(Ok(Gathered {
                items: self.sockets,
                servers,
                responses,
                complete,
            }))),
            Reply::Rooms(tx) => drop(tx.send(Ok(Gathered {
                items: self.rooms.into_iter().collect(),
                servers,
                responses,
                complete,
            }))),
        }
    }
}
