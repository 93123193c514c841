//! One monotonic time scale for the whole process: nanoseconds since the first call.
//!
//! The publisher stamps `sent_ns` and the receivers subtract it on this scale; both run in this
//! process, so a delivery's latency never mixes two clocks (and no wall-clock step can skew it).

use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the process's time epoch (fixed by the first call).
pub fn now_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards() {
        let mut last = now_ns();
        for _ in 0..10_000 {
            let t = now_ns();
            assert!(t >= last);
            last = t;
        }
    }
}
