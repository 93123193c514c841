//! The JSON the admin UI reads, in the shapes of `@socket.io/admin-ui` 0.5.1's
//! `lib/typed-events.ts` (`SerializedSocket`, `ServerStats`, `NamespaceEvent`) and its `Feature`
//! enum.

use serde_json::{Value, json};

use super::AdminMode;

/// `Feature` (typed-events.ts) as the package's `detectSupportedFeatures` reports a Socket.IO
/// v4 server: the commands, their multi-socket forms, the aggregated stats, and `ALL_EVENTS` in
/// development mode (the UI's `developmentMode` getter shows the sockets and rooms views only
/// with it).
pub(super) fn config(mode: AdminMode) -> String {
    let mut features = vec![
        "EMIT",
        "JOIN",
        "LEAVE",
        "DISCONNECT",
        "MJOIN",
        "MLEAVE",
        "MDISCONNECT",
        "AGGREGATED_EVENTS",
    ];
    if mode == AdminMode::Development {
        features.push("ALL_EVENTS");
    }
    json!({ "supportedFeatures": features }).to_string()
}

/// A JSON string literal.
pub(super) fn string(s: &str) -> String {
    Value::from(s).to_string()
}

/// What the UI knows of a `/` socket (`SerializedSocket`). `client_id` is the Engine.IO
/// session's id cut to 12 characters as the package cuts it ("this information is quite
/// sensitive"); `handshake` holds what ringcast keeps of the handshake: the peer address and
/// the connect time (`time` as `Date.toString()` would be is not reproduced: an ISO date).
pub(super) struct SocketView<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub transport: &'a str,
    pub nsp: &'a str,
    pub address: &'a str,
    pub rooms: &'a [String],
    pub issued_ms: u64,
}

impl SocketView<'_> {
    pub(super) fn to_json(&self) -> Value {
        let client_id: String = self.client_id.chars().take(12).collect();
        json!({
            "id": self.id,
            "clientId": client_id,
            "transport": self.transport,
            "nsp": self.nsp,
            "data": {},
            "handshake": {
                "address": self.address,
                "headers": {},
                "query": {},
                "issued": self.issued_ms,
                "secure": false,
                "time": iso_date(self.issued_ms),
                "url": "",
                "xdomain": false,
            },
            "rooms": self.rooms,
        })
    }
}

/// A `Date` as `JSON.stringify` writes it: `2026-12-04T13:45:50.123Z` (UTC, milliseconds), the
/// gateway's RFC 3339 form.
pub(super) fn iso_date(epoch_ms: u64) -> String {
    crate::gateway::iso8601_utc(std::time::UNIX_EPOCH + std::time::Duration::from_millis(epoch_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_javascript_writes_them() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            // `new Date(951782400123).toISOString()`: a leap day of a century leap year.
            (951_782_400_123, "2000-02-29T00:00:00.123Z"),
            (1_796_391_950_007, "2026-12-04T13:45:50.007Z"),
        ] {
            assert_eq!(iso_date(ms), text, "{ms}");
        }
    }

    #[test]
    fn development_mode_adds_all_events() {
        assert!(!config(AdminMode::Production).contains("ALL_EVENTS"));
        assert!(config(AdminMode::Development).contains("\"ALL_EVENTS\""));
        assert!(config(AdminMode::Production).contains("\"MDISCONNECT\""));
    }
}
