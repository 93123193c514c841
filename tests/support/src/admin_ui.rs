//! The admin UI's login as the suites use it: a server flag set and the `/admin` handshake auth.

use serde_json::{Value, json};

/// The bcrypt hash (cost 4, the smallest: the login rules are under test, not the hash's
/// strength) of [`PASSWORD`], made with the package's own bcryptjs.
pub const HASH: &str = "$2a$04$anE.qTpsTlDqmTJFHCwctOG8URn1sj/9Bjs1mp4BHhCArpQUdSawe";
pub const PASSWORD: &str = "ringcast-admin-test";

/// The flags that turn the admin UI on with [`HASH`] as the password.
pub fn flags() -> [&'static str; 4] {
    ["--admin-ui", "true", "--admin-password-hash", HASH]
}

/// The UI's login form, as its handshake auth.
pub fn login() -> Value {
    json!({"username": "admin", "password": PASSWORD})
}
