//! The server API's JSON answers, built from what a fetch-sockets query found.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use super::super::publish::iso8601_utc;
use super::parse::{Page, Sub};
use crate::engine::adapter::SocketInfo;

/// What a query found across the cluster (or on this node alone).
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub sockets: Vec<SocketInfo>,
    /// Nodes whose sockets are in `sockets`, this one included.
    pub nodes_answered: usize,
    /// Every node expected to answer did, within `redis_request_timeout_ms`.
    pub complete: bool,
}

/// `GET /api/v1/rooms/{room}`: `{"room", "sockets": N, "users": [...], "next_cursor",
/// "nodes_answered", "complete"}`. `users` are the distinct users (their `user:{id}` rooms) of the room's
/// sockets in byte order, the page after `page.cursor`; `next_cursor` is the last one when more follow, else
/// `null`. Sockets whose node sends no sub (a Node socket.io node) count in `sockets` only.
pub fn room(room: &str, page: &Page, found: &Found) -> String {
    let users: BTreeSet<&str> = found
        .sockets
        .iter()
        .filter_map(|s| user_of(s))
        .filter(|sub| page.cursor.as_ref().is_none_or(|c| *sub > c.0.as_str()))
        .collect();
    let listed: Vec<&str> = users.iter().take(page.limit).copied().collect();
    let next_cursor = (users.len() > page.limit)
        .then(|| listed.last().copied())
        .flatten();
    serde_json::json!({
        "room": room,
        "sockets": distinct_sockets(found),
        "users": listed,
        "next_cursor": next_cursor,
        "nodes_answered": found.nodes_answered,
        "complete": found.complete,
    })
    .to_string()
}

/// `GET /api/v1/users/{sub}`: `{"sub", "sockets": [{"id", "rooms", "transport",
/// "connected_at", "node"}], "nodes_answered", "complete"}`; `rooms` without the socket's own
/// id and the user's room; `node` is the answering node's cluster uid, or `"local"` for this
/// node's sockets.
pub fn user(sub: &Sub, found: &Found) -> String {
    let user_room = crate::gateway::user_room(&sub.0)
        .ok()
        .map(|r| r.as_str().to_owned());
    let sockets: Vec<serde_json::Value> = sockets_of(sub, found)
        .map(|(s, meta)| {
            let rooms: Vec<&str> = s
                .rooms
                .iter()
                .map(String::as_str)
                // Neither its own id nor the user's room (every socket listed is in it).
                .filter(|r| *r != s.id && Some(*r) != user_room.as_deref())
                .collect();
            serde_json::json!({
                "id": s.id,
                "rooms": rooms,
                "transport": meta.transport,
                "connected_at": iso8601_utc(UNIX_EPOCH + Duration::from_millis(meta.connected_at_ms)),
                "node": meta.node.as_deref().unwrap_or("local"),
            })
        })
        .collect();
    serde_json::json!({
        "sub": sub.0,
        "sockets": sockets,
        "nodes_answered": found.nodes_answered,
        "complete": found.complete,
    })
    .to_string()
}

/// A join, leave or disconnect: `{"room"?, "sockets": [ids], "count", "reason"?,
/// "nodes_answered", "complete"}`, the sockets it was applied to.
pub fn applied(extra: serde_json::Value, ids: &[String], found: &Found) -> String {
    let mut body = serde_json::json!({
        "sockets": ids,
        "count": ids.len(),
        "nodes_answered": found.nodes_answered,
        "complete": found.complete,
    });
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body.to_string()
}

/// The sockets of `found` whose token names `sub`.
pub fn sockets_of<'a>(
    sub: &'a Sub,
    found: &'a Found,
) -> impl Iterator<Item = (&'a SocketInfo, &'a crate::engine::adapter::SocketMeta)> + 'a {
    found.sockets.iter().filter_map(move |s| {
        let meta = s.meta.as_ref()?;
        (user_of(s) == Some(sub.0.as_str())).then_some((s, meta))
    })
}

/// The user a socket belongs to: the id of the `user:{id}` room it joined at connect (from the
/// token's `user_claim`), so "users" here are the publish API's `users`.
fn user_of(s: &SocketInfo) -> Option<&str> {
    s.rooms
        .iter()
        .find_map(|r| r.strip_prefix(crate::gateway::USER_KIND)?.strip_prefix(':'))
}

/// Socket ids are unique cluster-wide; counting distinct ones guards against a node answering
/// twice (a retried request).
fn distinct_sockets(found: &Found) -> usize {
    found
        .sockets
        .iter()
        .map(|s| s.id.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::adapter::SocketMeta;

    fn socket(id: &str, sub: Option<&str>) -> SocketInfo {
        // A socket whose token names a user is in that user's room (joined at connect).
        let mut rooms = vec![id.to_owned(), "task:1".to_owned()];
        rooms.extend(sub.map(|u| format!("user:{u}")));
        SocketInfo {
            id: id.to_owned(),
            rooms,
            meta: Some(SocketMeta {
                sub: sub.map(str::to_owned),
                transport: "websocket".to_owned(),
                connected_at_ms: 1_000,
                node: None,
                jti: None,
            }),
        }
    }

    #[test]
    fn room_pages_distinct_users_in_order() {
        let found = Found {
            sockets: vec![
                socket("a", Some("carol")),
                socket("b", Some("alice")),
                socket("c", Some("alice")),
                socket("d", Some("bob")),
                socket("e", None),
            ],
            nodes_answered: 2,
            complete: true,
        };
        let page = |limit, cursor: Option<&str>| Page {
            limit,
            cursor: cursor.map(|c| Sub(c.to_owned())),
        };
        let rows: [(Page, &str, serde_json::Value); 3] = [
            (
                page(2, None),
                r#"["alice","bob"]"#,
                serde_json::json!("bob"),
            ),
            (
                page(2, Some("bob")),
                r#"["carol"]"#,
                serde_json::Value::Null,
            ),
            (
                page(3, None),
                r#"["alice","bob","carol"]"#,
                serde_json::Value::Null,
            ),
        ];
        for (page, users, next) in rows {
            let v: serde_json::Value =
                serde_json::from_str(&room("task:1", &page, &found)).expect("json");
            assert_eq!(v["sockets"], 5);
            assert_eq!(v["users"].to_string(), users);
            assert_eq!(v["next_cursor"], next);
            assert_eq!(v["nodes_answered"], 2);
        }
    }

    #[test]
    fn user_lists_only_that_subs_sockets() {
        let mut remote = socket("b", Some("alice"));
        if let Some(m) = remote.meta.as_mut() {
            m.node = Some("AbCdEf".to_owned());
        }
        let found = Found {
            sockets: vec![socket("a", Some("alice")), remote, socket("c", Some("bob"))],
            nodes_answered: 2,
            complete: true,
        };
        let v: serde_json::Value =
            serde_json::from_str(&user(&Sub("alice".to_owned()), &found)).expect("json");
        assert_eq!(v["sockets"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["sockets"][0]["rooms"], serde_json::json!(["task:1"]));
        assert_eq!(v["sockets"][0]["node"], "local");
        assert_eq!(v["sockets"][1]["node"], "AbCdEf");
        assert_eq!(v["sockets"][0]["connected_at"], "1970-01-01T00:00:01.000Z");
    }
}
