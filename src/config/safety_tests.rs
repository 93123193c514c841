//! Safe by default: the docs' example secrets are refused, guessable ones and a missing API key
//! are warned about.

use std::collections::HashMap;

use super::*;

const GOOD_SECRET: &str = "Zt3Y0hN1qk8vR6mW2pXc9LbE4sJ7aGf5uDdQyTiKoVn";
const GOOD_KEY: &str = "Hq7Lw2Zr9Ke4Tb6Ym1Ux3Pv8Nc5Js0Af";

fn load(args: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let argv = std::iter::once("ringcast")
        .chain(args.iter().copied())
        .map(str::to_owned);
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::load_from(argv, &env)
}

/// A secret or key literal found in a doc: which setting it would be, the value, and where.
#[derive(Debug)]
struct Literal {
    setting: &'static str,
    value: String,
    at: String,
}

/// The files an operator copies settings from.
fn doc_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("README.md"),
        root.join("ringcast.example.toml"),
        root.join("SECURITY.md"),
    ];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ exists");
    for entry in docs.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.retain(|f| f.is_file());
    files
}

/// Every literal value after one of the spellings of the secret and key settings: TOML
/// (`jwt_secret = "…"`, `api_keys = ["…", …]`), the environment (`RINGCAST_JWT_SECRET=…`,
/// `RINGCAST_API_KEYS=a,b`) and flags (`--jwt-secret …`, `--api-key=…`). A value starting
/// with `$` is computed by the shell, not a literal.
fn literals(text: &str, file: &str) -> Vec<Literal> {
    const SPELLINGS: [(&str, &str, bool); 12] = [
        ("jwt_secret = ", "jwt_secret", false),
        ("api_keys = ", "api_keys", true),
        ("RINGCAST_JWT_SECRET=", "jwt_secret", false),
        ("RINGCAST_API_KEYS=", "api_keys", true),
        ("--jwt-secret ", "jwt_secret", false),
        ("--jwt-secret=", "jwt_secret", false),
        ("--api-key ", "api_keys", false),
        ("--api-key=", "api_keys", false),
        ("webhook_secret = ", "webhook_secret", false),
        ("RINGCAST_WEBHOOK_SECRET=", "webhook_secret", false),
        ("--webhook-secret ", "webhook_secret", false),
        ("--webhook-secret=", "webhook_secret", false),
    ];
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (prefix, setting, list) in SPELLINGS {
            for (start, _) in line.match_indices(prefix) {
                let rest = &line[start + prefix.len()..];
                let values: Vec<String> = if let Some(list_body) = rest.strip_prefix('[') {
                    let inner = list_body.split(']').next().unwrap_or("");
                    inner.split(',').map(unquote).collect()
                } else {
                    let word = unquote(rest.split_whitespace().next().unwrap_or(""));
                    if list {
                        word.split(',').map(str::to_owned).collect()
                    } else {
                        vec![word]
                    }
                };
                for value in values {
                    if value.is_empty() || value.starts_with('$') || value.starts_with('`') {
                        continue;
                    }
                    out.push(Literal {
                        setting,
                        value,
                        at: format!("{file}:{}", n + 1),
                    });
                }
            }
        }
    }
    out
}

fn unquote(word: &str) -> String {
    word.trim()
        .trim_end_matches([';', '`', ')'])
        .trim_matches(['"', '\''])
        .to_owned()
}

#[test]
fn every_secret_in_the_docs_is_refused() {
    let mut found = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("readable doc");
        found.extend(literals(&text, &file.display().to_string()));
    }
    // The example file's two placeholders at least: a scanner that finds nothing proves nothing.
    for known in [
        "change-me-to-32-or-more-random-bytes",
        "replace-with-a-long-random-key",
    ] {
        assert!(
            found.iter().any(|l| l.value == known),
            "the scan missed {known}: {found:?}"
        );
    }
    for lit in &found {
        let args: Vec<&str> = match lit.setting {
            "jwt_secret" => vec!["--jwt-secret", &lit.value],
            "webhook_secret" => vec!["--jwt-secret", GOOD_SECRET, "--webhook-secret", &lit.value],
            _ => vec!["--jwt-secret", GOOD_SECRET, "--api-key", &lit.value],
        };
        let err = load(&args, &[])
            .err()
            .unwrap_or_else(|| panic!("{} ({}) starts a server: {lit:?}", lit.value, lit.at));
        assert_eq!(err.setting(), lit.setting, "{lit:?}: {err}");
        assert!(
            !err.message().contains(lit.value.as_str()),
            "the error never echoes the secret: {err}"
        );
    }
}

/// `(flags, env) => setting`: each spelling of each example value is refused.
macro_rules! refused_cases {
    ($($name:ident: [$($arg:expr),*] $(+ [$($k:literal = $v:expr),*])? => $setting:expr;)*) => {$(
        #[test]
        fn $name() {
            let env: Vec<(&str, &str)> = vec![$($(($k, $v)),*)?];
            let err = load(&[$($arg),*], &env).expect_err("an example secret is refused");
            assert_eq!(err.setting(), $setting, "{err}");
            assert!(err.message().contains("example"), "{err}");
            assert!(err.message().contains("/dev/urandom"), "says how to make one: {err}");
        }
    )*};
}

refused_cases! {
    example_secret_flag: ["--jwt-secret", "change-me-to-32-or-more-random-bytes"] => "jwt_secret";
    example_secret_env: [] + ["RINGCAST_JWT_SECRET" = "change-me-to-32-or-more-random-bytes"] => "jwt_secret";
    bench_secret_flag: ["--jwt-secret", "ringcast-bench-jwt-secret-0123456789abcdef"] => "jwt_secret";
    example_key_flag: ["--jwt-secret", GOOD_SECRET, "--api-key", "replace-with-a-long-random-key"] => "api_keys";
    example_webhook_secret_flag: ["--jwt-secret", GOOD_SECRET, "--webhook-secret", "change-me-to-other-32-or-more-random-bytes"] => "webhook_secret";
    example_key_second: ["--jwt-secret", GOOD_SECRET, "--api-key", GOOD_KEY, "--api-key", "backend-key-0123456789"] => "api_keys";
    tour_key_env: ["--jwt-secret", GOOD_SECRET] + ["RINGCAST_API_KEYS" = "backend-key-0123456789"] => "api_keys";
    bench_key_env: ["--jwt-secret", GOOD_SECRET] + ["RINGCAST_API_KEYS" = "x-0123456789abcdef,ringcast-bench-api-key-0123456789"] => "api_keys";
}

#[test]
fn example_secret_in_a_secret_file_names_the_file_setting() {
    let path = std::env::temp_dir().join(format!("ringcast-example-{}", std::process::id()));
    std::fs::write(&path, "change-me-to-32-or-more-random-bytes\n").expect("write");
    let arg = path.display().to_string();
    let err = load(&["--jwt-secret-file", &arg], &[]).expect_err("refused");
    let _ = std::fs::remove_file(&path);
    assert_eq!(err.setting(), "jwt_secret_file", "{err}");
}

#[test]
fn example_secrets_in_the_toml_file_are_refused() {
    let path = std::env::temp_dir().join(format!("ringcast-example-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        format!(
            "jwt_secret = \"{GOOD_SECRET}\"\napi_keys = [\"replace-with-a-long-random-key\"]\n"
        ),
    )
    .expect("write");
    let arg = path.display().to_string();
    let err = load(&["--config", &arg], &[]).expect_err("refused");
    let _ = std::fs::remove_file(&path);
    assert_eq!(err.setting(), "api_keys", "{err}");
}

/// `(flags) => [(setting, fragment)]`: the warnings a loaded configuration gives, in order.
macro_rules! warning_cases {
    ($($name:ident: [$($arg:expr),*] => [$(($setting:expr, $fragment:expr)),*];)*) => {$(
        #[test]
        fn $name() {
            let config = load(&[$($arg),*], &[]).expect("loads: warnings do not refuse");
            let got = config.warnings();
            let want: Vec<(&str, &str)> = vec![$(($setting, $fragment)),*];
            assert_eq!(got.len(), want.len(), "{got:?}");
            for (w, (setting, fragment)) in got.iter().zip(want) {
                assert_eq!(w.setting, setting, "{got:?}");
                assert!(w.message.contains(fragment), "{got:?}");
            }
        }
    )*};
}

warning_cases! {
    warn_none_when_random: ["--jwt-secret", GOOD_SECRET, "--api-key", GOOD_KEY] => [];
    warn_none_in_dev_mode: [] => [];
    warn_secret_without_api_key: ["--jwt-secret", GOOD_SECRET] => [("api_keys", "refuses every request with 401")];
    warn_public_key_without_api_key: ["--jwt-public-key-file", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/rsa_public.pem")] => [("api_keys", "publish API")];
    warn_repeated_secret: ["--jwt-secret", "abababababababababababababababab", "--api-key", GOOD_KEY] => [("jwt_secret", "looks guessable: about 32 bits")];
    warn_few_symbols_key: ["--jwt-secret", GOOD_SECRET, "--api-key", GOOD_KEY, "--api-key", "aaaaaaaabbbbbbbbcccccccc"] => [("api_keys", "key #2 looks guessable")];
    warn_word_secret: ["--jwt-secret", "passwordpasswordpasswordpassword", "--api-key", GOOD_KEY] => [("jwt_secret", "/dev/urandom")];
}

#[test]
fn warnings_never_echo_the_secret() {
    let secret = "passwordpasswordpasswordpassword";
    let config = load(&["--jwt-secret", secret], &[]).expect("loads");
    for w in config.warnings() {
        assert!(!w.message.contains(secret), "{w:?}");
    }
}

#[test]
fn the_generated_form_the_docs_recommend_draws_no_warning() {
    // What `head -c 32 /dev/urandom | base64` gives: 44 characters, 256 bits.
    for _ in 0..50 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("OS random");
        let secret = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
        assert!(
            known_secrets::low_entropy_bits(&secret).is_none(),
            "{secret}: {} bits",
            known_secrets::estimated_bits(&secret)
        );
    }
}
