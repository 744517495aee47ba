//! GELU in its exact form, `x · Φ(x)` with Φ the standard normal CDF.
//!
//! Method: with `u = |x|`, the upper tail is `Q(u) = e^(−u²/2) · R(u)`, where `R` (the Mills
//! ratio over √(2π)) is a rational function of degree 4/5 fitted for relative error over
//! u ∈ [0, 14] (tools/fit.py, 7e-9; every coefficient is positive, so its evaluation does
//! not cancel). Then `Φ(x) = Q(u)` for x < 0 and `1 − Q(u)` for x ≥ 0: neither side cancels
//! (Q ≤ 1/2), so the tiny left tail keeps its relative accuracy and one formula covers
//! every x. `u²/2` is split into an exact part (the square of u's 12 high bits) and a small
//! correction, so the exponent argument (32 at u = 8) is accurate far beyond one f32
//! rounding.

use super::exp::{abs, exp_split, horner5, horner6};

/// Past this u, Q(u) is below the smallest subnormal: clamping there keeps ∞ out of the
/// arithmetic, and the exponential of the clamped argument is exactly 0.
const U_MAX: f32 = 16.0;

/// Keeps the 12 high significant bits of an f32, so the square of the result is exact.
const HIGH_HALF_MASK: u32 = 0xFFFF_F000;

/// The numerator of `R(u)`, highest degree first.
const MILLS_N: [f32; 5] = [
    4.160_243e-3,
    4.091_430_5e-2,
    1.840_437_4e-1,
    4.393_445_3e-1,
    5.0e-1,
];

/// The denominator of `R(u)`, highest degree first.
const MILLS_D: [f32; 6] = [
    1.042_806_6e-2,
    1.025_632_1e-1,
    4.716_115_6e-1,
    1.205_794_7,
    1.676_574_1,
    1.0,
];

/// `Q(u) = 1 − Φ(u)` for u ≥ 0 (and NaN for NaN).
#[inline(always)]
fn upper_tail(u: f32) -> f32 {
    let u_high = f32::from_bits(u.to_bits() & HIGH_HALF_MASK);
    let u_low = u - u_high;
    // −u²/2 = −u_high²/2 − u_low·(u + u_high)/2, the first term exact.
    let hi = -0.5 * (u_high * u_high);
    let lo = -0.5 * (u_low * (u + u_high));
    exp_split(hi, lo) * (horner5(&MILLS_N, u) / horner6(&MILLS_D, u))
}

/// GELU: `x · Φ(x)`. NaN gives NaN, −∞ gives −0, +∞ gives +∞.
#[inline(always)]
pub(crate) fn gelu(x: f32) -> f32 {
    let a = abs(x);
    let u = if a > U_MAX { U_MAX } else { a };
    let q = upper_tail(u);
    // For x < 0, −u equals x unless x was clamped, and then q = 0 and the result is −0.
    if x < 0.0 { -(u * q) } else { x * (1.0 - q) }
}
