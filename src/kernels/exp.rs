//! The exponential core shared by the sigmoid, Swish, tanh and GELU kernels.
//!
//! `e^a = 2^n · e^r` with `n = round(a / ln 2)` and `|r| ≤ ln2/2`:
//! 1. `n` by the magic-bias trick: adding `1.5·2^23` rounds `a·log2(e)` to an integer that
//!    then sits in the low mantissa bits;
//! 2. `r = a − n·ln2` by Cody–Waite with a two-part ln 2 whose high part has 15 significant
//!    bits, so `n·LN2_HI` is exact for |n| < 512;
//! 3. `e^r = 1 + r + r²·q(r)`, `q` a degree-4 polynomial fitted (minimax, relative error,
//!    coefficients rounded to f32 one at a time and the rest refitted) on |r| ≤ 0.354:
//!    relative error below 2^-28;
//! 4. `p = 1 + t` is returned with its rounding error `p_lo` (fast two-sum);
//! 5. the caller scales by `2^n` through exponent bits ([`pow2`]), in one or two steps.

use super::lanes::Arith;

/// `log2(e)`.
const LOG2_E: f32 = std::f32::consts::LOG2_E;

/// `1.5·2^23`: adding it to |v| < 2^22 rounds v to an integer kept in the mantissa bits.
const MAGIC_BIAS: f32 = 12_582_912.0;

/// High part of ln 2 (0x3F317200, 15 significant bits).
const LN2_HI: f32 = 0.693_145_75;

/// `ln 2 − LN2_HI`, rounded to f32.
const LN2_LO: f32 = 1.428_606_8e-6;

/// Coefficients of `q(r)` (r⁰ … r⁴) in `e^r ≈ 1 + r + r²·q(r)`.
const EXP_Q: [f32; 5] = [
    0.499_999_94,
    0.166_665_12,
    0.041_668_307,
    0.008_369_824,
    0.001_381_986,
];

/// `e^(a + lo) = (p + p_lo)·2^n` with `p ∈ [0.70, 1.42]` and `|p_lo| ≤ ulp(p)/2`.
///
/// `p_lo` is the rounding error of `p = 1 + t` (with `t = r + r²·q(r)`), so `p + p_lo` is
/// within about 2^-24.4 of `e^r` and kernels that need more than one rounding's accuracy
/// can use it (the compiler drops it where unused).
#[derive(Clone, Copy)]
pub(crate) struct ExpParts {
    pub(crate) p: f32,
    pub(crate) p_lo: f32,
    pub(crate) n: i32,
}

/// `e^(a + lo)` split as [`ExpParts`].
///
/// Valid for `a` in about [−350, 88] and |lo| ≤ 2^-10; `lo` carries the low part of an
/// argument known more precisely than one f32. NaN `a` gives NaN `p` (and a meaningless n).
#[inline(always)]
pub(crate) fn exp_split<A: Arith>(a: f32, lo: f32) -> ExpParts {
    let biased = A::mul_add(a, LOG2_E, MAGIC_BIAS);
    let n = (biased.to_bits() as i32).wrapping_sub(MAGIC_BIAS.to_bits() as i32);
    let n_float = biased - MAGIC_BIAS;
    let r = A::mul_add(n_float, -LN2_HI, a);
    let r = A::mul_add(n_float, -LN2_LO, r) + lo;
    let mut q = EXP_Q[4];
    for &c in EXP_Q[..4].iter().rev() {
        q = A::mul_add(q, r, c);
    }
    let t = A::mul_add(q, r, 1.0) * r;
    let p = 1.0 + t;
    // Fast two-sum: |t| < 1, so the rounding error of 1 + t is exactly (1 − p) + t.
    let p_lo = (1.0 - p) + t;
    ExpParts { p, p_lo, n }
}

/// `2^n` built from exponent bits, for `n` in [−126, 127].
#[inline(always)]
pub(crate) fn pow2(n: i32) -> f32 {
    f32::from_bits((n.wrapping_add(127) as u32).wrapping_shl(23))
}

/// Splits `2^n` (n in [−252, 127]) into two normal factors `2^n1 · 2^n2`, so that a
/// product can be scaled down into the subnormal range with a single final rounding.
#[inline(always)]
pub(crate) fn pow2_halves(n: i32) -> (f32, f32) {
    let n1 = n >> 1;
    (pow2(n1), pow2(n.wrapping_sub(n1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::lanes::{Fused, Separate};

    fn exp_with<A: Arith>(a: f32) -> f64 {
        let parts = exp_split::<A>(a, 0.0);
        (f64::from(parts.p) + f64::from(parts.p_lo)) * 2f64.powi(parts.n)
    }

    #[test]
    fn exp_core_is_within_one_ulp_on_its_range() {
        let mut a = -87.0_f32;
        while a < 0.0 {
            let exact = f64::from(a).exp();
            // p + p_lo carries about 24.5 bits (the roundings of r and t dominate).
            let ulp = 2f64.powi(exact.log2().floor() as i32 - 23);
            for got in [exp_with::<Fused>(a), exp_with::<Separate>(a)] {
                assert!((got - exact).abs() <= 0.75 * ulp, "e^{a}: {got} vs {exact}");
            }
            a += 0.001_37;
        }
    }

    #[test]
    fn exp_of_zero_is_exactly_one() {
        for parts in [
            exp_split::<Fused>(0.0, 0.0),
            exp_split::<Separate>(-0.0, 0.0),
        ] {
            assert_eq!((parts.p, parts.p_lo, parts.n), (1.0, 0.0, 0));
        }
    }

    #[test]
    fn pow2_halves_multiply_to_the_power() {
        for n in -252..=0 {
            let (a, b) = pow2_halves(n);
            assert!(a.is_normal() && b.is_normal(), "n = {n}");
            assert_eq!(f64::from(a) * f64::from(b), 2f64.powi(n));
        }
    }
}
