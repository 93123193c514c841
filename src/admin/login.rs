//! The `/admin` CONNECT check, as the package's basic-auth middleware: a known `sessionId`
//! passes; otherwise `{username, password}` against the configured name and bcrypt hash, and
//! a success makes a new session id (emitted as `session`, which the UI sends back as
//! `{sessionId}` when it reconnects).
//!
//! bcrypt is slow by design: one check at cost 10 took ~170 ms of a core with this crate in a
//! release build on the 2-core development machine (busy with builds at the time), spent on
//! the worker that received the CONNECT, which serves nothing else meanwhile. So at most
//! [`CHECKS_PER_SECOND`] checks run per node per second; a CONNECT beyond that is refused
//! without hashing, which also bounds a password-guessing rate. A login is rare (once per UI
//! session; reconnects carry the session id, which needs no hashing).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::config::AdminPasswordHash;

/// bcrypt checks per node per second: at ~170 ms each, 4 bound the workers' stall to ~0.7 s
/// of CPU in any second (spread over the workers that got the CONNECTs), whatever the number
/// of guessing clients. A lower hash cost makes each check cheaper.
pub(super) const CHECKS_PER_SECOND: u32 = 4;
/// How long a session id is honoured: the package's in-memory store keeps them for the
/// process's life; a day bounds what a leaked id is worth.
const SESSION_TTL: Duration = Duration::from_secs(86_400);
/// Sessions kept at most (the oldest goes first): one per UI login, so a few at a time.
const MAX_SESSIONS: usize = 1024;

/// The CONNECT_ERROR message the UI recognises to show its login form again (App.vue:
/// `err.message === "invalid credentials"`).
pub(super) const INVALID: &str = "invalid credentials";
/// The refusal past the check budget.
pub(super) const BUSY: &str = "too many login attempts, retry in a second";

/// How a CONNECT passed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Login {
    /// `admin_auth = "none"`.
    Open,
    /// A session id given earlier.
    Resumed,
    /// Name and password: this new session id is to be emitted as `session`.
    New(String),
}

/// The login check with its session store and budget.
#[derive(Debug)]
pub(super) struct Gate {
    /// `None`: `admin_auth = "none"`.
    credentials: Option<(String, AdminPasswordHash)>,
    sessions: Mutex<HashMap<String, Instant>>,
    /// The current second's start and the checks run in it.
    budget: Mutex<(Instant, u32)>,
}

impl Gate {
    pub(super) fn new(credentials: Option<(String, AdminPasswordHash)>) -> Gate {
        Gate {
            credentials,
            sessions: Mutex::default(),
            budget: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Decides a CONNECT from its auth object (raw JSON, from the network).
    pub(super) fn check(&self, auth: Option<&str>) -> Result<Login, &'static str> {
        let Some((username, hash)) = &self.credentials else {
            return Ok(Login::Open);
        };
        let auth: serde_json::Value = auth
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        let field = |name: &str| auth.get(name).and_then(|v| v.as_str());
        let now = Instant::now();
        if let Some(id) = field("sessionId")
            && self.resume(id, now)
        {
            return Ok(Login::Resumed);
        }
        let (Some(user), Some(password)) = (field("username"), field("password")) else {
            return Err(INVALID);
        };
        if !self.take_check(now) {
            return Err(BUSY);
        }
        // Both always compared, so the time taken does not tell whether the name was right.
        let name_ok: bool = user.as_bytes().ct_eq(username.as_bytes()).into();
        let password_ok = bcrypt::verify(password, hash.expose()).unwrap_or(false);
        if !(name_ok && password_ok) {
            return Err(INVALID);
        }
        let id = new_session_id();
        self.store(id.clone(), now);
        Ok(Login::New(id))
    }

    fn resume(&self, id: &str, now: Instant) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(id)
            .is_some_and(|made| now.duration_since(*made) < SESSION_TTL)
    }

    fn store(&self, id: String, now: Instant) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, made| now.duration_since(*made) < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, made)| **made)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id, now);
    }

    /// One bcrypt check from this second's budget.
    fn take_check(&self, now: Instant) -> bool {
        let mut budget = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(budget.0) >= Duration::from_secs(1) {
            *budget = (now, 0);
        }
        if budget.1 >= CHECKS_PER_SECOND {
            return false;
        }
        budget.1 += 1;
        true
    }
}

/// 16 random bytes in hex (the package's `randomBytes(8)`, doubled: the id is a credential).
fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS generator does not fail on Linux once booted; a failure leaves zeros, and the id
    // is then still unique per process by the time mixed in.
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        // Cost 4, the smallest: the test is about the rules, not the hash's strength.
        let hash = bcrypt::hash("s3cret", 4).expect("hash");
        Gate::new(Some((
            "admin".to_owned(),
            crate::config::AdminPasswordHash::new(hash).expect("a bcrypt hash"),
        )))
    }

    #[test]
    fn logins_as_the_package_decides_them() {
        let g = gate();
        for (auth, ok) in [
            (None, false),
            (Some("not json"), false),
            (Some(r#"{"username":"admin","password":"wrong"}"#), false),
            (Some(r#"{"username":"root","password":"s3cret"}"#), false),
            (Some(r#"{"username":"admin","password":7}"#), false),
            (Some(r#"{"sessionId":"unknown"}"#), false),
        ] {
            assert_eq!(g.check(auth).is_ok(), ok, "{auth:?}");
        }
        // Two checks were spent above (a name and a string password); the success path on a
        // fresh gate, so the test never meets the budget.
        let g = gate();
        let Ok(Login::New(id)) = g.check(Some(r#"{"username":"admin","password":"s3cret"}"#))
        else {
            panic!("the right password logs in");
        };
        assert_eq!(id.len(), 32);
        let resumed = g.check(Some(&format!(r#"{{"sessionId":"{id}"}}"#)));
        assert_eq!(resumed, Ok(Login::Resumed));
    }

    #[test]
    fn at_most_four_password_checks_a_second() {
        let g = gate();
        let wrong = Some(r#"{"username":"admin","password":"wrong"}"#);
        let answers: Vec<_> = (0..6).map(|_| g.check(wrong)).collect();
        let refused: Vec<_> = answers.iter().map(|a| a.as_ref().err().copied()).collect();
        assert_eq!(
            refused,
            [Some(INVALID); 4]
                .iter()
                .chain(&[Some(BUSY); 2])
                .copied()
                .collect::<Vec<_>>()
        );
        // `admin_auth = "none"` takes no check at all.
        let open = Gate::new(None);
        assert_eq!(open.check(None), Ok(Login::Open));
    }
}
