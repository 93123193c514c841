//! `GET /api/v1/users/{sub}`: every socket whose token names the user, with its rooms,
//! transport, connect time and node, from a socket.io-client (websocket) and a
//! python-socketio (polling) socket; a user with no socket is 200 with none.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, Server, token};

use crate::gateway;

fn get(server: &Server, path: &str) -> (u16, Value) {
    server.api("GET", path, None)
}

#[test]
fn user_info_lists_the_users_sockets_on_every_client() {
    let server = gateway().start();
    let mut js = Client::spawn(Lang::Js, &server);
    let mut py = Client::spawn(Lang::Py, &server);
    let alice = || Connect::to(&server).token(Some(token::valid("alice")));
    let ws = js.connected("ws", &alice().transports(&["websocket"]))["id"].clone();
    let polling = py.connected("poll", &alice().transports(&["polling"]))["id"].clone();
    js.connected(
        "other",
        &Connect::to(&server).token(Some(token::valid("bob"))),
    );
    js.subscribe("ws", "agent:7");

    let (status, body) = get(&server, "/api/v1/users/alice");
    assert_eq!(status, 200, "{body}\n{}", server.context());
    assert_eq!(body["sub"], "alice");
    assert_eq!(
        (&body["nodes_answered"], &body["complete"]),
        (&json!(1), &json!(true))
    );
    let sockets = body["sockets"].as_array().cloned().unwrap_or_default();
    assert_eq!(sockets.len(), 2, "{body}");
    let find = |id: &Value| sockets.iter().find(|s| &s["id"] == id).cloned();
    let ws = find(&ws).unwrap_or_else(|| panic!("websocket socket missing: {body}"));
    let polling = find(&polling).unwrap_or_else(|| panic!("polling socket missing: {body}"));
    assert_eq!(ws["transport"], "websocket", "{ws}");
    assert_eq!(polling["transport"], "polling", "{polling}");
    let mut rooms: Vec<String> = serde_json::from_value(ws["rooms"].clone()).unwrap_or_default();
    rooms.sort();
    assert_eq!(rooms, ["agent:7", "dashboard"], "{ws}");
    assert_eq!(polling["rooms"], json!(["dashboard"]), "{polling}");
    for s in [&ws, &polling] {
        assert_eq!(s["node"], "local", "{s}");
        // RFC 3339 UTC with milliseconds: 2026-12-04T13:41:11.123Z.
        let at = s["connected_at"].as_str().unwrap_or_default();
        assert!(
            at.len() == 24
                && at.ends_with('Z')
                && at.as_bytes()[10] == b'T'
                && at.as_bytes()[19] == b'.',
            "connected_at {at:?}"
        );
    }

    let (status, body) = get(&server, "/api/v1/users/nobody");
    assert_eq!((status, &body["sockets"]), (200, &json!([])), "{body}");
    let long = "x".repeat(257);
    let (status, body) = get(&server, &format!("/api/v1/users/{long}"));
    assert_eq!((status, &body["field"]), (400, &json!("sub")), "{body}");
    let (status, body) = get(&server, "/api/v1/users/%ff");
    assert_eq!((status, &body["field"]), (400, &json!("sub")), "{body}");
}
