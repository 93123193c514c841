//! `settings!`, which turns the table in [`super::settings`] into everything that spells a
//! setting: the raw layer type [`super::Settings`] and its clap arguments (flag, value name,
//! `--help` text), its environment variables, its TOML keys, its default and
//! [`super::SETTING_NAMES`].
//!
//! A row of the table:
//!
//! ```text
//! /// Help text, without the default and the environment variable: both are appended.
//! name: Type => Kind {
//!     flag: "flag-name", value: "VALUE_NAME", env: "RINGCAST_NAME",
//!     default: expression,   // optional: the value when no layer sets it
//!     shown: "text",         // optional: `[default: text]` in --help instead of the value
//! }
//! ```
//!
//! `Kind` is how the command line spells the value: `Scalar` (`--name V`, parsed with
//! `clap::value_parser!(Type)`), `Bool` (`--name true|false|yes|no|1|0|on|off`), `Repeated`
//! (a `Vec<String>`: `--flag A --flag B`; the environment takes a comma list, the file an array)
//! or `Delimited` (a `Vec<String>`: `--name A,B`).

/// Expands the settings table; see the module documentation.
macro_rules! settings {
    // --- helpers: one piece of a row ----------------------------------------------------------

    // The merged type: a setting with a default always has a value.
    (@merged $ty:ty) => { Option<$ty> };
    (@merged $ty:ty, $default:expr) => { $ty };

    // The merged value.
    (@value $raw:expr) => { $raw };
    (@value $raw:expr, $default:expr) => { $raw.unwrap_or_else(|| $default) };

    // `[default: …]` in --help: the `shown` text, else the default value, else nothing.
    (@shown $ty:ty; $shown:literal; $($default:expr)?) => { Some(String::from($shown)) };
    (@shown $ty:ty; ; $default:expr) => {{
        let default: $ty = $default;
        super::cli::ShowDefault::show(&default)
    }};
    (@shown $ty:ty; ;) => { None };

    // The clap value parser.
    (@parser Scalar, $ty:ty) => { clap::value_parser!($ty) };
    (@parser Bool, $ty:ty) => { clap::builder::BoolishValueParser::new() };
    (@parser Repeated, $ty:ty) => { clap::value_parser!(String) };
    (@parser Delimited, $ty:ty) => { clap::value_parser!(String) };

    // The value clap parsed, if any.
    (@matched Scalar, $ty:ty, $m:ident, $id:expr) => { $m.get_one::<$ty>($id).cloned() };
    (@matched Bool, $ty:ty, $m:ident, $id:expr) => { $m.get_one::<$ty>($id).cloned() };
    (@matched Repeated, $ty:ty, $m:ident, $id:expr) => {
        $m.get_many::<String>($id).map(|values| values.cloned().collect())
    };
    (@matched Delimited, $ty:ty, $m:ident, $id:expr) => {
        $m.get_many::<String>($id).map(|values| values.cloned().collect())
    };

    // A repeated flag is named after one item (`--path`): --help names the TOML key as well.
    (@toml_key Repeated, $name:ident) => { Some(stringify!($name)) };
    (@toml_key $kind:ident, $name:ident) => { None };

    // --- the table ----------------------------------------------------------------------------
    (
        $(#[doc = $config_doc:literal])+
        config: PathBuf => Scalar { flag: $config_flag:literal, value: $config_value:literal, env: $config_env:literal, }

        $(
            $(#[doc = $doc:literal])+
            $name:ident: $ty:ty => $kind:ident {
                flag: $flag:literal,
                value: $value:literal,
                env: $env:literal,
                $(default: $default:expr,)?
                $(shown: $shown:literal,)?
            }
        )*
    ) => {
        /// One layer of raw settings: what the flags, the environment or the file said, each
        /// field `None` when that layer is silent. Field names are the canonical setting names.
        #[derive(Default)]
        pub struct Settings {
            pub(super) config: Option<PathBuf>,
            $(pub(super) $name: Option<$ty>,)*
        }

        /// The file layer: the TOML keys are the setting names; `config` is not one of them.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct FileSettings {
            $($name: Option<$ty>,)*
        }

        /// The layers merged and the defaults applied: a setting with a default has a value.
        pub(super) struct Merged {
            $(pub(super) $name: settings!(@merged $ty $(, $default)?),)*
        }

        /// Every setting's canonical name (TOML key; env var after `RINGCAST_` + uppercase).
        pub const SETTING_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// How the TOML file spells a value of the setting `name` (`a non-negative integer`),
        /// for type errors; `None` for a name that is not a file key.
        pub(super) fn toml_form(name: &str) -> Option<&'static str> {
            match name {
                $(stringify!($name) => Some(<$ty as super::toml_form::TomlForm>::FORM),)*
                _ => None,
            }
        }

        impl Settings {
            /// `self` where set, `lower` elsewhere.
            pub(super) fn over(self, lower: Settings) -> Settings {
                Settings {
                    config: self.config.or(lower.config),
                    $($name: self.$name.or(lower.$name),)*
                }
            }

            /// The environment layer.
            pub(super) fn from_env(env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
                Ok(Settings {
                    config: super::env::value(env, $config_env)?,
                    $($name: super::env::value(env, $env)?,)*
                })
            }

            /// The lowest layer: the defaults.
            pub(super) fn with_defaults(self) -> Merged {
                Merged {
                    $($name: settings!(@value self.$name $(, $default)?),)*
                }
            }
        }

        impl From<FileSettings> for Settings {
            fn from(file: FileSettings) -> Settings {
                Settings {
                    config: None,
                    $($name: file.$name,)*
                }
            }
        }

        impl clap::Args for Settings {
            fn group_id() -> Option<clap::Id> {
                Some(clap::Id::from("Settings"))
            }

            fn augment_args(cmd: clap::Command) -> clap::Command {
                use super::cli::{Kind, arg, help};
                cmd.arg(arg(
                    "config",
                    $config_flag,
                    $config_value,
                    Kind::Scalar,
                    clap::value_parser!(PathBuf),
                    help(&[$($config_doc),+], None, $config_env, None),
                ))
                $(.arg(arg(
                    stringify!($name),
                    $flag,
                    $value,
                    Kind::$kind,
                    settings!(@parser $kind, $ty),
                    help(
                        &[$($doc),+],
                        settings!(@shown $ty; $($shown)?; $($default)?),
                        $env,
                        settings!(@toml_key $kind, $name),
                    ),
                )))*
                .group(
                    clap::ArgGroup::new("Settings")
                        .multiple(true)
                        .args(["config", $(stringify!($name)),*]),
                )
            }

            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }

        impl clap::FromArgMatches for Settings {
            fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
                Ok(Settings {
                    config: matches.get_one::<PathBuf>("config").cloned(),
                    $($name: settings!(@matched $kind, $ty, matches, stringify!($name)),)*
                })
            }

            fn update_from_arg_matches(
                &mut self,
                matches: &clap::ArgMatches,
            ) -> Result<(), clap::Error> {
                let update = Settings::from_arg_matches(matches)?;
                *self = update.over(std::mem::take(self));
                Ok(())
            }
        }
    };
}

pub(super) use settings;
