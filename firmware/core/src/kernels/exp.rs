//! `e^x` in f32 from basic operations only, and the bit helpers the kernels share.
//!
//! Method: `e^x = 2^n · e^r` with `n = round(x · log2 e)` and `r = x − n·ln 2`, the product
//! taken in two parts (Cody and Waite) so that `r` is accurate; `e^r` on |r| ≤ ln2/2 is
//! `1 + r + r²·q(r)` with `q` a degree-4 Chebyshev fit (tools/fit.py; error 7e-9 on the
//! interval, far below half an ulp); `2^n` is built from exponent bits in two factors, so
//! that results down to the subnormals and up to the overflow come out right with one
//! rounding.

/// `log2 e` rounded to f32.
const LOG2_E: f32 = core::f32::consts::LOG2_E;

/// The high part of ln 2: its 16 leading bits, so `n · LN2_HI` is exact for |n| < 256.
const LN2_HI: f32 = f32::from_bits(0x3F31_7200);

/// `ln 2 − LN2_HI` rounded to f32.
const LN2_LO: f32 = f32::from_bits(0x35BF_BE8E);

/// 1.5 · 2^23: adding it rounds a float below 2^22 in magnitude to an integer (ties to
/// even), and the integer can then be read from the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// Below this, `e^x` is less than half the smallest subnormal: the clamp makes it 0.
const EXP_ARG_MIN: f32 = -110.0;

/// Above this, `e^x` overflows: the clamp keeps `n` small enough for the exponent bits.
const EXP_ARG_MAX: f32 = 89.0;

/// The coefficients of `q(r) ≈ (e^r − 1 − r) / r²`, highest degree first.
const EXP_Q: [f32; 5] = [
    1.392_628_4e-3,
    8.363_259e-3,
    4.166_655_2e-2,
    1.666_657_6e-1,
    5.0e-1,
];

/// The sign bit of an f32.
pub(crate) const SIGN_BIT: u32 = 0x8000_0000;

/// `|x|`, by clearing the sign bit.
#[inline(always)]
pub(crate) fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & !SIGN_BIT)
}

/// `x` with the sign of `sign` (`x` assumed non-negative or NaN).
#[inline(always)]
pub(crate) fn with_sign_of(x: f32, sign: f32) -> f32 {
    f32::from_bits(x.to_bits() | (sign.to_bits() & SIGN_BIT))
}

/// A zero with the sign of `x`.
#[inline(always)]
pub(crate) fn signed_zero(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & SIGN_BIT)
}

/// Evaluates a degree-4 polynomial, coefficients highest degree first (Horner). Written out:
/// a loop over the coefficients stays a loop at `opt-level = "s"` and costs a load, a
/// compare and a branch per coefficient on the board.
#[inline(always)]
pub(crate) fn horner5(c: &[f32; 5], x: f32) -> f32 {
    let [c0, c1, c2, c3, c4] = *c;
    (((c0 * x + c1) * x + c2) * x + c3) * x + c4
}

/// Evaluates a degree-5 polynomial, coefficients highest degree first (Horner).
#[inline(always)]
pub(crate) fn horner6(c: &[f32; 6], x: f32) -> f32 {
    let [c0, c1, c2, c3, c4, c5] = *c;
    horner5(&[c0, c1, c2, c3, c4], x) * x + c5
}

/// `e^x`. NaN gives NaN, −∞ gives 0, +∞ gives +∞.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    exp_split(x, 0.0)
}

/// `e^(hi + lo)` with `|lo|` much smaller than 1, where `hi + lo` carries more precision
/// than one f32: `lo` joins the reduced argument after the exact part of the reduction.
#[inline(always)]
pub(crate) fn exp_split(hi: f32, lo: f32) -> f32 {
    // Comparisons are false for NaN, which passes through and comes out as NaN.
    let hi = if hi < EXP_ARG_MIN { EXP_ARG_MIN } else { hi };
    let hi = if hi > EXP_ARG_MAX { EXP_ARG_MAX } else { hi };
    let t = (hi + lo) * LOG2_E + ROUND_MAGIC;
    let n_float = t - ROUND_MAGIC;
    let n = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let r = (hi - n_float * LN2_HI) - n_float * LN2_LO + lo;
    let e_r = 1.0 + (r + (r * r) * horner5(&EXP_Q, r));
    // n is in [−159, 128]; both halves are normal exponents, and p · 2^n1 is exact.
    let n1 = n >> 1;
    let n2 = n.wrapping_sub(n1);
    e_r * pow2(n1) * pow2(n2)
}

/// `2^n` for `n` in [−126, 127], from its exponent bits.
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits((n.wrapping_add(127) as u32) << 23)
}
