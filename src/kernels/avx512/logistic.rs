//! The logistic family on AVX-512: sigmoid, SiLU and GELU (tanh form), all through one
//! gate `σ(z)` built from `e^-|z|` with `vscalefps` and a refined `rcp14`.

use std::arch::x86_64::*;

use super::Wide;
use super::exp16::exp_parts;
use crate::kernels::gelu::{GeluTanh, W_CUBIC, W_LINEAR};
use crate::kernels::logistic::{GATE_CLOSED, Sigmoid, Silu};

/// The gate of [`Sigmoid`], [`Silu`] and [`GeluTanh`]: `(g, n, open)` with `σ(x + x_lo) = g`
/// where `open` (x > 0) and `g·2^n` elsewhere (`g` itself when `SCALED`), `g` within about
/// 2^-28 of exact; `x_lo` is the low part of an argument known to more than f32 precision
/// (None: x is exact).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn gate<const SCALED: bool>(x: __m512, x_lo: Option<__m512>) -> (__m512, __m512, __mmask16) {
    let sign = _mm512_set1_ps(-0.0);
    let one = _mm512_set1_ps(1.0);
    let open = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, _mm512_setzero_ps());
    // a = max(−|x|, −GATE_CLOSED); vmaxps returns its second operand when either is NaN,
    // so NaN x passes through.
    let a = _mm512_max_ps(_mm512_set1_ps(-GATE_CLOSED), _mm512_or_ps(x, sign));
    // The argument of e^-|x| is a − x_lo where open, a + x_lo elsewhere; past the clamp the
    // low part is meaningless (possibly infinite) and dropped.
    let lo = x_lo.map(|x_lo| {
        let flipped = _mm512_mask_xor_ps(x_lo, open, x_lo, sign);
        let inside = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(
            _mm512_andnot_ps(sign, x),
            _mm512_set1_ps(GATE_CLOSED),
        );
        _mm512_maskz_mov_ps(inside, flipped)
    });
    let (p, n) = exp_parts(a, lo);
    let e = _mm512_scalef_ps(p, n);
    let d = _mm512_add_ps(one, e);
    let estimate = _mm512_rcp14_ps(d);
    // Numerator 1 where open, else e, or p with the scale 2^n applied last by the caller.
    let numerator = _mm512_mask_blend_ps(open, if SCALED { e } else { p }, one);
    let g = _mm512_mul_ps(numerator, estimate);
    // The residual N − g·(1 + e) as (N − g) − g·e: N − g is exact (g lies in [N/2, N]) and
    // the FMA rounds only the tiny result, so the rounding of d = 1 + e never enters.
    let residual = _mm512_fnmadd_ps(g, e, _mm512_sub_ps(numerator, g));
    (_mm512_fmadd_ps(residual, estimate, g), n, open)
}

impl Wide for Sigmoid {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        // The numerator e is already scaled: a subnormal e (x below −87.3) was rounded once
        // by `vscalefps`, and the quotient by 1 + e = 1 changes nothing.
        let (g, _, _) = gate::<true>(x, None);
        g
    }
}

impl Wide for Silu {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        gated(x, x, None)
    }
}

/// `x·σ(z + z_lo)`: below z = −GATE_CLOSED the gate is closed and the result is a zero with
/// the sign of x (also for infinite x); elsewhere `x·g` scaled once by `vscalefps`.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn gated(x: __m512, z: __m512, z_lo: Option<__m512>) -> __m512 {
    let (g, n, open) = gate::<false>(z, z_lo);
    // x is scaled while the gate is still being computed (off its dependency chain): exact
    // unless x·2^n is subnormal, and then so is the result, rounded to within about one
    // subnormal step.
    let scaled = _mm512_mask_scalef_ps(x, !open, x, n);
    let y = _mm512_mul_ps(scaled, g);
    let closed = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(z, _mm512_set1_ps(-GATE_CLOSED));
    _mm512_mask_and_ps(y, closed, x, _mm512_set1_ps(-0.0))
}

/// `W_LINEAR` as an f32 pair: `LINEAR_HI + LINEAR_LO` within 2^-48 relative of it.
const LINEAR_HI: f32 = W_LINEAR as f32;
const LINEAR_LO: f32 = (W_LINEAR - LINEAR_HI as f64) as f32;
/// `W_CUBIC` as an f32 pair.
const CUBIC_HI: f32 = W_CUBIC as f32;
const CUBIC_LO: f32 = (W_CUBIC - CUBIC_HI as f64) as f32;

/// GELU, tanh form: `x·σ(w)`, `w = x·(L + K·x²)` (`L = 2·√(2/π)`, `K = 0.044715·L`) carried
/// as two f32 parts, then the refined gate of [`gate`]. Where the result is tiny, σ(w) ≈ e^w
/// needs w to about 2^-25 absolute although |w| reaches 88, so w is built from exact pieces:
/// `x² = s + s_lo` and `K·s = a + a_lo` (products split by FMA), `L + a` by a fast two-sum
/// (larger operand first), the constants' own low parts and the low terms summed into
/// `v_lo`, then `x·(v + v_lo)` split again by FMA. The neglected terms are below 2^-40 of w.
/// (The portable kernel computes w in f64; on AVX-512 the eight conversions per 16 lanes
/// cost more than these 9 FMA and 7 other operations.)
impl Wide for GeluTanh {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let linear = _mm512_set1_ps(LINEAR_HI);
        let cubic = _mm512_set1_ps(CUBIC_HI);
        let s = _mm512_mul_ps(x, x);
        let s_lo = _mm512_fmsub_ps(x, x, s);
        let a = _mm512_mul_ps(cubic, s);
        let a_lo = _mm512_fmsub_ps(cubic, s, a);
        // Fast two-sum of L and a ≥ 0: the larger first makes the error term exact.
        let big = _mm512_max_ps(a, linear);
        let small = _mm512_min_ps(a, linear);
        let v = _mm512_add_ps(big, small);
        let v_err = _mm512_sub_ps(small, _mm512_sub_ps(v, big));
        let constants_lo = _mm512_fmadd_ps(_mm512_set1_ps(CUBIC_LO), s, _mm512_set1_ps(LINEAR_LO));
        let products_lo = _mm512_fmadd_ps(cubic, s_lo, a_lo);
        let v_lo = _mm512_add_ps(_mm512_add_ps(constants_lo, products_lo), v_err);
        let w = _mm512_mul_ps(x, v);
        let w_lo = _mm512_fmadd_ps(x, v_lo, _mm512_fmsub_ps(x, v, w));
        gated(x, w, Some(w_lo))
    }
}
