//! Dev mode: no JWT secret or public key configured, so a random secret and API key are drawn
//! at start and a ready-to-use token is printed.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

use super::mint::mint;
use super::{AuthSettings, Secret};

/// What dev mode generated: a ready-to-use token and the random API key, for `run()` to print.
#[derive(Clone)]
pub struct DevMaterial {
    /// A token for `sub` "dev", valid 24 hours.
    pub token: String,
    /// A random publish API key, already added to the configuration.
    pub api_key: String,
}

/// Lifetime of the dev-mode token.
pub const DEV_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

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
    let token = mint(settings, "dev", DEV_TOKEN_TTL, &[]).ok()?;
    Some(DevMaterial { token, api_key })
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
