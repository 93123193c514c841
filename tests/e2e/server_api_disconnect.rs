//! `POST /api/v1/disconnect`: the matching sockets (by user, socket id or room) get a
//! Socket.IO DISCONNECT, which socket.io-client reports as "io server disconnect" (the reason
//! after which it does not reconnect, even with reconnection on); others stay connected.

use serde_json::{Value, json};

use ringcast_test_support::{API_KEY, Client, Connect, Lang, Metrics, Server, token};

use crate::gateway;

fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    server.api("POST", path, Some(body))
}

#[test]
fn disconnect_by_user_socket_and_room() {
    let server = gateway().start();
    let mut js = Client::spawn(Lang::Js, &server);
    let mut py = Client::spawn(Lang::Py, &server);
    let as_user = |sub: &str| {
        Connect::to(&server)
            .token(Some(token::valid(sub)))
            .options(json!({"reconnection": true, "reconnectionDelay": 50}))
    };
    js.connected("alice", &as_user("alice"));
    let bob = js.connected("bob", &as_user("bob"))["id"].clone();
    py.connected(
        "carol",
        &Connect::to(&server).token(Some(token::valid("carol"))),
    );
    js.connected("dave", &as_user("dave"));
    py.subscribe("carol", "task:3");

    // body, the socket that goes, its client
    let rows: [(Value, &str, bool); 3] = [
        (
            json!({"users": ["alice"], "reason": "signed out"}),
            "alice",
            true,
        ),
        (json!({"sockets": [bob]}), "bob", true),
        (json!({"rooms": ["task:3"]}), "carol", false),
    ];
    for (body, sock, on_js) in rows {
        let (status, answer) = post(&server, "/api/v1/disconnect", &body);
        assert_eq!(status, 200, "{body}: {answer}\n{}", server.context());
        assert_eq!(answer["count"], 1, "{body}: {answer}");
        let client = if on_js { &mut js } else { &mut py };
        let line = client.expect(&format!("{sock} disconnected"), |v| {
            v["type"] == "disconnect" && v["sock"] == sock
        });
        if on_js {
            assert_eq!(line["reason"], "io server disconnect", "{line}");
        }
    }
    let (status, answer) = post(&server, "/api/v1/disconnect", &json!({"users": ["alice"]}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["reason"], "server API", "{answer}");
    // dave was never targeted: still there.
    let resp = server.request(
        "GET",
        "/api/v1/users/dave",
        &[("Authorization", &format!("Bearer {API_KEY}"))],
        b"",
    );
    assert_eq!(
        resp.json()["sockets"].as_array().map(Vec::len),
        Some(1),
        "{resp:?}"
    );
}

#[test]
fn disconnect_refuses_bad_input_naming_the_field() {
    let server = gateway().start();
    // body, field
    let rows: [(Value, &str); 6] = [
        (json!({"reason": "x"}), "body"),
        (json!({"users": ["a"], "rooms": ["task:1"]}), "body"),
        (json!({"rooms": ["nope"]}), "rooms"),
        (json!({"users": ["a"], "reason": 5}), "reason"),
        (json!({"users": ["a"], "reason": "x".repeat(300)}), "reason"),
        (json!({"sockets": "abc"}), "sockets"),
    ];
    for (body, field) in rows {
        let (status, answer) = post(&server, "/api/v1/disconnect", &body);
        assert_eq!(status, 400, "{body}: {answer}\n{}", server.context());
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let m = Metrics::scrape(&server);
    let key = r#"ringcast_server_api_requests_total{endpoint="disconnect",status="400"}"#;
    assert_eq!(m.or_zero(key), 6.0, "{}", m.text());
}

#[test]
fn a_disconnected_session_is_not_kept_for_recovery() {
    let server = gateway().args(["--recovery", "true"]).start();
    let mut js = Client::spawn(Lang::Js, &server);
    js.connected(
        "alice",
        &Connect::to(&server).token(Some(token::valid("alice"))),
    );
    let (status, answer) = post(&server, "/api/v1/disconnect", &json!({"users": ["alice"]}));
    assert_eq!((status, &answer["count"]), (200, &json!(1)), "{answer}");
    let line = js.expect("alice disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "alice"
    });
    assert_eq!(line["reason"], "io server disconnect", "{line}");
    // The save decision is taken as the socket is disconnected, before its DISCONNECT is
    // written: by the time the client has it, a saved session would be counted.
    let m = Metrics::scrape(&server);
    assert_eq!(
        m.or_zero("ringcast_recovery_sessions_saved_total"),
        0.0,
        "{}",
        m.text()
    );
    let key = r#"ringcast_server_api_requests_total{endpoint="disconnect",status="200"}"#;
    assert_eq!(m.or_zero(key), 1.0, "{}", m.text());
}
