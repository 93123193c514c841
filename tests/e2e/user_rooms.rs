//! User rooms: every socket joins `user:{sub}` at connect; clients can neither subscribe to
//! nor leave a user room (`error` "user rooms are server-managed"); a token whose `sub` is not a
//! valid user id is refused at CONNECT; `auth:refresh` refuses a token naming another user.

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, SECRET, token};

use crate::gateway;

#[test]
fn user_rooms_are_server_managed() {
    let server = gateway().start();
    let mut client = Client::spawn(Lang::Js, &server);
    let alice = Connect::to(&server).token(Some(token::valid("alice")));
    client.connected("a", &alice);

    // (event, room): every attempt on a user room, the socket's own included, is refused.
    let attempts = [
        ("subscribe", "user:bob"),
        ("subscribe", "user:alice"),
        ("unsubscribe", "user:alice"),
    ];
    for (event, room) in attempts {
        client.emit("a", event, json!([{ "room": room }]));
        let got = client.expect_event("a", "error");
        let want = format!("{event}: invalid room \"{room}\": user rooms are server-managed");
        assert_eq!(got, [json!({ "message": want })], "{event} {room}");
    }

    // Still in its user room after the refused unsubscribe: a publish to the user reaches it.
    let delivered = server.publish_ok(&json!({
        "event": "system:alert",
        "users": ["alice"],
        "data": {"message": "for alice", "severity": "info"},
    }));
    assert_eq!(delivered, 1, "{}", server.context());
    let got = client.expect_event("a", "system:alert");
    assert_eq!(got[0]["message"], "for alice");
}

#[test]
fn user_rooms_refuse_an_invalid_sub_at_connect() {
    let server = gateway().start();
    let mut client = Client::spawn(Lang::Js, &server);
    // (sub, what the CONNECT_ERROR message must contain)
    let cases = [
        ("has space", "user id may only contain printable ASCII"),
        ("", "user id is empty"),
        (&*"x".repeat(129), "longer than 128"),
    ];
    for (i, (sub, want)) in cases.iter().enumerate() {
        let how = Connect::to(&server).token(Some(token::valid(sub)));
        let message = client.refused(&format!("s{i}"), &how);
        assert!(
            message.contains("invalid \"sub\" claim") && message.contains(want),
            "sub {sub:?}: {message}"
        );
    }
    // A token without `sub` connects (without a user room).
    let claims = json!({"iat": token::now_secs(), "exp": token::now_secs() + 3600});
    let anonymous = token::hs256(SECRET.as_bytes(), &claims);
    client.connected("anon", &Connect::to(&server).token(Some(anonymous)));
}

#[test]
fn user_rooms_refresh_refuses_another_user() {
    let server = gateway().start();
    let mut client = Client::spawn(Lang::Js, &server);
    client.connected(
        "a",
        &Connect::to(&server).token(Some(token::valid("alice"))),
    );
    client.emit(
        "a",
        "auth:refresh",
        json!([{ "token": token::valid("bob") }]),
    );
    let got = client.expect_event("a", "error");
    let message = got[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("auth:refresh: the token names another"),
        "{message}"
    );
    // Still alice's socket.
    let delivered = server.publish_ok(&json!({
        "event": "system:alert",
        "users": ["alice"],
        "data": {"message": "still alice", "severity": "info"},
    }));
    assert_eq!(delivered, 1, "{}", server.context());
}
