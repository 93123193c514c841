//! Dev mode: no JWT secret or public key configured, so a random secret and API key are drawn
//! at start and a ready-to-use token is printed.

use std::fmt;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

use super::mint::mint;
use super::{AuthSettings, Secret};

/// What dev mode generated: a ready-to-use token and the random API key, for `run()` to print.
#[derive(Clone)]
pub struct DevMaterial {
    /// A token for `sub` "dev", valid 24 hours, granting every room ([`dev_rooms_claim`]).
    pub token: String,
    /// A random publish API key, already added to the configuration.
    pub api_key: String,
}

/// Lifetime of the dev-mode token.
pub const DEV_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// The dev secret's file name in the state directory.
pub const DEV_SECRET_FILE: &str = "dev-jwt-secret";

/// The claim every dev token carries: `rooms: ["*"]`, so it works under either room policy
/// (`open` ignores the claim; under `claims` a token without it would get no room, not even
/// `dashboard`).
pub fn dev_rooms_claim() -> (String, serde_json::Value) {
    ("rooms".to_owned(), serde_json::json!(["*"]))
}

/// Writes the dev secret to `dir/dev-jwt-secret`: the directory is created with mode 0700,
/// the file written with mode 0600 (both re-applied when they already exist, since a looser
/// mode would let other local users mint tokens). Returns the file's path.
pub fn save_dev_secret(dir: &Path, secret: &Secret) -> std::io::Result<PathBuf> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let path = dir.join(DEV_SECRET_FILE);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(secret.expose().as_bytes())?;
    Ok(path)
}

/// Reads the secret [`save_dev_secret`] wrote in `dir`; the error is one line naming the file
/// and what to do.
pub fn load_dev_secret(dir: &Path) -> Result<Secret, String> {
    let path = dir.join(DEV_SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => Ok(Secret::new(secret.trim().to_owned())),
        Ok(_) => Err(format!("{} is empty", path.display())),
        Err(e) => Err(format!(
            "no dev secret at {} ({e}): start the server in dev mode (no jwt_secret or public \
             key) with the same state_dir first",
            path.display()
        )),
    }
}

impl fmt::Debug for DevMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DevMaterial { token: ***, api_key: *** }")
    }
}

/// In dev mode (no JWT secret or public key configured), fills `settings` with a random
/// 32-byte secret (HS256) and adds a random API key, and returns both the key and a token for
/// `sub` "dev" valid 24 hours. Returns `None` outside dev mode, or when called a second time
/// (the secret it drew ends dev mode).
///
/// # Panics
/// If the OS random number generator fails: a server that cannot draw a secret must not
/// start (there is deliberately no fixed fallback secret).
pub fn dev_mode_material(settings: &mut AuthSettings) -> Option<DevMaterial> {
    if !settings.is_dev_mode() {
        return None;
    }
    // 43 base64url characters carry the 256 bits RFC 7518 §3.2 asks of an HS256 key, and the
    // string can be pasted into other JWT tools as is.
    settings.secret = Some(Secret::new(random_token()));
    settings.algorithms = vec![Algorithm::HS256];
    let api_key = random_token();
    settings.api_keys.push(Secret::new(api_key.clone()));
    let token = mint(settings, "dev", DEV_TOKEN_TTL, &[dev_rooms_claim()]).ok()?;
    Some(DevMaterial { token, api_key })
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
