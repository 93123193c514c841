//! The log tells the story at the default `info` level, in both formats with the same fields:
//! a periodic activity summary (the `/metrics` counters' increase), rate-limited lines for auth
//! failures and publish API 401s (peer and reason, never the token or the key), both ids of a
//! connection on its debug lines, and a final `stopped` line after the drain. Each test reads
//! the server's own stderr.

use std::collections::BTreeMap;

use serde_json::json;

use ringcast_test_support::raw::Eio;
use ringcast_test_support::{DEADLINE, LogLine, Metrics, Server, token, wait_until};

use crate::gateway;

/// Both log formats: every check runs against each.
const FORMATS: [&str; 2] = ["text", "json"];

/// Every field of the summary line.
const SUMMARY_FIELDS: [&str; 15] = [
    "interval_s",
    "connects",
    "disconnects",
    "disconnect_reasons",
    "auth_failures",
    "auth_failure_reasons",
    "publish_requests",
    "publish_statuses",
    "published_events",
    "connects_refused",
    "connections_refused",
    "rate_limited",
    "http_errors",
    "sockets",
    "sessions",
];

/// What the auth-failure and 401 lines say, and their suppression lines' `kind`.
const AUTH_LINE: &str = "CONNECT refused: authentication failed";
const API_LINE: &str = "publish API request refused: 401";
const AUTH_KIND: &str = "auth failures";
const API_KIND: &str = "publish API 401s";

/// The budget of each rate-limited kind per interval (`LINES_PER_INTERVAL` in the server).
const LINES_PER_INTERVAL: usize = 10;

/// A token and an API key that must never reach the log.
const LEAKY_TOKEN: &str = "logtest.never-log-this-token.zz";
const LEAKY_KEY: &str = "logtest-never-log-this-key-0123";

fn with_format(format: &str, extra: &[&str]) -> Server {
    gateway()
        .args(["--log-format", format])
        .args(extra.iter().copied())
        .start()
}

/// Opens a Socket.IO session and sends a CONNECT with `token`; returns the session and the
/// answer (`40{…}` or `44{…}`).
fn connect(server: &Server, token: &str) -> (Eio, String) {
    let mut eio = Eio::open(server.addr).unwrap_or_else(|e| server.fail(&e));
    let answer = eio
        .connect(&json!({ "token": token }).to_string())
        .unwrap_or_else(|e| server.fail(&e));
    (eio, answer)
}

fn lines_with(server: &Server, message: &str) -> Vec<LogLine> {
    server
        .log_lines()
        .into_iter()
        .filter(|l| l.message == message)
        .collect()
}

/// Sums a numeric field over the summary lines so far (an interval may split the activity).
fn summed(server: &Server) -> BTreeMap<&'static str, u64> {
    let lines = lines_with(server, "activity summary");
    [
        "connects",
        "disconnects",
        "auth_failures",
        "publish_requests",
        "published_events",
        "connects_refused",
    ]
    .into_iter()
    .map(|f| (f, lines.iter().map(|l| l.num(f)).sum()))
    .collect()
}

#[test]
fn the_summary_reports_each_intervals_activity_from_the_metrics_counters() {
    for format in FORMATS {
        let server = with_format(format, &["--log-summary-interval-secs", "1"]);
        // Two sockets connect and leave, three CONNECTs are refused (two bad tokens, one
        // expired), two publishes pass and one is refused.
        for _ in 0..2 {
            let (eio, answer) = connect(&server, &token::good());
            assert!(answer.starts_with("40{"), "{answer}");
            drop(eio);
        }
        for bad in [
            LEAKY_TOKEN.to_owned(),
            LEAKY_TOKEN.to_owned(),
            token::expired(),
        ] {
            let (_eio, answer) = connect(&server, &bad);
            assert!(answer.starts_with("44{"), "{answer}");
        }
        let alert = json!({"event": "system:alert", "data": {"message": "m", "severity": "info"}});
        server.publish_ok(&alert);
        server.publish_ok(&alert);
        let refused = server.publish_with_key(LEAKY_KEY, alert.to_string().as_bytes());
        assert_eq!(refused.status, 401, "{}", refused.body);

        let want = BTreeMap::from([
            ("connects", 2),
            ("disconnects", 2),
            ("auth_failures", 3),
            ("publish_requests", 3),
            ("published_events", 2),
            ("connects_refused", 3),
        ]);
        wait_until(
            &format!("{format}: summary lines adding up to {want:?}"),
            || summed(&server) == want,
            || format!("summed {:?}\n{}", summed(&server), server.context()),
        );
        let lines = lines_with(&server, "activity summary");
        for line in &lines {
            assert_eq!(line.level, "INFO", "{line:?}");
            for field in SUMMARY_FIELDS {
                assert!(
                    line.get(field).is_some(),
                    "{format}: no {field} in {line:?}"
                );
            }
            assert_eq!(line.num("interval_s"), 1, "{line:?}");
        }
        let joined = |field: &str| {
            lines
                .iter()
                .filter_map(|l| l.get(field))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        assert!(
            joined("disconnect_reasons").contains("transport close: "),
            "{lines:?}"
        );
        assert!(
            joined("auth_failure_reasons").contains("token expired: 1"),
            "{lines:?}"
        );
        assert!(joined("publish_statuses").contains("401: 1"), "{lines:?}");

        // The same counters /metrics shows.
        let m = Metrics::scrape(&server);
        assert_eq!(m.or_zero("ringcast_connects_total"), 2.0, "{}", m.text());
        assert_eq!(
            m.or_zero("ringcast_disconnects_total{reason=\"transport close\"}"),
            2.0,
            "{}",
            m.text()
        );
        assert_eq!(
            m.or_zero("ringcast_auth_failures_total{reason=\"token expired\"}"),
            1.0,
            "{}",
            m.text()
        );
        // Nothing happens from here on: the scrape above is not activity (it is no publish,
        // no connect, no refusal), so no further summary may follow once it is logged.
        // Two intervals pass idle (if the machine is slow, fewer: the check can only pass
        // more easily, never fail spuriously).
        let count = lines.len();
        std::thread::sleep(std::time::Duration::from_millis(2_500));
        let after = lines_with(&server, "activity summary").len();
        assert_eq!(
            after,
            count,
            "{format}: an idle interval logged a summary\n{}",
            server.context()
        );
    }
}

#[test]
fn auth_failures_and_401s_are_rate_limited_lines_with_the_peer_never_the_secret() {
    // 25 refused CONNECTs and 13 refused publishes in one interval (an hour): 10 lines of each,
    // then one "(k more suppressed)" line each when the interval ends, here at shutdown.
    let (auth_failures, unauthorized) = (25, 13);
    for format in FORMATS {
        let mut server = with_format(format, &["--log-summary-interval-secs", "3600"]);
        for _ in 0..auth_failures {
            let (_eio, answer) = connect(&server, LEAKY_TOKEN);
            assert!(answer.starts_with("44{"), "{answer}");
        }
        for _ in 0..unauthorized {
            let resp = server.publish_with_key(LEAKY_KEY, b"{}");
            assert_eq!(resp.status, 401, "{}", resp.body);
        }
        server.signal(libc::SIGTERM);
        let status = server.wait_exit(DEADLINE, "the drain after SIGTERM");
        assert_eq!(status.code(), Some(0), "{}", server.context());

        let text = server.log_text();
        for secret in [LEAKY_TOKEN, LEAKY_KEY] {
            assert!(
                !text.contains(secret),
                "{format}: {secret} was logged\n{text}"
            );
        }
        let cases = [
            (AUTH_LINE, AUTH_KIND, "INFO", auth_failures),
            (API_LINE, API_KIND, "WARN", unauthorized),
        ];
        for (message, kind, level, offered) in cases {
            let logged = lines_with(&server, message);
            assert_eq!(
                logged.len(),
                LINES_PER_INTERVAL,
                "{format}: {message}\n{text}"
            );
            for line in &logged {
                assert_eq!(line.level, level, "{line:?}");
                let peer = line.get("peer").unwrap_or_default();
                assert!(peer.starts_with("127.0.0.1:"), "{format}: {line:?}");
                assert!(
                    !line.get("reason").unwrap_or_default().is_empty(),
                    "{line:?}"
                );
            }
            let suppressed: Vec<LogLine> = server
                .log_lines()
                .into_iter()
                .filter(|l| l.get("kind") == Some(kind))
                .collect();
            assert_eq!(suppressed.len(), 1, "{format}: {kind}\n{text}");
            let k = offered - LINES_PER_INTERVAL as u64;
            assert_eq!(suppressed[0].num("suppressed"), k, "{suppressed:?}");
            assert!(
                suppressed[0]
                    .message
                    .contains(&format!("({k} more suppressed)")),
                "{suppressed:?}"
            );
        }
        for line in lines_with(&server, API_LINE) {
            assert_eq!(line.get("path"), Some("/api/v1/emit"), "{line:?}");
        }

        // The last line is `stopped`, after the drain, with the totals.
        let lines = server.log_lines();
        let last = lines.last().unwrap_or_else(|| server.fail("no log lines"));
        assert_eq!(last.message, "stopped", "{format}\n{text}");
        assert_eq!(last.get("drained"), Some("true"), "{last:?}");
        assert_eq!(last.num("auth_failures"), auth_failures, "{last:?}");
        assert_eq!(last.num("publish_requests"), unauthorized, "{last:?}");
        assert_eq!(last.num("connects"), 0, "{last:?}");
        assert_eq!(last.num("sessions_left"), 0, "{last:?}");
        let draining = lines.iter().position(|l| l.message.starts_with("draining"));
        assert!(draining.is_some(), "{text}");
    }
}

#[test]
fn a_connection_is_followed_by_both_its_ids_on_its_debug_lines() {
    for format in FORMATS {
        let mut server = with_format(format, &["--log-level", "info,ringcast=debug"]);
        let (eio, answer) = connect(&server, &token::good());
        let reply: serde_json::Value = answer
            .strip_prefix("40")
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_else(|| server.fail(&format!("CONNECT answer {answer:?}")));
        let socket_id = reply["sid"].as_str().unwrap_or_default().to_owned();
        let session_id = eio.sid.clone();
        drop(eio);
        server.wait_log("session closed");
        for message in ["socket connected", "session closed"] {
            let line = lines_with(&server, message)
                .into_iter()
                .next()
                .unwrap_or_else(|| server.fail(&format!("no {message:?} line")));
            assert_eq!(
                line.get("socket_id"),
                Some(socket_id.as_str()),
                "{format}: {line:?}"
            );
            assert_eq!(
                line.get("session_id"),
                Some(session_id.as_str()),
                "{format}: {line:?}"
            );
            assert!(
                line.get("peer")
                    .unwrap_or_default()
                    .starts_with("127.0.0.1:"),
                "{line:?}"
            );
        }
        assert!(
            !server.log_text().contains("Some("),
            "{format}: an Option was logged as such\n{}",
            server.context()
        );
    }
}
