//! CONNECT auth: every kind of bad token is refused with `connect_error` and a message, in both
//! stock clients, and the server keeps serving good tokens afterwards.

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, Server, token};

use crate::gateway;

/// A refused token: socket name, the auth object (`None`: no auth at all), accepted messages.
type Case = (
    &'static str,
    Option<serde_json::Value>,
    &'static [&'static str],
);

fn cases() -> Vec<Case> {
    let token = |t: String| Some(json!({ "token": t }));
    vec![
        ("missing", None, &["missing token"]),
        ("empty_auth", Some(json!({})), &["missing token"]),
        ("expired", token(token::expired()), &["token expired"]),
        (
            "tampered",
            token(token::tampered(
                &token::good(),
                &json!({"sub": "admin", "exp": token::now_secs() + 3600}),
            )),
            &["invalid signature"],
        ),
        // jsonwebtoken cannot even parse `none`, so either word is honest
        (
            "alg_none",
            token(token::alg_none()),
            &["algorithm not allowed", "invalid token"],
        ),
        ("garbage", token("not-a-jwt".into()), &["invalid token"]),
    ]
}

fn refuse_all(lang: Lang, server: &Server, cases: &[Case]) {
    let mut client = Client::spawn(lang, server);
    for (sock, auth, messages) in cases {
        let how = match auth {
            Some(auth) => Connect::to(server).auth(auth.clone()),
            None => Connect::to(server).token(None),
        };
        let message = client.refused(sock, &how);
        if !messages.contains(&message.as_str()) {
            client.fail(&format!(
                "{sock}: connect_error message {message:?}, expected one of {messages:?}"
            ));
        }
    }
    // the refusals did not hurt the server: a good token still connects
    client.connected("good", &Connect::to(server));
}

#[test]
fn auth_bad_tokens_refused_js() {
    let server = gateway().start();
    refuse_all(Lang::Js, &server, &cases());
}

#[test]
fn auth_bad_tokens_refused_python() {
    let server = gateway().start();
    refuse_all(Lang::Py, &server, &cases());
}

/// RFC 8725 §2.1: a server configured for RS256 must not verify an HS256 token with its public
/// key as the HMAC secret. The control: a real RS256 token connects to the same server.
fn algorithm_confusion(lang: Lang) {
    let server = gateway()
        .public_key(token::key_file("rsa_public.pem"), Some("RS256"))
        .start();
    let mut client = Client::spawn(lang, &server);
    client.connected(
        "rs256",
        &Connect::to(&server).token(Some(token::rs256_valid())),
    );
    let message = client.refused(
        "confused",
        &Connect::to(&server).token(Some(token::hs256_with_rsa_public_key())),
    );
    let accepted = [
        "algorithm not allowed",
        "invalid token",
        "invalid signature",
    ];
    if !accepted.contains(&message.as_str()) {
        client.fail(&format!(
            "connect_error message {message:?}, expected one of {accepted:?}"
        ));
    }
}

#[test]
fn auth_hs256_signed_with_rsa_public_key_refused_js() {
    algorithm_confusion(Lang::Js);
}

#[test]
fn auth_hs256_signed_with_rsa_public_key_refused_python() {
    algorithm_confusion(Lang::Py);
}
