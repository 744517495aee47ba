//! ReLU and Leaky ReLU on AVX-512: one compare into a mask, then a masked move or blend.
//! The same results as the portable kernels, bit for bit (NaN kept, `relu(−0) = +0`).

use std::arch::x86_64::*;

use super::Wide;
use crate::kernels::relu::{LeakyRelu, Relu};

impl Wide for Relu {
    const MEMORY_BOUND: bool = true;

    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        // Keep x where !(x <= 0): positive or NaN (the unordered compare is true for NaN);
        // zero the rest, −0 included.
        let keep = _mm512_cmp_ps_mask::<_CMP_NLE_UQ>(x, _mm512_setzero_ps());
        _mm512_maskz_mov_ps(keep, x)
    }
}

impl Wide for LeakyRelu {
    const MEMORY_BOUND: bool = true;

    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    #[inline]
    unsafe fn eval16(self, x: __m512) -> __m512 {
        let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, _mm512_setzero_ps());
        let scaled = _mm512_mul_ps(x, _mm512_set1_ps(self.alpha));
        _mm512_mask_blend_ps(positive, scaled, x)
    }
}
