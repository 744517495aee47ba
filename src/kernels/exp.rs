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
//! 5. the scale `2^n` (offset by a constant power of two where results may be subnormal)
//!    comes straight from the biased integer's bits.

use super::lanes::Arith;

/// `log2(e)`.
pub(crate) const LOG2_E: f32 = std::f32::consts::LOG2_E;

/// `1.5·2^23`: adding it to |v| < 2^22 rounds v to an integer kept in the mantissa bits.
pub(crate) const MAGIC_BIAS: f32 = 12_582_912.0;

/// High part of ln 2 (0x3F317200, 15 significant bits).
pub(crate) const LN2_HI: f32 = 0.693_145_75;

/// `ln 2 − LN2_HI`, rounded to f32.
pub(crate) const LN2_LO: f32 = 1.428_606_8e-6;

/// Coefficients of `q(r)` (r⁰ … r⁴) in `e^r ≈ 1 + r + r²·q(r)`.
pub(crate) const EXP_Q: [f32; 5] = [
    0.499_999_94,
    0.166_665_12,
    0.041_668_307,
    0.008_369_824,
    0.001_381_986,
];

/// `e^(a + lo) = (p + p_lo)·2^n`, with the power of two given as `scale = 2^(n + OFFSET)`.
///
/// `p ∈ [0.70, 1.42]`; `p_lo` is the rounding error of `p = 1 + t` (with
/// `t = r + r²·q(r)`), so `p + p_lo` is within about 2^-24.4 of `e^r` and kernels that need
/// more than one rounding's accuracy can use it (the compiler drops it where unused).
#[derive(Clone, Copy)]
pub(crate) struct ExpParts {
    pub(crate) p: f32,
    pub(crate) p_lo: f32,
    pub(crate) scale: f32,
}

/// `e^(a + lo)` split as [`ExpParts`], the scale offset by `2^OFFSET` so that it stays a
/// normal number: valid while `−126 ≤ n + OFFSET ≤ 127` (e.g. OFFSET 0: `a` in
/// [−87.5, 88]; OFFSET 64: `a` in [−131, 43]), and |lo| ≤ 2^-10. Outside that range the
/// parts are meaningless (callers select another result there); NaN `a` gives NaN `p`.
///
/// The magic bias carries `127 + OFFSET`, so the biased integer sits in the low mantissa
/// bits already as an exponent field: one shift builds the scale.
#[inline(always)]
pub(crate) fn exp_split<A: Arith, const OFFSET: i32>(a: f32, lo: f32) -> ExpParts {
    let magic = MAGIC_BIAS + (127 + OFFSET) as f32;
    let biased = A::mul_add(a, LOG2_E, magic);
    let scale = f32::from_bits(biased.to_bits().wrapping_shl(23));
    let n_float = biased - magic;
    let r = A::mul_add(n_float, -LN2_HI, a);
    let r = A::mul_add(n_float, -LN2_LO, r) + lo;
    let mut q = EXP_Q[4];
    for &c in EXP_Q[..4].iter().rev() {
        q = A::mul_add(q, r, c);
    }
    let v = A::mul_add(q, r, 1.0);
    let p = A::mul_add(v, r, 1.0);
    // The rounding error of p against 1 + fl(v·r), by fast two-sum (|v·r| < 1); the
    // compiler drops it, and the product, in kernels that do not use it.
    let t = v * r;
    let p_lo = (1.0 - p) + t;
    ExpParts { p, p_lo, scale }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::lanes::{Fused, Separate};

    fn exp_with<A: Arith>(a: f32) -> f64 {
        let parts = exp_split::<A, 0>(a, 0.0);
        (f64::from(parts.p) + f64::from(parts.p_lo)) * f64::from(parts.scale)
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
        let zero = exp_split::<Fused, 0>(0.0, 0.0);
        let negative_zero = exp_split::<Separate, 0>(-0.0, 0.0);
        for parts in [zero, negative_zero] {
            assert_eq!((parts.p, parts.p_lo, parts.scale), (1.0, 0.0, 1.0));
        }
    }

    #[test]
    fn the_offset_scale_is_the_power_of_two() {
        // a = n·ln 2 reduces to |r| < 2^-10, so the scale alone carries 2^(n + OFFSET).
        for n in -190..=0 {
            let a = n as f32 * std::f32::consts::LN_2;
            let parts = exp_split::<Separate, 64>(a, 0.0);
            assert_eq!(f64::from(parts.scale), 2f64.powi(n + 64), "n = {n}");
        }
    }
}
