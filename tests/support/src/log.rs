//! A child's output kept for failure messages: the tail, since the tail is what explains a
//! failure, and optionally all of it in a file.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// How much output to keep in memory.
const KEEP: usize = 64 * 1024;

/// The last [`KEEP`] bytes a child wrote; cheap to clone, shared with its reader threads.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<String>>);

impl Log {
    /// An empty log.
    pub fn new() -> Log {
        Log::default()
    }

    /// Reads `from` to its end on a thread into this log (and into `file`, whole, when given).
    pub fn keep(&self, mut from: impl Read + Send + 'static, mut file: Option<File>) {
        let log = self.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(f) = file.as_mut() {
                            // The file is for reading after the run; losing it loses no check.
                            let _ = f.write_all(&buf[..n]);
                        }
                        log.append(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            }
        });
    }

    /// Appends `text`, dropping the oldest bytes past [`KEEP`].
    pub fn append(&self, text: &str) {
        let mut log = self.lock();
        log.push_str(text);
        if log.len() > KEEP {
            let mut cut = log.len() - KEEP;
            while !log.is_char_boundary(cut) {
                cut += 1;
            }
            log.drain(..cut);
        }
    }

    /// Everything kept so far.
    pub fn text(&self) -> String {
        self.lock().clone()
    }

    /// A labelled copy for failure messages.
    pub fn context(&self, name: &str) -> String {
        let log = self.lock();
        if log.trim().is_empty() {
            format!("--- {name}: (nothing on stderr)")
        } else {
            format!("--- {name} stderr (tail):\n{}", log.trim_end())
        }
    }

    /// A poisoned log is still a log: a panicking reader thread must not hide the context.
    fn lock(&self) -> MutexGuard<'_, String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One line of ringcast's log (`tracing`'s text or JSON format) as its level, message and
/// fields, so a test reads both formats the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `INFO`, `WARN`, …
    pub level: String,
    /// The event's message.
    pub message: String,
    /// Every other field, as text: `peer` → `127.0.0.1:4242`, `connects` → `2` (the text
    /// format's quotes removed, JSON numbers and booleans written out).
    pub fields: std::collections::BTreeMap<String, String>,
}

impl LogLine {
    /// A field, or `None`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// A numeric field; panics (naming the line) when it is missing or not a number.
    pub fn num(&self, name: &str) -> u64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no numeric field {name:?} in {self:?}"))
    }
}

/// The log lines in `text` (either format; lines that are neither, such as `[stdout]` lines,
/// are skipped).
pub fn parse_lines(text: &str) -> Vec<LogLine> {
    text.lines()
        .filter_map(|l| {
            if l.starts_with('{') {
                parse_json(l)
            } else {
                parse_text(l)
            }
        })
        .collect()
}

/// `{"timestamp":…,"level":"INFO","fields":{"message":…,…},"target":…}`
fn parse_json(line: &str) -> Option<LogLine> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let level = v.get("level")?.as_str()?.to_owned();
    let mut fields = std::collections::BTreeMap::new();
    for (k, v) in v.get("fields")?.as_object()? {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        fields.insert(k.clone(), text);
    }
    let message = fields.remove("message").unwrap_or_default();
    Some(LogLine {
        level,
        message,
        fields,
    })
}

/// `2026-12-03T12:00:00.000000Z  INFO ringcast::gateway: message key=value key="quoted value"`
fn parse_text(line: &str) -> Option<LogLine> {
    let (_, rest) = line.split_once(' ')?;
    let rest = rest.trim_start();
    let (level, rest) = rest.split_once(' ')?;
    if !["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level) {
        return None;
    }
    let (_target, rest) = rest.trim_start().split_once(": ")?;
    let start = field_start(rest);
    let message = rest[..start].trim_end().to_owned();
    Some(LogLine {
        level: level.to_owned(),
        message,
        fields: text_fields(&rest[start..]),
    })
}

/// Where the `key=value` fields begin: the first word that is an identifier followed by `=`.
fn field_start(rest: &str) -> usize {
    let mut at = 0;
    for word in rest.split(' ') {
        if let Some((key, _)) = word.split_once('=')
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return at;
        }
        at += word.len() + 1;
    }
    rest.len()
}

/// `a=1 b="x y" c=z` → {a: 1, b: x y, c: z} (a quoted value's `\"` and `\\` unescaped).
fn text_fields(mut rest: &str) -> std::collections::BTreeMap<String, String> {
    let mut fields = std::collections::BTreeMap::new();
    loop {
        rest = rest.trim_start();
        let Some((key, after)) = rest.split_once('=') else {
            return fields;
        };
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &quoted[end..])
            }
            None => {
                let end = after.find(' ').unwrap_or(after.len());
                (after[..end].to_owned(), &after[end..])
            }
        };
        fields.insert(key.to_owned(), value);
        rest = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_read_the_same() {
        let text = "2026-12-03T12:00:00.000001Z  INFO ringcast::gateway::summary: activity summary \
                    interval_s=1 reasons=\"transport close: 2\" peer=127.0.0.1:9 ok=true";
        let json = r#"{"timestamp":"2026-12-03T12:00:00.000001Z","level":"INFO","fields":{"message":"activity summary","interval_s":1,"reasons":"transport close: 2","peer":"127.0.0.1:9","ok":true},"target":"ringcast::gateway::summary"}"#;
        let lines = parse_lines(&format!("{text}\n[stdout] noise\n{json}\n"));
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], lines[1]);
        let l = &lines[0];
        assert_eq!(
            (l.level.as_str(), l.message.as_str()),
            ("INFO", "activity summary")
        );
        assert_eq!(l.num("interval_s"), 1);
        assert_eq!(l.get("reasons"), Some("transport close: 2"));
        assert_eq!(l.get("peer"), Some("127.0.0.1:9"));
    }

    #[test]
    fn a_message_with_colons_and_parentheses_stays_whole() {
        let line = "2026-12-03T12:00:00Z  WARN ringcast::gateway::log_budget: publish API 401s: \
                    (3 more suppressed) kind=\"publish API 401s\" suppressed=3";
        let l = &parse_lines(line)[0];
        assert_eq!(l.message, "publish API 401s: (3 more suppressed)");
        assert_eq!(l.get("kind"), Some("publish API 401s"));
        assert_eq!(l.num("suppressed"), 3);
    }
}
