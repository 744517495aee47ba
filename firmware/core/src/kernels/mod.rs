//! The f32 activation kernels, portable to the bit.
//!
//! Every kernel uses only `+ − × ÷`, comparisons and bit moves between `f32` and `u32`: no
//! fused multiply-add, no libm, no f64. IEEE-754 single precision with round to nearest then
//! gives the same bits on x86_64, a Cortex-M4F's FPU and the soft-float routines of thumbv6m
//! and riscv32imc, so the host can reproduce a board's checksum (Rust never contracts
//! `a * b + c` into a fused operation on its own).
//!
//! Accuracy against the correctly rounded result, measured by the tests over [−8, 8]
//! (`cargo test -p actprof-fw-core -- --nocapture` prints it), is in `firmware/README.md`.
//! NaN in gives NaN out (its payload is not promised to be the same on every core); the
//! results at ±∞ are the functions' limits.

mod exp;
mod gelu;
mod logistic;
mod tanh;
#[cfg(test)]
mod tests;

/// An activation function the firmware can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// `max(x, 0)`.
    Relu,
    /// `x` for x > 0, else `alpha · x` (parameter `alpha`, default 0.01).
    LeakyRelu,
    /// `1 / (1 + e^−x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// GELU, exact form: `x · Φ(x)` with Φ the standard normal CDF.
    Gelu,
    /// GELU, tanh form: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    GeluTanh,
    /// Swish: `x · sigmoid(beta · x)` (parameter `beta`, default 1: SiLU).
    Swish,
}

impl Kernel {
    /// Every kernel, in the order `caps` lists them.
    pub const ALL: [Kernel; 7] = [
        Kernel::Relu,
        Kernel::LeakyRelu,
        Kernel::Sigmoid,
        Kernel::Tanh,
        Kernel::Gelu,
        Kernel::GeluTanh,
        Kernel::Swish,
    ];

    /// The protocol's (and actprof's) name: `relu`, `leaky_relu`, `sigmoid`, `tanh`, `gelu`,
    /// `gelu_tanh` or `swish`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Relu => "relu",
            Kernel::LeakyRelu => "leaky_relu",
            Kernel::Sigmoid => "sigmoid",
            Kernel::Tanh => "tanh",
            Kernel::Gelu => "gelu",
            Kernel::GeluTanh => "gelu_tanh",
            Kernel::Swish => "swish",
        }
    }

    /// The kernel called `name` (exact, lower case), if any.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The parameter used when a request gives none: 0.01 for Leaky ReLU's alpha, 1 for
    /// Swish's beta, 0 (unused) for the others.
    pub fn default_param(self) -> f32 {
        match self {
            Kernel::LeakyRelu => 0.01,
            Kernel::Swish => 1.0,
            _ => 0.0,
        }
    }
}

/// ReLU; NaN stays NaN and −0 becomes +0.
#[inline(always)]
fn relu(x: f32) -> f32 {
    // NaN fails the comparison and passes through.
    if x <= 0.0 { 0.0 } else { x }
}

/// Leaky ReLU with slope `alpha` below 0.
#[inline(always)]
fn leaky_relu(alpha: f32, x: f32) -> f32 {
    if x > 0.0 { x } else { alpha * x }
}

/// `kernel` at one point `x`, with parameter `p` (ignored by kernels without one).
pub fn eval(kernel: Kernel, p: f32, x: f32) -> f32 {
    match kernel {
        Kernel::Relu => relu(x),
        Kernel::LeakyRelu => leaky_relu(p, x),
        Kernel::Sigmoid => logistic::sigmoid(x),
        Kernel::Tanh => tanh::tanh(x),
        Kernel::Gelu => gelu::gelu(x),
        Kernel::GeluTanh => logistic::gelu_tanh(x),
        Kernel::Swish => logistic::swish(p, x),
    }
}

/// Runs `kernel` with parameter `p` over `input` into `output`, element by element; the
/// shorter of the two slices sets the count. Gives the same values as [`eval`].
pub fn apply(kernel: Kernel, p: f32, input: &[f32], output: &mut [f32]) {
    // One loop per kernel, so the choice is made once per call and not per element.
    match kernel {
        Kernel::Relu => map(input, output, relu),
        Kernel::LeakyRelu => map(input, output, |x| leaky_relu(p, x)),
        Kernel::Sigmoid => map(input, output, logistic::sigmoid),
        Kernel::Tanh => map(input, output, tanh::tanh),
        Kernel::Gelu => map(input, output, gelu::gelu),
        Kernel::GeluTanh => map(input, output, logistic::gelu_tanh),
        Kernel::Swish => map(input, output, |x| logistic::swish(p, x)),
    }
}

#[inline(always)]
fn map(input: &[f32], output: &mut [f32], f: impl Fn(f32) -> f32) {
    for (out, &x) in output.iter_mut().zip(input) {
        *out = f(x);
    }
}
