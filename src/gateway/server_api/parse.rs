//! Request validation for the server API: which endpoint a path names, and what its query
//! string and JSON body must hold. Pure functions; a refusal is an [`ApiError`] naming the field.

use serde_json::Value;

use super::super::quoted;
use super::super::room_names::parse_room;
use super::revoke::Revoked;
use crate::Room;

/// Default page size of a room's user list.
pub const DEFAULT_LIMIT: usize = 100;

/// Largest page of a room's user list: 1000 keeps one answer under ~140 kB with 128-byte subs.
pub const MAX_LIMIT: usize = 1000;

/// Longest `sub` accepted in a path or body: subs are user ids, and 256 bytes bounds what a
/// lookup compares and echoes.
pub const MAX_SUB_LEN: usize = 256;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /api/v1/rooms/{room}`.
    RoomInfo { room: Room, page: Page },
    /// `GET /api/v1/users/{sub}`.
    UserInfo { sub: Sub },
    /// `POST /api/v1/rooms/{room}/join` (`leave: false`) or `/leave`.
    Membership {
        room: Room,
        leave: bool,
        targets: Targets,
    },
    /// `POST /api/v1/disconnect`.
    Disconnect { targets: Targets, reason: String },
    /// `POST /api/v1/revoke`.
    Revoke { who: Revoked, until: u64 },
}

/// Which sockets a command is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// By socket id.
    Sockets(Vec<String>),
    /// Every socket whose token names one of these subs.
    Users(Vec<Sub>),
    /// Every socket in one of these rooms (`disconnect` only).
    Rooms(Vec<Room>),
}

/// Most entries in a body's `sockets`, `users` or `rooms`: 1000, as the publish API's rooms.
pub const MAX_TARGETS: usize = 1000;

/// Longest `reason` of a disconnect: it is logged and echoed, not sent to the client.
pub const MAX_REASON_LEN: usize = 256;

/// The longest revocation: 30 days. Tokens are short-lived (minutes to hours); a longer ban is
/// the identity provider's to enforce, and every entry holds memory on every node.
pub const MAX_REVOKE_SECS: u64 = 30 * 86_400;

/// A page of a room's users: at most `limit`, those after `cursor` in byte order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub cursor: Option<Sub>,
}

/// A token's `sub` (a user id), validated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sub(pub String);

/// Why a request was refused: `status` with `{"error", "field"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub field: &'static str,
    pub message: String,
    /// For 405: the method the path takes (`Allow`).
    pub allow: Option<&'static str>,
}

impl ApiError {
    /// A 400 at `field`.
    pub fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            field,
            message: message.into(),
            allow: None,
        }
    }

    /// The body: `{"error":"…","field":"…"}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.message, "field": self.field }).to_string()
    }
}

/// The paths this module serves (below `/api/v1/`), whatever their method.
pub fn handles(path: &str) -> bool {
    path.starts_with(ROOMS) || path.starts_with(USERS) || path == DISCONNECT || path == REVOKE
}

const ROOMS: &str = "/api/v1/rooms/";
const USERS: &str = "/api/v1/users/";
const DISCONNECT: &str = "/api/v1/disconnect";
const REVOKE: &str = "/api/v1/revoke";

/// The `endpoint` label of `ringcast_server_api_requests_total` for a path [`handles`] took.
pub fn endpoint_label(path: &str) -> &'static str {
    match path {
        DISCONNECT => "disconnect",
        REVOKE => "revoke",
        p if p.starts_with(USERS) => "users",
        p if p.ends_with("/join") => "join",
        p if p.ends_with("/leave") => "leave",
        _ => "rooms",
    }
}

/// What a request says: its method (`get`: GET, else POST), path, query and body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub get: bool,
    pub post: bool,
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    /// Unix seconds now (a revocation's `until` must be later).
    pub now: u64,
}

/// The endpoint a request names, validated. `None` for a path this module does not serve.
pub fn parse_request(req: &Request<'_>) -> Option<Result<Endpoint, ApiError>> {
    if let Some(rest) = req.path.strip_prefix(ROOMS) {
        for (suffix, leave) in [("/join", false), ("/leave", true)] {
            if let Some(room) = rest.strip_suffix(suffix) {
                return Some(only_post(req.post).and_then(|()| {
                    let room = path_room(room)?;
                    let body = body_object(req.body)?;
                    known_keys(&body, &["sockets", "users"])?;
                    let targets = targets(&body, false)?;
                    Ok(Endpoint::Membership {
                        room,
                        leave,
                        targets,
                    })
                }));
            }
        }
    }
    match req.path {
        DISCONNECT => Some(only_post(req.post).and_then(|()| {
            let body = body_object(req.body)?;
            known_keys(&body, &["sockets", "users", "rooms", "reason"])?;
            let targets = targets(&body, true)?;
            let reason = match body.get("reason") {
                None => "server API".to_owned(),
                Some(Value::String(r)) if r.len() <= MAX_REASON_LEN => r.clone(),
                Some(Value::String(_)) => {
                    return Err(ApiError::bad(
                        "reason",
                        format!("longer than {MAX_REASON_LEN} bytes"),
                    ));
                }
                Some(_) => return Err(ApiError::bad("reason", "must be a string")),
            };
            Ok(Endpoint::Disconnect { targets, reason })
        })),
        REVOKE => Some(only_post(req.post).and_then(|()| {
            let body = body_object(req.body)?;
            known_keys(&body, &["sub", "jti", "until"])?;
            let who = match (body.get("sub"), body.get("jti")) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::bad("body", "give sub or jti, not both"));
                }
                (Some(Value::String(s)), None) => Revoked::Sub(parse_sub(s, "sub")?.0),
                (Some(_), None) => return Err(ApiError::bad("sub", "must be a string")),
                (None, Some(Value::String(j))) => Revoked::Jti(parse_sub(j, "jti")?.0),
                (None, Some(_)) => return Err(ApiError::bad("jti", "must be a string")),
                (None, None) => return Err(ApiError::bad("body", "give sub or jti")),
            };
            let until = parse_until(body.get("until"), req.now)?;
            Ok(Endpoint::Revoke { who, until })
        })),
        _ => parse_endpoint(req.get, req.path, req.query),
    }
}

/// The GET endpoints: `method path?query`. `None` for a path this module does not serve.
pub fn parse_endpoint(get: bool, path: &str, query: &str) -> Option<Result<Endpoint, ApiError>> {
    if let Some(rest) = path.strip_prefix(ROOMS) {
        return Some(only_get(get).and_then(|()| {
            let room = path_room(rest)?;
            let page = parse_page(query)?;
            Ok(Endpoint::RoomInfo { room, page })
        }));
    }
    if let Some(rest) = path.strip_prefix(USERS) {
        return Some(only_get(get).and_then(|()| {
            let text = percent_decode(rest).ok_or_else(|| bad_escape("sub"))?;
            Ok(Endpoint::UserInfo {
                sub: parse_sub(&text, "sub")?,
            })
        }));
    }
    None
}

/// A `sub` from a path or body.
pub fn parse_sub(text: &str, field: &'static str) -> Result<Sub, ApiError> {
    if text.is_empty() {
        return Err(ApiError::bad(field, "sub is empty"));
    }
    if text.len() > MAX_SUB_LEN {
        return Err(ApiError::bad(
            field,
            format!("sub is longer than {MAX_SUB_LEN} bytes"),
        ));
    }
    Ok(Sub(text.to_owned()))
}

/// `limit` (1–1000, default 100) and `cursor` (the last user of the previous page).
pub fn parse_page(query: &str) -> Result<Page, ApiError> {
    let mut page = Page {
        limit: DEFAULT_LIMIT,
        cursor: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "limit" => {
                page.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad(
                            "limit",
                            format!(
                                "must be an integer from 1 to {MAX_LIMIT}, not {}",
                                quoted(value)
                            ),
                        )
                    })?;
            }
            "cursor" => {
                let text = percent_decode(value).ok_or_else(|| bad_escape("cursor"))?;
                page.cursor = Some(parse_sub(&text, "cursor")?);
            }
            _ => {
                return Err(ApiError::bad(
                    "query",
                    format!("unknown parameter {} (expected limit, cursor)", quoted(key)),
                ));
            }
        }
    }
    Ok(page)
}

/// The room in a path segment, percent-decoded and validated like a `subscribe`'s.
fn path_room(segment: &str) -> Result<Room, ApiError> {
    let text = percent_decode(segment).ok_or_else(|| bad_escape("room"))?;
    parse_room(&text)
        .map_err(|e| ApiError::bad("room", format!("{}: {}", quoted(&text), e.message())))
}

/// `until`: unix seconds (an integer) or an RFC 3339 date-time, later than `now` and at most
/// [`MAX_REVOKE_SECS`] after it.
pub fn parse_until(value: Option<&Value>, now: u64) -> Result<u64, ApiError> {
    let until = match value {
        None => return Err(ApiError::bad("until", "missing")),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| ApiError::bad("until", "must be whole unix seconds"))?,
        Some(Value::String(s)) => rfc3339_secs(s).ok_or_else(|| {
            ApiError::bad("until", format!("not an RFC 3339 date-time: {}", quoted(s)))
        })?,
        Some(_) => {
            return Err(ApiError::bad(
                "until",
                "must be unix seconds or an RFC 3339 date-time string",
            ));
        }
    };
    if until <= now {
        return Err(ApiError::bad("until", "is not in the future"));
    }
    if until - now > MAX_REVOKE_SECS {
        return Err(ApiError::bad(
            "until",
            format!("more than {} days ahead", MAX_REVOKE_SECS / 86_400),
        ));
    }
    Ok(until)
}

/// RFC 3339 §5.6 `date-time` (`2026-12-04T15:00:00Z`, `…00.5+01:00`) as unix seconds
/// (fractions dropped). `None` when malformed or before 1970.
pub fn rfc3339_secs(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let (h, m) = (num_in(rest, 1..3)?, num_in(rest, 4..6)?);
            let secs = h * 3600 + m * 60;
            if rb[0] == b'-' { -secs } else { secs }
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(secs).ok()
}

fn num_in(text: &str, r: std::ops::Range<usize>) -> Option<i64> {
    let s = text.get(r)?;
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The body as a JSON object.
fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad("body", "must be a JSON object")),
        Err(e) => Err(ApiError::bad("body", format!("invalid JSON: {e}"))),
    }
}

/// Refuses keys the endpoint does not know: a typo (`"socket"`) must not pass as "no targets".
fn known_keys(body: &serde_json::Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(ApiError::bad(
            "body",
            format!(
                "unknown field {} (expected {})",
                quoted(k),
                known.join(", ")
            ),
        )),
    }
}

/// Exactly one of `sockets`, `users` (and, with `rooms_too`, `rooms`): a non-empty array of
/// at most [`MAX_TARGETS`] strings.
fn targets(body: &serde_json::Map<String, Value>, rooms_too: bool) -> Result<Targets, ApiError> {
    let kinds: &[&'static str] = if rooms_too {
        &["sockets", "users", "rooms"]
    } else {
        &["sockets", "users"]
    };
    let given: Vec<&'static str> = kinds
        .iter()
        .copied()
        .filter(|k| body.contains_key(*k))
        .collect();
    let field = match given[..] {
        [one] => one,
        [] => {
            return Err(ApiError::bad(
                "body",
                format!("give one of {}", kinds.join(", ")),
            ));
        }
        _ => {
            return Err(ApiError::bad(
                "body",
                format!("give only one of {}", kinds.join(", ")),
            ));
        }
    };
    let Some(Value::Array(items)) = body.get(field) else {
        return Err(ApiError::bad(field, "must be an array of strings"));
    };
    if items.is_empty() {
        return Err(ApiError::bad(field, "is empty"));
    }
    if items.len() > MAX_TARGETS {
        return Err(ApiError::bad(
            field,
            format!("more than {MAX_TARGETS} entries"),
        ));
    }
    let mut texts = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(s) => texts.push(s.as_str()),
            _ => return Err(ApiError::bad(field, "must be an array of strings")),
        }
    }
    match field {
        "sockets" => texts
            .into_iter()
            .map(|s| {
                // Socket ids are base64url-ish (`[A-Za-z0-9_-]`, 20 characters in socket.io);
                // 64 bounds what is echoed and sent to the other nodes.
                let ok = !s.is_empty()
                    && s.len() <= 64
                    && s.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
                ok.then(|| s.to_owned()).ok_or_else(|| {
                    ApiError::bad("sockets", format!("not a socket id: {}", quoted(s)))
                })
            })
            .collect::<Result<_, _>>()
            .map(Targets::Sockets),
        "users" => texts
            .into_iter()
            .map(|s| parse_sub(s, "users"))
            .collect::<Result<_, _>>()
            .map(Targets::Users),
        _ => texts
            .into_iter()
            .map(|s| {
                parse_room(s)
                    .map_err(|e| ApiError::bad("rooms", format!("{}: {}", quoted(s), e.message())))
            })
            .collect::<Result<_, _>>()
            .map(Targets::Rooms),
    }
}

fn only_post(post: bool) -> Result<(), ApiError> {
    if post {
        return Ok(());
    }
    Err(ApiError {
        status: 405,
        field: "method",
        message: "use POST".to_owned(),
        allow: Some("POST"),
    })
}

fn only_get(get: bool) -> Result<(), ApiError> {
    if get {
        return Ok(());
    }
    Err(ApiError {
        status: 405,
        field: "method",
        message: "use GET".to_owned(),
        allow: Some("GET"),
    })
}

fn bad_escape(field: &'static str) -> ApiError {
    ApiError::bad(field, "bad percent-encoding or not UTF-8")
}

/// RFC 3986 §2.1 percent-decoding (`+` is kept: it is a space only in form bodies).
/// `None` for a broken escape or a result that is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_unix_until() {
        // text, unix seconds
        let rows = [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2026-12-04T15:00:00Z", Some(1_796_396_400)),
            ("2026-12-04T15:00:00.999Z", Some(1_796_396_400)),
            ("2026-12-04T16:00:00+01:00", Some(1_796_396_400)),
            ("2026-12-04t15:00:00z", Some(1_796_396_400)),
            ("2026-13-04T15:00:00Z", None),
            ("2026-12-04T15:00:00", None),
            ("2026-12-04T15:00:00.Z", None),
            ("1969-12-31T23:59:59Z", None),
            ("soon", None),
        ];
        for (text, want) in rows {
            assert_eq!(rfc3339_secs(text), want, "{text}");
        }
        let now = 1_796_396_400 - 60;
        let until = |v: Value| parse_until(Some(&v), now);
        assert_eq!(
            until(serde_json::json!("2026-12-04T15:00:00Z")),
            Ok(1_796_396_400)
        );
        assert_eq!(until(serde_json::json!(now + 1)), Ok(now + 1));
        for bad in [
            serde_json::json!(now),
            serde_json::json!(now + MAX_REVOKE_SECS + 1),
            serde_json::json!(-1),
            serde_json::json!(true),
        ] {
            assert_eq!(
                until(bad.clone()).map_err(|e| e.field),
                Err("until"),
                "{bad}"
            );
        }
    }

    #[test]
    fn command_bodies_and_refusals() {
        let post = |path: &'static str, body: &'static str| Request {
            get: false,
            post: true,
            path,
            query: "",
            body: body.as_bytes(),
            now: 1_000,
        };
        assert_eq!(
            parse_request(&post("/api/v1/rooms/task:1/join", r#"{"users":["alice"]}"#)),
            Some(Ok(Endpoint::Membership {
                room: Room::from("task:1"),
                leave: false,
                targets: Targets::Users(vec![Sub("alice".to_owned())]),
            }))
        );
        assert_eq!(
            parse_request(&post(
                "/api/v1/disconnect",
                r#"{"rooms":["task:1"],"reason":"bye"}"#
            )),
            Some(Ok(Endpoint::Disconnect {
                targets: Targets::Rooms(vec![Room::from("task:1")]),
                reason: "bye".to_owned(),
            }))
        );
        assert_eq!(
            parse_request(&post("/api/v1/revoke", r#"{"jti":"t1","until":2000}"#)),
            Some(Ok(Endpoint::Revoke {
                who: Revoked::Jti("t1".to_owned()),
                until: 2000
            }))
        );
        // path, body, field
        let rows: [(&'static str, &'static str, &str); 14] = [
            ("/api/v1/rooms/task:1/join", "nope", "body"),
            ("/api/v1/rooms/task:1/join", "[]", "body"),
            ("/api/v1/rooms/task:1/join", "{}", "body"),
            (
                "/api/v1/rooms/task:1/join",
                r#"{"sockets":["a"],"users":["b"]}"#,
                "body",
            ),
            ("/api/v1/rooms/task:1/join", r#"{"socket":["a"]}"#, "body"),
            ("/api/v1/rooms/task:1/join", r#"{"sockets":[]}"#, "sockets"),
            (
                "/api/v1/rooms/task:1/join",
                r#"{"sockets":["a b"]}"#,
                "sockets",
            ),
            ("/api/v1/rooms/task:1/leave", r#"{"users":[1]}"#, "users"),
            ("/api/v1/rooms/nope/join", r#"{"users":["a"]}"#, "room"),
            (
                "/api/v1/rooms/task:1/join",
                r#"{"rooms":["task:2"]}"#,
                "body",
            ),
            ("/api/v1/disconnect", r#"{"rooms":["nope"]}"#, "rooms"),
            (
                "/api/v1/disconnect",
                r#"{"users":["a"],"reason":5}"#,
                "reason",
            ),
            (
                "/api/v1/revoke",
                r#"{"sub":"a","jti":"b","until":2000}"#,
                "body",
            ),
            ("/api/v1/revoke", r#"{"sub":"a","until":999}"#, "until"),
        ];
        for (path, body, field) in rows {
            let got = parse_request(&post(path, body));
            assert!(
                matches!(&got, Some(Err(e)) if e.field == field),
                "{path} {body}: {got:?}"
            );
        }
        let mut get = post("/api/v1/revoke", "{}");
        (get.get, get.post) = (true, false);
        assert!(matches!(parse_request(&get), Some(Err(e)) if e.status == 405));
    }

    #[test]
    fn endpoints_and_refusals() {
        let room = |r: &str, limit, cursor: Option<&str>| {
            Some(Ok(Endpoint::RoomInfo {
                room: Room::from(r),
                page: Page {
                    limit,
                    cursor: cursor.map(|c| Sub(c.to_owned())),
                },
            }))
        };
        let refused = |field| move |r: Option<Result<Endpoint, ApiError>>| matches!(r, Some(Err(e)) if e.field == field);
        assert_eq!(
            parse_endpoint(true, "/api/v1/rooms/task:1", ""),
            room("task:1", 100, None)
        );
        assert_eq!(
            parse_endpoint(true, "/api/v1/rooms/task%3A1", "limit=5&cursor=al%20ice"),
            room("task:1", 5, Some("al ice"))
        );
        assert_eq!(
            parse_endpoint(true, "/api/v1/users/a%2Fb", ""),
            Some(Ok(Endpoint::UserInfo {
                sub: Sub("a/b".to_owned())
            }))
        );
        assert_eq!(parse_endpoint(true, "/api/v1/emit", ""), None);
        let rows: [(&str, &str, bool, &str); 9] = [
            ("/api/v1/rooms/nope", "", true, "room"),
            ("/api/v1/rooms/", "", true, "room"),
            ("/api/v1/rooms/task:%zz", "", true, "room"),
            ("/api/v1/rooms/task:1", "limit=0", true, "limit"),
            ("/api/v1/rooms/task:1", "limit=1001", true, "limit"),
            ("/api/v1/rooms/task:1", "cursor=", true, "cursor"),
            ("/api/v1/rooms/task:1", "page=2", true, "query"),
            ("/api/v1/users/", "", true, "sub"),
            ("/api/v1/users/x", "", false, "method"),
        ];
        for (path, query, get, field) in rows {
            assert!(
                refused(field)(parse_endpoint(get, path, query)),
                "{path}?{query}"
            );
        }
    }
}
