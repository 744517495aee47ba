//! The exact quantized reference: the definition evaluated in f64, and the tables built
//! from it.

use super::dtype::QuantDType;
use super::params::QuantParams;
use crate::kernels::activation::Activation;
use crate::kernels::reference;

/// Input step of the default quantization: 1/16, so 256 codes cover [−8, 8).
pub const DEFAULT_INPUT_SCALE: f32 = 1.0 / 16.0;

/// Output step of the default sigmoid quantization (TFLite's fixed choice): 1/256 on [0, 1).
pub const SIGMOID_OUTPUT_SCALE: f32 = 1.0 / 256.0;

/// Output step of the default tanh quantization (TFLite's choice): 1/128 on [−1, 1).
pub const TANH_OUTPUT_SCALE: f32 = 1.0 / 128.0;

/// Output step of the default GELU and Swish quantization: 1/30, so that 255 steps span
/// [−0.5, 8] (the functions' minima, −0.17 for GELU and −0.28 for SiLU, down to the top of
/// the default input range).
pub const GATED_OUTPUT_SCALE: f32 = 1.0 / 30.0;

/// The output code of the definition
/// `clamp(round(f(scale_in·(q_in − zp_in)) / scale_out) + zp_out, qmin, qmax)`, with `f` the
/// f64 reference ([`reference::eval`]) and `round` half away from zero (as TFLite's
/// `std::round` when it fills its tables).
///
/// The parameters are assumed valid ([`QuantParams::validate`]); kernels check them when
/// they are built.
pub fn reference_q(
    activation: Activation,
    input: QuantParams,
    output: QuantParams,
    dtype: QuantDType,
    q_in: i32,
) -> i32 {
    let y = reference::eval(activation, input.dequantize(q_in));
    let steps = (y / f64::from(output.scale)).round();
    let code = steps + f64::from(output.zero_point);
    // The clamp in f64 also saturates infinities; the cast is then exact.
    code.clamp(f64::from(dtype.qmin()), f64::from(dtype.qmax())) as i32
}

/// The 256-entry table of [`reference_q`], indexed by the input byte and holding the output
/// byte (both stored as `dtype` stores codes).
pub fn build_table(
    activation: Activation,
    input: QuantParams,
    output: QuantParams,
    dtype: QuantDType,
) -> [u8; 256] {
    let mut table = [0; 256];
    for (byte, entry) in (0..=u8::MAX).zip(table.iter_mut()) {
        *entry = dtype.encode(reference_q(
            activation,
            input,
            output,
            dtype,
            dtype.decode(byte),
        ));
    }
    table
}

/// The quantization benchmarks use when none is given: `(input, output)`.
///
/// Input: scale 1/16 covering [−8, 8) (i8 zero point 0, u8 zero point 128). Output:
/// - ReLU and Leaky ReLU: the input's parameters, so ReLU runs as `max(q, zp)`; a Leaky ReLU
///   with |alpha| > 1 saturates on the negative side (the accuracy report shows it);
/// - sigmoid: scale 1/256 on [0, 1), zero point −128 (i8, TFLite's fixed choice) or 0 (u8);
/// - tanh: scale 1/128 on [−1, 1), zero point 0 (i8) or 128 (u8);
/// - GELU (both forms) and Swish: scale 1/30 on [−0.5, 8], zero point −113 (i8) or 15 (u8).
///   Swish with beta below about 0.56 dips under −0.5 and saturates there.
pub fn default_quant(activation: Activation, dtype: QuantDType) -> (QuantParams, QuantParams) {
    let centred = |scale: f32, span_below_zero: i32| QuantParams {
        scale,
        zero_point: dtype.qmin() + span_below_zero,
    };
    let input = centred(DEFAULT_INPUT_SCALE, 128);
    let output = match activation {
        Activation::Relu | Activation::LeakyRelu { .. } => input,
        Activation::Sigmoid => centred(SIGMOID_OUTPUT_SCALE, 0),
        Activation::Tanh => centred(TANH_OUTPUT_SCALE, 128),
        Activation::Gelu { .. } | Activation::Swish { .. } => centred(GATED_OUTPUT_SCALE, 15),
    };
    (input, output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::activation::GeluApproximation;

    fn p(scale: f32, zero_point: i32) -> QuantParams {
        QuantParams { scale, zero_point }
    }

    #[test]
    fn default_quant_is_the_documented_one() {
        let sig_i8 = default_quant(Activation::Sigmoid, QuantDType::I8);
        assert_eq!(sig_i8, (p(0.0625, 0), p(0.00390625, -128)));
        let sig_u8 = default_quant(Activation::Sigmoid, QuantDType::U8);
        assert_eq!(sig_u8, (p(0.0625, 128), p(0.00390625, 0)));
        assert_eq!(
            default_quant(Activation::Tanh, QuantDType::I8).1,
            p(0.0078125, 0)
        );
        assert_eq!(
            default_quant(Activation::Tanh, QuantDType::U8).1,
            p(0.0078125, 128)
        );
        assert_eq!(
            default_quant(Activation::Relu, QuantDType::U8).1,
            p(0.0625, 128)
        );
        let gelu = Activation::Gelu {
            approximation: GeluApproximation::Erf,
        };
        let (_, out) = default_quant(gelu, QuantDType::I8);
        assert_eq!(out.zero_point, -113);
        // The output range is [−0.5, 8] as documented (up to the f32 rounding of 1/30).
        assert!((out.dequantize(-128) + 0.5).abs() < 1e-6);
        assert!((out.dequantize(127) - 8.0).abs() < 1e-6);
        let (_, out) = default_quant(gelu, QuantDType::U8);
        assert!((out.dequantize(0) + 0.5).abs() < 1e-6);
        assert!((out.dequantize(255) - 8.0).abs() < 1e-6);
    }

    #[test]
    fn reference_rounds_half_away_from_zero() {
        // Leaky ReLU alpha 0.5, scales 1 → 1: q = -3 gives −1.5, which rounds to −2; the
        // identity on +3 with output scale 2 gives 1.5 → 2.
        let leaky = Activation::LeakyRelu { alpha: 0.5 };
        assert_eq!(
            reference_q(leaky, p(1.0, 0), p(1.0, 0), QuantDType::I8, -3),
            -2
        );
        assert_eq!(
            reference_q(leaky, p(1.0, 0), p(2.0, 0), QuantDType::I8, 3),
            2
        );
        assert_eq!(
            reference_q(leaky, p(1.0, 0), p(2.0, 0), QuantDType::I8, -5),
            -1
        );
    }

    #[test]
    fn reference_saturates_at_both_ends() {
        let relu = Activation::Relu;
        assert_eq!(
            reference_q(relu, p(1.0, 0), p(0.25, 0), QuantDType::I8, 100),
            127
        );
        let leaky = Activation::LeakyRelu { alpha: 2.0 };
        assert_eq!(
            reference_q(leaky, p(1.0, 0), p(1.0, 0), QuantDType::I8, -100),
            -128
        );
        assert_eq!(
            reference_q(leaky, p(1.0, 128), p(1.0, 128), QuantDType::U8, 0),
            0
        );
        assert_eq!(
            reference_q(relu, p(1.0, 0), p(1.0, 0), QuantDType::U8, 255),
            255
        );
    }

    #[test]
    fn sigmoid_table_holds_the_rounded_probabilities() {
        let (input, output) = default_quant(Activation::Sigmoid, QuantDType::I8);
        let table = build_table(Activation::Sigmoid, input, output, QuantDType::I8);
        // Byte 0 is code 0, real 0: sigmoid 0.5 is 128 steps of 1/256 → code 0.
        assert_eq!(table[0], 0);
        // Code 16 is real 1: sigmoid(1) = 0.7310585786 → 187.15 steps → 187 − 128 = 59.
        assert_eq!(table[16], 59);
        // Code −128 is real −8: sigmoid = 3.35e-4 → 0.086 steps → 0 − 128 (byte 0x80).
        assert_eq!(table[0x80], 0x80);
        // Code 127 is real 7.9375: 0.99964 → 255.9 steps → 256 saturates at 127.
        assert_eq!(table[127], 127);
    }
}
