//! HS256 tokens for the clients' CONNECT auth (`{"token": <jwt>}`, claims `sub` and `exp`).

use jsonwebtoken::{EncodingKey, Header, encode};
use serde::Serialize;

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: u64,
}

/// A token for `sub` expiring at `exp` (seconds since the Unix epoch), signed with `secret`.
/// Signing an HS256 token with a valid key cannot fail; an empty string (which every target
/// refuses, and the report shows) stands in if it ever did.
pub fn token(secret: &str, sub: &str, exp: u64) -> String {
    encode(
        &Header::default(),
        &Claims { sub, exp },
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[derive(serde::Deserialize)]
    struct Owned {
        sub: String,
        exp: u64,
    }

    #[test]
    fn verifies_with_the_same_secret_only() {
        let t = token("s3cret", "loadgen-1", 4_000_000_000);
        let ok = decode::<Owned>(
            &t,
            &DecodingKey::from_secret(b"s3cret"),
            &Validation::default(),
        )
        .expect("valid token");
        assert_eq!(
            (ok.claims.sub.as_str(), ok.claims.exp),
            ("loadgen-1", 4_000_000_000)
        );
        assert!(
            decode::<Owned>(
                &t,
                &DecodingKey::from_secret(b"other"),
                &Validation::default()
            )
            .is_err()
        );
    }
}
