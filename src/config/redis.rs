//! Redis settings: the server URL (validated, and redacted for logs), the CA bundle that
//! verifies a `rediss://` server, and the channel names shared with the other nodes.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{ConfigError, redis_tls};

/// A PEM certificate bundle (a CA that verifies a TLS server), read and parsed at load time:
/// at least one certificate, each one usable as a trust anchor. `Debug` shows the path and the
/// count, not kilobytes of PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBundle {
    path: PathBuf,
    pem: Vec<u8>,
    certificates: usize,
}

/// A Redis URL, validated at load: `redis://[user][:password@]host[:port][/db]`,
/// `rediss://` (TLS), or `unix:///path/to/redis.sock[?db=N&user=U&pass=P]`. `Debug` and
/// [`RedisUrl::redacted`] replace the password with `***`; the full text is only reachable
/// through [`RedisUrl::expose`], as for [`super::Secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Validates a Redis URL (the forms are in [`RedisUrl`]'s description): the scheme, a host
    /// and a numeric port and database for TCP, an absolute socket path for `unix://`. The
    /// error says what is wrong and never quotes the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<RedisUrl, &'static str> {
        check_redis_url(url)?;
        Ok(RedisUrl(url.to_owned()))
    }

    /// The URL as configured, password included: for the Redis client, never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password (user-info or `pass=`/`password=` query value) replaced by
    /// `***`, safe to log.
    pub fn redacted(&self) -> String {
        redact_redis_url(&self.0)
    }

    /// `rediss://`: the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.0
            .split_once("://")
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("rediss"))
    }

    /// `rediss://…#insecure`: TLS without verifying the server's certificate (redis-rs's own
    /// switch; it also turns off SNI).
    pub fn is_insecure(&self) -> bool {
        self.is_tls() && self.0.split_once('#').is_some_and(|(_, f)| f == "insecure")
    }
}

impl PemBundle {
    /// Where the bundle was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The PEM text, as read.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// How many certificates it holds (at least one).
    pub fn certificates(&self) -> usize {
        self.certificates
    }
}

impl fmt::Debug for PemBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemBundle")
            .field("path", &self.path)
            .field("certificates", &self.certificates)
            .finish()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisUrl").field(&self.redacted()).finish()
    }
}

/// The Redis settings, resolved: `url` `None` is a single node.
pub(super) struct Redis {
    pub(super) url: Option<RedisUrl>,
    pub(super) key_prefix: String,
    pub(super) python_channel: String,
    pub(super) tls_ca: Option<PemBundle>,
}

impl Redis {
    /// Checks the URL, the channel names (each alone, then against each other) and the CA
    /// bundle (which needs a verified `rediss://` URL), in that order.
    pub(super) fn resolve(
        url: Option<String>,
        key_prefix: String,
        python_channel: String,
        tls_ca: Option<PathBuf>,
    ) -> Result<Redis, ConfigError> {
        // `url` is never part of the message: it may hold a password.
        let url = url
            .map(|url| RedisUrl::parse(&url).map_err(|why| ConfigError::new("redis_url", why)))
            .transpose()?;
        let key_prefix = check_channel("redis_key_prefix", key_prefix, true)?;
        let python_channel = check_channel("redis_python_channel", python_channel, false)?;
        check_channels_apart(&key_prefix, &python_channel)?;
        let tls_ca = tls_ca
            .map(|path| read_pem_bundle("redis_tls_ca", path))
            .transpose()?;
        if tls_ca.is_some() {
            check_tls_applies("redis_tls_ca", url.as_ref())?;
        }
        Ok(Redis {
            url,
            key_prefix,
            python_channel,
            tls_ca,
        })
    }
}

/// The URL-ish checks behind [`RedisUrl::parse`]. Components split as RFC 3986 §3 does:
/// `scheme "://" authority path [ "?" query ] [ "#" fragment ]`, the authority ending at the
/// first `/`, `?` or `#`. redis-rs reads a TCP URL's database from the path
/// (`redis://host:6379/2`) and a unix URL's from the query (`unix:///run/redis.sock?db=2`,
/// with `user=` and `pass=`); its `#insecure` fragment turns off TLS verification.
fn check_redis_url(url: &str) -> Result<(), &'static str> {
    if url.is_empty() {
        return Err("is empty; leave it unset for a single node without Redis");
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "may only contain visible ASCII; percent-encode anything else (a space is %20)",
        );
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("expected redis://host:6379, rediss://host:6379 or unix:///path/redis.sock")?;
    let (before_fragment, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (hier, query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    let (authority, path) = hier.split_at(hier.find('/').unwrap_or(hier.len()));
    // A password with a raw '/', '?' or '#' ends the authority early: the rest of it would
    // land in the path or query, where it would be neither used as a password nor redacted.
    if [path, query, fragment]
        .iter()
        .any(|part| part.contains('@'))
    {
        return Err(
            "has an '@' after the host: percent-encode '@', '/', '?' and '#' in a \
                    password (%40, %2F, %3F, %23)",
        );
    }
    // redis-rs refuses any other fragment on a TLS URL when the bridge starts ("only
    // #insecure is supported"); caught here it is a configuration error like the rest.
    if scheme.eq_ignore_ascii_case("rediss") && !fragment.is_empty() && fragment != "insecure" {
        return Err(
            "the only fragment a rediss:// URL takes is #insecure (no certificate \
                    verification)",
        );
    }
    if scheme.eq_ignore_ascii_case("redis") || scheme.eq_ignore_ascii_case("rediss") {
        check_redis_tcp(authority, path)
    } else if scheme.eq_ignore_ascii_case("unix") {
        check_redis_unix(authority, path, query)
    } else {
        Err("the scheme must be redis://, rediss:// (TLS) or unix://")
    }
}

fn check_redis_tcp(authority: &str, path: &str) -> Result<(), &'static str> {
    let host_port = authority
        .rfind('@')
        .map_or(authority, |at| &authority[at + 1..]);
    let port = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (v6, after) = bracketed
                .split_once(']')
                .ok_or("an IPv6 host needs its closing ']'")?;
            v6.parse::<std::net::Ipv6Addr>()
                .map_err(|_| "the bracketed host is not an IPv6 address")?;
            match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or("expected ':port' after the IPv6 host")?,
                ),
            }
        }
        None => {
            let (host, port) = match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            };
            if host.is_empty() {
                return Err("missing host, as in redis://127.0.0.1:6379");
            }
            if !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err("the host may only contain letters, digits, '.', '-' and '_'");
            }
            port
        }
    };
    if let Some(port) = port
        && !(is_digits(port) && port.parse::<u16>().is_ok_and(|p| p != 0))
    {
        return Err("the port must be a number from 1 to 65535");
    }
    match path.strip_prefix('/') {
        None | Some("") => Ok(()),
        Some(db) if is_digits(db) && db.parse::<u32>().is_ok() => Ok(()),
        Some(_) => Err("the path after the host must be a database number, as in \
                        redis://127.0.0.1:6379/0"),
    }
}

fn check_redis_unix(authority: &str, path: &str, query: &str) -> Result<(), &'static str> {
    // redis-rs reads a unix URL's credentials from the query only; a user-info password
    // would be silently ignored and the first AUTH would fail.
    if authority.contains('@') {
        return Err("a unix:// URL takes its password in the query: \
                    unix:///run/redis.sock?pass=...");
    }
    if !authority.is_empty() {
        return Err("expected unix:// and an absolute path, as in unix:///run/redis.sock");
    }
    if path.len() <= 1 {
        return Err("missing the socket path, as in unix:///run/redis.sock");
    }
    for pair in query.split('&') {
        if let Some(("db", db)) = pair.split_once('=')
            && !(is_digits(db) && db.parse::<u32>().is_ok())
        {
            return Err("db must be a database number, as in unix:///run/redis.sock?db=0");
        }
    }
    Ok(())
}

/// Reads a CA bundle and checks it the way the redis crate will use it
/// ([`redis_tls::ca_certificates`]), so a file the bridge could not use fails at load with exit
/// code 2 instead of as a TLS error on every reconnection.
fn read_pem_bundle(setting: &str, path: PathBuf) -> Result<PemBundle, ConfigError> {
    let fail = |why: String| ConfigError::new(setting, format!("{}: {why}", path.display()));
    let pem = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
    let certificates = redis_tls::ca_certificates(&pem).map_err(fail)?;
    Ok(PemBundle {
        path,
        pem,
        certificates,
    })
}

/// TLS settings only mean something for a `rediss://` URL that verifies the server; anywhere
/// else they would be silently ignored, and the operator would believe the link protected.
fn check_tls_applies(setting: &str, url: Option<&RedisUrl>) -> Result<(), ConfigError> {
    match url {
        None => Err(ConfigError::new(
            setting,
            "is set but redis_url is not: set redis_url to a rediss:// URL",
        )),
        Some(url) if !url.is_tls() => Err(ConfigError::new(
            setting,
            "is set but redis_url is not a rediss:// URL: the connection would not use TLS",
        )),
        Some(url) if url.is_insecure() => Err(ConfigError::new(
            setting,
            "has no effect: redis_url ends in #insecure, which turns certificate verification \
             off; remove one or the other",
        )),
        Some(_) => Ok(()),
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `redis://user:pw@host/0?pass=pw` → `redis://user:***@host/0?pass=***`. Total over any text:
/// a [`RedisUrl`] is validated, but the redaction must not rely on that.
pub(super) fn redact_redis_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let mut out = format!("{scheme}://");
    match authority.rfind('@') {
        Some(at) => {
            match authority[..at].split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                // redis-cli reads a lone user-info (`redis://pw@host`) as the password.
                None => out.push_str("***"),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let (before_fragment, fragment) = tail.split_at(tail.find('#').unwrap_or(tail.len()));
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if key.eq_ignore_ascii_case("pass")
                            || key.eq_ignore_ascii_case("password") =>
                    {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        None => out.push_str(before_fragment),
    }
    out.push_str(fragment);
    out
}

/// A Redis channel name or prefix. Redis itself takes any bytes; these are also logged and
/// typed into `redis-cli`, so they stay visible ASCII, and 256 bytes is far beyond any real
/// prefix (the defaults are 8 and 9). `in_pattern`: the name is the start of a PSUBSCRIBE
/// pattern (the adapter subscribes to `<prefix>#/#*`), where Redis reads `* ? [ ] \` as glob
/// syntax, so a prefix holding them would match other applications' channels.
fn check_channel(setting: &str, name: String, in_pattern: bool) -> Result<String, ConfigError> {
    const MAX_CHANNEL_LEN: usize = 256;
    if name.is_empty() {
        return Err(ConfigError::new(setting, "is empty"));
    }
    if name.len() > MAX_CHANNEL_LEN {
        return Err(ConfigError::new(
            setting,
            format!("is {} bytes; at most {MAX_CHANNEL_LEN}", name.len()),
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            setting,
            format!("{name:?} may only contain visible ASCII, without spaces"),
        ));
    }
    if in_pattern && name.contains(['*', '?', '[', ']', '\\']) {
        return Err(ConfigError::new(
            setting,
            format!(
                "{name:?} may not contain * ? [ ] or \\: the adapter subscribes to the pattern \
                 <prefix>#/#* and Redis would read them as wildcards"
            ),
        ));
    }
    Ok(name)
}

/// The adapter uses `<prefix>#…` (broadcasts), `<prefix>-request#…` and `<prefix>-response#…`;
/// a python channel among them would reach the bridge twice, once read in the wrong format.
fn check_channels_apart(prefix: &str, python: &str) -> Result<(), ConfigError> {
    let clashes = ["#", "-request#", "-response#"].iter().any(|suffix| {
        python
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(suffix))
    });
    if clashes {
        return Err(ConfigError::new(
            "redis_python_channel",
            format!(
                "{python:?} is also a channel of the socket.io adapter with redis_key_prefix \
                 {prefix:?}: each message would reach the bridge twice"
            ),
        ));
    }
    Ok(())
}
