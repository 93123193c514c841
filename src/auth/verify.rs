//! Verifying the token a client sends in its Socket.IO CONNECT.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::keys::{KeyKind, decoding_key};
use super::{AuthSettings, SettingError, unix_now_secs};

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
    /// Not a well-formed JWT (shape, base64, JSON, claim types, `exp` missing while required,
    /// too long).
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
    /// `exp` as whole seconds since the epoch. Always present after verification unless
    /// [`AuthSettings::require_exp`] is off.
    pub exp: Option<u64>,
    /// `nbf`, if the token has one.
    pub nbf: Option<u64>,
    /// `iat`, if the token has one.
    pub iat: Option<u64>,
    /// `rooms`: room names the issuer lists for this client (the gateway decides what they
    /// mean).
    pub rooms: Option<Vec<String>>,
    /// Every other claim (`iss`, `aud`, custom ones).
    pub extra: ExtraClaims,
}

/// The claims [`Claims`] has no field for, in name order.
///
/// A boxed slice, not serde_json's `Map`: that is a `BTreeMap`, whose first node takes 632 bytes
/// however few claims it holds (even none, once `sub`, `exp`, `iat` and `rooms` are taken out),
/// and a socket keeps its claims for its whole life: heaptrack at 10 000 idle connections showed
/// those 632 bytes as the largest allocation per connection after the session slot. Here an
/// empty set allocates nothing and each claim costs its 40 bytes. A token carries a handful of
/// claims, so the linear [`ExtraClaims::get`] is as fast as a tree walk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExtraClaims(Box<[(Box<str>, Value)]>);

impl ExtraClaims {
    /// The claim named `name`, if the token has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }

    /// Whether the token has a claim named `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// No claims beyond the typed ones.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The claims, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (&**n, v))
    }
}

impl From<Map<String, Value>> for ExtraClaims {
    fn from(map: Map<String, Value>) -> Self {
        ExtraClaims(
            map.into_iter()
                .map(|(n, v)| (n.into_boxed_str(), v))
                .collect(),
        )
    }
}

/// Longest token accepted. A JWT with a handful of claims is 200–800 bytes; 8 KiB bounds the
/// base64 and JSON work an unauthenticated client can ask for per CONNECT.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

impl Verifier {
    /// Builds the verifier. Fails (as a configuration error) when no key is configured (dev
    /// mode before [`super::dev_mode_material`]), a key file does not parse, or an allowed
    /// algorithm has no matching key; loading the configuration already checks all this, so
    /// here it only trips over settings edited by hand.
    pub fn new(settings: &AuthSettings) -> Result<Verifier, SettingError> {
        let hmac = settings
            .secret
            .as_ref()
            .map(|s| DecodingKey::from_secret(s.expose().as_bytes()));
        let public = match &settings.public_key {
            Some(file) => {
                let key = decoding_key(file.pem(), file.kind()).map_err(|why| {
                    SettingError::new(
                        "jwt_public_key_file",
                        format!("{}: {why}", file.path().display()),
                    )
                })?;
                Some((key, file.kind()))
            }
            None => None,
        };
        if settings.algorithms.is_empty() {
            return Err(SettingError::new(
                "jwt_algorithms",
                "no JWT secret or public key is configured (dev mode: call \
                 auth::dev_mode_material first)",
            ));
        }
        let mut checks = Vec::with_capacity(settings.algorithms.len());
        for &alg in &settings.algorithms {
            let has_key = match alg.family() {
                AlgorithmFamily::Hmac => hmac.is_some(),
                _ => public.as_ref().is_some_and(|(_, kind)| kind.accepts(alg)),
            };
            if !has_key {
                return Err(SettingError::new(
                    "jwt_algorithms",
                    format!("{alg:?} has no matching key configured"),
                ));
            }
            checks.push((alg, validation(alg, settings)));
        }
        Ok(Verifier {
            hmac,
            public,
            checks,
            leeway_secs: settings.leeway_secs,
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

fn validation(alg: Algorithm, settings: &AuthSettings) -> Validation {
    let mut v = Validation::new(alg);
    // exp and nbf are checked by `verify_token_at` against its `now` parameter.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.leeway = 0;
    let mut required = if settings.require_exp {
        vec!["exp"]
    } else {
        Vec::new()
    };
    if let Some(iss) = &settings.issuer {
        v.set_issuer(&[iss]);
        // jsonwebtoken checks `iss` only when present; a configured issuer must be present.
        required.push("iss");
    }
    if let Some(aud) = &settings.audience {
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
        // Whether `exp` must be present is the `Validation`'s required claims (see
        // `validation`): jsonwebtoken refuses a token without it before this runs.
        let exp = numeric_date(map.remove("exp"))?;
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
            extra: map.into(),
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
