//! GELU (erf form) on AVX-512: `t·Φ(−t)` for `t = |x|` as a piecewise polynomial times a
//! table-driven exponential, with no division and no special case besides a clamp.

use std::arch::x86_64::*;

use super::exp16::{EXP16_HI, EXPM1_HALF_Q, MAGIC_SIXTEENTH};
use super::{Wide, by_index, lookup, lookup32};
use crate::kernels::gelu::GeluErf;

/// |x| is clamped here: from 14.5 on, `t·Φ(−t)` < 2^-150 rounds to 0, so a negative x gives
/// −0 and a positive x gives x itself (infinities included).
const CLAMP: f32 = 14.5;

/// `2·ln 2` to 12 significant bits (2839/2048): `n·LN2X2_HI` is exact for every multiple n of
/// 1/16 below 256 in magnitude.
const LN2X2_HI: f32 = 1.386_230_5;

/// `2·ln 2 − LN2X2_HI`, rounded to f32.
const LN2X2_LO: f32 = 6.389_237e-5;

/// The index `(exponent·8 + top three mantissa bits) mod 32` of `1 + t` for piece 0.
const FIRST: usize = 24;

/// Piece centres `c_k` of `U`, in piece order (piece 0 is centred at 0).
const TAIL_CENTRE: [f32; 32] = [
    0.0, 0.18749079, 0.3125479, 0.43746278, 0.56241214, 0.6873735, 0.8125332, 0.9376305, 1.1249591,
    1.3752906, 1.6248736, 1.8747315, 2.1250787, 2.3749478, 2.6251445, 2.8750408, 3.2500384,
    3.7495844, 4.25121, 4.749259, 5.2507896, 5.7503695, 6.2502117, 6.7497654, 7.498786, 8.50156,
    9.499155, 10.500731, 11.499959, 12.500461, 13.500701, 14.498622,
];

/// Coefficient of `w^0` in each piece of `U`.
const TAIL_C0: [f32; 32] = [
    0.0,
    0.08121824,
    0.123831056,
    0.15928623,
    0.1890154,
    0.21408755,
    0.23538245,
    0.25352913,
    0.27599344,
    0.29927817,
    0.31690475,
    0.33053252,
    0.3412357,
    0.34972683,
    0.356572,
    0.36214077,
    0.3687198,
    0.37514254,
    0.37978667,
    0.38320374,
    0.3858168,
    0.3878344,
    0.38942865,
    0.39070722,
    0.39219615,
    0.39363724,
    0.3946605,
    0.3954185,
    0.39599165,
    0.39643675,
    0.3967886,
    0.3970709,
];

/// Coefficient of `w^1` in each piece of `U`.
const TAIL_C1: [f32; 32] = [
    0.5,
    0.3736149,
    0.31021324,
    0.2592732,
    0.21801445,
    0.18439312,
    0.15679185,
    0.13404964,
    0.10702399,
    0.080543734,
    0.061732862,
    0.048059322,
    0.03794453,
    0.030372502,
    0.024601376,
    0.020154392,
    0.015226637,
    0.010809979,
    0.007901605,
    0.0059406785,
    0.004558794,
    0.0035707087,
    0.0028442396,
    0.002299869,
    0.0017134877,
    0.0012006437,
    0.00087363564,
    0.0006539562,
    0.0005020878,
    0.0003934984,
    0.0003139878,
    0.0002545771,
];

/// Coefficient of `w^2` in each piece of `U`.
const TAIL_C2: [f32; 32] = [
    -0.39894184,
    -0.28269926,
    -0.22663291,
    -0.1829448,
    -0.14861985,
    -0.12148123,
    -0.09986051,
    -0.082568616,
    -0.06274986,
    -0.044278488,
    -0.03188342,
    -0.023360563,
    -0.017389005,
    -0.013148887,
    -0.010079188,
    -0.00782915,
    -0.0054788683,
    -0.0035332474,
    -0.0023599074,
    -0.0016316191,
    -0.0011568302,
    -0.00084143184,
    -0.00062508415,
    -0.00047326743,
    -0.0003215888,
    -0.00020136629,
    -0.00013237665,
    -9.027586e-05,
    -6.3632455e-05,
    -4.6073885e-05,
    -3.415554e-05,
    -2.5857209e-05,
];

/// Coefficient of `w^3` in each piece of `U`.
const TAIL_C3: [f32; 32] = [
    0.24996713,
    0.16913761,
    0.13148583,
    0.1029515,
    0.08114757,
    0.06435741,
    0.051350787,
    0.041221038,
    0.029981978,
    0.019973766,
    0.01359729,
    0.0094312215,
    0.006654713,
    0.0047771153,
    0.0034807588,
    0.0025743204,
    0.0016777102,
    0.0009889026,
    0.00060660724,
    0.00038733584,
    0.0002546323,
    0.00017250038,
    0.000119813136,
    8.51196e-05,
    5.2889463e-05,
    2.9673429e-05,
    1.7659468e-05,
    1.0988586e-05,
    7.1194977e-06,
    4.7670997e-06,
    3.2857733e-06,
    2.3242228e-06,
];

/// Coefficient of `w^4` in each piece of `U`.
const TAIL_C4: [f32; 32] = [
    -0.13219398,
    -0.08639171,
    -0.065331124,
    -0.049768627,
    -0.038164847,
    -0.029457984,
    -0.022874432,
    -0.017875116,
    -0.012520091,
    -0.007912662,
    -0.0051163086,
    -0.003373672,
    -0.0022654498,
    -0.0015494769,
    -0.001077002,
    -0.00076060876,
    -0.00046562136,
    -0.00025193047,
    -0.00014247505,
    -8.427778e-05,
    -5.150771e-05,
    -3.257195e-05,
    -2.1196855e-05,
    -1.4148719e-05,
    -8.100456e-06,
    -4.0769596e-06,
    -2.1986198e-06,
    -1.2493953e-06,
    -7.442524e-07,
    -4.6103483e-07,
    -2.955234e-07,
    -1.9518365e-07,
];

/// Coefficient of `w^5` in each piece of `U`.
const TAIL_C5: [f32; 32] = [
    0.054923393,
    0.03946475,
    0.030567924,
    0.022849021,
    0.01560254,
    0.01293169,
    0.008849941,
    0.006501653,
    0.0046784543,
    0.0028037545,
    0.0017556512,
    0.0011042701,
    0.0006977136,
    0.00045188365,
    0.0003127754,
    0.00019926715,
    0.00011937903,
    5.9227063e-05,
    3.1392763e-05,
    1.7101118e-05,
    9.777876e-06,
    5.8077785e-06,
    3.5443045e-06,
    2.211562e-06,
    1.168148e-06,
    5.301372e-07,
    2.5908656e-07,
    1.3555106e-07,
    7.446097e-08,
    4.2860936e-08,
    2.5550028e-08,
    1.5315546e-08,
];

/// GELU (erf) without a division. With `t = min(|x|, CLAMP)`:
/// - `U(t) = t·Φ(−t)·e^(t²/2)` (smooth: 0 at 0, about 0.4 at 14.5) is a degree-5 polynomial
///   in `w = t − c_k` on 32 pieces, the eighth binades of `1 + t` (width 1/8 on [0, 1) up to 1
///   on [7, 15)); every coefficient is one `vpermt2ps`. Piece 0 is centred at 0 with no
///   constant term, so U keeps its relative accuracy for tiny t; the other centres are f32s
///   near the middle of their piece where U is an f32 to within about 2^-36. Fitted relative
///   error: 2^-28 (`benches/fit_tables.py gelu`).
/// - `e^(−t²/2) = 2^n·2^(j/16)·e^(−r/2)`: n is `−t²·log2(e)/2` rounded to a multiple of 1/16
///   (magic-bias addition, whose low mantissa bits give j for a `vpermps` of the table),
///   `r = t² + 2·ln2·n` by one FMA on the exact product `n·LN2X2_HI` (so t² needs no
///   two-part split) and one on the low part, and `e^(−r/2) − 1` a degree-3 polynomial. The
///   table entries are f32 roundings of `2^(j/16)` (up to 2^-25 off): their low parts cost
///   a `vpermps` and an add for 0.4 ULP less error (2.11 against 2.49 ULP, sampled), and the
///   contract has room.
/// - `t·Φ(−t) = U·2^floor(n)·2^(j/16)·e^(−r/2)`: `vscalefps` applies the power of two to U
///   (exact unless the product is subnormal, then within one subnormal step), and the result
///   `z − (scaled U)·e` is one FNMA with `z = max(−0, x)`: `−t·Φ(−t)` for negative x (−0 for
///   −0), `x − t·Φ(−t)` for positive x, where `t·Φ(−t) ≤ x/2` cancels at most one bit.
///   vrangeps drops NaN, but z keeps it, so NaN in gives NaN out.
///
/// Exhaustively (all 2^32 inputs) within 2.53 ULP where the result is normal, 3e-45 absolute
/// below. The driver runs one block per step here: GELU's 16 tables and 9 constants leave
/// too few of the 32 registers for two blocks in flight (measured equal or up to 4 % faster).
impl Wide for GeluErf {
    const PAIRED: bool = false;

    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        // vrangeps: the smaller magnitude of x and CLAMP, sign bit cleared.
        let t = _mm512_range_ps::<0b1010>(x, _mm512_set1_ps(CLAMP));
        let bits = _mm512_castps_si512(_mm512_add_ps(t, _mm512_set1_ps(1.0)));
        // The sum's rounding only moves piece boundaries; vpermt2ps reads the low 5 bits.
        let index = _mm512_srli_epi32::<20>(bits);
        let w = _mm512_sub_ps(t, lookup32(&CENTRE, index));
        let mut u = lookup32(&C5, index);
        for table in [&C4, &C3, &C2, &C1, &C0] {
            u = _mm512_fmadd_ps(u, w, lookup32(table, index));
        }

        let a = _mm512_mul_ps(t, _mm512_set1_ps(-0.5 * std::f32::consts::LOG2_E));
        let biased = _mm512_fmadd_ps(a, t, _mm512_set1_ps(MAGIC_SIXTEENTH));
        let n = _mm512_sub_ps(biased, _mm512_set1_ps(MAGIC_SIXTEENTH));
        let r = _mm512_fmadd_ps(t, t, _mm512_mul_ps(n, _mm512_set1_ps(LN2X2_HI)));
        let r = _mm512_fmadd_ps(n, _mm512_set1_ps(LN2X2_LO), r);
        let q = _mm512_fmadd_ps(
            _mm512_set1_ps(EXPM1_HALF_Q[2]),
            r,
            _mm512_set1_ps(EXPM1_HALF_Q[1]),
        );
        let q = _mm512_mul_ps(_mm512_fmadd_ps(q, r, _mm512_set1_ps(EXPM1_HALF_Q[0])), r);
        let j = _mm512_castps_si512(biased);
        let high = lookup(&EXP16_HI, j);
        let e = _mm512_fmadd_ps(high, q, high);

        let scaled = _mm512_scalef_ps(u, n);
        _mm512_fnmadd_ps(scaled, e, _mm512_max_ps(_mm512_set1_ps(-0.0), x))
    }
}

const CENTRE: [f32; 32] = by_index(TAIL_CENTRE, FIRST);
const C0: [f32; 32] = by_index(TAIL_C0, FIRST);
const C1: [f32; 32] = by_index(TAIL_C1, FIRST);
const C2: [f32; 32] = by_index(TAIL_C2, FIRST);
const C3: [f32; 32] = by_index(TAIL_C3, FIRST);
const C4: [f32; 32] = by_index(TAIL_C4, FIRST);
const C5: [f32; 32] = by_index(TAIL_C5, FIRST);
