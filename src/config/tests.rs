use std::sync::atomic::{AtomicUsize, Ordering};

use clap::CommandFactory;

use super::*;

const SECRET_A: &str = "secret-a-0123456789abcdef01234567";
const SECRET_B: &str = "secret-b-0123456789abcdef01234567";

fn key(name: &str) -> String {
    format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A file in the temp dir, deleted on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &str) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ringcast-test-{}-{n}", std::process::id()));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh self-signed CA certificate, PEM (rcgen, so no fixture can expire or leak a key).
fn ca_pem(name: &str) -> String {
    let mut params = rcgen::CertificateParams::new(Vec::new()).expect("no names");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = rcgen::KeyPair::generate().expect("key pair");
    params.self_signed(&key).expect("self-signed CA").pem()
}

fn env_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(args: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let argv = std::iter::once("ringcast")
        .chain(args.iter().copied())
        .map(str::to_owned);
    Config::load_from(argv, &env_map(env))
}

fn load_ok(args: &[&str], env: &[(&str, &str)]) -> Config {
    load(args, env).expect("config is valid")
}

// --- precedence: every setting, every layer ---------------------------------------------------

/// One value of a setting as each layer spells it, and how the loaded config shows it.
struct Val {
    flag: Vec<String>,
    env: String,
    toml: String,
    shows: String,
}

/// A scalar: `--kebab raw`, `RINGCAST_X=raw`, `name = lit`.
fn scalar(name: &str, raw: &str, quoted: bool) -> Val {
    let lit = if quoted {
        format!("{raw:?}")
    } else {
        raw.to_owned()
    };
    Val {
        flag: vec![format!("--{}", name.replace('_', "-")), raw.to_owned()],
        env: raw.to_owned(),
        toml: format!("{name} = {lit}"),
        shows: raw.to_owned(),
    }
}

/// A list: a repeated flag, a comma list, a TOML array.
fn list(name: &str, flag: &str, items: &[&str], shows: &str) -> Val {
    Val {
        flag: items
            .iter()
            .flat_map(|i| [format!("--{flag}"), (*i).to_owned()])
            .collect(),
        env: items.join(","),
        toml: format!(
            "{name} = [{}]",
            items
                .iter()
                .map(|i| format!("{i:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        shows: shows.to_owned(),
    }
}

fn with_shows(mut v: Val, shows: &str) -> Val {
    v.shows = shows.to_owned();
    v
}

struct Case {
    name: &'static str,
    /// Flags present in every scenario (a key a setting depends on).
    base: Vec<String>,
    a: Val,
    b: Val,
    default: String,
    get: fn(&Config) -> String,
}

#[derive(Clone, Copy, Debug)]
enum Layer {
    Flag,
    Env,
    File,
}

fn load_layers(case: &Case, layers: &[(Layer, &Val)]) -> Config {
    let mut args: Vec<String> = case.base.clone();
    let mut env = HashMap::new();
    let mut toml = String::new();
    for (layer, val) in layers {
        match layer {
            Layer::Flag => args.extend(val.flag.iter().cloned()),
            Layer::Env => {
                env.insert(
                    format!("RINGCAST_{}", case.name.to_ascii_uppercase()),
                    val.env.clone(),
                );
            }
            Layer::File => toml.push_str(&format!("{}\n", val.toml)),
        }
    }
    let file = TempFile::new(&toml);
    args.extend(["--config".to_owned(), file.path()]);
    let argv = std::iter::once("ringcast".to_owned()).chain(args);
    Config::load_from(argv, &env).unwrap_or_else(|e| {
        panic!(
            "{}: {layers:?} failed: {e}",
            case.name,
            layers = layers.iter().map(|l| l.0).collect::<Vec<_>>()
        )
    })
}

fn cases(
    secret_files: &[TempFile; 2],
    private_copies: &[TempFile; 2],
    ca_files: &[TempFile; 2],
) -> Vec<Case> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let rsa_public = key("rsa_public.pem");
    let sc = scalar;
    vec![
        Case {
            name: "listen",
            base: vec![],
            a: sc("listen", "127.0.0.1:1", true),
            b: sc("listen", "[::1]:2", true),
            default: "0.0.0.0:8000".into(),
            get: |c| c.listen.to_string(),
        },
        Case {
            name: "paths",
            base: vec![],
            a: list("paths", "path", &["/a/", "b"], "/a/ /b/"),
            b: list("paths", "path", &["/c"], "/c/"),
            default: "/ws/ /socket.io/".into(),
            get: |c| c.paths.join(" "),
        },
        Case {
            name: "msgpack_paths",
            base: vec![],
            a: list("msgpack_paths", "msgpack-path", &["/m/", "mp"], "/m/ /mp/"),
            b: list("msgpack_paths", "msgpack-path", &["/n"], "/n/"),
            default: "".into(),
            get: |c| c.msgpack_paths.join(" "),
        },
        Case {
            name: "workers",
            base: vec![],
            a: sc("workers", "3", false),
            b: sc("workers", "700", false),
            default: cores.to_string(),
            get: |c| c.workers.to_string(),
        },
        Case {
            name: "ping_interval_ms",
            base: vec![],
            a: sc("ping_interval_ms", "300", false),
            b: sc("ping_interval_ms", "1000", false),
            default: "25000".into(),
            get: |c| c.ping_interval_ms.to_string(),
        },
        Case {
            name: "ping_timeout_ms",
            base: vec![],
            a: sc("ping_timeout_ms", "200", false),
            b: sc("ping_timeout_ms", "2000", false),
            default: "30000".into(),
            get: |c| c.ping_timeout_ms.to_string(),
        },
        Case {
            name: "max_payload",
            base: vec![],
            a: sc("max_payload", "100", false),
            b: sc("max_payload", "2000000", false),
            default: "1000000".into(),
            get: |c| c.max_payload.to_string(),
        },
        Case {
            name: "ws_compression",
            base: vec![],
            a: sc("ws_compression", "true", false),
            b: sc("ws_compression", "false", false),
            default: "false".into(),
            get: |c| c.ws_compression.to_string(),
        },
        Case {
            name: "ws_compression_threshold",
            base: vec![],
            a: sc("ws_compression_threshold", "0", false),
            b: sc("ws_compression_threshold", "4096", false),
            default: "1024".into(),
            get: |c| c.ws_compression_threshold.to_string(),
        },
        Case {
            name: "connect_timeout_ms",
            base: vec![],
            a: sc("connect_timeout_ms", "1000", false),
            b: sc("connect_timeout_ms", "5000", false),
            default: "45000".into(),
            get: |c| c.connect_timeout_ms.to_string(),
        },
        Case {
            name: "jwt_secret",
            base: vec![],
            a: sc("jwt_secret", SECRET_A, true),
            b: sc("jwt_secret", SECRET_B, true),
            default: "-".into(),
            get: |c| {
                c.jwt_secret
                    .as_ref()
                    .map_or("-".into(), |s| s.expose().to_owned())
            },
        },
        Case {
            name: "jwt_secret_file",
            base: vec![],
            a: with_shows(
                sc("jwt_secret_file", &secret_files[0].path(), true),
                SECRET_A,
            ),
            b: with_shows(
                sc("jwt_secret_file", &secret_files[1].path(), true),
                SECRET_B,
            ),
            default: "-".into(),
            get: |c| {
                c.jwt_secret
                    .as_ref()
                    .map_or("-".into(), |s| s.expose().to_owned())
            },
        },
        Case {
            name: "jwt_public_key_file",
            base: vec![],
            a: with_shows(sc("jwt_public_key_file", &rsa_public, true), "Rsa"),
            b: with_shows(
                sc("jwt_public_key_file", &key("ec_p256_public.pem"), true),
                "EcP256",
            ),
            default: "-".into(),
            get: |c| {
                c.jwt_public_key
                    .as_ref()
                    .map_or("-".into(), |k| format!("{:?}", k.kind()))
            },
        },
        Case {
            name: "jwt_private_key_file",
            base: vec!["--jwt-public-key-file".into(), rsa_public.clone()],
            a: sc("jwt_private_key_file", &private_copies[0].path(), true),
            b: sc("jwt_private_key_file", &private_copies[1].path(), true),
            default: "-".into(),
            get: |c| {
                c.jwt_private_key
                    .as_ref()
                    .map_or("-".into(), |k| k.path().display().to_string())
            },
        },
        Case {
            name: "jwt_algorithms",
            base: vec!["--jwt-secret".into(), "k".repeat(64)],
            a: list(
                "jwt_algorithms",
                "jwt-algorithms",
                &["HS512", "HS384"],
                "HS512 HS384",
            ),
            b: list("jwt_algorithms", "jwt-algorithms", &["HS384"], "HS384"),
            default: "HS256".into(),
            get: |c| {
                c.jwt_algorithms
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        },
        Case {
            name: "jwt_issuer",
            base: vec![],
            a: sc("jwt_issuer", "iss-a", true),
            b: sc("jwt_issuer", "iss-b", true),
            default: "-".into(),
            get: |c| c.jwt_issuer.clone().unwrap_or("-".into()),
        },
        Case {
            name: "jwt_audience",
            base: vec![],
            a: sc("jwt_audience", "aud-a", true),
            b: sc("jwt_audience", "aud-b", true),
            default: "-".into(),
            get: |c| c.jwt_audience.clone().unwrap_or("-".into()),
        },
        Case {
            name: "jwt_leeway_secs",
            base: vec![],
            a: sc("jwt_leeway_secs", "0", false),
            b: sc("jwt_leeway_secs", "60", false),
            default: "30".into(),
            get: |c| c.jwt_leeway_secs.to_string(),
        },
        Case {
            name: "allow_eio3",
            base: vec![],
            a: sc("allow_eio3", "true", false),
            b: sc("allow_eio3", "false", false),
            default: "false".into(),
            get: |c| c.allow_eio3.to_string(),
        },
        Case {
            name: "jwt_require_exp",
            base: vec![],
            a: sc("jwt_require_exp", "false", false),
            b: sc("jwt_require_exp", "true", false),
            default: "true".into(),
            get: |c| c.jwt_require_exp.to_string(),
        },
        Case {
            name: "room_policy",
            base: vec![],
            a: with_shows(sc("room_policy", "claims", true), "Claims"),
            b: with_shows(sc("room_policy", "open", true), "Open"),
            default: "Open".into(),
            get: |c| format!("{:?}", c.room_policy),
        },
        Case {
            name: "token_expiry_grace_ms",
            base: vec![],
            a: sc("token_expiry_grace_ms", "1000", false),
            b: sc("token_expiry_grace_ms", "60000", false),
            default: "0".into(),
            get: |c| c.token_expiry_grace_ms.to_string(),
        },
        Case {
            name: "api_keys",
            base: vec![],
            a: list(
                "api_keys",
                "api-key",
                &["key-a-0123456789ab", "key-b-0123456789ab"],
                "key-a-0123456789ab key-b-0123456789ab",
            ),
            b: list(
                "api_keys",
                "api-key",
                &["key-c-0123456789ab"],
                "key-c-0123456789ab",
            ),
            default: "".into(),
            get: |c| {
                c.api_keys
                    .iter()
                    .map(|k| k.expose())
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        },
        Case {
            name: "cors_origins",
            base: vec![],
            a: list(
                "cors_origins",
                "cors-origin",
                &["https://a.example", "http://b.example:8080"],
                "https://a.example http://b.example:8080",
            ),
            b: list("cors_origins", "cors-origin", &["*"], "*"),
            default: "".into(),
            get: |c| c.cors_origins.join(" "),
        },
        Case {
            name: "cors_credentials",
            base: vec![],
            a: sc("cors_credentials", "true", false),
            b: sc("cors_credentials", "false", false),
            default: "false".into(),
            get: |c| c.cors_credentials.to_string(),
        },
        Case {
            name: "max_connections",
            base: vec![],
            a: sc("max_connections", "10", false),
            b: sc("max_connections", "20", false),
            default: "100000".into(),
            get: |c| c.max_connections.to_string(),
        },
        Case {
            name: "max_connections_per_ip",
            base: vec![],
            a: sc("max_connections_per_ip", "1", false),
            b: sc("max_connections_per_ip", "2", false),
            default: "1000".into(),
            get: |c| c.max_connections_per_ip.to_string(),
        },
        Case {
            name: "handshake_timeout_ms",
            base: vec![],
            a: sc("handshake_timeout_ms", "100", false),
            b: sc("handshake_timeout_ms", "200", false),
            default: "10000".into(),
            get: |c| c.handshake_timeout_ms.to_string(),
        },
        Case {
            name: "max_http_head",
            base: vec![],
            a: sc("max_http_head", "4096", false),
            b: sc("max_http_head", "8192", false),
            default: "16384".into(),
            get: |c| c.max_http_head.to_string(),
        },
        Case {
            name: "max_rooms_per_socket",
            base: vec![],
            a: sc("max_rooms_per_socket", "1", false),
            b: sc("max_rooms_per_socket", "5", false),
            default: "100".into(),
            get: |c| c.max_rooms_per_socket.to_string(),
        },
        Case {
            name: "max_outbound_bytes",
            base: vec![],
            a: sc("max_outbound_bytes", "65536", false),
            b: sc("max_outbound_bytes", "1048576", false),
            default: "4194304".into(),
            get: |c| c.max_outbound_bytes.to_string(),
        },
        Case {
            name: "max_json_depth",
            base: vec![],
            a: sc("max_json_depth", "8", false),
            b: sc("max_json_depth", "64", false),
            default: "32".into(),
            get: |c| c.max_json_depth.to_string(),
        },
        Case {
            name: "event_rate_per_sec",
            base: vec![],
            a: sc("event_rate_per_sec", "5", false),
            b: sc("event_rate_per_sec", "50", false),
            default: "100".into(),
            get: |c| c.event_rate_per_sec.to_string(),
        },
        Case {
            name: "event_rate_burst",
            base: vec![],
            a: sc("event_rate_burst", "10", false),
            b: sc("event_rate_burst", "20", false),
            default: "200".into(),
            get: |c| c.event_rate_burst.to_string(),
        },
        Case {
            name: "recovery",
            base: vec![],
            a: sc("recovery", "true", false),
            b: sc("recovery", "false", false),
            default: "false".into(),
            get: |c| c.recovery.to_string(),
        },
        Case {
            name: "recovery_max_disconnection_ms",
            base: vec![],
            a: sc("recovery_max_disconnection_ms", "1000", false),
            b: sc("recovery_max_disconnection_ms", "5000", false),
            default: "120000".into(),
            get: |c| c.recovery_max_disconnection_ms.to_string(),
        },
        Case {
            name: "recovery_log_max_events",
            base: vec![],
            a: sc("recovery_log_max_events", "3", false),
            b: sc("recovery_log_max_events", "50", false),
            default: "10000".into(),
            get: |c| c.recovery_log_max_events.to_string(),
        },
        Case {
            name: "recovery_log_max_bytes",
            base: vec![],
            a: sc("recovery_log_max_bytes", "4096", false),
            b: sc("recovery_log_max_bytes", "65536", false),
            default: "8388608".into(),
            get: |c| c.recovery_log_max_bytes.to_string(),
        },
        Case {
            name: "recovery_log_max_age_ms",
            base: vec![],
            a: sc("recovery_log_max_age_ms", "1000", false),
            b: sc("recovery_log_max_age_ms", "9000", false),
            default: "120000".into(),
            get: |c| c.recovery_log_max_age_ms.to_string(),
        },
        Case {
            name: "redis_url",
            base: vec![],
            a: sc("redis_url", "redis://:pw-a@127.0.0.1:6379/1", true),
            b: sc("redis_url", "unix:///run/redis.sock?db=2&pass=pw-b", true),
            default: "-".into(),
            get: |c| {
                c.redis_url
                    .as_ref()
                    .map_or("-".into(), |u| u.expose().to_owned())
            },
        },
        Case {
            name: "redis_key_prefix",
            base: vec![],
            a: sc("redis_key_prefix", "app-a", true),
            b: sc("redis_key_prefix", "app.b", true),
            default: "socket.io".into(),
            get: |c| c.redis_key_prefix.clone(),
        },
        Case {
            name: "redis_python_channel",
            base: vec![],
            a: sc("redis_python_channel", "chan-a", true),
            b: sc("redis_python_channel", "chan:b", true),
            default: "socketio".into(),
            get: |c| c.redis_python_channel.clone(),
        },
        Case {
            name: "redis_request_timeout_ms",
            base: vec![],
            a: sc("redis_request_timeout_ms", "100", false),
            b: sc("redis_request_timeout_ms", "20000", false),
            default: "5000".into(),
            get: |c| c.redis_request_timeout_ms.to_string(),
        },
        Case {
            name: "redis_tls_ca",
            base: vec!["--redis-url".into(), "rediss://127.0.0.1:6380/".into()],
            a: sc("redis_tls_ca", &ca_files[0].path(), true),
            b: sc("redis_tls_ca", &ca_files[1].path(), true),
            default: "-".into(),
            get: |c| {
                c.redis_tls_ca
                    .as_ref()
                    .map_or("-".into(), |ca| ca.path().display().to_string())
            },
        },
        Case {
            name: "cluster_mode",
            base: vec![],
            // Two modes other than the default, so every value is read at some layer.
            a: with_shows(sc("cluster_mode", "streams", true), "Streams"),
            b: with_shows(sc("cluster_mode", "sharded", true), "Sharded"),
            default: "Pubsub".into(),
            get: |c| format!("{:?}", c.cluster_mode),
        },
        Case {
            name: "redis_stream_name",
            base: vec![],
            a: sc("redis_stream_name", "events-a", true),
            b: sc("redis_stream_name", "events:b", true),
            default: "socket.io".into(),
            get: |c| c.redis_stream_name.clone(),
        },
        Case {
            name: "redis_stream_max_len",
            base: vec![],
            a: sc("redis_stream_max_len", "50", false),
            b: sc("redis_stream_max_len", "500000", false),
            default: "10000".into(),
            get: |c| c.redis_stream_max_len.to_string(),
        },
        Case {
            name: "redis_stream_read_count",
            base: vec![],
            a: sc("redis_stream_read_count", "1", false),
            b: sc("redis_stream_read_count", "1000", false),
            default: "100".into(),
            get: |c| c.redis_stream_read_count.to_string(),
        },
        Case {
            name: "redis_stream_block_ms",
            base: vec![],
            a: sc("redis_stream_block_ms", "100", false),
            b: sc("redis_stream_block_ms", "20000", false),
            default: "5000".into(),
            get: |c| c.redis_stream_block_ms.to_string(),
        },
        Case {
            name: "redis_session_key_prefix",
            base: vec![],
            a: sc("redis_session_key_prefix", "app:s:", true),
            b: sc("redis_session_key_prefix", "b-session-", true),
            default: "sio:session:".into(),
            get: |c| c.redis_session_key_prefix.clone(),
        },
        Case {
            name: "log_level",
            base: vec![],
            a: sc("log_level", "debug", true),
            b: sc("log_level", "warn,ringcast=trace", true),
            default: "info".into(),
            get: |c| c.log_level.clone(),
        },
        Case {
            name: "log_format",
            base: vec![],
            a: with_shows(sc("log_format", "json", true), "Json"),
            b: with_shows(sc("log_format", "text", true), "Text"),
            default: "Text".into(),
            get: |c| format!("{:?}", c.log_format),
        },
        Case {
            name: "sharded_subscription_mode",
            base: vec![],
            a: with_shows(sc("sharded_subscription_mode", "static", true), "Static"),
            b: with_shows(sc("sharded_subscription_mode", "dynamic", true), "Dynamic"),
            default: "Dynamic".into(),
            get: |c| format!("{:?}", c.sharded_subscription_mode),
        },
        Case {
            name: "log_summary_interval_secs",
            base: vec![],
            a: sc("log_summary_interval_secs", "0", false),
            b: sc("log_summary_interval_secs", "5", false),
            default: "60".into(),
            get: |c| c.log_summary_interval_secs.to_string(),
        },
        Case {
            name: "metrics",
            base: vec![],
            a: sc("metrics", "false", false),
            b: sc("metrics", "true", false),
            default: "true".into(),
            get: |c| c.metrics.to_string(),
        },
        Case {
            name: "state_dir",
            base: vec![],
            a: with_shows(sc("state_dir", "/tmp/a", true), "Some(\"/tmp/a\")"),
            b: with_shows(sc("state_dir", "/tmp/b", true), "Some(\"/tmp/b\")"),
            default: "None".into(),
            get: |c| format!("{:?}", c.state_dir),
        },
        Case {
            name: "drain_timeout_ms",
            base: vec![],
            a: sc("drain_timeout_ms", "0", false),
            b: sc("drain_timeout_ms", "500", false),
            default: "10000".into(),
            get: |c| c.drain_timeout_ms.to_string(),
        },
        Case {
            name: "user_claim",
            base: vec![],
            a: sc("user_claim", "uid", true),
            b: sc("user_claim", "email", true),
            default: "sub".into(),
            get: |c| c.user_claim.clone(),
        },
        Case {
            name: "admin_ui",
            // On needs a login check; "none" needs no hash.
            base: vec!["--admin-auth".into(), "none".into()],
            a: sc("admin_ui", "true", false),
            b: sc("admin_ui", "false", false),
            default: "false".into(),
            get: |c| c.admin.enabled.to_string(),
        },
        Case {
            name: "admin_username",
            base: vec![],
            a: sc("admin_username", "ops", true),
            b: sc("admin_username", "root", true),
            default: "admin".into(),
            get: |c| c.admin.username.clone(),
        },
        Case {
            name: "admin_password_hash",
            base: vec![],
            a: with_shows(sc("admin_password_hash", ADMIN_HASH_A, true), "set"),
            b: with_shows(sc("admin_password_hash", ADMIN_HASH_B, true), "set b"),
            default: "-".into(),
            get: |c| match &c.admin.auth {
                AdminAuth::Password(Some(h)) if h.expose() == ADMIN_HASH_A => "set".into(),
                AdminAuth::Password(Some(_)) => "set b".into(),
                _ => "-".into(),
            },
        },
        Case {
            name: "admin_auth",
            base: vec![],
            a: with_shows(sc("admin_auth", "none", true), "None"),
            b: with_shows(sc("admin_auth", "password", true), "Password(None)"),
            default: "Password(None)".into(),
            get: |c| format!("{:?}", c.admin.auth),
        },
        Case {
            name: "admin_mode",
            base: vec![],
            a: with_shows(sc("admin_mode", "development", true), "Development"),
            b: with_shows(sc("admin_mode", "production", true), "Production"),
            default: "Production".into(),
            get: |c| format!("{:?}", c.admin.mode),
        },
        Case {
            name: "admin_origin",
            base: vec![],
            a: sc("admin_origin", "https://admin.example.com", true),
            b: sc("admin_origin", "http://localhost:8080", true),
            default: "-".into(),
            get: |c| c.admin.origin.clone().unwrap_or("-".into()),
        },
        Case {
            name: "webhook_url",
            base: vec!["--webhook-secret".into(), WEBHOOK_SECRET.into()],
            a: with_shows(
                sc("webhook_url", "http://127.0.0.1:9000/hook", true),
                "http://127.0.0.1:9000/hook",
            ),
            b: with_shows(
                sc("webhook_url", "http://backend/h?x=1", true),
                "http://backend:80/h?x=1",
            ),
            default: "-".into(),
            get: |c| c.webhook.url.as_ref().map_or("-".into(), |u| u.to_string()),
        },
        Case {
            name: "webhook_secret",
            base: vec![],
            a: sc("webhook_secret", WEBHOOK_SECRET, true),
            b: sc(
                "webhook_secret",
                "another-webhook-secret-of-32-bytes-x",
                true,
            ),
            default: "-".into(),
            get: |c| {
                c.webhook
                    .secret
                    .as_ref()
                    .map_or("-".into(), |s| s.expose().to_owned())
            },
        },
        Case {
            name: "webhook_events",
            base: vec![],
            a: Val {
                flag: vec!["--webhook-events".into(), "connect,disconnect".into()],
                env: "connect,disconnect".into(),
                toml: r#"webhook_events = ["connect", "disconnect"]"#.into(),
                shows: "connect,disconnect".into(),
            },
            b: Val {
                flag: vec!["--webhook-events".into(), "subscribe".into()],
                env: "subscribe".into(),
                toml: r#"webhook_events = ["subscribe"]"#.into(),
                shows: "subscribe".into(),
            },
            default: "connect,disconnect,subscribe,unsubscribe".into(),
            get: |c| c.webhook.events.names(),
        },
        Case {
            name: "webhook_batch_max",
            base: vec![],
            a: sc("webhook_batch_max", "1", false),
            b: sc("webhook_batch_max", "500", false),
            default: "100".into(),
            get: |c| c.webhook.batch_max.to_string(),
        },
        Case {
            name: "webhook_batch_ms",
            base: vec![],
            a: sc("webhook_batch_ms", "0", false),
            b: sc("webhook_batch_ms", "2000", false),
            default: "100".into(),
            get: |c| c.webhook.batch_ms.to_string(),
        },
        Case {
            name: "webhook_queue",
            base: vec![],
            a: sc("webhook_queue", "1", false),
            b: sc("webhook_queue", "50000", false),
            default: "10000".into(),
            get: |c| c.webhook.queue.to_string(),
        },
        Case {
            name: "webhook_timeout_ms",
            base: vec![],
            a: sc("webhook_timeout_ms", "1", false),
            b: sc("webhook_timeout_ms", "30000", false),
            default: "5000".into(),
            get: |c| c.webhook.timeout_ms.to_string(),
        },
        Case {
            name: "webhook_attempts",
            base: vec![],
            a: sc("webhook_attempts", "1", false),
            b: sc("webhook_attempts", "20", false),
            default: "5".into(),
            get: |c| c.webhook.attempts.to_string(),
        },
    ]
}

/// Two bcrypt hashes (of "a" and "b", cost 4) for the admin_password_hash case.
const ADMIN_HASH_A: &str = "$2a$04$RY5BRUt9dZbl.JB/xrWlfuf/iD/v7TNB29V8pU3UnTd0mao9PzXna";
const ADMIN_HASH_B: &str = "$2a$04$FMEiydYLrNZFN1ebKVEXxOlH.oz5T3ZM0LFwkukgcvmbDvjpGvlty";

#[test]
fn admin_settings_are_checked_and_name_the_setting() {
    for (args, setting) in [
        (&["--admin-ui", "true"][..], "admin_password_hash"),
        (
            &["--admin-password-hash", "plain"][..],
            "admin_password_hash",
        ),
        (&["--admin-auth", "off"][..], "admin_auth"),
        (&["--admin-mode", "debug"][..], "admin_mode"),
        (&["--admin-origin", "*"][..], "admin_origin"),
        (&["--admin-origin", "admin.example.com"][..], "admin_origin"),
        (&["--admin-username", " "][..], "admin_username"),
    ] {
        let err = load(args, &[]).expect_err("refused");
        assert!(
            err.to_string().contains(setting),
            "{args:?}: {err} should name {setting}"
        );
    }
    let on = load_ok(
        &["--admin-ui", "true", "--admin-password-hash", ADMIN_HASH_A],
        &[],
    );
    assert!(on.admin.enabled);
}

/// A webhook secret of the required 32 bytes.
const WEBHOOK_SECRET: &str = "webhook-secret-of-at-least-32-bytes";

#[test]
fn precedence_flag_over_env_over_file_over_default_for_every_setting() {
    use Layer::{Env, File, Flag};
    let secret_files = [
        TempFile::new(&format!("{SECRET_A}\n")),
        TempFile::new(SECRET_B),
    ];
    let private = std::fs::read_to_string(key("rsa_private.pem")).expect("fixture");
    let private_copies = [TempFile::new(&private), TempFile::new(&private)];
    let ca_files = [
        TempFile::new(&ca_pem("ca a")),
        TempFile::new(&ca_pem("ca b")),
    ];
    let cases = cases(&secret_files, &private_copies, &ca_files);

    let mut covered: Vec<&str> = cases.iter().map(|c| c.name).collect();
    covered.sort_unstable();
    let mut all: Vec<&str> = SETTING_NAMES.to_vec();
    all.sort_unstable();
    assert_eq!(covered, all, "every setting has a precedence case");

    for case in &cases {
        let show = |layers: &[(Layer, &Val)]| (case.get)(&load_layers(case, layers));
        assert_ne!(
            case.a.shows, case.b.shows,
            "{}: the two values must differ",
            case.name
        );
        assert_eq!(show(&[]), case.default, "{}: default", case.name);
        for (win, lose) in [(&case.a, &case.b), (&case.b, &case.a)] {
            let name = case.name;
            assert_eq!(show(&[(File, win)]), win.shows, "{name}: file");
            assert_eq!(show(&[(Env, win)]), win.shows, "{name}: env");
            assert_eq!(show(&[(Flag, win)]), win.shows, "{name}: flag");
            assert_eq!(
                show(&[(Env, win), (File, lose)]),
                win.shows,
                "{name}: env over file"
            );
            assert_eq!(
                show(&[(Flag, win), (File, lose)]),
                win.shows,
                "{name}: flag over file"
            );
            assert_eq!(
                show(&[(Flag, win), (Env, lose)]),
                win.shows,
                "{name}: flag over env"
            );
            assert_eq!(
                show(&[(Flag, win), (Env, lose), (File, lose)]),
                win.shows,
                "{name}: flag over env and file"
            );
        }
    }
}

// --- errors: one line naming the setting ------------------------------------------------------

/// `(flags, env) => (setting, fragment of the message)`. `@` in an argument is replaced by
/// the fixture key directory.
macro_rules! error_cases {
    ($($name:ident: [$($arg:expr),*] $(+ [$($k:literal = $v:expr),*])? => ($setting:expr, $fragment:expr);)*) => {$(
        #[test]
        fn $name() {
            let dir = key("");
            let raw: Vec<&str> = vec![$($arg),*];
            let args: Vec<String> = raw.iter().map(|a| a.replace('@', &dir)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> = vec![$($(($k, $v)),*)?];
            let err = load(&args, &env).expect_err("must be refused");
            assert_eq!(err.setting(), $setting, "{err}");
            assert!(err.message().contains($fragment), "{err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    )*};
}

error_cases! {
    workers_zero: ["--workers", "0"] => ("workers", "between 1 and 1024");
    ping_interval_zero: ["--ping-interval-ms", "0"] => ("ping_interval_ms", "between 1 and 86400000");
    ping_timeout_over_a_day: ["--ping-timeout-ms", "86400001"] => ("ping_timeout_ms", "at most a day");
    connect_timeout_zero: ["--connect-timeout-ms", "0"] => ("connect_timeout_ms", "between 1");
    max_payload_zero: ["--max-payload", "0"] => ("max_payload", "between 1");
    max_http_head_tiny: ["--max-http-head", "100"] => ("max_http_head", "WebSocket upgrade request");
    max_outbound_tiny: ["--max-outbound-bytes", "10"] => ("max_outbound_bytes", "between 1024");
    max_json_depth_deep: ["--max-json-depth", "500"] => ("max_json_depth", "128");
    max_rooms_zero: ["--max-rooms-per-socket", "0"] => ("max_rooms_per_socket", "dashboard");
    max_connections_zero: ["--max-connections", "0"] => ("max_connections", "between 1");
    per_ip_zero: ["--max-connections-per-ip", "0"] => ("max_connections_per_ip", "between 1");
    event_rate_zero: ["--event-rate-per-sec", "0"] => ("event_rate_per_sec", "between 1");
    event_burst_zero: ["--event-rate-burst", "0"] => ("event_rate_burst", "between 1");
    leeway_over_an_hour: ["--jwt-leeway-secs", "3601"] => ("jwt_leeway_secs", "between 0 and 3600");
    summary_over_a_day: ["--log-summary-interval-secs", "86401"] => ("log_summary_interval_secs", "between 0 and 86400");
    secret_too_short: ["--jwt-secret", "short"] => ("jwt_secret", "is 5 bytes; HS256 needs at least 32");
    secret_too_short_for_hs512: ["--jwt-secret", SECRET_A, "--jwt-algorithms", "HS512"] => ("jwt_secret", "HS512 needs at least 64");
    secret_and_secret_file: ["--jwt-secret", SECRET_A, "--jwt-secret-file", "@README.md"] => ("jwt_secret", "not both");
    secret_file_missing: ["--jwt-secret-file", "/nonexistent/ringcast-secret"] => ("jwt_secret_file", "/nonexistent/ringcast-secret");
    secret_empty_in_file: ["--jwt-secret", ""] => ("jwt_secret", "is empty");
    alg_none: ["--jwt-secret", SECRET_A, "--jwt-algorithms", "none"] => ("jwt_algorithms", "never accepted");
    alg_none_in_list: ["--jwt-secret", SECRET_A, "--jwt-algorithms", "HS256,NONE"] => ("jwt_algorithms", "never accepted");
    alg_unknown: ["--jwt-secret", SECRET_A, "--jwt-algorithms", "HS257"] => ("jwt_algorithms", "unknown algorithm \"HS257\"");
    alg_hs_with_only_public_key: ["--jwt-public-key-file", "@rsa_public.pem", "--jwt-algorithms", "HS256"] => ("jwt_algorithms", "algorithm-confusion");
    alg_rs_with_only_secret: ["--jwt-secret", SECRET_A, "--jwt-algorithms", "RS256"] => ("jwt_algorithms", "RS256 needs jwt_public_key_file");
    alg_es_with_rsa_key: ["--jwt-public-key-file", "@rsa_public.pem", "--jwt-algorithms", "ES256"] => ("jwt_algorithms", "cannot be verified with an RSA key");
    alg_es384_with_p256_key: ["--jwt-public-key-file", "@ec_p256_public.pem", "--jwt-algorithms", "ES384"] => ("jwt_algorithms", "an EC P-256 key");
    alg_list_leaves_secret_unused: ["--jwt-secret", SECRET_A, "--jwt-public-key-file", "@rsa_public.pem", "--jwt-algorithms", "RS256"] => ("jwt_algorithms", "no HS algorithm");
    alg_list_leaves_key_unused: ["--jwt-secret", SECRET_A, "--jwt-public-key-file", "@rsa_public.pem", "--jwt-algorithms", "HS256"] => ("jwt_algorithms", "no algorithm for an RSA key");
    alg_in_dev_mode: ["--jwt-algorithms", "HS256"] => ("jwt_algorithms", "needs jwt_secret");
    public_key_is_private: ["--jwt-public-key-file", "@rsa_private.pem"] => ("jwt_public_key_file", "private key");
    public_key_is_certificate: ["--jwt-public-key-file", "@rsa_cert.pem"] => ("jwt_public_key_file", "certificate");
    public_key_not_pem: ["--jwt-public-key-file", "@README.md"] => ("jwt_public_key_file", "not a PEM");
    public_key_missing: ["--jwt-public-key-file", "@nope.pem"] => ("jwt_public_key_file", "nope.pem");
    private_key_alone: ["--jwt-private-key-file", "@rsa_private.pem"] => ("jwt_private_key_file", "without jwt_public_key_file");
    private_key_is_public: ["--jwt-public-key-file", "@rsa_public.pem", "--jwt-private-key-file", "@rsa_public.pem"] => ("jwt_private_key_file", "holds a public key");
    private_key_other_pair: ["--jwt-public-key-file", "@rsa_public.pem", "--jwt-private-key-file", "@rsa_other_private.pem"] => ("jwt_private_key_file", "does not match");
    private_key_other_kind: ["--jwt-public-key-file", "@rsa_public.pem", "--jwt-private-key-file", "@ec_p256_private.pem"] => ("jwt_private_key_file", "holds an EC P-256 key but");
    issuer_empty: ["--jwt-secret", SECRET_A, "--jwt-issuer", " "] => ("jwt_issuer", "is empty");
    audience_empty: ["--jwt-secret", SECRET_A, "--jwt-audience", ""] => ("jwt_audience", "is empty");
    api_key_short: ["--api-key", "short-key"] => ("api_keys", "key #1 is 9 characters");
    api_key_space: ["--api-key", "has space 0123456789"] => ("api_keys", "b64token");
    api_key_second_bad: ["--api-key", "good-key-0123456789", "--api-key", "bad\u{e9}key-0123456789"] => ("api_keys", "key #2");
    cors_trailing_slash: ["--cors-origin", "https://a.example/"] => ("cors_origins", "no path");
    cors_scheme: ["--cors-origin", "ftp://a.example"] => ("cors_origins", "http or https");
    cors_no_scheme: ["--cors-origin", "a.example"] => ("cors_origins", "scheme://host");
    cors_star_with_credentials: ["--cors-origin", "*", "--cors-credentials", "true"] => ("cors_credentials", "any web site");
    cors_star_with_others: ["--cors-origin", "*", "--cors-origin", "https://a.example"] => ("cors_origins", "\"*\" alone");
    path_root: ["--path", "/"] => ("paths", "every request");
    path_api: ["--path", "/api/v1/"] => ("paths", "reserved");
    path_metrics: ["--path", "metrics"] => ("paths", "reserved");
    path_query: ["--path", "/a?b"] => ("paths", "'?'");
    path_space: ["--path", "/a b"] => ("paths", "visible ASCII");
    path_double_slash: ["--path", "/a//b"] => ("paths", "empty");
    path_dot_dot: ["--path", "/a/../b"] => ("paths", "'..'");
    path_empty: ["--path", ""] => ("paths", "empty path");
    log_level_typo: ["--log-level", "verbose"] => ("log_level", "\"verbose\" is not one of");
    log_level_bad_directive: ["--log-level", "info,ringcast=loud"] => ("log_level", "info,ringcast=loud");
    flag_not_a_number: ["--workers", "many"] => ("arguments", "invalid value 'many'");
    flag_unknown: ["--wrokers", "2"] => ("arguments", "--wrokers");
    flag_bad_bool: ["--metrics", "maybe"] => ("arguments", "maybe");
    flag_bad_listen: ["--listen", "localhost"] => ("listen", "accepted forms: IP:PORT (127.0.0.1:8000, [::1]:8000), HOST:PORT");
    flag_listen_port_too_big: ["--listen", ":70000"] => ("listen", "\":70000\" is not an address");
    flag_bad_log_format: ["--log-format", "xml"] => ("arguments", "xml");
    env_not_a_number: [] + ["RINGCAST_WORKERS" = "many"] => ("RINGCAST_WORKERS", "\"many\" is not a non-negative integer");
    env_negative: [] + ["RINGCAST_MAX_PAYLOAD" = "-1"] => ("RINGCAST_MAX_PAYLOAD", "non-negative integer");
    env_bad_bool: [] + ["RINGCAST_METRICS" = "maybe"] => ("RINGCAST_METRICS", "not a boolean");
    env_bad_listen: [] + ["RINGCAST_LISTEN" = "local host:80"] => ("listen", "\"local host:80\" is not an address");
    env_bad_log_format: [] + ["RINGCAST_LOG_FORMAT" = "xml"] => ("RINGCAST_LOG_FORMAT", "text or json");
    env_semantic_error_names_setting: [] + ["RINGCAST_WORKERS" = "0"] => ("workers", "between 1 and 1024");
    config_file_missing: ["--config", "/nonexistent/ringcast.toml"] => ("config", "/nonexistent/ringcast.toml");
    config_file_from_env_missing: [] + ["RINGCAST_CONFIG" = "/nonexistent/env.toml"] => ("config", "/nonexistent/env.toml");
    flag_bad_room_policy: ["--room-policy", "closed"] => ("arguments", "closed");
    env_bad_room_policy: [] + ["RINGCAST_ROOM_POLICY" = "closed"] => ("RINGCAST_ROOM_POLICY", "\"closed\" is not open or claims");
    grace_over_a_day: ["--token-expiry-grace-ms", "86400001"] => ("token_expiry_grace_ms", "between 0 and 86400000");
    redis_timeout_zero: ["--redis-request-timeout-ms", "0"] => ("redis_request_timeout_ms", "between 1");
    redis_timeout_over_a_day: ["--redis-request-timeout-ms", "86400001"] => ("redis_request_timeout_ms", "at most a day");
    env_redis_bad_scheme: [] + ["RINGCAST_REDIS_URL" = "tcp://h:6379"] => ("redis_url", "scheme must be");
    prefix_empty: ["--redis-key-prefix", ""] => ("redis_key_prefix", "is empty");
    prefix_glob_star: ["--redis-key-prefix", "app*"] => ("redis_key_prefix", "wildcards");
    prefix_glob_class: ["--redis-key-prefix", "app[1]"] => ("redis_key_prefix", "wildcards");
    prefix_glob_backslash: ["--redis-key-prefix", "app\\x"] => ("redis_key_prefix", "wildcards");
    prefix_space: ["--redis-key-prefix", "my app"] => ("redis_key_prefix", "visible ASCII");
    python_channel_empty: ["--redis-python-channel", ""] => ("redis_python_channel", "is empty");
    python_channel_space: ["--redis-python-channel", "socket io"] => ("redis_python_channel", "visible ASCII");
    python_channel_in_adapter_broadcasts: ["--redis-python-channel", "socket.io#/#"] => ("redis_python_channel", "reach the bridge twice");
    python_channel_in_adapter_requests: ["--redis-python-channel", "socket.io-request#/#"] => ("redis_python_channel", "adapter");
    tls_ca_missing: ["--redis-url", "rediss://h:6380", "--redis-tls-ca", "@nope.pem"] => ("redis_tls_ca", "nope.pem");
    tls_ca_env_missing: [] + ["RINGCAST_REDIS_URL" = "rediss://h:6380", "RINGCAST_REDIS_TLS_CA" = "/nonexistent/ca.pem"] => ("redis_tls_ca", "/nonexistent/ca.pem: ");
    tls_ca_is_a_key: ["--redis-url", "rediss://h:6380", "--redis-tls-ca", "@rsa_private.pem"] => ("redis_tls_ca", "holds no PEM certificate");
    tls_ca_is_a_public_key: ["--redis-url", "rediss://h:6380", "--redis-tls-ca", "@rsa_public.pem"] => ("redis_tls_ca", "holds no PEM certificate");
    tls_ca_is_a_directory: ["--redis-url", "rediss://h:6380", "--redis-tls-ca", "@"] => ("redis_tls_ca", "keys/");
    tls_ca_without_url: ["--redis-tls-ca", "@rsa_cert.pem"] => ("redis_tls_ca", "redis_url is not");
    tls_ca_with_plain_redis: ["--redis-url", "redis://h:6379", "--redis-tls-ca", "@rsa_cert.pem"] => ("redis_tls_ca", "would not use TLS");
    tls_ca_with_unix: ["--redis-url", "unix:///run/redis.sock", "--redis-tls-ca", "@rsa_cert.pem"] => ("redis_tls_ca", "not a rediss:// URL");
    tls_ca_with_insecure: ["--redis-url", "rediss://h:6380/#insecure", "--redis-tls-ca", "@rsa_cert.pem"] => ("redis_tls_ca", "#insecure");
    python_channel_in_custom_prefix: ["--redis-key-prefix", "app", "--redis-python-channel", "app-response#/#x#"] => ("redis_python_channel", "\"app\"");
    webhook_https: ["--webhook-url", "https://backend/hook", "--webhook-secret", "webhook-secret-of-at-least-32-bytes"] => ("webhook_url", "put a local TLS proxy in front");
    webhook_url_scheme: ["--webhook-url", "ftp://backend/", "--webhook-secret", "webhook-secret-of-at-least-32-bytes"] => ("webhook_url", "scheme must be http");
    webhook_url_without_secret: ["--webhook-url", "http://backend/hook"] => ("webhook_secret", "required with webhook_url");
    webhook_secret_short: ["--webhook-secret", "short"] => ("webhook_secret", "at least 32 bytes");
    webhook_events_unknown: ["--webhook-events", "connect,join"] => ("webhook_events", "unknown event type \"join\"");
    webhook_batch_max_zero: ["--webhook-batch-max", "0"] => ("webhook_batch_max", "between 1 and 10000");
    webhook_queue_zero: ["--webhook-queue", "0"] => ("webhook_queue", "between 1");
    webhook_timeout_zero: ["--webhook-timeout-ms", "0"] => ("webhook_timeout_ms", "between 1");
    webhook_attempts_zero: ["--webhook-attempts", "0"] => ("webhook_attempts", "between 1 and 20");
}

#[test]
fn tls_ca_bundle_is_read_whole() {
    // A bundle: two CAs, with text around them as `cat`ed chains often have.
    let bundle = format!(
        "# private CA\n{}\nsubject=other\n{}",
        ca_pem("one"),
        ca_pem("two")
    );
    let file = TempFile::new(&bundle);
    let c = load_ok(
        &[
            "--redis-url",
            "rediss://redis.internal:6380/0",
            "--redis-tls-ca",
            &file.path(),
        ],
        &[],
    );
    let ca = c.redis_tls_ca.as_ref().expect("set");
    assert_eq!(ca.certificates(), 2);
    assert_eq!(ca.pem(), bundle.as_bytes());
    assert_eq!(ca.path(), file.0.as_path());
    assert!(!format!("{c:?}").contains("BEGIN"), "no PEM text in Debug");
    // The fixture certificate (OpenSSL, RSA, CA:TRUE) is accepted as well.
    let c = load_ok(
        &[
            "--redis-url",
            "rediss://h",
            "--redis-tls-ca",
            &key("rsa_cert.pem"),
        ],
        &[],
    );
    assert_eq!(c.redis_tls_ca.map(|ca| ca.certificates()), Some(1));
}

#[test]
fn tls_ca_with_a_corrupt_certificate_is_refused() {
    // Valid PEM armour around bytes that are not a certificate: the redis crate would take the
    // file and fail every handshake; loading refuses it.
    let file = TempFile::new(&format!(
        "{}-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
        ca_pem("fine")
    ));
    let err = load(
        &["--redis-url", "rediss://h", "--redis-tls-ca", &file.path()],
        &[],
    )
    .expect_err("refused");
    assert_eq!(err.setting(), "redis_tls_ca", "{err}");
    assert!(err.message().contains("certificate #2"), "{err}");
    assert!(err.message().contains(&file.path()), "{err}");
}

macro_rules! tls_url_cases {
    ($($name:ident: $url:literal => ($tls:literal, $insecure:literal);)*) => {$(
        #[test]
        fn $name() {
            let url = RedisUrl::parse($url).expect("valid");
            assert_eq!((url.is_tls(), url.is_insecure()), ($tls, $insecure));
        }
    )*};
}

tls_url_cases! {
    tls_plain: "redis://h:6379/0" => (false, false);
    tls_rediss: "rediss://h:6380/0" => (true, false);
    tls_rediss_upper: "REDISS://h:6380" => (true, false);
    tls_insecure: "rediss://:pw@h:6380/0#insecure" => (true, true);
    tls_insecure_ignored_on_plain: "redis://h:6379/#insecure" => (false, false);
    tls_unix: "unix:///run/redis.sock" => (false, false);
}

/// `redis_url => fragment of the message`. (Not in `error_cases!`: its `@` is the key dir.)
macro_rules! redis_url_error_cases {
    ($($name:ident: $url:expr => $fragment:expr;)*) => {$(
        #[test]
        fn $name() {
            let err = load(&["--redis-url", $url], &[]).expect_err("must be refused");
            assert_eq!(err.setting(), "redis_url", "{err}");
            assert!(err.message().contains($fragment), "{err}");
        }
    )*};
}

redis_url_error_cases! {
    redis_empty: "" => "is empty";
    redis_scheme_http: "http://127.0.0.1:6379" => "scheme must be";
    redis_scheme_sentinel: "redis+sentinel://h:26379" => "scheme must be";
    redis_no_scheme: "127.0.0.1:6379" => "expected redis://";
    redis_space: "redis://:pass word@h" => "percent-encode";
    redis_non_ascii: "redis://:p\u{e4}ss@h" => "visible ASCII";
    redis_no_host: "redis://" => "missing host";
    redis_no_host_with_password: "redis://:pw@:6379" => "missing host";
    redis_bad_host: "redis://ho$t:6379" => "host may only contain";
    redis_port_zero: "redis://h:0" => "from 1 to 65535";
    redis_port_big: "redis://h:65536" => "from 1 to 65535";
    redis_port_empty: "redis://h:" => "from 1 to 65535";
    redis_port_plus: "redis://h:+6379" => "from 1 to 65535";
    redis_port_name: "redis://h:redis" => "from 1 to 65535";
    redis_v6_unclosed: "redis://[::1:6379" => "closing ']'";
    redis_v6_bad: "redis://[not-v6]:6379" => "not an IPv6 address";
    redis_v6_junk_after: "redis://[::1]x" => "':port'";
    redis_db_name: "redis://h:6379/zero" => "database number";
    redis_db_nested: "redis://h:6379/0/1" => "database number";
    redis_raw_slash_in_password: "redis://u:p/w@h:6379" => "'@' after the host";
    redis_raw_question_in_password: "redis://u:p?w@h:6379" => "'@' after the host";
    redis_raw_hash_in_password: "redis://u:p#w@h:6379" => "'@' after the host";
    rediss_other_fragment: "rediss://h:6380/#verify" => "only fragment";
    rediss_fragment_like_insecure: "rediss://h:6380/#insecure2" => "#insecure";
    unix_relative: "unix://run/redis.sock" => "absolute path";
    unix_no_path: "unix://" => "missing the socket path";
    unix_root_only: "unix:///" => "missing the socket path";
    unix_userinfo_password: "unix://:pw@/run/redis.sock" => "password in the query";
    unix_bad_db: "unix:///run/redis.sock?db=x" => "db must be a database number";
}

#[test]
fn redis_key_prefix_length_bound() {
    let at_bound = "p".repeat(256);
    assert_eq!(
        load_ok(&["--redis-key-prefix", &at_bound], &[]).redis_key_prefix,
        at_bound
    );
    let err = load(&["--redis-key-prefix", &"p".repeat(257)], &[]).expect_err("too long");
    assert_eq!(err.setting(), "redis_key_prefix");
    assert!(err.message().contains("is 257 bytes; at most 256"), "{err}");
}

/// `toml => fragment` for a config file.
macro_rules! file_error_cases {
    ($($name:ident: $toml:expr => $fragment:expr;)*) => {$(
        #[test]
        fn $name() {
            let file = TempFile::new($toml);
            let err = load(&["--config", &file.path()], &[]).expect_err("must be refused");
            assert_eq!(err.setting(), "config", "{err}");
            assert!(err.message().contains(&file.path()), "names the file: {err}");
            assert!(err.message().contains($fragment), "{err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    )*};
}

file_error_cases! {
    file_bad_room_policy: "room_policy = \"closed\"\n" => "line 1:";
    file_room_policy_case: "room_policy = \"Claims\"\n" => "line 1:";
    file_unknown_key: "listen = \"0.0.0.0:1\"\nwrokers = 2\n" => "line 2: unknown key `wrokers`; did you mean `workers`?";
    file_unknown_key_far_from_any: "colour = 2\n" => "unknown key `colour` (the keys are the setting names";
    file_unknown_key_lists_no_settings: "pingintervalms = 1\n" => "did you mean `ping_interval_ms`?";
    file_wrong_type: "\n\nworkers = \"two\"\n" => "line 3: workers: expected a non-negative integer, got string \"two\"";
    file_wrong_type_bool: "metrics = \"yes\"\n" => "metrics: expected true or false";
    file_wrong_type_list: "api_keys = \"k\"\n" => "api_keys: expected an array of strings";
    file_wrong_type_enum: "log_format = \"xml\"\n" => "log_format: expected \"text\" or \"json\"";
    file_negative: "max_payload = -5\n" => "line 1:";
    file_bad_syntax: "workers = \n" => "line 1:";
    file_flag_spelling: "api-key = [\"x\"]\n" => "unknown key `api-key`; did you mean `api_keys`?";
    file_config_key_not_allowed: "config = \"other.toml\"\n" => "unknown key `config`";
    file_list_not_array: "paths = \"/ws/\"\n" => "line 1:";
}

#[test]
fn semantic_errors_in_the_file_name_the_setting() {
    let file = TempFile::new(
        "jwt_algorithms = [\"none\"]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n",
    );
    let err = load(&["--config", &file.path()], &[]).expect_err("none is refused");
    assert_eq!(err.setting(), "jwt_algorithms");
}

// --- values -----------------------------------------------------------------------------------

#[test]
fn defaults() {
    let c = load_ok(&[], &[]);
    assert_eq!(
        c.listen.addrs(),
        ["0.0.0.0:8000".parse::<SocketAddr>().expect("addr")]
    );
    assert_eq!(c.paths, ["/ws/", "/socket.io/"]);
    assert!(c.workers >= 1);
    assert_eq!(
        (c.ping_interval_ms, c.ping_timeout_ms, c.connect_timeout_ms),
        (25_000, 30_000, 45_000)
    );
    assert_eq!(c.max_payload, 1_000_000);
    assert!(c.jwt_secret.is_none() && c.jwt_public_key.is_none() && c.jwt_private_key.is_none());
    assert!(c.jwt_algorithms.is_empty());
    assert_eq!(
        (
            c.jwt_issuer.as_deref(),
            c.jwt_audience.as_deref(),
            c.jwt_leeway_secs
        ),
        (None, None, 30)
    );
    assert!(c.api_keys.is_empty() && c.cors_origins.is_empty() && !c.cors_credentials);
    assert_eq!(
        (c.max_connections, c.max_connections_per_ip),
        (100_000, 1_000)
    );
    assert_eq!((c.handshake_timeout_ms, c.max_http_head), (10_000, 16_384));
    assert_eq!(
        (
            c.max_rooms_per_socket,
            c.max_outbound_bytes,
            c.max_json_depth
        ),
        (100, 4 << 20, 32)
    );
    assert_eq!((c.event_rate_per_sec, c.event_rate_burst), (100, 200));
    assert_eq!(
        (c.log_level.as_str(), c.log_format, c.metrics),
        ("info", LogFormat::Text, true)
    );
    assert_eq!(c.drain_timeout_ms, 10_000);
    assert_eq!(
        (c.room_policy, c.token_expiry_grace_ms),
        (RoomPolicy::Open, 0)
    );
    assert!(c.redis_url.is_none());
    assert_eq!(
        (
            c.redis_key_prefix.as_str(),
            c.redis_python_channel.as_str(),
            c.redis_request_timeout_ms
        ),
        ("socket.io", "socketio", 5_000)
    );
    assert!(c.dev_mode);
}

/// `--listen` forms: `text => the address`.
macro_rules! listen_cases {
    ($($name:ident: $text:literal => $addr:literal;)*) => {$(
        #[test]
        fn $name() {
            let c = load_ok(&["--listen", $text], &[]);
            assert_eq!(c.listen.to_string(), $addr);
            let c = load_ok(&[], &[("RINGCAST_LISTEN", $text)]);
            assert_eq!(c.listen.to_string(), $addr, "the environment takes the same forms");
        }
    )*};
}

listen_cases! {
    listen_ip_port: "127.0.0.1:9000" => "127.0.0.1:9000";
    listen_ipv6: "[::1]:9000" => "[::1]:9000";
    listen_colon_port: ":8000" => "0.0.0.0:8000";
    listen_bare_port: "8000" => "0.0.0.0:8000";
    listen_port_zero: ":0" => "0.0.0.0:0";
    // /etc/hosts: resolved at start, every address it names.
    listen_host_name: "localhost:9000" => "127.0.0.1:9000";
}

/// Host names through a resolver of the test's own: (text, what it resolves to) → the
/// addresses, or the error's text.
#[test]
fn listen_host_names() {
    use super::resolve::resolve_listen_with;
    let v4: SocketAddr = "127.0.0.1:9000".parse().expect("addr");
    let v6: SocketAddr = "[::1]:9000".parse().expect("addr");
    type Resolved = Result<Vec<SocketAddr>, &'static str>;
    type Want<'a> = Result<&'a [SocketAddr], &'a str>;
    let cases: &[(&str, Resolved, Want<'_>)] = &[
        ("dual:9000", Ok(vec![v4, v6]), Ok(&[v4, v6])),
        ("twice:9000", Ok(vec![v4, v4, v6]), Ok(&[v4, v6])),
        (
            "none:9000",
            Ok(vec![]),
            Err("\"none\" resolves to no address"),
        ),
        (
            "gone:9000",
            Err("no such host"),
            Err("cannot resolve \"gone\": no such host"),
        ),
        (
            "gone",
            Ok(vec![v4]),
            Err("\"gone\" is not an address; accepted forms"),
        ),
        ("gone:port", Ok(vec![v4]), Err("is not an address")),
        (":9000:1", Ok(vec![v4]), Err("is not an address")),
    ];
    for (text, resolved, want) in cases {
        let got = resolve_listen_with(text, |_, _| resolved.clone().map_err(std::io::Error::other));
        match (got, want) {
            (Ok(addrs), Ok(want)) => assert_eq!(addrs.addrs(), *want, "{text}"),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (got, _) => panic!("{text}: {got:?}"),
        }
    }
}

#[test]
fn dev_mode_is_derived_from_the_keys() {
    assert!(load_ok(&[], &[]).dev_mode);
    assert!(!load_ok(&["--jwt-secret", SECRET_A], &[]).dev_mode);
    assert!(!load_ok(&["--jwt-public-key-file", &key("rsa_public.pem")], &[]).dev_mode);
    // API keys alone do not leave dev mode: connections still need a JWT key.
    assert!(load_ok(&["--api-key", "key-a-0123456789ab"], &[]).dev_mode);
}

/// `(flags) => expected algorithm list`.
macro_rules! algorithm_cases {
    ($($name:ident: [$($arg:expr),*] => [$($alg:ident),*];)*) => {$(
        #[test]
        fn $name() {
            let dir = key("");
            let args: Vec<String> = vec![$(String::from($arg).replace('@', &dir)),*];
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_eq!(load_ok(&args, &[]).jwt_algorithms, vec![$(Algorithm::$alg),*]);
        }
    )*};
}

algorithm_cases! {
    algs_secret_default: ["--jwt-secret", SECRET_A] => [HS256];
    algs_rsa_default: ["--jwt-public-key-file", "@rsa_public.pem"] => [RS256];
    algs_p256_default: ["--jwt-public-key-file", "@ec_p256_public.pem"] => [ES256];
    algs_p384_default: ["--jwt-public-key-file", "@ec_p384_public.pem"] => [ES384];
    algs_ed25519_default: ["--jwt-public-key-file", "@ed25519_public.pem"] => [EdDSA];
    algs_both_default: ["--jwt-secret", SECRET_A, "--jwt-public-key-file", "@ec_p256_public.pem"] => [HS256, ES256];
    algs_explicit_rsa_family: ["--jwt-public-key-file", "@rsa_public.pem", "--jwt-algorithms", "PS256,RS512"] => [PS256, RS512];
    algs_explicit_dedup_and_spaces: ["--jwt-secret", SECRET_A, "--jwt-algorithms", "HS256, HS256"] => [HS256];
    algs_explicit_mixed: ["--jwt-secret", SECRET_A, "--jwt-public-key-file", "@rsa_public.pem", "--jwt-algorithms", "RS256,HS256"] => [RS256, HS256];
}

/// `[--path values] => normalised list`.
macro_rules! path_cases {
    ($($name:ident: [$($p:literal),*] => [$($want:literal),*];)*) => {$(
        #[test]
        fn $name() {
            let args: Vec<&str> = [$($p),*].iter().flat_map(|p| ["--path", *p]).collect();
            assert_eq!(load_ok(&args, &[]).paths, vec![$($want),*] as Vec<&str>);
        }
    )*};
}

path_cases! {
    path_kept: ["/ws/"] => ["/ws/"];
    path_gets_trailing_slash: ["/ws"] => ["/ws/"];
    path_gets_leading_slash: ["ws/"] => ["/ws/"];
    path_gets_both: ["socket.io"] => ["/socket.io/"];
    path_nested: ["/a/b"] => ["/a/b/"];
    path_trimmed: [" /x "] => ["/x/"];
    path_dedup_after_normalising: ["/ws", "ws/", "/other"] => ["/ws/", "/other/"];
    path_apix_is_not_api: ["/apix"] => ["/apix/"];
}

#[test]
fn env_lists_split_on_commas_and_skip_blanks() {
    let c = load_ok(
        &[],
        &[
            ("RINGCAST_PATHS", " /a , ,b/ "),
            ("RINGCAST_API_KEYS", "key-a-0123456789ab,"),
        ],
    );
    assert_eq!(c.paths, ["/a/", "/b/"]);
    assert_eq!(c.api_keys.len(), 1);
}

#[test]
fn empty_env_var_counts_as_unset() {
    let file = TempFile::new("workers = 3\n");
    let c = load_ok(
        &["--config", &file.path()],
        &[("RINGCAST_WORKERS", ""), ("RINGCAST_LISTEN", "  ")],
    );
    assert_eq!(
        c.workers, 3,
        "the file's value shows through an empty env var"
    );
    assert_eq!(c.listen.port(), 8000);
}

#[test]
fn env_bools_accept_common_spellings() {
    for (raw, want) in [
        ("1", true),
        ("yes", true),
        ("ON", true),
        ("True", true),
        ("0", false),
        ("no", false),
        ("off", false),
    ] {
        assert_eq!(
            load_ok(&[], &[("RINGCAST_METRICS", raw)]).metrics,
            want,
            "{raw}"
        );
    }
}

#[test]
fn unrelated_env_vars_are_ignored() {
    let c = load_ok(
        &[],
        &[
            ("WORKERS", "0"),
            ("RINGCASTWORKERS", "0"),
            ("RINGCAST_UNKNOWN", "x"),
        ],
    );
    assert!(c.workers >= 1);
}

#[test]
fn secret_file_drops_one_trailing_newline() {
    for (contents, want) in [
        (format!("{SECRET_A}\n"), SECRET_A.to_owned()),
        (format!("{SECRET_A}\r\n"), SECRET_A.to_owned()),
        (SECRET_A.to_owned(), SECRET_A.to_owned()),
        (format!("{SECRET_A}\n\n"), format!("{SECRET_A}\n")),
        (format!(" {SECRET_A} "), format!(" {SECRET_A} ")),
    ] {
        let file = TempFile::new(&contents);
        let c = load_ok(&["--jwt-secret-file", &file.path()], &[]);
        assert_eq!(
            c.jwt_secret.as_ref().map(Secret::expose),
            Some(want.as_str()),
            "{contents:?}"
        );
    }
}

#[test]
fn config_flag_overrides_config_env() {
    let flag_file = TempFile::new("workers = 3\n");
    let env_file = TempFile::new("workers = 5\n");
    let env = [("RINGCAST_CONFIG", env_file.0.to_str().expect("utf-8 path"))];
    assert_eq!(load_ok(&[], &env).workers, 5);
    assert_eq!(load_ok(&["--config", &flag_file.path()], &env).workers, 3);
}

#[test]
fn a_complete_file_loads() {
    let toml = format!(
        r#"
listen = "127.0.0.1:9000"
paths = ["/ws", "/socket.io"]
workers = 2
ping_interval_ms = 300
ping_timeout_ms = 200
max_payload = 1000000
connect_timeout_ms = 1000
jwt_public_key_file = "{public}"
jwt_private_key_file = "{private}"
jwt_algorithms = ["RS256", "PS256"]
jwt_issuer = "api"
jwt_audience = "ringcast"
jwt_leeway_secs = 5
api_keys = ["key-a-0123456789ab", "key-b-0123456789ab"]
cors_origins = ["https://App.Example", "https://app.example"]
cors_credentials = true
max_connections = 50000
max_connections_per_ip = 100
handshake_timeout_ms = 5000
max_http_head = 8192
max_rooms_per_socket = 10
max_outbound_bytes = 1048576
max_json_depth = 16
event_rate_per_sec = 10
event_rate_burst = 20
room_policy = "claims"
token_expiry_grace_ms = 30000
redis_url = "rediss://default:pw@redis.internal:6380/3"
redis_key_prefix = "ringcast"
redis_python_channel = "backend"
redis_request_timeout_ms = 2000
log_level = "info,ringcast=debug"
log_format = "json"
metrics = false
drain_timeout_ms = 0
"#,
        public = key("rsa_public.pem"),
        private = key("rsa_private.pem"),
    );
    let file = TempFile::new(&toml);
    let c = load_ok(&["--config", &file.path()], &[]);
    assert_eq!(c.paths, ["/ws/", "/socket.io/"]);
    assert_eq!(c.jwt_algorithms, [Algorithm::RS256, Algorithm::PS256]);
    assert_eq!(
        c.cors_origins,
        ["https://app.example"],
        "lowercased and deduplicated"
    );
    assert_eq!(c.api_keys.len(), 2);
    assert_eq!(c.log_format, LogFormat::Json);
    assert!(!c.metrics && c.cors_credentials && !c.dev_mode);
    assert_eq!(
        (c.room_policy, c.token_expiry_grace_ms),
        (RoomPolicy::Claims, 30_000)
    );
    assert_eq!(
        c.redis_url.as_ref().map(RedisUrl::expose),
        Some("rediss://default:pw@redis.internal:6380/3")
    );
    assert_eq!(
        (
            c.redis_key_prefix.as_str(),
            c.redis_python_channel.as_str(),
            c.redis_request_timeout_ms
        ),
        ("ringcast", "backend", 2_000)
    );
}

#[test]
fn the_example_file_is_valid_and_complete() {
    let path = format!("{}/ringcast.example.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("ringcast.example.toml exists");
    // Every setting is documented, commented out: `# name = ...`.
    for name in SETTING_NAMES {
        assert!(
            text.contains(&format!("\n# {name} = ")),
            "example lacks {name}"
        );
    }
    // Uncommenting every line that holds no key or certificate file gives a valid
    // configuration (the example's redis_url is plain redis://, which takes no TLS files). The
    // example secret and API key are refused (`safety_tests`), so a real secret stands in.
    let uncommented: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            SETTING_NAMES
                .iter()
                .any(|n| l.starts_with(&format!("{n} = ")))
        })
        .filter(|l| !l.contains("_file =") && !l.starts_with("redis_tls_"))
        .filter(|l| !l.starts_with("jwt_secret = ") && !l.starts_with("api_keys = "))
        .filter(|l| !l.starts_with("webhook_secret = "))
        .map(|l| format!("{l}\n"))
        .collect();
    let uncommented =
        format!("jwt_secret = {SECRET_A:?}\nwebhook_secret = {WEBHOOK_SECRET:?}\n{uncommented}");
    let file = TempFile::new(&uncommented);
    load(&["--config", &file.path()], &[]).expect("uncommented example loads");
}

#[test]
fn subcommand_flags_and_settings_mix() {
    let argv = [
        "ringcast",
        "token",
        "--sub",
        "alice",
        "--jwt-secret",
        SECRET_A,
        "--ttl",
        "2h",
        "--claim",
        "n=5",
    ];
    let cli = Cli::try_parse_from(argv).expect("parses");
    let Some(Command::Token(token)) = &cli.command else {
        panic!("token subcommand")
    };
    assert_eq!(token.sub, "alice");
    assert_eq!(token.ttl.secs(), 7200);
    assert_eq!(token.claims, vec![("n".to_owned(), serde_json::json!(5))]);
    let c =
        Config::from_settings(token.settings_over(cli.settings), &HashMap::new()).expect("valid");
    assert_eq!(c.jwt_secret.as_ref().map(Secret::expose), Some(SECRET_A));
    // Settings before the subcommand work too, and load_from ignores the subcommand.
    let c = load_ok(&["--jwt-secret", SECRET_B, "token", "--sub", "a"], &[]);
    assert_eq!(c.jwt_secret.as_ref().map(Secret::expose), Some(SECRET_B));
}

#[test]
fn token_ttl_defaults_to_an_hour() {
    let cli = Cli::try_parse_from(["ringcast", "token", "--sub", "a"]).expect("parses");
    let Some(Command::Token(token)) = cli.command else {
        panic!("token subcommand")
    };
    assert_eq!(token.ttl.secs(), 3600);
    assert!(token.claims.is_empty());
}

#[test]
fn token_takes_a_negative_ttl_and_only_its_own_flags() {
    let cli = Cli::try_parse_from(["ringcast", "token", "--sub", "a", "--ttl", "-5m"])
        .expect("an expired token, for testing");
    let Some(Command::Token(token)) = cli.command else {
        panic!("token subcommand")
    };
    assert_eq!(token.ttl.secs(), -300);
    // Server settings are not token flags (its --help stays short); key options are.
    assert!(Cli::try_parse_from(["ringcast", "token", "--sub", "a", "--workers", "2"]).is_err());
    let help = Cli::command()
        .find_subcommand_mut("token")
        .expect("token")
        .render_long_help()
        .to_string();
    for flag in [
        "--sub",
        "--ttl",
        "--claim",
        "--dev",
        "--jwt-secret",
        "--jwt-private-key-file",
    ] {
        assert!(help.contains(flag), "token --help lacks {flag}: {help}");
    }
    for flag in [
        "--workers",
        "--ping-interval-ms",
        "--cors-origin",
        "--redis-url",
    ] {
        assert!(
            !help.contains(flag),
            "token --help lists server flag {flag}: {help}"
        );
    }
}

macro_rules! ttl_cases {
    ($($name:ident: $text:literal => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let expected: Option<i64> = $expected;
            assert_eq!(parse_ttl($text).ok().map(Ttl::secs), expected, "{:?}", $text);
        }
    )*};
}

ttl_cases! {
    ttl_hour: "1h" => Some(3600);
    ttl_expired_minutes: "-5m" => Some(-300);
    ttl_expired_seconds: "-90" => Some(-90);
    ttl_expired_combined: "-1h30m" => Some(-5400);
    ttl_double_minus: "--5m" => None;
    ttl_minus_zero: "-0" => None;
    ttl_minus_alone: "-" => None;
}

#[test]
fn help_documents_every_setting_and_its_env_var() {
    let help = Cli::command().render_long_help().to_string();
    for name in SETTING_NAMES {
        let env = format!("RINGCAST_{}", name.to_ascii_uppercase());
        assert!(help.contains(&env), "help lacks {env}");
    }
    for flag in [
        "--path",
        "--api-key",
        "--cors-origin",
        "--config",
        "--jwt-algorithms",
    ] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
    assert!(help.contains("RINGCAST_CONFIG"));
    assert!(help.contains("Precedence: flag > environment > file > default"));
}

#[test]
fn help_is_an_error_through_load_from() {
    let err = load(&["--help"], &[]).expect_err("help is not a config");
    assert_eq!(err.setting(), "arguments");
}

#[test]
fn debug_never_prints_secrets() {
    let private = key("rsa_private.pem");
    let c = load_ok(
        &[
            "--jwt-secret",
            SECRET_A,
            "--jwt-public-key-file",
            &key("rsa_public.pem"),
            "--jwt-private-key-file",
            &private,
            "--api-key",
            "key-a-0123456789ab",
        ],
        &[],
    );
    let printed = format!("{c:?}");
    assert!(!printed.contains(SECRET_A), "{printed}");
    assert!(!printed.contains("key-a-0123456789ab"), "{printed}");
    assert!(!printed.contains("BEGIN"), "no PEM text: {printed}");
    assert!(
        printed.contains("rsa_private.pem"),
        "paths are fine: {printed}"
    );
    assert_eq!(format!("{:?}", Secret::new("hunter2")), "***");
}

#[test]
fn debug_never_prints_the_redis_password() {
    for (url, shows) in [
        (
            "redis://user:hunter2@10.0.0.1:6379/0",
            "redis://user:***@10.0.0.1:6379/0",
        ),
        (
            "unix:///run/redis.sock?db=1&pass=hunter2",
            "unix:///run/redis.sock?db=1&pass=***",
        ),
    ] {
        let c = load_ok(&[], &[("RINGCAST_REDIS_URL", url)]);
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains(shows), "{printed}");
    }
}

/// `url => its redacted form`; each URL is valid.
macro_rules! redact_cases {
    ($($name:ident: $url:literal => $shows:literal;)*) => {$(
        #[test]
        fn $name() {
            let url = RedisUrl::parse($url).expect("valid");
            assert_eq!(url.expose(), $url);
            assert_eq!(url.redacted(), $shows);
            assert_eq!(format!("{url:?}"), format!("RedisUrl({:?})", $shows));
        }
    )*};
}

redact_cases! {
    redact_nothing_to_hide: "redis://127.0.0.1:6379" => "redis://127.0.0.1:6379";
    redact_host_only: "redis://redis" => "redis://redis";
    redact_user_and_password: "redis://app:s3cret@h:6379/2" => "redis://app:***@h:6379/2";
    redact_password_only: "redis://:s3cret@h" => "redis://:***@h";
    redact_lone_userinfo: "redis://s3cret@h:6379" => "redis://***@h:6379";
    redact_encoded_at: "redis://u:p%40ss@h" => "redis://u:***@h";
    redact_tls: "rediss://default:s3cret@h:6380/#insecure" => "rediss://default:***@h:6380/#insecure";
    redact_query_protocol_kept: "redis://:s3cret@h/0?protocol=resp3" => "redis://:***@h/0?protocol=resp3";
    redact_ipv6: "redis://:s3cret@[::1]:6379" => "redis://:***@[::1]:6379";
    redact_unix_query: "unix:///run/redis.sock?user=app&pass=s3cret&db=3" => "unix:///run/redis.sock?user=app&pass=***&db=3";
    redact_unix_password_key: "unix:///run/redis.sock?PASSWORD=s3cret" => "unix:///run/redis.sock?PASSWORD=***";
    redact_unix_plain: "unix:///run/redis/redis.sock" => "unix:///run/redis/redis.sock";
    redact_scheme_case: "REDIS://:s3cret@h" => "REDIS://:***@h";
}

#[test]
fn redaction_hides_everything_when_not_a_url() {
    assert_eq!(redact_redis_url("s3cret"), "***");
}

#[test]
fn redis_url_errors_never_quote_the_url() {
    for url in [
        "redis://:hunter2@",
        "redis://:hunter2@h:x",
        "http://:hunter2@h",
        "redis://:hunter2@h/db",
        "redis://:hunter2/x@h",
        "unix://:hunter2@/s",
        "redis://:hunter 2@h",
    ] {
        let err = load(&["--redis-url", url], &[]).expect_err("refused");
        assert_eq!(err.setting(), "redis_url", "{err}");
        assert!(!err.to_string().contains("hunter"), "{err}");
    }
}

#[test]
fn process_env_holds_only_ringcast_variables() {
    let env = process_env().expect("the test environment is UTF-8");
    assert!(env.keys().all(|k| k.starts_with("RINGCAST_")));
}

macro_rules! duration_cases {
    ($($name:ident: $text:literal => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let expected: Option<u64> = $expected;
            assert_eq!(parse_duration($text).ok().map(|d| d.as_secs()), expected, "{:?}", $text);
        }
    )*};
}

duration_cases! {
    dur_plain_seconds: "3600" => Some(3600);
    dur_seconds: "90s" => Some(90);
    dur_minutes: "15m" => Some(900);
    dur_hours: "1h" => Some(3600);
    dur_days: "7d" => Some(604_800);
    dur_combined: "1h30m" => Some(5400);
    dur_combined_all: "1d2h3m4s" => Some(93_784);
    dur_trimmed: " 2m " => Some(120);
    dur_zero: "0" => None;
    dur_zero_unit: "0s" => None;
    dur_unknown_unit: "1w" => None;
    dur_unit_without_number: "h" => None;
    dur_number_without_unit_after_unit: "1h30" => None;
    dur_empty: "" => None;
    dur_negative: "-5s" => None;
    dur_overflow: "99999999999999999999d" => None;
    dur_overflow_multiply: "999999999999999999d" => None;
}

macro_rules! claim_cases {
    ($($name:ident: $text:literal => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let expected: Option<(&str, serde_json::Value)> = $expected;
            assert_eq!(parse_claim($text).ok(), expected.map(|(k, v)| (k.to_owned(), v)), "{:?}", $text);
        }
    )*};
}

claim_cases! {
    claim_string: "role=admin" => Some(("role", serde_json::json!("admin")));
    claim_number: "n=5" => Some(("n", serde_json::json!(5)));
    claim_bool: "admin=true" => Some(("admin", serde_json::json!(true)));
    claim_array: r#"rooms=["agent:1","task:2"]"# => Some(("rooms", serde_json::json!(["agent:1", "task:2"])));
    claim_quoted_string: r#"name="a b""# => Some(("name", serde_json::json!("a b")));
    claim_empty_value: "note=" => Some(("note", serde_json::json!("")));
    claim_value_with_equals: "q=a=b" => Some(("q", serde_json::json!("a=b")));
    claim_no_equals: "role" => None;
    claim_empty_name: "=x" => None;
}
