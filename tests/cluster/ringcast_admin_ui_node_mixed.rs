//! The admin UI in a mixed cluster: a Node socket.io 4.8 node on `@socket.io/redis-adapter` 8
//! running `@socket.io/admin-ui` 0.5.1 and a ringcast node exchange their `/admin` events on
//! `socket.io#/admin#`, so each one's UI hears the other's `server_stats`.

use ringcast_test_support::{Proc, RedisServer, redis_js};

use crate::ringcast_admin_ui_two_nodes::{admin_node, ui_on_a_user_on_b};

#[test]
fn ringcast_and_node_admin_uis_hear_each_others_server_stats() {
    let redis = RedisServer::start();
    let ringcast = admin_node(&redis, "classic");
    let mut node = Proc::node(
        &redis_js(),
        "node-admin-server.js",
        &[&redis.port.to_string()],
    );
    let ready = node.expect("the Node server's ready line", |v| v["ready"] == true);
    let node_pid = ready["pid"].clone();

    // ringcast's UI: the Node node's report arrives among ringcast's own.
    let (mut ui, _client, _) = ui_on_a_user_on_b(&ringcast, &ringcast);
    let mut pids = Vec::new();
    for _ in 0..8 {
        let stats = ui.expect_event("ui", "server_stats");
        pids.push(stats[0]["pid"].clone());
        if pids.contains(&node_pid) {
            break;
        }
    }
    assert!(
        pids.contains(&node_pid),
        "pids heard: {pids:?}, Node's {node_pid}"
    );

    // The Node node's UI: ringcast's report arrives among the Node node's own.
    node.expect("ringcast's server_stats on the Node UI", |v| {
        v["admin_stats"] == ringcast.pid
    });
}
