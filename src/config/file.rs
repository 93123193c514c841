//! The file layer: the TOML file given by `--config` (or `RINGCAST_CONFIG`). Its keys are the
//! setting names; an unknown key is an error, so a typo cannot pass for a setting.
//!
//! Errors name the file, the line and the key: a wrong type says what the key takes (`workers:
//! expected a non-negative integer`, not serde's `expected usize`), an unknown key suggests the
//! nearest setting name rather than listing all of them.

use std::path::Path;

use super::settings::{FileSettings, SETTING_NAMES, toml_form};
use super::{ConfigError, Settings};

/// Reads and parses the file. An error names the file and, for a parse error, the line.
pub(super) fn read(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("config", format!("{}: {e}", path.display())))?;
    let file: FileSettings = toml::from_str(&text).map_err(|e| {
        let start = e.span().map(|span| span.start);
        let at = start
            .map(|s| format!(" line {}:", line_of(&text, s)))
            .unwrap_or_default();
        let why = explain(e.message(), start.and_then(|s| key_at(&text, s)));
        ConfigError::new("config", format!("{}:{at} {why}", path.display()))
    })?;
    Ok(file.into())
}

/// toml's message, reworded where it speaks Rust: an unknown field gets "did you mean", a type
/// error names the key and the form it takes.
fn explain(message: &str, key: Option<&str>) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return match nearest_setting(name) {
            Some(near) => format!("unknown key `{name}`; did you mean `{near}`?"),
            None => format!(
                "unknown key `{name}` (the keys are the setting names in `ringcast --help` \
                 with underscores, as in ringcast.example.toml)"
            ),
        };
    }
    const TYPE_ERRORS: [&str; 3] = ["invalid type: ", "invalid value: ", "unknown variant "];
    if let Some(prefix) = TYPE_ERRORS.iter().find(|p| message.starts_with(**p))
        && let Some((key, form)) = key.and_then(|k| Some((k, toml_form(k)?)))
    {
        let got = message
            .split(", expected")
            .next()
            .unwrap_or(message)
            .trim_start_matches(prefix);
        return format!("{key}: expected {form}, got {got}");
    }
    message.trim().to_owned()
}

/// The key of the `key = value` line holding byte `offset` (toml points type errors at the
/// value).
fn key_at(text: &str, offset: usize) -> Option<&str> {
    let line_start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    Some(key.trim().trim_matches('"'))
}

/// The setting whose name is closest to `name` (flag spelling `-` read as `_`), when it is
/// close enough to be a typo: at most 2 edits, or 3 for names of 10+ characters.
fn nearest_setting(name: &str) -> Option<&'static str> {
    let wanted = name.replace('-', "_").to_ascii_lowercase();
    let limit = if wanted.len() >= 10 { 3 } else { 2 };
    SETTING_NAMES
        .iter()
        .map(|s| (edit_distance(&wanted, s), *s))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// Levenshtein distance over bytes (setting names are ASCII), one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
