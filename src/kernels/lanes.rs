//! The shared skeleton of every f32 kernel: arithmetic flavours and the chunk driver.
//!
//! A kernel is written once as a branch-free function of one element ([`Kernel::eval`]).
//! The driver applies it to fixed-size blocks of [`LANES`] elements, which LLVM turns into
//! SIMD code for whatever target features the calling function enables. The last partial
//! block is copied into a padded stack buffer and run through the very same block code, so
//! every element gets the same result whatever the slice length or alignment.
//!
//! [`Arith`] chooses how `a·b + c` is computed: [`Fused`] uses `f32::mul_add`, which is one
//! instruction only where FMA is enabled (elsewhere it would call libm's `fmaf`), so the
//! scalar path uses [`Separate`] (two roundings) instead.

/// Elements per block: one zmm register, two ymm, four xmm.
pub(crate) const LANES: usize = 16;

/// How the kernels compute `a·b + c` and exact products.
pub(crate) trait Arith {
    /// `a·b + c`, fused (one rounding) or not (two roundings).
    fn mul_add(a: f32, b: f32, c: f32) -> f32;

    /// `(hi, lo)` with `hi = fl(a·b)` and `hi + lo = a·b` (exactly, or to within 2^-48
    /// relative). Undefined (possibly NaN) when `a·b` overflows.
    fn two_prod(a: f32, b: f32) -> (f32, f32);

    /// `c − a·b` rounded once (for residuals, where `c ≈ a·b` and the difference is tiny).
    fn mul_sub_exact(a: f32, b: f32, c: f32) -> f32;
}

/// Fused multiply-add: one rounding. Only for functions compiled with the `fma` feature.
pub(crate) struct Fused;

/// Multiply then add: two roundings. For the baseline (SSE2) path.
pub(crate) struct Separate;

impl Arith for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    fn two_prod(a: f32, b: f32) -> (f32, f32) {
        let hi = a * b;
        (hi, a.mul_add(b, -hi))
    }

    #[inline(always)]
    fn mul_sub_exact(a: f32, b: f32, c: f32) -> f32 {
        (-a).mul_add(b, c)
    }
}

impl Arith for Separate {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }

    #[inline(always)]
    fn two_prod(a: f32, b: f32) -> (f32, f32) {
        // The product of two f32 is exact in f64 (48 significant bits).
        let exact = f64::from(a) * f64::from(b);
        let hi = exact as f32;
        (hi, (exact - f64::from(hi)) as f32)
    }

    #[inline(always)]
    fn mul_sub_exact(a: f32, b: f32, c: f32) -> f32 {
        // Exact in f64 when c and a·b agree to within a factor 2 (all bits fit in 53).
        (f64::from(c) - f64::from(a) * f64::from(b)) as f32
    }
}

/// One activation as a function of one element, written branch-free so it vectorises.
pub(crate) trait Kernel: Copy {
    /// The activation at `x`.
    fn eval<A: Arith>(self, x: f32) -> f32;
}

/// `output[i] = kernel(input[i])` block by block. Lengths must match (checked by callers).
#[inline(always)]
pub(crate) fn run<A: Arith, K: Kernel>(kernel: K, input: &[f32], output: &mut [f32]) {
    debug_assert_eq!(input.len(), output.len());
    let mut inputs = input.chunks_exact(LANES);
    let mut outputs = output.chunks_exact_mut(LANES);
    for (x, y) in (&mut inputs).zip(&mut outputs) {
        block::<A, K>(kernel, x, y);
        keep_blocks_whole();
    }
    let (x, y) = (inputs.remainder(), outputs.into_remainder());
    if !x.is_empty() {
        let mut padded_x = [0.0_f32; LANES];
        let mut padded_y = [0.0_f32; LANES];
        padded_x[..x.len()].copy_from_slice(x);
        block::<A, K>(kernel, &padded_x, &mut padded_y);
        y.copy_from_slice(&padded_y[..y.len()]);
    }
}

/// `data[i] = kernel(data[i])` block by block.
#[inline(always)]
pub(crate) fn run_in_place<A: Arith, K: Kernel>(kernel: K, data: &mut [f32]) {
    let mut blocks = data.chunks_exact_mut(LANES);
    for y in &mut blocks {
        let mut x = [0.0_f32; LANES];
        x.copy_from_slice(y);
        block::<A, K>(kernel, &x, y);
        keep_blocks_whole();
    }
    let y = blocks.into_remainder();
    if !y.is_empty() {
        let mut padded_x = [0.0_f32; LANES];
        let mut padded_y = [0.0_f32; LANES];
        padded_x[..y.len()].copy_from_slice(y);
        block::<A, K>(kernel, &padded_x, &mut padded_y);
        y.copy_from_slice(&padded_y[..y.len()]);
    }
}

/// An empty instruction that stops LLVM's loop vectoriser from vectorising the loop over
/// blocks (it would turn each block's lanes into strided gathers and scatters); the
/// straight-line block inside is still vectorised lane-wise, one register per block.
#[inline(always)]
fn keep_blocks_whole() {
    // SAFETY: the assembly is empty: it reads and writes nothing, touches no stack or flags.
    unsafe { std::arch::asm!("", options(nomem, nostack, preserves_flags)) }
}

/// One block: all loads, then the lane-wise kernel on registers, then all stores, so the
/// SLP vectoriser needs no aliasing facts to pack the lanes into vectors.
#[inline(always)]
fn block<A: Arith, K: Kernel>(kernel: K, x: &[f32], y: &mut [f32]) {
    y.copy_from_slice(&block_values::<A, K>(kernel, x));
}

/// The results of one block of [`LANES`] inputs, for drivers that store them their own way.
#[inline(always)]
pub(crate) fn block_values<A: Arith, K: Kernel>(kernel: K, x: &[f32]) -> [f32; LANES] {
    let x: [f32; LANES] = x.try_into().expect("a block is LANES long");
    let mut result = [0.0_f32; LANES];
    for i in 0..LANES {
        result[i] = kernel.eval::<A>(x[i]);
    }
    result
}

/// `|x|` by clearing the sign bit (keeps NaN payloads; vectorises to one `and`).
#[inline(always)]
pub(crate) fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & !SIGN_BIT)
}

/// `magnitude` with the sign bit of `sign`.
#[inline(always)]
pub(crate) fn copysign(magnitude: f32, sign: f32) -> f32 {
    f32::from_bits((magnitude.to_bits() & !SIGN_BIT) | (sign.to_bits() & SIGN_BIT))
}

/// A zero with the sign of `x` (also for infinite and NaN `x`).
#[inline(always)]
pub(crate) fn signed_zero(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & SIGN_BIT)
}

/// `low` if `x < low`, else `x`: a clamp that lets NaN through (a `max` would drop it).
#[inline(always)]
pub(crate) fn at_least(x: f32, low: f32) -> f32 {
    if x < low { low } else { x }
}

const SIGN_BIT: u32 = 0x8000_0000;
