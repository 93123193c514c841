//! Secrets that must never run a server: every JWT secret and API key the repository's own
//! examples and docs print (`ringcast.example.toml`, the README, `docs/*.md`, the benchmark
//! script). Anyone can read them, so a server started with one is open to anyone; loading
//! refuses them by name. `safety_tests::every_secret_in_the_docs_is_refused` scans the docs, so
//! a new example literal fails the tests until it is listed here.
//!
//! Beyond the list, a secret that looks guessable draws a start-up warning
//! ([`low_entropy_bits`]): it is not refused, since a long passphrase can be strong and a
//! character-frequency estimate cannot tell.

/// The published example values, compared exactly.
const EXAMPLE_SECRETS: [&str; 6] = [
    // ringcast.example.toml
    "change-me-to-32-or-more-random-bytes",
    "replace-with-a-long-random-key",
    "change-me-to-other-32-or-more-random-bytes",
    // The README's tour before it generated its key.
    "backend-key-0123456789",
    // docs/BENCHMARKS*.md record the benchmark commands with these.
    "ringcast-bench-jwt-secret-0123456789abcdef",
    "ringcast-bench-api-key-0123456789",
];

/// Below this many bits by [`estimated_bits`] a secret draws a warning: 128 bits is the
/// security level of HS256's 256-bit key against a generic attack and of a random UUIDv4
/// (122), and 32 random bytes in base64 (what the docs tell you to generate) estimate ~200.
pub(super) const WARN_BELOW_BITS: f64 = 128.0;

/// How to make a good one, for messages.
pub(super) const GENERATE: &str = "generate one with `head -c 32 /dev/urandom | base64`";

/// Whether `value` is one of the published example values.
pub(super) fn is_example(value: &str) -> bool {
    EXAMPLE_SECRETS.contains(&value.trim())
}

/// The estimate, when it is under [`WARN_BELOW_BITS`]; `None` for a secret that looks random.
pub(super) fn low_entropy_bits(value: &str) -> Option<f64> {
    let bits = estimated_bits(value);
    (bits < WARN_BELOW_BITS).then_some(bits)
}

/// Length × the Shannon entropy of the string's own byte frequencies: an upper bound for
/// repeated or few-symbol strings (`aaaa…` is 0, `abab…` 1 bit a byte), and an under-estimate
/// for short random ones, which is the safe side for a warning.
pub(super) fn estimated_bits(value: &str) -> f64 {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum();
    per_byte * len
}
