//! `GET /api/v1/rooms/{room}`: the room's socket count and its distinct users (the tokens'
//! `sub`s) from socket.io-client and python-socketio sockets, paginated by `limit` and
//! `cursor`; an empty room is 200 with nothing in it; bad input is 400 naming the field.

use serde_json::{Value, json};

use ringcast_test_support::{API_KEY, Client, Connect, Lang, Server, token};

use crate::gateway;

fn get(server: &Server, path: &str) -> (u16, Value) {
    server.api("GET", path, None)
}

#[test]
fn room_info_counts_sockets_and_pages_users() {
    let server = gateway().start();
    let mut js = Client::spawn(Lang::Js, &server);
    let mut py = Client::spawn(Lang::Py, &server);
    // alice twice (two tabs), bob once on Node; carol on Python; dave connected but elsewhere.
    for (sock, sub) in [
        ("a1", "alice"),
        ("a2", "alice"),
        ("b", "bob"),
        ("d", "dave"),
    ] {
        js.connected(sock, &Connect::to(&server).token(Some(token::valid(sub))));
    }
    py.connected(
        "c",
        &Connect::to(&server).token(Some(token::valid("carol"))),
    );
    for sock in ["a1", "a2", "b"] {
        js.subscribe(sock, "task:1");
    }
    py.subscribe("c", "task:1");

    // query, sockets, users, next_cursor
    let rows: [(&str, u64, Value, Value); 4] = [
        ("", 4, json!(["alice", "bob", "carol"]), Value::Null),
        ("?limit=2", 4, json!(["alice", "bob"]), json!("bob")),
        ("?limit=2&cursor=bob", 4, json!(["carol"]), Value::Null),
        ("?cursor=carol", 4, json!([]), Value::Null),
    ];
    for (query, sockets, users, next) in rows {
        let (status, body) = get(&server, &format!("/api/v1/rooms/task:1{query}"));
        assert_eq!(status, 200, "{query}: {body}\n{}", server.context());
        assert_eq!(body["room"], "task:1", "{query}: {body}");
        assert_eq!(body["sockets"], sockets, "{query}: {body}");
        assert_eq!(body["users"], users, "{query}: {body}");
        assert_eq!(body["next_cursor"], next, "{query}: {body}");
        assert_eq!(body["nodes_answered"], 1, "{query}: {body}");
        assert_eq!(body["complete"], true, "{query}: {body}");
    }
    // Everyone is in dashboard; nobody is in task:2 (200, empty: not an error).
    let (status, body) = get(&server, "/api/v1/rooms/dashboard");
    assert_eq!((status, &body["sockets"]), (200, &json!(5)), "{body}");
    assert_eq!(body["users"], json!(["alice", "bob", "carol", "dave"]));
    let (status, body) = get(&server, "/api/v1/rooms/task:2");
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["sockets"], &body["users"]), (&json!(0), &json!([])));
}

#[test]
fn room_info_refuses_bad_input_naming_the_field() {
    let server = gateway().start();
    // path and query, status, field
    let rows: [(&str, u16, &str); 7] = [
        ("/api/v1/rooms/nope", 400, "room"),
        ("/api/v1/rooms/task:bad%20id", 400, "room"),
        ("/api/v1/rooms/task:1?limit=0", 400, "limit"),
        ("/api/v1/rooms/task:1?limit=1001", 400, "limit"),
        ("/api/v1/rooms/task:1?limit=ten", 400, "limit"),
        ("/api/v1/rooms/task:1?cursor=", 400, "cursor"),
        ("/api/v1/rooms/task:1?page=2", 400, "query"),
    ];
    for (path, want, field) in rows {
        let (status, body) = get(&server, path);
        assert_eq!(status, want, "{path}: {body}\n{}", server.context());
        assert_eq!(body["field"], field, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let resp = server.get("/api/v1/rooms/task:1");
    assert_eq!(resp.status, 401, "no key: {resp:?}");
    let auth = format!("Bearer {API_KEY}");
    let resp = server.request(
        "POST",
        "/api/v1/rooms/task:1",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(resp.status, 405, "POST: {resp:?}");
    assert_eq!(resp.header("allow"), Some("GET"), "{resp:?}");
}
