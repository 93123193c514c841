//! Minting tokens: `ringcast token` and the dev-mode token.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey, Header};
use serde_json::{Map, Value};

use super::keys::encoding_key;
use super::{AuthSettings, unix_now_secs};

/// Why a token could not be minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintError {
    /// Neither `jwt_private_key_file` nor a JWT secret is configured.
    NoSigningKey,
    /// An extra claim tried to set one that has its own parameter (`sub`, `exp`, `iat`).
    ReservedClaim(&'static str),
    /// The crypto library refused to sign (a key that parsed at load but cannot sign).
    Signing,
}

impl MintError {
    /// The human message.
    pub fn message(self) -> &'static str {
        match self {
            MintError::NoSigningKey => {
                "no signing key: configure jwt_private_key_file, jwt_secret or jwt_secret_file"
            }
            MintError::ReservedClaim(_) => "sub, exp and iat are set by --sub and --ttl",
            MintError::Signing => "the key could not sign",
        }
    }
}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MintError::ReservedClaim(name) => write!(f, "claim {name:?}: {}", self.message()),
            _ => f.write_str(self.message()),
        }
    }
}

impl std::error::Error for MintError {}

/// Signs a token for `sub` valid for `ttl` from now, with the configured issuer and audience
/// and `extra_claims` (which may override `iss`/`aud`, not `sub`/`exp`/`iat`). Signs with
/// `jwt_private_key_file` when set (the first allowed algorithm for its kind), else with the
/// secret (the first allowed HS algorithm, HS256 by default).
pub fn mint(
    settings: &AuthSettings,
    sub: &str,
    ttl: Duration,
    extra_claims: &[(String, Value)],
) -> Result<String, MintError> {
    mint_at(settings, sub, ttl, extra_claims, unix_now_secs())
}

/// [`mint`] with a lifetime in signed seconds: a negative one gives a token that expired that
/// long ago (`ringcast token --ttl -5m`, for testing expiry handling).
pub fn mint_secs(
    settings: &AuthSettings,
    sub: &str,
    ttl_secs: i64,
    extra_claims: &[(String, Value)],
) -> Result<String, MintError> {
    mint_at_offset(settings, sub, ttl_secs, extra_claims, unix_now_secs())
}

/// [`mint`] with `iat` = `now_secs`.
pub fn mint_at(
    settings: &AuthSettings,
    sub: &str,
    ttl: Duration,
    extra_claims: &[(String, Value)],
    now_secs: u64,
) -> Result<String, MintError> {
    let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    mint_at_offset(settings, sub, ttl_secs, extra_claims, now_secs)
}

fn mint_at_offset(
    settings: &AuthSettings,
    sub: &str,
    ttl_secs: i64,
    extra_claims: &[(String, Value)],
    now_secs: u64,
) -> Result<String, MintError> {
    let (alg, key) = signing_key(settings)?;
    let mut claims = Map::new();
    claims.insert("sub".to_owned(), Value::from(sub));
    claims.insert("iat".to_owned(), Value::from(now_secs));
    claims.insert(
        "exp".to_owned(),
        Value::from(now_secs.saturating_add_signed(ttl_secs)),
    );
    if let Some(iss) = &settings.issuer {
        claims.insert("iss".to_owned(), Value::from(iss.as_str()));
    }
    if let Some(aud) = &settings.audience {
        claims.insert("aud".to_owned(), Value::from(aud.as_str()));
    }
    for (name, value) in extra_claims {
        if let Some(reserved) = RESERVED_CLAIMS.iter().find(|r| **r == name) {
            return Err(MintError::ReservedClaim(reserved));
        }
        claims.insert(name.clone(), value.clone());
    }
    jsonwebtoken::encode(&Header::new(alg), &claims, &key).map_err(|_| MintError::Signing)
}

const RESERVED_CLAIMS: [&str; 3] = ["sub", "exp", "iat"];

fn signing_key(settings: &AuthSettings) -> Result<(Algorithm, EncodingKey), MintError> {
    if let Some(file) = &settings.private_key {
        let kind = file.kind();
        let alg = settings
            .algorithms
            .iter()
            .copied()
            .find(|a| kind.accepts(*a))
            .unwrap_or(kind.default_algorithm());
        let key = encoding_key(file.pem(), kind).map_err(|_| MintError::Signing)?;
        return Ok((alg, key));
    }
    if let Some(secret) = &settings.secret {
        let alg = settings
            .algorithms
            .iter()
            .copied()
            .find(|a| a.family() == AlgorithmFamily::Hmac)
            .unwrap_or(Algorithm::HS256);
        return Ok((alg, EncodingKey::from_secret(secret.expose().as_bytes())));
    }
    Err(MintError::NoSigningKey)
}
