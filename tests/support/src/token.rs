//! Every token the suites mint: good ones, and each kind of bad one a gateway must refuse
//! (RFC 7519, RFC 8725 "JSON Web Token Best Current Practices"). One implementation, on the
//! same jsonwebtoken as ringcast's own `auth::mint`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::{SECRET, fixture};

/// The subject of [`good`] tokens.
pub const SUB: &str = "user-1";

/// One hour: far beyond any test, and beyond any clock-skew leeway (jsonwebtoken's is 60 s).
pub const HOUR: i64 = 3600;

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `{sub, iat, exp}` with `exp` `ttl` seconds from now (negative: in the past).
pub fn claims_for(sub: &str, ttl: i64) -> Value {
    let now = now_secs();
    json!({"sub": sub, "iat": now, "exp": now.saturating_add_signed(ttl)})
}

/// [`claims_for`] the subject [`SUB`].
pub fn claims(ttl: i64) -> Value {
    claims_for(SUB, ttl)
}

/// Valid claims (an hour) whose `rooms` claim grants `rooms`.
pub fn claims_with_rooms(rooms: &[&str]) -> Value {
    let mut c = claims(HOUR);
    c["rooms"] = rooms.into();
    c
}

/// An HS256 token over `claims` with `secret`.
pub fn hs256(secret: &[u8], claims: &Value) -> String {
    let key = EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
        .expect("HS256 signing of JSON claims cannot fail")
}

/// An RS256 token over `claims` with a PEM private key.
pub fn rs256(private_pem: &[u8], claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(private_pem).expect("the key is an RSA private key PEM");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key)
        .expect("RS256 signing of JSON claims")
}

/// A valid HS256 token for `sub` under the test [`SECRET`], expiring in an hour.
pub fn valid(sub: &str) -> String {
    hs256(SECRET.as_bytes(), &claims_for(sub, HOUR))
}

/// A valid token for [`SUB`].
pub fn good() -> String {
    valid(SUB)
}

/// Expired an hour ago (past any leeway).
pub fn expired() -> String {
    hs256(SECRET.as_bytes(), &claims(-HOUR))
}

/// An unsigned token (RFC 7519 §6.1 "Unsecured JWT"): `header` as given, empty signature.
pub fn unsigned(header: &str, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// `alg: none` over valid claims.
pub fn alg_none() -> String {
    unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims(HOUR))
}

/// `token` with its payload replaced by `claims` and the signature kept: it no longer matches.
pub fn tampered(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts.get(2).copied().unwrap_or("")
    )
}

/// A token signed with HS256 under a header of our choosing (`crit`, odd `alg` spellings):
/// `encode` only writes headers it understands, so the signing input is built here.
pub fn hs256_with_header(header: &str, claims: &Value, secret: &[u8]) -> String {
    let signing = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = EncodingKey::from_secret(secret);
    let sig = jsonwebtoken::crypto::sign(signing.as_bytes(), &key, Algorithm::HS256)
        .expect("HMAC signing cannot fail");
    format!("{signing}.{sig}")
}

/// A test key from `tests/fixtures/keys` (`rsa_private.pem`, `rsa_public.pem`,
/// `rsa_other_private.pem`).
pub fn key_file(name: &str) -> PathBuf {
    fixture(&format!("keys/{name}"))
}

/// A test key's PEM bytes.
pub fn key_pem(name: &str) -> Vec<u8> {
    let path = key_file(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A valid RS256 token from the test private key.
pub fn rs256_valid() -> String {
    rs256(&key_pem("rsa_private.pem"), &claims(HOUR))
}

/// The algorithm-confusion attack (RFC 8725 §2.1): HS256 signed with the server's RSA *public*
/// key PEM as the HMAC secret, for a server that only allows RS256.
pub fn hs256_with_rsa_public_key() -> String {
    hs256(&key_pem("rsa_public.pem"), &claims(HOUR))
}
