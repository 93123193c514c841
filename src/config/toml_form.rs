//! How the TOML file spells a value of each setting's type, for the file layer's type errors
//! (`expected a non-negative integer` where serde would say `expected usize`).

use std::path::PathBuf;

use super::{ClusterMode, LogFormat, RoomPolicy, ShardedSubscriptionMode};

/// How a TOML file writes a value of this type, for error messages.
pub(super) trait TomlForm {
    const FORM: &'static str;
}

macro_rules! toml_form {
    ($($t:ty => $form:literal),* $(,)?) => {$(
        impl TomlForm for $t {
            const FORM: &'static str = $form;
        }
    )*};
}
toml_form! {
    u32 => "a non-negative integer",
    u64 => "a non-negative integer",
    usize => "a non-negative integer",
    bool => "true or false",
    String => "a string in double quotes",
    PathBuf => "a file path in double quotes",
    Vec<String> => "an array of strings, like [\"a\", \"b\"]",
    LogFormat => "\"text\" or \"json\"",
    RoomPolicy => "\"open\" or \"claims\"",
    ClusterMode => "\"pubsub\", \"streams\" or \"sharded\"",
    ShardedSubscriptionMode => "\"static\" or \"dynamic\"",
}
