//! `POST /api/v1/rooms/{room}/join` and `/leave`: the server puts sockets (by user or by
//! socket id) in a room and takes them out; each client is told `subscribed` / `unsubscribed`
//! as if it had asked, and broadcasts to the room reach exactly the sockets it holds.

use serde_json::{Value, json};

use ringcast_test_support::{API_KEY, Client, Connect, Lang, Server, token};

use crate::gateway;

fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    server.api("POST", path, Some(body))
}

fn alert(room: &str) -> Value {
    json!({"event": "system:alert", "rooms": [room], "data": {"message": "m", "severity": "info"}})
}

#[test]
fn server_join_and_leave_tell_the_clients_and_route_broadcasts() {
    let server = gateway().start();
    let mut js = Client::spawn(Lang::Js, &server);
    let mut py = Client::spawn(Lang::Py, &server);
    let as_user = |sub: &str| Connect::to(&server).token(Some(token::valid(sub)));
    let a1 = js.connected("a1", &as_user("alice"))["id"].clone();
    let a2 = js.connected("a2", &as_user("alice"))["id"].clone();
    let b = py.connected("b", &as_user("bob"))["id"].clone();

    // By user: both of alice's sockets, not bob's.
    let (status, body) = post(
        &server,
        "/api/v1/rooms/task:9/join",
        &json!({"users": ["alice"]}),
    );
    assert_eq!(status, 200, "{body}\n{}", server.context());
    let mut want = vec![a1.clone(), a2.clone()];
    want.sort_by_key(|v| v.as_str().map(str::to_owned));
    assert_eq!(body["sockets"], Value::Array(want), "{body}");
    assert_eq!(
        (&body["count"], &body["room"]),
        (&json!(2), &json!("task:9"))
    );
    assert_eq!(
        (&body["nodes_answered"], &body["complete"]),
        (&json!(1), &json!(true))
    );
    for sock in ["a1", "a2"] {
        assert_eq!(
            js.expect_event(sock, "subscribed"),
            [json!({"room": "task:9"})]
        );
    }
    assert_eq!(server.publish_ok(&alert("task:9")), 2);

    // By socket id, on the Python client.
    let (status, body) = post(
        &server,
        "/api/v1/rooms/task:9/join",
        &json!({"sockets": [b]}),
    );
    assert_eq!((status, &body["count"]), (200, &json!(1)), "{body}");
    assert_eq!(
        py.expect_event("b", "subscribed"),
        [json!({"room": "task:9"})]
    );
    assert_eq!(server.publish_ok(&alert("task:9")), 3);

    // Leave: a1 and bob out, a2 stays.
    let (status, body) = post(
        &server,
        "/api/v1/rooms/task:9/leave",
        &json!({"sockets": [a1, b]}),
    );
    assert_eq!((status, &body["count"]), (200, &json!(2)), "{body}");
    assert_eq!(
        js.expect_event("a1", "unsubscribed"),
        [json!({"room": "task:9"})]
    );
    assert_eq!(
        py.expect_event("b", "unsubscribed"),
        [json!({"room": "task:9"})]
    );
    assert_eq!(server.publish_ok(&alert("task:9")), 1);

    // Nobody matches: 200, nothing applied.
    let (status, body) = post(
        &server,
        "/api/v1/rooms/task:9/join",
        &json!({"users": ["nobody"]}),
    );
    assert_eq!(
        (status, &body["count"], &body["sockets"]),
        (200, &json!(0), &json!([])),
        "{body}"
    );
}

#[test]
fn join_and_leave_refuse_bad_input_naming_the_field() {
    let server = gateway().start();
    // path, body, status, field
    let rows: [(&str, Value, u16, &str); 8] = [
        ("/api/v1/rooms/task:1/join", json!({}), 400, "body"),
        ("/api/v1/rooms/task:1/join", json!([]), 400, "body"),
        (
            "/api/v1/rooms/task:1/join",
            json!({"sockets": []}),
            400,
            "sockets",
        ),
        (
            "/api/v1/rooms/task:1/join",
            json!({"sockets": ["not an id"]}),
            400,
            "sockets",
        ),
        (
            "/api/v1/rooms/task:1/leave",
            json!({"users": [7]}),
            400,
            "users",
        ),
        (
            "/api/v1/rooms/task:1/join",
            json!({"users": ["a"], "sockets": ["b"]}),
            400,
            "body",
        ),
        (
            "/api/v1/rooms/task:1/join",
            json!({"rooms": ["task:2"]}),
            400,
            "body",
        ),
        (
            "/api/v1/rooms/bad/join",
            json!({"users": ["a"]}),
            400,
            "room",
        ),
    ];
    for (path, body, want, field) in rows {
        let (status, answer) = post(&server, path, &body);
        assert_eq!(
            status,
            want,
            "{path} {body}: {answer}\n{}",
            server.context()
        );
        assert_eq!(answer["field"], field, "{path} {body}: {answer}");
    }
    let auth = format!("Bearer {API_KEY}");
    let resp = server.request(
        "GET",
        "/api/v1/rooms/task:1/join",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(resp.status, 405, "{resp:?}");
    assert_eq!(resp.header("allow"), Some("POST"), "{resp:?}");
}
