//! Small JSON helpers that do not build values: string escaping, nesting depth.
//!
//! CONTRACT (the server codes against these signatures; keep them).

use crate::Sink;

/// Appends `s` as a JSON string literal, quotes included, escaping per RFC 8259 §7.
pub fn write_str(out: &mut impl Sink, s: &str) {
    let _ = (out, s);
    unimplemented!()
}

/// Maximum nesting depth of the JSON text in `json` (strings are skipped properly), stopping
/// early and returning `None` once `limit` is exceeded. Does not validate the JSON.
pub fn depth_within(json: &[u8], limit: usize) -> Option<usize> {
    let _ = (json, limit);
    unimplemented!()
}
