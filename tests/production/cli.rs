//! The command line as an operator meets it: `--help` documents every setting, and a bad
//! configuration stops the server with exit code 2 and one line on stderr naming the setting.

use std::collections::BTreeSet;

use ringcast_test_support::{cli, repo};

use crate::ringcast;

/// The settings `ringcast.example.toml` documents (`# name = value` lines): every setting.
fn example_settings() -> BTreeSet<String> {
    let path = repo().join("ringcast.example.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter_map(|l| l.split_once(" = "))
        .map(|(name, _)| name.trim())
        .filter(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .map(str::to_owned)
        .collect()
}

/// The flag spelling of a setting: `ping_interval_ms` → `--ping-interval-ms`; lists repeat a
/// singular flag (`paths` → `--path`, `api_keys` → `--api-key`, `cors_origins` → `--cors-origin`).
fn flags_for(setting: &str) -> [String; 2] {
    let kebab = setting.replace('_', "-");
    let singular = kebab.strip_suffix('s').unwrap_or(&kebab).to_owned();
    [format!("--{kebab} "), format!("--{singular} ")]
}

#[test]
fn help_lists_every_setting_with_its_flag_and_environment_variable() {
    let out = cli::run(ringcast(), &["--help"]);
    assert!(out.status.success(), "--help exits 0");
    let help = String::from_utf8_lossy(&out.stdout);
    let settings = example_settings();
    assert!(
        settings.len() >= 30,
        "ringcast.example.toml lists only {settings:?}"
    );
    for setting in &settings {
        assert!(
            flags_for(setting).iter().any(|f| help.contains(f.as_str())),
            "--help has no flag for {setting} (looked for {:?})\n{help}",
            flags_for(setting)
        );
        let env = format!("RINGCAST_{}", setting.to_ascii_uppercase());
        assert!(help.contains(&env), "--help does not name {env}\n{help}");
    }
    // And the other way: every flag in --help is a setting (or --config, --help, --version).
    let documented: BTreeSet<String> = help
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("--"))
        .map(|w| {
            w.trim_end_matches([',', '.', ')', ']', ':', '`'])
                .to_owned()
        })
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        .collect();
    for flag in &documented {
        if ["config", "help", "version"].contains(&flag.as_str()) {
            continue;
        }
        let known = settings
            .iter()
            .any(|s| flags_for(s).iter().any(|f| f.trim() == format!("--{flag}")));
        assert!(
            known,
            "--{flag} is in --help but not in ringcast.example.toml"
        );
    }
    assert!(help.contains("--config ") && help.contains("RINGCAST_CONFIG"));
    // The token subcommand documents its own flags.
    let token_help = cli::run(ringcast(), &["token", "--help"]);
    let token_help = String::from_utf8_lossy(&token_help.stdout);
    for flag in ["--sub ", "--ttl ", "--claim "] {
        assert!(
            token_help.contains(flag),
            "token --help lacks {flag}\n{token_help}"
        );
    }
}

/// Runs `ringcast <args>` with `env` and checks the operator sees exit code 2 and one line
/// on stderr naming `setting`, and nothing on stdout.
fn exits_2_naming(args: &[&str], env: &[(&str, &str)], setting: &str) {
    let out = cli::run_with_env(ringcast(), args, env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let what = format!("ringcast {args:?} (env {env:?})");
    assert_eq!(out.status.code(), Some(2), "{what}: stderr {stderr:?}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{what}: one line, got {stderr:?}"
    );
    assert!(
        stderr.contains(setting),
        "{what}: the error must name {setting}: {stderr:?}"
    );
    assert!(out.stdout.is_empty(), "{what}: nothing on stdout");
}

/// A valid secret, so that each case below has exactly one thing wrong.
const SECRET: &str = "--jwt-secret=cli-test-secret-0123456789abcdef0123";

/// One test per bad configuration: `name: [arguments] env [VAR => value] => "setting";`
macro_rules! bad_config {
    ($($name:ident: [$($arg:expr),*] env [$($var:expr => $val:expr),*] => $setting:expr;)*) => {
        $(
            #[test]
            fn $name() {
                exits_2_naming(&[$($arg),*], &[$(($var, $val)),*], $setting);
            }
        )*
    };
}

bad_config! {
    missing_public_key_file: ["--jwt-public-key-file", "/nonexistent/ringcast/public.pem"] env [] => "jwt_public_key_file";
    missing_secret_file: ["--jwt-secret-file", "/nonexistent/ringcast/secret"] env [] => "jwt_secret_file";
    unknown_algorithm: [SECRET, "--jwt-algorithms", "HS999"] env [] => "jwt_algorithms";
    algorithm_none: [SECRET, "--jwt-algorithms", "none"] env [] => "jwt_algorithms";
    algorithm_without_its_key: [SECRET, "--jwt-algorithms", "RS256"] env [] => "jwt_algorithms";
    short_secret: ["--jwt-secret", "too-short"] env [] => "jwt_secret";
    short_api_key: [SECRET, "--api-key", "short"] env [] => "api_keys";
    origin_with_a_path: [SECRET, "--cors-origin", "https://app.example.com/"] env [] => "cors_origins";
    credentials_with_any_origin: [SECRET, "--cors-origin", "*", "--cors-credentials", "true"] env [] => "cors_credentials";
    json_depth_out_of_range: [SECRET, "--max-json-depth", "1000"] env [] => "max_json_depth";
    path_shadowing_the_api: [SECRET, "--path", "/api/"] env [] => "paths";
    unknown_log_level: [SECRET, "--log-level", "verbose"] env [] => "log_level";
    env_not_a_number: [SECRET] env ["RINGCAST_PING_INTERVAL_MS" => "soon"] => "RINGCAST_PING_INTERVAL_MS";
    missing_config_file: [SECRET, "--config", "/nonexistent/ringcast.toml"] env [] => "config";
    missing_config_file_from_env: [SECRET] env ["RINGCAST_CONFIG" => "/nonexistent/ringcast.toml"] => "config";
    webhook_https_url: [SECRET, "--webhook-url", "https://backend.example/hook", "--webhook-secret", "webhook-secret-of-at-least-32-bytes"] env [] => "webhook_url";
}

#[test]
fn unknown_key_in_config_file() {
    let file = std::env::temp_dir().join(format!("ringcast-bad-{}.toml", std::process::id()));
    std::fs::write(&file, "ping_interval_ms = 25000\nno_such_setting = 1\n")
        .expect("write a temporary TOML file");
    let arg = format!("--config={}", file.display());
    exits_2_naming(&[SECRET, &arg], &[], "no_such_setting");
    let _ = std::fs::remove_file(&file);
}
