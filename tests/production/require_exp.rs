//! `jwt_require_exp = false`: a start-up WARN naming the setting; a token without `exp` connects
//! (and is not disconnected for expiry), a token whose `exp` has passed is still refused. With
//! the default, a token without `exp` is refused.

use std::time::Instant;

use serde_json::json;

use ringcast_test_support::raw::{self, SOON};
use ringcast_test_support::{SECRET, token};

use crate::gateway;

/// (require_exp flag, claims, the CONNECT answer's start)
fn cases() -> Vec<(&'static str, serde_json::Value, &'static str)> {
    let expired = token::claims(-token::HOUR);
    vec![
        ("false", json!({"sub": "migrated-user"}), "40{\"sid\""),
        ("false", expired.clone(), r#"44{"message":"token expired"}"#),
        ("false", token::claims(token::HOUR), "40{\"sid\""),
        (
            "true",
            json!({"sub": "migrated-user"}),
            r#"44{"message":"invalid token"}"#,
        ),
        ("true", expired, r#"44{"message":"token expired"}"#),
    ]
}

#[test]
fn tokens_without_exp_are_accepted_only_when_exp_is_not_required() {
    let mut lenient = gateway().args(["--jwt-require-exp", "false"]).start();
    lenient.wait_log("jwt_require_exp");
    let line = lenient
        .log_lines()
        .into_iter()
        .find(|l| l.get("setting") == Some("jwt_require_exp"))
        .unwrap_or_else(|| lenient.fail("no line naming jwt_require_exp"));
    assert_eq!(line.level, "WARN", "{line:?}");
    let strict = gateway().start();
    assert!(
        !strict.log_text().contains("jwt_require_exp"),
        "the default does not warn"
    );
    for (require, claims, want) in cases() {
        let server = if require == "false" {
            &lenient
        } else {
            &strict
        };
        let mut eio = raw::Eio::open(server.addr).unwrap_or_else(|e| server.fail(&e));
        let jwt = token::hs256(SECRET.as_bytes(), &claims);
        let answer = eio
            .connect(&format!(r#"{{"token":"{jwt}"}}"#))
            .unwrap_or_else(|e| server.fail(&e));
        assert!(
            answer.starts_with(want),
            "--jwt-require-exp {require}, {claims}: {answer}"
        );
        if want.starts_with("40") {
            // The socket works: a heartbeat is answered.
            eio.ws
                .send_text(r#"42["heartbeat",{"timestamp":1}]"#)
                .unwrap_or_else(|e| server.fail(&e));
            eio.ws
                .wait_text(Instant::now() + SOON, |t| t.contains("heartbeat_ack"))
                .unwrap_or_else(|e| server.fail(&e));
        }
    }
}
