//! The JWT settings: the secret or key files, the algorithms they verify, and the checks that
//! keep a misconfigured key from starting a server that refuses every token.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, AlgorithmFamily};

use super::super::{Config, ConfigError, known_secrets};
use crate::auth::{self, PemFile, Secret};

/// The JWT keys and the algorithms they verify.
pub(super) struct Jwt {
    pub(super) secret: Option<Secret>,
    pub(super) public_key: Option<PemFile>,
    pub(super) private_key: Option<PemFile>,
    pub(super) algorithms: Vec<Algorithm>,
}

impl Jwt {
    pub(super) fn resolve(
        secret: Option<String>,
        secret_file: Option<PathBuf>,
        public_key_file: Option<PathBuf>,
        private_key_file: Option<PathBuf>,
        algorithms: Option<Vec<String>>,
    ) -> Result<Jwt, ConfigError> {
        let secret = resolve_secret(secret, secret_file)?;
        let public_key = public_key_file
            .map(|path| read_key("jwt_public_key_file", path, PemFile::read_public))
            .transpose()?;
        let private_key = private_key_file
            .map(|path| read_key("jwt_private_key_file", path, PemFile::read_private))
            .transpose()?;
        let algorithms = resolve_algorithms(algorithms, secret.as_ref(), public_key.as_ref())?;
        Ok(Jwt {
            secret,
            public_key,
            private_key,
            algorithms,
        })
    }
}

fn resolve_secret(
    secret: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<Secret>, ConfigError> {
    let mut setting = "jwt_secret";
    let secret = match (secret, file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::new(
                "jwt_secret",
                "set jwt_secret or jwt_secret_file, not both",
            ));
        }
        (Some(secret), None) => secret,
        (None, Some(path)) => {
            setting = "jwt_secret_file";
            let mut text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::new("jwt_secret_file", format!("{}: {e}", path.display()))
            })?;
            // `echo secret > file` adds one newline; it is not part of the secret.
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
        (None, None) => return Ok(None),
    };
    if secret.is_empty() {
        return Err(ConfigError::new("jwt_secret", "is empty"));
    }
    if known_secrets::is_example(&secret) {
        return Err(ConfigError::new(
            setting,
            format!(
                "is the example secret printed in ringcast's docs, which anyone can read; {}",
                known_secrets::GENERATE
            ),
        ));
    }
    Ok(Some(Secret::new(secret)))
}

fn read_key(
    setting: &str,
    path: PathBuf,
    read: fn(PathBuf) -> Result<PemFile, String>,
) -> Result<PemFile, ConfigError> {
    read(path).map_err(|why| ConfigError::new(setting, why))
}

/// Resolves the accepted algorithm list.
///
/// Default: HS256 with a secret, the public key's own algorithm with a public key, both with
/// both. An explicit list is strict: each entry needs its key, and each configured key needs
/// an entry, so a typo cannot leave a key silently unused. `none` is refused by name: RFC 7518
/// §3.6 defines it as an unsecured JWS, which anyone can forge.
fn resolve_algorithms(
    list: Option<Vec<String>>,
    secret: Option<&Secret>,
    public: Option<&PemFile>,
) -> Result<Vec<Algorithm>, ConfigError> {
    let Some(list) = list else {
        return default_algorithms(secret, public);
    };
    if list.is_empty() {
        return Err(ConfigError::new(
            ALGORITHMS,
            "is empty; leave it unset for the default",
        ));
    }
    let mut algs: Vec<Algorithm> = Vec::with_capacity(list.len());
    for name in &list {
        let alg = parse_algorithm(name.trim())?;
        check_algorithm_key(alg, secret, public)?;
        if !algs.contains(&alg) {
            algs.push(alg);
        }
    }
    if secret.is_some() && !algs.iter().any(|a| a.family() == AlgorithmFamily::Hmac) {
        return Err(ConfigError::new(
            ALGORITHMS,
            "a JWT secret is configured but no HS algorithm is listed",
        ));
    }
    if let Some(key) = public
        && !algs.iter().any(|a| key.kind().accepts(*a))
    {
        return Err(ConfigError::new(
            ALGORITHMS,
            format!(
                "jwt_public_key_file is configured but no algorithm for {} is listed",
                key.kind().describe()
            ),
        ));
    }
    Ok(algs)
}

const ALGORITHMS: &str = "jwt_algorithms";

/// HS256 with a secret, the public key's own algorithm with a public key, both with both.
fn default_algorithms(
    secret: Option<&Secret>,
    public: Option<&PemFile>,
) -> Result<Vec<Algorithm>, ConfigError> {
    let mut algs = Vec::new();
    if let Some(secret) = secret {
        check_secret_length(secret, Algorithm::HS256)?;
        algs.push(Algorithm::HS256);
    }
    if let Some(key) = public {
        algs.push(key.kind().default_algorithm());
    }
    Ok(algs)
}

fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(ConfigError::new(
            ALGORITHMS,
            "\"none\" is never accepted: it means an unsigned token anyone can forge",
        ));
    }
    name.parse().map_err(|_| {
        ConfigError::new(
            ALGORITHMS,
            format!(
                "unknown algorithm {name:?} (supported: HS256 HS384 HS512 RS256 RS384 \
                 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA)"
            ),
        )
    })
}

/// An algorithm needs its key: HS* the secret, the others a public key of the right kind.
fn check_algorithm_key(
    alg: Algorithm,
    secret: Option<&Secret>,
    public: Option<&PemFile>,
) -> Result<(), ConfigError> {
    match (alg.family(), secret, public) {
        (AlgorithmFamily::Hmac, Some(secret), _) => check_secret_length(secret, alg),
        (AlgorithmFamily::Hmac, None, _) => Err(ConfigError::new(
            ALGORITHMS,
            format!(
                "{alg:?} needs jwt_secret or jwt_secret_file (verifying an HMAC \
                 token with a public key is the algorithm-confusion attack)"
            ),
        )),
        (_, _, None) => Err(ConfigError::new(
            ALGORITHMS,
            format!("{alg:?} needs jwt_public_key_file"),
        )),
        (_, _, Some(key)) if !key.kind().accepts(alg) => Err(ConfigError::new(
            ALGORITHMS,
            format!(
                "{alg:?} cannot be verified with {} ({})",
                key.kind().describe(),
                key.path().display()
            ),
        )),
        _ => Ok(()),
    }
}

/// RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
/// "HS256") or larger MUST be used with this algorithm."
fn check_secret_length(secret: &Secret, alg: Algorithm) -> Result<(), ConfigError> {
    let min = match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    };
    if secret.expose().len() < min {
        return Err(ConfigError::new(
            "jwt_secret",
            format!(
                "is {} bytes; {alg:?} needs at least {min} (RFC 7518 §3.2: a key the size of \
                 the hash output or larger MUST be used)",
                secret.expose().len()
            ),
        ));
    }
    Ok(())
}

/// The private key only signs test tokens; make sure the server would accept what it signs.
pub(super) fn check_private_key(config: &Config) -> Result<(), ConfigError> {
    const SETTING: &str = "jwt_private_key_file";
    let Some(private) = &config.jwt_private_key else {
        return Ok(());
    };
    let Some(public) = &config.jwt_public_key else {
        return Err(ConfigError::new(
            SETTING,
            "is set without jwt_public_key_file: the server verifies with the public key, so \
             tokens it signs would be refused",
        ));
    };
    if private.kind() != public.kind() {
        return Err(ConfigError::new(
            SETTING,
            format!(
                "holds {} but jwt_public_key_file holds {}",
                private.kind().describe(),
                public.kind().describe()
            ),
        ));
    }
    if !auth::key_pair_matches(private, public, &config.jwt_algorithms) {
        return Err(ConfigError::new(
            SETTING,
            "does not match jwt_public_key_file: a token it signs fails verification",
        ));
    }
    Ok(())
}
