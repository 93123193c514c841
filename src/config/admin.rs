//! The admin UI's settings (`admin_*`), resolved into [`AdminConfig`]: which login, which mode,
//! which origin may call with credentials.

use std::fmt;

use super::ConfigError;

/// The Socket.IO admin UI on namespace `/admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `admin_ui`: the namespace exists.
    pub enabled: bool,
    /// `admin_username`.
    pub username: String,
    /// `admin_auth` with the hash it checks against.
    pub auth: AdminAuth,
    /// `admin_mode`.
    pub mode: AdminMode,
    /// `admin_origin`: the UI's origin, allowed cross-origin with credentials.
    pub origin: Option<String>,
}

/// How an admin UI login is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAuth {
    /// `{username, password}` against `admin_username` and the bcrypt hash; `None` only while
    /// the UI is off (a hash is then not required).
    Password(Option<AdminPasswordHash>),
    /// Every CONNECT to `/admin` is accepted (the package's `auth: false`).
    None,
}

/// What the UI is sent, as the package's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminMode {
    /// `config` and `server_stats` only.
    Production,
    /// Also `all_sockets`, `socket_connected`, `socket_disconnected`, `room_joined`, `room_left`.
    Development,
}

/// A bcrypt hash (`$2a$`/`$2b$`/`$2y$`, cost and 53 characters of salt and digest), checked to
/// parse at load. Not a secret in itself, but never printed: it can be brute-forced offline.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminPasswordHash(String);

impl AdminPasswordHash {
    /// `None` unless `hash` parses as a bcrypt hash.
    pub fn new(hash: String) -> Option<AdminPasswordHash> {
        let hash = hash.trim().to_owned();
        hash.parse::<bcrypt::HashParts>()
            .is_ok()
            .then_some(AdminPasswordHash(hash))
    }

    /// The hash text, for `bcrypt::verify`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminPasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminPasswordHash(..)")
    }
}

/// The merged raw values.
pub(super) struct Raw {
    pub enabled: bool,
    pub username: String,
    pub password_hash: Option<String>,
    pub auth: String,
    pub mode: String,
    /// Already checked as an origin (`resolve` owns the origin rules).
    pub origin: Option<String>,
}

/// Checks the `admin_*` settings; with the UI off only their forms are checked.
pub(super) fn resolve(raw: Raw) -> Result<AdminConfig, ConfigError> {
    let username = raw.username.trim().to_owned();
    if username.is_empty() {
        return Err(ConfigError::new("admin_username", "must not be empty"));
    }
    let hash = match raw.password_hash {
        Some(h) => Some(AdminPasswordHash::new(h).ok_or_else(|| {
            ConfigError::new(
                "admin_password_hash",
                "not a bcrypt hash ($2b$10$ followed by 53 characters); make one with \
                 `htpasswd -nbBC 10 admin 'password' | cut -d: -f2`",
            )
        })?),
        None => None,
    };
    let auth = match raw.auth.trim() {
        "password" => AdminAuth::Password(hash),
        "none" => AdminAuth::None,
        other => {
            return Err(ConfigError::new(
                "admin_auth",
                format!("{other:?} is not password or none"),
            ));
        }
    };
    if raw.enabled && auth == AdminAuth::Password(None) {
        return Err(ConfigError::new(
            "admin_password_hash",
            "required with admin_ui on and admin_auth = \"password\" (or set admin_auth = \"none\")",
        ));
    }
    let mode = match raw.mode.trim() {
        "production" => AdminMode::Production,
        "development" => AdminMode::Development,
        other => {
            return Err(ConfigError::new(
                "admin_mode",
                format!("{other:?} is not production or development"),
            ));
        }
    };
    Ok(AdminConfig {
        enabled: raw.enabled,
        username,
        auth,
        mode,
        origin: raw.origin,
    })
}
