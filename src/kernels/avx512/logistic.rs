//! The logistic family on AVX-512: sigmoid, SiLU and GELU (tanh form), all through one
//! gate `σ(z)` built from `e^-|z|` with `vscalefps` and a refined `rcp14`.

use std::arch::x86_64::*;

use super::Wide;
use crate::kernels::exp::{EXP_Q, LN2_HI, LN2_LO, LOG2_E, MAGIC_BIAS};
use crate::kernels::gelu::{GeluTanh, W_CUBIC, W_LINEAR};
use crate::kernels::logistic::{GATE_CLOSED, Sigmoid, Silu};

/// `e^(a + lo) = p·2^n`, `a` at most 0 and above −150 (or NaN, giving NaN `p`), |lo| ≤ 2^-10.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn exp_parts(a: __m512, lo: Option<__m512>) -> (__m512, __m512) {
    let magic = _mm512_set1_ps(MAGIC_BIAS);
    let n = _mm512_sub_ps(_mm512_fmadd_ps(a, _mm512_set1_ps(LOG2_E), magic), magic);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), a);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    let r = match lo {
        Some(lo) => _mm512_add_ps(r, lo),
        None => r,
    };
    let mut q = _mm512_set1_ps(EXP_Q[4]);
    for &c in EXP_Q[..4].iter().rev() {
        q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c));
    }
    let one = _mm512_set1_ps(1.0);
    let v = _mm512_fmadd_ps(q, r, one);
    (_mm512_fmadd_ps(v, r, one), n)
}

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
    // N − g·(1 + e) = (N − g·d) − g·(e − (d − 1)); d − 1 and e − (d − 1) are exact.
    let residual = _mm512_fnmadd_ps(g, d, numerator);
    let d_error = _mm512_sub_ps(e, _mm512_sub_ps(d, one));
    let residual = _mm512_fnmadd_ps(g, d_error, residual);
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
    let xg = _mm512_mul_ps(x, g);
    let y = _mm512_mask_scalef_ps(xg, !open, xg, n);
    let closed = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(z, _mm512_set1_ps(-GATE_CLOSED));
    _mm512_mask_and_ps(y, closed, x, _mm512_set1_ps(-0.0))
}

/// GELU, tanh form: `x·σ(w)`, `w = 2·√(2/π)·(x + 0.044715·x³)` computed in f64 (eight lanes
/// at a time) and split into two f32 parts exactly as the portable kernel does, then the
/// refined gate of [`gate`] (the portable kernel uses one unrefined division).
impl Wide for GeluTanh {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let linear = _mm512_set1_pd(W_LINEAR);
        let cubic = _mm512_set1_pd(W_CUBIC);
        let split = |half: __m256| {
            let wide = _mm512_cvtps_pd(half);
            let square = _mm512_mul_pd(wide, wide);
            let w = _mm512_mul_pd(wide, _mm512_fmadd_pd(cubic, square, linear));
            let w_hi = _mm512_cvtpd_ps(w);
            let w_lo = _mm512_cvtpd_ps(_mm512_sub_pd(w, _mm512_cvtps_pd(w_hi)));
            (w_hi, w_lo)
        };
        let (low_hi, low_lo) = split(_mm512_castps512_ps256(x));
        let (high_hi, high_lo) = split(_mm512_extractf32x8_ps::<1>(x));
        let join =
            |low: __m256, high: __m256| _mm512_insertf32x8::<1>(_mm512_castps256_ps512(low), high);
        gated(x, join(low_hi, high_hi), Some(join(low_lo, high_lo)))
    }
}
