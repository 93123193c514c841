//! A Node.js socket.io 4.8 node on `@socket.io/redis-adapter` 8.3 and a ringcast node in one
//! cluster: broadcasts both ways (binary included), fetchSockets / allRooms / serverCount both
//! ways, socketsJoin from Node.

use ringcast::Room;
use ringcast::cluster::wire::event_frames;
use ringcast::cluster::{Publisher, RemoteCommand, Selector, SocketInfo};
use ringcast::engine::BroadcastOp;
use ringcast::engine::sid::{ShardId, Sid};
use serde_json::{Value, json};

use ringcast_test_support::{Proc, RedisServer, redis_js, wait_until};

use crate::recording_node::{RecordingNode, block_on, connected_bridge, stats, text};

fn all() -> Selector {
    Selector {
        nsp: Room::from("/"),
        rooms: vec![],
        except: vec![],
    }
}

#[test]
fn node_adapter_and_ringcast_share_one_cluster() {
    let redis = RedisServer::start();
    let node = RecordingNode::with_rooms(&["dashboard", "agent:7"]);
    let local = Sid::generate(ShardId(0)).expect("csprng");
    node.sockets.lock().expect("lock").push(SocketInfo {
        id: local.as_str().to_owned(),
        rooms: vec![local.as_str().to_owned(), "agent:7".to_owned()],
        meta: None,
    });
    let bridge = connected_bridge(&redis, node.clone());
    let mut peer = Proc::node(&redis_js(), "node-server.js", &[&redis.port.to_string()]);
    let ready = peer.expect("the Node server to be ready", |v| v["ready"] == true);
    let node_sid = ready["sid"].as_str().expect("sid").to_owned();

    // serverCount both ways: PUBSUB NUMSUB of socket.io-request#/#.
    assert_eq!(block_on(bridge.server_count()), Ok(2));
    peer.write_line(r#"{"op":"serverCount"}"#);
    assert_eq!(
        peer.expect("Node's serverCount", |v| v["op"] == "serverCount")["result"],
        2
    );

    // ringcast → Node: the Node client in "dashboard" receives ringcast's broadcasts.
    let plain = BroadcastOp {
        nsp: Room::from("/"),
        rooms: vec![Room::from("dashboard")],
        except: vec![],
        except_rooms: Vec::new(),
        frames: event_frames(
            "/",
            "agent:status_changed",
            r#"{"agent_id":"7","new_status":"busy"}"#,
            std::iter::empty(),
        ),
    };
    bridge.publish(&plain, None).expect("publish");
    let got = peer.expect("the Node client to get ringcast's event", |v| {
        v["got"] == "agent:status_changed"
    });
    assert_eq!(
        got["args"],
        json!([{"agent_id": "7", "new_status": "busy"}])
    );
    let binary = BroadcastOp {
        nsp: Room::from("/"),
        rooms: vec![],
        except: vec![],
        except_rooms: Vec::new(),
        frames: event_frames(
            "/",
            "blob",
            r#"{"n":1},{"_placeholder":true,"num":0}"#,
            [&[7u8, 8, 9][..]].into_iter(),
        ),
    };
    bridge.publish(&binary, None).expect("publish");
    let got = peer.expect("the Node client to get ringcast's binary event", |v| {
        v["got"] == "blob"
    });
    assert_eq!(got["args"], json!([{"n": 1}, {"bin": [7, 8, 9]}]));

    // Node → ringcast: io.to(room).emit on the Node node reaches the engine.
    peer.write_line(r#"{"op":"emit","room":"agent:7","event":"task:created","args":[{"task_id":"1"}],"binary":[1,2]}"#);
    wait_until(
        "Node's broadcast to reach ringcast",
        || node.find("451-").is_some(),
        || format!("{:?} {}", node.delivered_texts(), stats(&bridge)),
    );
    let op = node.find("451-").expect("delivered");
    assert_eq!(
        text(&op),
        r#"451-["task:created",{"task_id":"1"},{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(&op.frames[1].payload()[..], &[1u8, 2]);
    assert_eq!(op.rooms, vec![Room::from("agent:7")]);

    // Node's fetchSockets / allRooms include ringcast's answers.
    peer.write_line(r#"{"op":"fetch"}"#);
    let fetched = peer.expect("Node's fetchSockets", |v| v["op"] == "fetch")["result"].clone();
    let ids: Vec<&str> = fetched
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(
        ids.contains(&local.as_str()) && ids.contains(&node_sid.as_str()),
        "{fetched}"
    );
    let ours = fetched
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["id"] == local.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(ours["rooms"], json!([local.as_str(), "agent:7"]));
    assert_eq!(ours["auth"], json!({}));
    peer.write_line(r#"{"op":"allRooms"}"#);
    let rooms = peer.expect("Node's allRooms", |v| v["op"] == "allRooms")["result"].clone();
    for room in ["dashboard", "agent:7", node_sid.as_str()] {
        assert!(
            rooms.as_array().expect("array").iter().any(|r| r == room),
            "{room} missing from {rooms}"
        );
    }

    // ringcast's fetch_sockets / all_rooms include the Node node's answers.
    let gathered = block_on(bridge.fetch_sockets(all())).expect("connected");
    assert!(
        gathered.complete && gathered.servers == 2 && gathered.responses == 1,
        "{gathered:?}"
    );
    let node_socket = gathered
        .items
        .iter()
        .find(|s| s.id == node_sid)
        .expect("the Node socket");
    assert!(
        node_socket.rooms.contains(&"dashboard".to_owned()),
        "{gathered:?}"
    );
    assert!(
        gathered.items.iter().any(|s| s.id == local.as_str()),
        "{gathered:?}"
    );
    let rooms = block_on(bridge.all_rooms()).expect("connected");
    assert!(
        rooms.complete
            && rooms.items.contains(&node_sid)
            && rooms.items.contains(&"agent:7".to_owned()),
        "{rooms:?}"
    );

    // socketsJoin on the Node node applies on ringcast's too.
    peer.write_line(r#"{"op":"socketsJoin","room":"agent:7","join":"vip"}"#);
    let want = RemoteCommand::Join {
        selector: Selector {
            nsp: Room::from("/"),
            rooms: vec![Room::from("agent:7")],
            except: vec![],
        },
        rooms: vec![Room::from("vip")],
    };
    wait_until(
        "socketsJoin to reach ringcast",
        || node.applied().contains(&want),
        || format!("{:?}", node.applied()),
    );

    let s = bridge.stats().snapshot();
    assert_eq!(s.decode_errors, 0, "{s:?}");
    bridge.shutdown();
}
