//! Accuracy of the f32 kernels against an f64 reference (`libm`), and their special values.
//!
//! The reference forms are actprof's own (`src/kernels/reference.rs`): sigmoid as
//! `1/(1 + e^−x)`, GELU as `x · 0.5·erfc(−x/√2)`, the tanh form as `x · sigmoid(2z)`, Swish as
//! `x · sigmoid(β·x)`; each rounded once to f32.

use super::*;

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

fn reference(kernel: Kernel, p: f32, x: f32) -> f32 {
    let x = f64::from(x);
    let p = f64::from(p);
    let y = match kernel {
        Kernel::Relu => x.max(0.0),
        Kernel::LeakyRelu => {
            if x > 0.0 {
                x
            } else {
                p * x
            }
        }
        Kernel::Sigmoid => sigmoid64(x),
        Kernel::Tanh => libm::tanh(x),
        Kernel::Gelu => x * (0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)),
        Kernel::GeluTanh => {
            let z = 0.797_884_560_802_865_4 * (x + 0.044_715 * x * x * x);
            x * sigmoid64(2.0 * z)
        }
        Kernel::Swish => x * sigmoid64(p * x),
    };
    y as f32
}

/// The position of an f32 on the line of all f32 values (±0 both at 0).
fn ordinal(x: f32) -> i64 {
    let bits = x.to_bits();
    let magnitude = i64::from(bits & 0x7FFF_FFFF);
    if bits >> 31 == 1 {
        -magnitude
    } else {
        magnitude
    }
}

/// The distance in ulps between two f32 values.
fn ulps(a: f32, b: f32) -> u64 {
    ordinal(a).abs_diff(ordinal(b))
}

/// The inputs of the sweeps: every 509th f32 in [−8, 8] by bit pattern (dense near 0, down
/// to the subnormals) and every 13th point of the generator's 2^-20 grid.
fn sweep() -> impl Iterator<Item = f32> {
    let top = 8.0_f32.to_bits();
    let by_bits = (0..=top)
        .step_by(509)
        .chain([top])
        .flat_map(|bits| [f32::from_bits(bits), -f32::from_bits(bits)]);
    let grid = (0..(1_u32 << 24))
        .step_by(13)
        .map(|k| k as f32 / 1_048_576.0 - 8.0);
    by_bits.chain(grid)
}

struct Worst {
    ulps: u64,
    at: f32,
    /// The worst error where x ≥ −4 (away from the far left tail of the gated kernels).
    ulps_right: u64,
    /// The worst error where x ≥ −2.
    ulps_body: u64,
}

fn worst_error(kernel: Kernel, p: f32) -> Worst {
    let mut worst = Worst {
        ulps: 0,
        at: 0.0,
        ulps_right: 0,
        ulps_body: 0,
    };
    for x in sweep() {
        let e = ulps(eval(kernel, p, x), reference(kernel, p, x));
        if e > worst.ulps {
            worst.ulps = e;
            worst.at = x;
        }
        if x >= -4.0 {
            worst.ulps_right = worst.ulps_right.max(e);
        }
        if x >= -2.0 {
            worst.ulps_body = worst.ulps_body.max(e);
        }
    }
    println!(
        "{:>10} p={p}: max {} ulp (at x = {:e}); {} ulp for x >= -4, {} for x >= -2",
        kernel.name(),
        worst.ulps,
        worst.at,
        worst.ulps_right,
        worst.ulps_body
    );
    worst
}

#[test]
fn relu_and_leaky_relu_are_exact() {
    for p in [0.01, 0.2, 1.5] {
        assert_eq!(worst_error(Kernel::LeakyRelu, p).ulps, 0);
    }
    assert_eq!(worst_error(Kernel::Relu, 0.0).ulps, 0);
}

#[test]
fn sigmoid_is_within_its_bound() {
    assert!(worst_error(Kernel::Sigmoid, 0.0).ulps <= 2);
}

#[test]
fn tanh_is_within_its_bound() {
    assert!(worst_error(Kernel::Tanh, 0.0).ulps <= 2);
}

#[test]
fn gelu_is_within_its_bound() {
    assert!(worst_error(Kernel::Gelu, 0.0).ulps <= 8);
}

#[test]
fn gelu_tanh_is_within_its_bound() {
    // 2z is rounded to f32 before the exponential, so the left tail, where the result is
    // about x·e^(2z), carries a relative error of about |2z| half-ulps (|2z| = 49 at x = −8).
    let worst = worst_error(Kernel::GeluTanh, 0.0);
    assert!(worst.ulps_right <= 32 && worst.ulps <= 192);
}

#[test]
fn swish_is_within_its_bound() {
    assert!(worst_error(Kernel::Swish, 1.0).ulps <= 3);
    // β·x is rounded to f32 before the exponential: an error of about |β·x|/2 ulp.
    let worst = worst_error(Kernel::Swish, 1.7);
    assert!(worst.ulps_right <= 8 && worst.ulps <= 16);
    let worst = worst_error(Kernel::Swish, 0.5);
    assert!(worst.ulps <= 8);
}

/// Every point of the generator's grid (2^24 inputs per kernel): what the benchmarks feed.
/// Slow; run with `cargo test -p actprof-fw-core --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn every_generator_input() {
    for (kernel, p) in Kernel::ALL
        .into_iter()
        .map(|k| (k, k.default_param()))
        .chain([(Kernel::Swish, 1.7)])
    {
        let (mut worst, mut at, mut right, mut body) = (0, 0.0, 0, 0);
        for k in 0..(1_u32 << 24) {
            let x = k as f32 / 1_048_576.0 - 8.0;
            let e = ulps(eval(kernel, p, x), reference(kernel, p, x));
            if e > worst {
                (worst, at) = (e, x);
            }
            if x >= -4.0 {
                right = right.max(e);
            }
            if x >= -2.0 {
                body = body.max(e);
            }
        }
        println!(
            "{:>10} p={p}: max {worst} ulp at x = {at:e}; {right} for x >= -4, {body} for x >= -2",
            kernel.name()
        );
    }
}

#[test]
fn apply_gives_the_values_of_eval() {
    let input: Vec<f32> = sweep().step_by(97).collect();
    let mut output = vec![0.0; input.len()];
    for kernel in Kernel::ALL {
        let p = kernel.default_param();
        apply(kernel, p, &input, &mut output);
        for (&x, &y) in input.iter().zip(&output) {
            assert_eq!(y.to_bits(), eval(kernel, p, x).to_bits(), "{kernel:?} {x}");
        }
    }
}

#[test]
fn nan_propagates_through_every_kernel() {
    for kernel in Kernel::ALL {
        for nan in [f32::NAN, -f32::NAN] {
            assert!(
                eval(kernel, kernel.default_param(), nan).is_nan(),
                "{kernel:?}"
            );
        }
    }
}

#[test]
fn infinities_give_the_limits() {
    let at = |kernel: Kernel, x: f32| eval(kernel, kernel.default_param(), x);
    let inf = f32::INFINITY;
    assert_eq!(at(Kernel::Relu, inf), inf);
    assert_eq!(at(Kernel::Relu, -inf), 0.0);
    assert_eq!(at(Kernel::LeakyRelu, -inf), -inf);
    assert_eq!(at(Kernel::Sigmoid, inf), 1.0);
    assert_eq!(at(Kernel::Sigmoid, -inf), 0.0);
    assert_eq!(at(Kernel::Tanh, inf), 1.0);
    assert_eq!(at(Kernel::Tanh, -inf), -1.0);
    for kernel in [Kernel::Gelu, Kernel::GeluTanh, Kernel::Swish] {
        assert_eq!(at(kernel, inf), inf, "{kernel:?}");
        let y = at(kernel, -inf);
        assert!(y == 0.0 && y.is_sign_negative(), "{kernel:?}: {y}");
    }
}

#[test]
fn zeros_and_limits_of_large_arguments() {
    for kernel in Kernel::ALL {
        let p = kernel.default_param();
        let expected_at_0 = if kernel == Kernel::Sigmoid { 0.5 } else { 0.0 };
        assert_eq!(eval(kernel, p, 0.0), expected_at_0, "{kernel:?}");
    }
    // Signed zeros: relu(−0) = +0 as in actprof's reference; the odd and gated kernels
    // keep the sign.
    assert!(eval(Kernel::Relu, 0.0, -0.0).is_sign_positive());
    for kernel in [Kernel::Tanh, Kernel::Gelu, Kernel::GeluTanh, Kernel::Swish] {
        assert!(eval(kernel, kernel.default_param(), -0.0).is_sign_negative());
    }
    // Far out, but finite: saturation without NaN or overflow.
    assert_eq!(eval(Kernel::Tanh, 0.0, 1e30), 1.0);
    assert_eq!(eval(Kernel::Sigmoid, 0.0, -200.0), 0.0);
    assert_eq!(eval(Kernel::Gelu, 0.0, 1e30), 1e30);
    assert_eq!(eval(Kernel::Gelu, 0.0, -1e30), 0.0);
    assert_eq!(eval(Kernel::Swish, 1.0, -1e30), 0.0);
    assert_eq!(eval(Kernel::GeluTanh, 0.0, 1e10), 1e10);
    // Tiny arguments: tanh x = x and GELU x = x/2 to the last bit.
    assert_eq!(eval(Kernel::Tanh, 0.0, 1e-20), 1e-20);
    assert_eq!(eval(Kernel::Gelu, 0.0, 1e-20), 0.5e-20);
}

#[test]
fn names_round_trip() {
    for kernel in Kernel::ALL {
        assert_eq!(Kernel::from_name(kernel.name()), Some(kernel));
    }
    assert_eq!(Kernel::from_name("Relu"), None);
    assert_eq!(Kernel::from_name("silu"), None);
    assert_eq!(Kernel::LeakyRelu.default_param().to_bits(), 0x3C23_D70A);
}
