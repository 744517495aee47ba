//! The exact reference: every activation evaluated in f64 in a form free of cancellation.
//!
//! Accuracy of the fast f32 kernels is measured against these values. Forms chosen so
//! that f64 keeps full relative accuracy where the f32 result is representable:
//! - sigmoid as `1 / (1 + e^-x)` (no cancellation for either sign in f64);
//! - GELU (erf) as `0.5·x·erfc(-x/√2)`, which avoids the `1 + erf(x)` cancellation for
//!   negative x (`libm::erfc`);
//! - GELU (tanh) as `x·sigmoid(2z)` with `z = √(2/π)·(x + 0.044715·x³)`, the identity
//!   `0.5·(1 + tanh z) = sigmoid(2z)`;
//! - Swish as `x·sigmoid(beta·x)`.
//!
//! At ±infinity each function returns its mathematical limit (never NaN); NaN in gives NaN
//! out. [`eval_f32`] rounds the f64 value to the nearest f32, which is the correctly
//! rounded f32 result except where the f64 value lies on an f32 midpoint. Near 0 that
//! happens systematically, not by chance: the f64 value there is exactly the leading terms
//! of the series (`x/2` for the gated functions below about 2^-53, `1/2 + x/4` for sigmoid
//! below about 2^-17), and `x/2` of an odd multiple of the smallest subnormal, or
//! `1/2 + x/4` of an odd multiple of 2^-23, is a midpoint. The next term of the series
//! decides those ties (see [`tie_break`]); other midpoints, which need the f64 evaluation
//! error to vanish by chance, keep ties to even.

use std::cmp::Ordering;

use super::activation::{Activation, GeluApproximation};

/// `√(2/π)`, the GELU tanh-form constant.
pub const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

/// The cubic coefficient of the GELU tanh form.
pub const GELU_TANH_CUBIC: f64 = 0.044_715;

/// Evaluates `activation` at `x` in f64.
pub fn eval(activation: Activation, x: f64) -> f64 {
    match activation {
        Activation::Relu => relu(x),
        Activation::LeakyRelu { alpha } => leaky_relu(x, f64::from(alpha)),
        Activation::Sigmoid => sigmoid(x),
        Activation::Tanh => x.tanh(),
        Activation::Gelu {
            approximation: GeluApproximation::Erf,
        } => gelu_erf(x),
        Activation::Gelu {
            approximation: GeluApproximation::Tanh,
        } => gelu_tanh(x),
        Activation::Swish { beta } => swish(x, f64::from(beta)),
    }
}

/// Evaluates `activation` at `x` in f64 and rounds the result to f32, with the ties near
/// 0 decided by the series (module notes).
pub fn eval_f32(activation: Activation, x: f32) -> f32 {
    let x = f64::from(x);
    let exact = eval(activation, x);
    let nearest = exact as f32;
    if !nearest.is_finite() || f64::from(nearest) == exact {
        return nearest;
    }
    let (below, above) = if f64::from(nearest) < exact {
        (nearest, nearest.next_up())
    } else {
        (nearest.next_down(), nearest)
    };
    let midpoint = (f64::from(below) + f64::from(above)) / 2.0;
    if exact != midpoint {
        return nearest;
    }
    match tie_break(activation, x, exact) {
        Some(Ordering::Greater) => above,
        Some(Ordering::Less) => below,
        _ => nearest,
    }
}

/// Which side of `value` (the f64 result at `x`, an f32 midpoint) the exact result lies
/// on, where `value` is exactly the leading terms of the series at 0 and the first term it
/// lacks decides: `x·(1/2 + c·x + …)` with `c = 1/√(2π)` for both GELUs and `c = β/4` for
/// Swish, so `x/2` lacks `c·x²`; `sigmoid(x) = 1/2 + x/4 − x³/48 + …`. `None` elsewhere.
fn tie_break(activation: Activation, x: f64, value: f64) -> Option<Ordering> {
    match activation {
        Activation::Gelu { .. } if value == 0.5 * x => Some(Ordering::Greater),
        // β = 0 makes x/2 exact: a true tie, left to ties to even.
        Activation::Swish { beta } if value == 0.5 * x => beta.partial_cmp(&0.0),
        Activation::Sigmoid if value == 0.5 + 0.25 * x => 0.0.partial_cmp(&x),
        _ => None,
    }
}

/// The derivative `f'(x)` in f64, for plots (not used for accuracy).
pub fn derivative(activation: Activation, x: f64) -> f64 {
    match activation {
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else if x.is_nan() {
                x
            } else {
                0.0
            }
        }
        Activation::LeakyRelu { alpha } => {
            if x > 0.0 {
                1.0
            } else if x.is_nan() {
                x
            } else {
                f64::from(alpha)
            }
        }
        Activation::Sigmoid => {
            let s = sigmoid(x);
            s * (1.0 - s)
        }
        Activation::Tanh => {
            let t = x.tanh();
            1.0 - t * t
        }
        Activation::Gelu {
            approximation: GeluApproximation::Erf,
        } => {
            let cdf = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            cdf + x * pdf
        }
        Activation::Gelu {
            approximation: GeluApproximation::Tanh,
        } => {
            let z = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
            let dz = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_CUBIC * x * x);
            let s = sigmoid(2.0 * z);
            s + x * 2.0 * s * (1.0 - s) * dz
        }
        Activation::Swish { beta } => {
            let beta = f64::from(beta);
            let s = sigmoid(beta * x);
            s + beta * x * s * (1.0 - s)
        }
    }
}

fn relu(x: f64) -> f64 {
    // NaN compares false and falls through unchanged; -0.0 is not > 0 and becomes +0.0.
    if x > 0.0 || x.is_nan() { x } else { 0.0 }
}

fn leaky_relu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { x } else { alpha * x }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `x·g` where `g` is a gate in `[0, 1]`, with the limit at infinite `x` taken properly:
/// `x·g → ±0` when the gate closes faster than `x` grows (it does so exponentially).
fn gated(x: f64, gate: f64) -> f64 {
    if x.is_infinite() && gate == 0.0 {
        0.0_f64.copysign(x)
    } else {
        x * gate
    }
}

fn gelu_erf(x: f64) -> f64 {
    gated(x, 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2))
}

fn gelu_tanh(x: f64) -> f64 {
    let z = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
    gated(x, sigmoid(2.0 * z))
}

fn swish(x: f64, beta: f64) -> f64 {
    if beta == 0.0 {
        return 0.5 * x;
    }
    gated(x, sigmoid(beta * x))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SILU: Activation = Activation::Swish { beta: 1.0 };
    const GELU: Activation = Activation::Gelu {
        approximation: GeluApproximation::Erf,
    };
    const GELU_TANH: Activation = Activation::Gelu {
        approximation: GeluApproximation::Tanh,
    };

    #[test]
    fn limits_at_infinity_are_the_mathematical_ones() {
        assert_eq!(eval(Activation::Sigmoid, f64::NEG_INFINITY), 0.0);
        assert_eq!(eval(Activation::Sigmoid, f64::INFINITY), 1.0);
        for act in [SILU, GELU, GELU_TANH] {
            let at_neg = eval(act, f64::NEG_INFINITY);
            assert!(
                at_neg == 0.0 && at_neg.is_sign_negative(),
                "{act}: {at_neg}"
            );
            assert_eq!(eval(act, f64::INFINITY), f64::INFINITY, "{act}");
        }
        assert_eq!(eval(Activation::Tanh, f64::NEG_INFINITY), -1.0);
    }

    #[test]
    fn nan_propagates_and_relu_of_negative_zero_is_positive_zero() {
        for act in Activation::DEFAULT_SET {
            assert!(eval(act, f64::NAN).is_nan(), "{act}");
        }
        let r = eval(Activation::Relu, -0.0);
        assert!(r == 0.0 && r.is_sign_positive());
    }

    #[test]
    fn known_values_from_tables() {
        // Φ(1) = 0.841344746068543 (standard normal table), so GELU(1) = Φ(1).
        assert!((eval(GELU, 1.0) - 0.841_344_746_068_543).abs() < 1e-15);
        // GELU(-6) = -6·Φ(-6), Φ(-6) = 9.865876450377e-10.
        assert!((eval(GELU, -6.0) / (-6.0 * 9.865_876_450_377e-10) - 1.0).abs() < 1e-9);
        // sigmoid(0) = 1/2 and the tanh-form GELU equals 0.5·x·(1 + tanh z).
        assert_eq!(eval(Activation::Sigmoid, 0.0), 0.5);
        let x: f64 = 0.7;
        let z = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x.powi(3));
        assert!((eval(GELU_TANH, x) - 0.5 * x * (1.0 + z.tanh())).abs() < 1e-15);
    }

    #[test]
    fn ties_near_zero_round_the_way_the_series_leans() {
        let smallest = f32::from_bits(1);
        // x/2 + x²/√(2π) for x = 2^-149 lies just above 2^-150, the midpoint of 0 and
        // 2^-149, so it rounds up to 2^-149 (ties to even would give 0); for x = −2^-149
        // the x² term moves it towards 0, to −0.
        for act in [GELU, GELU_TANH, SILU] {
            assert_eq!(eval_f32(act, smallest), smallest, "{act}");
            assert_eq!(eval_f32(act, 3.0 * smallest), 2.0 * smallest, "{act}");
            let negative = eval_f32(act, -smallest);
            assert!(
                negative == 0.0 && negative.is_sign_negative(),
                "{act}: {negative}"
            );
        }
        // Swish with β < 0 leans the other way: x/2 − |β|x²/4.
        let swish = Activation::Swish { beta: -1.0 };
        assert_eq!(eval_f32(swish, smallest), 0.0);
        // sigmoid(3·2^-23) = 1/2 + 3·2^-25 − …: just below the midpoint of 1/2 + 2^-24 and
        // 1/2 + 2^-23, so 1/2 + 2^-24 (ties to even would give 1/2 + 2^-23).
        let x = 3.0 * 2f32.powi(-23);
        assert_eq!(eval_f32(Activation::Sigmoid, x), 0.5 + 2f32.powi(-24));
        // Below 1/2 the spacing halves: sigmoid(−3·2^-24) = 1/2 − 3·2^-26 + … lies just
        // above the midpoint of 1/2 − 2^-24 and 1/2 − 2^-25.
        let x = 3.0 * 2f32.powi(-24);
        assert_eq!(eval_f32(Activation::Sigmoid, -x), 0.5 - 2f32.powi(-25));
        // Values that are no midpoint round as before.
        assert_eq!(eval_f32(Activation::Sigmoid, 0.0), 0.5);
        assert_eq!(eval_f32(Activation::Tanh, smallest), smallest);
    }

    #[test]
    fn leaky_relu_follows_the_definition_for_any_alpha() {
        for alpha in [0.01_f32, 1.5, -0.5, 0.0] {
            let act = Activation::LeakyRelu { alpha };
            assert_eq!(eval(act, 2.0), 2.0);
            assert_eq!(eval(act, -2.0), -2.0 * f64::from(alpha));
        }
    }

    #[test]
    fn derivatives_match_central_differences() {
        let h = 1e-6;
        for act in Activation::DEFAULT_SET {
            for x in [-3.1, -0.4, 0.3, 2.2] {
                let numeric = (eval(act, x + h) - eval(act, x - h)) / (2.0 * h);
                assert!((derivative(act, x) - numeric).abs() < 1e-6, "{act} at {x}");
            }
        }
    }
}
