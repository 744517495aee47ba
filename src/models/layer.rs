//! One layer of a model, whatever its kind, and the gradients its backward pass returns.

use ndarray::{Array1, Array2};

use super::activation::ActivationLayer;
use super::batchnorm::BatchNorm;
use super::conv::Conv2d;
use super::dense::Dense;
use super::depthwise::DepthwiseConv2d;
use super::pool::{AvgPool2d, Flatten};
use super::shape::Shape;

/// What a layer's backward pass computes from the gradient at its output.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerGrad {
    /// Gradient at the layer's input, shaped like the input batch.
    pub input: Array2<f32>,
    /// Gradient of the weights (shaped like them); batch norm's γ as `1 × channels`.
    pub weights: Option<Array2<f32>>,
    /// Gradient of the biases; batch norm's β.
    pub bias: Option<Array1<f32>>,
}

/// A layer of any kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Dense(Dense),
    Conv2d(Conv2d),
    Depthwise(DepthwiseConv2d),
    BatchNorm(BatchNorm),
    AvgPool(AvgPool2d),
    Flatten(Flatten),
    Activation(ActivationLayer),
}

impl Layer {
    /// What the layer is, for summaries: `conv2d 10×4 /2, 64 filters`, `dense 64 → 12`.
    pub fn describe(&self) -> String {
        match self {
            Layer::Dense(d) => format!("dense {} → {}", d.inputs(), d.outputs()),
            Layer::Conv2d(c) => format!(
                "conv2d {}{}, {} filters",
                kernel_text(c.window.kernel),
                stride_text(c.window.stride),
                c.filters()
            ),
            Layer::Depthwise(d) => format!(
                "depthwise {}{}",
                kernel_text(d.window.kernel),
                stride_text(d.window.stride)
            ),
            Layer::BatchNorm(_) => "batch norm".to_owned(),
            Layer::AvgPool(p) => format!("avg pool {}", kernel_text(p.window.kernel)),
            Layer::Flatten(_) => "flatten".to_owned(),
            Layer::Activation(a) => a.activation.spec(),
        }
    }

    pub fn input_shape(&self) -> Shape {
        match self {
            Layer::Dense(d) => Shape::flat(d.inputs()),
            Layer::Conv2d(c) => c.window.input,
            Layer::Depthwise(d) => d.window.input,
            Layer::BatchNorm(b) => b.shape,
            Layer::AvgPool(p) => p.window.input,
            Layer::Flatten(f) => f.input,
            Layer::Activation(a) => a.shape,
        }
    }

    pub fn output_shape(&self) -> Shape {
        match self {
            Layer::Dense(d) => Shape::flat(d.outputs()),
            Layer::Conv2d(c) => c.output_shape(),
            Layer::Depthwise(d) => d.output_shape(),
            Layer::AvgPool(p) => p.output_shape(),
            Layer::Flatten(f) => f.output_shape(),
            Layer::BatchNorm(_) | Layer::Activation(_) => self.input_shape(),
        }
    }

    /// Weights, biases and (batch norm) statistics.
    pub fn params(&self) -> usize {
        match self {
            Layer::Dense(d) => d.params(),
            Layer::Conv2d(c) => c.params(),
            Layer::Depthwise(d) => d.params(),
            Layer::BatchNorm(b) => b.params(),
            Layer::AvgPool(_) | Layer::Flatten(_) | Layer::Activation(_) => 0,
        }
    }

    /// Multiply-accumulates per input (pooling, batch norm and activations count none).
    pub fn macs(&self) -> u64 {
        match self {
            Layer::Dense(d) => d.macs(),
            Layer::Conv2d(c) => c.macs(),
            Layer::Depthwise(d) => d.macs(),
            _ => 0,
        }
    }

    /// Whether this is an activation layer (what `activation_share` times).
    pub fn is_activation(&self) -> bool {
        matches!(self, Layer::Activation(_))
    }

    /// Whether the output reuses the input's buffer (activations, flatten).
    pub fn is_in_place(&self) -> bool {
        matches!(self, Layer::Activation(_) | Layer::Flatten(_))
    }

    /// The layer applied to a batch (one row per input).
    pub fn forward(&self, input: Array2<f32>) -> Array2<f32> {
        match self {
            Layer::Dense(d) => d.forward(&input),
            Layer::Conv2d(c) => c.forward(&input),
            Layer::Depthwise(d) => d.forward(&input),
            Layer::BatchNorm(b) => b.forward(&input),
            Layer::AvgPool(p) => p.forward(&input),
            Layer::Flatten(_) => input,
            Layer::Activation(a) => a.forward(input),
        }
    }

    /// [`Layer::forward`] on a borrowed batch: layers that write a new tensor read it in
    /// place; in-place layers work on a copy.
    pub fn forward_borrowed(&self, input: &Array2<f32>) -> Array2<f32> {
        match self {
            Layer::Dense(d) => d.forward(input),
            Layer::Conv2d(c) => c.forward(input),
            Layer::Depthwise(d) => d.forward(input),
            Layer::BatchNorm(b) => b.forward(input),
            Layer::AvgPool(p) => p.forward(input),
            Layer::Flatten(_) | Layer::Activation(_) => self.forward(input.clone()),
        }
    }

    /// Gradients from the gradient at the output, given the forward pass's input.
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> LayerGrad {
        match self {
            Layer::Dense(d) => d.backward(input, grad_output),
            Layer::Conv2d(c) => c.backward(input, grad_output),
            Layer::Depthwise(d) => d.backward(input, grad_output),
            Layer::BatchNorm(b) => b.backward(input, grad_output),
            Layer::AvgPool(p) => p.backward(input, grad_output),
            Layer::Flatten(_) => LayerGrad {
                input: grad_output.clone(),
                weights: None,
                bias: None,
            },
            Layer::Activation(a) => LayerGrad {
                input: a.backward(input, grad_output),
                weights: None,
                bias: None,
            },
        }
    }
}

fn kernel_text((h, w): (usize, usize)) -> String {
    format!("{h}×{w}")
}

fn stride_text(stride: (usize, usize)) -> String {
    match stride {
        (1, 1) => String::new(),
        (h, w) if h == w => format!(" /{h}"),
        (h, w) => format!(" /{h}×{w}"),
    }
}
