//! Authentication: the JWT a client sends in its Socket.IO CONNECT, the publish API's bearer
//! keys, and minting test tokens.
//!
//! The spec: "All WebSocket connections require a valid JWT token passed in the `auth` object
//! during connection [...] If the token is invalid or missing, the connection will be refused."
//! The client's `auth` object arrives as the CONNECT packet's JSON data, `{"token":"eyJ…"}`;
//! [`Verifier::verify_connect`] takes that text and returns the token's [`Claims`] or an
//! [`AuthError`] whose [`AuthError::connect_error_json`] is the CONNECT_ERROR data to send.
//!
//! Algorithm handling, against the classic JWT pitfalls:
//! - The header's `alg` must be in the configured allow-list before any key is touched;
//!   `none` can never be in it (RFC 7518 §3.6 "Unsecured JWS").
//! - Each algorithm is tied to one key: HS* to the secret, RS*/PS*/ES*/EdDSA to the public key
//!   of the matching kind. An HS256 token "signed" with the RSA public key's PEM bytes (the
//!   RS256 → HS256 confusion attack) finds no HMAC key when only a public key is configured.
//! - `exp` is required and, like `nbf`, checked here against a `now` the caller may pass, so
//!   tests need no clock.
//!
//! Tokens are never logged: nothing here implements `Debug` or `Display` over a token, and the
//! errors are a small `Copy` enum that carries no token text.

//!
//! The module reads no configuration itself: it works from an [`AuthSettings`], which the
//! configuration builds once its keys are read and checked.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;

mod api_keys;
mod dev;
mod keys;
mod mint;
mod verify;

pub use api_keys::ApiKeys;
pub use dev::{
    DEV_SECRET_FILE, DEV_TOKEN_TTL, DevMaterial, dev_mode_material, dev_rooms_claim,
    load_dev_secret, save_dev_secret,
};
pub(crate) use keys::key_pair_matches;
pub use keys::{KeyKind, PemFile};
#[cfg(test)]
use keys::{private_key_kind, public_key_kind};
pub use mint::{MintError, mint, mint_at, mint_secs};
pub use verify::{AuthError, Claims, ExtraClaims, MAX_TOKEN_LEN, Verifier};

/// Everything authentication needs from the configuration: the keys, the algorithms they may
/// be used with, the registered claims to require, and the publish API's keys.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// HMAC secret for HS256/384/512.
    pub secret: Option<Secret>,
    /// PEM public key (RSA, EC P-256/P-384 or Ed25519) that verifies asymmetric tokens.
    pub public_key: Option<PemFile>,
    /// PEM private key, only used to sign test tokens ([`mint`]).
    pub private_key: Option<PemFile>,
    /// Algorithms a token's header may name, each with its key above. Empty exactly in dev
    /// mode before [`dev_mode_material`] fills it.
    pub algorithms: Vec<Algorithm>,
    /// Required `iss` claim, if set.
    pub issuer: Option<String>,
    /// Required `aud` claim (one of its values), if set.
    pub audience: Option<String>,
    /// Clock skew allowed when checking `exp` and `nbf`.
    pub leeway_secs: u64,
    /// A token without `exp` is refused ([`AuthError::InvalidToken`]); when false it is
    /// accepted and never expires.
    pub require_exp: bool,
    /// Keys accepted as `Authorization: Bearer <key>` by the publish API.
    pub api_keys: Vec<Secret>,
}

/// A secret string (JWT secret, API key). `Debug` prints `***`, and there is no `Display`, so a
/// secret reaches a log only through an explicit [`Secret::expose`].
#[derive(Clone)]
pub struct Secret(String);

/// Settings that cannot work together: which setting (its canonical configuration name), and
/// why. `Display` is `setting: message`, as the configuration's own errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingError {
    setting: &'static str,
    message: String,
}

impl AuthSettings {
    /// Neither a JWT secret nor a public key: tokens cannot be verified until
    /// [`dev_mode_material`] draws a secret.
    pub fn is_dev_mode(&self) -> bool {
        self.secret.is_none() && self.public_key.is_none()
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself; every use is a place a secret could leak, so it is spelled out.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl SettingError {
    fn new(setting: &'static str, message: impl Into<String>) -> SettingError {
        SettingError {
            setting,
            message: message.into(),
        }
    }

    /// The setting at fault.
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// Why.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for SettingError {}

fn unix_now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
