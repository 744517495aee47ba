//! tanh on AVX-512: the odd polynomial near 0 and a piecewise polynomial of `1 − tanh`
//! above it, its coefficients gathered by `vpermps`.

use std::arch::x86_64::*;

use super::{Wide, estrin6, lookup};
use crate::kernels::tanh::{SMALL, Tanh};

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
        let tables = [
            &TANH_C0, &TANH_C1, &TANH_C2, &TANH_C3, &TANH_C4, &TANH_C5, &TANH_C6,
        ];
        let g = estrin6(w, tables.map(|table| lookup(table, index)));
        let far = _mm512_sub_ps(one, g);

        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(y, _mm512_set1_ps(SMALL));
        let magnitude = _mm512_mask_blend_ps(small, far, near_zero);
        _mm512_or_ps(magnitude, _mm512_and_ps(x, sign))
    }
}
