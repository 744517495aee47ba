//! Activation kernels: the activation set, the exact f64 reference and the fast f32 kernels.
//!
//! The fast kernels are the only place in actprof allowed to use `unsafe` (for
//! `#[target_feature]` dispatch and intrinsics); every other module calls the safe API below.

pub mod activation;
pub mod reference;

pub use activation::{Activation, DEFAULT_LEAKY_ALPHA, GeluApproximation, ParseActivationError};

/// Computes `output[i] = activation(input[i])` with the fast f32 kernel.
///
/// # Panics
/// If the two slices differ in length (a caller bug, not an input error).
pub fn apply(activation: Activation, input: &[f32], output: &mut [f32]) {
    assert_eq!(
        input.len(),
        output.len(),
        "kernel input and output lengths differ"
    );
    // TODO(kernels): replace with the vectorised kernels; the reference keeps callers working.
    for (out, &x) in output.iter_mut().zip(input) {
        *out = reference::eval_f32(activation, x);
    }
}

/// Computes `data[i] = activation(data[i])` in place with the fast f32 kernel.
pub fn apply_in_place(activation: Activation, data: &mut [f32]) {
    for x in data.iter_mut() {
        *x = reference::eval_f32(activation, *x);
    }
}
