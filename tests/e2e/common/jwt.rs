//! Tokens for the CONNECT `auth: {token}`: good ones, and each kind of bad one a gateway must
//! refuse (RFC 7519 / RFC 8725 "JSON Web Token Best Current Practices").

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use std::path::PathBuf;

use super::{JWT_SECRET, repo};

/// One hour: far beyond any test, and beyond any clock-skew leeway.
const HOUR: i64 = 3600;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 encoding cannot fail")
}

/// A valid HS256 token for `sub`, expiring in an hour.
pub fn valid(sub: &str) -> String {
    hs256(
        &json!({"sub": sub, "exp": now() + HOUR}),
        JWT_SECRET.as_bytes(),
    )
}

/// Expired an hour ago (past any leeway: jsonwebtoken's default is 60 s).
pub fn expired() -> String {
    hs256(
        &json!({"sub": "user-1", "exp": now() - HOUR}),
        JWT_SECRET.as_bytes(),
    )
}

/// A valid token whose payload was swapped for another one (`sub` changed): the signature no
/// longer matches.
pub fn tampered() -> String {
    let token = valid("user-1");
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "admin", "exp": now() + HOUR}).to_string());
    parts[1] = &forged;
    parts.join(".")
}

/// `alg: none` with an empty signature (RFC 7519 §6 "Unsecured JWTs", which a server must not
/// accept unless configured to).
pub fn alg_none() -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "user-1", "exp": now() + HOUR}).to_string());
    format!("{header}.{claims}.")
}

/// The test RSA public key (PEM), the server's `--jwt-public-key-file`.
pub fn rsa_public_key_file() -> PathBuf {
    repo().join("tests/fixtures/keys/rsa_public.pem")
}

/// The algorithm-confusion attack (RFC 8725 §2.1): HS256 signed with the server's RSA *public*
/// key PEM as the HMAC secret, for a server that only allows RS256.
pub fn hs256_with_rsa_public_key() -> String {
    let pem = std::fs::read(rsa_public_key_file()).expect("read the test public key");
    hs256(&json!({"sub": "user-1", "exp": now() + HOUR}), &pem)
}

/// A valid RS256 token from the test private key: the control showing the RS256 server accepts
/// good tokens, so its refusals are about the token.
pub fn rs256_valid() -> String {
    let pem = std::fs::read(repo().join("tests/fixtures/keys/rsa_private.pem"))
        .expect("read the test private key");
    let key = EncodingKey::from_rsa_pem(&pem).expect("the test private key is a valid RSA PEM");
    encode(
        &Header::new(Algorithm::RS256),
        &json!({"sub": "user-1", "exp": now() + HOUR}),
        &key,
    )
    .expect("RS256 encoding")
}
