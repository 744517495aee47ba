//! The exponential shared by the AVX-512 kernels: `e^a = 2^n·2^(j/16)·e^r`, where n is a
//! multiple of 1/16 (`vscalefps` applies `2^floor(n)`), `2^(j/16)` comes from a 16-entry
//! table by one `vpermps`, and `e^r` on |r| ≤ ln2/32 is a degree-3 polynomial: three
//! operations where the degree-6 polynomial on |r| ≤ ln2/2 of [`crate::kernels::exp`] needs
//! six (the gate of the logistic kernels measured 4–8 % faster with it).
//!
//! Table and polynomials from `benches/fit_tables.py exp16`.

use std::arch::x86_64::*;

use super::lookup;
use crate::kernels::exp::{LN2_HI, LN2_LO, LOG2_E};

/// Adding this rounds a value below 2^18 in magnitude to a multiple of 1/16 (it is
/// 1.5·2^19), leaving `16·n mod 16` in the low four mantissa bits: the table index.
pub(super) const MAGIC_SIXTEENTH: f32 = 786_432.0;

/// `2^(j/16)` rounded to f32.
pub(super) const EXP16_HI: [f32; 16] = [
    1.0,
    1.0442737,
    1.0905077,
    1.1387886,
    1.1892071,
    1.2418578,
    1.2968396,
    1.3542556,
    std::f32::consts::SQRT_2,
    1.4768262,
    1.5422108,
    1.6104903,
    1.6817929,
    1.7562522,
    1.8340081,
    1.9152066,
];

/// `2^(j/16) − EXP16_HI[j]`, rounded to f32.
const EXP16_LO: [f32; 16] = [
    0.0,
    4.83347e-08,
    -1.307754e-08,
    5.3862223e-08,
    3.7976353e-08,
    4.496838e-08,
    -4.0189995e-08,
    -1.0123349e-08,
    2.4203235e-08,
    -4.500899e-08,
    8.070905e-09,
    9.836217e-09,
    -2.4755327e-08,
    -9.23577e-09,
    -1.1239278e-08,
    9.845328e-09,
];

/// `e^r − 1 ≈ r + c2·r² + c3·r³` on |r| ≤ 1.01·ln2/32: `[c2, c3]` (absolute error 2^-29.2;
/// the fitted linear coefficient rounds to exactly 1).
const EXPM1_Q: [f32; 2] = [0.5000166, 0.16667016];

/// `e^(−r/2) − 1 ≈ r·(c1 + c2·r + c3·r²)` on |r| ≤ 1.01·ln2/16 (absolute error 2^-29.2).
pub(super) const EXPM1_HALF_Q: [f32; 3] = [-0.5, 0.12500416, -0.02083377];

/// `e^(a + lo) = p·2^n`, a at most 0 and above −150 (or NaN, giving NaN p), |lo| ≤ 2^-10;
/// p lies in [0.97, 1.96] within about 2^-28 relative (the table's pairs keep its rounding
/// out).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
pub(super) fn exp_parts(a: __m512, lo: Option<__m512>) -> (__m512, __m512) {
    let magic = _mm512_set1_ps(MAGIC_SIXTEENTH);
    let biased = _mm512_fmadd_ps(a, _mm512_set1_ps(LOG2_E), magic);
    let n = _mm512_sub_ps(biased, magic);
    // With FMA, each step rounds only its small result; n·LN2_HI need not be exact.
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), a);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    let r = match lo {
        Some(lo) => _mm512_add_ps(r, lo),
        None => r,
    };
    let r2 = _mm512_mul_ps(r, r);
    let c = _mm512_fmadd_ps(_mm512_set1_ps(EXPM1_Q[1]), r, _mm512_set1_ps(EXPM1_Q[0]));
    let q = _mm512_fmadd_ps(c, r2, r);
    let j = _mm512_castps_si512(biased);
    let high = lookup(&EXP16_HI, j);
    let p = _mm512_add_ps(high, _mm512_fmadd_ps(high, q, lookup(&EXP16_LO, j)));
    (p, n)
}
