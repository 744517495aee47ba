//! What an i8/u8 cell needs beyond an f32 one: its kernel, its input codes and its errors.
//!
//! Input codes are uniform over all 256 codes of the dtype (a `ChaCha8Rng` seeded with the
//! plan's seed), so every table entry and both sides of a zero point are exercised.
//!
//! The errors of an int8 cell are exhaustive (256 inputs) and end to end:
//! - `max_lsb_error`: the kernel against the quantized definition, in output codes;
//! - `max_abs_error`: `|dequant(q_out) − f(dequant(q_in))|`, the real-units cost of
//!   quantizing, in the activation's units;
//! - `max_ulp_error`: the same real error divided by the f32 ULP at the exact value, so the
//!   column reads on the scale of the f32 rows (and shows how much coarser 8 bits are).

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::plan::CellSpec;
use crate::kernels::int8::{QuantError, QuantizedKernel, accuracy_q};
use crate::kernels::reference;
use crate::kernels::ulp::ulp_error;

/// The errors of a quantized kernel, as a cell reports them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantCellErrors {
    /// Max distance from the quantized definition, in output codes (LSB).
    pub max_lsb: u32,
    /// Max end-to-end real error, in f32 ULPs at the exact value.
    pub max_ulp: f64,
    /// Max end-to-end real error, in the activation's units.
    pub max_abs: f64,
}

/// The quantized kernel of an i8/u8 cell; `None` for an f32 cell.
pub fn kernel_of(spec: &CellSpec) -> Option<Result<QuantizedKernel, QuantError>> {
    let dtype = spec.dtype.quantized()?;
    let quant = spec.quant?;
    Some(QuantizedKernel::new(
        spec.activation,
        dtype,
        quant.input,
        quant.output,
    ))
}

/// `elements` input bytes, uniform over all 256 codes, reproducible from `seed`.
pub fn input_codes(elements: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..elements).map(|_| rng.random::<u8>()).collect()
}

/// The kernel's errors over all 256 input codes (see the module doc).
pub fn errors(kernel: &QuantizedKernel) -> QuantCellErrors {
    let accuracy = accuracy_q(kernel);
    let dtype = kernel.dtype();
    let (input, output) = (kernel.input(), kernel.output());
    let max_ulp = (dtype.qmin()..=dtype.qmax())
        .map(|q_in| {
            let exact = reference::eval(kernel.activation(), input.dequantize(q_in));
            let got = output.dequantize(kernel.eval_code(q_in)) as f32;
            ulp_error(got, exact)
        })
        .fold(0.0, f64::max);
    QuantCellErrors {
        max_lsb: accuracy.max_lsb,
        max_ulp,
        max_abs: accuracy.max_abs_real_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Activation;
    use crate::kernels::int8::DType;

    #[test]
    fn codes_are_reproducible_and_cover_the_byte_range() {
        let codes = input_codes(100_000, 3);
        assert_eq!(codes, input_codes(100_000, 3));
        assert_ne!(codes, input_codes(100_000, 4));
        let mut seen = [0u32; 256];
        for &byte in &codes {
            seen[usize::from(byte)] += 1;
        }
        // Uniform: each of the 256 codes about 390 times.
        assert!(seen.iter().all(|&n| (250..550).contains(&n)), "{seen:?}");
    }

    #[test]
    fn f32_cells_have_no_kernel_and_relu_with_shared_params_is_exact() {
        assert!(kernel_of(&CellSpec::f32(Activation::Relu, 8, 1)).is_none());
        let spec = CellSpec::new(Activation::Relu, DType::I8, 8, 1);
        let kernel = kernel_of(&spec)
            .expect("i8 cell")
            .expect("valid default quant");
        // Same input and output mapping: every output is a representable input value.
        let errors = errors(&kernel);
        assert_eq!(
            (errors.max_lsb, errors.max_ulp, errors.max_abs),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn sigmoid_costs_at_least_half_an_output_step() {
        let spec = CellSpec::new(Activation::Sigmoid, DType::U8, 8, 1);
        let kernel = kernel_of(&spec)
            .expect("u8 cell")
            .expect("valid default quant");
        let errors = errors(&kernel);
        assert_eq!(errors.max_lsb, 0);
        // Output step 1/256 from 0: the largest code 255 stands for 255/256, so the worst
        // input is the largest, 127/16, where sigmoid exceeds it by more than half a step.
        let top = 1.0 / (1.0 + (-127.0_f64 / 16.0).exp());
        assert!(
            (errors.max_abs - (top - 255.0 / 256.0)).abs() < 1e-9,
            "{errors:?}"
        );
        // Inputs below −5.5 have sigmoid < 1/512 and round to code 0: a relative error of 1,
        // which is between 2^23 and 2^24 f32 ULPs at the exact value.
        assert!(
            (2.0_f64.powi(23)..2.0_f64.powi(24)).contains(&errors.max_ulp),
            "{errors:?}"
        );
    }
}
