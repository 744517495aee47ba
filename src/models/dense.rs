//! Dense (fully connected) layer: `y = x·W + b` with ndarray's matrix product.
//!
//! The product runs through `matrixmultiply`'s single-threaded SGEMM (ndarray's `dot`);
//! a batch is one `(batch × in) · (in × out)` product.

use ndarray::{Array1, Array2, Axis};

use super::init::Init;
use super::layer::LayerGrad;

/// How a dense layer's weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitKind {
    /// He normal: the layer feeds a ReLU-family activation.
    He,
    /// Glorot uniform: the last layer, whose output is not rectified.
    Glorot,
}

/// A fully connected layer from `inputs` to `outputs` features.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// `inputs × outputs`.
    pub weights: Array2<f32>,
    /// One per output.
    pub bias: Array1<f32>,
}

impl Dense {
    /// Seeded weights (see [`InitKind`]) and zero biases.
    pub fn new(inputs: usize, outputs: usize, kind: InitKind, init: &mut Init) -> Dense {
        let values = match kind {
            InitKind::He => init.he_normal(inputs * outputs, inputs),
            InitKind::Glorot => init.glorot_uniform(inputs * outputs, inputs, outputs),
        };
        Dense {
            weights: super::buffer::matrix(values, inputs, outputs),
            bias: Array1::zeros(outputs),
        }
    }

    pub fn inputs(&self) -> usize {
        self.weights.nrows()
    }

    pub fn outputs(&self) -> usize {
        self.weights.ncols()
    }

    /// Weights and biases.
    pub fn params(&self) -> usize {
        self.weights.len() + self.bias.len()
    }

    /// Multiply-accumulates per input: one per weight.
    pub fn macs(&self) -> u64 {
        self.weights.len() as u64
    }

    /// `x·W + b` for every row of `input`.
    pub fn forward(&self, input: &Array2<f32>) -> Array2<f32> {
        let mut out = input.dot(&self.weights);
        out += &self.bias;
        out
    }

    /// `dx = dy·Wᵀ`, `dW = xᵀ·dy`, `db = Σ_rows dy`.
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> LayerGrad {
        LayerGrad {
            input: grad_output.dot(&self.weights.t()),
            weights: Some(input.t().dot(grad_output)),
            bias: Some(grad_output.sum_axis(Axis(0))),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn forward_is_the_affine_map_by_hand() {
        let layer = Dense {
            weights: array![[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]],
            bias: array![0.5, 1.0, -1.0],
        };
        // [3, −2]·W = [3·1 − 2·2, 3·(−1) − 0, 3·0.5 + 6] = [−1, −3, 7.5], plus b.
        let out = layer.forward(&array![[3.0, -2.0], [0.0, 1.0]]);
        assert_eq!(out, array![[-0.5, -2.0, 6.5], [2.5, 1.0, -4.0]]);
        assert_eq!((layer.params(), layer.macs()), (9, 6));
    }
}
