//! Exhaustive accuracy of a quantized kernel: all 256 input codes.
//!
//! Two errors are measured. Against the quantized definition ([`reference_q`]) the error is
//! counted in output codes (LSB): it says whether the kernel computes what it claims. Against
//! the real function, `|dequant(q_out) − f(dequant(q_in))|` in the activation's own units
//! (f in f64), it says what quantization itself costs: at best half an output step inside
//! the output range, more where the output saturates.

use super::kernel::QuantizedKernel;
use super::reference::reference_q;
use crate::kernels::reference;

/// The accuracy of a quantized kernel over every input code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantAccuracy {
    /// Largest `|q_out − reference_q|` over all inputs, in output codes (LSB).
    pub max_lsb: u32,
    /// The smallest input code reaching `max_lsb`.
    pub worst_q_in: i32,
    /// Mean over all inputs of `|dequant(q_out) − f(dequant(q_in))|`, in output units.
    pub mean_abs_real_error: f64,
    /// Largest `|dequant(q_out) − f(dequant(q_in))|`, in output units.
    pub max_abs_real_error: f64,
}

/// Runs `kernel` on all 256 input codes (one bulk call on its instruction set) and compares
/// each output with the definition and with the real function.
pub fn accuracy_q(kernel: &QuantizedKernel) -> QuantAccuracy {
    let dtype = kernel.dtype();
    let (input, output) = (kernel.input(), kernel.output());
    let codes: Vec<i32> = (dtype.qmin()..=dtype.qmax()).collect();
    let bytes: Vec<u8> = codes.iter().map(|&q| dtype.encode(q)).collect();
    let mut out = vec![0; bytes.len()];
    kernel
        .apply_bytes(&bytes, &mut out)
        .expect("input and output have the same length");

    let mut accuracy = QuantAccuracy {
        max_lsb: 0,
        worst_q_in: dtype.qmin(),
        mean_abs_real_error: 0.0,
        max_abs_real_error: 0.0,
    };
    let mut sum_real_error = 0.0;
    for (&q_in, &byte_out) in codes.iter().zip(&out) {
        let q_out = dtype.decode(byte_out);
        let expected = reference_q(kernel.activation(), input, output, dtype, q_in);
        let lsb = q_out.abs_diff(expected);
        if lsb > accuracy.max_lsb {
            accuracy.max_lsb = lsb;
            accuracy.worst_q_in = q_in;
        }
        let exact = reference::eval(kernel.activation(), input.dequantize(q_in));
        let real_error = (output.dequantize(q_out) - exact).abs();
        sum_real_error += real_error;
        accuracy.max_abs_real_error = accuracy.max_abs_real_error.max(real_error);
    }
    accuracy.mean_abs_real_error = sum_real_error / codes.len() as f64;
    accuracy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::activation::Activation;
    use crate::kernels::int8::{QuantDType, QuantMethod, QuantParams};

    #[test]
    fn identity_relu_costs_nothing_and_half_steps_cost_half_a_step() {
        let p = QuantParams {
            scale: 0.5,
            zero_point: 0,
        };
        let relu = QuantizedKernel::new(Activation::Relu, QuantDType::I8, p, p).expect("valid");
        let acc = accuracy_q(&relu);
        assert_eq!(
            (acc.max_lsb, acc.max_abs_real_error, acc.mean_abs_real_error),
            (0, 0.0, 0.0)
        );

        // Output step 1 for input step 0.5: odd positive codes land on k + 0.5 and round
        // away by exactly half a step (0.5 real); 64 of the 256 inputs (1, 3, …, 127).
        let out = QuantParams {
            scale: 1.0,
            zero_point: 0,
        };
        let kernel = QuantizedKernel::with_method(
            Activation::Relu,
            QuantDType::I8,
            p,
            out,
            QuantMethod::Table,
        )
        .expect("valid");
        let acc = accuracy_q(&kernel);
        assert_eq!(acc.max_lsb, 0);
        assert_eq!(acc.max_abs_real_error, 0.5);
        assert_eq!(acc.mean_abs_real_error, 64.0 * 0.5 / 256.0);
    }

    #[test]
    fn saturation_shows_in_the_real_error() {
        // Leaky ReLU alpha 2 with equal parameters: −128 maps to −256, saturating at −128,
        // so the real error at the bottom is 128 steps of 1.0.
        let p = QuantParams {
            scale: 1.0,
            zero_point: 0,
        };
        let leaky = Activation::LeakyRelu { alpha: 2.0 };
        let kernel = QuantizedKernel::new(leaky, QuantDType::I8, p, p).expect("valid");
        let acc = accuracy_q(&kernel);
        assert_eq!(acc.max_lsb, 0);
        assert_eq!(acc.max_abs_real_error, 128.0);
    }
}
