//! The Socket.IO admin UI itself (`@socket.io/admin-ui` 0.5.1's static build, served from its
//! npm package on another origin) in headless Chromium: a person's login through its form, its
//! socket and room lists showing a real `/` client, and its disconnect button reaching that
//! client. ringcast allows the UI's origin with credentials (`--admin-origin`): the UI starts on
//! long-polling with `withCredentials: true`, which the browser refuses without them.

use serde_json::{Value, json};

use ringcast_test_support::{Proc, unique};

use crate::admin_ui::{HASH, PASSWORD, client, clients, event};
use crate::{gateway, node};

/// The view's visible text, once it holds every one of `needles` (the UI fills its lists as
/// `all_sockets` and the room events arrive, after the login).
fn view_showing(ui: &mut Proc, view: &str, needles: &[&str]) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        ui.send(&json!({"cmd": "text", "view": view}));
        let shown = ui.expect(&format!("the {view} view"), |v: &Value| {
            v["type"] == "text" && v["view"] == view
        });
        text = shown["text"].as_str().unwrap_or_default().to_owned();
        if needles.iter().all(|n| text.contains(n)) {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the {view} view never showed {needles:?}; it shows:\n{text}");
}

#[test]
fn the_ui_lists_a_client_and_its_rooms_and_disconnects_it() {
    let mut ui = node("admin_ui.js", &[]);
    let statics = ui.expect("the UI's origin", |v| v["type"] == "static");
    let origin = statics["origin"].as_str().unwrap_or_default().to_owned();
    let server = gateway()
        .args(["--admin-ui", "true", "--admin-password-hash", HASH])
        .args([
            "--admin-mode",
            "development",
            "--admin-origin",
            origin.as_str(),
        ])
        .start();
    ui.watch(&server);
    let mut clients = clients(&server);
    let id = client(&mut clients, &server, "user-1");
    let room = format!("task:{}", unique("ui-"));
    clients.send(
        &json!({"cmd": "emit", "sock": "user-1", "event": "subscribe",
                         "args": [{"room": room}]}),
    );
    clients.expect("subscribed", event("user-1", "subscribed"));

    ui.send(
        &json!({"cmd": "login", "server": server.url(), "username": "admin",
                    "password": PASSWORD}),
    );
    ui.expect("the UI connected", |v| v["type"] == "connected");
    view_showing(&mut ui, "sockets", &[&id]);
    view_showing(&mut ui, "rooms", &["dashboard", &room]);

    ui.send(&json!({"cmd": "disconnect", "nsp": "/", "id": id}));
    ui.expect("the button clicked", |v| v["type"] == "clicked");
    let gone = clients.expect("user-1 disconnect", |v| {
        v["type"] == "disconnect" && v["sock"] == "user-1"
    });
    assert_eq!(gone["reason"], "io server disconnect", "{gone}");
}
