//! Webhook settings: the receiver's URL (plain `http://` only), the signing secret, which event
//! types go out, and the batching, queue and retry bounds.

use std::fmt;

use super::{ConfigError, known_secrets};
use crate::auth::Secret;

/// HMAC-SHA256 keys shorter than the hash's output weaken it (RFC 2104 §3: "less than L bytes
/// is strongly discouraged", L = 32 for SHA-256).
const MIN_SECRET_BYTES: usize = 32;

/// A webhook receiver, validated at load: `http://host[:port][/path]`. `https://` is refused:
/// this build speaks plain HTTP/1.1 to it (no TLS library in the single-node build), so a
/// receiver elsewhere goes behind a local TLS proxy.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    host: String,
    port: u16,
    path: String,
}

impl WebhookUrl {
    /// Parses `http://host[:port][/path]` (host: a name, an IPv4 address or `[IPv6]`).
    pub fn parse(url: &str) -> Result<WebhookUrl, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err("must start with http://".to_owned());
        };
        if scheme.eq_ignore_ascii_case("https") {
            return Err(
                "https is not supported: ringcast sends webhooks over plain HTTP; put a local TLS proxy in front and give its http:// address".to_owned(),
            );
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(format!("scheme must be http, got {scheme:?}"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err("must not hold credentials (user@): sign with webhook_secret".to_owned());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => {
                let port = p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("port must be 1-65535, got {p:?}"))?;
                (h, port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err("has no host".to_owned());
        }
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) || path.contains('#') {
            return Err("path must be visible ASCII without a fragment".to_owned());
        }
        Ok(WebhookUrl {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The host as written (`[::1]` keeps its brackets): for `Host:` and for resolving.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 unless given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path and query, at least `/`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}{}", self.host, self.port, self.path)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Which event types go to the webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookEvents {
    /// A socket connected (or was restored by connection state recovery).
    pub connect: bool,
    /// A socket is gone, with the reason.
    pub disconnect: bool,
    /// A client `subscribe` that joined a room.
    pub subscribe: bool,
    /// A client `unsubscribe`.
    pub unsubscribe: bool,
}

impl WebhookEvents {
    /// All four.
    pub const ALL: WebhookEvents = WebhookEvents {
        connect: true,
        disconnect: true,
        subscribe: true,
        unsubscribe: true,
    };

    /// The comma list's names, in a fixed order (`connect,disconnect`).
    pub fn names(&self) -> String {
        [
            ("connect", self.connect),
            ("disconnect", self.disconnect),
            ("subscribe", self.subscribe),
            ("unsubscribe", self.unsubscribe),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// The webhook settings as loaded, whether or not a URL is set (so each one can be checked
/// and shown by itself); [`WebhookSettings::active`] says whether webhooks run.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// The receiver; `None`: no webhooks.
    pub url: Option<WebhookUrl>,
    /// The HMAC-SHA256 key; always set when `url` is.
    pub secret: Option<Secret>,
    /// Event types sent.
    pub events: WebhookEvents,
    /// Most events per request.
    pub batch_max: usize,
    /// Longest an event waits for its batch to fill.
    pub batch_ms: u64,
    /// Capacity of the queue between the workers and the sender.
    pub queue: usize,
    /// Time one request gets.
    pub timeout_ms: u64,
    /// Attempts per batch, the first included.
    pub attempts: u32,
}

impl WebhookSettings {
    /// The URL and secret when webhooks are on.
    pub fn active(&self) -> Option<(&WebhookUrl, &Secret)> {
        self.url.as_ref().zip(self.secret.as_ref())
    }
}

/// The merged values of the `webhook_*` settings (the numbers already range-checked).
pub(super) struct Raw {
    pub url: Option<String>,
    pub secret: Option<String>,
    pub events: Option<Vec<String>>,
    pub batch_max: usize,
    pub batch_ms: u64,
    pub queue: usize,
    pub timeout_ms: u64,
    pub attempts: u32,
}

/// Checks the `webhook_*` settings.
pub(super) fn resolve(raw: Raw) -> Result<WebhookSettings, ConfigError> {
    let url = match raw.url.as_deref() {
        None | Some("") => None,
        Some(u) => Some(WebhookUrl::parse(u).map_err(|m| ConfigError::new("webhook_url", m))?),
    };
    let secret = match raw.secret {
        Some(s) if known_secrets::is_example(&s) => {
            return Err(ConfigError::new(
                "webhook_secret",
                format!(
                    "is an example value published in ringcast's docs: anyone can forge signatures with it; {}",
                    known_secrets::GENERATE
                ),
            ));
        }
        Some(s) if s.len() < MIN_SECRET_BYTES => {
            return Err(ConfigError::new(
                "webhook_secret",
                format!(
                    "must be at least {MIN_SECRET_BYTES} bytes (HMAC-SHA256's output size, RFC 2104 §3), got {}",
                    s.len()
                ),
            ));
        }
        Some(s) => Some(Secret::new(s)),
        None => None,
    };
    if url.is_some() && secret.is_none() {
        return Err(ConfigError::new(
            "webhook_secret",
            "is required with webhook_url (receivers verify the X-Ringcast-Signature with it)",
        ));
    }
    let events = match raw.events {
        None => WebhookEvents::ALL,
        Some(names) => parse_events(&names)?,
    };
    Ok(WebhookSettings {
        url,
        secret,
        events,
        batch_max: raw.batch_max,
        batch_ms: raw.batch_ms,
        queue: raw.queue,
        timeout_ms: raw.timeout_ms,
        attempts: raw.attempts,
    })
}

fn parse_events(names: &[String]) -> Result<WebhookEvents, ConfigError> {
    let mut e = WebhookEvents {
        connect: false,
        disconnect: false,
        subscribe: false,
        unsubscribe: false,
    };
    for name in names {
        let flag = match name.trim() {
            "connect" => &mut e.connect,
            "disconnect" => &mut e.disconnect,
            "subscribe" => &mut e.subscribe,
            "unsubscribe" => &mut e.unsubscribe,
            other => {
                return Err(ConfigError::new(
                    "webhook_events",
                    format!(
                        "unknown event type {other:?} (connect, disconnect, subscribe, unsubscribe)"
                    ),
                ));
            }
        };
        *flag = true;
    }
    if e == (WebhookEvents {
        connect: false,
        disconnect: false,
        subscribe: false,
        unsubscribe: false,
    }) {
        return Err(ConfigError::new(
            "webhook_events",
            "is empty (unset it for all four; unset webhook_url for none)",
        ));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        /// The parts a URL parses into, or a fragment of its error.
        type Parsed = Result<(&'static str, u16, &'static str), &'static str>;
        let cases: &[(&str, Parsed)] = &[
            (
                "http://127.0.0.1:9000/hook",
                Ok(("127.0.0.1", 9000, "/hook")),
            ),
            ("http://backend", Ok(("backend", 80, "/"))),
            ("HTTP://[::1]:81/a?b=c", Ok(("[::1]", 81, "/a?b=c"))),
            ("http://[::1]/x", Ok(("[::1]", 80, "/x"))),
            ("https://backend/hook", Err("https is not supported")),
            ("ftp://backend/", Err("scheme must be http")),
            ("backend:80", Err("must start with http://")),
            ("http://:80/", Err("has no host")),
            ("http://h:0/", Err("port must be")),
            ("http://h:x/", Err("port must be")),
            ("http://u:p@h/", Err("credentials")),
            ("http://h/a b", Err("visible ASCII")),
        ];
        for (url, want) in cases {
            match (WebhookUrl::parse(url), want) {
                (Ok(u), Ok((h, p, path))) => {
                    assert_eq!((u.host(), u.port(), u.path()), (*h, *p, *path), "{url}");
                }
                (Err(e), Err(fragment)) => assert!(e.contains(fragment), "{url}: {e}"),
                (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
            }
        }
    }
}
