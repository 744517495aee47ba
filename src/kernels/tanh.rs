//! The hyperbolic tangent, computed on |x| and given the sign of x at the end, so odd
//! symmetry holds bit for bit (including `tanh(-0.0) = -0.0`).
//!
//! - |x| < [`SMALL`]: `y + y³·P(y²)`, P of degree 4 fitted (minimax, relative error,
//!   coefficients rounded one at a time) on [0, SMALL]: relative error below 2^-29. For tiny
//!   |x| the cubic term vanishes and `tanh(x) = x` exactly.
//! - otherwise: `1 − 2e/(1+e)` with `e = e^-2|x|`. SMALL = ln(3)/2 is where `2e/(1+e)`
//!   reaches 1/2, so the subtraction never cancels more than one bit. The quotient is ≥ 0,
//!   so |tanh| ≤ 1, and beyond |x| ≈ 9 it is below half an ULP of 1: the result is exactly 1.
//!
//! The AVX-512 path (`avx512/tanh.rs`) evaluates one piecewise polynomial instead.

use super::exp::exp_split;
use super::lanes::{Arith, Kernel, abs, at_least, copysign};

/// Where the polynomial hands over to the exponential form: ln(3)/2 rounded up.
pub(crate) const SMALL: f32 = 0.549_306_2;

/// `P(s)` coefficients (s⁰ … s⁴) in `tanh(y) ≈ y + y³·P(y²)`.
pub(crate) const TANH_P: [f32; 5] = [
    -0.333_333_16,
    0.133_325_44,
    -0.053_847_548,
    0.021_050_714,
    -0.006_242_849,
];

/// Clamp of the exponent argument `-2|x|`: e^-40 is far below half an ULP of 1.
const SATURATED: f32 = 40.0;

/// `tanh(x)`.
#[derive(Clone, Copy)]
pub(crate) struct Tanh;

impl Kernel for Tanh {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        let y = abs(x);

        let s = y * y;
        let mut poly = TANH_P[4];
        for &c in TANH_P[..4].iter().rev() {
            poly = A::mul_add(poly, s, c);
        }
        let near_zero = A::mul_add(y * s, poly, y);

        let a = at_least(-(y + y), -SATURATED);
        let parts = exp_split::<A, 0>(a, 0.0);
        let e = parts.p * parts.scale;
        let far = 1.0 - (e + e) / (1.0 + e);

        let magnitude = if y < SMALL { near_zero } else { far };
        copysign(magnitude, x)
    }
}
