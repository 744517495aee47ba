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
//! otherwise, [`Wide::PAIRED`]), so two independent dependency chains are in flight. It
//! starts with a masked block up to the output's 64-byte boundary, so every full block
//! after it stores one whole cache line (a misaligned 64-byte store touches two lines; it
//! cost ReLU 25 % at 64K elements on an Intel Xeon with AVX-512), prefetches a few KiB
//! ahead ([`Prefetch`]), and writes with non-temporal stores when asked to ([`Stores`]):
//! large outputs then go to memory without first being read into the cache.
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
    /// at a time instead, which spares the reloads of spilled tables. (Three and four
    /// blocks per step measured no faster than two.)
    const PAIRED: bool = true;

    /// Whether the kernel is so light that memory bounds it wherever the data are not in
    /// L1: the hardware prefetchers then keep up, and the driver adds no far prefetch.
    const MEMORY_BOUND: bool = false;
}

/// `output[i] = kernel(input[i])`, 32 lanes per step (16 unless [`Wide::PAIRED`]), then 16;
/// the tail goes through the same code with masked loads (zero lanes) and masked stores, so
/// results do not depend on the slice length or alignment. `input` and `output` may be the
/// same memory (in place).
///
/// The elements before the first 64-byte boundary of `output` are written like a tail
/// (masked), so the blocks after them store whole cache lines. With [`Stores::Streaming`]
/// those blocks go out through `vmovntps`, and an `sfence` at the end orders the stores
/// before anything this thread writes next (so another thread that sees the call finish
/// sees the results). [`Stores::Auto`] must be resolved by the caller.
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
    // Elements up to the next 64-byte boundary of the output (f32 slices are 4-byte
    // aligned, so the distance is a whole number of elements).
    let past_boundary = (output as usize % 64) / 4;
    let head = ((16 - past_boundary) % 16).min(len);
    // SAFETY: 0..head lies inside both buffers (head ≤ len).
    unsafe { masked(kernel, input, output, head) };
    let prefetch = Prefetch::plan::<K>(len, streaming);
    // The prefetch choice is a const parameter, so no lane loop tests it.
    // SAFETY: the caller's promise, for head..len.
    let i = unsafe {
        match (prefetch.far, prefetch.output) {
            (true, true) => blocks::<K, true, true>(kernel, input, output, head, len, streaming),
            (true, false) => blocks::<K, true, false>(kernel, input, output, head, len, streaming),
            (false, true) => blocks::<K, false, true>(kernel, input, output, head, len, streaming),
            (false, false) => {
                blocks::<K, false, false>(kernel, input, output, head, len, streaming)
            }
        }
    };
    // SAFETY: i..len lies inside both buffers, and len − i < 16.
    unsafe { masked(kernel, input.add(i), output.add(i), len - i) };
    if streaming {
        _mm_sfence();
    }
}

/// The whole blocks of `start..len`, two per step unless [`Wide::PAIRED`] is false, with
/// the prefetches `FAR` and `OUTPUT` of [`Prefetch`]; returns where the tail starts.
///
/// # Safety
/// As for [`run`]; `start ≤ len`, and output + start is 64-byte aligned when `streaming`.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
unsafe fn blocks<K: Wide, const FAR: bool, const OUTPUT: bool>(
    kernel: K,
    input: *const f32,
    output: *mut f32,
    start: usize,
    len: usize,
    streaming: bool,
) -> usize {
    let mut i = start;
    while K::PAIRED && i + 32 <= len {
        prefetch_ahead::<FAR, OUTPUT>(input, output, i);
        prefetch_ahead::<FAR, OUTPUT>(input, output, i + 16);
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
        prefetch_ahead::<FAR, OUTPUT>(input, output, i);
        // SAFETY: as above, for one block.
        unsafe {
            let y = kernel.eval16(_mm512_loadu_ps(input.add(i)));
            store(output.add(i), y, streaming);
        }
        i += 16;
    }
    i
}

/// How far ahead of the block being computed the driver prefetches both buffers into L1:
/// 512 elements, 2 KiB (placed with `actprof bench` at 64K, 1M and 16M elements: 256,
/// 1024 and 2048 were no better). The output lines are asked for with intent to write, so
/// the store finds them owned.
const PREFETCH_NEAR: usize = 512;

/// How far ahead the driver prefetches the input into L2 when [`Prefetch::far`] is set:
/// 2048 elements, 8 KiB.
const PREFETCH_FAR: usize = 2048;

/// Inputs from this many elements (1 MiB of f32) get the far prefetch: below, input and
/// output fit in a 2 MiB L2 after the first call and the far prefetch only adds work.
const PREFETCH_FAR_MIN_ELEMENTS: usize = 1 << 18;

/// The software prefetches of one call.
///
/// The hardware prefetchers follow a stream well only while the loop is short; a kernel
/// that spends 15 cycles per block computing issues its loads too rarely for them, and the
/// memory latency then adds to the computing time instead of overlapping it (sigmoid at
/// 16M elements ran at half its in-cache speed). Prefetches are hints: they never fault,
/// also past the end of a buffer, so their addresses are formed with wrapping arithmetic.
#[derive(Clone, Copy)]
struct Prefetch {
    /// Prefetch the output lines for writing (not with streaming stores, which bypass the
    /// cache).
    output: bool,
    /// Also prefetch the input [`PREFETCH_FAR`] ahead into L2.
    far: bool,
}

impl Prefetch {
    fn plan<K: Wide>(len: usize, streaming: bool) -> Prefetch {
        Prefetch {
            output: !streaming,
            far: !K::MEMORY_BOUND && len >= PREFETCH_FAR_MIN_ELEMENTS,
        }
    }
}

/// The prefetches for the 16 elements from `i` (one cache line of each buffer when the
/// output is aligned), see [`Prefetch`].
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
fn prefetch_ahead<const FAR: bool, const OUTPUT: bool>(
    input: *const f32,
    output: *mut f32,
    i: usize,
) {
    _mm_prefetch::<_MM_HINT_T0>(input.wrapping_add(i + PREFETCH_NEAR).cast());
    if FAR {
        _mm_prefetch::<_MM_HINT_T1>(input.wrapping_add(i + PREFETCH_FAR).cast());
    }
    if OUTPUT {
        let output = output.cast_const();
        _mm_prefetch::<_MM_HINT_ET0>(output.wrapping_add(i + PREFETCH_NEAR).cast());
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
