//! Explicit AVX-512 versions of the exponential-based kernels (sigmoid, SiLU, tanh).
//!
//! The portable kernels rely on LLVM's SLP vectoriser, which cannot use the reciprocal
//! estimate `vrcp14ps` or the exponent scaling `vscalefps`; both remove work that dominates
//! these kernels on AVX-512 (a true division costs about six cycles per zmm on Zen 4). The
//! mathematics is the portable one (same exponential core, same constants, same ranges):
//! - the exponential: magic-bias rounding, two-part Cody–Waite reduction and the degree-6
//!   polynomial of [`super::exp`]; the power of two is applied by `vscalefps`, which rounds
//!   once also where the result is subnormal, so no offset scale is needed;
//! - a gate `N/(1+e)` comes from `rcp14` (relative error below 2^-14) and one correction
//!   with the exact residual `N − g·(1+e)`: `N − g·d` by FMA plus `g·(e − (d − 1))` for the
//!   rounding of `d = 1 + e` (both exact), so the result carries about 2^-28 relative error
//!   before its final rounding, the same as the portable division plus refinement.
//!
//! Every function here needs AVX-512 F/BW/DQ/VL and FMA; they are only called from
//! [`super::dispatch`] after [`super::Isa::Avx512`] was found available.

use std::arch::x86_64::*;

use super::exp::{EXP_Q, LN2_HI, LN2_LO, LOG2_E, MAGIC_BIAS};
use super::logistic::{GATE_CLOSED, Sigmoid, Silu};
use super::tanh::{SATURATED, SMALL, TANH_P, Tanh};

/// A kernel with an explicit 16-lane AVX-512 form.
pub(crate) trait Wide: Copy {
    /// The kernel on 16 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/DQ/VL and FMA.
    unsafe fn eval16(self, x: __m512) -> __m512;
}

/// `output[i] = kernel(input[i])`, 16 lanes at a time; the tail goes through the same
/// code with masked loads (zero lanes) and masked stores, so results do not depend on the
/// slice length or alignment. `input` and `output` may be the same memory (in place).
///
/// # Safety
/// AVX-512 F/BW/DQ/VL and FMA must be available; `input` must be valid for reading and
/// `output` for writing `len` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
pub(crate) unsafe fn run<K: Wide>(kernel: K, input: *const f32, output: *mut f32, len: usize) {
    let full = len - len % 16;
    let mut i = 0;
    while i < full {
        // SAFETY: i + 16 ≤ len, so the 16 lanes lie inside both buffers (caller's promise);
        // the loads and stores are unaligned, and each block is read before it is written.
        unsafe {
            let x = _mm512_loadu_ps(input.add(i));
            _mm512_storeu_ps(output.add(i), kernel.eval16(x));
        }
        i += 16;
    }
    if i < len {
        let mask: __mmask16 = ((1_u32 << (len - i)) - 1) as u16;
        // SAFETY: the mask enables only lanes i..len, inside both buffers; masked-off lanes
        // are neither read (they load as zero) nor written.
        unsafe {
            let x = _mm512_maskz_loadu_ps(mask, input.add(i));
            _mm512_mask_storeu_ps(output.add(i), mask, kernel.eval16(x));
        }
    }
}

/// `e^a = p·2^n`, `a` at most 0 and above −150 (or NaN, giving NaN `p`).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn exp_parts(a: __m512) -> (__m512, __m512) {
    let magic = _mm512_set1_ps(MAGIC_BIAS);
    let n = _mm512_sub_ps(_mm512_fmadd_ps(a, _mm512_set1_ps(LOG2_E), magic), magic);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), a);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    let mut q = _mm512_set1_ps(EXP_Q[4]);
    for &c in EXP_Q[..4].iter().rev() {
        q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c));
    }
    let one = _mm512_set1_ps(1.0);
    let v = _mm512_fmadd_ps(q, r, one);
    (_mm512_fmadd_ps(v, r, one), n)
}

/// The gate of [`Sigmoid`] and [`Silu`]: `(g, n, open)` with `σ(x) = g` where `open`
/// (x > 0) and `σ(x) = g·2^n` elsewhere, `g` within about 2^-28 of exact.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn gate(x: __m512) -> (__m512, __m512, __mmask16) {
    let sign = _mm512_set1_ps(-0.0);
    let one = _mm512_set1_ps(1.0);
    let open = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, _mm512_setzero_ps());
    // a = max(−|x|, −GATE_CLOSED); vmaxps returns its second operand when either is NaN,
    // so NaN x passes through.
    let a = _mm512_max_ps(_mm512_set1_ps(-GATE_CLOSED), _mm512_or_ps(x, sign));
    let (p, n) = exp_parts(a);
    let e = _mm512_scalef_ps(p, n);
    let d = _mm512_add_ps(one, e);
    let estimate = _mm512_rcp14_ps(d);
    // Numerator 1 where open, else p (the scale 2^n is applied last).
    let numerator = _mm512_mask_blend_ps(open, p, one);
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
        let (g, n, open) = gate(x);
        _mm512_mask_scalef_ps(g, !open, g, n)
    }
}

impl Wide for Silu {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let (g, n, open) = gate(x);
        let xg = _mm512_mul_ps(x, g);
        let y = _mm512_mask_scalef_ps(xg, !open, xg, n);
        // Below −GATE_CLOSED the gate is closed: a zero with the sign of x (also for −inf).
        let closed = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, _mm512_set1_ps(-GATE_CLOSED));
        _mm512_mask_and_ps(y, closed, x, _mm512_set1_ps(-0.0))
    }
}

impl Wide for Tanh {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let sign = _mm512_set1_ps(-0.0);
        let one = _mm512_set1_ps(1.0);
        let y = _mm512_andnot_ps(sign, x);

        let s = _mm512_mul_ps(y, y);
        let mut poly = _mm512_set1_ps(TANH_P[4]);
        for &c in TANH_P[..4].iter().rev() {
            poly = _mm512_fmadd_ps(poly, s, _mm512_set1_ps(c));
        }
        let near_zero = _mm512_fmadd_ps(_mm512_mul_ps(y, s), poly, y);

        // a = max(−2|x|, −SATURATED), NaN passing through (second operand).
        let a = _mm512_max_ps(_mm512_set1_ps(-SATURATED), _mm512_or_ps(_mm512_add_ps(y, y), sign));
        let (p, n) = exp_parts(a);
        let e = _mm512_scalef_ps(p, n);
        let d = _mm512_add_ps(one, e);
        let estimate = _mm512_rcp14_ps(d);
        let twice = _mm512_add_ps(e, e);
        // 2e/d from the estimate and one correction with the residual 2e − q·d.
        let q = _mm512_mul_ps(twice, estimate);
        let q = _mm512_fmadd_ps(estimate, _mm512_fnmadd_ps(q, d, twice), q);
        let far = _mm512_sub_ps(one, q);

        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(y, _mm512_set1_ps(SMALL));
        let magnitude = _mm512_mask_blend_ps(small, far, near_zero);
        _mm512_or_ps(magnitude, _mm512_and_ps(x, sign))
    }
}
