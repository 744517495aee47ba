//! Leaky ReLU (and ReLU as alpha = 0) by integer arithmetic, without a table.
//!
//! As in TFLite and XNNPACK, the offset `d = q − zp_in` is multiplied by one of two
//! fixed-point multipliers chosen by the sign of `d`: `s_in/s_out` for `d ≥ 0` and
//! `alpha·s_in/s_out` for `d < 0`. Both are integers `M = round(ratio · 2^shift)` sharing one
//! `shift`, the largest in 1..=30 that keeps `|M| ≤ 2^22`, so `d·M` (|d| ≤ 255) fits an i32.
//! Then `r = (d·M + 2^(shift−1) − [d·M < 0]) >> shift` divides by `2^shift` rounding half
//! away from zero, and `q_out = clamp(r + zp_out, qmin, qmax)`.
//!
//! Error bound: a ratio above 512 is replaced by 512 (any |d| ≥ 1 saturates either way), so
//! `shift ≥ 13` and `|M/2^shift − ratio| ≤ 2^−14`; over |d| ≤ 255 the product is off by at
//! most 255·2^−14 < 0.016 of an output step before rounding. Both this result and the
//! definition are then within 0.516 and 0.5 steps of the exact value, so they differ by at
//! most 1 LSB (and by 0 unless the exact value lies within 0.016 of a rounding tie).
//! Saturation is monotone and keeps the bound.
//!
//! Vectorised on AVX-512 (64 elements per step) and AVX2 (32 per step): bytes are widened to
//! i32 lanes and narrowed back by saturating packs, which perform the clamp. Tails use the
//! scalar code, which performs the same integer operations.

use super::dtype::QuantDType;
use super::isa::QuantIsa;
use super::params::QuantParams;

/// The largest multiplier magnitude; ratios beyond [`RATIO_CAP`] saturate anyway.
const MULTIPLIER_BITS: i32 = 22;

/// Any ratio of this size makes `|d·ratio| ≥ 512 > 255` for `d ≠ 0`: the output saturates.
const RATIO_CAP: f64 = 512.0;

/// The integer parameters of a fixed-point Leaky ReLU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPointLeaky {
    zp_in: i32,
    zp_out: i32,
    positive: i32,
    negative: i32,
    shift: u32,
    qmin: i32,
    qmax: i32,
}

impl FixedPointLeaky {
    /// Derives the multipliers for slope `alpha` (any sign or size) and valid parameters.
    pub fn new(alpha: f32, input: QuantParams, output: QuantParams, dtype: QuantDType) -> Self {
        let ratio = f64::from(input.scale) / f64::from(output.scale);
        let capped = |r: f64| r.clamp(-RATIO_CAP, RATIO_CAP);
        let positive = capped(ratio);
        let negative = capped(ratio * f64::from(alpha));
        let largest = positive.abs().max(negative.abs());
        let shift = (f64::from(MULTIPLIER_BITS) - largest.log2())
            .floor()
            .clamp(1.0, 30.0);
        let scale = shift.exp2();
        // |ratio|·2^shift ≤ 2^22 by the choice of shift, so the casts are exact.
        FixedPointLeaky {
            zp_in: input.zero_point,
            zp_out: output.zero_point,
            positive: (positive * scale).round() as i32,
            negative: (negative * scale).round() as i32,
            shift: shift as u32,
            qmin: dtype.qmin(),
            qmax: dtype.qmax(),
        }
    }

    /// The output code for input code `q`.
    pub fn eval(&self, q: i32) -> i32 {
        let d = q - self.zp_in;
        let product = d * if d >= 0 { self.positive } else { self.negative };
        let rounding = (1 << (self.shift - 1)) + (product >> 31);
        (((product + rounding) >> self.shift) + self.zp_out).clamp(self.qmin, self.qmax)
    }

    /// Applies the kernel to `len` bytes stored as `dtype` codes, on `isa`.
    ///
    /// # Safety
    /// `src` must be valid for reading and `dst` for writing `len` bytes; the two ranges are
    /// either identical (in place) or disjoint; `isa` must be available on this CPU.
    pub(super) unsafe fn run(
        &self,
        dtype: QuantDType,
        src: *const u8,
        dst: *mut u8,
        len: usize,
        isa: QuantIsa,
    ) {
        #[cfg(target_arch = "x86_64")]
        let signed = dtype.is_signed();
        match isa {
            // SAFETY: the caller's contract is passed on unchanged, and it guarantees the
            // instruction set (VBMI implies F and BW here).
            #[cfg(target_arch = "x86_64")]
            QuantIsa::Avx512Vbmi => unsafe {
                if signed {
                    x86::run_avx512::<true>(self, src, dst, len);
                } else {
                    x86::run_avx512::<false>(self, src, dst, len);
                }
            },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            QuantIsa::Avx2 => unsafe {
                if signed {
                    x86::run_avx2::<true>(self, src, dst, len);
                } else {
                    x86::run_avx2::<false>(self, src, dst, len);
                }
            },
            // SAFETY: as above.
            _ => unsafe { self.run_scalar(dtype, src, dst, len) },
        }
    }

    /// # Safety
    /// As [`FixedPointLeaky::run`].
    unsafe fn run_scalar(&self, dtype: QuantDType, src: *const u8, dst: *mut u8, len: usize) {
        // A copy by value: stores through `dst` cannot alias it, so it stays in registers.
        let k = *self;
        let convert = |byte: u8| dtype.encode(k.eval(dtype.decode(byte)));
        for i in 0..len {
            // SAFETY: i < len, inside both ranges; each byte is read before it is written.
            unsafe { *dst.add(i) = convert(*src.add(i)) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{FixedPointLeaky, QuantDType};

    fn dtype_of<const SIGNED: bool>() -> QuantDType {
        if SIGNED {
            QuantDType::I8
        } else {
            QuantDType::U8
        }
    }

    /// # Safety
    /// As `FixedPointLeaky::run`, with AVX-512 F and BW available.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn run_avx512<const SIGNED: bool>(
        k: &FixedPointLeaky,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) {
        let zp_in = _mm512_set1_epi32(k.zp_in);
        let zp_out = _mm512_set1_epi32(k.zp_out);
        let positive = _mm512_set1_epi32(k.positive);
        let negative = _mm512_set1_epi32(k.negative);
        let half = _mm512_set1_epi32(1 << (k.shift - 1));
        let shift = _mm_cvtsi32_si128(k.shift.cast_signed());
        // After the in-lane packs, 128-bit lane k holds 4 results from each input vector s
        // at dword 4k + s; they belong at dword 4s + k.
        let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        let offsets = |bytes: __m128i| {
            let q = if SIGNED {
                _mm512_cvtepi8_epi32(bytes)
            } else {
                _mm512_cvtepu8_epi32(bytes)
            };
            let d = _mm512_sub_epi32(q, zp_in);
            let non_negative = _mm512_cmpge_epi32_mask(d, _mm512_setzero_si512());
            let m = _mm512_mask_blend_epi32(non_negative, negative, positive);
            let p = _mm512_mullo_epi32(d, m);
            let p = _mm512_add_epi32(_mm512_add_epi32(p, half), _mm512_srai_epi32::<31>(p));
            _mm512_add_epi32(_mm512_sra_epi32(p, shift), zp_out)
        };
        let mut i = 0;
        while i + 64 <= len {
            // SAFETY: i + 64 <= len; all four 16-byte blocks are loaded before the store.
            unsafe {
                let r = [0, 16, 32, 48].map(|o| offsets(_mm_loadu_si128(src.add(i + o).cast())));
                // Saturating packs to i16 then to the dtype's bytes are the clamp to
                // [qmin, qmax] of the scalar code.
                let ab = _mm512_packs_epi32(r[0], r[1]);
                let cd = _mm512_packs_epi32(r[2], r[3]);
                let bytes = if SIGNED {
                    _mm512_packs_epi16(ab, cd)
                } else {
                    _mm512_packus_epi16(ab, cd)
                };
                _mm512_storeu_si512(dst.add(i).cast(), _mm512_permutexvar_epi32(order, bytes));
            }
            i += 64;
        }
        // SAFETY: the remaining len − i bytes lie inside both ranges.
        unsafe { k.run_scalar(dtype_of::<SIGNED>(), src.add(i), dst.add(i), len - i) };
    }

    /// # Safety
    /// As `FixedPointLeaky::run`, with AVX2 available.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run_avx2<const SIGNED: bool>(
        k: &FixedPointLeaky,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) {
        let zp_in = _mm256_set1_epi32(k.zp_in);
        let zp_out = _mm256_set1_epi32(k.zp_out);
        let positive = _mm256_set1_epi32(k.positive);
        let negative = _mm256_set1_epi32(k.negative);
        let half = _mm256_set1_epi32(1 << (k.shift - 1));
        let shift = _mm_cvtsi32_si128(k.shift.cast_signed());
        // After the in-lane packs, 128-bit lane k holds 4 results from each input vector s
        // at dword 4k + s; they belong at dword 2s + k.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let offsets = |bytes: __m128i| {
            let q = if SIGNED {
                _mm256_cvtepi8_epi32(bytes)
            } else {
                _mm256_cvtepu8_epi32(bytes)
            };
            let d = _mm256_sub_epi32(q, zp_in);
            let is_negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), d);
            let m = _mm256_blendv_epi8(positive, negative, is_negative);
            let p = _mm256_mullo_epi32(d, m);
            let p = _mm256_add_epi32(_mm256_add_epi32(p, half), _mm256_srai_epi32::<31>(p));
            _mm256_add_epi32(_mm256_sra_epi32(p, shift), zp_out)
        };
        let mut i = 0;
        while i + 32 <= len {
            // SAFETY: i + 32 <= len; all four 8-byte blocks are loaded before the store.
            unsafe {
                let r = [0, 8, 16, 24].map(|o| offsets(_mm_loadl_epi64(src.add(i + o).cast())));
                // Saturating packs are the clamp to [qmin, qmax], as in the AVX-512 path.
                let ab = _mm256_packs_epi32(r[0], r[1]);
                let cd = _mm256_packs_epi32(r[2], r[3]);
                let bytes = if SIGNED {
                    _mm256_packs_epi16(ab, cd)
                } else {
                    _mm256_packus_epi16(ab, cd)
                };
                let bytes = _mm256_permutevar8x32_epi32(bytes, order);
                _mm256_storeu_si256(dst.add(i).cast(), bytes);
            }
            i += 32;
        }
        // SAFETY: the remaining len − i bytes lie inside both ranges.
        unsafe { k.run_scalar(dtype_of::<SIGNED>(), src.add(i), dst.add(i), len - i) };
    }
}
