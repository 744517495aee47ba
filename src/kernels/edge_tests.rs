//! Edge cases and sampled accuracy of every kernel on every instruction set this CPU has.
//! Expected values come from the definitions (and [`reference::eval`]), never the kernels.

use std::sync::atomic::AtomicBool;

use super::accuracy::{SweepMode, contract, sweep};
use super::activation::{Activation, GeluApproximation};
use super::dispatch::{Isa, Stores, apply_in_place_with, apply_with, apply_with_stores};
use super::reference;

const GELU: Activation = Activation::Gelu {
    approximation: GeluApproximation::Erf,
};
const GELU_TANH: Activation = Activation::Gelu {
    approximation: GeluApproximation::Tanh,
};
const SILU: Activation = Activation::Swish { beta: 1.0 };

/// The default set plus parameters that break naive implementations.
fn all_activations() -> Vec<Activation> {
    let mut set = Activation::DEFAULT_SET.to_vec();
    set.extend([
        Activation::LeakyRelu { alpha: 1.5 },
        Activation::LeakyRelu { alpha: -0.5 },
        Activation::LeakyRelu { alpha: 0.0 },
        Activation::Swish { beta: 1.702 },
        Activation::Swish { beta: -0.75 },
        Activation::Swish { beta: 0.0 },
    ]);
    set
}

fn eval(isa: Isa, activation: Activation, inputs: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; inputs.len()];
    apply_with(isa, activation, inputs, &mut out);
    out
}

fn one(isa: Isa, activation: Activation, x: f32) -> f32 {
    eval(isa, activation, &[x])[0]
}

#[test]
fn nan_in_gives_nan_out_everywhere() {
    let nans = [
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7f80_0001),
        f32::from_bits(0xffc0_1234),
    ];
    for isa in Isa::available() {
        for act in all_activations() {
            for y in eval(isa, act, &nans) {
                assert!(y.is_nan(), "{isa} {act}: NaN gave {y}");
            }
        }
    }
}

#[test]
fn limits_at_infinity() {
    for isa in Isa::available() {
        let at = |act, x| one(isa, act, x);
        assert_eq!(at(Activation::Relu, f32::INFINITY), f32::INFINITY);
        assert_eq!(at(Activation::Relu, f32::NEG_INFINITY).to_bits(), 0);
        assert_eq!(at(Activation::Sigmoid, f32::INFINITY), 1.0);
        assert_eq!(at(Activation::Sigmoid, f32::NEG_INFINITY).to_bits(), 0);
        assert_eq!(at(Activation::Tanh, f32::INFINITY), 1.0);
        assert_eq!(at(Activation::Tanh, f32::NEG_INFINITY), -1.0);
        for act in [SILU, GELU, GELU_TANH, Activation::Swish { beta: 1.702 }] {
            assert_eq!(at(act, f32::INFINITY), f32::INFINITY, "{isa} {act}");
            let y = at(act, f32::NEG_INFINITY);
            assert_eq!(y.to_bits(), (-0.0_f32).to_bits(), "{isa} {act}: {y}");
        }
        // A negative beta closes the gate at +inf and opens it at -inf.
        let swish_neg = Activation::Swish { beta: -0.75 };
        assert_eq!(at(swish_neg, f32::INFINITY).to_bits(), 0);
        assert_eq!(at(swish_neg, f32::NEG_INFINITY), f32::NEG_INFINITY);
        assert_eq!(
            at(Activation::LeakyRelu { alpha: 0.01 }, f32::NEG_INFINITY),
            f32::NEG_INFINITY
        );
    }
}

#[test]
fn negative_zero_handling() {
    for isa in Isa::available() {
        assert_eq!(
            one(isa, Activation::Relu, -0.0).to_bits(),
            0,
            "{isa}: relu(-0) = +0"
        );
        for act in [
            Activation::Tanh,
            GELU,
            GELU_TANH,
            SILU,
            Activation::LeakyRelu { alpha: 0.01 },
        ] {
            let y = one(isa, act, -0.0);
            assert_eq!(y.to_bits(), (-0.0_f32).to_bits(), "{isa} {act}(-0) = {y}");
        }
        assert_eq!(one(isa, Activation::Sigmoid, -0.0), 0.5);
        assert_eq!(one(isa, Activation::Sigmoid, 0.0), 0.5);
    }
}

/// Inputs spread over the whole f32 range, both signs, plus the special values.
fn wide_inputs() -> Vec<f32> {
    let mut xs: Vec<f32> = (0..200_000u32)
        .map(|i| f32::from_bits(i.wrapping_mul(21_475)))
        .collect();
    xs.extend([
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        -f32::MAX,
    ]);
    xs
}

#[test]
fn sigmoid_stays_in_the_unit_interval() {
    for isa in Isa::available() {
        let xs = wide_inputs();
        for (x, y) in xs.iter().zip(eval(isa, Activation::Sigmoid, &xs)) {
            assert!(
                x.is_nan() || (0.0..=1.0).contains(&y),
                "{isa}: sigmoid({x}) = {y}"
            );
        }
    }
}

#[test]
fn tanh_is_bounded_and_exactly_odd() {
    for isa in Isa::available() {
        let xs = wide_inputs();
        let negated: Vec<f32> = xs.iter().map(|x| -x).collect();
        let ys = eval(isa, Activation::Tanh, &xs);
        let ys_neg = eval(isa, Activation::Tanh, &negated);
        for ((x, y), y_neg) in xs.iter().zip(ys).zip(ys_neg) {
            if x.is_nan() {
                continue;
            }
            assert!(y.abs() <= 1.0, "{isa}: tanh({x}) = {y}");
            assert_eq!(
                (-y).to_bits(),
                y_neg.to_bits(),
                "{isa}: tanh(-{x}) != -tanh({x})"
            );
        }
        for x in [10.0_f32, 20.0, 1e30, f32::MAX] {
            assert_eq!(
                one(isa, Activation::Tanh, x),
                1.0,
                "{isa}: saturation at {x}"
            );
            assert_eq!(
                one(isa, Activation::Tanh, -x),
                -1.0,
                "{isa}: saturation at -{x}"
            );
        }
    }
}

#[test]
fn tanh_of_tiny_inputs_is_the_input() {
    for isa in Isa::available() {
        for x in [1e-30_f32, -3e-20, 1e-45, f32::MIN_POSITIVE, 2e-5] {
            assert_eq!(one(isa, Activation::Tanh, x), x, "{isa}: tanh({x})");
        }
    }
}

#[test]
fn large_inputs_give_the_right_sign_and_no_nan() {
    let big = [88.8_f32, 1000.0, 1e30, f32::MAX];
    for isa in Isa::available() {
        for act in all_activations() {
            for &magnitude in &big {
                for x in [magnitude, -magnitude] {
                    let y = one(isa, act, x);
                    let exact = reference::eval(act, f64::from(x));
                    assert!(!y.is_nan(), "{isa} {act}({x}) is NaN");
                    assert!(
                        contract(act).allows(y, exact),
                        "{isa} {act}({x}) = {y}, exact {exact}"
                    );
                    if exact != 0.0 {
                        assert_eq!(y.is_sign_negative(), exact < 0.0, "{isa} {act}({x}) = {y}");
                    }
                }
            }
        }
    }
}

#[test]
fn leaky_relu_follows_the_definition_for_any_alpha() {
    for isa in Isa::available() {
        for alpha in [1.5_f32, -0.5, 0.0, 0.01] {
            let act = Activation::LeakyRelu { alpha };
            for x in [3.0_f32, -3.0, 0.25, -0.1, 1e-40, -1e-40] {
                let expected = if x > 0.0 { x } else { alpha * x };
                assert_eq!(
                    one(isa, act, x).to_bits(),
                    expected.to_bits(),
                    "{isa} {act}({x})"
                );
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_length_or_alignment() {
    let pool: Vec<f32> = (0..1100)
        .map(|i| (i as f32 - 550.0) * 0.037 + 1e-3)
        .collect();
    for isa in Isa::available() {
        for act in all_activations() {
            let whole = eval(isa, act, &pool);
            for len in [1, 7, 15, 16, 17, 63, 64, 65, 1000] {
                for offset in [0, 1, 3, 13] {
                    let part = eval(isa, act, &pool[offset..offset + len]);
                    for (i, y) in part.iter().enumerate() {
                        let want = whole[offset + i];
                        assert_eq!(
                            y.to_bits(),
                            want.to_bits(),
                            "{isa} {act} len {len} +{offset}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn both_store_kinds_write_exactly_the_output_at_any_alignment() {
    let pool: Vec<f32> = (0..1100).map(|i| (i as f32 - 550.0) * 0.041).collect();
    for isa in Isa::available() {
        for act in all_activations() {
            let whole = eval(isa, act, &pool);
            for stores in [Stores::Cached, Stores::Streaming] {
                for len in [0, 5, 16, 47, 64, 65, 1000] {
                    // Output offsets 0..16 elements put the 64-byte boundary everywhere in
                    // the head the driver peels, including nowhere (offset 0 of an aligned
                    // buffer).
                    for offset in [0, 1, 3, 8, 13, 15] {
                        let input = &pool[offset..offset + len];
                        let want = &whole[offset..offset + len];
                        let label = format!("{isa} {act} {stores:?} len {len} +{offset}");
                        check_written(isa, act, stores, input, want, offset, &label);
                    }
                }
            }
        }
    }
}

#[test]
fn long_calls_with_prefetching_give_the_short_calls_results() {
    // Past 2^18 elements the AVX-512 driver also prefetches far ahead; the result of each
    // element must not depend on that (nor on the stores).
    let len = (1 << 18) + 77;
    let input: Vec<f32> = (0..len)
        .map(|i| ((i % 4001) as f32 - 2000.0) * 0.0051)
        .collect();
    for isa in Isa::available() {
        for act in all_activations() {
            let want: Vec<f32> = input.chunks(1000).flat_map(|c| eval(isa, act, c)).collect();
            for stores in [Stores::Cached, Stores::Streaming] {
                let label = format!("{isa} {act} {stores:?} len {len}");
                check_written(isa, act, stores, &input, &want, 7, &label);
            }
        }
    }
}

/// Runs the kernel into a NaN-filled buffer at `offset` elements and checks that the output
/// equals `want` bit for bit and that nothing outside it was written.
fn check_written(
    isa: Isa,
    act: Activation,
    stores: Stores,
    input: &[f32],
    want: &[f32],
    offset: usize,
    label: &str,
) {
    let len = input.len();
    let mut out = vec![f32::NAN; len + 32];
    let output = &mut out[offset..offset + len];
    apply_with_stores(isa, stores, act, input, output);
    let same = output
        .iter()
        .zip(want)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same, "{label}");
    assert!(out[..offset].iter().all(|v| v.is_nan()), "{label}: before");
    assert!(
        out[offset + len..].iter().all(|v| v.is_nan()),
        "{label}: after"
    );
}

#[test]
fn in_place_matches_out_of_place() {
    let xs: Vec<f32> = (0..1037).map(|i| (i as f32 - 500.0) * 0.051).collect();
    for isa in Isa::available() {
        for act in all_activations() {
            let out = eval(isa, act, &xs);
            let mut data = xs.clone();
            apply_in_place_with(isa, act, &mut data);
            let same = out
                .iter()
                .zip(&data)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{isa} {act}");
        }
    }
}

#[test]
fn every_path_agrees_with_the_public_apply() {
    let xs: Vec<f32> = (0..300).map(|i| (i as f32 - 150.0) * 0.1).collect();
    let mut out = vec![0.0; xs.len()];
    super::apply(Activation::Sigmoid, &xs, &mut out);
    let best = *Isa::available().last().expect("scalar is always available");
    assert_eq!(out, eval(best, Activation::Sigmoid, &xs));
    assert_eq!(super::dispatched_isa(), best);
}

#[test]
#[should_panic(expected = "lengths differ")]
fn apply_refuses_mismatched_lengths() {
    super::apply(Activation::Relu, &[1.0, 2.0], &mut [0.0]);
}

#[test]
fn exact_known_values() {
    // sigmoid(-100) = 1/(1+e^100) = 3.7200759760208e-44, a subnormal: 27·2^-149 (3.78e-44)
    // is nearer than 26·2^-149 (3.64e-44).
    let sigmoid_minus_100 = (1.0 / (1.0 + 100f64.exp())) as f32;
    assert_eq!(sigmoid_minus_100.to_bits(), 27);
    for isa in Isa::available() {
        assert_eq!(one(isa, Activation::Sigmoid, 0.0), 0.5);
        assert_eq!(
            one(isa, Activation::Sigmoid, -100.0),
            sigmoid_minus_100,
            "{isa}"
        );
        assert_eq!(
            one(isa, Activation::Tanh, -0.0).to_bits(),
            (-0.0_f32).to_bits()
        );
        assert_eq!(one(isa, Activation::Sigmoid, 20.0), 1.0, "{isa}");
        // GELU(1) = Φ(1) = 0.841344746068543 (normal table); nearest f32 is 0.84134475.
        assert!((one(isa, GELU, 1.0) - 0.841_344_8).abs() <= 6e-8, "{isa}");
        assert_eq!(one(isa, SILU, 0.0), 0.0);
    }
}

#[test]
fn sampled_accuracy_meets_the_contract_on_every_path() {
    let never = AtomicBool::new(false);
    for isa in Isa::available() {
        for act in all_activations() {
            let mode = SweepMode::Sampled { points: 150_000 };
            let report = sweep(act, isa, mode, 2, &|_, _| {}, &never);
            assert_eq!(report.points_checked, 150_000);
            assert!(
                report.passes,
                "{isa} {act}: {} failures, max {} ULP at {:e}, worst below-normal abs {:e}",
                report.failures, report.max_ulp, report.max_ulp_at, report.worst_below_normal_abs
            );
        }
    }
}

/// Prints a sampled accuracy table of every path (`cargo test --release --lib
/// accuracy_table -- --ignored --nocapture`); asserts nothing beyond completion.
#[test]
#[ignore = "a report, slow in debug builds"]
fn accuracy_table() {
    let never = AtomicBool::new(false);
    for act in all_activations() {
        for isa in Isa::available() {
            let r = sweep(act, isa, SweepMode::default(), 2, &|_, _| {}, &never);
            println!(
                "{:<22} {:<9} max {:>9.3} ULP at {:>14e}  normal-out max {:>7.3}  \
                 below-normal abs {:>9.2e}  failures {:>6}  {:.2} s",
                act.spec(),
                isa.name(),
                r.max_ulp,
                r.max_ulp_at,
                r.max_ulp_normal_outputs,
                r.worst_below_normal_abs,
                r.failures,
                r.elapsed_s
            );
        }
    }
}

/// Checks every f32 bit pattern for one activation (`ACTPROF_EXHAUSTIVE=sigmoid cargo test
/// --release --lib exhaustive_sweep -- --ignored --nocapture`); minutes in release.
#[test]
#[ignore = "takes minutes even in release builds"]
fn exhaustive_sweep() {
    let spec = std::env::var("ACTPROF_EXHAUSTIVE").unwrap_or_else(|_| "sigmoid".to_owned());
    let act: Activation = spec
        .parse()
        .expect("ACTPROF_EXHAUSTIVE names an activation");
    let never = AtomicBool::new(false);
    let isa = Isa::detect();
    let r = sweep(act, isa, SweepMode::Exhaustive, 2, &|_, _| {}, &never);
    println!(
        "{} {}: {} points, max {:.3} ULP at {:e}, normal-out max {:.3}, below-normal abs \
         {:.2e}, failures {}, {:.1} s",
        act.spec(),
        isa,
        r.points_checked,
        r.max_ulp,
        r.max_ulp_at,
        r.max_ulp_normal_outputs,
        r.worst_below_normal_abs,
        r.failures,
        r.elapsed_s
    );
    assert!(r.passes, "{act} on {isa} breaks its contract");
}
