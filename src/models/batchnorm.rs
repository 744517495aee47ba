//! Batch normalisation in its inference form, and folding it into the layer before it.
//!
//! At inference a batch-norm layer is a per-channel affine map with frozen statistics:
//!
//! `y_c = γ_c · (x_c − μ_c) / √(σ²_c + ε) + β_c`.
//!
//! When `x = W·u + b` comes from a convolution or dense layer, write
//! `s_c = γ_c / √(σ²_c + ε)`; then `y_c = Σ (s_c·W_{·,c})·u + (s_c·(b_c − μ_c) + β_c)`, so the
//! pair is one layer with **folded** weights and bias
//!
//! `W'_{·,c} = s_c · W_{·,c}`,  `b'_c = s_c · (b_c − μ_c) + β_c`,
//!
//! which is what TFLite and CMSIS-NN deploy (and what our zoo runs): batch norm costs no
//! time and no parameters at inference. The tests check folded == unfolded.

use ndarray::{Array1, Array2, Axis};

use super::buffer::{matrix, values};
use super::conv::Conv2d;
use super::dense::Dense;
use super::depthwise::DepthwiseConv2d;
use super::init::Init;
use super::layer::LayerGrad;
use super::shape::Shape;

/// Keras' default ε, which the MLPerf Tiny reference models were trained with.
pub const DEFAULT_EPSILON: f32 = 1e-3;

/// Frozen batch-norm statistics and scale of one layer's channels.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub shape: Shape,
    pub gamma: Array1<f32>,
    pub beta: Array1<f32>,
    pub mean: Array1<f32>,
    pub variance: Array1<f32>,
    pub epsilon: f32,
}

impl BatchNorm {
    /// Seeded statistics of a trained-looking layer: `γ ∈ [0.8, 1.2)`, `β, μ ∈ [−0.1,
    /// 0.1)`, `σ² ∈ [0.5, 1.5)`, so that folding really changes the weights.
    pub fn seeded(shape: Shape, init: &mut Init) -> BatchNorm {
        let channels = shape.channels;
        let mut draw = |low, high| Array1::from_shape_fn(channels, |_| init.uniform(low, high));
        BatchNorm {
            shape,
            gamma: draw(0.8, 1.2),
            beta: draw(-0.1, 0.1),
            mean: draw(-0.1, 0.1),
            variance: draw(0.5, 1.5),
            epsilon: DEFAULT_EPSILON,
        }
    }

    /// Parameters as Keras counts them: γ, β and the two statistics per channel.
    pub fn params(&self) -> usize {
        4 * self.shape.channels
    }

    /// `s_c = γ_c / √(σ²_c + ε)`.
    pub fn scale(&self) -> Array1<f32> {
        Array1::from_shape_fn(self.shape.channels, |c| {
            self.gamma[c] / (self.variance[c] + self.epsilon).sqrt()
        })
    }

    /// `γ·(x − μ)/√(σ² + ε) + β` per channel (channel = index mod channels).
    pub fn forward(&self, input: &Array2<f32>) -> Array2<f32> {
        let scale = self.scale();
        let channels = self.shape.channels;
        let mut out = input.clone();
        for mut row in out.rows_mut() {
            for (i, v) in row.iter_mut().enumerate() {
                let c = i % channels;
                *v = scale[c] * (*v - self.mean[c]) + self.beta[c];
            }
        }
        out
    }

    /// `dx = dy·s`, `dγ = Σ dy·(x − μ)/√(σ² + ε)`, `dβ = Σ dy`. The gradient of γ comes
    /// back as [`LayerGrad::weights`] (a `1 × channels` matrix), that of β as the bias.
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> LayerGrad {
        let scale = self.scale();
        let channels = self.shape.channels;
        let x = values(input);
        let dy = values(grad_output);
        let mut dx = vec![0.0_f32; x.len()];
        let mut dgamma = vec![0.0_f32; channels];
        let mut dbeta = vec![0.0_f32; channels];
        for (i, ((&xv, &g), d)) in x.iter().zip(dy.iter()).zip(&mut dx).enumerate() {
            let c = i % channels;
            *d = g * scale[c];
            let norm = (xv - self.mean[c]) / (self.variance[c] + self.epsilon).sqrt();
            dgamma[c] += g * norm;
            dbeta[c] += g;
        }
        LayerGrad {
            input: matrix(dx, input.nrows(), input.ncols()),
            weights: Some(matrix(dgamma, 1, channels)),
            bias: Some(Array1::from(dbeta)),
        }
    }

    /// `W'_{·,c} = s_c·W_{·,c}` and `b'_c = s_c·(b_c − μ_c) + β_c` on weights whose columns
    /// are the channels.
    fn fold(&self, weights: &mut Array2<f32>, bias: &mut Array1<f32>) {
        let scale = self.scale();
        for (mut column, &s) in weights.axis_iter_mut(Axis(1)).zip(&scale) {
            column *= s;
        }
        for c in 0..bias.len() {
            bias[c] = scale[c] * (bias[c] - self.mean[c]) + self.beta[c];
        }
    }

    /// The convolution followed by this batch norm, as one convolution.
    pub fn fold_into_conv(&self, mut conv: Conv2d) -> Conv2d {
        self.fold(&mut conv.weights, &mut conv.bias);
        conv
    }

    /// The depthwise convolution followed by this batch norm, as one layer.
    pub fn fold_into_depthwise(&self, mut layer: DepthwiseConv2d) -> DepthwiseConv2d {
        self.fold(&mut layer.weights, &mut layer.bias);
        layer
    }

    /// The dense layer followed by this batch norm, as one dense layer.
    pub fn fold_into_dense(&self, mut dense: Dense) -> Dense {
        self.fold(&mut dense.weights, &mut dense.bias);
        dense
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::models::window::Padding;

    #[test]
    fn forward_follows_the_definition_by_hand() {
        // γ = 2, β = 1, μ = 3, σ² = 4 − ε, so √(σ² + ε) = 2 and y = 2(x − 3)/2 + 1 = x − 2.
        let bn = BatchNorm {
            shape: Shape::flat(1),
            gamma: array![2.0],
            beta: array![1.0],
            mean: array![3.0],
            variance: array![4.0 - DEFAULT_EPSILON],
            epsilon: DEFAULT_EPSILON,
        };
        let out = bn.forward(&array![[5.0], [-1.0]]);
        assert!((out[[0, 0]] - 3.0).abs() < 1e-6 && (out[[1, 0]] + 3.0).abs() < 1e-6);
    }

    #[test]
    fn folded_dense_equals_dense_then_batch_norm() {
        // W = [[1, 2], [3, 4]], b = [0.5, −0.5]; x = [1, 1] gives Wx + b = [4.5, 5.5].
        // BN: s = [2, 0.5] (γ = [2, 0.5], σ² + ε = 1), μ = [0.5, 1.5], β = [0, 1]:
        // y = [2·4, 0.5·4 + 1] = [8, 3]. Folded: W' = [[2, 1], [6, 2]], b' = [0, 1 − 1] →
        // x·W' + b' = [8, 3].
        let dense = Dense {
            weights: array![[1.0, 2.0], [3.0, 4.0]],
            bias: array![0.5, -0.5],
        };
        let bn = BatchNorm {
            shape: Shape::flat(2),
            gamma: array![2.0, 0.5],
            beta: array![0.0, 1.0],
            mean: array![0.5, 1.5],
            variance: array![1.0 - DEFAULT_EPSILON, 1.0 - DEFAULT_EPSILON],
            epsilon: DEFAULT_EPSILON,
        };
        let x = array![[1.0, 1.0]];
        let unfolded = bn.forward(&dense.forward(&x));
        let folded = bn.fold_into_dense(dense);
        let expected = array![[8.0, 3.0]];
        for (a, b) in unfolded
            .iter()
            .chain(folded.forward(&x).iter())
            .zip(expected.iter().cycle())
        {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        assert!((folded.weights[[1, 0]] - 6.0).abs() < 1e-5);
        assert!(folded.bias[1].abs() < 1e-5);
    }

    #[test]
    fn folded_convolutions_equal_convolution_then_batch_norm() {
        let mut init = Init::new(21);
        let shape = Shape::new(5, 4, 3);
        let x = matrix(init.he_normal(2 * shape.len(), 1), 2, shape.len());

        let conv = Conv2d::new(shape, (3, 3), (1, 1), Padding::Same, 6, &mut init).expect("fits");
        let bn = BatchNorm::seeded(conv.output_shape(), &mut init);
        let unfolded = bn.forward(&conv.forward(&x));
        let folded = bn.fold_into_conv(conv).forward(&x);
        assert!(
            unfolded
                .iter()
                .zip(&folded)
                .all(|(a, b)| (a - b).abs() < 1e-5)
        );

        let dw =
            DepthwiseConv2d::new(shape, (3, 3), (2, 2), Padding::Same, &mut init).expect("fits");
        let bn = BatchNorm::seeded(dw.output_shape(), &mut init);
        let unfolded = bn.forward(&dw.forward(&x));
        let folded = bn.fold_into_depthwise(dw).forward(&x);
        assert!(
            unfolded
                .iter()
                .zip(&folded)
                .all(|(a, b)| (a - b).abs() < 1e-5)
        );
    }
}
