//! GELU (erf form) on AVX-512: a piecewise polynomial of `Φ(−|x|)·e^(x²/2)` times an
//! exponential, with no division.

use std::arch::x86_64::*;

use super::{Wide, lookup};
use crate::kernels::exp::{EXP_Q, LN2_HI, LN2_LO, LOG2_E, MAGIC_BIAS};
use crate::kernels::gelu::{FLUSH, GeluErf};

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
        // Horner here: Estrin's scheme (as tanh uses) measured 3.87 ULP against 2.87.
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
        // q by Estrin's scheme, then p = 1 − r2/2 + q·r2² (the halving is exact).
        let s = |j: usize| _mm512_set1_ps(EXP_Q[j] * 0.25 * (-0.5_f32).powi(j as i32));
        let r4 = _mm512_mul_ps(r2, r2);
        let q = _mm512_fmadd_ps(
            _mm512_fmadd_ps(s(4), r4, _mm512_fmadd_ps(s(3), r2, s(2))),
            r4,
            _mm512_fmadd_ps(s(1), r2, s(0)),
        );
        let tail = _mm512_fmadd_ps(q, r4, _mm512_mul_ps(r2, _mm512_set1_ps(-0.5)));
        let p = _mm512_add_ps(tail, _mm512_set1_ps(1.0));

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
