//! Finite-difference checks of every layer's backward pass.
//!
//! For a layer `y = F(x; θ)` and a fixed random `r`, the scalar `L = Σ y ⊙ r` has
//! `∂L/∂y = r`, so `backward(x, r)` must give `∂L/∂x` and `∂L/∂θ`. Each analytic entry is
//! compared with the central difference `(L(v + h) − L(v − h)) / 2h`, L summed in f64 from
//! the layer's f32 outputs. Affine layers have no curvature term, so only f32 rounding
//! (~1e-7·|L| / h) separates the two; h = 1e-2 and a tolerance of 2e-3 absolute plus 1e-3
//! relative leave a wide margin. Activation inputs stay 0.05 away from ReLU's kink.

use ndarray::{Array1, Array2};

use super::activation::ActivationLayer;
use super::batchnorm::BatchNorm;
use super::buffer::matrix;
use super::conv::Conv2d;
use super::dense::{Dense, InitKind};
use super::depthwise::DepthwiseConv2d;
use super::init::Init;
use super::layer::Layer;
use super::mlp::Mlp;
use super::pool::AvgPool2d;
use super::shape::Shape;
use super::train::cross_entropy;
use super::window::Padding;
use crate::kernels::Activation;

const H: f32 = 1e-2;

fn loss(layer: &Layer, x: &Array2<f32>, r: &Array2<f32>) -> f64 {
    let y = layer.forward(x.clone());
    y.iter()
        .zip(r)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum()
}

fn close(analytic: f32, numeric: f64, what: &str) {
    let a = f64::from(analytic);
    assert!(
        (a - numeric).abs() <= 2e-3 + 1e-3 * numeric.abs(),
        "{what}: backward {a}, central difference {numeric}"
    );
}

/// Central difference of `L` in one value that `poke` can set.
fn numeric(layer: &mut Layer, x: &mut Array2<f32>, r: &Array2<f32>, poke: Poke) -> f64 {
    let base = poke.get(layer, x);
    poke.set(layer, x, base + H);
    let up = loss(layer, x, r);
    poke.set(layer, x, base - H);
    let down = loss(layer, x, r);
    poke.set(layer, x, base);
    (up - down) / (2.0 * f64::from(H))
}

/// Which value a finite difference moves.
#[derive(Clone, Copy)]
enum Poke {
    Input(usize, usize),
    Weight(usize, usize),
    Bias(usize),
}

impl Poke {
    fn get(self, layer: &mut Layer, x: &Array2<f32>) -> f32 {
        match self {
            Poke::Input(i, j) => x[[i, j]],
            Poke::Weight(i, j) => params(layer).0.map_or(0.0, |w| w[[i, j]]),
            Poke::Bias(i) => params(layer).1.map_or(0.0, |b| b[i]),
        }
    }

    fn set(self, layer: &mut Layer, x: &mut Array2<f32>, value: f32) {
        match self {
            Poke::Input(i, j) => x[[i, j]] = value,
            Poke::Weight(i, j) => {
                if let Some(w) = params(layer).0 {
                    w[[i, j]] = value;
                }
            }
            Poke::Bias(i) => {
                if let Some(b) = params(layer).1 {
                    b[i] = value;
                }
            }
        }
    }
}

/// The weights and biases of a layer (batch norm: γ as a `1 × C` row and β).
fn params(layer: &mut Layer) -> (Option<&mut Array2<f32>>, Option<&mut Array1<f32>>) {
    match layer {
        Layer::Dense(d) => (Some(&mut d.weights), Some(&mut d.bias)),
        Layer::Conv2d(c) => (Some(&mut c.weights), Some(&mut c.bias)),
        Layer::Depthwise(d) => (Some(&mut d.weights), Some(&mut d.bias)),
        Layer::BatchNorm(_) | Layer::AvgPool(_) | Layer::Flatten(_) | Layer::Activation(_) => {
            (None, None)
        }
    }
}

/// Checks every input, weight and bias gradient of `layer` on a random batch of 2.
fn check(mut layer: Layer, init: &mut Init, input_values: impl Fn(f32) -> f32) {
    let what = layer.describe();
    let (rows, cols) = (2, layer.input_shape().len());
    let mut x = matrix(
        init.he_normal(rows * cols, 1)
            .into_iter()
            .map(input_values)
            .collect(),
        rows,
        cols,
    );
    let out_len = layer.output_shape().len();
    let r = matrix(init.he_normal(rows * out_len, 1), rows, out_len);
    let grad = layer.backward(&x, &r);
    for i in 0..rows {
        for j in 0..cols {
            let n = numeric(&mut layer, &mut x, &r, Poke::Input(i, j));
            close(grad.input[[i, j]], n, &format!("{what}: dx[{i},{j}]"));
        }
    }
    if let Some(dw) = &grad.weights
        && params(&mut layer).0.is_some()
    {
        for ((i, j), &a) in dw.indexed_iter() {
            let n = numeric(&mut layer, &mut x, &r, Poke::Weight(i, j));
            close(a, n, &format!("{what}: dW[{i},{j}]"));
        }
    }
    if let Some(db) = &grad.bias
        && params(&mut layer).1.is_some()
    {
        for (i, &a) in db.iter().enumerate() {
            let n = numeric(&mut layer, &mut x, &r, Poke::Bias(i));
            close(a, n, &format!("{what}: db[{i}]"));
        }
    }
}

#[test]
fn dense_gradients_match_finite_differences() {
    let mut init = Init::new(1);
    let dense = Dense::new(5, 3, InitKind::He, &mut init);
    check(Layer::Dense(dense), &mut init, |v| v);
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    let mut init = Init::new(2);
    // Same padding, stride 2, two input channels: taps over padding are exercised.
    let mut conv = Conv2d::new(
        Shape::new(5, 4, 2),
        (3, 2),
        (2, 2),
        Padding::Same,
        3,
        &mut init,
    )
    .expect("fits");
    conv.bias = Array1::from(init.he_normal(3, 1));
    check(Layer::Conv2d(conv), &mut init, |v| v);
    let pointwise = Conv2d::new(
        Shape::new(2, 3, 4),
        (1, 1),
        (1, 1),
        Padding::Same,
        2,
        &mut init,
    )
    .expect("fits");
    check(Layer::Conv2d(pointwise), &mut init, |v| v);
}

#[test]
fn depthwise_gradients_match_finite_differences() {
    let mut init = Init::new(3);
    let layer = DepthwiseConv2d::new(
        Shape::new(4, 5, 3),
        (3, 3),
        (1, 2),
        Padding::Same,
        &mut init,
    )
    .expect("fits");
    check(Layer::Depthwise(layer), &mut init, |v| v);
}

#[test]
fn pooling_gradients_match_finite_differences() {
    let mut init = Init::new(4);
    let pool = AvgPool2d::new(Shape::new(4, 4, 2), (2, 3), (2, 1)).expect("fits");
    check(Layer::AvgPool(pool), &mut init, |v| v);
}

#[test]
fn batch_norm_gradients_match_finite_differences() {
    let mut init = Init::new(5);
    let bn = BatchNorm::seeded(Shape::new(2, 2, 3), &mut init);
    check(Layer::BatchNorm(bn.clone()), &mut init, |v| v);

    // γ and β: L(γ, β) differenced by hand, since `params` exposes weights and biases.
    let x = matrix(init.he_normal(2 * 12, 1), 2, 12);
    let r = matrix(init.he_normal(2 * 12, 1), 2, 12);
    let grad = bn.backward(&x, &r);
    let loss_of = |bn: &BatchNorm| -> f64 {
        let y = bn.forward(&x);
        y.iter()
            .zip(&r)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum()
    };
    for c in 0..3 {
        for (is_gamma, analytic) in [
            (true, grad.weights.as_ref().map(|g| g[[0, c]])),
            (false, grad.bias.as_ref().map(|g| g[c])),
        ] {
            let mut up = bn.clone();
            let mut down = bn.clone();
            let (u, d) = if is_gamma {
                (&mut up.gamma[c], &mut down.gamma[c])
            } else {
                (&mut up.beta[c], &mut down.beta[c])
            };
            *u += H;
            *d -= H;
            let n = (loss_of(&up) - loss_of(&down)) / (2.0 * f64::from(H));
            close(analytic.unwrap_or(f32::NAN), n, &format!("batch norm d{c}"));
        }
    }
}

#[test]
fn batch_norm_folded_gradients_match_finite_differences_and_the_chain_rule() {
    let mut init = Init::new(6);
    let shape = Shape::new(4, 3, 2);
    let conv = Conv2d::new(shape, (3, 3), (1, 1), Padding::Same, 3, &mut init).expect("fits");
    let bn = BatchNorm::seeded(conv.output_shape(), &mut init);
    let folded = bn.fold_into_conv(conv.clone());
    check(Layer::Conv2d(folded.clone()), &mut init, |v| v);

    // The folded layer's input gradient is the chain rule through conv then batch norm.
    let x = matrix(init.he_normal(2 * shape.len(), 1), 2, shape.len());
    let r = matrix(init.he_normal(2 * 36, 1), 2, 36);
    let through_bn = bn.backward(&conv.forward(&x), &r).input;
    let chained = conv.backward(&x, &through_bn).input;
    let direct = folded.backward(&x, &r).input;
    for (a, b) in chained.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

#[test]
fn activation_gradients_match_finite_differences_for_every_activation() {
    let mut set = Activation::DEFAULT_SET.to_vec();
    set.push(Activation::LeakyRelu { alpha: 0.3 });
    set.push(Activation::Swish { beta: 2.0 });
    for activation in set {
        let mut init = Init::new(7);
        let layer = ActivationLayer::new(Shape::flat(6), activation);
        // Keep |x| ≥ 0.05 so no difference straddles ReLU's kink.
        check(Layer::Activation(layer), &mut init, |v| {
            if v.abs() < 0.05 {
                v.signum() * 0.05 + v
            } else {
                v
            }
        });
    }
}

#[test]
fn mlp_backpropagation_matches_finite_differences_of_the_loss() {
    for activation in [Activation::Tanh, Activation::Swish { beta: 1.0 }] {
        let mut mlp = Mlp::new(&[2, 5, 4, 2], activation, 8).expect("widths");
        let x = matrix(vec![0.3, -0.7, -0.2, 0.9, 0.5, 0.1], 3, 2);
        let labels = [0, 1, 1];
        let loss = |mlp: &Mlp| cross_entropy(&mlp.forward_trace(&x).logits, &labels).0;
        let trace = mlp.forward_trace(&x);
        let (_, grad_logits) = cross_entropy(&trace.logits, &labels);
        let grads = mlp.backward(&trace, &grad_logits);
        for (l, grad) in grads.iter().enumerate() {
            for ((i, j), &analytic) in grad.weights.indexed_iter() {
                let base = mlp.layers[l].weights[[i, j]];
                mlp.layers[l].weights[[i, j]] = base + H;
                let up = loss(&mlp);
                mlp.layers[l].weights[[i, j]] = base - H;
                let down = loss(&mlp);
                mlp.layers[l].weights[[i, j]] = base;
                let n = (up - down) / (2.0 * f64::from(H));
                close(analytic, n, &format!("{activation} layer {l} dW[{i},{j}]"));
            }
        }
    }
}
