//! Explicit AVX-512 versions of every f32 kernel, and their driver.
//!
//! The portable kernels rely on LLVM's SLP vectoriser, which cannot use the reciprocal
//! estimate `vrcp14ps`, the exponent scaling `vscalefps` or the lane permutes
//! `vpermps`/`vpermt2ps`; with them these kernels need fewer vector operations, which bound
//! them on Zen 4:
//! - the exponential (`exp16.rs`) takes `2^(j/16)` from a 16-entry table, so its polynomial
//!   is of degree 3, and leaves the power of two to `vscalefps` (one rounding also where the
//!   result is subnormal);
//! - sigmoid, SiLU and GELU (tanh form) share one gate (`logistic.rs`): that exponential of
//!   `−|x|`, and `N/(1+e)` from `rcp14` plus one correction with the exact residual
//!   `(N − g) − g·e`, about 2^-28 relative before the final rounding; GELU-tanh's argument
//!   comes as an f32 double word;
//! - tanh is one piecewise polynomial over the whole positive axis (`tanh.rs`);
//! - GELU (erf) is `t·Φ(−t)·e^(t²/2)` as a 32-piece polynomial times that exponential of
//!   `−t²/2`, so it needs no division and no central special case (`gelu.rs`);
//! - ReLU and Leaky ReLU are one compare and one masked move or blend (`relu.rs`).
//!
//! Every kernel is bound by vector-op issue and by its dependency chain (how many blocks
//! the core can keep in flight), so shorter chains are preferred where accuracy allows; see
//! the README's benchmark notes and `benches/loop_ops.py`.
//!
//! The driver ([`run`]) handles two blocks of 16 lanes per step (unless the kernel says
//! otherwise, [`Wide::PAIRED`]), so two independent dependency chains are in flight, and
//! writes with non-temporal stores when asked to ([`Stores`]): large outputs then go to
//! memory without first being read into the cache.
//!
//! The piecewise fits were made offline (weighted least squares in f64 against mpmath, then
//! coefficients rounded to f32 one at a time with the rest refitted) and are checked here by
//! the accuracy harness like every kernel, exhaustively with `actprof accuracy --exhaustive`;
//! `benches/fit_tables.py` regenerates the tables.
//!
//! Every function here needs AVX-512 F/BW/DQ/VL and FMA; they are only called from
//! [`super::dispatch`] after [`super::Isa::Avx512`] was found available.

use std::arch::x86_64::*;

use super::dispatch::Stores;

mod exp16;
mod gelu;
mod logistic;
mod relu;
mod tanh;

/// A kernel with an explicit 16-lane AVX-512 form.
pub(crate) trait Wide: Copy {
    /// The kernel on 16 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/DQ/VL and FMA.
    unsafe fn eval16(self, x: __m512) -> __m512;

    /// Whether the driver interleaves two blocks per step (two dependency chains in flight);
    /// kernels that need most of the 32 vector registers for their tables run one block
    /// at a time instead, which spares the reloads of spilled tables.
    const PAIRED: bool = true;
}

/// `output[i] = kernel(input[i])`, 32 lanes per step (16 unless [`Wide::PAIRED`]), then 16;
/// the tail goes through the same code with masked loads (zero lanes) and masked stores, so
/// results do not depend on the slice length or alignment. `input` and `output` may be the
/// same memory (in place).
///
/// With [`Stores::Streaming`] the elements before the first 64-byte boundary of `output` are
/// written like a tail (masked), the aligned middle with `vmovntps`, and an `sfence` at the
/// end orders those stores before anything this thread writes next (so another thread that
/// sees the call finish sees the results). [`Stores::Auto`] must be resolved by the caller.
///
/// # Safety
/// AVX-512 F/BW/DQ/VL and FMA must be available; `input` must be valid for reading and
/// `output` for writing `len` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
pub(crate) unsafe fn run<K: Wide>(
    kernel: K,
    input: *const f32,
    output: *mut f32,
    len: usize,
    stores: Stores,
) {
    let streaming = stores == Stores::Streaming;
    let mut i = 0;
    if streaming {
        // Elements up to the next 64-byte boundary of the output (f32 slices are 4-byte
        // aligned, so the distance is a whole number of elements).
        let past_boundary = (output as usize % 64) / 4;
        let head = ((16 - past_boundary) % 16).min(len);
        // SAFETY: 0..head lies inside both buffers (head ≤ len).
        unsafe { masked(kernel, input, output, head) };
        i = head;
    }
    while K::PAIRED && i + 32 <= len {
        // SAFETY: i + 32 ≤ len, so both blocks lie inside both buffers (caller's promise);
        // the loads are unaligned, and both blocks are read before either is written. When
        // streaming, output + i is 64-byte aligned: i starts at the boundary and moves in
        // steps of 16 elements.
        unsafe {
            let x0 = _mm512_loadu_ps(input.add(i));
            let x1 = _mm512_loadu_ps(input.add(i + 16));
            let y0 = kernel.eval16(x0);
            let y1 = kernel.eval16(x1);
            store(output.add(i), y0, streaming);
            store(output.add(i + 16), y1, streaming);
        }
        i += 32;
    }
    while i + 16 <= len {
        // SAFETY: as above, for one block.
        unsafe {
            let y = kernel.eval16(_mm512_loadu_ps(input.add(i)));
            store(output.add(i), y, streaming);
        }
        i += 16;
    }
    // SAFETY: i..len lies inside both buffers, and len − i < 16.
    unsafe { masked(kernel, input.add(i), output.add(i), len - i) };
    if streaming {
        _mm_sfence();
    }
}

/// One block of 16 lanes, or 16 aligned lanes through a non-temporal store.
///
/// # Safety
/// `output` must be valid for writing 16 elements, and 64-byte aligned when `streaming`.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
unsafe fn store(output: *mut f32, y: __m512, streaming: bool) {
    // SAFETY: the caller's promise, alignment included for the streaming store.
    unsafe {
        if streaming {
            _mm512_stream_ps(output, y);
        } else {
            _mm512_storeu_ps(output, y);
        }
    }
}

/// The first `count` (< 16) elements through the block code with masked loads and stores.
///
/// # Safety
/// `input` must be valid for reading and `output` for writing `count` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
unsafe fn masked<K: Wide>(kernel: K, input: *const f32, output: *mut f32, count: usize) {
    if count == 0 {
        return;
    }
    debug_assert!(count < 16);
    let mask: __mmask16 = ((1_u32 << count) - 1) as u16;
    // SAFETY: the mask enables only the first `count` lanes, inside both buffers;
    // masked-off lanes are neither read (they load as zero) nor written.
    unsafe {
        let x = _mm512_maskz_loadu_ps(mask, input);
        _mm512_mask_storeu_ps(output, mask, kernel.eval16(x));
    }
}

/// A piecewise table in the order of its lookup index: piece k at `(k + first) mod N`, where
/// `first` is the index piece 0 gets (the pieces are binade fractions of `1 + t`, so the
/// index is the exponent and top mantissa bits modulo N, with no subtraction).
const fn by_index<const N: usize>(pieces: [f32; N], first: usize) -> [f32; N] {
    let mut table = [0.0; N];
    let mut k = 0;
    while k < N {
        table[(k + first) % N] = pieces[k];
        k += 1;
    }
    table
}

/// `table[index]` per lane for a 16-entry table (one `vpermps`, index taken modulo 16).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn lookup(table: &[f32; 16], index: __m512i) -> __m512 {
    // SAFETY: the load reads the 16 floats of the array.
    let entries = unsafe { _mm512_loadu_ps(table.as_ptr()) };
    _mm512_permutexvar_ps(index, entries)
}

/// `table[index]` per lane for a 32-entry table (one `vpermt2ps`, index taken modulo 32).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn lookup32(table: &[f32; 32], index: __m512i) -> __m512 {
    // SAFETY: the two loads read the 32 floats of the array, 16 each.
    let (low, high) = unsafe {
        (
            _mm512_loadu_ps(table.as_ptr()),
            _mm512_loadu_ps(table.as_ptr().add(16)),
        )
    };
    _mm512_permutex2var_ps(low, index, high)
}

/// `c[0] + c[1]·w + … + c[6]·w⁶` by Estrin's scheme: four dependent steps where Horner's
/// rule takes six. The kernels are bound by how many blocks the core keeps in flight, so a
/// shorter dependency chain pays for the two extra multiplications.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn estrin6(w: __m512, c: [__m512; 7]) -> __m512 {
    let w2 = _mm512_mul_ps(w, w);
    let w4 = _mm512_mul_ps(w2, w2);
    let low = _mm512_fmadd_ps(
        _mm512_fmadd_ps(c[3], w, c[2]),
        w2,
        _mm512_fmadd_ps(c[1], w, c[0]),
    );
    let high = _mm512_fmadd_ps(c[6], w2, _mm512_fmadd_ps(c[5], w, c[4]));
    _mm512_fmadd_ps(high, w4, low)
}
