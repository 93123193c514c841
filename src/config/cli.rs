//! The command line: [`Cli`] (server settings and an optional subcommand), the `token`
//! subcommand's arguments, and the builders the settings table uses for its clap arguments.

use std::fmt;
use std::path::PathBuf;

use clap::builder::ValueParser;
use clap::{Arg, ArgAction, Args, Parser, Subcommand, ValueEnum};

use super::{ClusterMode, LogFormat, RoomPolicy, Settings};

/// The command line: server settings and an optional subcommand. The settings belong to the
/// server: `ringcast token` takes only its own flags and the key options (the rest of a
/// configuration still comes from the environment and `--config`), so its `--help` is short.
#[derive(Parser)]
#[command(
    name = "ringcast",
    version,
    about = "A thread-per-core io_uring Socket.IO v4 real-time gateway",
    after_help = "Every setting can also come from the environment variable shown and from the \
                  TOML file given by --config (key = the setting's name with underscores, e.g. \
                  ping_interval_ms). Precedence: flag > environment > file > default. Lists \
                  in the environment are comma-separated. See ringcast.example.toml."
)]
pub struct Cli {
    /// Server settings.
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; without one, run the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Print a JWT signed with the configured jwt_private_key_file or JWT secret (or, in dev
    /// mode, the running dev server's secret), for testing.
    Token(TokenArgs),
}

/// `ringcast token` arguments.
#[derive(Args)]
pub struct TokenArgs {
    /// The token's subject (`sub` claim).
    #[arg(long)]
    pub sub: String,
    /// Lifetime: `90s`, `15m`, `1h`, `7d`, combinations like `1h30m`, or plain seconds; a
    /// leading `-` gives a token that expired that long ago (`--ttl -5m`, for testing).
    #[arg(long, default_value = "1h", value_parser = parse_ttl, allow_hyphen_values = true)]
    pub ttl: Ttl,
    /// An extra claim; VALUE is parsed as JSON when it is JSON (`rooms=["agent:1"]`, `n=5`),
    /// otherwise taken as a string. Repeatable. `sub`, `exp` and `iat` have their own flags.
    #[arg(long = "claim", value_name = "KEY=VALUE", value_parser = parse_claim)]
    pub claims: Vec<(String, serde_json::Value)>,
    /// Sign with the secret a dev-mode server saved in its state directory (the default when
    /// no key is configured); the token grants every room (`rooms: ["*"]`) unless --claim
    /// rooms=… says otherwise.
    #[arg(long)]
    pub dev: bool,
    /// TOML configuration file (for the keys, `jwt_issuer`, `jwt_audience`, `state_dir`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// HMAC secret to sign with. Prefer --jwt-secret-file: flags show up in `ps`.
    #[arg(long, value_name = "SECRET")]
    jwt_secret: Option<String>,
    /// File holding the HMAC secret.
    #[arg(long, value_name = "FILE")]
    jwt_secret_file: Option<PathBuf>,
    /// PEM public key the server verifies with (the private key must match it).
    #[arg(long, value_name = "FILE")]
    jwt_public_key_file: Option<PathBuf>,
    /// PEM private key to sign with.
    #[arg(long, value_name = "FILE")]
    jwt_private_key_file: Option<PathBuf>,
    /// The dev server's state directory (where `--dev` finds its secret).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

/// A token lifetime in seconds; negative: already expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ttl(i64);

impl Ttl {
    /// The lifetime in seconds (negative: expired that long ago).
    pub fn secs(self) -> i64 {
        self.0
    }
}

impl TokenArgs {
    /// The server settings with this command's key options over them (the flags given before
    /// `token` stay below).
    pub fn settings_over(&self, lower: Settings) -> Settings {
        let mine = Settings {
            config: self.config.clone(),
            jwt_secret: self.jwt_secret.clone(),
            jwt_secret_file: self.jwt_secret_file.clone(),
            jwt_public_key_file: self.jwt_public_key_file.clone(),
            jwt_private_key_file: self.jwt_private_key_file.clone(),
            state_dir: self.state_dir.clone(),
            ..Settings::default()
        };
        mine.over(lower)
    }
}

/// `--ttl`: [`parse_duration`], with an optional leading `-`.
pub fn parse_ttl(text: &str) -> Result<Ttl, String> {
    let text = text.trim();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let secs = parse_duration(rest)?.as_secs();
    let secs = i64::try_from(secs).map_err(|_| "duration is too long".to_owned())?;
    Ok(Ttl(sign * secs))
}

impl fmt::Debug for Cli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli").finish_non_exhaustive()
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Token(_) => f.write_str("Token"),
        }
    }
}

impl fmt::Debug for TokenArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenArgs")
            .field("sub", &self.sub)
            .field("ttl", &self.ttl)
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

/// Parses `90s`, `15m`, `1h`, `7d`, `1h30m` or plain seconds into a duration (at least 1 s).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return nonzero_secs(secs);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or("duration is too long")?,
            );
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "bad duration {text:?}: expected e.g. 90s, 15m, 1h, 7d"
                ));
            }
        };
        let n = number
            .take()
            .ok_or(format!("bad duration {text:?}: a unit needs a number"))?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or("duration is too long")?;
    }
    if number.is_some() {
        return Err(format!(
            "bad duration {text:?}: the last number needs a unit (s, m, h, d)"
        ));
    }
    nonzero_secs(total)
}

fn nonzero_secs(secs: u64) -> Result<std::time::Duration, String> {
    if secs == 0 {
        return Err("duration must be at least 1s".to_owned());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// `--claim k=v`: the value is JSON if it parses as JSON, else a string.
pub(super) fn parse_claim(text: &str) -> Result<(String, serde_json::Value), String> {
    let (key, value) = text.split_once('=').ok_or("expected KEY=VALUE")?;
    if key.is_empty() {
        return Err("empty claim name".to_owned());
    }
    let value =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

// --- what the settings table generates its arguments with -----------------------------------

/// How a setting is spelled on the command line (see [`super::macros`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// `--name VALUE`.
    Scalar,
    /// `--name true|false` (also yes/no, on/off, 1/0).
    Bool,
    /// `--item A --item B`.
    Repeated,
    /// `--name A,B`.
    Delimited,
}

/// A setting's argument (the server's; not offered to subcommands).
pub(super) fn arg(
    id: &'static str,
    flag: &'static str,
    value_name: &'static str,
    kind: Kind,
    parser: impl Into<ValueParser>,
    help: String,
) -> Arg {
    let arg = Arg::new(id)
        .long(flag)
        .value_name(value_name)
        .value_parser(parser.into())
        .help(help);
    match kind {
        Kind::Scalar | Kind::Bool => arg.action(ArgAction::Set),
        Kind::Repeated => arg.action(ArgAction::Append),
        Kind::Delimited => arg.action(ArgAction::Append).value_delimiter(','),
    }
}

/// A setting's `--help` text: its description, then `[default: …]`, `[env: …]` and, for a
/// repeated flag, the TOML key (which differs from the flag).
pub(super) fn help(
    doc: &[&str],
    default: Option<String>,
    env: &str,
    toml_key: Option<&str>,
) -> String {
    let mut text = doc
        .iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(default) = default {
        text.push_str(&format!(" [default: {default}]"));
    }
    match toml_key {
        None => text.push_str(&format!(" [env: {env}]")),
        Some(key) => text.push_str(&format!(" [env: {env} (comma list)] [toml: {key}]")),
    }
    text
}

/// A default value as `--help` shows it; `None` shows none.
pub(super) trait ShowDefault {
    fn show(&self) -> Option<String>;
}

macro_rules! show_display {
    ($($t:ty),*) => {$(
        impl ShowDefault for $t {
            fn show(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
show_display!(u32, u64, usize, bool, String);

macro_rules! show_value_enum {
    ($($t:ty),*) => {$(
        impl ShowDefault for $t {
            fn show(&self) -> Option<String> {
                self.to_possible_value().map(|v| v.get_name().to_owned())
            }
        }
    )*};
}
show_value_enum!(LogFormat, RoomPolicy, ClusterMode);

/// An empty list shows no default (say what it means with `shown`).
impl ShowDefault for Vec<String> {
    fn show(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.join(", "))
    }
}
