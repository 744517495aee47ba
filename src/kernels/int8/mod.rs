//! Quantized (int8 / uint8) activation kernels.
//!
//! # Semantics
//!
//! A quantized tensor stores codes `q` of dtype `i8` (−128..=127) or `u8` (0..=255) that
//! stand for the real values `scale · (q − zero_point)` ([`QuantParams`]; the scale is a
//! finite f32 > 0, the zero point a code of the dtype). A kernel has parameters for its input
//! and for its output, and its exact result is
//!
//! ```text
//! q_out = clamp(round(f(scale_in · (q_in − zp_in)) / scale_out) + zp_out, qmin, qmax)
//! ```
//!
//! with `f` the f64 reference ([`crate::kernels::reference::eval`]), `round` half away from
//! zero (the `std::round` TFLite uses to fill its tables) and saturation at both ends
//! (`qmin`/`qmax` = −128/127 for i8, 0/255 for u8). [`reference_q`] computes it in f64.
//!
//! # Kernels
//!
//! [`QuantizedKernel`] is built once per activation, dtype and parameter pair and then
//! applied to any number of tensors ([`QuantizedKernel::apply`], `apply_in_place`,
//! `apply_bytes`). Its [`QuantMethod`] is one of:
//! - `table` (the default): a 256-entry table of the definition, looked up with AVX-512 VBMI
//!   `vpermt2b`, AVX2 `vpshufb` or scalar code ([`QuantIsa`]); exact (0 LSB);
//! - `max`: ReLU with identical input and output parameters, `max(q, zp)`; exact;
//! - `fixed_point`: Leaky ReLU (and ReLU) by two integer multipliers chosen by the sign of
//!   `q − zp_in`, as TFLite and XNNPACK do; at most 1 LSB from the definition.
//!
//! Every instruction set gives the same bytes as the scalar code, for any length and
//! alignment. [`accuracy_q`] measures a kernel over all 256 inputs, and [`default_quant`]
//! gives the documented parameters benchmarks use. Reports write the parameters as
//! `in_scale=0.0625;in_zp=0;out_scale=0.00390625;out_zp=-128` ([`format_quant`],
//! [`parse_quant`]).

mod accuracy;
mod dtype;
mod error;
mod fixed_point;
mod isa;
mod kernel;
mod lut;
mod params;
mod reference;
mod relu;

#[cfg(test)]
mod tests;

pub use accuracy::{QuantAccuracy, accuracy_q};
pub use dtype::{DType, QuantDType, QuantElement};
pub use error::{QuantError, Side};
pub use isa::QuantIsa;
pub use kernel::{QuantMethod, QuantizedKernel};
pub use params::{QuantParams, format_quant, parse_quant};
pub use reference::{
    DEFAULT_INPUT_SCALE, GATED_OUTPUT_SCALE, SIGMOID_OUTPUT_SCALE, TANH_OUTPUT_SCALE, build_table,
    default_quant, reference_q,
};
