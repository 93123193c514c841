//! The publish API's bearer keys.

use std::fmt;

use subtle::ConstantTimeEq;

use super::{AuthSettings, Secret};

/// The publish API's keys (`Authorization: Bearer <key>`).
#[derive(Clone)]
pub struct ApiKeys {
    keys: Vec<Secret>,
}

impl ApiKeys {
    /// The configured keys.
    pub fn new(settings: &AuthSettings) -> ApiKeys {
        ApiKeys {
            keys: settings.api_keys.clone(),
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
