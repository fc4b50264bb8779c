//! A tiny deterministic PRNG (SplitMix64) and the few distributions the generator draws from.
//!
//! Everything here is integer arithmetic or the basic IEEE operations (`+ - * /`), which round
//! the same way on every platform; even the logarithm behind the exponential draws is computed
//! here rather than by the platform's libm. So one seed gives the same trace everywhere.

/// SplitMix64 (Steele, Lea and Flood, 2014): one 64-bit state, one output per step.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    pub(crate) fn next_u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }

    /// Uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo).saturating_add(1))
    }

    /// Uniform in `[0, 1)`, in steps of 2^-53.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponentially distributed with the given mean, cut at eight times the mean.
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        // 1 - unit is in (0, 1], so the logarithm is finite.
        (-mean * ln(1.0 - self.unit())).min(8.0 * mean)
    }

    /// Spread over `lo..=hi` evenly on a log scale (an octave is picked uniformly, then a value
    /// within it): many small values, a long tail of large ones.
    pub(crate) fn spread(&mut self, lo: u64, hi: u64) -> u64 {
        let lo = lo.max(1);
        let octaves = u64::from((hi / lo).max(1).ilog2());
        let base = lo << self.below(octaves + 1);
        (base + self.below(base)).min(hi)
    }

    /// An index into `weights`, each picked in proportion to its weight.
    pub(crate) fn pick(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut ticket = self.below(total);
        for (i, &weight) in weights.iter().enumerate() {
            if ticket < u64::from(weight) {
                return i;
            }
            ticket -= u64::from(weight);
        }
        weights.len().saturating_sub(1)
    }
}

/// Natural logarithm of a positive, normal `x`: the exponent from the bits, then the series
/// ln(m) = 2 atanh((m - 1) / (m + 1)) for the mantissa m in [0.707, 1.414].
fn ln(x: f64) -> f64 {
    const LN_2: f64 = std::f64::consts::LN_2;
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        exponent += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = s
        * (2.0
            + s2 * (2.0 / 3.0
                + s2 * (2.0 / 5.0 + s2 * (2.0 / 7.0 + s2 * (2.0 / 9.0 + s2 * (2.0 / 11.0))))));
    series + exponent as f64 * LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(
            xs,
            (0..8).map(|_| Rng::new(8).next_u64()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn ln_matches_the_platform_closely() {
        for x in [1.0, 0.5, 0.1, 1e-9, 0.999_999, 2f64.powi(-53), 0.7, 1.4] {
            assert!((ln(x) - x.ln()).abs() < 1e-9, "{x}");
        }
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            assert!((10..=20).contains(&rng.between(10, 20)));
            assert!((100..=5000).contains(&rng.spread(100, 5000)));
            assert!(rng.exp(1.0) <= 8.0);
            assert!(rng.pick(&[0, 3, 0, 1]) % 2 == 1);
        }
    }
}
