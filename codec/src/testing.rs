//! Helpers shared by the codec's unit tests.

/// Hex (whitespace ignored) → bytes, for golden vectors.
#[allow(clippy::unwrap_used)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
