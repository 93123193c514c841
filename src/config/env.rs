//! The environment layer: `RINGCAST_*` variables. An empty variable counts as unset, the way
//! `docker run -e X=` and compose files leave placeholders; a list is comma-separated.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::ValueEnum;

use super::{ClusterMode, ConfigError, LogFormat, RoomPolicy, ShardedSubscriptionMode};

const ENV_PREFIX: &str = "RINGCAST_";

/// The process environment's `RINGCAST_*` variables. A non-UTF-8 value is an error rather than
/// silently ignored (`std::env::vars` would panic on it).
pub fn process_env() -> Result<HashMap<String, String>, ConfigError> {
    let mut env = HashMap::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if !key.starts_with(ENV_PREFIX) {
            continue;
        }
        let value = value
            .into_string()
            .map_err(|_| ConfigError::new(key, "value is not valid UTF-8"))?;
        env.insert(key.to_owned(), value);
    }
    Ok(env)
}

/// A value type an environment variable can hold.
pub(super) trait EnvValue: Sized {
    fn parse_env(raw: &str) -> Result<Self, String>;
}

/// The variable `key`, parsed; `None` when it is absent or blank. An error names the variable.
pub(super) fn value<T: EnvValue>(
    env: &HashMap<String, String>,
    key: &'static str,
) -> Result<Option<T>, ConfigError> {
    match env.get(key).map(|raw| raw.trim()) {
        None | Some("") => Ok(None),
        Some(raw) => T::parse_env(raw)
            .map(Some)
            .map_err(|why| ConfigError::new(key, why)),
    }
}

impl EnvValue for String {
    fn parse_env(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
}

impl EnvValue for PathBuf {
    fn parse_env(raw: &str) -> Result<Self, String> {
        Ok(PathBuf::from(raw))
    }
}

impl EnvValue for Vec<String> {
    fn parse_env(raw: &str) -> Result<Self, String> {
        Ok(raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

macro_rules! env_integer {
    ($($t:ty),*) => {$(
        impl EnvValue for $t {
            fn parse_env(raw: &str) -> Result<Self, String> {
                raw.parse().map_err(|_| format!("{raw:?} is not a non-negative integer"))
            }
        }
    )*};
}
env_integer!(u32, u64, usize);

impl EnvValue for bool {
    fn parse_env(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("{raw:?} is not a boolean (true/false)")),
        }
    }
}

impl EnvValue for LogFormat {
    fn parse_env(raw: &str) -> Result<Self, String> {
        LogFormat::from_str(raw, true).map_err(|_| format!("{raw:?} is not text or json"))
    }
}

impl EnvValue for ClusterMode {
    fn parse_env(raw: &str) -> Result<Self, String> {
        ClusterMode::from_str(raw, true)
            .map_err(|_| format!("{raw:?} is not pubsub, streams or sharded"))
    }
}

impl EnvValue for ShardedSubscriptionMode {
    fn parse_env(raw: &str) -> Result<Self, String> {
        ShardedSubscriptionMode::from_str(raw, true)
            .map_err(|_| format!("{raw:?} is not static or dynamic"))
    }
}

impl EnvValue for RoomPolicy {
    fn parse_env(raw: &str) -> Result<Self, String> {
        RoomPolicy::from_str(raw, true).map_err(|_| format!("{raw:?} is not open or claims"))
    }
}
