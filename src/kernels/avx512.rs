//! Explicit AVX-512 versions of the sigmoid, SiLU, tanh and both GELU kernels.
//!
//! The portable kernels rely on LLVM's SLP vectoriser, which cannot use the reciprocal
//! estimate `vrcp14ps`, the exponent scaling `vscalefps` or the lane permutes `vpermps`; with
//! them these kernels need fewer operations on the FMA pipes, which bound them on Zen 4 (a
//! true division costs about six cycles per zmm there):
//! - sigmoid and SiLU keep the portable mathematics (magic-bias rounding, two-part
//!   Cody–Waite reduction and the degree-6 polynomial of [`super::exp`]); the power of two is
//!   applied by `vscalefps`, which rounds once also where the result is subnormal, so no
//!   offset scale is needed; the gate `N/(1+e)` comes from `rcp14` (relative error below
//!   2^-14) and one correction with the exact residual `N − g·(1+e)`: `N − g·d` by FMA plus
//!   `g·(e − (d − 1))` for the rounding of `d = 1 + e` (both exact), so the gate carries
//!   about 2^-28 relative error before its final rounding, as the portable division plus
//!   refinement does; GELU (tanh form) uses the same gate on its two-part argument;
//! - tanh keeps the portable odd polynomial near 0 (one degree lower) and replaces the
//!   exponential form above it by a piecewise polynomial of `1 − tanh` ([`TANH_FAR`]);
//! - GELU (erf) evaluates `Φ(−|x|)·e^(|x|²/2)` as a piecewise polynomial, so it needs no
//!   division and no central special case (see the `GeluErf` implementation).
//!
//! The piecewise fits were made offline (weighted least squares in f64 against mpmath, then
//! coefficients rounded to f32 one at a time with the rest refitted) and are checked here by
//! the accuracy harness like every kernel, exhaustively with `actprof accuracy --exhaustive`;
//! `benches/fit_tables.py` regenerates the tables.
//!
//! Every function here needs AVX-512 F/BW/DQ/VL and FMA; they are only called from
//! [`super::dispatch`] after [`super::Isa::Avx512`] was found available.

use std::arch::x86_64::*;

use super::exp::{EXP_Q, LN2_HI, LN2_LO, LOG2_E, MAGIC_BIAS};
use super::gelu::{FLUSH, GeluErf, GeluTanh, W_CUBIC, W_LINEAR};
use super::logistic::{GATE_CLOSED, Sigmoid, Silu};
use super::tanh::{SMALL, Tanh};

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
/// where `open` (x > 0) and `g·2^n` elsewhere, `g` within about 2^-28 of exact; `x_lo` is
/// the low part of an argument known to more than f32 precision (None: x is exact).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn gate(x: __m512, x_lo: Option<__m512>) -> (__m512, __m512, __mmask16) {
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
        let (g, n, open) = gate(x, None);
        _mm512_mask_scalef_ps(g, !open, g, n)
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
    let (g, n, open) = gate(z, z_lo);
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

/// `P(s)` (s⁰ … s³) in `tanh(y) ≈ y + y³·P(y²)` on [0, SMALL] for the AVX-512 tanh: one
/// degree lower than the portable kernel's. Its error enters through the cubic term only
/// (at most a tenth of the result), so the fit (weighted least squares on the error of tanh,
/// coefficients rounded to f32) keeps tanh itself within 2^-24.6 relative.
const TANH_P3: [f32; 4] = [-0.3333295, 0.13320813, -0.052677583, 0.016448915];

/// Where the tanh far range ends: beyond it `1 − tanh < 2.6e-8`, below half an ULP of 1.
///
/// On [SMALL, TANH_FAR] the AVX-512 tanh evaluates `g = 1 − tanh(y) = 2/(1 + e^(2y))` as a
/// degree-6 polynomial in `w = y − c_k` on the quarter binades of `1 + y` (the GELU tail's
/// pieces: [0.5, 0.75), [0.75, 1), [1, 1.5), …, [7, 9), [9, 11)), one `vpermps` per
/// coefficient, instead of an exponential and a reciprocal. The fit (relative error of g,
/// coefficients rounded to f32 one at a time and the rest refitted; centres chosen where
/// g(c_k) is nearly an f32) keeps g within 2^-26 absolute, a quarter ULP of the result
/// `1 − g ∈ [0.5, 1]`; g stays positive, so |tanh| ≤ 1.
const TANH_FAR: f32 = 9.1;

/// Piece centres `c_k` of the tanh far range (pieces 0, 1, 14 and 15 are unused).
const TANH_CENTRE: [f32; 16] = [
    0.0, 0.0, 0.6494724, 0.8748841, 1.2497694, 1.749938, 2.2500863, 2.7499845, 3.499846, 4.500355,
    5.5008526, 6.5011, 8.002072, 9.050113, 0.0, 0.0,
];
/// Coefficient of `w^0` in each piece of `1 − tanh`.
const TANH_C0: [f32; 16] = [
    0.0,
    0.0,
    0.4286853,
    0.29615286,
    0.15178102,
    0.058631517,
    0.021970134,
    0.008140527,
    0.001822667,
    0.00024661468,
    3.3346012e-05,
    4.510724e-06,
    2.2421806e-07,
    2.7555098e-08,
    0.0,
    0.0,
];
/// Coefficient of `w^1` in each piece of `1 − tanh`.
const TANH_C1: [f32; 16] = [
    0.0,
    0.0,
    -0.67359954,
    -0.5045992,
    -0.28052446,
    -0.11382533,
    -0.04345758,
    -0.016214788,
    -0.003642052,
    -0.0004931747,
    -6.669177e-05,
    -9.0215435e-06,
    -4.482915e-07,
    -5.5110196e-08,
    0.0,
    0.0,
];
/// Coefficient of `w^2` in each piece of `1 − tanh`.
const TANH_C2: [f32; 16] = [
    0.0,
    0.0,
    0.38483733,
    0.3551607,
    0.23794666,
    0.107151724,
    0.042502813,
    0.01608278,
    0.003635074,
    0.0004930027,
    6.6682675e-05,
    9.020569e-06,
    4.4629917e-07,
    5.5110196e-08,
    0.0,
    0.0,
];
/// Coefficient of `w^3` in each piece of `1 − tanh`.
const TANH_C3: [f32; 16] = [
    0.0,
    0.0,
    0.004677548,
    -0.081775606,
    -0.10833677,
    -0.062933914,
    -0.027083516,
    -0.010546586,
    -0.0024128554,
    -0.0003282485,
    -4.44165e-05,
    -6.008826e-06,
    -2.964738e-07,
    -3.6739152e-08,
    0.0,
    0.0,
];
/// Coefficient of `w^4` in each piece of `1 − tanh`.
const TANH_C4: [f32; 16] = [
    0.0,
    0.0,
    -0.13095643,
    -0.06082978,
    0.0125430515,
    0.02351721,
    0.012320846,
    0.0051005525,
    0.0012015325,
    0.00016453692,
    2.2283188e-05,
    3.014915e-06,
    1.5509711e-07,
    1.8367498e-08,
    0.0,
    0.0,
];
/// Coefficient of `w^5` in each piece of `1 − tanh`.
const TANH_C5: [f32; 16] = [
    0.0,
    0.0,
    0.05742467,
    0.058504343,
    0.019699804,
    -0.0034836405,
    -0.0039765574,
    -0.0019147529,
    -0.00048924424,
    -6.8067195e-05,
    -9.238967e-06,
    -1.2504069e-06,
    -6.7841036e-08,
    -7.628602e-09,
    0.0,
    0.0,
];
/// Coefficient of `w^6` in each piece of `1 − tanh`.
const TANH_C6: [f32; 16] = [
    0.0,
    0.0,
    0.019660423,
    -0.012948105,
    -0.014873725,
    -0.0020016434,
    0.00072314165,
    0.0005407493,
    0.0001471374,
    2.1005333e-05,
    2.8631944e-06,
    3.8772382e-07,
    1.7336896e-08,
    3.1449738e-09,
    0.0,
    0.0,
];

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

        // 1 − tanh on [SMALL, 9.1] as a piecewise polynomial (see [`TANH_FAR`]); beyond 9.1
        // it is below half an ULP of 1 and the clamp gives exactly 1. vminps returns its
        // second operand when either is NaN, so NaN passes through.
        let clamped = _mm512_min_ps(_mm512_set1_ps(TANH_FAR), y);
        let bits = _mm512_castps_si512(_mm512_add_ps(clamped, one));
        let index = _mm512_sub_epi32(_mm512_srli_epi32::<21>(bits), _mm512_set1_epi32(508));
        let w = _mm512_sub_ps(clamped, lookup(&TANH_CENTRE, index));
        let mut g = lookup(&TANH_C6, index);
        for table in [&TANH_C5, &TANH_C4, &TANH_C3, &TANH_C2, &TANH_C1, &TANH_C0] {
            g = _mm512_fmadd_ps(g, w, lookup(table, index));
        }
        let far = _mm512_sub_ps(one, g);

        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(y, _mm512_set1_ps(SMALL));
        let magnitude = _mm512_mask_blend_ps(small, far, near_zero);
        _mm512_or_ps(magnitude, _mm512_and_ps(x, sign))
    }
}

/// `table[index]` per lane for a 16-entry table (one `vpermps`, index taken modulo 16).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn lookup(table: &[f32; 16], index: __m512i) -> __m512 {
    // SAFETY: the load reads the 16 floats of the array.
    let entries = unsafe { _mm512_loadu_ps(table.as_ptr()) };
    _mm512_permutexvar_ps(index, entries)
}

/// Piece centres `c_k` of the GELU tail.
const TAIL_CENTRE: [f32; 16] = [
    0.124973945,
    0.37503263,
    0.6248979,
    0.8751817,
    1.2497821,
    1.7499583,
    2.2495804,
    2.7490814,
    3.4999094,
    4.4994736,
    5.4992843,
    6.500113,
    8.000624,
    9.998721,
    11.999951,
    14.000925,
];
/// Coefficient of `w^0` in each piece.
const TAIL_C0: [f32; 16] = [
    0.45380214,
    0.37959605,
    0.32337627,
    0.27974257,
    0.2307844,
    0.18523479,
    0.15367427,
    0.13076098,
    0.106347576,
    0.084812514,
    0.070351325,
    0.060014676,
    0.049118828,
    0.03951165,
    0.033019103,
    0.028350806,
];
/// Coefficient of `w^1` in each piece.
const TAIL_C1: [f32; 16] = [
    -0.34222883,
    -0.25658137,
    -0.19686513,
    -0.1541167,
    -0.11051208,
    -0.07478914,
    -0.053239647,
    -0.0394697,
    -0.026735405,
    -0.017330615,
    -0.012060346,
    -0.008840103,
    -0.0059610223,
    -0.0038763033,
    -0.002714649,
    -0.002004772,
];
/// Coefficient of `w^2` in each piece.
const TAIL_C2: [f32; 16] = [
    0.2055162,
    0.14168483,
    0.100177824,
    0.07243122,
    0.0463342,
    0.027178459,
    0.016953705,
    0.011127786,
    0.006388048,
    0.00341694,
    0.0020140277,
    0.0012765068,
    0.00071347266,
    0.00037678936,
    0.00022172331,
    0.00014107171,
];
/// Coefficient of `w^3` in each piece.
const TAIL_C3: [f32; 16] = [
    -0.10551596,
    -0.06781609,
    -0.044755448,
    -0.030243147,
    -0.01753405,
    -0.009075784,
    -0.005033561,
    -0.0029594025,
    -0.0014591224,
    -0.00065201445,
    -0.00032820163,
    -0.00018087904,
    -8.425165e-05,
    -3.629441e-05,
    -1.7992856e-05,
    -9.879157e-06,
];
/// Coefficient of `w^4` in each piece.
const TAIL_C4: [f32; 16] = [
    0.04808636,
    0.02906386,
    0.018053846,
    0.011491583,
    0.0061046947,
    0.0028239596,
    0.0014075271,
    0.00074790494,
    0.0003201738,
    0.00012074536,
    5.22729e-05,
    2.5176189e-05,
    9.82411e-06,
    3.4658594e-06,
    1.4509804e-06,
    6.885588e-07,
];
/// Coefficient of `w^5` in each piece.
const TAIL_C5: [f32; 16] = [
    -0.019899804,
    -0.0113568,
    -0.006675466,
    -0.0039953636,
    -0.002002023,
    -0.00083345734,
    -0.00037599803,
    -0.00018248384,
    -6.8930676e-05,
    -2.2065398e-05,
    -8.2297865e-06,
    -3.488894e-06,
    -1.1574726e-06,
    -3.333739e-07,
    -1.17468815e-07,
    -4.8030593e-08,
];
/// Coefficient of `w^6` in each piece.
const TAIL_C6: [f32; 16] = [
    0.0074392953,
    0.00409632,
    0.0022633276,
    0.0012991105,
    0.0006103187,
    0.0002306786,
    9.497737e-05,
    4.2726755e-05,
    1.4036479e-05,
    3.8672133e-06,
    1.2561067e-06,
    4.7188607e-07,
    1.3135521e-07,
    3.1261667e-08,
    9.3405745e-09,
    3.3094834e-09,
];

/// GELU (erf) without a division: `Φ(−t) = e^(−t²/2)·R(t)` for every `t = |x|`, with
/// `R(t) = Φ(−t)·e^(t²/2)` (smooth, from 1/2 at 0 down to about 0.028 at 15) evaluated as a
/// piecewise degree-6 polynomial in `w = t − c_k`. The 16 pieces are the quarter binades of
/// `1 + t`: width 1/4 on [0, 1), 1/2 on [1, 3), 1 on [3, 7), 2 on [7, 15); the index is the
/// exponent and top two mantissa bits of `1 + t`, so each coefficient is one `vpermps`. Each
/// centre `c_k` is an f32 near the middle of its piece where `R(c_k)` is an f32 to within
/// about 2^-36, so rounding the constant coefficient costs nothing; fitted (weighted least
/// squares, coefficients rounded to f32 one at a time and the rest refitted) to a relative
/// error below 2^-27.5. Negative x (and −0) gives `(x·R)·p` scaled by `vscalefps` (one
/// rounding, also for subnormal results); positive x gives `x − x·Φ(−t)` (Φ(−t) ≤ 1/2, so
/// at most one bit cancels). Beyond [`FLUSH`] the result is x, or −0 where it is subnormal.
impl Wide for GeluErf {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let sign = _mm512_set1_ps(-0.0);
        let t = _mm512_andnot_ps(sign, x);
        // Piece index: the biased exponent and top two mantissa bits of 1 + t, less 508
        // (t + 1 in [1, 2) is piece 0..3); the sum's rounding only moves piece boundaries.
        let bits = _mm512_castps_si512(_mm512_add_ps(t, _mm512_set1_ps(1.0)));
        let index = _mm512_sub_epi32(_mm512_srli_epi32::<21>(bits), _mm512_set1_epi32(508));
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
