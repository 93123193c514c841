//! One webhook event as the receiver reads it: a JSON object, serialized on the worker that saw
//! it (so the queue holds plain text and the sender only concatenates).
//!
//! ```json
//! {"id":"3f9a…-17","type":"disconnect","sid":"…","sub":"alice","nsp":"/",
//!  "reason":"client namespace disconnect","node":"3f9a…","at":"2026-12-04T14:00:00.123Z"}
//! ```

use std::time::SystemTime;

use serde::Serialize;

/// The event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A socket connected (`recovered` says whether connection state recovery restored it).
    Connect,
    /// A socket is gone; `reason` says why.
    Disconnect,
    /// A client `subscribe` joined `room`.
    Subscribe,
    /// A client `unsubscribe` left `room`.
    Unsubscribe,
}

/// What a worker knows of the event.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    /// Unique: the node's id and a per-process sequence number (receivers dedupe retries by it).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The Socket.IO socket id (`null` if the socket had none yet).
    pub sid: Option<String>,
    /// The token's `sub` claim (`null` for a token without one).
    pub sub: Option<&'a str>,
    /// The namespace.
    pub nsp: &'a str,
    /// Subscribe and unsubscribe: the room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<&'a str>,
    /// Disconnect: the Socket.IO reason (`transport close`, `ping timeout`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// Connect: whether connection state recovery restored the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
    /// The node that saw it (random per process start).
    pub node: &'a str,
    /// When, RFC 3339 UTC with milliseconds.
    pub at: String,
}

impl Event<'_> {
    /// The JSON object's text.
    pub fn to_json(&self) -> String {
        // A struct of strings, bools and an enum: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `at`'s text for `t`.
pub fn timestamp(t: SystemTime) -> String {
    crate::gateway::iso8601_utc(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_type() {
        let base = || Event {
            id: "n-1".into(),
            kind: Kind::Connect,
            sid: Some("s1".into()),
            sub: Some("alice"),
            nsp: "/",
            room: None,
            reason: None,
            recovered: Some(false),
            node: "n",
            at: timestamp(SystemTime::UNIX_EPOCH),
        };
        let connect = base();
        let disconnect = Event {
            kind: Kind::Disconnect,
            recovered: None,
            reason: Some("transport close"),
            ..base()
        };
        let subscribe = Event {
            kind: Kind::Subscribe,
            recovered: None,
            room: Some("task:1"),
            ..base()
        };
        let cases = [
            (
                connect,
                r#"{"id":"n-1","type":"connect","sid":"s1","sub":"alice","nsp":"/","recovered":false,"node":"n","at":"1970-01-01T00:00:00.000Z"}"#,
            ),
            (
                disconnect,
                r#"{"id":"n-1","type":"disconnect","sid":"s1","sub":"alice","nsp":"/","reason":"transport close","node":"n","at":"1970-01-01T00:00:00.000Z"}"#,
            ),
            (
                subscribe,
                r#"{"id":"n-1","type":"subscribe","sid":"s1","sub":"alice","nsp":"/","room":"task:1","node":"n","at":"1970-01-01T00:00:00.000Z"}"#,
            ),
        ];
        for (event, want) in cases {
            assert_eq!(event.to_json(), want);
        }
    }
}
