//! The Socket.IO admin UI's server side on `/admin` (`@socket.io/admin-ui` 0.5.1's protocol),
//! driven by stock socket.io-client sockets as the UI's own client would connect: the login,
//! `session`, `config`, `server_stats`, the development-mode socket list, and the commands
//! reaching real `/` clients.

use serde_json::{Value, json};

use ringcast_test_support::{Proc, Server, token, unique};

use crate::{gateway, node};

pub(crate) use ringcast_test_support::admin_ui::{HASH, PASSWORD};

fn admin_server(extra: &[&str]) -> Server {
    gateway()
        .args(["--admin-ui", "true", "--admin-password-hash", HASH])
        .args(extra)
        .start()
}

pub(crate) fn clients(server: &Server) -> Proc {
    let mut clients = node("clients.js", &[]);
    clients.watch(server);
    clients.expect("ready", |v| v["type"] == "ready");
    clients
}

/// Connects `sock` to `/admin` with `auth` and waits for its connect (or connect_error).
fn admin(clients: &mut Proc, server: &Server, sock: &str, auth: Value) -> Value {
    clients.send(
        &json!({"cmd": "connect", "sock": sock, "url": format!("{}/admin", server.url()),
                         "path": "/ws/", "auth": auth, "transports": ["websocket"]}),
    );
    clients.expect(&format!("{sock} connect or connect_error"), |v| {
        v["sock"] == sock && (v["type"] == "connect" || v["type"] == "connect_error")
    })
}

/// Connects `sock` to `/` with a valid token; returns its socket id.
pub(crate) fn client(clients: &mut Proc, server: &Server, sock: &str) -> String {
    clients.send(
        &json!({"cmd": "connect", "sock": sock, "url": server.url(), "path": "/ws/",
                         "token": token::valid(sock), "transports": ["websocket"]}),
    );
    let connected = clients.expect(&format!("{sock} connect"), |v| {
        v["type"] == "connect" && v["sock"] == sock
    });
    connected["id"].as_str().unwrap_or_default().to_owned()
}

fn login() -> Value {
    json!({"username": "admin", "password": PASSWORD})
}

pub(crate) fn event<'a>(sock: &'a str, name: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |v| v["type"] == "event" && v["sock"] == sock && v["event"] == name
}

#[test]
fn wrong_logins_get_the_message_the_ui_shows_its_form_for() {
    let server = admin_server(&[]);
    let mut clients = clients(&server);
    for (sock, auth) in [
        (
            "wrong-password",
            json!({"username": "admin", "password": "nope"}),
        ),
        (
            "wrong-user",
            json!({"username": "root", "password": PASSWORD}),
        ),
        ("no-password", json!({"username": "admin"})),
        ("unknown-session", json!({"sessionId": "0123456789abcdef"})),
    ] {
        let answer = admin(&mut clients, &server, sock, auth);
        assert_eq!(answer["type"], "connect_error", "{sock}: {answer}");
        // App.vue: `err.message === "invalid credentials"` reopens the login form.
        assert_eq!(answer["message"], "invalid credentials", "{sock}");
    }
    // The session id a login gets is what the UI reconnects with.
    assert_eq!(
        admin(&mut clients, &server, "ui", login())["type"],
        "connect"
    );
    let session = clients.expect("session", event("ui", "session"));
    let id = session["args"][0].as_str().unwrap_or_default().to_owned();
    assert_eq!(id.len(), 32, "{session}");
    let again = admin(&mut clients, &server, "ui-again", json!({"sessionId": id}));
    assert_eq!(again["type"], "connect", "{again}");

    // Off (the default), there is no such namespace.
    let plain = gateway().start();
    let mut clients = self::clients(&plain);
    let answer = admin(&mut clients, &plain, "off", login());
    assert_eq!(answer["message"], "Invalid namespace", "{answer}");
}

#[test]
fn config_and_server_stats_have_the_packages_shapes() {
    let server = admin_server(&[]);
    let mut clients = clients(&server);
    client(&mut clients, &server, "user-1");
    admin(&mut clients, &server, "ui", login());
    let config = clients.expect("config", event("ui", "config"));
    let features = config["args"][0]["supportedFeatures"].clone();
    for f in [
        "EMIT",
        "JOIN",
        "LEAVE",
        "DISCONNECT",
        "MDISCONNECT",
        "AGGREGATED_EVENTS",
    ] {
        assert!(
            features.as_array().is_some_and(|a| a.contains(&json!(f))),
            "{f} in {features}"
        );
    }
    // Production mode: the UI's developmentMode getter is false without ALL_EVENTS.
    assert!(!features.to_string().contains("ALL_EVENTS"), "{features}");

    // The first report comes at connect, the next 2 s later; both have the shape.
    for _ in 0..2 {
        let stats = clients.expect("server_stats", event("ui", "server_stats"));
        assert_eq!(stats["args"].as_array().map(Vec::len), Some(1), "{stats}");
        let s = &stats["args"][0];
        assert_eq!(s["pid"], server.pid, "{s}");
        assert!(
            s["serverId"]
                .as_str()
                .is_some_and(|id| id.ends_with(&format!("#{}", server.pid)))
        );
        assert!(s["hostname"].as_str().is_some_and(|h| !h.is_empty()), "{s}");
        assert!(s["uptime"].as_f64().is_some_and(|u| u >= 0.0), "{s}");
        // Two Engine.IO clients on WebSocket: the `/` client and the UI.
        assert_eq!(s["clientsCount"], 2, "{s}");
        assert_eq!(s["pollingClientsCount"], 0, "{s}");
        assert!(s["aggregatedEvents"].is_array(), "{s}");
        assert_eq!(
            s["namespaces"],
            json!([{"name": "/", "socketsCount": 1}, {"name": "/admin", "socketsCount": 1}]),
            "{s}"
        );
    }
}

#[test]
fn join_leave_and_disconnect_commands_reach_a_client() {
    let server = admin_server(&[]);
    let mut clients = clients(&server);
    client(&mut clients, &server, "user-1");
    // Out of `dashboard`, so a task update reaches it only through the room the UI joins it to.
    clients.send(
        &json!({"cmd": "emit", "sock": "user-1", "event": "unsubscribe",
                         "args": [{"room": "dashboard"}]}),
    );
    clients.expect("unsubscribed", event("user-1", "unsubscribed"));
    admin(&mut clients, &server, "ui", login());
    let task_id = unique("admin-task-");
    let room = format!("task:{task_id}");
    let update = json!({"event": "task:updated", "data": {"task_id": task_id, "update": {}}});

    clients.send(&json!({"cmd": "emit", "sock": "ui", "event": "join", "args": ["/", room, null]}));
    server.publish_until_delivered(&update, 1);
    clients.expect("the update", event("user-1", "task:updated"));

    // `emit` to the room from the UI reaches it too.
    clients.send(&json!({"cmd": "emit", "sock": "ui", "event": "emit",
                         "args": ["/", room, "note", {"from": "admin"}]}));
    let note = clients.expect("the UI's emit", event("user-1", "note"));
    assert_eq!(note["args"], json!([{"from": "admin"}]));

    clients.send(&json!({"cmd": "emit", "sock": "ui", "event": "leave", "args": ["/", room]}));
    let left = (0..100).any(|_| {
        let delivered = server.publish_ok(&update);
        std::thread::sleep(std::time::Duration::from_millis(50));
        delivered == 0
    });
    assert!(
        left,
        "the leave command never took the socket out of {room}"
    );

    clients.send(&json!({"cmd": "emit", "sock": "ui", "event": "_disconnect",
                         "args": ["/", false, null]}));
    let gone = clients.expect("user-1 disconnect", |v| {
        v["type"] == "disconnect" && v["sock"] == "user-1"
    });
    assert_eq!(gone["reason"], "io server disconnect", "{gone}");
}

#[test]
fn development_mode_lists_sockets_and_rooms_without_recovery_offsets() {
    // Recovery on: `/` broadcasts carry an offset argument; nothing sent to the UI may.
    let server = admin_server(&["--admin-mode", "development", "--recovery", "true"]);
    let mut clients = clients(&server);
    client(&mut clients, &server, "user-1");
    admin(&mut clients, &server, "ui", login());
    let config = clients.expect("config", event("ui", "config"));
    assert!(
        config["args"][0]["supportedFeatures"]
            .to_string()
            .contains("ALL_EVENTS")
    );
    let all = clients.expect("all_sockets", event("ui", "all_sockets"));
    assert_eq!(all["args"].as_array().map(Vec::len), Some(1), "{all}");
    let sockets = all["args"][0].as_array().cloned().unwrap_or_default();
    assert_eq!(sockets.len(), 1, "{all}");
    let s = &sockets[0];
    assert_eq!(s["nsp"], "/");
    let id = s["id"].as_str().unwrap_or_default().to_owned();
    // Its own id, the auto-joined dashboard and its user room (the token's sub is the sock name).
    assert_eq!(s["rooms"], json!([id, "dashboard", "user:user-1"]), "{s}");
    // The transport the socket really uses (it connected with websocket only).
    assert_eq!(s["transport"], "websocket", "{s}");
    for key in ["clientId", "handshake", "data"] {
        assert!(!s[key].is_null(), "{key} in {s}");
    }

    let room = format!("task:{}", unique("dev-"));
    clients.send(
        &json!({"cmd": "emit", "sock": "user-1", "event": "subscribe",
                         "args": [{"room": room}]}),
    );
    let joined = clients.expect("room_joined", event("ui", "room_joined"));
    assert_eq!(joined["args"].as_array().map(Vec::len), Some(4), "{joined}");
    let args = joined["args"].as_array().cloned().unwrap_or_default();
    assert_eq!(args[..3], [json!("/"), json!(room), json!(id)]);

    client(&mut clients, &server, "user-2");
    let connected = clients.expect("socket_connected", event("ui", "socket_connected"));
    // (socket, timestamp): no third argument, the offset a recovered `/` event would carry.
    assert_eq!(
        connected["args"].as_array().map(Vec::len),
        Some(2),
        "{connected}"
    );
    assert_eq!(connected["args"][0]["nsp"], "/");

    clients.send(&json!({"cmd": "disconnect", "sock": "user-2"}));
    let left = clients.expect("socket_disconnected", event("ui", "socket_disconnected"));
    let args = left["args"].as_array().cloned().unwrap_or_default();
    assert_eq!(args.len(), 4, "{left}");
    assert_eq!(args[0], "/");
    assert_eq!(args[1], connected["args"][0]["id"]);
    assert_eq!(args[2], "client namespace disconnect");
}
