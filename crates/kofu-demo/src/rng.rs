//! A small, fixed pseudo-random generator (SplitMix64) and bijective mixers, so that
//! the same seed gives the same town on every machine and with every dependency version.

/// The SplitMix64 increment (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijection of `u64`, so distinct inputs give
/// distinct outputs (used to make unique, random-looking serials).
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 stream.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A stream for `seed` and a sub-stream `stream` (e.g. a household number), so that
    /// each household is generated from its own independent stream.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        Rng {
            state: mix64(seed ^ mix64(stream.wrapping_add(0x5EED))),
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// A uniform integer in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift; the tiny bias is irrelevant for demo data.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// A uniform float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len() as u64) as usize;
        &items[i.min(items.len().saturating_sub(1))]
    }

    /// An index drawn with the given relative weights.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if r < w {
                return i;
            }
            r -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// A value in `lo..=hi` from a triangular distribution peaking at `mode`.
    pub(crate) fn triangular(&mut self, lo: i64, mode: i64, hi: i64) -> i64 {
        let (a, c, b) = (lo as f64, mode as f64, hi as f64 + 1.0);
        if b <= a {
            return lo;
        }
        let u = self.unit();
        let f = (c - a) / (b - a);
        let x = if u < f {
            a + (u * (b - a) * (c - a)).sqrt()
        } else {
            b - ((1.0 - u) * (b - a) * (b - c)).sqrt()
        };
        (x as i64).clamp(lo, hi)
    }

    /// A roughly normal value (Irwin–Hall of 4 uniforms), mean `mean`, deviation `sd`.
    pub(crate) fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum::<f64>() - 2.0;
        // Four uniforms have variance 1/3.
        mean + sd * s * 3f64.sqrt()
    }
}

/// A bijection of `0..10^digits` keyed by `key`: distinct serials stay distinct, but
/// consecutive serials look unrelated. Uses an odd multiplier coprime to 10 and an offset.
pub(crate) fn permute_decimal(serial: u64, key: u64, digits: u32) -> u64 {
    let modulus = 10u64.pow(digits);
    // A multiplier coprime with 10 (odd, not a multiple of 5) is invertible mod 10^k.
    let mut mult = (key % modulus) | 1;
    if mult.is_multiple_of(5) {
        mult += 2;
    }
    let offset = mix64(key) % modulus;
    let x = serial % modulus;
    ((u128::from(x) * u128::from(mult) + u128::from(offset)) % u128::from(modulus)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7, 1);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7, 1);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(7, 2);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn known_first_value() {
        // Pins the algorithm: a change here changes every demo town.
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(GAMMA), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn permutation_is_injective() {
        for key in [0u64, 5, 12345, u64::MAX] {
            let seen: HashSet<u64> = (0..100_000).map(|s| permute_decimal(s, key, 5)).collect();
            assert_eq!(seen.len(), 100_000);
        }
    }

    #[test]
    fn ranges_and_weights() {
        let mut r = Rng::new(1, 1);
        for _ in 0..10_000 {
            let v = r.range(3, 5);
            assert!((3..=5).contains(&v));
        }
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.weighted(&[1, 0, 2])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > counts[0] * 3 / 2);
    }
}
