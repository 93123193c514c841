//! `@socket.io/redis-emitter` → ringcast: room and shared-channel broadcasts, binary, requests.

use ringcast::Room;
use ringcast::cluster::{RemoteCommand, Selector};
use ringcast_codec::ws::OpCode;

use ringcast_test_support::{Proc, RedisServer, redis_js, wait_until};

use crate::recording_node::{RecordingNode, connected_bridge, stats, text};

fn selector(rooms: &[&str]) -> Selector {
    Selector {
        nsp: Room::from("/"),
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: vec![],
    }
}

#[test]
fn emitter_broadcasts_and_requests_reach_the_engine() {
    let redis = RedisServer::start();
    let node = RecordingNode::with_rooms(&["agent:7", "vip"]);
    let bridge = connected_bridge(&redis, node.clone());

    Proc::node(&redis_js(), "emitter.js", &[&redis.port.to_string()]).wait_success();
    wait_until(
        "the emitter's end marker",
        || node.find(r#"42["done"]"#).is_some(),
        || format!("{:?} {}", node.delivered_texts(), stats(&bridge)),
    );

    let op = node
        .find(r#"42["agent:status_changed""#)
        .expect("room broadcast delivered");
    assert_eq!(
        text(&op),
        r#"42["agent:status_changed",{"agent_id":"7","old_status":"idle","new_status":"busy","timestamp":1}]"#
    );
    assert_eq!(op.rooms, vec![Room::from("agent:7")]);

    // Buffer (bin) and Uint8Array (ext type 0) become attachments; `undefined` disappears.
    let op = node.find("452-").expect("binary broadcast delivered");
    assert_eq!(
        text(&op),
        r#"452-["system:alert",{"message":"hi","severity":"low"},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(op.frames.len(), 3);
    assert_eq!(op.frames[1].opcode(), OpCode::Binary);
    assert_eq!(
        (&op.frames[1].payload()[..], &op.frames[2].payload()[..]),
        (&[1u8, 2, 3][..], &[4u8, 5][..])
    );
    assert!(op.rooms.is_empty());

    let op = node
        .find(r#"42["task:assigned""#)
        .expect("two-room broadcast delivered");
    assert_eq!(op.rooms, vec![Room::from("agent:7"), Room::from("task:1")]);

    // Never delivered: a room without local members (skipped undecoded) and an except-room
    // broadcast the engine cannot honour.
    let texts = node.delivered_texts();
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("task:updated") || t.contains("conversation:message")),
        "{texts:?}"
    );
    let s = bridge.stats().snapshot();
    assert!(s.skipped >= 1 && s.unsupported >= 1, "{s:?}");
    assert_eq!(s.decode_errors, 0, "{s:?}");
    assert_eq!(texts.len(), 4, "{texts:?}");

    assert_eq!(
        node.applied(),
        vec![
            RemoteCommand::Join {
                selector: selector(&["agent:7"]),
                rooms: vec![Room::from("vip")]
            },
            RemoteCommand::Leave {
                selector: selector(&["vip"]),
                rooms: vec![Room::from("agent:7")]
            },
            RemoteCommand::Disconnect {
                selector: selector(&["agent:7"]),
                close: true
            },
        ]
    );
    bridge.shutdown();
}
