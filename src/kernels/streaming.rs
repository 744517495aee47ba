//! Whole-cache-line output for the portable kernels on AVX2 (ReLU and Leaky ReLU).
//!
//! The same block code as [`lanes::run`] computes every element, so each result is the one
//! the plain driver would have written; only the way the blocks reach memory differs. The
//! output is first brought to a 64-byte boundary by a short run of the plain driver, then
//! each block of [`LANES`] elements (one whole cache line) goes out through two aligned
//! stores: `vmovntps` when streaming, with an `sfence` at the end that orders those stores
//! before anything this thread writes next, or `vmovaps`. Without the peel, an output 16
//! bytes past a line (where the allocator often puts one) has every other 32-byte store
//! straddle two lines; `cargo bench --bench alignment` measured that at 64K elements on an
//! Intel Xeon as ReLU 8.8 against 12.8 Gelem/s and Leaky ReLU 7.9 against 10.9.

use std::arch::x86_64::{_mm_sfence, _mm256_loadu_ps, _mm256_store_ps, _mm256_stream_ps};

use super::lanes::{self, Fused, Kernel, LANES};

/// `output[i] = kernel(input[i])` with the whole cache lines of the output written one per
/// block, by non-temporal stores when `STREAM`. Lengths must match (checked by callers).
///
/// # Safety
/// AVX2 and FMA must be available.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn run<K: Kernel, const STREAM: bool>(
    kernel: K,
    input: &[f32],
    output: &mut [f32],
) {
    debug_assert_eq!(input.len(), output.len());
    // Elements up to the output's next 64-byte boundary (f32 slices are 4-byte aligned, so
    // the distance is a whole number of elements).
    let past_boundary = (output.as_ptr() as usize % 64) / 4;
    let head = ((LANES - past_boundary) % LANES).min(output.len());
    let (head_in, body_in) = input.split_at(head);
    let (head_out, body_out) = output.split_at_mut(head);
    lanes::run::<Fused, K>(kernel, head_in, head_out);

    let mut inputs = body_in.chunks_exact(LANES);
    let mut outputs = body_out.chunks_exact_mut(LANES);
    for (x, y) in (&mut inputs).zip(&mut outputs) {
        let result = lanes::block_values::<Fused, K>(kernel, x);
        // SAFETY: AVX is enabled on this function; `y` holds LANES = 16 elements starting
        // on a 64-byte boundary (the head above was peeled to it, and every block is 64
        // bytes), so both 8-element halves are 32-byte aligned as `vmovntps` and `vmovaps`
        // require; `result` is a local array of 16 elements, read unaligned.
        unsafe {
            let to = y.as_mut_ptr();
            let (low, high) = (
                _mm256_loadu_ps(result.as_ptr()),
                _mm256_loadu_ps(result.as_ptr().add(8)),
            );
            if STREAM {
                _mm256_stream_ps(to, low);
                _mm256_stream_ps(to.add(8), high);
            } else {
                _mm256_store_ps(to, low);
                _mm256_store_ps(to.add(8), high);
            }
        }
    }
    lanes::run::<Fused, K>(kernel, inputs.remainder(), outputs.into_remainder());
    if STREAM {
        _mm_sfence();
    }
}
