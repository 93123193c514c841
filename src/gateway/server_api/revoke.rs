//! Token revocation (`POST /api/v1/revoke`): which subjects and token ids are refused, until
//! when, and how the other nodes hear of it.
//!
//! In memory, per node: every node that is running when a revocation is made learns it (the
//! revoking node sends SERVER_SIDE_EMIT `["ringcast:revoke", {"sub"|"jti", "until"}]`, which
//! a Node socket.io node, having no listener for it, ignores). A node started later, or one
//! cut off from Redis at that moment, does not know it; neither survives a restart.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::auth::Claims;

/// The SERVER_SIDE_EMIT event that spreads a revocation.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
pub const EVENT: &str = "ringcast:revoke";

/// Most revocations a node keeps at once. Each costs ~100 bytes; 100 000 bounds the memory
/// (~10 MB) a flood of API calls can take. Past it the one expiring soonest is dropped.
pub const MAX_ENTRIES: usize = 100_000;

/// What is revoked: every token of a subject, or one token by its `jti`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revoked {
    Sub(String),
    Jti(String),
}

impl Revoked {
    /// `{"sub": …}` or `{"jti": …}` with `until` (unix seconds): the JSON the API answers and
    /// the other nodes are sent.
    pub fn to_json(&self, until: u64) -> serde_json::Value {
        match self {
            Revoked::Sub(sub) => serde_json::json!({ "sub": sub, "until": until }),
            Revoked::Jti(jti) => serde_json::json!({ "jti": jti, "until": until }),
        }
    }
}

/// The revocations in force on this node.
#[derive(Debug, Default)]
pub struct Revocations {
    /// What is revoked → until when (unix seconds, exclusive).
    until: Mutex<HashMap<Revoked, u64>>,
}

impl Revocations {
    /// Refuses `who` until `until`; a later `until` for the same key extends it, an earlier
    /// one does not shorten it (two nodes spreading the same revocation agree either way).
    pub fn add(&self, who: Revoked, until: u64, now: u64) {
        let Ok(mut map) = self.until.lock() else {
            return;
        };
        map.retain(|_, u| *u > now);
        if map.len() >= MAX_ENTRIES && !map.contains_key(&who) {
            let soonest = map.iter().min_by_key(|(_, u)| **u).map(|(k, _)| k.clone());
            if let Some(k) = soonest {
                map.remove(&k);
            }
        }
        let entry = map.entry(who).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Whether a token with these claims is refused at `now` (unix seconds).
    pub fn refuses(&self, claims: &Claims, now: u64) -> bool {
        let Ok(map) = self.until.lock() else {
            return false;
        };
        if map.is_empty() {
            return false;
        }
        let live = |key: Revoked| map.get(&key).is_some_and(|u| *u > now);
        let by_sub = claims
            .sub
            .as_ref()
            .is_some_and(|s| live(Revoked::Sub(s.clone())));
        let by_jti = claims
            .extra
            .get("jti")
            .and_then(|j| j.as_str())
            .is_some_and(|j| live(Revoked::Jti(j.to_owned())));
        by_sub || by_jti
    }

    /// A revocation another node spread: `data` is the SERVER_SIDE_EMIT's `[event, {...}]`.
    /// Other events and malformed ones are ignored (`false`).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub fn hear(&self, data: &str, now: u64) -> bool {
        let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(data)
        else {
            return false;
        };
        if items.first().and_then(|e| e.as_str()) != Some(EVENT) {
            return false;
        }
        let Some(body) = items.get(1) else {
            return false;
        };
        let Some(until) = body.get("until").and_then(|u| u.as_u64()) else {
            return false;
        };
        let who = match (body.get("sub"), body.get("jti")) {
            (Some(serde_json::Value::String(s)), None) => Revoked::Sub(s.clone()),
            (None, Some(serde_json::Value::String(j))) => Revoked::Jti(j.clone()),
            _ => return false,
        };
        self.add(who, until, now);
        true
    }
}

/// The SERVER_SIDE_EMIT `data` array for a revocation.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
pub fn message(who: &Revoked, until: u64) -> String {
    serde_json::json!([EVENT, who.to_json(until)]).to_string()
}

/// Listens for the other nodes' revocations on `bridge`.
#[cfg(feature = "cluster")]
pub fn listen(bridge: &crate::cluster::Bridge, revocations: std::sync::Arc<Revocations>) {
    bridge.listen(move |data| {
        if revocations.hear(data, now_secs()) {
            tracing::info!("token revocation received from another node");
        }
    });
}

/// Unix seconds now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str, jti: Option<&str>) -> Claims {
        let mut extra = serde_json::Map::new();
        if let Some(j) = jti {
            extra.insert("jti".to_owned(), serde_json::json!(j));
        }
        Claims {
            sub: Some(sub.to_owned()),
            exp: None,
            nbf: None,
            iat: None,
            rooms: None,
            extra: extra.into(),
        }
    }

    #[test]
    fn refuses_until_the_deadline_by_sub_or_jti() {
        let r = Revocations::default();
        r.add(Revoked::Sub("alice".into()), 100, 0);
        r.add(Revoked::Jti("t1".into()), 50, 0);
        // claims, now, refused
        let rows = [
            (claims("alice", None), 99, true),
            (claims("alice", None), 100, false),
            (claims("bob", Some("t1")), 49, true),
            (claims("bob", Some("t1")), 50, false),
            (claims("bob", Some("t2")), 10, false),
        ];
        for (c, now, refused) in rows {
            assert_eq!(r.refuses(&c, now), refused, "{c:?} at {now}");
        }
        // An earlier until never shortens one in force.
        r.add(Revoked::Sub("alice".into()), 10, 0);
        assert!(r.refuses(&claims("alice", None), 99));
    }

    #[test]
    fn hears_only_well_formed_revocations() {
        let r = Revocations::default();
        assert!(r.hear(&message(&Revoked::Sub("alice".into()), 100), 0));
        assert!(r.refuses(&claims("alice", None), 1));
        for data in [
            r#"["other:event",{"sub":"bob","until":100}]"#,
            r#"["ringcast:revoke",{"sub":"bob"}]"#,
            r#"["ringcast:revoke",{"sub":"bob","jti":"x","until":100}]"#,
            r#"["ringcast:revoke"]"#,
            "not json",
        ] {
            assert!(!r.hear(data, 0), "{data}");
        }
        assert!(!r.refuses(&claims("bob", Some("x")), 1));
    }
}
