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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use tokio::sync::oneshot::{self, error::TryRecvError};

    use super::*;
    use crate::cluster::ClusterError;

    type SocketsRx = oneshot::Receiver<Result<Gathered<SocketInfo>, ClusterError>>;
    type RoomsRx = oneshot::Receiver<Result<Gathered<String>, ClusterError>>;

    fn sockets_query(g: &mut Gathers, id: &str, servers: usize, deadline: Instant) -> SocketsRx {
        let (tx, rx) = oneshot::channel();
        g.begin(id.to_owned(), Reply::Sockets(tx), servers, deadline);
        rx
    }

    fn rooms_query(g: &mut Gathers, id: &str, servers: usize, deadline: Instant) -> RoomsRx {
        let (tx, rx) = oneshot::channel();
        g.begin(id.to_owned(), Reply::Rooms(tx), servers, deadline);
        rx
    }

    fn socket(id: &str) -> SocketInfo {
        SocketInfo {
            id: id.to_owned(),
            rooms: vec![id.to_owned()],
            ..Default::default()
        }
    }

    fn sockets_response(id: &str, sockets: &[&str]) -> Response {
        Response {
            request_id: id.to_owned(),
            rooms: None,
            sockets: Some(sockets.iter().map(|s| socket(s)).collect()),
        }
    }

    fn rooms_response(id: &str, rooms: &[&str]) -> Response {
        Response {
            request_id: id.to_owned(),
            rooms: Some(rooms.iter().map(|r| (*r).to_owned()).collect()),
            sockets: None,
        }
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn completes_when_the_local_part_and_every_other_node_answered() {
        let mut g = Gathers::default();
        let mut rx = sockets_query(&mut g, "r1", 3, later());
        assert_eq!(
            g.local_part("r1", Part::Sockets(vec![socket("a")])),
            Progress::Waiting
        );
        assert_eq!(
            g.response(sockets_response("r1", &["b"])),
            Progress::Waiting
        );
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
        assert_eq!(
            g.response(sockets_response("r1", &["c", "d"])),
            Progress::Completed
        );
        let got = rx.try_recv().unwrap().unwrap();
        let ids: Vec<_> = got.items.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        assert_eq!((got.servers, got.responses, got.complete), (3, 2, true));
        assert_eq!(g.len(), 0);
    }

    #[test]
    fn responses_before_the_local_part_wait_for_it() {
        let mut g = Gathers::default();
        let mut rx = rooms_query(&mut g, "r1", 2, later());
        assert_eq!(g.response(rooms_response("r1", &["x"])), Progress::Waiting);
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
        assert_eq!(
            g.local_part("r1", Part::Rooms(vec!["a".to_owned()])),
            Progress::Completed
        );
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!(got.items, ["a", "x"]);
        assert!(got.complete);
    }

    #[test]
    fn a_lone_node_completes_on_its_own_part() {
        for servers in [0, 1] {
            let mut g = Gathers::default();
            let mut rx = rooms_query(&mut g, "r1", servers, later());
            assert_eq!(g.local_part("r1", Part::Rooms(vec![])), Progress::Completed);
            let got = rx.try_recv().unwrap().unwrap();
            assert_eq!(
                (got.servers, got.responses, got.complete),
                (servers, 0, true)
            );
        }
    }

    #[test]
    fn rooms_are_deduplicated_and_sorted() {
        let mut g = Gathers::default();
        let mut rx = rooms_query(&mut g, "r1", 3, later());
        g.local_part("r1", Part::Rooms(vec!["b".to_owned(), "a".to_owned()]));
        g.response(rooms_response("r1", &["c", "a"]));
        g.response(rooms_response("r1", &["b"]));
        assert_eq!(rx.try_recv().unwrap().unwrap().items, ["a", "b", "c"]);
    }

    #[test]
    fn unknown_request_ids_are_ignored() {
        let mut g = Gathers::default();
        let mut rx = sockets_query(&mut g, "r1", 2, later());
        assert_eq!(
            g.response(sockets_response("other", &["z"])),
            Progress::Unknown
        );
        assert_eq!(
            g.local_part("other", Part::Sockets(vec![socket("z")])),
            Progress::Unknown
        );
        assert_eq!(g.len(), 1);
        g.local_part("r1", Part::Sockets(vec![]));
        g.response(sockets_response("r1", &["b"]));
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!(got.items, [socket("b")]);
    }

    #[test]
    fn a_duplicate_response_counts_as_another_node() {
        // The protocol names no responder: a node answering twice looks like two nodes.
        let mut g = Gathers::default();
        let mut rx = sockets_query(&mut g, "r1", 3, later());
        g.local_part("r1", Part::Sockets(vec![]));
        g.response(sockets_response("r1", &["b"]));
        assert_eq!(
            g.response(sockets_response("r1", &["b"])),
            Progress::Completed
        );
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!((got.responses, got.items.len()), (2, 2));
    }

    #[test]
    fn a_response_after_completion_is_unknown() {
        let mut g = Gathers::default();
        let mut rx = sockets_query(&mut g, "r1", 2, later());
        g.local_part("r1", Part::Sockets(vec![]));
        assert_eq!(
            g.response(sockets_response("r1", &["b"])),
            Progress::Completed
        );
        assert_eq!(
            g.response(sockets_response("r1", &["c"])),
            Progress::Unknown
        );
        assert_eq!(rx.try_recv().unwrap().unwrap().items, [socket("b")]);
    }

    #[test]
    fn a_response_of_the_other_shape_still_counts() {
        // A rooms response to a sockets query (or one with neither field) is one more answer.
        let mut g = Gathers::default();
        let mut rx = sockets_query(&mut g, "r1", 2, later());
        g.local_part("r1", Part::Sockets(vec![socket("a")]));
        assert_eq!(
            g.response(rooms_response("r1", &["x"])),
            Progress::Completed
        );
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!((got.items, got.responses), (vec![socket("a")], 1));
    }

    #[test]
    fn the_deadline_answers_with_what_arrived() {
        let mut g = Gathers::default();
        let start = Instant::now();
        let deadline = start + Duration::from_secs(5);
        let mut rx = sockets_query(&mut g, "r1", 3, deadline);
        let mut other = sockets_query(&mut g, "r2", 2, deadline + Duration::from_secs(1));
        g.local_part("r1", Part::Sockets(vec![socket("a")]));
        g.response(sockets_response("r1", &["b"]));
        assert!(g.expire(start + Duration::from_secs(4)).is_empty());
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
        assert_eq!(g.expire(deadline), ["r1"]);
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!(got.items, [socket("a"), socket("b")]);
        assert_eq!((got.servers, got.responses, got.complete), (3, 1, false));
        // Only the late query ended; a response to it is now unknown.
        assert!(matches!(other.try_recv(), Err(TryRecvError::Empty)));
        assert_eq!(
            g.response(sockets_response("r1", &["c"])),
            Progress::Unknown
        );
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn the_deadline_answers_even_without_the_local_part() {
        let mut g = Gathers::default();
        let deadline = Instant::now();
        let mut rx = rooms_query(&mut g, "r1", 2, deadline);
        g.response(rooms_response("r1", &["x"]));
        assert_eq!(g.expire(deadline), ["r1"]);
        let got = rx.try_recv().unwrap().unwrap();
        assert_eq!((got.items, got.complete), (vec!["x".to_owned()], false));
        // The local part arriving afterwards finds nothing.
        assert_eq!(g.local_part("r1", Part::Rooms(vec![])), Progress::Unknown);
    }

    #[test]
    fn a_caller_that_gave_up_does_not_disturb_the_table() {
        let mut g = Gathers::default();
        drop(sockets_query(&mut g, "r1", 2, later()));
        g.local_part("r1", Part::Sockets(vec![]));
        assert_eq!(g.response(sockets_response("r1", &[])), Progress::Completed);
        assert_eq!(g.len(), 0);
    }

    #[test]
    fn failing_a_reply_reports_the_error() {
        let (tx, mut rx) = oneshot::channel();
        Reply::Rooms(tx).fail(ClusterError::Unavailable);
        assert_eq!(rx.try_recv().unwrap(), Err(ClusterError::Unavailable));
    }
}
