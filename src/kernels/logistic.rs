//! The logistic family: sigmoid, SiLU, Swish, and the shared core `x·σ(z)` that the
//! tanh-form GELU also uses.
//!
//! `σ(z)` comes from `e = e^-|z|`, which never overflows: `σ = 1/(1+e)` for z > 0 and
//! `e/(1+e)` otherwise. The multiplication by `x` happens before the last power-of-two
//! scaling of `e`, so results in the subnormal range are rounded once, and a large `|x|`
//! never meets an `e` that already underflowed. When `z` is below −[`GATE_CLOSED`] the
//! gate is taken as exactly closed and the result is a zero with the sign of `x`; that is
//! the correctly rounded result whenever `|z|·e^-170/|β| < 2^-150`, i.e. for any Swish
//! `|beta| ≥ 2^-90` (smaller betas flush there too: a documented limit).

use super::exp::{exp_split, pow2_halves};
use super::lanes::{Arith, Kernel, abs, at_least, signed_zero};

/// Below `z = -GATE_CLOSED` the gate `σ(z)` counts as 0 (e^-170 ≈ 1.3e-74).
const GATE_CLOSED: f32 = 170.0;

/// `x·σ(z + z_lo)`, where `z_lo` is the low part of a gate argument known to more than
/// f32 precision (0 when `z` is exact).
///
/// The gate is first divided out roughly, `g = N/d` with `N = 1` (z > 0) or `e`, and
/// `d = 1 + e` rounded; then one correction step with the exact residual `N − g·(1+e)`
/// (formed by FMA-exact or Sterbenz-exact operations, plus the low part of `e`) and
/// `1/(1+e) = 1 − σ(−|z|)` removes the rounding of `e`, of `d` and of the division. The gate
/// ends within about 0.5 ULP, Swish within about 1.
#[inline(always)]
pub(crate) fn times_sigmoid<A: Arith>(x: f32, z: f32, z_lo: f32) -> f32 {
    let open = z > 0.0;
    let closed = z < -GATE_CLOSED;
    let a = -abs(z);
    let lo = if open { -z_lo } else { z_lo };
    // Past the clamp the low part is meaningless (possibly infinite): drop it.
    let lo = if a < -GATE_CLOSED { 0.0 } else { lo };
    let a = at_least(a, -GATE_CLOSED);
    let parts = exp_split::<A>(a, lo);
    let (scale_1, scale_2) = pow2_halves(parts.n);
    // e = (p + p_lo)·2^n. The numerator is kept scaled by 2^-n2 (a normal number) so that
    // the final scaling rounds once, also for subnormal results.
    let e = parts.p * scale_1 * scale_2;
    let e_lo = parts.p_lo * scale_1 * scale_2;
    let numerator = if open { 1.0 } else { parts.p * scale_1 };
    let numerator_lo = if open { 0.0 } else { parts.p_lo * scale_1 };
    let unscale = if open { 1.0 } else { scale_2 };
    let gate = numerator / (1.0 + e);
    // Residual N − g·(1 + e): N − g is exact (g ∈ [N/2, N]), the FMA rounds only the tiny
    // result.
    let residual = A::mul_sub_exact(gate, e, numerator - gate);
    let residual = residual + A::mul_add(-gate, e_lo, numerator_lo);
    let inverse_denominator = if open {
        gate
    } else {
        A::mul_add(-gate, unscale, 1.0)
    };
    let gate = A::mul_add(residual, inverse_denominator, gate);
    let y = x * gate * unscale;
    if closed { signed_zero(x) } else { y }
}

/// `1 / (1 + e^-x)`, in [0, 1] for every input, 0.5 exactly at ±0.
#[derive(Clone, Copy)]
pub(crate) struct Sigmoid;

impl Kernel for Sigmoid {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        times_sigmoid::<A>(1.0, x, 0.0)
    }
}

/// `x·σ(x)` (Swish with beta 1): the gate argument is `x` itself, exact.
#[derive(Clone, Copy)]
pub(crate) struct Silu;

impl Kernel for Silu {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        times_sigmoid::<A>(x, x, 0.0)
    }
}

/// `x·σ(beta·x)` for beta ≠ 0 (beta = 0 is the linear `x/2`). `beta·x` is carried as an
/// exact two-part product: rounding it would cost |z| half-ULPs for negative z.
#[derive(Clone, Copy)]
pub(crate) struct Swish {
    pub(crate) beta: f32,
}

impl Kernel for Swish {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        let (z, z_lo) = A::two_prod(self.beta, x);
        times_sigmoid::<A>(x, z, z_lo)
    }
}
