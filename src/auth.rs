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

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::config::{Config, ConfigError, PemFile, Secret};

/// Verifies connection tokens. Built once from the configuration, shared by every worker
/// (it is `Send + Sync`; verification takes `&self`).
pub struct Verifier {
    hmac: Option<DecodingKey>,
    public: Option<(DecodingKey, KeyKind)>,
    /// One prepared `Validation` per allowed algorithm.
    checks: Vec<(Algorithm, Validation)>,
    leeway_secs: u64,
}

/// Why a connection's token was refused. Each maps to one CONNECT_ERROR message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthError {
    /// No `auth` data, not an object, no `token`, or an empty one.
    MissingToken,
    /// Not a well-formed JWT (shape, base64, JSON, claim types, required `exp`, too long).
    InvalidToken,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    NotYetValid,
    /// The signature does not verify.
    InvalidSignature,
    /// The header's `alg` is not allowed (this includes `none`).
    WrongAlgorithm,
    /// `iss` is missing or not the configured issuer.
    InvalidIssuer,
    /// `aud` is missing or does not name the configured audience, or is present when none is
    /// configured.
    InvalidAudience,
}

/// What a verified token says. Registered claims are typed; the rest are in `extra`.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    /// `sub`: who the client is.
    pub sub: Option<String>,
    /// `exp` as whole seconds since the epoch. Always present after verification.
    pub exp: Option<u64>,
    /// `nbf`, if the token has one.
    pub nbf: Option<u64>,
    /// `iat`, if the token has one.
    pub iat: Option<u64>,
    /// `rooms`: room names the issuer lists for this client (the gateway decides what they
    /// mean).
    pub rooms: Option<Vec<String>>,
    /// Every other claim (`iss`, `aud`, custom ones).
    pub extra: Map<String, Value>,
}

/// The kind of an asymmetric key, which fixes the algorithms it can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA, 2048 bits or more: RS256/384/512 and PS256/384/512.
    Rsa,
    /// EC on P-256: ES256.
    EcP256,
    /// EC on P-384: ES384.
    EcP384,
    /// Ed25519: EdDSA.
    Ed25519,
}

/// The publish API's keys (`Authorization: Bearer <key>`).
#[derive(Clone)]
pub struct ApiKeys {
    keys: Vec<Secret>,
}

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

/// What dev mode generated: a ready-to-use token and the random API key, for `run()` to print.
#[derive(Clone)]
pub struct DevMaterial {
    /// A token for `sub` "dev", valid 24 hours.
    pub token: String,
    /// A random publish API key, already added to the configuration.
    pub api_key: String,
}

/// Longest token accepted. A JWT with a handful of claims is 200–800 bytes; 8 KiB bounds the
/// base64 and JSON work an unauthenticated client can ask for per CONNECT.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Lifetime of the dev-mode token.
pub const DEV_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

impl Verifier {
    /// Builds the verifier. Fails (as a configuration error) when no key is configured (dev
    /// mode before [`dev_mode_material`]), a key file does not parse, or an allowed algorithm
    /// has no matching key; [`Config::load`] already checks all this, so here it only trips
    /// over a `Config` edited by hand.
    pub fn new(config: &Config) -> Result<Verifier, ConfigError> {
        let hmac = config
            .jwt_secret
            .as_ref()
            .map(|s| DecodingKey::from_secret(s.expose().as_bytes()));
        let public = match &config.jwt_public_key {
            Some(file) => {
                let key = decoding_key(file.pem(), file.kind()).map_err(|why| {
                    ConfigError::new(
                        "jwt_public_key_file",
                        format!("{}: {why}", file.path().display()),
                    )
                })?;
                Some((key, file.kind()))
            }
            None => None,
        };
        if config.jwt_algorithms.is_empty() {
            return Err(ConfigError::new(
                "jwt_algorithms",
                "no JWT secret or public key is configured (dev mode: call \
                 auth::dev_mode_material first)",
            ));
        }
        let mut checks = Vec::with_capacity(config.jwt_algorithms.len());
        for &alg in &config.jwt_algorithms {
            let has_key = match alg.family() {
                AlgorithmFamily::Hmac => hmac.is_some(),
                _ => public.as_ref().is_some_and(|(_, kind)| kind.accepts(alg)),
            };
            if !has_key {
                return Err(ConfigError::new(
                    "jwt_algorithms",
                    format!("{alg:?} has no matching key configured"),
                ));
            }
            checks.push((alg, validation(alg, config)));
        }
        Ok(Verifier {
            hmac,
            public,
            checks,
            leeway_secs: config.jwt_leeway_secs,
        })
    }

    /// Checks the CONNECT `auth` data (raw JSON, e.g. `{"token":"eyJ…"}`) against the clock.
    pub fn verify_connect(&self, auth_json: Option<&str>) -> Result<Claims, AuthError> {
        self.verify_connect_at(auth_json, unix_now_secs())
    }

    /// [`Verifier::verify_connect`] at `now_secs` (seconds since the Unix epoch).
    pub fn verify_connect_at(
        &self,
        auth_json: Option<&str>,
        now_secs: u64,
    ) -> Result<Claims, AuthError> {
        let token = token_from_auth(auth_json)?;
        self.verify_token_at(&token, now_secs)
    }

    /// Checks a bare compact JWT at `now_secs`.
    pub fn verify_token_at(&self, token: &str, now_secs: u64) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        let alg = header_algorithm(token)?;
        let (_, validation) = self
            .checks
            .iter()
            .find(|(a, _)| *a == alg)
            .ok_or(AuthError::WrongAlgorithm)?;
        let key = match alg.family() {
            AlgorithmFamily::Hmac => self.hmac.as_ref(),
            _ => self.public.as_ref().map(|(key, _)| key),
        }
        .ok_or(AuthError::WrongAlgorithm)?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
            .map_err(|e| map_jwt_error(e.kind()))?;
        let claims = Claims::from_map(data.claims)?;
        let leeway = self.leeway_secs;
        // RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time
        // listed in the "exp" claim. Implementers MAY provide for some small leeway".
        if let Some(exp) = claims.exp
            && now_secs >= exp.saturating_add(leeway)
        {
            return Err(AuthError::Expired);
        }
        // RFC 7519 §4.1.5: "the current date/time MUST be after or equal to the not-before
        // date/time listed in the "nbf" claim."
        if let Some(nbf) = claims.nbf
            && now_secs.saturating_add(leeway) < nbf
        {
            return Err(AuthError::NotYetValid);
        }
        Ok(claims)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algs: Vec<Algorithm> = self.checks.iter().map(|(a, _)| *a).collect();
        f.debug_struct("Verifier")
            .field("algorithms", &algs)
            .field("leeway_secs", &self.leeway_secs)
            .finish_non_exhaustive()
    }
}

impl AuthError {
    /// The human message, also the CONNECT_ERROR `message`.
    pub fn message(self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing token",
            AuthError::InvalidToken => "invalid token",
            AuthError::Expired => "token expired",
            AuthError::NotYetValid => "token not yet valid",
            AuthError::InvalidSignature => "invalid signature",
            AuthError::WrongAlgorithm => "algorithm not allowed",
            AuthError::InvalidIssuer => "invalid issuer",
            AuthError::InvalidAudience => "invalid audience",
        }
    }

    /// The Socket.IO CONNECT_ERROR data, `{"message":"…"}`, as socket.io's own server sends
    /// for an `Error` passed to `next()` in a middleware.
    pub fn connect_error_json(self) -> &'static str {
        match self {
            AuthError::MissingToken => r#"{"message":"missing token"}"#,
            AuthError::InvalidToken => r#"{"message":"invalid token"}"#,
            AuthError::Expired => r#"{"message":"token expired"}"#,
            AuthError::NotYetValid => r#"{"message":"token not yet valid"}"#,
            AuthError::InvalidSignature => r#"{"message":"invalid signature"}"#,
            AuthError::WrongAlgorithm => r#"{"message":"algorithm not allowed"}"#,
            AuthError::InvalidIssuer => r#"{"message":"invalid issuer"}"#,
            AuthError::InvalidAudience => r#"{"message":"invalid audience"}"#,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AuthError {}

impl KeyKind {
    /// The algorithm used when `jwt_algorithms` is not set.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeyKind::Rsa => Algorithm::RS256,
            KeyKind::EcP256 => Algorithm::ES256,
            KeyKind::EcP384 => Algorithm::ES384,
            KeyKind::Ed25519 => Algorithm::EdDSA,
        }
    }

    /// Whether a key of this kind verifies `alg`.
    pub fn accepts(self, alg: Algorithm) -> bool {
        match self {
            KeyKind::Rsa => alg.family() == AlgorithmFamily::Rsa,
            KeyKind::EcP256 => alg == Algorithm::ES256,
            KeyKind::EcP384 => alg == Algorithm::ES384,
            KeyKind::Ed25519 => alg == Algorithm::EdDSA,
        }
    }

    /// "an RSA key", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::Rsa => "an RSA key",
            KeyKind::EcP256 => "an EC P-256 key",
            KeyKind::EcP384 => "an EC P-384 key",
            KeyKind::Ed25519 => "an Ed25519 key",
        }
    }
}

impl ApiKeys {
    /// The configured keys.
    pub fn new(config: &Config) -> ApiKeys {
        ApiKeys {
            keys: config.api_keys.clone(),
        }
    }

    /// No key configured: every request is refused.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether an `Authorization` header value carries one of the keys.
    ///
    /// RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`; RFC 7235 §2.1: the scheme is
    /// case-insensitive. Each key is compared in constant time and every key is compared, so
    /// timing reveals neither how much of a key matched nor which one did (only, as with any
    /// such compare, whether the lengths differ).
    pub fn check_bearer(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let value = value.trim_ascii();
        let Some((scheme, rest)) = value.split_at_checked(6) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"Bearer") || rest.first() != Some(&b' ') {
            return false;
        }
        let candidate = rest.trim_ascii_start();
        if candidate.is_empty() {
            return false;
        }
        let mut matched = subtle::Choice::from(0);
        for key in &self.keys {
            matched |= key.expose().as_bytes().ct_eq(candidate);
        }
        bool::from(matched)
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("count", &self.keys.len())
            .finish()
    }
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

impl fmt::Debug for DevMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DevMaterial { token: ***, api_key: *** }")
    }
}

/// Signs a token for `sub` valid for `ttl` from now, with the configured issuer and audience
/// and `extra_claims` (which may override `iss`/`aud`, not `sub`/`exp`/`iat`). Signs with
/// `jwt_private_key_file` when set (the first allowed algorithm for its kind), else with the
/// secret (the first allowed HS algorithm, HS256 by default).
pub fn mint(
    config: &Config,
    sub: &str,
    ttl: Duration,
    extra_claims: &[(String, Value)],
) -> Result<String, MintError> {
    mint_at(config, sub, ttl, extra_claims, unix_now_secs())
}

/// [`mint`] with `iat` = `now_secs`.
pub fn mint_at(
    config: &Config,
    sub: &str,
    ttl: Duration,
    extra_claims: &[(String, Value)],
    now_secs: u64,
) -> Result<String, MintError> {
    let (alg, key) = signing_key(config)?;
    let mut claims = Map::new();
    claims.insert("sub".to_owned(), Value::from(sub));
    claims.insert("iat".to_owned(), Value::from(now_secs));
    claims.insert(
        "exp".to_owned(),
        Value::from(now_secs.saturating_add(ttl.as_secs())),
    );
    if let Some(iss) = &config.jwt_issuer {
        claims.insert("iss".to_owned(), Value::from(iss.as_str()));
    }
    if let Some(aud) = &config.jwt_audience {
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

/// In dev mode (no JWT secret or public key configured), fills `config` with a random 32-byte
/// secret (HS256) and adds a random API key, and returns both the key and a token for `sub`
/// "dev" valid 24 hours. Returns `None` outside dev mode, or when called a second time.
///
/// # Panics
/// If the OS random number generator fails: a server that cannot draw a secret must not
/// start (there is deliberately no fixed fallback secret).
pub fn dev_mode_material(config: &mut Config) -> Option<DevMaterial> {
    if !config.dev_mode || config.jwt_secret.is_some() {
        return None;
    }
    // 43 base64url characters carry the 256 bits RFC 7518 §3.2 asks of an HS256 key, and the
    // string can be pasted into other JWT tools as is.
    config.jwt_secret = Some(Secret::new(random_token()));
    config.jwt_algorithms = vec![Algorithm::HS256];
    let api_key = random_token();
    config.api_keys.push(Secret::new(api_key.clone()));
    let token = mint(config, "dev", DEV_TOKEN_TTL, &[]).ok()?;
    Some(DevMaterial { token, api_key })
}

// --- helpers ---------------------------------------------------------------------------------

const RESERVED_CLAIMS: [&str; 3] = ["sub", "exp", "iat"];

fn unix_now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn validation(alg: Algorithm, config: &Config) -> Validation {
    let mut v = Validation::new(alg);
    // exp and nbf are checked by `verify_token_at` against its `now` parameter.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.leeway = 0;
    let mut required = vec!["exp"];
    if let Some(iss) = &config.jwt_issuer {
        v.set_issuer(&[iss]);
        // jsonwebtoken checks `iss` only when present; a configured issuer must be present.
        required.push("iss");
    }
    if let Some(aud) = &config.jwt_audience {
        v.set_audience(&[aud]);
        required.push("aud");
    }
    // With no audience configured, a token that has `aud` is refused. RFC 7519 §4.1.3: "If
    // the principal processing the claim does not identify itself with a value in the "aud"
    // claim when this claim is present, then the JWT MUST be rejected."
    v.validate_aud = true;
    v.set_required_spec_claims(&required);
    v
}

/// The `token` string in the CONNECT data, or `MissingToken`.
fn token_from_auth(auth_json: Option<&str>) -> Result<String, AuthError> {
    #[derive(Deserialize)]
    struct AuthData<'a> {
        #[serde(borrow)]
        token: Option<&'a RawValue>,
    }
    let json = auth_json.ok_or(AuthError::MissingToken)?;
    // serde would also read a struct from an array (`["eyJ…"]`); only an object counts.
    if !json.trim_start().starts_with('{') {
        return Err(AuthError::MissingToken);
    }
    let data: AuthData<'_> = serde_json::from_str(json).map_err(|_| AuthError::InvalidToken)?;
    // serde reads `"token": null` as absent too: a client that sent no token.
    let raw = data.token.ok_or(AuthError::MissingToken)?;
    let token: String = serde_json::from_str(raw.get()).map_err(|_| AuthError::InvalidToken)?;
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    Ok(token)
}

/// Reads the JOSE header's `alg` before any key is chosen, so an algorithm outside the list
/// (`none` included, which jsonwebtoken cannot even name) is `WrongAlgorithm`.
fn header_algorithm(token: &str) -> Result<Algorithm, AuthError> {
    #[derive(Deserialize)]
    struct JoseHeader {
        alg: Option<String>,
        crit: Option<IgnoredAny>,
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::InvalidToken);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::InvalidToken)?;
    let header: JoseHeader = match serde_json::from_slice(&bytes) {
        Ok(h) if bytes.trim_ascii_start().starts_with(b"{") => h,
        _ => return Err(AuthError::InvalidToken),
    };
    // RFC 7515 §4.1.11: a recipient that does not understand an extension listed in "crit"
    // MUST reject the JWS; ringcast understands none.
    if header.crit.is_some() {
        return Err(AuthError::InvalidToken);
    }
    let alg = header.alg.ok_or(AuthError::InvalidToken)?;
    alg.parse::<Algorithm>()
        .map_err(|_| AuthError::WrongAlgorithm)
}

fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::WrongAlgorithm,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::InvalidIssuer,
        ErrorKind::InvalidAudience => AuthError::InvalidAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::InvalidIssuer,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => AuthError::InvalidAudience,
        _ => AuthError::InvalidToken,
    }
}

impl Claims {
    fn from_map(mut map: Map<String, Value>) -> Result<Claims, AuthError> {
        let sub = match map.remove("sub") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(AuthError::InvalidToken),
        };
        let exp = numeric_date(map.remove("exp"))?;
        if exp.is_none() {
            // Required: without `exp` a leaked token is valid forever.
            return Err(AuthError::InvalidToken);
        }
        let nbf = numeric_date(map.remove("nbf"))?;
        let iat = numeric_date(map.remove("iat"))?;
        let rooms = match map.remove("rooms") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s),
                        _ => Err(AuthError::InvalidToken),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(AuthError::InvalidToken),
        };
        Ok(Claims {
            sub,
            exp,
            nbf,
            iat,
            rooms,
            extra: map,
        })
    }
}

/// RFC 7519 §2 NumericDate: "seconds from 1970-01-01T00:00:00Z UTC [...] non-integer values
/// can be represented"; fractions are dropped.
fn numeric_date(value: Option<Value>) -> Result<Option<u64>, AuthError> {
    let Some(value) = value else { return Ok(None) };
    let Value::Number(n) = value else {
        return Err(AuthError::InvalidToken);
    };
    if let Some(secs) = n.as_u64() {
        return Ok(Some(secs));
    }
    match n.as_f64() {
        // `as` saturates at u64::MAX for huge values, which is what "far future" should mean.
        Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
        _ => Err(AuthError::InvalidToken),
    }
}

/// The first `-----BEGIN X-----` label in a PEM text.
fn pem_label(pem: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let len = text[start..].find("-----")?;
    Some(&text[start..start + len])
}

/// Classifies a PEM public key, checking that the crypto library can parse it.
pub(crate) fn public_key_kind(pem: &[u8]) -> Result<KeyKind, String> {
    let label = pem_label(pem).ok_or("not a PEM file (no -----BEGIN line)")?;
    if label.contains("PRIVATE KEY") {
        return Err("holds a private key; give its public half \
                    (openssl pkey -in KEY -pubout)"
            .to_owned());
    }
    if label == "CERTIFICATE" {
        return Err("holds a certificate; extract its public key \
                    (openssl x509 -in CERT -pubkey -noout)"
            .to_owned());
    }
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        return Err(format!(
            "unsupported PEM block {label:?}; expected a PUBLIC KEY"
        ));
    }
    for kind in [KeyKind::Rsa, KeyKind::EcP256, KeyKind::Ed25519] {
        if let Ok(key) = decoding_key_any_curve(pem, kind) {
            return classify_decoding_key(&key, kind);
        }
    }
    Err("not an RSA, EC or Ed25519 public key".to_owned())
}

/// Classifies a PEM private key, checking that the crypto library can sign with it.
pub(crate) fn private_key_kind(pem: &[u8]) -> Result<KeyKind, String> {
    let label = pem_label(pem).ok_or("not a PEM file (no -----BEGIN line)")?;
    match label {
        "PRIVATE KEY" | "RSA PRIVATE KEY" => {}
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            return Err(
                "holds a public key; jwt_private_key_file needs the private key".to_owned(),
            );
        }
        "EC PRIVATE KEY" => {
            return Err("SEC1 EC keys are not supported; convert to PKCS#8 \
                        (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8)"
                .to_owned());
        }
        "ENCRYPTED PRIVATE KEY" => {
            return Err("encrypted private keys are not supported".to_owned());
        }
        other => {
            return Err(format!(
                "unsupported PEM block {other:?}; expected a PRIVATE KEY"
            ));
        }
    }
    let candidates = [
        (KeyKind::Rsa, Algorithm::RS256),
        (KeyKind::EcP256, Algorithm::ES256),
        (KeyKind::EcP384, Algorithm::ES384),
        (KeyKind::Ed25519, Algorithm::EdDSA),
    ];
    for (kind, alg) in candidates {
        let Ok(key) = encoding_key(pem, kind) else {
            continue;
        };
        // Deriving the public JWK makes the crypto library parse the key for real (and, for
        // EC, pins the curve).
        if let Ok(jwk) = Jwk::from_encoding_key(&key, alg) {
            if let AlgorithmParameters::RSA(rsa) = &jwk.algorithm {
                check_rsa_size(&rsa.n)?;
            }
            return Ok(kind);
        }
    }
    Err("not a usable RSA, EC (P-256, P-384) or Ed25519 private key".to_owned())
}

/// Whether a token signed with `private` verifies with `public`.
pub(crate) fn key_pair_matches(private: &PemFile, public: &PemFile, algs: &[Algorithm]) -> bool {
    let alg = algs
        .iter()
        .copied()
        .find(|a| private.kind().accepts(*a))
        .unwrap_or(private.kind().default_algorithm());
    let (Ok(enc), Ok(dec)) = (
        encoding_key(private.pem(), private.kind()),
        decoding_key(public.pem(), public.kind()),
    ) else {
        return false;
    };
    let message = b"ringcast key pair check";
    let Ok(signature) = jsonwebtoken::crypto::sign(message, &enc, alg) else {
        return false;
    };
    jsonwebtoken::crypto::verify(&signature, message, &dec, alg).unwrap_or(false)
}

fn decoding_key(pem: &[u8], kind: KeyKind) -> Result<DecodingKey, String> {
    let key = decoding_key_any_curve(pem, kind).map_err(|_| "not a usable public key")?;
    let actual = classify_decoding_key(&key, kind)?;
    if actual != kind {
        return Err(format!(
            "holds {} where {} was expected",
            actual.describe(),
            kind.describe()
        ));
    }
    Ok(key)
}

fn decoding_key_any_curve(
    pem: &[u8],
    kind: KeyKind,
) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
    match kind {
        KeyKind::Rsa => DecodingKey::from_rsa_pem(pem),
        KeyKind::EcP256 | KeyKind::EcP384 => DecodingKey::from_ec_pem(pem),
        KeyKind::Ed25519 => DecodingKey::from_ed_pem(pem),
    }
}

/// Parses the key for real through its JWK form (aws-lc parses RSA; EC and Ed are checked for
/// their point size) and returns its exact kind.
fn classify_decoding_key(key: &DecodingKey, family_hint: KeyKind) -> Result<KeyKind, String> {
    let jwk = Jwk::from_decoding_key(key, None).map_err(|_| "the key does not parse".to_owned())?;
    match (&jwk.algorithm, family_hint) {
        (AlgorithmParameters::RSA(rsa), KeyKind::Rsa) => {
            check_rsa_size(&rsa.n)?;
            Ok(KeyKind::Rsa)
        }
        (AlgorithmParameters::EllipticCurve(ec), KeyKind::EcP256 | KeyKind::EcP384) => {
            match ec.curve {
                EllipticCurve::P256 => Ok(KeyKind::EcP256),
                EllipticCurve::P384 => Ok(KeyKind::EcP384),
                _ => Err("unsupported EC curve (P-256 and P-384 are supported)".to_owned()),
            }
        }
        (AlgorithmParameters::OctetKeyPair(_), KeyKind::Ed25519) => Ok(KeyKind::Ed25519),
        _ => Err("the key does not parse".to_owned()),
    }
}

/// aws-lc verifies RSA signatures only with 2048- to 8192-bit moduli; a smaller key would
/// fail every token, so it fails the configuration instead.
fn check_rsa_size(modulus_b64: &str) -> Result<(), String> {
    let modulus = URL_SAFE_NO_PAD
        .decode(modulus_b64)
        .map_err(|_| "the RSA key does not parse")?;
    let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
    if bits < 2048 {
        return Err(format!(
            "the RSA key has about {bits} bits; at least 2048 are needed"
        ));
    }
    Ok(())
}

fn encoding_key(pem: &[u8], kind: KeyKind) -> Result<EncodingKey, jsonwebtoken::errors::Error> {
    match kind {
        KeyKind::Rsa => EncodingKey::from_rsa_pem(pem),
        KeyKind::EcP256 | KeyKind::EcP384 => EncodingKey::from_ec_pem(pem),
        KeyKind::Ed25519 => EncodingKey::from_ed_pem(pem),
    }
}

fn signing_key(config: &Config) -> Result<(Algorithm, EncodingKey), MintError> {
    if let Some(file) = &config.jwt_private_key {
        let kind = file.kind();
        let alg = config
            .jwt_algorithms
            .iter()
            .copied()
            .find(|a| kind.accepts(*a))
            .unwrap_or(kind.default_algorithm());
        let key = encoding_key(file.pem(), kind).map_err(|_| MintError::Signing)?;
        return Ok((alg, key));
    }
    if let Some(secret) = &config.jwt_secret {
        let alg = config
            .jwt_algorithms
            .iter()
            .copied()
            .find(|a| a.family() == AlgorithmFamily::Hmac)
            .unwrap_or(Algorithm::HS256);
        return Ok((alg, EncodingKey::from_secret(secret.expose().as_bytes())));
    }
    Err(MintError::NoSigningKey)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const OTHER_SECRET: &str = "fedcba9876543210fedcba9876543210";
    const NOW: u64 = 1_800_000_000;
    const HOUR: Duration = Duration::from_secs(3600);

    fn key(name: &str) -> String {
        format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn config(args: &[&str]) -> Config {
        let argv = std::iter::once("ringcast")
            .chain(args.iter().copied())
            .map(str::to_owned);
        Config::load_from(argv, &HashMap::new()).expect("test config is valid")
    }

    fn hs_config() -> Config {
        config(&["--jwt-secret", SECRET])
    }

    fn rsa_config() -> Config {
        let (public, private) = (key("rsa_public.pem"), key("rsa_private.pem"));
        config(&[
            "--jwt-public-key-file",
            &public,
            "--jwt-private-key-file",
            &private,
        ])
    }

    fn verifier(config: &Config) -> Verifier {
        Verifier::new(config).expect("verifier builds")
    }

    fn auth(token: &str) -> String {
        format!(r#"{{"token":"{token}"}}"#)
    }

    fn mint_now(config: &Config, extra: &[(&str, Value)]) -> String {
        let extra: Vec<(String, Value)> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        mint_at(config, "alice", HOUR, &extra, NOW).expect("mint")
    }

    fn verify(config: &Config, token: &str) -> Result<Claims, AuthError> {
        verifier(config).verify_connect_at(Some(&auth(token)), NOW)
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    /// A token with the given header and payload JSON and a garbage signature.
    fn raw_token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2lnbmF0dXJl", b64(header), b64(payload))
    }

    #[test]
    fn hs256_ok() {
        let cfg = hs_config();
        let claims = verify(&cfg, &mint_now(&cfg, &[])).expect("valid");
        assert_eq!(claims.sub.as_deref(), Some("alice"));
        assert_eq!(claims.exp, Some(NOW + 3600));
        assert_eq!(claims.iat, Some(NOW));
        assert_eq!(claims.rooms, None);
    }

    #[test]
    fn verify_connect_uses_the_real_clock() {
        let cfg = hs_config();
        let token = mint(&cfg, "bob", HOUR, &[]).expect("mint");
        let claims = verifier(&cfg)
            .verify_connect(Some(&auth(&token)))
            .expect("valid now");
        assert_eq!(claims.sub.as_deref(), Some("bob"));
        let old = mint_at(&cfg, "bob", HOUR, &[], 1_000_000_000).expect("mint");
        assert_eq!(
            verifier(&cfg).verify_connect(Some(&auth(&old))),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn custom_claims_and_rooms_come_back() {
        let cfg = hs_config();
        let token = mint_now(
            &cfg,
            &[
                ("rooms", serde_json::json!(["agent:1", "task:2"])),
                ("role", Value::from("admin")),
            ],
        );
        let claims = verify(&cfg, &token).expect("valid");
        assert_eq!(
            claims.rooms,
            Some(vec!["agent:1".to_owned(), "task:2".to_owned()])
        );
        assert_eq!(claims.extra.get("role"), Some(&Value::from("admin")));
        assert!(
            !claims.extra.contains_key("sub"),
            "registered claims are not duplicated"
        );
    }

    /// (exp or nbf offset from NOW, expected): leeway is 30 s by default.
    macro_rules! time_cases {
        ($($name:ident: $claim:literal $offset:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let cfg = hs_config();
                let at: i64 = NOW as i64 + $offset;
                let mut claims = Map::new();
                claims.insert("sub".into(), Value::from("alice"));
                claims.insert("exp".into(), Value::from(NOW + 3600));
                claims.insert($claim.into(), Value::from(at));
                let key = EncodingKey::from_secret(SECRET.as_bytes());
                let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
                let expected: Result<(), AuthError> = $expected;
                assert_eq!(verify(&cfg, &token).map(|_| ()), expected);
            }
        )*};
    }

    time_cases! {
        exp_in_future: "exp" 60 => Ok(());
        exp_just_passed_within_leeway: "exp" -29 => Ok(());
        exp_at_leeway_edge: "exp" -30 => Err(AuthError::Expired);
        exp_long_ago: "exp" -3600 => Err(AuthError::Expired);
        nbf_past: "nbf" -60 => Ok(());
        nbf_now: "nbf" 0 => Ok(());
        nbf_within_leeway: "nbf" 30 => Ok(());
        nbf_beyond_leeway: "nbf" 31 => Err(AuthError::NotYetValid);
        nbf_far_future: "nbf" 3600 => Err(AuthError::NotYetValid);
    }

    #[test]
    fn expired_minted_token() {
        let cfg = hs_config();
        let token = mint_at(&cfg, "alice", HOUR, &[], NOW - 2 * 3600).expect("mint");
        assert_eq!(verify(&cfg, &token), Err(AuthError::Expired));
    }

    #[test]
    fn leeway_is_configurable() {
        let cfg = config(&["--jwt-secret", SECRET, "--jwt-leeway-secs", "0"]);
        let token = mint_at(&cfg, "alice", HOUR, &[], NOW - 3600).expect("mint");
        assert_eq!(verify(&cfg, &token), Err(AuthError::Expired));
        let cfg = config(&["--jwt-secret", SECRET, "--jwt-leeway-secs", "120"]);
        let token = mint_at(&cfg, "alice", HOUR, &[], NOW - 3600 - 60).expect("mint");
        assert!(verify(&cfg, &token).is_ok());
    }

    #[test]
    fn tampered_payload_fails_the_signature() {
        let cfg = hs_config();
        let token = mint_now(&cfg, &[]);
        let parts: Vec<&str> = token.split('.').collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let forged = payload.replace("alice", "admin");
        assert_ne!(payload, forged);
        let tampered = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
        assert_eq!(verify(&cfg, &tampered), Err(AuthError::InvalidSignature));
    }

    #[test]
    fn tampered_signature_fails() {
        let cfg = hs_config();
        let token = mint_now(&cfg, &[]);
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig[0] ^= 1;
        let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(verify(&cfg, &tampered), Err(AuthError::InvalidSignature));
    }

    #[test]
    fn wrong_secret() {
        let token = mint_now(&config(&["--jwt-secret", OTHER_SECRET]), &[]);
        assert_eq!(
            verify(&hs_config(), &token),
            Err(AuthError::InvalidSignature)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let payload = format!(r#"{{"sub":"alice","exp":{}}}"#, NOW + 3600);
        let header = b64(r#"{"alg":"none","typ":"JWT"}"#);
        // The unsecured form per RFC 7515 §A.5 has an empty signature.
        let unsigned = format!("{header}.{}.", b64(&payload));
        assert_eq!(
            verify(&hs_config(), &unsigned),
            Err(AuthError::WrongAlgorithm)
        );
        assert_eq!(
            verify(&rsa_config(), &unsigned),
            Err(AuthError::WrongAlgorithm)
        );
        for alg in ["None", "NONE", "nOnE"] {
            let token = raw_token(&format!(r#"{{"alg":"{alg}"}}"#), &payload);
            assert_eq!(
                verify(&hs_config(), &token),
                Err(AuthError::WrongAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn hs256_signed_with_the_rsa_public_key_is_refused() {
        // The RS256 → HS256 confusion attack: the attacker knows the public key and uses its
        // PEM bytes as an HMAC secret, hoping the server verifies HS256 with "its key".
        let pem = std::fs::read(key("rsa_public.pem")).unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from("mallory"));
        claims.insert("exp".into(), Value::from(NOW + 3600));
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&pem),
        )
        .unwrap();
        assert_eq!(
            verify(&rsa_config(), &forged),
            Err(AuthError::WrongAlgorithm)
        );
    }

    #[test]
    fn algorithm_outside_the_list_is_refused() {
        let hs384 = config(&["--jwt-secret", &"k".repeat(48), "--jwt-algorithms", "HS384"]);
        let token = mint_now(&hs384, &[]);
        assert_eq!(token.split('.').count(), 3);
        let hs256 = config(&["--jwt-secret", &"k".repeat(48)]);
        assert_eq!(verify(&hs256, &token), Err(AuthError::WrongAlgorithm));
        assert!(verify(&hs384, &token).is_ok());
    }

    macro_rules! asymmetric_ok {
        ($($name:ident: $public:literal, $private:literal, $algs:literal => $alg:expr;)*) => {$(
            #[test]
            fn $name() {
                let (public, private) = (key($public), key($private));
                let mut args = vec!["--jwt-public-key-file", &public, "--jwt-private-key-file", &private];
                if !$algs.is_empty() {
                    args.extend(["--jwt-algorithms", $algs]);
                }
                let cfg = config(&args);
                let token = mint_now(&cfg, &[]);
                assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, $alg);
                let claims = verify(&cfg, &token).expect("valid");
                assert_eq!(claims.sub.as_deref(), Some("alice"));
            }
        )*};
    }

    asymmetric_ok! {
        rs256_ok: "rsa_public.pem", "rsa_private.pem", "" => Algorithm::RS256;
        rs256_pkcs1_public_ok: "rsa_public_pkcs1.pem", "rsa_private.pem", "" => Algorithm::RS256;
        ps256_ok: "rsa_public.pem", "rsa_private.pem", "PS256" => Algorithm::PS256;
        rs512_ok: "rsa_public.pem", "rsa_private.pem", "RS512,RS256" => Algorithm::RS512;
        es256_ok: "ec_p256_public.pem", "ec_p256_private.pem", "" => Algorithm::ES256;
        es384_ok: "ec_p384_public.pem", "ec_p384_private.pem", "" => Algorithm::ES384;
        eddsa_ok: "ed25519_public.pem", "ed25519_private.pem", "" => Algorithm::EdDSA;
    }

    #[test]
    fn rs256_signed_by_another_key_fails_the_signature() {
        let (public, private) = (key("rsa_other_public.pem"), key("rsa_other_private.pem"));
        let other = config(&[
            "--jwt-public-key-file",
            &public,
            "--jwt-private-key-file",
            &private,
        ]);
        let token = mint_now(&other, &[]);
        assert_eq!(
            verify(&rsa_config(), &token),
            Err(AuthError::InvalidSignature)
        );
    }

    #[test]
    fn es256_token_against_an_rsa_key_is_refused() {
        let (public, private) = (key("ec_p256_public.pem"), key("ec_p256_private.pem"));
        let ec = config(&[
            "--jwt-public-key-file",
            &public,
            "--jwt-private-key-file",
            &private,
        ]);
        assert_eq!(
            verify(&rsa_config(), &mint_now(&ec, &[])),
            Err(AuthError::WrongAlgorithm)
        );
    }

    #[test]
    fn secret_and_public_key_together_accept_both() {
        let public = key("rsa_public.pem");
        let both = config(&["--jwt-secret", SECRET, "--jwt-public-key-file", &public]);
        assert_eq!(
            both.jwt_algorithms,
            vec![Algorithm::HS256, Algorithm::RS256]
        );
        assert!(verify(&both, &mint_now(&hs_config(), &[])).is_ok());
        assert!(verify(&both, &mint_now(&rsa_config(), &[])).is_ok());
    }

    macro_rules! claim_cases {
        ($($name:ident: [$($flag:literal),*] + $extra:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let cfg = config(&["--jwt-secret", SECRET, $($flag),*]);
                let signer = hs_config(); // no iss/aud of its own
                let extra: Vec<(&str, Value)> = $extra;
                let token = mint_now(&signer, &extra);
                let expected: Result<(), AuthError> = $expected;
                assert_eq!(verify(&cfg, &token).map(|_| ()), expected);
            }
        )*};
    }

    claim_cases! {
        iss_matches: ["--jwt-issuer", "api"] + vec![("iss", "api".into())] => Ok(());
        iss_mismatch: ["--jwt-issuer", "api"] + vec![("iss", "evil".into())] => Err(AuthError::InvalidIssuer);
        iss_missing: ["--jwt-issuer", "api"] + vec![] => Err(AuthError::InvalidIssuer);
        iss_unchecked_when_unset: [] + vec![("iss", "anyone".into())] => Ok(());
        aud_matches: ["--jwt-audience", "ringcast"] + vec![("aud", "ringcast".into())] => Ok(());
        aud_in_array: ["--jwt-audience", "ringcast"] + vec![("aud", serde_json::json!(["x", "ringcast"]))] => Ok(());
        aud_mismatch: ["--jwt-audience", "ringcast"] + vec![("aud", "other".into())] => Err(AuthError::InvalidAudience);
        aud_missing: ["--jwt-audience", "ringcast"] + vec![] => Err(AuthError::InvalidAudience);
        aud_present_but_none_configured: [] + vec![("aud", "ringcast".into())] => Err(AuthError::InvalidAudience);
        rooms_not_an_array: [] + vec![("rooms", "agent:1".into())] => Err(AuthError::InvalidToken);
        rooms_with_a_number: [] + vec![("rooms", serde_json::json!(["agent:1", 2]))] => Err(AuthError::InvalidToken);
        nbf_not_a_number: [] + vec![("nbf", "soon".into())] => Err(AuthError::InvalidToken);
    }

    #[test]
    fn mint_uses_the_configured_issuer_and_audience() {
        let cfg = config(&[
            "--jwt-secret",
            SECRET,
            "--jwt-issuer",
            "api",
            "--jwt-audience",
            "rc",
        ]);
        let claims = verify(&cfg, &mint_now(&cfg, &[])).expect("valid");
        assert_eq!(claims.extra.get("iss"), Some(&Value::from("api")));
        assert_eq!(claims.extra.get("aud"), Some(&Value::from("rc")));
    }

    /// Hand-built payloads signed with the right secret: claim typing and required `exp`.
    macro_rules! payload_cases {
        ($($name:ident: $payload:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let payload: Value = $payload;
                let key = EncodingKey::from_secret(SECRET.as_bytes());
                let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &payload, &key).unwrap();
                let expected: Result<(), AuthError> = $expected;
                assert_eq!(verify(&hs_config(), &token).map(|_| ()), expected);
            }
        )*};
    }

    payload_cases! {
        exp_required: serde_json::json!({"sub": "a"}) => Err(AuthError::InvalidToken);
        exp_float_ok: serde_json::json!({"exp": (NOW + 60) as f64 + 0.5}) => Ok(());
        exp_string: serde_json::json!({"exp": "tomorrow"}) => Err(AuthError::InvalidToken);
        exp_negative: serde_json::json!({"exp": -1}) => Err(AuthError::InvalidToken);
        sub_not_string: serde_json::json!({"exp": NOW + 60, "sub": 5}) => Err(AuthError::InvalidToken);
        no_sub_ok: serde_json::json!({"exp": NOW + 60}) => Ok(());
        iat_negative: serde_json::json!({"exp": NOW + 60, "iat": -1}) => Err(AuthError::InvalidToken);
        payload_not_object: serde_json::json!([1, 2]) => Err(AuthError::InvalidToken);
    }

    macro_rules! connect_cases {
        ($($name:ident: $auth:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let auth: Option<String> = $auth;
                let got = verifier(&hs_config()).verify_connect_at(auth.as_deref(), NOW);
                assert_eq!(got.map(|_| ()), $expected);
            }
        )*};
    }

    connect_cases! {
        no_auth: None => Err(AuthError::MissingToken);
        empty_object: Some("{}".into()) => Err(AuthError::MissingToken);
        token_null: Some(r#"{"token":null}"#.into()) => Err(AuthError::MissingToken);
        token_empty: Some(r#"{"token":""}"#.into()) => Err(AuthError::MissingToken);
        other_fields_only: Some(r#"{"jwt":"x"}"#.into()) => Err(AuthError::MissingToken);
        auth_string: Some(r#""eyJ""#.into()) => Err(AuthError::MissingToken);
        auth_array: Some(r#"["eyJ"]"#.into()) => Err(AuthError::MissingToken);
        auth_number: Some("5".into()) => Err(AuthError::MissingToken);
        auth_null: Some("null".into()) => Err(AuthError::MissingToken);
        auth_not_json: Some("{token".into()) => Err(AuthError::InvalidToken);
        token_number: Some(r#"{"token":5}"#.into()) => Err(AuthError::InvalidToken);
        token_object: Some(r#"{"token":{"a":1}}"#.into()) => Err(AuthError::InvalidToken);
        token_garbage: Some(r#"{"token":"abc"}"#.into()) => Err(AuthError::InvalidToken);
        token_two_parts: Some(r#"{"token":"a.b"}"#.into()) => Err(AuthError::InvalidToken);
        token_four_parts: Some(r#"{"token":"a.b.c.d"}"#.into()) => Err(AuthError::InvalidToken);
        header_not_base64: Some(r#"{"token":"!!!.e30.c2ln"}"#.into()) => Err(AuthError::InvalidToken);
        header_not_json: Some(auth(&format!("{}.e30.c2ln", b64("alg")))) => Err(AuthError::InvalidToken);
        header_is_array: Some(auth(&raw_token(r#"["HS256"]"#, "{}"))) => Err(AuthError::InvalidToken);
        header_without_alg: Some(auth(&raw_token(r#"{"typ":"JWT"}"#, "{}"))) => Err(AuthError::InvalidToken);
        header_with_crit: Some(auth(&raw_token(r#"{"alg":"HS256","crit":["exp"]}"#, "{}"))) => Err(AuthError::InvalidToken);
        header_unknown_alg: Some(auth(&raw_token(r#"{"alg":"HS1"}"#, "{}"))) => Err(AuthError::WrongAlgorithm);
        bad_signature_base64: Some(auth(&format!("{}.e30.***", b64(r#"{"alg":"HS256"}"#)))) => Err(AuthError::InvalidToken);
        token_too_long: Some(auth(&format!("{}.{}.c2ln", b64(r#"{"alg":"HS256"}"#), "A".repeat(MAX_TOKEN_LEN)))) => Err(AuthError::InvalidToken);
        duplicate_token_key: Some(r#"{"token":"a","token":"b"}"#.into()) => Err(AuthError::InvalidToken);
    }

    #[test]
    fn escaped_token_string_is_unescaped() {
        let cfg = hs_config();
        let token = mint_now(&cfg, &[]);
        // `e` as \u0065: a JSON encoder may escape any character.
        let escaped = format!(r#"{{"token":"\u0065{}"}}"#, &token[1..]);
        assert!(token.starts_with('e'));
        assert!(
            verifier(&cfg)
                .verify_connect_at(Some(&escaped), NOW)
                .is_ok()
        );
    }

    #[test]
    fn auth_error_messages_and_connect_error_json() {
        let all = [
            (AuthError::MissingToken, "missing token"),
            (AuthError::InvalidToken, "invalid token"),
            (AuthError::Expired, "token expired"),
            (AuthError::NotYetValid, "token not yet valid"),
            (AuthError::InvalidSignature, "invalid signature"),
            (AuthError::WrongAlgorithm, "algorithm not allowed"),
            (AuthError::InvalidIssuer, "invalid issuer"),
            (AuthError::InvalidAudience, "invalid audience"),
        ];
        for (error, message) in all {
            assert_eq!(error.message(), message);
            assert_eq!(error.to_string(), message);
            let json: Value = serde_json::from_str(error.connect_error_json()).unwrap();
            assert_eq!(json, serde_json::json!({ "message": message }));
        }
    }

    macro_rules! bearer_cases {
        ($($name:ident: $header:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let cfg = config(&["--api-key", "key-one-0123456789", "--api-key", "key-two-0123456789"]);
                let keys = ApiKeys::new(&cfg);
                let header: Option<&str> = $header;
                assert_eq!(keys.check_bearer(header.map(str::as_bytes)), $expected, "{header:?}");
            }
        )*};
    }

    bearer_cases! {
        bearer_first_key: Some("Bearer key-one-0123456789") => true;
        bearer_second_key: Some("Bearer key-two-0123456789") => true;
        bearer_scheme_case_insensitive: Some("bEARER key-one-0123456789") => true;
        bearer_extra_spaces: Some("  Bearer   key-one-0123456789 \t") => true;
        bearer_absent: None => false;
        bearer_empty: Some("") => false;
        bearer_no_key: Some("Bearer ") => false;
        bearer_no_space: Some("Bearerkey-one-0123456789") => false;
        bearer_tab_separator: Some("Bearer\tkey-one-0123456789") => false;
        bearer_basic_scheme: Some("Basic key-one-0123456789") => false;
        bearer_wrong_key: Some("Bearer key-three-0123456789") => false;
        bearer_prefix_of_key: Some("Bearer key-one-012345678") => false;
        bearer_key_plus_extra: Some("Bearer key-one-0123456789x") => false;
        bearer_key_alone: Some("key-one-0123456789") => false;
        bearer_case_of_key_matters: Some("Bearer KEY-ONE-0123456789") => false;
    }

    #[test]
    fn no_api_keys_refuses_everything() {
        let keys = ApiKeys::new(&hs_config());
        assert!(keys.is_empty());
        assert!(!keys.check_bearer(Some(b"Bearer anything-at-all-123")));
        assert!(!format!("{keys:?}").contains("anything"));
    }

    #[test]
    fn api_keys_debug_hides_keys() {
        let cfg = config(&["--api-key", "key-one-0123456789"]);
        let printed = format!("{:?} {:?}", ApiKeys::new(&cfg), cfg);
        assert!(!printed.contains("key-one"), "{printed}");
    }

    #[test]
    fn mint_refuses_reserved_claims() {
        let cfg = hs_config();
        for name in ["sub", "exp", "iat"] {
            let extra = [(name.to_owned(), Value::from(1))];
            assert_eq!(
                mint_at(&cfg, "alice", HOUR, &extra, NOW),
                Err(MintError::ReservedClaim(name))
            );
        }
    }

    #[test]
    fn mint_extra_claims_override_iss() {
        let cfg = config(&["--jwt-secret", SECRET, "--jwt-issuer", "api"]);
        let token = mint_now(&cfg, &[("iss", Value::from("evil"))]);
        assert_eq!(verify(&cfg, &token), Err(AuthError::InvalidIssuer));
    }

    #[test]
    fn mint_without_a_key_fails() {
        let dev = config(&[]);
        assert!(dev.dev_mode);
        assert_eq!(
            mint_at(&dev, "a", HOUR, &[], NOW),
            Err(MintError::NoSigningKey)
        );
        assert!(
            Verifier::new(&dev).is_err(),
            "dev mode needs dev_mode_material first"
        );
    }

    #[test]
    fn mint_picks_the_first_allowed_hs_algorithm() {
        let cfg = config(&[
            "--jwt-secret",
            &"k".repeat(64),
            "--jwt-algorithms",
            "HS512,HS256",
        ]);
        let token = mint_now(&cfg, &[]);
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().alg,
            Algorithm::HS512
        );
    }

    #[test]
    fn dev_mode_material_fills_the_config() {
        let mut cfg = config(&[]);
        let dev = dev_mode_material(&mut cfg).expect("dev mode");
        assert!(cfg.dev_mode, "still reported as dev mode so run() can warn");
        let secret = cfg
            .jwt_secret
            .as_ref()
            .expect("secret filled")
            .expose()
            .to_owned();
        assert_eq!(secret.len(), 43, "32 random bytes, base64url");
        assert_eq!(cfg.jwt_algorithms, vec![Algorithm::HS256]);
        assert!(
            ApiKeys::new(&cfg).check_bearer(Some(format!("Bearer {}", dev.api_key).as_bytes()))
        );
        let claims = verifier(&cfg)
            .verify_connect(Some(&auth(&dev.token)))
            .expect("token valid");
        assert_eq!(claims.sub.as_deref(), Some("dev"));
        assert_eq!(claims.exp.unwrap() - claims.iat.unwrap(), 24 * 3600);
        assert!(!format!("{dev:?}").contains(&dev.api_key));
        assert!(dev_mode_material(&mut cfg).is_none(), "only once");
    }

    #[test]
    fn dev_mode_material_is_random() {
        let (mut a, mut b) = (config(&[]), config(&[]));
        let (da, db) = (
            dev_mode_material(&mut a).unwrap(),
            dev_mode_material(&mut b).unwrap(),
        );
        assert_ne!(da.api_key, db.api_key);
        assert_ne!(
            a.jwt_secret.as_ref().unwrap().expose(),
            b.jwt_secret.as_ref().unwrap().expose()
        );
        assert!(verifier(&b).verify_connect(Some(&auth(&da.token))).is_err());
    }

    #[test]
    fn no_dev_material_outside_dev_mode() {
        let mut cfg = hs_config();
        assert!(dev_mode_material(&mut cfg).is_none());
        assert_eq!(cfg.jwt_secret.unwrap().expose(), SECRET);
        assert!(cfg.api_keys.is_empty());
    }

    macro_rules! key_kind_cases {
        ($($name:ident: $classify:ident($file:literal) => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let pem = std::fs::read(key($file)).unwrap();
                let expected: Result<KeyKind, &str> = $expected;
                match (expected, $classify(&pem)) {
                    (Ok(kind), got) => assert_eq!(got, Ok(kind)),
                    (Err(fragment), Err(why)) => assert!(why.contains(fragment), "{why}"),
                    (Err(_), Ok(kind)) => panic!("accepted as {kind:?}"),
                }
            }
        )*};
    }

    key_kind_cases! {
        public_rsa: public_key_kind("rsa_public.pem") => Ok(KeyKind::Rsa);
        public_rsa_pkcs1: public_key_kind("rsa_public_pkcs1.pem") => Ok(KeyKind::Rsa);
        public_p256: public_key_kind("ec_p256_public.pem") => Ok(KeyKind::EcP256);
        public_p384: public_key_kind("ec_p384_public.pem") => Ok(KeyKind::EcP384);
        public_ed25519: public_key_kind("ed25519_public.pem") => Ok(KeyKind::Ed25519);
        public_given_private: public_key_kind("rsa_private.pem") => Err("private key");
        public_given_cert: public_key_kind("rsa_cert.pem") => Err("certificate");
        public_given_readme: public_key_kind("README.md") => Err("not a PEM");
        private_rsa: private_key_kind("rsa_private.pem") => Ok(KeyKind::Rsa);
        private_p256: private_key_kind("ec_p256_private.pem") => Ok(KeyKind::EcP256);
        private_p384: private_key_kind("ec_p384_private.pem") => Ok(KeyKind::EcP384);
        private_ed25519: private_key_kind("ed25519_private.pem") => Ok(KeyKind::Ed25519);
        private_given_public: private_key_kind("rsa_public.pem") => Err("public key");
    }

    #[test]
    fn truncated_pem_is_refused() {
        let pem = std::fs::read_to_string(key("rsa_public.pem")).unwrap();
        let truncated = format!("{}\n-----END PUBLIC KEY-----\n", &pem[..pem.len() / 2]);
        assert!(public_key_kind(truncated.as_bytes()).is_err());
        let pem = std::fs::read_to_string(key("ec_p256_private.pem")).unwrap();
        let truncated = format!("{}\n-----END PRIVATE KEY-----\n", &pem[..pem.len() / 2]);
        assert!(private_key_kind(truncated.as_bytes()).is_err());
    }

    #[test]
    fn key_kind_algorithms() {
        assert!(KeyKind::Rsa.accepts(Algorithm::PS384));
        assert!(!KeyKind::Rsa.accepts(Algorithm::HS256));
        assert!(!KeyKind::EcP256.accepts(Algorithm::ES384));
        assert!(!KeyKind::EcP384.accepts(Algorithm::ES256));
        assert!(KeyKind::Ed25519.accepts(Algorithm::EdDSA));
        for kind in [
            KeyKind::Rsa,
            KeyKind::EcP256,
            KeyKind::EcP384,
            KeyKind::Ed25519,
        ] {
            assert!(kind.accepts(kind.default_algorithm()));
        }
    }
}
