//! A recording `LocalNode` standing in for the engine: the bridge tests run the cluster bridge
//! in-process against it, with nothing but redis-server and the ecosystem's peers around; and
//! what the Node emitter publishes, for tests that play the emitter themselves.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use ringcast::Room;
use ringcast::cluster::msgpack::Writer;
use ringcast::cluster::{
    Bridge, ClusterStatus, LocalNode, RedisOptions, RemoteCommand, Selector, SocketInfo,
    StatsSnapshot, start,
};
use ringcast::engine::BroadcastOp;
use ringcast_test_support::{RedisServer, wait_until};

/// What the engine would be: records every call, answers from configured state.
#[derive(Debug, Default)]
pub struct RecordingNode {
    pub rooms: Mutex<BTreeSet<String>>,
    pub sockets: Mutex<Vec<SocketInfo>>,
    pub delivered: Mutex<Vec<BroadcastOp>>,
    pub applied: Mutex<Vec<RemoteCommand>>,
}

impl RecordingNode {
    pub fn with_rooms(rooms: &[&str]) -> Arc<RecordingNode> {
        let node = RecordingNode::default();
        node.rooms
            .lock()
            .expect("lock")
            .extend(rooms.iter().map(|r| r.to_string()));
        Arc::new(node)
    }

    pub fn delivered_texts(&self) -> Vec<String> {
        self.delivered
            .lock()
            .expect("lock")
            .iter()
            .map(text)
            .collect()
    }

    /// The sequence numbers of the delivered [`emitter_tick`]s, in delivery order.
    pub fn delivered_ticks(&self) -> Vec<u64> {
        self.delivered_texts()
            .iter()
            .filter_map(|t| {
                t.strip_prefix(r#"42["tick","#)?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect()
    }

    pub fn find(&self, prefix: &str) -> Option<BroadcastOp> {
        self.delivered
            .lock()
            .expect("lock")
            .iter()
            .find(|op| text(op).starts_with(prefix))
            .cloned()
    }

    pub fn applied(&self) -> Vec<RemoteCommand> {
        self.applied.lock().expect("lock").clone()
    }

    fn matches(selector: &Selector, s: &SocketInfo) -> bool {
        let has = |r: &Room| s.id == r.as_str() || s.rooms.iter().any(|x| x == r.as_str());
        (selector.rooms.is_empty() || selector.rooms.iter().any(has))
            && !selector.except.iter().any(has)
    }
}

impl LocalNode for RecordingNode {
    fn has_local_room(&self, _nsp: &str, room: &str) -> bool {
        self.rooms.lock().expect("lock").contains(room)
    }
    fn deliver(&self, op: BroadcastOp) {
        self.delivered.lock().expect("lock").push(op);
    }
    fn apply(&self, command: RemoteCommand) {
        self.applied.lock().expect("lock").push(command);
    }
    fn fetch_sockets(&self, selector: Selector, reply: Box<dyn FnOnce(Vec<SocketInfo>) + Send>) {
        let found: Vec<SocketInfo> = self
            .sockets
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| Self::matches(&selector, s))
            .cloned()
            .collect();
        // From another thread, as the engine's workers answer.
        std::thread::spawn(move || reply(found));
    }
    fn all_rooms(&self, _nsp: &str, reply: Box<dyn FnOnce(Vec<Room>) + Send>) {
        reply(
            self.rooms
                .lock()
                .expect("lock")
                .iter()
                .map(|r| Room::from(r.as_str()))
                .collect(),
        );
    }
}

/// The Engine.IO text of a broadcast's first frame (`42[…]`).
pub fn text(op: &BroadcastOp) -> String {
    String::from_utf8(op.frames[0].payload().to_vec()).expect("utf-8 frame")
}

/// Starts a bridge for `node` and waits until it is connected.
pub fn connected_bridge(redis: &RedisServer, node: Arc<RecordingNode>) -> Arc<Bridge> {
    let bridge = start(&redis.url(), RedisOptions::default(), node).expect("valid url");
    wait_until(
        "the bridge to connect",
        || bridge.status() == ClusterStatus::Connected,
        || stats(&bridge),
    );
    bridge
}

pub fn stats(bridge: &Bridge) -> String {
    let s: StatsSnapshot = bridge.stats().snapshot();
    format!("{s:?}")
}

/// Runs a future on a throwaway tokio runtime (the bridge's query API is runtime-agnostic).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// `emitter.to(room).emit("tick", seq)` as notepack writes it.
pub fn emitter_tick(room: &str, seq: u64) -> Vec<u8> {
    let mut w = Writer::new();
    w.array(3);
    w.str("emitter");
    w.map(3);
    w.str("type");
    w.uint(2);
    w.str("data");
    w.array(2);
    w.str("tick");
    w.uint(seq);
    w.str("nsp");
    w.str("/");
    w.map(3);
    w.str("rooms");
    w.array(1);
    w.str(room);
    w.str("flags");
    w.map(0);
    w.str("except");
    w.array(0);
    w.buf
}
