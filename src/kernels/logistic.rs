//! The logistic family: sigmoid, SiLU, Swish, and the shared core `x·σ(z)` that the
//! tanh-form GELU also uses.
//!
//! `σ(z)` comes from `e = e^-|z|`, which never overflows: `σ = 1/(1+e)` for z > 0 and
//! `e/(1+e)` otherwise. The multiplication by `x` happens before the last power-of-two
//! scaling of `e`, so results in the subnormal range are rounded once, and a large `|x|`
//! never meets an `e` that already underflowed. When `z` is below −[`GATE_CLOSED`] the
//! gate is taken as exactly closed and the result is a zero with the sign of `x`; that is
//! the correctly rounded result whenever `|z|·e^-130/|β| < 2^-150`, i.e. for any Swish
//! `|beta| ≥ 2^-30`. Documented limit: Swish with a nonzero |beta| below 2^-30 (≈ 9.3e-10)
//! may flush to ±0 where |x| > 130/|beta| and may overflow where |x| > 2^64 with z ≤ 0.
//!
//! Sigmoid and SiLU also have an AVX-512 form (`avx512/logistic.rs`): the same mathematics with
//! `rcp14` in place of the division.

use super::exp::exp_split;
use super::lanes::{Arith, Kernel, abs, at_least, signed_zero};

/// Below `z = -GATE_CLOSED` the gate `σ(z)` counts as 0 (e^-130 ≈ 3.5e-57).
pub(crate) const GATE_CLOSED: f32 = 130.0;

/// `x·σ(z + z_lo)`, where `z_lo` is the low part of a gate argument known to more than
/// f32 precision (`HAS_LO` false when `z` is exact and `z_lo` is 0).
///
/// `e = e^-|z| = p·2^n` is kept scaled by 2^64 (a normal number down to
/// z = −[`GATE_CLOSED`]) and unscaled by one final multiplication, so results in the
/// subnormal range are rounded once. The gate is divided out, `g = N/(1+e)` with `N = 1`
/// (z > 0) or `e`; at level [`REFINE_DIVISION`] one correction step with the residual
/// `N − g·(1+e)` (exact: `N − g` by Sterbenz, the product by FMA) times `1/(1+e)` removes
/// the roundings of `1 + e` and of the quotient.
#[inline(always)]
pub(crate) fn times_sigmoid<A: Arith, const HAS_LO: bool, const REFINE: u8>(
    x: f32,
    z: f32,
    z_lo: f32,
) -> f32 {
    let open = z > 0.0;
    // The clamp keeps 2^(n+64) a normal number; it lets NaN through.
    let a = at_least(-abs(z), -GATE_CLOSED);
    // Past the clamp the low part is meaningless (possibly infinite): drop it.
    let lo = if !HAS_LO || z.abs() > GATE_CLOSED {
        0.0
    } else if open {
        -z_lo
    } else {
        z_lo
    };
    let parts = exp_split::<A, SCALE_OFFSET>(a, lo);
    let scaled = parts.p * parts.scale;
    let e = scaled * UNSCALE;
    let numerator = if open { 1.0 } else { scaled };
    let unscale = if open { 1.0 } else { UNSCALE };
    let mut gate = numerator / (1.0 + e);
    // Residual N − g·(1 + e) in both refinements: N − g is exact (g ∈ [N/2, N]), the FMA
    // rounds only the tiny result.
    if REFINE >= REFINE_DIVISION && !HAS_LO {
        // Sigmoid and SiLU: the quotient as N times the one reciprocal both numerators
        // share, which replaces the division above (the compiler drops it). Divided by a
        // per-lane N, the AVX2 code divided twice and blended (`benches/kernels.rs` by-isa
        // at 64K, Intel Xeon: sigmoid 1.19–1.28 → 1.49–1.63 Gelem/s, SiLU 1.05 →
        // 1.19–1.41).
        // Swish and GELU-tanh keep the form below: given this one, the compiler laid out
        // GELU-tanh's AVX2 loop in 186 instructions instead of 151, 22 % slower.
        let inverse = 1.0 / (1.0 + e);
        gate = numerator * inverse;
        let residual = A::mul_sub_exact(gate, e, numerator - gate);
        gate = A::mul_add(residual, inverse, gate);
    } else if REFINE >= REFINE_DIVISION {
        let residual = A::mul_sub_exact(gate, e, numerator - gate);
        let inverse_denominator = if open {
            gate
        } else {
            A::mul_add(-gate, unscale, 1.0)
        };
        gate = A::mul_add(residual, inverse_denominator, gate);
    }
    x * gate * unscale
}

/// Refinement levels of [`times_sigmoid`]: none (one division; measured up to 2.3 ULP on σ
/// and 3.5 ULP on GELU-tanh) or one correction step removing the roundings of `1 + e` and of
/// the division (σ up to 1.61 ULP, SiLU 2.51, exhaustively). Folding in `p_lo` as well
/// brought σ to 1.14 ULP but cost 10 % in speed, more accuracy than the contract asks.
pub(crate) const REFINE_NONE: u8 = 0;
pub(crate) const REFINE_DIVISION: u8 = 1;

/// `x·σ(z + z_lo)` with the limit taken where the gate has closed: below z = −GATE_CLOSED
/// the result is a zero with the sign of x (also for infinite x, where the product would
/// be NaN or infinite).
#[inline(always)]
pub(crate) fn gated<A: Arith, const HAS_LO: bool, const REFINE: u8>(
    x: f32,
    z: f32,
    z_lo: f32,
) -> f32 {
    let y = times_sigmoid::<A, HAS_LO, REFINE>(x, z, z_lo);
    if z < -GATE_CLOSED { signed_zero(x) } else { y }
}

/// `e^-|z|` is carried scaled by `2^SCALE_OFFSET`.
const SCALE_OFFSET: i32 = 64;

/// `2^-SCALE_OFFSET`.
const UNSCALE: f32 = f32::from_bits(((127 - SCALE_OFFSET) as u32) << 23);

/// Refinement of SiLU and Swish (contract 3 ULP).
const SWISH_REFINE: u8 = REFINE_DIVISION;

/// `1 / (1 + e^-x)`, in [0, 1] for every input, 0.5 exactly at ±0.
#[derive(Clone, Copy)]
pub(crate) struct Sigmoid;

impl Kernel for Sigmoid {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        times_sigmoid::<A, false, REFINE_DIVISION>(1.0, x, 0.0)
    }
}

/// `x·σ(x)` (Swish with beta 1): the gate argument is `x` itself, exact.
#[derive(Clone, Copy)]
pub(crate) struct Silu;

impl Kernel for Silu {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        gated::<A, false, SWISH_REFINE>(x, x, 0.0)
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
        gated::<A, true, SWISH_REFINE>(x, z, z_lo)
    }
}
