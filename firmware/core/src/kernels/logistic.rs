//! The logistic family: sigmoid, Swish (`x · sigmoid(β·x)`) and the tanh form of GELU
//! (`x · sigmoid(2z)`, since `0.5·(1 + tanh z) = sigmoid(2z)`).

use super::exp::{abs, exp, signed_zero};

/// `2·√(2/π)`: the tanh-form GELU's `2z` is `x · (GELU_TANH_A + GELU_TANH_B · x²)`.
const GELU_TANH_A: f32 = 1.595_769_2;

/// `2 · 0.044715 · √(2/π)`.
const GELU_TANH_B: f32 = 0.071_354_82;

/// `1 / (1 + e^−x)`, computed as `e^x / (1 + e^x)` for negative x so that the tiny values of
/// the left tail keep their relative accuracy.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    let e = exp(-abs(x));
    let numerator = if x < 0.0 { e } else { 1.0 };
    numerator / (1.0 + e)
}

/// `x · gate`, with the limit ±0 when the gate has closed (so −∞ · 0 does not give NaN).
#[inline(always)]
fn gated(x: f32, gate: f32) -> f32 {
    if gate == 0.0 {
        signed_zero(x)
    } else {
        x * gate
    }
}

/// Swish: `x · sigmoid(β·x)` (SiLU at β = 1).
#[inline(always)]
pub(crate) fn swish(beta: f32, x: f32) -> f32 {
    gated(x, sigmoid(beta * x))
}

/// GELU, tanh form: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, as `x · sigmoid(2z)`.
#[inline(always)]
pub(crate) fn gelu_tanh(x: f32) -> f32 {
    let two_z = x * (GELU_TANH_A + GELU_TANH_B * (x * x));
    gated(x, sigmoid(two_z))
}
