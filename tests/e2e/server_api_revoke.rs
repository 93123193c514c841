//! `POST /api/v1/revoke`: a revoked subject's or token id's sockets are disconnected, and the
//! token is refused at CONNECT ("token revoked") and at `auth:refresh` until `until`; other
//! tokens are not affected. Bad input is 400 naming the field.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, SECRET, Server, token};

use crate::gateway;

fn post(server: &Server, body: &Value) -> (u16, Value) {
    server.api("POST", "/api/v1/revoke", Some(body))
}

fn with_jti(sub: &str, jti: &str) -> String {
    let mut claims = token::claims_for(sub, 3600);
    claims["jti"] = json!(jti);
    token::hs256(SECRET.as_bytes(), &claims)
}

#[test]
fn revoked_tokens_are_disconnected_and_refused() {
    let server = gateway().start();
    let mut js = Client::spawn(Lang::Js, &server);
    let mut py = Client::spawn(Lang::Py, &server);
    let with = |t: String| Connect::to(&server).token(Some(t));
    let alice = token::valid("alice");
    js.connected("alice", &with(alice.clone()));
    js.connected("bob", &with(token::valid("bob")));
    py.connected("carol", &with(with_jti("carol", "t-1")));

    // By sub, until as unix seconds.
    let until = token::now_secs() + 3600;
    let (status, body) = post(&server, &json!({"sub": "alice", "until": until}));
    assert_eq!(status, 200, "{body}\n{}", server.context());
    assert_eq!(body["count"], 1, "{body}");
    assert_eq!(
        body["revoked"],
        json!({"sub": "alice", "until": until}),
        "{body}"
    );
    let line = js.expect("alice disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "alice"
    });
    assert_eq!(line["reason"], "io server disconnect", "{line}");
    assert_eq!(js.refused("alice2", &with(alice)), "token revoked");
    assert_eq!(
        js.refused("alice3", &with(token::valid("alice"))),
        "token revoked"
    );
    js.connected("bob2", &with(token::valid("bob")));

    // By jti, until as RFC 3339: carol's socket goes; a token with another jti still works,
    // and refreshing to the revoked one is refused.
    let (status, body) = post(
        &server,
        &json!({"jti": "t-1", "until": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(status, 400, "30-day cap: {body}");
    assert_eq!(body["field"], "until");
    let secs = token::now_secs() + 600;
    let rfc3339 = rfc3339(secs);
    let (status, body) = post(&server, &json!({"jti": "t-1", "until": rfc3339}));
    assert_eq!((status, &body["count"]), (200, &json!(1)), "{body}");
    py.expect("carol disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "carol"
    });
    assert_eq!(
        py.refused("carol2", &with(with_jti("carol", "t-1"))),
        "token revoked"
    );
    py.connected("carol3", &with(with_jti("carol", "t-2")));
    py.emit(
        "carol3",
        "auth:refresh",
        json!([{"token": with_jti("carol", "t-1")}]),
    );
    let error = py.expect_event("carol3", "error");
    assert_eq!(error, [json!({"message": "auth:refresh: token revoked"})]);
}

#[test]
fn revoke_refuses_bad_input_naming_the_field() {
    let server = gateway().start();
    let now = token::now_secs();
    // body, field
    let rows: [(Value, &str); 8] = [
        (json!({"until": now + 60}), "body"),
        (json!({"sub": "a", "jti": "b", "until": now + 60}), "body"),
        (json!({"sub": 5, "until": now + 60}), "sub"),
        (json!({"sub": "a"}), "until"),
        (json!({"sub": "a", "until": now - 1}), "until"),
        (json!({"sub": "a", "until": now + 31 * 86_400}), "until"),
        (json!({"sub": "a", "until": "tomorrow"}), "until"),
        (json!({"sub": "a", "until": 1.5}), "until"),
    ];
    for (body, field) in rows {
        let (status, answer) = post(&server, &body);
        assert_eq!(status, 400, "{body}: {answer}\n{}", server.context());
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
}

/// `secs` as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, as the server's own formatter).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
