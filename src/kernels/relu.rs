//! The piecewise-linear activations: ReLU and Leaky ReLU. Exact in f32 and memory-bound.

use super::lanes::{Arith, Kernel};

/// `max(x, 0)` with NaN kept and `relu(-0.0) = +0.0` (the reference's choice, as numpy).
#[derive(Clone, Copy)]
pub(crate) struct Relu;

impl Kernel for Relu {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        // NaN compares false and passes through; -0.0 <= 0 becomes +0.0.
        if x <= 0.0 { 0.0 } else { x }
    }
}

/// `x if x > 0 else alpha·x`, for any alpha (not `max(x, alpha·x)`, which is wrong for
/// alpha > 1 or < 0). The product is one correctly rounded multiplication.
#[derive(Clone, Copy)]
pub(crate) struct LeakyRelu {
    pub(crate) alpha: f32,
}

impl Kernel for LeakyRelu {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        let scaled = self.alpha * x;
        if x > 0.0 { x } else { scaled }
    }
}

/// `x/2`: Swish with `beta = 0`, where the gate is constant.
#[derive(Clone, Copy)]
pub(crate) struct Half;

impl Kernel for Half {
    #[inline(always)]
    fn eval<A: Arith>(self, x: f32) -> f32 {
        0.5 * x
    }
}
