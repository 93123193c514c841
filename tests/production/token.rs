//! `ringcast token`: what it prints is a token the server accepts, for a stock client.

use base64::Engine as _;
use serde_json::{Value, json};

use std::os::unix::fs::PermissionsExt as _;

use ringcast_test_support::{
    Client, Connect, Lang, Launch, SECRET, Server, cli, http, repo, unique,
};

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

/// `ringcast token` with `--ttl -5m`: a token that expired five minutes ago, which the server
/// refuses as expired (beyond its 30 s leeway).
#[test]
fn negative_ttl_mints_an_expired_token() {
    let token = mint(&[
        "token",
        "--jwt-secret",
        SECRET,
        "--sub",
        "alice",
        "--ttl",
        "-5m",
    ]);
    let c = claims(&token);
    let (iat, exp) = (c["iat"].as_i64(), c["exp"].as_i64());
    assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(-300), "{c}");
    let server = gateway().start();
    let got = try_connect(&server, &token);
    assert_eq!(got["type"], "connect_error", "{got}");
    assert_eq!(got["message"], "token expired");
}

#[test]
fn token_help_shows_only_its_own_flags() {
    let out = cli::run(ringcast(), &["token", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--sub ",
        "--ttl ",
        "--claim ",
        "--dev",
        "--jwt-secret ",
        "--config ",
    ] {
        assert!(help.contains(flag), "token --help lacks {flag}\n{help}");
    }
    for flag in [
        "--workers",
        "--listen",
        "--max-payload",
        "--redis-url",
        "--log-level",
    ] {
        assert!(!help.contains(flag), "token --help lists {flag}\n{help}");
    }
}

/// Dev mode end to end: the server saves its secret (file 0600 in a 0700 directory), `ringcast
/// token --dev` mints a token with it, and under `room_policy = "claims"` that token's socket
/// is in `dashboard` (it receives a `system:alert` published with the printed dev API key).
#[test]
fn dev_mode_saves_its_secret_and_token_dev_mints_a_working_token() {
    let state = std::env::temp_dir().join(unique("ringcast-state"));
    let dir = state.join("nested");
    let dir_text = dir.display().to_string();
    let mut server = Launch::new(ringcast())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--room-policy",
            "claims",
        ])
        .env("RINGCAST_STATE_DIR", &dir_text)
        .name("dev-mode ringcast")
        .start();
    server.wait_log("dev API key: ");
    let log = server.log_text();
    let api_key = log
        .lines()
        .find_map(|l| l.split("dev API key: ").nth(1))
        .map(str::trim)
        .unwrap_or_else(|| server.fail("no dev API key printed"))
        .to_owned();
    let file = dir.join("dev-jwt-secret");
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    assert_eq!(mode(&file), 0o600, "the secret file");
    assert_eq!(mode(&dir), 0o700, "its directory");

    let out = cli::run_with_env(
        ringcast(),
        &["token", "--dev", "--sub", "bob"],
        &[("RINGCAST_STATE_DIR", &dir_text)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(claims(&token)["rooms"], json!(["*"]));

    let mut client = Client::spawn(Lang::Js, &server);
    client.connected("s", &Connect::to(&server).token(Some(token)));
    let alert = json!({"event": "system:alert", "data": {"message": "dev", "severity": "info"}});
    let resp = http::publish_with_key(server.addr, &api_key, alert.to_string().as_bytes())
        .unwrap_or_else(|e| server.fail(&e));
    assert_eq!(resp.status, 200, "{resp:?}");
    let got = client.expect_event("s", "system:alert");
    assert_eq!(got[0]["message"], "dev", "{got:?}");
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn token_dev_without_a_dev_server_says_what_to_do() {
    let dir = std::env::temp_dir().join(unique("ringcast-no-state"));
    let dir_text = dir.display().to_string();
    let out = cli::run_with_env(
        ringcast(),
        &["token", "--dev", "--sub", "bob"],
        &[("RINGCAST_STATE_DIR", &dir_text)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no dev secret at") && stderr.contains("start the server in dev mode"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
