//! tanh on AVX-512: one piecewise polynomial over the whole positive axis, its coefficients
//! gathered by `vpermps`; the sign of x is put back at the end (odd symmetry bit for bit).

use std::arch::x86_64::*;

use super::{Wide, by_index, estrin6, lookup};
use crate::kernels::tanh::Tanh;

/// Where the tanh range ends: beyond it `1 − tanh < 2.6e-8`, below half an ULP of 1.
///
/// The 16 pieces are the quarter binades of `1 + y` (y = |x|): [0, 0.25), [0.25, 0.5),
/// [0.5, 0.75), [0.75, 1), [1, 1.5), …, [7, 9), [9, 11); the index is the exponent and top
/// two mantissa bits of `1 + y`. Each piece holds a degree-6 polynomial P in `w = y − c_k`:
/// - pieces 0–3 (y < 1) of `tanh(y)/y − 1`, so `tanh = v + v·P` with `v = y` is one rounding
///   of the result plus the rounding of the small `P` (at most 0.24): full relative
///   accuracy down to the smallest y (piece 0 is centred at 0 with `P(0) = 0`, so
///   `tanh(x) = x` where the higher terms vanish); the fit of `tanh(y)/y` has relative error
///   below 2^-31, and its constant coefficients less 1 are exact;
/// - pieces 4–13 of `tanh(y) − 1 = −2/(1 + e^(2y))`, so `tanh = v + v·P` with `v = 1`: the
///   fit is within 2^-26 absolute (a quarter ULP of the result, which lies in [0.76, 1]);
///   P stays negative, so |tanh| ≤ 1.
///
/// `v = min(y, 1)` picks the form, so every lane runs the same instructions. Both fits come
/// from `benches/fit_tables.py tanh` (weighted least squares, coefficients rounded to f32
/// one at a time and the rest refitted; centres chosen where the fitted function is nearly an
/// f32 at c_k).
const TANH_FAR: f32 = 9.1;

/// The index `(exponent·4 + top two mantissa bits) mod 16` of `1 + y` for piece 0.
const FIRST: usize = 12;

/// Piece centres `c_k` (pieces 14 and 15 are unused).
const TANH_CENTRE: [f32; 16] = by_index(
    [
        0.0, 0.37501213, 0.6250892, 0.8749603, 1.2497694, 1.749938, 2.2500863, 2.7499845, 3.499846,
        4.500355, 5.5008526, 6.5011, 8.002072, 9.050113, 0.0, 0.0,
    ],
    FIRST,
);

/// Coefficient of `w^0` in each piece.
const TANH_C0: [f32; 16] = by_index(
    [
        0.0,
        -0.04438299,
        -0.112668276,
        -0.19552284,
        -0.15178102,
        -0.058631517,
        -0.021970134,
        -0.008140527,
        -0.001822667,
        -0.00024661468,
        -3.3346012e-05,
        -4.510724e-06,
        -2.2421806e-07,
        -2.7555098e-08,
        0.0,
        0.0,
    ],
    FIRST,
);

/// Coefficient of `w^1` in each piece.
const TANH_C1: [f32; 16] = by_index(
    [
        -3.7936374e-08,
        -0.2241117,
        -0.31192523,
        -0.34279504,
        0.28052446,
        0.11382533,
        0.04345758,
        0.016214788,
        0.003642052,
        0.0004931747,
        6.669177e-05,
        9.0215435e-06,
        4.482915e-07,
        5.5110196e-08,
        0.0,
        0.0,
    ],
    FIRST,
);

/// Coefficient of `w^2` in each piece.
const TANH_C2: [f32; 16] = by_index(
    [
        -0.33333048,
        -0.23527749,
        -0.11533554,
        -0.01411147,
        -0.23794666,
        -0.107151724,
        -0.042502813,
        -0.01608278,
        -0.003635074,
        -0.0004930027,
        -6.6682675e-05,
        -9.020569e-06,
        -4.4629917e-07,
        -5.5110196e-08,
        0.0,
        0.0,
    ],
    FIRST,
);

/// Coefficient of `w^3` in each piece.
const TANH_C3: [f32; 16] = by_index(
    [
        -7.063165e-05,
        0.15115547,
        0.15606134,
        0.10961583,
        0.10833677,
        0.062933914,
        0.027083516,
        0.010546586,
        0.0024128554,
        0.0003282485,
        4.44165e-05,
        6.008826e-06,
        2.964738e-07,
        3.6739152e-08,
        0.0,
        0.0,
    ],
    FIRST,
);

/// Coefficient of `w^4` in each piece.
const TANH_C4: [f32; 16] = by_index(
    [
        0.13412142,
        0.045210734,
        -0.0291008,
        -0.05578427,
        -0.0125430515,
        -0.02351721,
        -0.012320846,
        -0.0051005525,
        -0.0012015325,
        -0.00016453692,
        -2.2283188e-05,
        -3.014915e-06,
        -1.5509711e-07,
        -1.8367498e-08,
        0.0,
        0.0,
    ],
    FIRST,
);

/// Coefficient of `w^5` in each piece.
const TANH_C5: [f32; 16] = by_index(
    [
        -0.0042305854,
        -0.07009656,
        -0.041570224,
        -0.0036882719,
        -0.019699804,
        0.0034836405,
        0.0039765574,
        0.0019147529,
        0.00048924424,
        6.8067195e-05,
        9.238967e-06,
        1.2504069e-06,
        6.7841036e-08,
        7.628602e-09,
        0.0,
        0.0,
    ],
    FIRST,
);

/// Coefficient of `w^6` in each piece.
const TANH_C6: [f32; 16] = by_index(
    [
        -0.044493448,
        0.0028935692,
        0.028085986,
        0.019053303,
        0.014873725,
        0.0020016434,
        -0.00072314165,
        -0.0005407493,
        -0.0001471374,
        -2.1005333e-05,
        -2.8631944e-06,
        -3.8772382e-07,
        -1.7336896e-08,
        -3.1449738e-09,
        0.0,
        0.0,
    ],
    FIRST,
);

impl Wide for Tanh {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let one = _mm512_set1_ps(1.0);
        let sign = _mm512_set1_ps(-0.0);
        let magnitude = _mm512_andnot_ps(sign, x);
        // Beyond TANH_FAR the polynomial gives exactly 1. vminps returns its second operand
        // when either is NaN, so NaN passes through both clamps.
        let y = _mm512_min_ps(_mm512_set1_ps(TANH_FAR), magnitude);
        let v = _mm512_min_ps(one, magnitude);
        let bits = _mm512_castps_si512(_mm512_add_ps(y, one));
        // vpermps reads the low four bits of the index.
        let index = _mm512_srli_epi32::<21>(bits);
        let w = _mm512_sub_ps(y, lookup(&TANH_CENTRE, index));
        let tables = [
            &TANH_C0, &TANH_C1, &TANH_C2, &TANH_C3, &TANH_C4, &TANH_C5, &TANH_C6,
        ];
        let poly = estrin6(w, tables.map(|table| lookup(table, index)));
        _mm512_or_ps(_mm512_fmadd_ps(v, poly, v), _mm512_and_ps(x, sign))
    }
}
