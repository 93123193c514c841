//! The file layer: the TOML file given by `--config` (or `RINGCAST_CONFIG`). Its keys are the
//! setting names; an unknown key is an error, so a typo cannot pass for a setting.

use std::path::Path;

use super::settings::FileSettings;
use super::{ConfigError, Settings};

/// Reads and parses the file. An error names the file and, for a parse error, the line.
pub(super) fn read(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("config", format!("{}: {e}", path.display())))?;
    let file: FileSettings = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|span| line_of(&text, span.start));
        let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
        ConfigError::new("config", format!("{}:{at} {}", path.display(), e.message()))
    })?;
    Ok(file.into())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
