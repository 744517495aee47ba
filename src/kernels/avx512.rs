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
use super::gelu::{FLUSH, GeluErf};
use super::logistic::{GATE_CLOSED, Sigmoid, Silu};
use super::tanh::{SATURATED, SMALL, Tanh};

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

/// `P(s)` (s⁰ … s³) in `tanh(y) ≈ y + y³·P(y²)` on [0, SMALL] for the AVX-512 tanh: one
/// degree lower than the portable kernel's. Its error enters through the cubic term only
/// (at most a tenth of the result), so the fit (weighted least squares on the error of tanh,
/// coefficients rounded to f32) keeps tanh itself within 2^-24.6 relative.
const TANH_P3: [f32; 4] = [-0.3333295, 0.13320813, -0.052677583, 0.016448915];

impl Wide for Tanh {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let sign = _mm512_set1_ps(-0.0);
        let one = _mm512_set1_ps(1.0);
        let y = _mm512_andnot_ps(sign, x);

        let s = _mm512_mul_ps(y, y);
        let mut poly = _mm512_set1_ps(TANH_P3[3]);
        for &c in TANH_P3[..3].iter().rev() {
            poly = _mm512_fmadd_ps(poly, s, _mm512_set1_ps(c));
        }
        let near_zero = _mm512_fmadd_ps(_mm512_mul_ps(y, s), poly, y);

        // a = max(−2|x|, −SATURATED), NaN passing through (second operand).
        let doubled = _mm512_or_ps(_mm512_add_ps(y, y), sign);
        let a = _mm512_max_ps(_mm512_set1_ps(-SATURATED), doubled);
        // One-constant reduction: its error n·(ln 2 − LN2_F32) scales e = 2^n·…, so it costs
        // at most 2·1.9e-9·e·(2e/(1+e)²) ≈ 0.02 ULP where e matters (n = −2) and less below.
        let magic = _mm512_set1_ps(MAGIC_BIAS);
        let n = _mm512_sub_ps(_mm512_fmadd_ps(a, _mm512_set1_ps(LOG2_E), magic), magic);
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(std::f32::consts::LN_2), a);
        let mut q = _mm512_set1_ps(EXP_Q[4]);
        for &c in EXP_Q[..4].iter().rev() {
            q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c));
        }
        let v = _mm512_fmadd_ps(q, r, one);
        let e = _mm512_scalef_ps(_mm512_fmadd_ps(v, r, one), n);
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

/// `table[index]` per lane, for a 32-entry table (two zmm registers, one `vpermt2ps`).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn lookup(table: &[f32; 32], index: __m512i) -> __m512 {
    // SAFETY: both loads read 16 floats inside the 32-element array.
    let (low, high) = unsafe {
        (
            _mm512_loadu_ps(table.as_ptr()),
            _mm512_loadu_ps(table.as_ptr().add(16)),
        )
    };
    _mm512_permutex2var_ps(low, index, high)
}

/// `v` followed by zeros, as a 32-entry table.
const fn pad<const N: usize>(v: [f32; N]) -> [f32; 32] {
    let mut out = [0.0; 32];
    let mut i = 0;
    while i < N {
        out[i] = v[i];
        i += 1;
    }
    out
}

/// Interval centres `c_k` of the GELU tail pieces (k = 0: [0, 0.5); then quarter binades).
const TAIL_CENTRE: [f32; 32] = pad([
    0.24998306, 0.56245166, 0.68746316, 0.8125291, 0.93743914, 1.1249578, 1.3749362, 1.6253736,
    1.8749936, 2.2495804, 2.7490814, 3.2507646, 3.7502074, 4.4994736, 5.4992843, 6.500113,
    7.500835, 9.001333, 10.998244, 13.0004835, 14.9992075,
]);
/// Coefficient of `w^0` in each piece.
const TAIL_C0: [f32; 32] = pad([
    0.4140371,
    0.33607158,
    0.3114408,
    0.28969032,
    0.27042127,
    0.24533658,
    0.21764618,
    0.19499247,
    0.17629133,
    0.15367427,
    0.13076098,
    0.11342896,
    0.100034274,
    0.084812514,
    0.070351325,
    0.060014676,
    0.052287467,
    0.043792453,
    0.03598054,
    0.030508293,
    0.026480876,
]);
/// Coefficient of `w^1` in each piece.
const TAIL_C1: [f32; 32] = pad([
    -0.29544008,
    -0.20991826,
    -0.1848382,
    -0.16356048,
    -0.1454388,
    -0.12294898,
    -0.099692665,
    -0.08200667,
    -0.06839717,
    -0.053239647,
    -0.0394697,
    -0.03021144,
    -0.023793003,
    -0.017330615,
    -0.012060346,
    -0.008840103,
    -0.0067426222,
    -0.0047518215,
    -0.0032194983,
    -0.0023197224,
    -0.001750128,
]);
/// Coefficient of `w^2` in each piece.
const TAIL_C2: [f32; 32] = pad([
    0.17009105,
    0.10900136,
    0.092185676,
    0.07839634,
    0.06704064,
    0.053512074,
    0.04028757,
    0.030850496,
    0.024023542,
    0.016953705,
    0.011127786,
    0.007609341,
    0.005402789,
    0.00341694,
    0.0020140277,
    0.0012765068,
    0.0008560852,
    0.0005098654,
    0.00028585733,
    0.00017539036,
    0.000115171846,
]);
/// Coefficient of `w^3` in each piece.
const TAIL_C3: [f32; 32] = pad([
    -0.08429965,
    -0.04953773,
    -0.040487926,
    -0.033281118,
    -0.027526362,
    -0.02091717,
    -0.014765874,
    -0.01062106,
    -0.0077836933,
    -0.005033561,
    -0.0029594025,
    -0.0018250586,
    -0.0011771466,
    -0.00065201445,
    -0.00032820163,
    -0.00018087904,
    -0.00010708859,
    -5.4111693e-05,
    -2.518838e-05,
    -1.3187137e-05,
    -7.5469648e-06,
]);
/// Coefficient of `w^4` in each piece.
const TAIL_C4: [f32; 32] = pad([
    0.03725304,
    0.020280834,
    0.016084505,
    0.012832501,
    0.0102972025,
    0.007496371,
    0.0049953563,
    0.003396667,
    0.0023565923,
    0.0014075271,
    0.00074790494,
    0.00041909097,
    0.00024707575,
    0.00012074536,
    5.22729e-05,
    2.5176189e-05,
    1.3205994e-05,
    5.6834997e-06,
    2.2032762e-06,
    9.861453e-07,
    4.9248945e-07,
]);
/// Coefficient of `w^5` in each piece.
const TAIL_C5: [f32; 32] = pad([
    -0.015216996,
    -0.0074515957,
    -0.0058992365,
    -0.005659236,
    -0.004380567,
    -0.0024803248,
    -0.0016154766,
    -0.0010200122,
    -0.0007059359,
    -0.00037599803,
    -0.00018248384,
    -9.315878e-05,
    -5.0184615e-05,
    -2.2065398e-05,
    -8.2297865e-06,
    -3.488894e-06,
    -1.6153215e-06,
    -6.021093e-07,
    -1.939721e-07,
    -7.4159914e-08,
    -3.231665e-08,
]);
/// Coefficient of `w^6` in each piece.
const TAIL_C6: [f32; 32] = pad([
    0.005639214,
    0.0032331955,
    0.0024897736,
    0.0024318302,
    0.0030202589,
    0.0007403667,
    0.0005043742,
    0.0002969533,
    0.00020048005,
    9.497737e-05,
    4.2726755e-05,
    1.989887e-05,
    9.788863e-06,
    3.8672133e-06,
    1.2561067e-06,
    4.7188607e-07,
    1.942079e-07,
    6.185582e-08,
    1.6694901e-08,
    5.4886726e-09,
    2.0914395e-09,
]);

/// The GELU (erf) tail without a division: `Φ(−t) = e^(−t²/2)·R(t)` for every `t = |x|`, with
/// `R(t) = Φ(−t)·e^(t²/2)` (smooth, from 1/2 at 0 down to about 0.027 at 15) evaluated as a
/// piecewise degree-6 polynomial in `w = t − c_k`: piece 0 on [0, 0.5), then one piece per
/// quarter binade up to 16, picked by the exponent and top two mantissa bits of `t`. Each
/// centre `c_k` is an f32 near the middle of its piece where `R(c_k)` is an f32 to within
/// about 2^-36, so rounding the constant coefficient costs nothing; fitted (weighted least
/// squares, coefficients rounded to f32 one at a time and the rest refitted) to a relative
/// error below 2^-27.4. Negative x gives `(x·R)·(p + p_lo)` scaled by `vscalefps` (one
/// rounding, also for subnormal results); positive x gives `x − (x·R)·e` (Φ(−t) ≤ 1/2, so at
/// most one bit cancels).
impl Wide for GeluErf {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let sign = _mm512_set1_ps(-0.0);
        let t = _mm512_andnot_ps(sign, x);
        // Piece index: 0 below 0.5 (biased exponent and two mantissa bits minus 503).
        let bits = _mm512_srli_epi32::<21>(_mm512_castps_si512(t));
        let index = _mm512_max_epi32(
            _mm512_sub_epi32(bits, _mm512_set1_epi32(503)),
            _mm512_setzero_si512(),
        );
        let w = _mm512_sub_ps(t, lookup(&TAIL_CENTRE, index));
        let mut r = lookup(&TAIL_C6, index);
        for table in [&TAIL_C5, &TAIL_C4, &TAIL_C3, &TAIL_C2, &TAIL_C1, &TAIL_C0] {
            r = _mm512_fmadd_ps(r, w, lookup(table, index));
        }

        // e^(−t²/2) with t² = sq + sq_lo exactly, by the exponential core on the argument
        // −sq/2 written in terms of sq: every constant and intermediate is the portable one
        // times an exact power of two (the reduced argument is r2 = −2r, the polynomial's
        // coefficients are scaled by (−1/2)^j/4), so the rounding is the same, and the
        // halving of t² costs nothing.
        let sq = _mm512_mul_ps(t, t);
        let sq_lo = _mm512_fmsub_ps(t, t, sq);
        let magic = _mm512_set1_ps(MAGIC_BIAS);
        let n = _mm512_fmadd_ps(sq, _mm512_set1_ps(-0.5 * LOG2_E), magic);
        let n = _mm512_sub_ps(n, magic);
        let r2 = _mm512_fmadd_ps(n, _mm512_set1_ps(2.0 * LN2_HI), sq);
        let r2 = _mm512_add_ps(_mm512_fmadd_ps(n, _mm512_set1_ps(2.0 * LN2_LO), r2), sq_lo);
        let mut q = _mm512_set1_ps(EXP_Q[4] / 64.0);
        for (j, &c) in EXP_Q[..4].iter().enumerate().rev() {
            let scaled = c * 0.25 * (-0.5_f32).powi(j as i32);
            q = _mm512_fmadd_ps(q, r2, _mm512_set1_ps(scaled));
        }
        let v = _mm512_fmadd_ps(q, r2, _mm512_set1_ps(-0.5));
        let p = _mm512_fmadd_ps(v, r2, _mm512_set1_ps(1.0));

        let xr = _mm512_mul_ps(x, r);
        let below = _mm512_scalef_ps(_mm512_mul_ps(xr, p), n);
        let above = _mm512_sub_ps(x, below);
        // The sign bit decides, so −0 takes the product path and stays −0.
        let negative = _mm512_movepi32_mask(_mm512_castps_si512(x));
        let y = _mm512_mask_blend_ps(negative, above, below);
        // Beyond FLUSH: x itself, or −0 where the exact result is subnormal.
        let far = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(t, _mm512_set1_ps(FLUSH));
        let flushed = _mm512_mask_blend_ps(negative, x, sign);
        _mm512_mask_blend_ps(far, y, flushed)
    }
}
