//! The multilayer perceptron behind `mlp-small`, with backpropagation for training.
//!
//! `widths` run from input to output: hidden layers are dense (He normal) + activation,
//! the last dense (Glorot uniform) gives logits. Forward passes use the activation
//! kernels ([`super::activation`]); the backward pass is the chain rule written out:
//! with `a₀ = x`, `zₗ = aₗ₋₁·Wₗ + bₗ`, `aₗ = f(zₗ)`, the loss gradient `g` at the logits goes
//! back as `dWₗ = aₗ₋₁ᵀ·g`, `dbₗ = Σ g`, `g ← (g·Wₗᵀ) ⊙ f'(zₗ₋₁)`.

use ndarray::{Array1, Array2};

use super::activation::ActivationLayer;
use super::dense::{Dense, InitKind};
use super::init::Init;
use super::layer::Layer;
use super::model::{Model, ModelError, Step};
use super::shape::Shape;
use crate::kernels::Activation;

/// A perceptron with one activation for all hidden layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Dense>,
    pub activation: Activation,
}

/// What a forward pass keeps for the backward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The input of every dense layer: `x`, then each hidden layer's output `f(z)`.
    pub inputs: Vec<Array2<f32>>,
    /// Each hidden layer's pre-activation `z`.
    pub pre_activations: Vec<Array2<f32>>,
    /// The last layer's output.
    pub logits: Array2<f32>,
}

/// The gradient of one dense layer's weights and biases.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseGrad {
    pub weights: Array2<f32>,
    pub bias: Array1<f32>,
}

impl Mlp {
    /// Seeded weights for `widths` (input, hidden…, output; at least two, none zero).
    pub fn new(widths: &[usize], activation: Activation, seed: u64) -> Result<Mlp, ModelError> {
        let text = || {
            widths
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        if widths.len() < 2 {
            let reason = "give at least an input and an output width".to_owned();
            return Err(ModelError::Widths(text(), reason));
        }
        if widths.contains(&0) {
            let reason = "every width must be at least 1".to_owned();
            return Err(ModelError::Widths(text(), reason));
        }
        let mut init = Init::new(seed);
        let last = widths.len() - 2;
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                let kind = if i == last {
                    InitKind::Glorot
                } else {
                    InitKind::He
                };
                Dense::new(pair[0], pair[1], kind, &mut init)
            })
            .collect();
        Ok(Mlp { layers, activation })
    }

    /// Units in the hidden layers.
    pub fn hidden_units(&self) -> usize {
        self.layers[..self.layers.len() - 1]
            .iter()
            .map(Dense::outputs)
            .sum()
    }

    /// The logits of a batch, keeping what backpropagation needs.
    pub fn forward_trace(&self, input: &Array2<f32>) -> Trace {
        let mut inputs = vec![input.clone()];
        let mut pre_activations = Vec::with_capacity(self.layers.len());
        let Some((last, hidden)) = self.layers.split_last() else {
            // `new` builds at least one layer; an empty perceptron is the identity.
            return Trace {
                logits: input.clone(),
                inputs,
                pre_activations,
            };
        };
        for dense in hidden {
            let z = dense.forward(&inputs[inputs.len() - 1]);
            let layer = ActivationLayer::new(Shape::flat(z.ncols()), self.activation);
            inputs.push(layer.forward(z.clone()));
            pre_activations.push(z);
        }
        let logits = last.forward(&inputs[inputs.len() - 1]);
        Trace {
            inputs,
            pre_activations,
            logits,
        }
    }

    /// Gradients of every layer from the loss gradient at the logits.
    pub fn backward(&self, trace: &Trace, grad_logits: &Array2<f32>) -> Vec<DenseGrad> {
        let mut grads = Vec::with_capacity(self.layers.len());
        let mut g = grad_logits.clone();
        for (i, dense) in self.layers.iter().enumerate().rev() {
            let step = dense.backward(&trace.inputs[i], &g);
            grads.push(DenseGrad {
                weights: step.weights.unwrap_or_default(),
                bias: step.bias.unwrap_or_default(),
            });
            if i > 0 {
                let layer = ActivationLayer::new(Shape::flat(dense.inputs()), self.activation);
                g = layer.backward(&trace.pre_activations[i - 1], &step.input);
            }
        }
        grads.reverse();
        grads
    }

    /// The same network as a zoo model (for timing and summaries).
    pub fn to_model(&self, name: &str) -> Result<Model, ModelError> {
        let mut steps = Vec::new();
        let last = self.layers.len() - 1;
        for (i, dense) in self.layers.iter().enumerate() {
            steps.push(Step::Layer(Layer::Dense(dense.clone())));
            if i != last {
                let shape = Shape::flat(dense.outputs());
                steps.push(Step::Layer(Layer::Activation(ActivationLayer::new(
                    shape,
                    self.activation,
                ))));
            }
        }
        Model::new(name, Shape::flat(self.layers[0].inputs()), steps)
    }
}
