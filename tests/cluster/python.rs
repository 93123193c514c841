//! python-socketio `AsyncRedisManager(write_only=True)` → ringcast.

use ringcast::Room;
use ringcast::engine::sid::{ShardId, Sid};

use ringcast_test_support::{Proc, RedisServer, wait_until};

use crate::recording_node::{RecordingNode, connected_bridge, stats, text};

#[test]
fn python_manager_emits_reach_the_engine() {
    let redis = RedisServer::start();
    let node = RecordingNode::with_rooms(&["agent:7", "task:1"]);
    let bridge = connected_bridge(&redis, node.clone());
    let skip = Sid::generate(ShardId(0)).expect("csprng");

    Proc::python(
        "redis_manager_emit.py",
        &[&redis.port.to_string(), skip.as_str()],
    )
    .wait_success();
    wait_until(
        "the python end marker",
        || node.find(r#"42["done"]"#).is_some(),
        || format!("{:?} {}", node.delivered_texts(), stats(&bridge)),
    );

    let op = node.find(r#"42["agent:status_changed""#).expect("room str");
    assert_eq!(
        text(&op),
        r#"42["agent:status_changed",{"agent_id":"7","new_status":"busy"}]"#
    );
    assert_eq!(op.rooms, vec![Room::from("agent:7")]);

    let op = node.find(r#"42["task:assigned""#).expect("room list");
    assert_eq!(op.rooms, vec![Room::from("task:1"), Room::from("agent:7")]);

    // A tuple is two arguments (python-socketio >= 5.15.1 sends the argument list).
    let op = node.find(r#"42["system:alert""#).expect("room none");
    assert_eq!(text(&op), r#"42["system:alert","hello",2]"#);
    assert!(op.rooms.is_empty());
    assert_eq!(op.except, vec![skip]);

    let op = node.find("451-").expect("binary");
    assert_eq!(text(&op), r#"451-["blob",{"_placeholder":true,"num":0}]"#);
    assert_eq!(&op.frames[1].payload()[..], &[1u8, 2, 3]);

    assert_eq!(
        text(&node.find(r#"42["done""#).expect("marker")),
        r#"42["done"]"#
    );
    let texts = node.delivered_texts();
    assert!(
        !texts.iter().any(|t| t.contains("task:updated")),
        "{texts:?}"
    );
    let s = bridge.stats().snapshot();
    assert!(s.skipped >= 1, "{s:?}");
    assert_eq!(s.decode_errors, 0, "{s:?}");
    bridge.shutdown();
}
