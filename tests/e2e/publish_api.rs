//! `POST /api/v1/emit`: 401 JSON for a wrong or missing key, 400 JSON `{error, field}` for a bad
//! body (and nothing delivered), 200 `{delivered}` for good ones; array bodies; `timestamp`
//! filled only when absent.

use serde_json::{Value, json};

use ringcast_test_support::Response;
use ringcast_test_support::{API_KEY, Client, Connect, Lang};

use crate::gateway;

fn alert(message: &str) -> Value {
    json!({"event": "system:alert", "data": {"message": message, "severity": "info"}})
}

fn assert_json(resp: &Response) {
    let ct = resp.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "Content-Type {ct:?}: {resp:?}"
    );
}

#[test]
fn publish_api_rejects_wrong_keys_with_401_json() {
    let server = gateway().start();
    let body = alert("x").to_string();
    let bearer_wrong = "Bearer wrong-key".to_owned();
    let basic = format!("Basic {API_KEY}");
    let bare = API_KEY.to_owned();
    // Authorization header: none, a wrong key, another scheme, the key without a scheme
    let cases: [Option<&str>; 4] = [None, Some(&bearer_wrong), Some(&basic), Some(&bare)];
    for auth in cases {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let resp = server.post("/api/v1/emit", &headers, body.as_bytes());
        assert_eq!(
            resp.status,
            401,
            "Authorization {auth:?}: {resp:?}\n{}",
            server.context()
        );
        assert_json(&resp);
        assert!(
            resp.json()["error"].is_string(),
            "Authorization {auth:?}: {resp:?}"
        );
    }
}

#[test]
fn publish_api_rejects_bad_bodies_with_400_json() {
    let server = gateway().start();
    let mut client = Client::spawn(Lang::Js, &server);
    client.connected("s", &Connect::to(&server));

    // body, a word the `field` must contain (None: any field, or null)
    let cases: Vec<(String, Option<&str>)> = vec![
        ("not json".into(), None),
        ("".into(), None),
        ("42".into(), None),
        (json!({"data": {"message": "m", "severity": "info"}}).to_string(), Some("event")),
        (json!({"event": "nope:x", "data": {}}).to_string(), Some("event")),
        (json!({"event": "agent:status_changed"}).to_string(), Some("data")),
        (json!({"event": "agent:status_changed", "data": "x"}).to_string(), Some("data")),
        (json!({"event": "agent:status_changed", "data": {"old_status": "a", "new_status": "b"}}).to_string(), Some("agent_id")),
        (json!({"event": "task:assigned", "data": {"task_id": "1", "task": {}}}).to_string(), Some("agent_id")),
        (json!({"event": "task:updated", "data": {"task_id": "1"}}).to_string(), Some("update")),
        (json!({"event": "conversation:message", "data": {"message": {}}}).to_string(), Some("conversation_id")),
        (json!({"event": "system:alert", "data": {"message": "m"}}).to_string(), Some("severity")),
        (json!({"event": "system:alert", "rooms": ["bad room"], "data": {"message": "m", "severity": "info"}}).to_string(), Some("rooms")),
        (json!([alert("first"), {"event": "bad"}]).to_string(), Some("event")),
        (json!({"event": "system:alert", "rooms": ["user:alice"], "data": {"message": "m", "severity": "info"}}).to_string(), Some("rooms[0]")),
        (json!({"event": "system:alert", "users": ["alice", "a b"], "data": {"message": "m", "severity": "info"}}).to_string(), Some("users[1]")),
        (json!({"event": "system:alert", "users": [], "data": {"message": "m", "severity": "info"}}).to_string(), Some("users")),
        (json!({"event": "system:alert", "sockets": ["not-a-sid"], "data": {"message": "m", "severity": "info"}}).to_string(), Some("sockets[0]")),
        (json!({"event": "system:alert", "except_rooms": ["dashboard", "user:bob"], "data": {"message": "m", "severity": "info"}}).to_string(), Some("except_rooms[1]")),
        (json!({"event": "system:alert", "except_users": [42], "data": {"message": "m", "severity": "info"}}).to_string(), Some("except_users")),
        (json!({"event": "system:alert", "except_sockets": "x", "data": {"message": "m", "severity": "info"}}).to_string(), Some("except_sockets")),
    ];
    for (body, field) in &cases {
        let resp = server.post(
            "/api/v1/emit",
            &[
                ("Authorization", &format!("Bearer {API_KEY}")),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        );
        assert_eq!(
            resp.status,
            400,
            "body {body}: {resp:?}\n{}",
            server.context()
        );
        assert_json(&resp);
        let json = resp.json();
        assert!(
            json["error"].is_string(),
            "body {body}: no error string in {json}"
        );
        if let Some(field) = field {
            let got = json["field"].as_str().unwrap_or_default();
            assert!(
                got.contains(field),
                "body {body}: field {:?} should name {field}",
                json["field"]
            );
        }
    }
    // Bodies that are valid JSON with a wrong type or too many items: the error says which
    // field and what is wrong with it, never "invalid JSON".
    let typed: Vec<(String, &str, &str)> = vec![
        (
            json!({"event": "agent:heartbeat", "data": {"agent_id": "1", "timestamp": 5}})
                .to_string(),
            "data.timestamp",
            "ISO 8601 date-time string",
        ),
        (
            json!({"event": "agent:heartbeat", "data": {"agent_id": "1", "timestamp": "keep-me"}})
                .to_string(),
            "data.timestamp",
            "ISO 8601 date-time string",
        ),
        (
            json!({"event": "system:alert", "data": {"message": "m", "severity": 3}}).to_string(),
            "data.severity",
            "must be a string",
        ),
        (
            json!(vec![alert("many"); 1001]).to_string(),
            "body",
            "more than 1000 events",
        ),
    ];
    for (body, field, says) in &typed {
        let resp = server.publish_with_key(API_KEY, body.as_bytes());
        assert_eq!(resp.status, 400, "body {body}: {resp:?}");
        let json = resp.json();
        assert_eq!(json["field"], *field, "{json}");
        let error = json["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says) && !error.contains("invalid JSON"),
            "{field}: {json}"
        );
    }
    // None of the rejected bodies (the array's good first item included) reached the socket.
    assert_eq!(server.publish_ok(&alert("end")), 1, "{}", server.context());
    let got = client.expect_event("s", "system:alert");
    if got[0]["message"] != "end" {
        client.fail(&format!("a rejected publish was delivered: {got:?}"));
    }
}

#[test]
fn publish_api_delivers_objects_and_arrays() {
    let server = gateway().start();
    let mut client = Client::spawn(Lang::Js, &server);
    client.connected("s", &Connect::to(&server));

    // explicit timestamp kept as is
    let given = json!({"event": "system:alert",
                       "data": {"message": "m0", "severity": "info", "timestamp": "2026-01-02T03:04:05Z"}});
    let resp = server.publish(&given);
    assert_eq!(resp.status, 200, "{resp:?}\n{}", server.context());
    assert_eq!(resp.json()["delivered"], 1, "{resp:?}");
    let got = client.expect_event("s", "system:alert");
    assert_eq!(
        got,
        [json!({"message": "m0", "severity": "info", "timestamp": "2026-01-02T03:04:05Z"})]
    );

    // an array publishes each item, in order
    let resp = server.publish(&json!([alert("m1"), alert("m2")]));
    assert_eq!(resp.status, 200, "{resp:?}\n{}", server.context());
    assert!(resp.json()["delivered"].is_u64(), "{resp:?}");
    for want in ["m1", "m2"] {
        let got = client.expect_event("s", "system:alert");
        assert_eq!(got[0]["message"], want, "{got:?}");
        assert!(
            !got[0]["timestamp"].is_null(),
            "timestamp not filled: {got:?}"
        );
    }
}
