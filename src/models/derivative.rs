//! The derivative `f'(x)` of every activation in f32, for backpropagation.
//!
//! Each formula is the textbook derivative evaluated in a form that stays finite for any
//! finite `x`:
//! - ReLU: 1 for `x > 0`, else 0 (the subgradient 0 at the kink, as PyTorch uses);
//! - Leaky ReLU: 1 for `x > 0`, else `alpha`;
//! - sigmoid: `s·(1 − s)` with `s = σ(x)`;
//! - tanh: `1 − tanh²(x)`;
//! - GELU (erf): `Φ(x) + x·φ(x)`, `Φ(x) = erfc(−x/√2)/2`, `φ` the standard normal density;
//! - GELU (tanh): `s + 2x·s·(1 − s)·z'`, `s = σ(2z)`, `z = √(2/π)(x + 0.044715x³)`,
//!   `z' = √(2/π)(1 + 3·0.044715x²)`;
//! - Swish: `s + βx·s·(1 − s)` with `s = σ(βx)`.
//!
//! NaN in gives NaN out. The tests compare every formula with the f64 reference
//! derivative (`kernels::reference::derivative`) and with central differences of the f32
//! kernels themselves.

use crate::kernels::reference::{GELU_TANH_CUBIC, SQRT_2_OVER_PI};
use crate::kernels::{Activation, GeluApproximation};

/// `1 / √(2π)`.
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// `f'(x)` of `activation`.
pub fn derivative(activation: Activation, x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    match activation {
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::LeakyRelu { alpha } => {
            if x > 0.0 {
                1.0
            } else {
                alpha
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
            let cdf = 0.5 * libm::erfcf(-x * std::f32::consts::FRAC_1_SQRT_2);
            let pdf = INV_SQRT_2PI * (-0.5 * x * x).exp();
            cdf + x * pdf
        }
        Activation::Gelu {
            approximation: GeluApproximation::Tanh,
        } => {
            let (k, c) = (SQRT_2_OVER_PI as f32, GELU_TANH_CUBIC as f32);
            let z = k * (x + c * x * x * x);
            let dz = k * (1.0 + 3.0 * c * x * x);
            let s = sigmoid(2.0 * z);
            let slope = s * (1.0 - s);
            // Far out the gate is flat (slope 0) while x·z' overflows: the limit is s.
            if slope == 0.0 {
                s
            } else {
                s + 2.0 * x * slope * dz
            }
        }
        Activation::Swish { beta } => {
            let s = sigmoid(beta * x);
            s + beta * x * s * (1.0 - s)
        }
    }
}

/// `σ(x) = 1 / (1 + e^−x)`, through `e^−|x|` so that neither sign overflows.
fn sigmoid(x: f32) -> f32 {
    let e = (-x.abs()).exp();
    if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference;

    fn all_activations() -> Vec<Activation> {
        let mut set = Activation::DEFAULT_SET.to_vec();
        set.push(Activation::LeakyRelu { alpha: 0.2 });
        set.push(Activation::Swish { beta: 1.702 });
        set
    }

    #[test]
    fn derivatives_match_the_f64_reference() {
        for activation in all_activations() {
            for i in -400..=400 {
                let x = i as f32 * 0.025 + 0.0123;
                let ours = f64::from(derivative(activation, x));
                let exact = reference::derivative(activation, f64::from(x));
                assert!(
                    (ours - exact).abs() <= 2e-6 + 2e-6 * exact.abs(),
                    "{activation} at {x}: {ours} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn derivatives_match_central_differences_of_the_f32_kernels() {
        // The kernels are the forward pass of the activation layers, so this checks the
        // backward pass against what the models really compute. h = 1e-2 keeps f32
        // rounding (~1e-7 / h) and the curvature term (~h²·f''') below 1e-4.
        let h = 1e-2_f32;
        for activation in all_activations() {
            for i in -60..=60 {
                let x = i as f32 * 0.1 + 0.05;
                let mut points = [x + h, x - h];
                crate::kernels::apply_in_place(activation, &mut points);
                let numeric = (f64::from(points[0]) - f64::from(points[1])) / (2.0 * f64::from(h));
                let ours = f64::from(derivative(activation, x));
                assert!(
                    (ours - numeric).abs() < 1e-3,
                    "{activation} at {x}: backward {ours}, central difference {numeric}"
                );
            }
        }
    }

    #[test]
    fn nan_stays_nan_and_infinities_give_the_limits() {
        for activation in all_activations() {
            assert!(derivative(activation, f32::NAN).is_nan(), "{activation}");
            assert!(derivative(activation, 1e30).is_finite(), "{activation}");
            assert!(derivative(activation, -1e30).is_finite(), "{activation}");
        }
        assert_eq!(derivative(Activation::Sigmoid, -200.0), 0.0);
        assert_eq!(
            derivative(Activation::LeakyRelu { alpha: 0.01 }, -3.0),
            0.01
        );
    }
}
