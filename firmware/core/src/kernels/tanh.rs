//! The hyperbolic tangent.

use super::exp::{abs, exp, horner5, with_sign_of};

/// Below this |x|, an odd polynomial; above, the exponential form.
const SMALL: f32 = 0.55;

/// The coefficients of `q(s) ≈ (tanh √s − √s) / s^1.5` on s ∈ [0, 0.55²], highest degree
/// first (tools/fit.py; relative error of the result 4e-9).
const TANH_Q: [f32; 5] = [
    -6.610_228e-3,
    2.130_938_9e-2,
    -5.390_943e-2,
    1.333_311_3e-1,
    -3.333_333e-1,
];

/// `tanh x`: `x + x³·q(x²)` for |x| < 0.55, else `±(1 − e) / (1 + e)` with `e = e^(−2|x|)`
/// (no cancellation there: e ≤ 1/3). ±∞ gives ±1, NaN gives NaN.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let a = abs(x);
    // On |x|, and the sign put back at the end, so tanh(−0) = −0.
    let magnitude = if a < SMALL {
        let s = a * a;
        a + (a * s) * horner5(&TANH_Q, s)
    } else {
        let e = exp(-2.0 * a);
        (1.0 - e) / (1.0 + e)
    };
    with_sign_of(magnitude, x)
}
