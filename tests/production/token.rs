//! `ringcast token`: what it prints is a token the server accepts, for a stock client.

use base64::Engine as _;
use serde_json::{Value, json};

use ringcast_test_support::{SECRET, Server, cli, repo};

use crate::{gateway, node, ringcast};

/// The claims of a compact JWS (RFC 7515 §7.1: base64url segments, the second the payload).
fn claims(token: &str) -> Value {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(
        segments.len(),
        3,
        "a compact JWS has three segments: {token:?}"
    );
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segments[1])
        .unwrap_or_else(|e| panic!("payload of {token:?} is not base64url: {e}"));
    serde_json::from_slice(&payload).unwrap_or_else(|e| panic!("payload is not JSON: {e}"))
}

/// `ringcast <args>`, asserting success and one line of output: the token.
fn mint(args: &[&str]) -> String {
    let out = cli::run(ringcast(), args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ringcast {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    stdout.trim().to_owned()
}

/// Connects a stock client with `token`; returns its first `connect` or `connect_error` line.
fn try_connect(server: &Server, token: &str) -> Value {
    let mut client = node("clients.js", &[]);
    client.watch(server);
    client.expect("ready", |v| v["type"] == "ready");
    client.send(
        &json!({"cmd": "connect", "sock": "t", "url": server.url(), "path": "/ws/",
                        "token": token, "transports": ["websocket"]}),
    );
    client.expect("connect or connect_error", |v| {
        v["type"] == "connect" || v["type"] == "connect_error"
    })
}

#[test]
fn minted_hs256_token_connects_a_stock_client() {
    let token = mint(&[
        "token",
        "--jwt-secret",
        SECRET,
        "--sub",
        "alice",
        "--ttl",
        "1h",
        "--claim",
        "role=admin",
    ]);
    let c = claims(&token);
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["role"], "admin");
    let (iat, exp) = (c["iat"].as_u64(), c["exp"].as_u64());
    assert!(iat.is_some() && exp.is_some(), "iat and exp: {c}");
    assert_eq!(exp.unwrap_or(0) - iat.unwrap_or(0), 3600, "--ttl 1h: {c}");

    let server = gateway().start();
    let got = try_connect(&server, &token);
    assert_eq!(got["type"], "connect", "{got}");
    // The signature is what the server checks: the same claims under another secret fail.
    let forged = mint(&[
        "token",
        "--jwt-secret",
        "another-secret-0123456789abcdef0123456789",
        "--sub",
        "alice",
        "--ttl",
        "1h",
        "--claim",
        "role=admin",
    ]);
    let got = try_connect(&server, &forged);
    assert_eq!(got["type"], "connect_error", "{got}");
    assert_eq!(got["message"], "invalid signature");
}

#[test]
fn minted_rs256_token_connects_to_a_server_holding_only_the_public_key() {
    let keys = repo().join("tests/fixtures/keys");
    let public = keys.join("rsa_public.pem").display().to_string();
    let private = keys.join("rsa_private.pem").display().to_string();
    let token = mint(&[
        "token",
        "--jwt-public-key-file",
        &public,
        "--jwt-private-key-file",
        &private,
        "--sub",
        "alice",
        "--ttl",
        "1h",
        "--claim",
        "role=admin",
    ]);
    assert_eq!(claims(&token)["role"], "admin");
    let server = gateway().public_key(public, None).start();
    let got = try_connect(&server, &token);
    assert_eq!(got["type"], "connect", "{got}");
}
