//! The admin UI across two ringcast nodes on one redis-server, in the classic (pub/sub) and the
//! streams cluster modes: a UI connected to node A hears node B's `server_stats` (two distinct
//! `serverId`s), lists B's sockets (`all_sockets`) and hears of B's new ones
//! (`socket_connected`, development mode), and its `join`, `leave` and `_disconnect` commands
//! reach a client of B, which is told as if it had asked. In sharded mode, whose bridge sends
//! no requests or relayed events, the fetch still works: `all_sockets` lists B's socket.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, RedisServer, Server, admin_ui, token};

use crate::ringcast::{node_with, wait_ready};
use crate::ringcast_streams_recovery::streams_node_with;

/// A ready node with the admin UI on in development mode, in cluster `mode` (`classic`,
/// `streams` or `sharded`).
pub fn admin_node(redis: &RedisServer, mode: &str) -> Server {
    let mut extra = admin_ui::flags().to_vec();
    extra.extend(["--admin-mode", "development"]);
    if mode == "streams" {
        return streams_node_with(redis, &extra);
    }
    if mode == "sharded" {
        extra.extend(["--cluster-mode", "sharded"]);
    }
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let mut args = vec!["--redis-url", url.as_str()];
    args.extend(extra);
    let node = node_with(&args);
    wait_ready(&node);
    node
}

/// The ids of an `all_sockets` event's sockets.
fn ids(all_sockets: &[Value]) -> BTreeSet<String> {
    all_sockets
        .first()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect()
}

/// Node B with a client `user` connected, and A's admin UI `ui` logged in; B's socket id.
pub fn ui_on_a_user_on_b(a: &Server, b: &Server) -> (Client, Client, String) {
    let mut on_b = Client::spawn(Lang::Js, b);
    let user = on_b.connected("user", &Connect::to(b).token(Some(token::valid("user"))))["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut ui = Client::spawn(Lang::Js, a);
    let admin = Connect::to(a)
        .url(format!("{}/admin", a.url()))
        .auth(admin_ui::login())
        .transports(&["websocket"]);
    ui.connected("ui", &admin);
    (ui, on_b, user)
}

#[test]
fn in_sharded_mode_all_sockets_still_lists_both_nodes() {
    let redis = RedisServer::start();
    let (a, b) = (admin_node(&redis, "sharded"), admin_node(&redis, "sharded"));
    let (mut ui, _on_b, user) = ui_on_a_user_on_b(&a, &b);
    let all = ui.expect_event("ui", "all_sockets");
    assert!(ids(&all).contains(&user), "{all:?}");
}

#[test]
fn the_admin_ui_sees_and_acts_on_both_nodes() {
    for mode in ["classic", "streams"] {
        sees_and_acts_on_both_nodes(mode);
    }
}

fn sees_and_acts_on_both_nodes(mode: &str) {
    let redis = RedisServer::start();
    let (a, b) = (admin_node(&redis, mode), admin_node(&redis, mode));
    let (mut ui, mut on_b, user) = ui_on_a_user_on_b(&a, &b);
    let as_user = |sub: &str| Connect::to(&b).token(Some(token::valid(sub)));

    // (b) B's socket is in the list the UI gets at connect (a cluster-wide fetch).
    let all = ui.expect_event("ui", "all_sockets");
    assert!(ids(&all).contains(&user), "{mode}: {all:?}");

    // (a) Reports from both nodes, told apart by serverId (`hostname#pid`).
    let mut servers = BTreeSet::new();
    for _ in 0..8 {
        let stats = ui.expect_event("ui", "server_stats");
        if let Some(id) = stats.first().and_then(|s| s["serverId"].as_str()) {
            servers.insert(id.to_owned());
        }
        if servers.len() == 2 {
            break;
        }
    }
    let pids: BTreeSet<String> = servers
        .iter()
        .filter_map(|id| id.rsplit('#').next().map(str::to_owned))
        .collect();
    let want: BTreeSet<String> = [a.pid, b.pid].iter().map(u32::to_string).collect();
    assert_eq!(pids, want, "{mode}: serverIds {servers:?}");

    // Development mode: a socket that connects to B is announced to A's UI.
    let late = on_b.connected("late", &as_user("late"))["id"].clone();
    let connected = ui.expect_event("ui", "socket_connected");
    assert_eq!(connected[0]["id"], late, "{mode}: {connected:?}");

    // (c) The UI's commands, filtered by B's socket id, act on B's socket.
    let room = "task:admin-cluster";
    ui.emit("ui", "join", json!(["/", room, user]));
    assert_eq!(
        on_b.expect_event("user", "subscribed"),
        [json!({"room": room})],
        "{mode}"
    );
    ui.emit("ui", "leave", json!(["/", room, user]));
    assert_eq!(
        on_b.expect_event("user", "unsubscribed"),
        [json!({"room": room})],
        "{mode}"
    );
    ui.emit("ui", "_disconnect", json!(["/", false, user]));
    let gone = on_b.expect("user disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "user"
    });
    assert_eq!(gone["reason"], "io server disconnect", "{mode}: {gone}");
    // The filter held: the other socket of B is still connected (it hears a join).
    ui.emit("ui", "join", json!(["/", room, late]));
    assert_eq!(
        on_b.expect_event("late", "subscribed"),
        [json!({"room": room})],
        "{mode}"
    );
}
