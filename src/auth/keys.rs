//! Keys: the PEM key files, what kind of key each holds, and the `jsonwebtoken` keys made from
//! them. Classification parses a key for real, so a file the crypto library cannot use fails
//! when the configuration loads, not at the first token.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};

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

/// A PEM key file, read and classified at load time. `Debug` shows the path and the key kind,
/// never the contents (the private key is a secret).
#[derive(Clone)]
pub struct PemFile {
    path: PathBuf,
    pem: Vec<u8>,
    kind: KeyKind,
}

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

impl PemFile {
    /// Reads a public key file and classifies it ([`public_key_kind`]). The error is one line
    /// starting with the path.
    pub fn read_public(path: PathBuf) -> Result<PemFile, String> {
        PemFile::read(path, public_key_kind)
    }

    /// Reads a private key file and classifies it ([`private_key_kind`]).
    pub fn read_private(path: PathBuf) -> Result<PemFile, String> {
        PemFile::read(path, private_key_kind)
    }

    fn read(
        path: PathBuf,
        classify: fn(&[u8]) -> Result<KeyKind, String>,
    ) -> Result<PemFile, String> {
        let pem = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let kind = classify(&pem).map_err(|why| format!("{}: {why}", path.display()))?;
        Ok(PemFile { path, pem, kind })
    }

    /// Where the key was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The PEM text.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// What kind of key it holds.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }
}

impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemFile")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .finish()
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

pub(super) fn decoding_key(pem: &[u8], kind: KeyKind) -> Result<DecodingKey, String> {
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

pub(super) fn encoding_key(
    pem: &[u8],
    kind: KeyKind,
) -> Result<EncodingKey, jsonwebtoken::errors::Error> {
    match kind {
        KeyKind::Rsa => EncodingKey::from_rsa_pem(pem),
        KeyKind::EcP256 | KeyKind::EcP384 => EncodingKey::from_ec_pem(pem),
        KeyKind::Ed25519 => EncodingKey::from_ed_pem(pem),
    }
}
