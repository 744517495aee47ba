//! Kernel-level tests: every method and instruction set against the definition, computed
//! here in f64 independently of the code under test.

use super::*;
use crate::kernels::activation::{Activation, GeluApproximation};
use crate::kernels::reference;

const GELU: Activation = Activation::Gelu {
    approximation: GeluApproximation::Erf,
};
const GELU_TANH: Activation = Activation::Gelu {
    approximation: GeluApproximation::Tanh,
};
const SILU: Activation = Activation::Swish { beta: 1.0 };

fn p(scale: f32, zero_point: i32) -> QuantParams {
    QuantParams { scale, zero_point }
}

/// The definition, written out again: round half away from zero, then saturate.
fn definition(
    act: Activation,
    input: QuantParams,
    output: QuantParams,
    dtype: QuantDType,
    q: i32,
) -> i32 {
    let x = f64::from(input.scale) * f64::from(q - input.zero_point);
    let v = reference::eval(act, x) / f64::from(output.scale);
    let rounded = v.signum() * (v.abs() + 0.5).floor();
    let (lo, hi) = match dtype {
        QuantDType::I8 => (-128.0, 127.0),
        QuantDType::U8 => (0.0, 255.0),
    };
    (rounded + f64::from(output.zero_point)).clamp(lo, hi) as i32
}

fn codes(dtype: QuantDType) -> std::ops::RangeInclusive<i32> {
    match dtype {
        QuantDType::I8 => -128..=127,
        QuantDType::U8 => 0..=255,
    }
}

/// Runs `kernel` on every code in one bulk call and returns (q_in, q_out) pairs.
fn run_all(kernel: &QuantizedKernel) -> Vec<(i32, i32)> {
    let dtype = kernel.dtype();
    let input: Vec<u8> = codes(dtype).map(|q| dtype.encode(q)).collect();
    let mut output = vec![0; input.len()];
    kernel
        .apply_bytes(&input, &mut output)
        .expect("same lengths");
    codes(dtype)
        .zip(output.iter().map(|&b| dtype.decode(b)))
        .collect()
}

/// Deterministic bytes (xorshift) for the bulk tests.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

fn kernels_on_every_isa(
    act: Activation,
    dtype: QuantDType,
    input: QuantParams,
    output: QuantParams,
    method: QuantMethod,
) -> Vec<QuantizedKernel> {
    let kernel =
        QuantizedKernel::with_method(act, dtype, input, output, method).expect("valid kernel");
    QuantIsa::available()
        .into_iter()
        .map(|isa| kernel.clone().on_isa(isa).expect("available"))
        .collect()
}

/// Parameter sets: defaults, zero points at the ends of the range, mismatched scales.
fn parameter_sets(act: Activation, dtype: QuantDType) -> Vec<(QuantParams, QuantParams)> {
    let (qmin, qmax) = (dtype.qmin(), dtype.qmax());
    let mid = (qmin + qmax + 1) / 2;
    vec![
        default_quant(act, dtype),
        (p(0.0625, qmin), p(0.03125, qmax)),
        (p(0.0625, qmax), p(0.01, qmin)),
        (p(0.1, mid), p(0.0078125, mid)),
        (p(0.02, mid + 7), p(0.05, mid - 9)),
        (p(0.25, mid), p(1.0 / 256.0, qmin)),
    ]
}

#[test]
fn reference_q_is_the_definition() {
    for dtype in QuantDType::ALL {
        for act in Activation::DEFAULT_SET {
            for (input, output) in parameter_sets(act, dtype) {
                for q in codes(dtype) {
                    assert_eq!(
                        reference_q(act, input, output, dtype, q),
                        definition(act, input, output, dtype, q),
                        "{act} {dtype} q={q}"
                    );
                }
            }
        }
    }
}

#[test]
fn table_kernels_are_exact_for_every_input_parameter_set_and_isa() {
    let extra = [
        Activation::Swish { beta: 1.702 },
        Activation::LeakyRelu { alpha: 1.5 },
        Activation::LeakyRelu { alpha: -0.3 },
        Activation::LeakyRelu { alpha: 0.0 },
    ];
    for dtype in QuantDType::ALL {
        for act in Activation::DEFAULT_SET.into_iter().chain(extra) {
            for (input, output) in parameter_sets(act, dtype) {
                for kernel in kernels_on_every_isa(act, dtype, input, output, QuantMethod::Table) {
                    for (q, out) in run_all(&kernel) {
                        let expected = definition(act, input, output, dtype, q);
                        assert_eq!(out, expected, "{act} {dtype} {} q={q}", kernel.isa());
                    }
                    assert_eq!(accuracy_q(&kernel).max_lsb, 0);
                }
            }
        }
    }
}

#[test]
fn relu_max_path_is_exact_at_every_zero_point() {
    for dtype in QuantDType::ALL {
        let mid = (dtype.qmin() + dtype.qmax() + 1) / 2;
        for zp in [dtype.qmin(), mid - 1, mid, dtype.qmax()] {
            let params = p(0.0625, zp);
            let kernel = QuantizedKernel::new(Activation::Relu, dtype, params, params).expect("ok");
            assert_eq!(kernel.method(), QuantMethod::Max);
            for kernel in
                kernels_on_every_isa(Activation::Relu, dtype, params, params, QuantMethod::Max)
            {
                for (q, out) in run_all(&kernel) {
                    assert_eq!(out, q.max(zp), "{dtype} zp={zp} {} q={q}", kernel.isa());
                    assert_eq!(out, definition(Activation::Relu, params, params, dtype, q));
                }
            }
        }
    }
}

#[test]
fn outputs_saturate_at_both_ends() {
    // Leaky ReLU alpha 4, scales 1 → 1, i8 zp 0: 100 → 100, −40 → −160 → −128; with output
    // scale 0.5, 100 → 200 → 127.
    let leaky = Activation::LeakyRelu { alpha: 4.0 };
    for method in [QuantMethod::Table, QuantMethod::FixedPoint] {
        for kernel in kernels_on_every_isa(leaky, QuantDType::I8, p(1.0, 0), p(0.5, 0), method) {
            assert_eq!(kernel.eval_code(100), 127);
            assert_eq!(kernel.eval_code(-40), -128);
            assert_eq!(kernel.eval_code(3), 6);
        }
        // u8, zp 128: code 0 is −128 → −512 → 0; code 255 is 127 → 127 + 128 = 255.
        for kernel in kernels_on_every_isa(leaky, QuantDType::U8, p(1.0, 128), p(1.0, 128), method)
        {
            assert_eq!(kernel.eval_code(0), 0);
            assert_eq!(kernel.eval_code(255), 255);
            assert_eq!(kernel.eval_code(120), 96);
        }
    }
    // Sigmoid into TFLite's output quantization saturates at the top: sigmoid(7.9375)·256
    // = 255.9 rounds to 256 → 128 > 127.
    let (input, output) = default_quant(Activation::Sigmoid, QuantDType::I8);
    let kernel =
        QuantizedKernel::new(Activation::Sigmoid, QuantDType::I8, input, output).expect("ok");
    assert_eq!(kernel.eval_code(127), 127);
    assert_eq!(kernel.eval_code(-128), -128);
}

/// The output for code `q` from one bulk call over all codes (the vector path).
fn bulk_output(kernel: &QuantizedKernel, q: i32) -> i32 {
    let all = run_all(kernel);
    all.iter()
        .find(|(q_in, _)| *q_in == q)
        .map_or(i32::MIN, |&(_, out)| out)
}

#[test]
fn exact_halves_round_away_from_zero() {
    // Leaky ReLU alpha 0.5, scales 1 → 1: −3 → −1.5 → −2, −1 → −0.5 → −1, −4 → −2.
    // ReLU input step 1, output step 2: 3 → 1.5 → 2, 5 → 2.5 → 3.
    let leaky = Activation::LeakyRelu { alpha: 0.5 };
    let leaky_cases = [(-3, -2), (-1, -1), (-4, -2), (-5, -3), (7, 7)];
    let relu_cases = [(3, 2), (5, 3), (1, 1), (-3, 0)];
    for dtype in QuantDType::ALL {
        let zp = if dtype == QuantDType::U8 { 128 } else { 0 };
        let same = (p(1.0, zp), p(1.0, zp));
        let halved = (p(1.0, zp), p(2.0, zp));
        for method in [QuantMethod::Table, QuantMethod::FixedPoint] {
            let cases = [
                (leaky, same, &leaky_cases[..]),
                (Activation::Relu, halved, &relu_cases),
            ];
            for (act, (input, output), expectations) in cases {
                for kernel in kernels_on_every_isa(act, dtype, input, output, method) {
                    for &(q, expected) in expectations {
                        let what = format!("{act} {method} {dtype} {} q={q}", kernel.isa());
                        assert_eq!(bulk_output(&kernel, q + zp), expected + zp, "{what}");
                        assert_eq!(
                            kernel.eval_code(q + zp),
                            expected + zp,
                            "one element: {what}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn fixed_point_is_exact_when_ratios_are_powers_of_two() {
    // Power-of-two multipliers are exact, so every tie is a true tie and must round away
    // from zero like the definition: 0 LSB over all inputs.
    let alphas = [0.0, 0.125, 0.5, 1.0, 2.0, -0.25, -4.0];
    let scale_pairs = [
        (1.0, 1.0),
        (1.0, 2.0),
        (0.0625, 0.25),
        (0.5, 0.125),
        (1.0, 8.0),
    ];
    for dtype in QuantDType::ALL {
        let zero_points = [dtype.qmin(), dtype.qmin() + 100, dtype.qmax()];
        for alpha in alphas {
            let act = Activation::LeakyRelu { alpha };
            for (s_in, s_out) in scale_pairs {
                for (&zp_in, &zp_out) in zero_points.iter().zip(zero_points.iter().rev()) {
                    let (input, output) = (p(s_in, zp_in), p(s_out, zp_out));
                    let method = QuantMethod::FixedPoint;
                    for kernel in kernels_on_every_isa(act, dtype, input, output, method) {
                        for (q, out) in run_all(&kernel) {
                            let expected = definition(act, input, output, dtype, q);
                            let what =
                                format!("{act} {dtype} {} {input:?} {output:?}", kernel.isa());
                            assert_eq!(out, expected, "{what} q={q}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn fixed_point_leaky_is_within_one_lsb_everywhere() {
    let alphas = [
        0.0, 0.01, 0.1, 0.2, 0.5, 0.999, 1.0, 1.5, 3.0, -0.25, -1.0, -2.5,
    ];
    let scales = [1.0 / 256.0, 0.01, 0.0625, 0.1, 0.3, 1.0, 3.7];
    let mut exact = 0usize;
    let mut total = 0usize;
    for dtype in QuantDType::ALL {
        let (qmin, qmax) = (dtype.qmin(), dtype.qmax());
        let zero_points = [qmin, qmin + 37, (qmin + qmax) / 2, qmax - 5, qmax];
        for alpha in alphas {
            let act = Activation::LeakyRelu { alpha };
            for (&s_in, &s_out) in scales
                .iter()
                .zip(scales.iter().rev())
                .chain(scales.iter().zip(&scales))
            {
                for (&zp_in, &zp_out) in zero_points.iter().zip(zero_points.iter().rev()) {
                    let (input, output) = (p(s_in, zp_in), p(s_out, zp_out));
                    for kernel in
                        kernels_on_every_isa(act, dtype, input, output, QuantMethod::FixedPoint)
                    {
                        for (q, out) in run_all(&kernel) {
                            let expected = definition(act, input, output, dtype, q);
                            let error = out.abs_diff(expected);
                            assert!(
                                error <= 1,
                                "{act} {dtype} {input:?} {output:?} q={q}: {out} vs {expected}"
                            );
                            exact += usize::from(error == 0);
                            total += 1;
                        }
                    }
                }
            }
        }
    }
    // The bound is 1 LSB, but off-by-one only happens within 0.016 of a tie: rare.
    assert!(exact * 100 >= total * 99, "{exact} of {total} exact");
}

/// The bytes a kernel must give for `data`, element by element: the definition for the
/// exact methods; for `fixed_point` (not exact) the scalar kernel on the whole buffer.
fn expected_bytes(kernel: &QuantizedKernel, data: &[u8]) -> Vec<u8> {
    let dtype = kernel.dtype();
    if kernel.method() == QuantMethod::FixedPoint {
        let scalar = kernel
            .clone()
            .on_isa(QuantIsa::Scalar)
            .expect("scalar runs anywhere");
        let mut out = vec![0; data.len()];
        scalar.apply_bytes(data, &mut out).expect("same lengths");
        return out;
    }
    let (act, input, output) = (kernel.activation(), kernel.input(), kernel.output());
    data.iter()
        .map(|&b| dtype.encode(definition(act, input, output, dtype, dtype.decode(b))))
        .collect()
}

/// Applies `kernel` out of place (between guard bytes) and in place; both must give `want`.
fn check_slice(kernel: &QuantizedKernel, src: &[u8], want: &[u8]) {
    let len = src.len();
    let what = format!(
        "{} {} {} len {len}",
        kernel.activation(),
        kernel.dtype(),
        kernel.isa()
    );
    let mut out = vec![0xA5; len + 2];
    kernel
        .apply_bytes(src, &mut out[1..=len])
        .expect("same lengths");
    assert_eq!(
        (out[0], out[len + 1]),
        (0xA5, 0xA5),
        "wrote outside the slice: {what}"
    );
    assert_eq!(&out[1..=len], want, "{what}");

    let mut in_place = src.to_vec();
    match kernel.dtype() {
        QuantDType::I8 => {
            let mut typed: Vec<i8> = in_place.iter().map(|b| b.cast_signed()).collect();
            kernel.apply_in_place(&mut typed).expect("i8 kernel");
            in_place = typed.iter().map(|b| b.cast_unsigned()).collect();
        }
        QuantDType::U8 => kernel.apply_in_place(&mut in_place).expect("u8 kernel"),
    }
    assert_eq!(in_place, want, "in place: {what}");
}

#[test]
fn results_do_not_depend_on_length_alignment_or_isa() {
    let cases = [
        (Activation::Sigmoid, QuantMethod::Table),
        (GELU, QuantMethod::Table),
        (Activation::Relu, QuantMethod::Max),
        (
            Activation::LeakyRelu { alpha: 0.2 },
            QuantMethod::FixedPoint,
        ),
    ];
    let lengths = [
        1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000,
    ];
    let data = bytes(1000 + 3, 7);
    for dtype in QuantDType::ALL {
        for (act, method) in cases {
            let (input, output) = default_quant(act, dtype);
            for kernel in kernels_on_every_isa(act, dtype, input, output, method) {
                let expected = expected_bytes(&kernel, &data);
                for len in lengths {
                    for offset in 0..3 {
                        let range = offset..offset + len;
                        check_slice(&kernel, &data[range.clone()], &expected[range]);
                    }
                }
            }
        }
    }
}

#[test]
fn every_isa_gives_the_scalar_bytes() {
    let data = bytes(4099, 11);
    let acts = [
        Activation::Relu,
        Activation::LeakyRelu { alpha: -0.7 },
        Activation::Tanh,
        GELU_TANH,
        SILU,
    ];
    for dtype in QuantDType::ALL {
        for act in acts {
            for method in QuantMethod::ALL {
                let (input, output) = match method {
                    QuantMethod::Max => default_quant(Activation::Relu, dtype),
                    _ => (p(0.05, dtype.qmin() + 100), p(0.03, dtype.qmax() - 120)),
                };
                let Ok(kernel) = QuantizedKernel::with_method(act, dtype, input, output, method)
                else {
                    continue;
                };
                let scalar = kernel
                    .clone()
                    .on_isa(QuantIsa::Scalar)
                    .expect("scalar runs anywhere");
                let mut want = vec![0; data.len()];
                scalar.apply_bytes(&data, &mut want).expect("same lengths");
                for isa in QuantIsa::available() {
                    let mut got = vec![0; data.len()];
                    kernel
                        .clone()
                        .on_isa(isa)
                        .expect("available")
                        .apply_bytes(&data, &mut got)
                        .expect("same");
                    assert_eq!(got, want, "{act} {dtype} {method} {isa}");
                }
            }
        }
    }
}

#[test]
fn bad_requests_are_refused_with_clear_messages() {
    let good = p(0.0625, 0);
    let err = QuantizedKernel::new(Activation::Sigmoid, QuantDType::I8, p(0.0, 0), good)
        .expect_err("scale 0");
    assert_eq!(
        err.to_string(),
        "input scale 0 is not a finite number greater than 0"
    );
    let err = QuantizedKernel::new(Activation::Sigmoid, QuantDType::U8, p(0.0625, -1), good)
        .expect_err("u8 zero point below 0");
    assert_eq!(
        err.to_string(),
        "input zero point -1 is outside the u8 range 0..=255"
    );
    let err = QuantizedKernel::new(Activation::Tanh, QuantDType::I8, good, p(f32::NAN, 0))
        .expect_err("NaN");
    assert_eq!(
        err.to_string(),
        "output scale NaN is not a finite number greater than 0"
    );
    let err =
        QuantizedKernel::new(Activation::Tanh, QuantDType::I8, good, p(0.1, 200)).expect_err("zp");
    assert_eq!(
        err.to_string(),
        "output zero point 200 is outside the i8 range -128..=127"
    );

    let err = QuantizedKernel::with_method(
        Activation::Tanh,
        QuantDType::I8,
        good,
        good,
        QuantMethod::FixedPoint,
    )
    .expect_err("not leaky");
    assert!(
        err.to_string()
            .contains("fixed_point method does not apply to tanh"),
        "{err}"
    );
    let err = QuantizedKernel::with_method(
        Activation::Relu,
        QuantDType::I8,
        good,
        p(0.5, 0),
        QuantMethod::Max,
    )
    .expect_err("scales differ");
    assert!(
        err.to_string().contains("identical input and output"),
        "{err}"
    );

    let nan_alpha = Activation::LeakyRelu { alpha: f32::NAN };
    let err = QuantizedKernel::new(nan_alpha, QuantDType::I8, good, good).expect_err("NaN alpha");
    assert_eq!(
        err.to_string(),
        "activation leaky_relu:alpha=NaN has a parameter that is not a finite number"
    );

    let kernel = QuantizedKernel::new(Activation::Relu, QuantDType::I8, good, good).expect("valid");
    let err = kernel
        .apply(&[1u8, 2], &mut [0u8, 0])
        .expect_err("u8 data, i8 kernel");
    assert_eq!(
        err.to_string(),
        "the kernel was built for i8 but was given u8 data"
    );
    let err = kernel.apply(&[1i8, 2], &mut [0i8]).expect_err("lengths");
    assert_eq!(err.to_string(), "input has 2 elements but output has 1");
    let mut typed = [-3i8, 5];
    kernel.apply_in_place(&mut typed).expect("i8 data");
    assert_eq!(typed, [0, 5]);
}
