//! What a board should have computed for a cell, worked out on the host, and the errors
//! of what it computed.
//!
//! The board fills its input from the protocol's generator and sends back a checksum of
//! its output ([`actprof_fw_core::checksum`]). The host regenerates the same input and
//! computes the output two ways, depending on the dtype:
//! - i8/u8: actprof's exact quantized reference table ([`reference::build_table`]), so a
//!   matching checksum means every code equals the definition (0 LSB);
//! - f32: the firmware's own portable kernels, compiled into actprof. A matching checksum
//!   means the board ran them correctly; their error against actprof's f64 reference is
//!   then measured on the cell's inputs.

use actprof_fw_core::kernels::{self as fw, Kernel};
use actprof_fw_core::quant::{QDType, Quant};
use actprof_fw_core::{checksum, r#gen};

use super::protocol::RunDType;
use crate::harness::CellSpec;
use crate::harness::quantized;
use crate::kernels::int8::{QuantDType, QuantError, build_table};
use crate::kernels::ulp::{abs_error, ulp_error};
use crate::kernels::{Activation, reference};

/// The firmware kernel and parameter of an activation.
pub fn firmware_kernel(activation: Activation) -> (Kernel, f32) {
    match activation {
        Activation::Relu => (Kernel::Relu, 0.0),
        Activation::LeakyRelu { alpha } => (Kernel::LeakyRelu, alpha),
        Activation::Sigmoid => (Kernel::Sigmoid, 0.0),
        Activation::Tanh => (Kernel::Tanh, 0.0),
        Activation::Gelu { approximation } => match approximation {
            crate::kernels::GeluApproximation::Erf => (Kernel::Gelu, 0.0),
            crate::kernels::GeluApproximation::Tanh => (Kernel::GeluTanh, 0.0),
        },
        Activation::Swish { beta } => (Kernel::Swish, beta),
    }
}

/// The protocol's dtype of a cell (with the cell's quantization for i8/u8).
pub fn run_dtype(spec: &CellSpec) -> Option<RunDType> {
    let Some(dtype) = spec.dtype.quantized() else {
        return Some(RunDType::F32);
    };
    let quant = spec.quant?;
    let dtype = match dtype {
        QuantDType::I8 => QDType::I8,
        QuantDType::U8 => QDType::U8,
    };
    Some(RunDType::Quantized(
        dtype,
        Quant {
            in_scale: quant.input.scale,
            in_zp: quant.input.zero_point,
            out_scale: quant.output.scale,
            out_zp: quant.output.zero_point,
        },
    ))
}

/// The expected checksum of a cell and the errors of the output it stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expected {
    /// Checksum of the output the board must produce.
    pub checksum: u32,
    /// Max error in f32 ULP (i8/u8: end to end over all 256 codes, as local rows).
    pub max_ulp_error: f64,
    /// Max absolute error, in the activation's units.
    pub max_abs_error: f64,
    /// i8/u8: distance from the quantized definition, in LSB (0: the output is the
    /// reference's). `None` for f32.
    pub max_lsb_error: Option<u32>,
}

/// Works out what the board must compute for `spec` from `seed`.
pub fn expected(spec: &CellSpec, seed: u32) -> Result<Expected, QuantError> {
    let (kernel, param) = firmware_kernel(spec.activation);
    if let Some(kernel_q) = quantized::kernel_of(spec) {
        let kernel_q = kernel_q?;
        let mut input = vec![0u8; spec.elements];
        r#gen::fill_bytes(seed, &mut input);
        let table = build_table(
            spec.activation,
            kernel_q.input(),
            kernel_q.output(),
            kernel_q.dtype(),
        );
        let output: Vec<u8> = input.iter().map(|&b| table[usize::from(b)]).collect();
        let errors = quantized::errors(&kernel_q);
        return Ok(Expected {
            checksum: checksum::fnv1a32(&output),
            max_ulp_error: errors.max_ulp,
            max_abs_error: errors.max_abs,
            max_lsb_error: Some(0),
        });
    }
    let mut input = vec![0f32; spec.elements];
    r#gen::fill_f32(seed, &mut input);
    let mut output = vec![0f32; spec.elements];
    fw::apply(kernel, param, &input, &mut output);
    let (mut max_ulp, mut max_abs) = (0f64, 0f64);
    for (&x, &y) in input.iter().zip(&output) {
        let exact = reference::eval(spec.activation, f64::from(x));
        max_ulp = max_ulp.max(ulp_error(y, exact));
        max_abs = max_abs.max(abs_error(y, exact));
    }
    Ok(Expected {
        checksum: checksum::of_f32(&output),
        max_ulp_error: max_ulp,
        max_abs_error: max_abs,
        max_lsb_error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::int8::DType;

    #[test]
    fn every_activation_maps_to_the_firmware_kernel_of_its_name() {
        for activation in Activation::DEFAULT_SET {
            let (kernel, _) = firmware_kernel(activation);
            let name = activation.name();
            let want = if name == "silu" { "swish" } else { name };
            assert_eq!(kernel.name(), want);
        }
    }

    #[test]
    fn an_f32_checksum_is_that_of_the_firmware_kernels_output() {
        // Built by hand from the definitions: generator values, ReLU, FNV-1a.
        let spec = CellSpec::f32(Activation::Relu, 3, 1);
        let mut state = 5u32;
        let mut bytes = Vec::new();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let x = (state >> 8) as f32 * (1.0 / 1_048_576.0) - 8.0;
            bytes.extend_from_slice(&x.max(0.0).to_le_bytes());
        }
        let mut hash = 0x811c_9dc5u32;
        for b in bytes {
            hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        let got = expected(&spec, 5).expect("f32 cell");
        assert_eq!(got.checksum, hash);
        assert_eq!((got.max_ulp_error, got.max_lsb_error), (0.0, None));
    }

    #[test]
    fn an_int8_cell_expects_the_reference_table() {
        let spec = CellSpec::new(Activation::Sigmoid, DType::I8, 300, 1);
        let got = expected(&spec, 11).expect("i8 cell");
        assert_eq!(got.max_lsb_error, Some(0));
        // Half a step of rounding, except at the top: code 127 stands for 255/256, below
        // sigmoid(127/16) = 0.99964, so the error there is 0.00355, under one step.
        assert!(got.max_abs_error > 0.5 / 256.0, "{got:?}");
        assert!(got.max_abs_error < 1.0 / 256.0, "{got:?}");
    }
}
