//! Activation kernels: the activation set, the exact f64 reference, the fast f32 kernels
//! and the accuracy engine that measures the second against the first.
//!
//! The fast kernels are the only place in actprof allowed to use `unsafe` (for
//! `#[target_feature]` dispatch and the AVX-512 intrinsics); every other module calls the
//! safe API below.
//!
//! Layout: [`lanes`](self) holds the chunk driver and the FMA/no-FMA arithmetic, `exp` the
//! exponential core, one file per activation family (`relu`, `logistic`, `tanh`, `gelu`),
//! `avx512` the explicit AVX-512 forms of sigmoid, SiLU, tanh and both GELUs, `streaming`
//! the non-temporal stores of the portable kernels on AVX2,
//! [`dispatch`] the runtime choice of instruction set, [`ulp`] and [`accuracy`] the error
//! measurement.

pub mod accuracy;
pub mod activation;
pub mod dispatch;
pub mod int8;
pub mod reference;
pub mod ulp;

#[cfg(target_arch = "x86_64")]
mod avx512;
mod exp;
mod gelu;
mod lanes;
mod logistic;
pub mod parallel;
mod relu;
#[cfg(target_arch = "x86_64")]
mod streaming;
mod tanh;

#[cfg(test)]
mod edge_tests;

pub use activation::{Activation, DEFAULT_LEAKY_ALPHA, GeluApproximation, ParseActivationError};
pub use dispatch::{
    Isa, STREAMING_MIN_ELEMENTS, Stores, apply_in_place_with, apply_with, apply_with_stores,
    dispatched_isa,
};

/// Computes `output[i] = activation(input[i])` with the fast f32 kernel of the best
/// instruction set this CPU has ([`dispatched_isa`]).
///
/// # Panics
/// If the two slices differ in length (a caller bug, not an input error).
pub fn apply(activation: Activation, input: &[f32], output: &mut [f32]) {
    apply_with(Isa::detect(), activation, input, output);
}

/// Computes `data[i] = activation(data[i])` in place with the fast f32 kernel; gives the
/// same results as [`apply`].
pub fn apply_in_place(activation: Activation, data: &mut [f32]) {
    apply_in_place_with(Isa::detect(), activation, data);
}
