//! Tests through the configuration: each builds its [`AuthSettings`] from command-line flags,
//! as the server does, so defaults and checks are the real ones.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use super::*;
use crate::config::Config;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const OTHER_SECRET: &str = "fedcba9876543210fedcba9876543210";
const NOW: u64 = 1_800_000_000;
const HOUR: Duration = Duration::from_secs(3600);

fn key(name: &str) -> String {
    format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn config(args: &[&str]) -> AuthSettings {
    let argv = std::iter::once("ringcast")
        .chain(args.iter().copied())
        .map(str::to_owned);
    Config::load_from(argv, &HashMap::new())
        .expect("test config is valid")
        .auth()
}

fn hs_config() -> AuthSettings {
    config(&["--jwt-secret", SECRET])
}

fn rsa_config() -> AuthSettings {
    let (public, private) = (key("rsa_public.pem"), key("rsa_private.pem"));
    config(&[
        "--jwt-public-key-file",
        &public,
        "--jwt-private-key-file",
        &private,
    ])
}

fn verifier(config: &AuthSettings) -> Verifier {
    Verifier::new(config).expect("verifier builds")
}

fn auth(token: &str) -> String {
    format!(r#"{{"token":"{token}"}}"#)
}

fn mint_now(config: &AuthSettings, extra: &[(&str, Value)]) -> String {
    let extra: Vec<(String, Value)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    mint_at(config, "alice", HOUR, &extra, NOW).expect("mint")
}

fn verify(config: &AuthSettings, token: &str) -> Result<Claims, AuthError> {
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

#[test]
fn extra_claims_are_every_unregistered_claim_in_name_order() {
    let cfg = hs_config();
    let only_registered = verify(&cfg, &mint_now(&cfg, &[])).expect("valid");
    assert!(
        only_registered.extra.is_empty(),
        "{:?}",
        only_registered.extra
    );
    let token = mint_now(
        &cfg,
        &[
            ("zone", Value::from("eu")),
            ("jti", Value::from("t-1")),
            ("tier", Value::from(2)),
        ],
    );
    let claims = verify(&cfg, &token).expect("valid");
    let names: Vec<&str> = claims.extra.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["jti", "tier", "zone"]);
    assert_eq!(claims.extra.get("tier"), Some(&Value::from(2)));
    assert_eq!(claims.extra.get("ti"), None, "a whole name, not a prefix");
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
    assert_eq!(both.algorithms, vec![Algorithm::HS256, Algorithm::RS256]);
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

/// `--jwt-require-exp false`: (payload, expected) — a token without `exp` is accepted and never
/// expires; one with `exp` is still checked (leeway 30 s).
#[test]
fn exp_optional_when_not_required() {
    let cfg = config(&["--jwt-secret", SECRET, "--jwt-require-exp", "false"]);
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let cases: &[(Value, Result<Option<u64>, AuthError>)] = &[
        (serde_json::json!({"sub": "a"}), Ok(None)),
        (serde_json::json!({}), Ok(None)),
        (
            serde_json::json!({"sub": "a", "exp": NOW + 60}),
            Ok(Some(NOW + 60)),
        ),
        (
            serde_json::json!({"sub": "a", "exp": NOW - 3600}),
            Err(AuthError::Expired),
        ),
        (
            serde_json::json!({"sub": "a", "exp": "tomorrow"}),
            Err(AuthError::InvalidToken),
        ),
        (
            serde_json::json!({"sub": "a", "nbf": NOW + 3600}),
            Err(AuthError::NotYetValid),
        ),
    ];
    for (payload, expected) in cases {
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), payload, &key).expect("encode");
        let got = verify(&cfg, &token).map(|c| c.exp);
        assert_eq!(&got, expected, "{payload}");
    }
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
    assert!(dev.is_dev_mode());
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
    assert!(!cfg.is_dev_mode(), "the drawn secret ends dev mode");
    let secret = cfg
        .secret
        .as_ref()
        .expect("secret filled")
        .expose()
        .to_owned();
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    assert_eq!(cfg.algorithms, vec![Algorithm::HS256]);
    assert!(ApiKeys::new(&cfg).check_bearer(Some(format!("Bearer {}", dev.api_key).as_bytes())));
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
        a.secret.as_ref().unwrap().expose(),
        b.secret.as_ref().unwrap().expose()
    );
    assert!(verifier(&b).verify_connect(Some(&auth(&da.token))).is_err());
}

#[test]
fn no_dev_material_outside_dev_mode() {
    let mut cfg = hs_config();
    assert!(dev_mode_material(&mut cfg).is_none());
    assert_eq!(cfg.secret.unwrap().expose(), SECRET);
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

#[test]
fn config_dev_mode_material_fills_the_config() {
    let mut cfg = Config::load_from(["ringcast".to_owned()], &HashMap::new()).unwrap();
    let dev = cfg.dev_mode_material().expect("dev mode");
    assert!(cfg.dev_mode, "still reported as dev mode so run() can warn");
    assert_eq!(cfg.jwt_algorithms, vec![Algorithm::HS256]);
    let settings = cfg.auth();
    assert!(
        ApiKeys::new(&settings).check_bearer(Some(format!("Bearer {}", dev.api_key).as_bytes()))
    );
    let claims = verifier(&settings)
        .verify_connect(Some(&auth(&dev.token)))
        .expect("token valid");
    assert_eq!(claims.sub.as_deref(), Some("dev"));
    assert!(cfg.dev_mode_material().is_none(), "only once");
}
