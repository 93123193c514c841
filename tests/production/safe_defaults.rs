//! Safe by default, as an operator sees it: a server started with a JWT key but no API key says
//! at start (a WARN naming `api_keys`) and on `/readyz` that its publish API is disabled, and a
//! guessable secret draws a WARN naming `jwt_secret`; the docs' example secrets do not start.

use serde_json::json;

use ringcast_test_support::{API_KEY, Launch, cli};

use crate::{gateway, ringcast};

#[test]
fn no_api_key_is_a_startup_warning_and_a_readyz_detail() {
    let mut server = gateway().without_api_key().start();
    server.wait_log("api_keys");
    let log = server.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("api_keys"))
        .unwrap_or_default();
    assert!(line.contains("WARN"), "a warning: {line:?}");
    assert!(line.contains("401"), "says what it means: {line:?}");
    let ready = server.get("/readyz");
    assert_eq!(ready.status, 200, "the node still serves its clients");
    assert_eq!(
        ready.try_json(),
        Some(json!({"status": "ready", "publish": "disabled: no api_keys configured"})),
        "{:?}",
        ready.body
    );
    let refused = server.publish_with_key(
        API_KEY,
        br#"{"event":"system:alert","data":{"message":"m","severity":"info"}}"#,
    );
    assert_eq!(refused.status, 401);
}

#[test]
fn a_guessable_secret_is_a_startup_warning() {
    let mut server = Launch::new(ringcast())
        .args(["--listen", "127.0.0.1:0", "--workers", "1"])
        .args(["--jwt-secret", "passwordpasswordpasswordpassword"])
        .args(["--api-key", API_KEY])
        .start();
    server.wait_log("looks guessable");
    let log = server.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("looks guessable"))
        .unwrap_or_default();
    assert!(
        line.contains("WARN") && line.contains("jwt_secret"),
        "{line:?}"
    );
    assert!(
        !log.contains("passwordpassword"),
        "the secret itself is never logged"
    );
    assert!(
        !log.contains("no API key"),
        "an API key is configured: {log}"
    );
}

/// `args => setting`: each published example credential stops the server (exit 2, one line
/// naming the setting, the secret not echoed).
macro_rules! example_refused {
    ($($name:ident: [$($arg:expr),*] => $setting:expr;)*) => {$(
        #[test]
        fn $name() {
            let args: Vec<&str> = vec![$($arg),*];
            let out = cli::run(ringcast(), &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
            assert!(stderr.contains($setting) && stderr.contains("example"), "{stderr:?}");
            assert!(!stderr.contains(args[args.len() - 1]), "not echoed: {stderr:?}");
        }
    )*};
}

example_refused! {
    example_toml_secret: ["--jwt-secret", "change-me-to-32-or-more-random-bytes"] => "jwt_secret";
    example_toml_api_key: ["--jwt-secret", "Zt3Y0hN1qk8vR6mW2pXc9LbE4sJ7aGf5uDdQyTiKoVn", "--api-key", "replace-with-a-long-random-key"] => "api_keys";
    readme_tour_api_key: ["--jwt-secret", "Zt3Y0hN1qk8vR6mW2pXc9LbE4sJ7aGf5uDdQyTiKoVn", "--api-key", "backend-key-0123456789"] => "api_keys";
}
