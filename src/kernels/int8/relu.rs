//! Quantized ReLU when input and output share their parameters: `q_out = max(q_in, zp)`.
//!
//! With equal scales and zero points the definition reduces exactly to this maximum (real 0
//! is the code `zp`, positive values keep their code), so no table is needed: one `vpmaxsb`
//! (i8) or `vpmaxub` (u8) per vector. AVX-512 runs 64 bytes per step with a masked tail,
//! AVX2 32 bytes with a scalar tail.

use super::dtype::QuantDType;
use super::isa::QuantIsa;

/// Writes `max(src[i], floor)` (compared as `dtype` codes) for `len` bytes, on `isa`.
///
/// # Safety
/// `src` must be valid for reading and `dst` for writing `len` bytes; the two ranges are
/// either identical (in place) or disjoint; `isa` must be available on this CPU.
pub(super) unsafe fn max_floor(
    floor: u8,
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
                x86::max_avx512::<true>(floor, src, dst, len);
            } else {
                x86::max_avx512::<false>(floor, src, dst, len);
            }
        },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        QuantIsa::Avx2 => unsafe {
            if signed {
                x86::max_avx2::<true>(floor, src, dst, len);
            } else {
                x86::max_avx2::<false>(floor, src, dst, len);
            }
        },
        // SAFETY: as above.
        _ => unsafe { max_scalar(floor, dtype, src, dst, len) },
    }
}

/// # Safety
/// As [`max_floor`].
unsafe fn max_scalar(floor: u8, dtype: QuantDType, src: *const u8, dst: *mut u8, len: usize) {
    let floor_code = dtype.decode(floor);
    for i in 0..len {
        // SAFETY: i < len, inside both ranges; each byte is read before it is written.
        unsafe {
            let byte = *src.add(i);
            *dst.add(i) = if dtype.decode(byte) < floor_code {
                floor
            } else {
                byte
            };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::QuantDType;

    /// # Safety
    /// As `max_floor`, with AVX-512 F and BW available.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn max_avx512<const SIGNED: bool>(
        floor: u8,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) {
        let f = _mm512_set1_epi8(floor.cast_signed());
        let max = |x| {
            if SIGNED {
                _mm512_max_epi8(x, f)
            } else {
                _mm512_max_epu8(x, f)
            }
        };
        let mut i = 0;
        while i + 128 <= len {
            // SAFETY: i + 128 <= len; both blocks are loaded before either is stored.
            unsafe {
                let a = _mm512_loadu_si512(src.add(i).cast());
                let b = _mm512_loadu_si512(src.add(i + 64).cast());
                _mm512_storeu_si512(dst.add(i).cast(), max(a));
                _mm512_storeu_si512(dst.add(i + 64).cast(), max(b));
            }
            i += 128;
        }
        while i < len {
            let left = len - i;
            let mask: __mmask64 = if left >= 64 {
                u64::MAX
            } else {
                (1u64 << left) - 1
            };
            // SAFETY: the mask enables only bytes below len; masked-off bytes are neither
            // read (no fault) nor written.
            unsafe {
                let x = _mm512_maskz_loadu_epi8(mask, src.add(i).cast());
                _mm512_mask_storeu_epi8(dst.add(i).cast(), mask, max(x));
            }
            i += 64;
        }
    }

    /// # Safety
    /// As `max_floor`, with AVX2 available.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn max_avx2<const SIGNED: bool>(
        floor: u8,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) {
        let f = _mm256_set1_epi8(floor.cast_signed());
        let max = |x| {
            if SIGNED {
                _mm256_max_epi8(x, f)
            } else {
                _mm256_max_epu8(x, f)
            }
        };
        let mut i = 0;
        while i + 64 <= len {
            // SAFETY: i + 64 <= len; both blocks are loaded before either is stored.
            unsafe {
                let a = _mm256_loadu_si256(src.add(i).cast());
                let b = _mm256_loadu_si256(src.add(i + 32).cast());
                _mm256_storeu_si256(dst.add(i).cast(), max(a));
                _mm256_storeu_si256(dst.add(i + 32).cast(), max(b));
            }
            i += 64;
        }
        while i + 32 <= len {
            // SAFETY: i + 32 <= len.
            unsafe {
                let y = max(_mm256_loadu_si256(src.add(i).cast()));
                _mm256_storeu_si256(dst.add(i).cast(), y);
            }
            i += 32;
        }
        let dtype = if SIGNED {
            QuantDType::I8
        } else {
            QuantDType::U8
        };
        // SAFETY: the remaining len − i bytes lie inside both ranges.
        unsafe { super::max_scalar(floor, dtype, src.add(i), dst.add(i), len - i) };
    }
}
