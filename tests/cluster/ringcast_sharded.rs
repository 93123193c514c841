//! Two real ringcast nodes in sharded mode (Redis 7 `SPUBLISH`/`SSUBSCRIBE`) on one
//! redis-server: a publish through B reaches A's room members and no others, with Redis' count
//! of receivers in the answer; in `dynamic` mode A holds a room's channel exactly while it has
//! members there (`PUBSUB SHARDCHANNELS`), in `static` mode never.

use serde_json::json;

use ringcast_test_support::{Client, Lang, RedisServer, unique};

use crate::ringcast::{
    events_until_marker, marker, publish_status, ready_sharded_node, shard_channels, socket_in,
    wait_shard_channels,
};

#[test]
fn sharded_nodes_share_room_broadcasts_and_subscribe_rooms_by_mode() {
    // subscription mode, whether A holds the room's channel while it has members, receivers
    // Redis counts for B's publish to one room (its channel's subscribers, or every node on
    // the main channel)
    let cases = [("dynamic", true, 1), ("static", false, 2)];
    for (mode, room_channel, receivers) in cases {
        let redis = RedisServer::start();
        let a = ready_sharded_node(redis.port, mode);
        let b = ready_sharded_node(redis.port, mode);
        let (task, end) = (unique("t"), unique("end"));
        let (task_room, end_room) = (format!("task:{task}"), format!("conversation:{end}"));
        let (task_channel, end_channel) = (
            format!("socket.io#/#{task_room}#"),
            format!("socket.io#/#{end_room}#"),
        );
        let channels = shard_channels(&redis);
        assert!(
            channels.contains(&"socket.io#/#".to_owned()),
            "{mode}: {channels:?}"
        );
        assert!(!channels.contains(&task_channel), "{mode}: {channels:?}");

        let mut client = Client::spawn(Lang::Js, &a);
        socket_in(&mut client, &a, "member", &[&task_room, &end_room]);
        socket_in(&mut client, &a, "outsider", &[&end_room]);
        if room_channel {
            wait_shard_channels(&redis, &[&task_channel, &end_channel], true);
        }

        let update = json!({"task_id": task, "update": {"progress": 50}});
        let body = json!({"event": "task:updated", "rooms": [task_room], "data": update});
        let answer = publish_status(&b, &body, 200);
        assert_eq!(answer["delivered"], 0, "{mode}: B has no sockets: {answer}");
        assert_eq!(answer["receivers"], json!([receivers]), "{mode}: {answer}");
        publish_status(&b, &marker(&end), 200);
        // socket, the events it must receive up to and including the marker
        let cases: [(&str, &[&str]); 2] = [
            ("member", &["task:updated", "conversation:message"]),
            ("outsider", &["conversation:message"]),
        ];
        for (sock, want) in cases {
            let got = events_until_marker(&mut client, sock);
            let names: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
            assert_eq!(
                names,
                want,
                "{mode}: {sock} received {got:?}\n{}",
                a.context()
            );
        }

        let channels = shard_channels(&redis);
        assert_eq!(
            channels.contains(&task_channel),
            room_channel,
            "{mode}: {channels:?}"
        );
        // The last member leaves: A unsubscribes the room's channel.
        client.unsubscribe("member", &task_room);
        wait_shard_channels(&redis, &[&task_channel], false);
    }
}
