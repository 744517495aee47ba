//! GELU in both forms: the exact `x·Φ(x)` (erf) and the tanh approximation.
//!
//! The AVX-512 path (`avx512/gelu.rs`) computes the erf form with a piecewise tail without
//! division instead of the construction below, and refines the tanh form's gate.
//!
//! **erf form.** With `t = |x|`:
//! - t < [`CENTRAL`]: `Φ(x) = 1/2 + x·P(x²)`, P of degree 4 (minimax on [0, 0.6745],
//!   relative error of Φ(−t) below 2^-28). At CENTRAL, Φ(−t) = 1/4, so `1/2 − t·P` never
//!   cancels more than one bit.
//! - otherwise `Φ(−t) = e^(−t²/2)·R(t)` with `R(t) = u·Q(u − U0)`, `u = 1/(1 + t/2)`, Q of
//!   degree 10 (minimax on t ∈ [0.6, 13.6], relative error below 2^-29); U0 is picked so that
//!   Q's constant term is an f32 to 2^-32. `t²/2` is carried as an exact two-part product,
//!   and the rounding of `u` (which R would amplify) is measured with two exact residuals
//!   and folded into the exponent as a first-order correction. Negative x gives
//!   `(x·R)·e^(−t²/2)` (no `1 + erf` cancellation), positive x gives `x − (x·R)·e^(−t²/2)`.
//! - t > [`FLUSH`]: the exact result of a negative x is subnormal (|GELU| < 2^-126) and is
//!   returned as −0, within the contract's absolute bound; positive x returns x.
//!
//! **tanh form.** `x·σ(w)` with `w = 2·√(2/π)·(x + 0.044715·x³)`, the identity
//! `(1 + tanh(w/2))/2 = σ(w)`. `w` is computed in f64 and split into two f32 parts, because
//! its rounding error would be amplified |w| times for negative x; [`gated`] keeps
//! huge |x| free of overflow. The gate is used unrefined (one division): the contract's
//! 4 ULP leave room (3.5 ULP measured over all inputs).

use super::exp::exp_split;
use super::lanes::{Arith, Kernel, abs, at_least};
use super::logistic::{REFINE_NONE, gated};

/// Below this |x| the central polynomial is used (Φ(−0.6745) ≈ 1/4).
const CENTRAL: f32 = 0.6745;

/// Central `P(s)` coefficients (s⁰ … s⁴) in `Φ(x) ≈ 1/2 + x·P(x²)`.
const PHI_P: [f32; 5] = [
    0.398_942_3,
    -0.066_490_63,
    0.009_974_919,
    -0.001_188_765_5,
    0.000_110_235_28,
];

/// Expansion point of Q (0.43458646535873413 as f32).
const U0: f32 = 0.434_586_47;

/// Tail `Q(v)` coefficients (v⁰ … v¹⁰) in `Φ(−t)·e^(t²/2) ≈ u·Q(u − U0)`.
const TAIL_Q: [f32; 11] = [
    0.314_813_02,
    0.321_998_6,
    0.086_004_04,
    -0.140_978_96,
    -0.042_327_274,
    0.125_962_11,
    -0.025_553_674,
    -0.114_008_516,
    0.114_423_156,
    0.055_134_01,
    -0.142_130_51,
];

/// `d ln R / d ln u ≈ G0 + G1·u` (to ±0.11), for the rounding correction of u.
const G0: f32 = 1.042_523_5;
const G1: f32 = 0.862_179_7;

/// Beyond this |x| a negative x has a subnormal GELU (t·Φ(−t) = 2^-126 at t = 13.14625).
pub(crate) const FLUSH: f32 = 13.15;

/// Clamp of the exponent argument so that `2^n` stays a normal number.
const EXP_FLOOR: f32 = 87.5;

/// `2·√(2/π)`.
pub(crate) const W_LINEAR: f64 = 2.0 * super::reference::SQRT_2_OVER_PI;

/// `2·√(2/π)·0.044715`.
pub(crate) const W_CUBIC: f64 = W_LINEAR * super::reference::GELU_TANH_CUBIC;

/// `x·Φ(x)`.
#[derive(Clone, Copy)]
pub(crate) struct GeluErf;

impl Kernel for GeluErf {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        let t = abs(x);
        let central = A::mul_add(x, horner::<A, _>(&PHI_P, x * x), 0.5);
        let tail = upper_tail::<A>(t);
        let y_central = x * central;
        let y_tail = tail.x_times::<A>(x);
        let y = if t < CENTRAL { y_central } else { y_tail };
        let flushed = if x < 0.0 { -0.0 } else { x };
        if t > FLUSH { flushed } else { y }
    }
}

/// `Φ(−t) = r·(e + e_lo)` kept as factors, so `x·Φ(−t)` can be formed without underflow.
struct Tail {
    r: f32,
    e: f32,
    e_lo: f32,
}

impl Tail {
    /// `x·Φ(x)`: `x·Φ(−t)` for negative x (no cancellation, no underflow of the factors),
    /// `x − x·Φ(−t)` for positive x, each with the low part of the exponential.
    #[inline(always)]
    fn x_times<A: Arith>(&self, x: f32) -> f32 {
        let xr = x * self.r;
        let x_phi = A::mul_add(xr, self.e, xr * self.e_lo);
        if x < 0.0 {
            x_phi
        } else {
            A::mul_add(-xr, self.e, x)
        }
    }
}

#[inline(always)]
fn upper_tail<A: Arith>(t: f32) -> Tail {
    let half = 0.5 * t;
    let denominator = 1.0 + half;
    let u = 1.0 / denominator;
    // u* = 1/(1 + t/2) exactly: relative offset of u from it, from the two exact residuals.
    let division_residual = A::mul_sub_exact(u, denominator, 1.0);
    let denominator_error = (1.0 - denominator) + half;
    let u_offset = A::mul_add(-denominator_error, u, division_residual);
    let gain = A::mul_add(G1, u, G0);

    // −t²/2 = a + lo exactly (t·(−t/2), the halving being exact).
    let (a, square_lo) = A::two_prod(t, -half);
    let lo = A::mul_add(gain, u_offset, square_lo);
    let lo = if a < -EXP_FLOOR { 0.0 } else { lo };
    let parts = exp_split::<A, 0>(at_least(a, -EXP_FLOOR), lo);
    let scale = parts.scale;

    let r = u * horner::<A, _>(&TAIL_Q, u - U0);
    Tail {
        r,
        e: parts.p * scale,
        e_lo: parts.p_lo * scale,
    }
}

#[inline(always)]
fn horner<A: Arith, const N: usize>(coefficients: &[f32; N], v: f32) -> f32 {
    let mut acc = coefficients[N - 1];
    for &c in coefficients[..N - 1].iter().rev() {
        acc = A::mul_add(acc, v, c);
    }
    acc
}

/// `x·σ(2·√(2/π)·(x + 0.044715·x³))`.
#[derive(Clone, Copy)]
pub(crate) struct GeluTanh;

impl Kernel for GeluTanh {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        let wide = f64::from(x);
        let w = wide * (W_CUBIC * wide * wide + W_LINEAR);
        let w_hi = w as f32;
        let w_lo = (w - f64::from(w_hi)) as f32;
        gated::<A, true, REFINE_NONE>(x, w_hi, w_lo)
    }
}
