//! 256-entry table lookup over bytes: `dst[i] = table[src[i]]`, on every instruction set.
//!
//! - AVX-512 VBMI: the table lives in four zmm registers. `vpermt2b` looks up the low
//!   7 bits of every byte in two 128-byte halves at once; the top bit of the input byte
//!   picks which half's result to keep (`vpmovb2m` + masked blend). 64 bytes per step; the
//!   tail uses masked loads and stores, so no byte outside the slice is touched.
//! - AVX2: `vpshufb` looks up 16-byte tables and returns 0 for an index with its top bit
//!   set. Walking the input down by 16 with signed saturation, the index stays non-negative
//!   exactly for the sub-tables at or below the byte's high nibble (inputs 0..=127; the same
//!   walk on `byte ^ 0x80` covers 128..=255), so XOR-ing 16 lookups of the XOR-differences
//!   of neighbouring sub-tables telescopes to the wanted entry. 32 bytes per step; the tail
//!   goes through the scalar loop.
//! - Scalar: one indexed load per byte.
//!
//! All paths compute the same function of each byte alone, so results never depend on the
//! length, the alignment or the instruction set.

use super::isa::QuantIsa;

/// Looks up `len` bytes from `src` into `dst` on `isa`.
///
/// # Safety
/// `src` must be valid for reading and `dst` for writing `len` bytes; the two ranges are
/// either identical (in place) or disjoint; `isa` must be available on this CPU.
pub(super) unsafe fn lookup(
    table: &[u8; 256],
    src: *const u8,
    dst: *mut u8,
    len: usize,
    isa: QuantIsa,
) {
    match isa {
        // SAFETY: the caller's contract is passed on unchanged, and it guarantees the
        // instruction set.
        #[cfg(target_arch = "x86_64")]
        QuantIsa::Avx512Vbmi => unsafe { x86::lookup_avx512vbmi(table, src, dst, len) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        QuantIsa::Avx2 => unsafe { x86::lookup_avx2(table, src, dst, len) },
        // SAFETY: as above.
        _ => unsafe { lookup_scalar(table, src, dst, len) },
    }
}

/// # Safety
/// As [`lookup`].
unsafe fn lookup_scalar(table: &[u8; 256], src: *const u8, dst: *mut u8, len: usize) {
    for i in 0..len {
        // SAFETY: i < len, inside both ranges; each byte is read before it is written.
        unsafe { *dst.add(i) = table[usize::from(*src.add(i))] };
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// The table's four 64-byte quarters.
    struct Quarters([__m512i; 4]);

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    fn step(t: &Quarters, x: __m512i) -> __m512i {
        let low_half = _mm512_permutex2var_epi8(t.0[0], x, t.0[1]);
        let high_half = _mm512_permutex2var_epi8(t.0[2], x, t.0[3]);
        _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low_half, high_half)
    }

    /// # Safety
    /// As `lookup`, with AVX-512 F, BW and VBMI available.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn lookup_avx512vbmi(
        table: &[u8; 256],
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) {
        // SAFETY: the table is 256 bytes, so offsets 0, 64, 128 and 192 each have 64 bytes.
        let t = Quarters(std::array::from_fn(|k| unsafe {
            _mm512_loadu_si512(table.as_ptr().add(64 * k).cast())
        }));
        let mut i = 0;
        while i + 256 <= len {
            // SAFETY: i + 256 <= len, so the four 64-byte blocks lie inside both ranges; all
            // four are loaded before any is stored, which keeps in-place calls correct.
            unsafe {
                let p = src.add(i);
                let x = [0, 64, 128, 192].map(|o| _mm512_loadu_si512(p.add(o).cast()));
                let y = x.map(|x| step(&t, x));
                for (o, y) in [0, 64, 128, 192].into_iter().zip(y) {
                    _mm512_storeu_si512(dst.add(i + o).cast(), y);
                }
            }
            i += 256;
        }
        while i + 64 <= len {
            // SAFETY: i + 64 <= len.
            unsafe {
                let y = step(&t, _mm512_loadu_si512(src.add(i).cast()));
                _mm512_storeu_si512(dst.add(i).cast(), y);
            }
            i += 64;
        }
        if i < len {
            let mask: __mmask64 = (1u64 << (len - i)) - 1;
            // SAFETY: the mask enables only the len − i < 64 bytes left in both ranges;
            // masked-off bytes are neither read (no fault) nor written.
            unsafe {
                let x = _mm512_maskz_loadu_epi8(mask, src.add(i).cast());
                _mm512_mask_storeu_epi8(dst.add(i).cast(), mask, step(&t, x));
            }
        }
    }

    /// The 16 XOR-difference sub-tables of the AVX2 lookup, each in both 128-bit lanes:
    /// entries 0..8 for inputs 0..=127, 8..16 for 128..=255 (see the module doc).
    #[target_feature(enable = "avx2")]
    fn difference_tables(table: &[u8; 256]) -> [__m256i; 16] {
        let mut diffs = [[0u8; 16]; 16];
        for (k, diff) in diffs.iter_mut().enumerate() {
            for (j, d) in diff.iter_mut().enumerate() {
                let below = if k % 8 == 0 {
                    0
                } else {
                    table[16 * (k - 1) + j]
                };
                *d = table[16 * k + j] ^ below;
            }
        }
        // SAFETY: each `diff` is 16 bytes, the size of the unaligned load.
        diffs.map(|d| unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(d.as_ptr().cast())) })
    }

    #[target_feature(enable = "avx2")]
    fn step_avx2(d: &[__m256i; 16], x: __m256i) -> __m256i {
        let sixteen = _mm256_set1_epi8(16);
        let mut low = x;
        let mut high = _mm256_xor_si256(x, _mm256_set1_epi8(i8::MIN));
        let mut acc = _mm256_xor_si256(
            _mm256_shuffle_epi8(d[0], low),
            _mm256_shuffle_epi8(d[8], high),
        );
        for k in 1..8 {
            low = _mm256_subs_epi8(low, sixteen);
            high = _mm256_subs_epi8(high, sixteen);
            acc = _mm256_xor_si256(acc, _mm256_shuffle_epi8(d[k], low));
            acc = _mm256_xor_si256(acc, _mm256_shuffle_epi8(d[8 + k], high));
        }
        acc
    }

    /// # Safety
    /// As `lookup`, with AVX2 available.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn lookup_avx2(table: &[u8; 256], src: *const u8, dst: *mut u8, len: usize) {
        let d = difference_tables(table);
        let mut i = 0;
        while i + 64 <= len {
            // SAFETY: i + 64 <= len; both blocks are loaded before either is stored.
            unsafe {
                let a = _mm256_loadu_si256(src.add(i).cast());
                let b = _mm256_loadu_si256(src.add(i + 32).cast());
                let (a, b) = (step_avx2(&d, a), step_avx2(&d, b));
                _mm256_storeu_si256(dst.add(i).cast(), a);
                _mm256_storeu_si256(dst.add(i + 32).cast(), b);
            }
            i += 64;
        }
        while i + 32 <= len {
            // SAFETY: i + 32 <= len.
            unsafe {
                let y = step_avx2(&d, _mm256_loadu_si256(src.add(i).cast()));
                _mm256_storeu_si256(dst.add(i).cast(), y);
            }
            i += 32;
        }
        // SAFETY: the remaining len − i bytes lie inside both ranges.
        unsafe { super::lookup_scalar(table, src.add(i), dst.add(i), len - i) };
    }
}
