//! A log-linear latency histogram (HDR-style) over `u64` nanoseconds.
//!
//! Every power of two is split into 128 linear sub-buckets, so a recorded value is reported
//! within 1/128 ≈ 0.8 % of itself, at any magnitude, in a fixed 7 424-slot array (58 KiB):
//! recording is an index computation and an increment, never an allocation, so the generator
//! can record every delivery.

/// Sub-buckets per power of two, as bits: 2^7 = 128 → ≤ 0.8 % relative error.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Values below `SUB` are exact (one slot each); every higher octave `e` (7..=63) adds 128.
const SLOTS: usize = ((64 - SUB_BITS as usize) + 1) << SUB_BITS;

/// Counts of values by log-linear bucket, plus the exact count, sum, min and max.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .field("min", &self.min)
            .field("max", &self.max)
            .finish()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; SLOTS].into_boxed_slice(),
            total: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.counts[index(value)] += 1;
        self.total += 1;
        self.sum += u128::from(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Adds every count of `other` into `self`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The smallest recorded value, `None` when empty.
    pub fn min(&self) -> Option<u64> {
        (self.total > 0).then_some(self.min)
    }

    /// The largest recorded value, `None` when empty.
    pub fn max(&self) -> Option<u64> {
        (self.total > 0).then_some(self.max)
    }

    pub fn mean(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum as f64 / self.total as f64)
    }

    /// The value at quantile `q` (0.0..=1.0): the upper edge of the bucket holding the
    /// `ceil(q · count)`-th smallest value, clamped to the exact max so p100 is the true max.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(upper_edge(i).min(self.max).max(self.min));
            }
        }
        Some(self.max)
    }
}

/// The slot of `value`: exact below 128, else (octave, top 7 bits after the leading one).
fn index(value: u64) -> usize {
    if value < SUB {
        return value as usize;
    }
    let octave = 63 - value.leading_zeros(); // ≥ SUB_BITS here
    let shift = octave - SUB_BITS;
    let top = (value >> shift) as usize; // in [128, 256)
    ((shift as usize + 1) << SUB_BITS) + (top - SUB as usize)
}

/// The largest value that maps to slot `i`.
fn upper_edge(i: usize) -> u64 {
    if i < SUB as usize {
        return i as u64;
    }
    let shift = (i >> SUB_BITS) as u32 - 1;
    let top = (SUB + (i as u64 & (SUB - 1))) as u128;
    (((top + 1) << shift) - 1).min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_edges_agree_at_every_boundary() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            256,
            257,
            1000,
            65_535,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let i = index(v);
            assert!(i < SLOTS, "{v} → slot {i} out of range");
            assert!(
                upper_edge(i) >= v,
                "{v}: edge {} below value",
                upper_edge(i)
            );
            if i > 0 {
                assert!(
                    upper_edge(i - 1) < v,
                    "{v}: previous edge {} not below",
                    upper_edge(i - 1)
                );
            }
        }
    }

    #[test]
    fn slots_are_monotonic() {
        let mut last = 0;
        let mut v = 1u64;
        while v < u64::MAX / 3 {
            let i = index(v);
            assert!(i >= last, "index decreased at {v}");
            last = i;
            v = v + v / 7 + 1;
        }
    }

    #[test]
    fn relative_error_is_below_one_percent() {
        let mut v = 1u64;
        while v < 1 << 50 {
            let edge = upper_edge(index(v));
            assert!((edge - v) as f64 <= v as f64 / 128.0 + 1.0, "{v} → {edge}");
            v = v * 3 / 2 + 1;
        }
    }

    #[test]
    fn quantiles_of_a_uniform_range() {
        let mut h = Histogram::new();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        let cases = [
            (0.5, 5_000_000u64),
            (0.99, 9_900_000),
            (0.999, 9_990_000),
            (1.0, 10_000_000),
        ];
        for (q, want) in cases {
            let got = h.quantile(q).expect("non-empty");
            let err = got.abs_diff(want) as f64 / want as f64;
            assert!(err < 0.01, "q{q}: got {got}, want ≈{want}");
        }
        assert_eq!(h.min(), Some(1000));
        assert_eq!(h.max(), Some(10_000_000));
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn merge_adds_counts_and_extremes() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(10);
        b.record(1_000_000);
        b.record(5);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.min(), Some(5));
        assert_eq!(a.max(), Some(1_000_000));
        assert_eq!(a.quantile(0.5), Some(10));
    }

    #[test]
    fn empty_histogram_has_no_quantiles() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        assert_eq!(h.mean(), None);
        assert_eq!(h.min(), None);
    }
}
