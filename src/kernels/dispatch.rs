//! Runtime choice of the instruction set: the same kernel bodies compiled per path.
//!
//! Each wrapper below enables a set of target features and inlines the generic chunk driver
//! into itself, so LLVM vectorises the kernels for that ISA: 256-bit registers for
//! [`Isa::Avx2Fma`], 128-bit NEON with fused multiply-add for [`Isa::Neon`] (aarch64), and
//! the baseline (SSE2 on x86-64, no FMA) for [`Isa::Scalar`]. [`Isa::Avx512`] runs the
//! explicit intrinsics of `avx512/`. The best available set is detected once and cached.

use std::fmt;
use std::sync::OnceLock;

use super::activation::{Activation, GeluApproximation};
#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::gelu::{GeluErf, GeluTanh};
use super::lanes::{self, Arith, Fused, Kernel, Separate};
use super::logistic::{Sigmoid, Silu, Swish};
use super::relu::{Half, LeakyRelu, Relu};
#[cfg(target_arch = "x86_64")]
use super::streaming;
use super::tanh::Tanh;

/// An instruction-set path for the f32 kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Baseline x86-64 (or any other target): SSE2 vectors, no FMA.
    Scalar,
    /// aarch64 NEON with fused multiply-add: 128-bit vectors (the portable kernels).
    Neon,
    /// AVX2 with FMA: 256-bit vectors.
    Avx2Fma,
    /// AVX-512 F/BW/DQ/VL with FMA: 512-bit vectors.
    Avx512,
}

impl Isa {
    /// Every path, slowest first.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Neon, Isa::Avx2Fma, Isa::Avx512];

    /// The best path this CPU supports (detected once, then cached).
    pub fn detect() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Isa::ALL
                .into_iter()
                .rev()
                .find(|isa| isa.is_available())
                .unwrap_or(Isa::Scalar)
        })
    }

    /// The paths this CPU supports, slowest first (always includes [`Isa::Scalar`]).
    pub fn available() -> Vec<Isa> {
        Isa::ALL
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// Whether this CPU can run the path.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[cfg(not(target_arch = "aarch64"))]
            Isa::Neon => false,
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx2Fma | Isa::Avx512 => false,
        }
    }

    /// The stable name used in reports: `scalar`, `neon`, `avx2+fma`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Neon => "neon",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parses a name written by [`Isa::name`].
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name() == name)
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The path [`super::apply`] uses on this CPU.
pub fn dispatched_isa() -> Isa {
    Isa::detect()
}

/// How a kernel writes its output.
///
/// Ordinary stores bring each output line into the cache first (a read for ownership):
/// 12 bytes of memory traffic per element instead of 8 once the arrays no longer fit in the
/// last-level cache, but the results stay cached for whoever reads them next. Non-temporal
/// stores write around the cache, so the next reader finds nothing cached. On the reference
/// machine (Zen 4, 32 MiB L3) `benches/stores.rs` measured ReLU streaming within 4 % of
/// cached stores up to 2M elements, 1.8× faster at 4M and 1.27× at 16M; compute-bound
/// kernels such as sigmoid do not change. See the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Stores {
    /// Streaming when the output has at least [`STREAMING_MIN_ELEMENTS`] elements.
    #[default]
    Auto,
    /// Ordinary (cached) stores.
    Cached,
    /// Non-temporal stores: on the AVX-512 path, and on the AVX2 path for ReLU and Leaky
    /// ReLU with separate input and output; everything else stores ordinarily.
    Streaming,
}

/// The output length from which [`Stores::Auto`] streams: 2M elements, 8 MiB of output
/// (16 MiB with the input, half the reference machine's L3); below it results stay cached
/// for the next reader, which costs nothing measurable there.
pub const STREAMING_MIN_ELEMENTS: usize = 2 << 20;

impl Stores {
    /// The concrete choice for an output of `len` elements.
    pub fn resolve(self, len: usize) -> Stores {
        match self {
            Stores::Auto if len >= STREAMING_MIN_ELEMENTS => Stores::Streaming,
            Stores::Auto => Stores::Cached,
            other => other,
        }
    }
}

/// Computes `output[i] = activation(input[i])` on the given path ([`Stores::Auto`]).
///
/// # Panics
/// If the slices differ in length, or if `isa` is not available on this CPU.
pub fn apply_with(isa: Isa, activation: Activation, input: &[f32], output: &mut [f32]) {
    apply_with_stores(isa, Stores::Auto, activation, input, output);
}

/// Like [`apply_with`], with the store kind chosen by the caller.
///
/// # Panics
/// If the slices differ in length, or if `isa` is not available on this CPU.
pub fn apply_with_stores(
    isa: Isa,
    stores: Stores,
    activation: Activation,
    input: &[f32],
    output: &mut [f32],
) {
    assert_eq!(
        input.len(),
        output.len(),
        "kernel input and output lengths differ"
    );
    assert_available(isa);
    let stores = stores.resolve(output.len());
    run_activation(isa, stores, activation, Io::Separate(input, output));
}

/// Computes `data[i] = activation(data[i])` in place on the given path ([`Stores::Auto`]).
///
/// # Panics
/// If `isa` is not available on this CPU.
pub fn apply_in_place_with(isa: Isa, activation: Activation, data: &mut [f32]) {
    assert_available(isa);
    let stores = Stores::Auto.resolve(data.len());
    run_activation(isa, stores, activation, Io::InPlace(data));
}

fn assert_available(isa: Isa) {
    assert!(
        isa.is_available(),
        "the {} kernel path is not available on this CPU",
        isa.name()
    );
}

/// Where a kernel reads and writes.
enum Io<'a> {
    Separate(&'a [f32], &'a mut [f32]),
    InPlace(&'a mut [f32]),
}

fn run_activation(isa: Isa, stores: Stores, activation: Activation, io: Io<'_>) {
    match activation {
        Activation::Relu => run_wide(isa, stores, Relu, io),
        Activation::LeakyRelu { alpha } => run_wide(isa, stores, LeakyRelu { alpha }, io),
        Activation::Sigmoid => run_wide(isa, stores, Sigmoid, io),
        Activation::Tanh => run_wide(isa, stores, Tanh, io),
        Activation::Gelu {
            approximation: GeluApproximation::Erf,
        } => run_wide(isa, stores, GeluErf, io),
        Activation::Gelu {
            approximation: GeluApproximation::Tanh,
        } => run_wide(isa, stores, GeluTanh, io),
        Activation::Swish { beta: 1.0 } => run_wide(isa, stores, Silu, io),
        Activation::Swish { beta: 0.0 } => run_kernel(isa, Half, io),
        Activation::Swish { beta } => run_kernel(isa, Swish { beta }, io),
    }
}

fn run_kernel<K: Kernel>(isa: Isa, kernel: K, io: Io<'_>) {
    match isa {
        Isa::Scalar => drive::<Separate, K>(kernel, io),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers checked `isa.is_available()`, i.e. AVX2 and FMA are present.
        Isa::Avx2Fma => unsafe { drive_avx2(kernel, io) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers checked `isa.is_available()`, i.e. AVX-512 F/BW/DQ/VL and FMA.
        Isa::Avx512 => unsafe { drive_avx512(kernel, io) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: callers checked `isa.is_available()`, i.e. NEON is present.
        Isa::Neon => unsafe { drive_neon(kernel, io) },
        _ => unreachable!("{} is not a path of this architecture", isa.name()),
    }
}

/// Like [`run_kernel`], but with the kernel's explicit AVX-512 form on [`Isa::Avx512`].
#[cfg(target_arch = "x86_64")]
fn run_wide<K: Kernel + avx512::Wide>(isa: Isa, stores: Stores, kernel: K, io: Io<'_>) {
    // On AVX2 the memory-bound kernels store whole cache lines, and stream when asked; the
    // others keep the plain driver: on Zen 3 `benches/stores.rs` measured sigmoid about 10 %
    // slower streaming at 1M–4M elements and no faster at 16M, and a split store is a small
    // part of their 48 cycles per block.
    if isa == Isa::Avx2Fma
        && K::MEMORY_BOUND
        && let Io::Separate(input, output) = io
    {
        // SAFETY: callers checked `isa.is_available()`, i.e. AVX2 and FMA are present.
        return unsafe {
            if stores == Stores::Streaming {
                streaming::run::<K, true>(kernel, input, output)
            } else {
                streaming::run::<K, false>(kernel, input, output)
            }
        };
    }
    if isa != Isa::Avx512 {
        return run_kernel(isa, kernel, io);
    }
    let (input, output, len) = match io {
        Io::Separate(input, output) => (input.as_ptr(), output.as_mut_ptr(), output.len()),
        Io::InPlace(data) => {
            let pointer = data.as_mut_ptr();
            (pointer.cast_const(), pointer, data.len())
        }
    };
    // SAFETY: callers checked `isa.is_available()` (AVX-512 F/BW/DQ/VL and FMA), and both
    // pointers come from slices of `len` elements that live for this call (the same slice
    // when in place, which `avx512::run` allows: it reads each block before writing it).
    unsafe { avx512::run(kernel, input, output, len, stores) }
}

#[cfg(not(target_arch = "x86_64"))]
fn run_wide<K: Kernel>(isa: Isa, _stores: Stores, kernel: K, io: Io<'_>) {
    run_kernel(isa, kernel, io);
}

#[inline(always)]
fn drive<A: Arith, K: Kernel>(kernel: K, io: Io<'_>) {
    match io {
        Io::Separate(input, output) => lanes::run::<A, K>(kernel, input, output),
        Io::InPlace(data) => lanes::run_in_place::<A, K>(kernel, data),
    }
}

#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon")]
fn drive_neon<K: Kernel>(kernel: K, io: Io<'_>) {
    // aarch64 always has a fused multiply-add (`fmla`), so `f32::mul_add` is one instruction.
    drive::<Fused, K>(kernel, io);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn drive_avx2<K: Kernel>(kernel: K, io: Io<'_>) {
    drive::<Fused, K>(kernel, io);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
fn drive_avx512<K: Kernel>(kernel: K, io: Io<'_>) {
    drive::<Fused, K>(kernel, io);
}
