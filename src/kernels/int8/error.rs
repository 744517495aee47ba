//! Why a quantized kernel, its parameters or its data were refused.

use super::dtype::{DType, QuantDType};
use super::isa::QuantIsa;

/// Which side of a kernel a quantization parameter belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The input tensor's parameters (`in_scale`, `in_zp`).
    Input,
    /// The output tensor's parameters (`out_scale`, `out_zp`).
    Output,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Input => "input",
            Side::Output => "output",
        })
    }
}

/// Every way the int8 module refuses a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantError {
    #[error("unknown dtype `{0}` (expected f32, i8 or u8)")]
    UnknownDType(String),
    #[error("{0} has no scale or zero point; quantized kernels take i8 or u8")]
    NotQuantized(DType),
    #[error("{side} scale {scale} is not a finite number greater than 0")]
    BadScale { side: Side, scale: f32 },
    #[error(
        "{side} zero point {zero_point} is outside the {dtype} range {}..={}",
        dtype.qmin(),
        dtype.qmax()
    )]
    ZeroPointOutOfRange {
        side: Side,
        zero_point: i32,
        dtype: QuantDType,
    },
    #[error(
        "bad quantization entry `{0}` (expected key=value, e.g. in_scale=0.0625;in_zp=0;\
         out_scale=0.0625;out_zp=0)"
    )]
    BadEntry(String),
    #[error("unknown quantization key `{0}` (expected in_scale, in_zp, out_scale or out_zp)")]
    UnknownKey(String),
    #[error("quantization key `{0}` is given twice")]
    DuplicateKey(String),
    #[error("quantization key `{0}` is missing")]
    MissingKey(&'static str),
    #[error("quantization key `{key}` has bad value `{value}` (expected {expected})")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("activation {0} has a parameter that is not a finite number")]
    NonFiniteParameter(String),
    #[error("unknown quantized method `{0}` (expected max, table or fixed_point)")]
    UnknownMethod(String),
    #[error("the {method} method does not apply to {activation}: {reason}")]
    MethodNotApplicable {
        method: &'static str,
        activation: String,
        reason: &'static str,
    },
    #[error("unknown instruction set `{0}` (expected scalar, avx2 or avx512vbmi)")]
    UnknownIsa(String),
    #[error("instruction set {0} is not available on this CPU")]
    IsaUnavailable(QuantIsa),
    #[error("input has {input} elements but output has {output}")]
    LengthMismatch { input: usize, output: usize },
    #[error("the kernel was built for {kernel} but was given {data} data")]
    DTypeMismatch {
        kernel: QuantDType,
        data: QuantDType,
    },
}
