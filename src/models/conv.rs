//! 2-D convolution over channels-last feature maps, two ways.
//!
//! - **im2col + matrix product**: every output position's receptive field is copied into
//!   one row of a `(batch·positions) × (kh·kw·c_in)` matrix (zeros where the window hangs
//!   over the padding), which one SGEMM multiplies by the `(kh·kw·c_in) × filters` weights.
//!   A 1×1 convolution with stride 1 needs no copy: the input already is that matrix.
//! - **direct loop**: for each output position, each kernel tap inside the input and each
//!   input channel, add `x · W[tap, c_in, :]` to the position's filters (the innermost loop
//!   runs over the filters, contiguous in memory, so it vectorises).
//!
//! Measured on the kws-dscnn layers at batch 1 (`cargo bench --bench models`, criterion
//! medians, release build, one core of the 2-vCPU AMD EPYC Zen 4 KVM guest while other
//! jobs kept it busy), the im2col path is the faster for both convolution shapes of the
//! zoo, so it is the default ([`ConvMethod::default`]):
//!
//! | layer | im2col + SGEMM | direct loop |
//! |---|---|---|
//! | conv 10×4 /2, 1 → 64 (49×10 input) | 20.0 µs | 37.0 µs |
//! | pointwise 1×1, 64 → 64 (25×5) | 12.9 µs | 47.9 µs |
//!
//! (matrixmultiply picks AVX2/FMA kernels at run time; the direct loop is compiled for the
//! x86-64 baseline like the rest of the crate outside `kernels`.)
//!
//! MACs count every kernel tap, padding included (`positions · filters · kh·kw·c_in`), the
//! convention of the TFLite profilers that MLPerf Tiny figures come from.

use ndarray::{Array1, Array2, Axis};

use super::buffer::{matrix, values, view};
use super::init::Init;
use super::layer::LayerGrad;
use super::shape::Shape;
use super::window::{Padding, Window, WindowError};

/// Which convolution algorithm a layer runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConvMethod {
    /// Receptive fields copied into a matrix, then one matrix product (the faster here).
    #[default]
    Im2col,
    /// Nested loops over positions, taps and channels.
    Direct,
}

/// A convolution with `filters` output channels.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub window: Window,
    /// `(kh·kw·c_in) × filters`, rows in (tap row, tap column, input channel) order.
    pub weights: Array2<f32>,
    /// One per filter.
    pub bias: Array1<f32>,
    pub method: ConvMethod,
}

impl Conv2d {
    /// He-normal weights (fan-in `kh·kw·c_in`) and zero biases.
    pub fn new(
        input: Shape,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
        filters: usize,
        init: &mut Init,
    ) -> Result<Conv2d, WindowError> {
        let window = Window::new(input, kernel, stride, padding)?;
        let fan_in = window.taps() * input.channels;
        let weights = matrix(init.he_normal(fan_in * filters, fan_in), fan_in, filters);
        Ok(Conv2d {
            window,
            weights,
            bias: Array1::zeros(filters),
            method: ConvMethod::default(),
        })
    }

    pub fn filters(&self) -> usize {
        self.weights.ncols()
    }

    pub fn output_shape(&self) -> Shape {
        Shape::new(
            self.window.out_height,
            self.window.out_width,
            self.filters(),
        )
    }

    pub fn params(&self) -> usize {
        self.weights.len() + self.bias.len()
    }

    /// Multiply-accumulates per input: `positions · filters · kh·kw·c_in`.
    pub fn macs(&self) -> u64 {
        (self.window.positions() * self.weights.len()) as u64
    }

    /// The convolution of every row of `input` (each one input's `window.input` map).
    pub fn forward(&self, input: &Array2<f32>) -> Array2<f32> {
        match self.method {
            ConvMethod::Im2col => self.forward_im2col(input),
            ConvMethod::Direct => self.forward_direct(input),
        }
    }

    fn forward_im2col(&self, input: &Array2<f32>) -> Array2<f32> {
        let batch = input.nrows();
        let positions = self.window.positions();
        let mut out = if self.is_pointwise() {
            let x = values(input);
            view(&x, batch * positions, self.window.input.channels).dot(&self.weights)
        } else {
            self.im2col(input).dot(&self.weights)
        };
        out += &self.bias;
        let filters = self.filters();
        matrix(out.into_raw_vec_and_offset().0, batch, positions * filters)
    }

    fn forward_direct(&self, input: &Array2<f32>) -> Array2<f32> {
        let w = &self.window;
        let (c_in, filters) = (w.input.channels, self.filters());
        let weights = values(&self.weights);
        let bias = self.bias.to_vec();
        let x = values(input);
        let mut out = vec![0.0_f32; input.nrows() * w.positions() * filters];
        for (sample, y) in out.chunks_exact_mut(w.positions() * filters).enumerate() {
            let x = &x[sample * w.input.len()..][..w.input.len()];
            for oy in 0..w.out_height {
                for ox in 0..w.out_width {
                    let o = &mut y[(oy * w.out_width + ox) * filters..][..filters];
                    o.copy_from_slice(&bias);
                    for ky in 0..w.kernel.0 {
                        for kx in 0..w.kernel.1 {
                            let Some(pixel) = w.source(oy, ox, ky, kx) else {
                                continue;
                            };
                            let tap = (ky * w.kernel.1 + kx) * c_in;
                            for (ci, &xv) in x[pixel * c_in..][..c_in].iter().enumerate() {
                                let row = &weights[(tap + ci) * filters..][..filters];
                                for (acc, &wv) in o.iter_mut().zip(row) {
                                    *acc += xv * wv;
                                }
                            }
                        }
                    }
                }
            }
        }
        matrix(out, input.nrows(), w.positions() * filters)
    }

    /// Gradients through the im2col form: `dW = colsᵀ·dy`, `db = Σ dy`,
    /// `dx = col2im(dy·Wᵀ)` (each column entry added back to the pixel it was copied from).
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> LayerGrad {
        let w = &self.window;
        let batch = input.nrows();
        let (c_in, filters) = (w.input.channels, self.filters());
        let dy_values = values(grad_output);
        let dy = view(&dy_values, batch * w.positions(), filters);
        let cols = self.im2col(input);
        let grad_weights = cols.t().dot(&dy);
        let grad_bias = dy.sum_axis(Axis(0));
        let grad_cols = dy.dot(&self.weights.t());

        let mut dx = vec![0.0_f32; batch * w.input.len()];
        for (sample, dx) in dx.chunks_exact_mut(w.input.len()).enumerate() {
            for oy in 0..w.out_height {
                for ox in 0..w.out_width {
                    let row = grad_cols.row(sample * w.positions() + oy * w.out_width + ox);
                    for ky in 0..w.kernel.0 {
                        for kx in 0..w.kernel.1 {
                            let Some(pixel) = w.source(oy, ox, ky, kx) else {
                                continue;
                            };
                            let tap = (ky * w.kernel.1 + kx) * c_in;
                            for ci in 0..c_in {
                                dx[pixel * c_in + ci] += row[tap + ci];
                            }
                        }
                    }
                }
            }
        }
        LayerGrad {
            input: matrix(dx, batch, w.input.len()),
            weights: Some(grad_weights),
            bias: Some(grad_bias),
        }
    }

    /// 1×1 kernel, stride 1: the input rows are the im2col matrix already.
    fn is_pointwise(&self) -> bool {
        self.window.kernel == (1, 1) && self.window.stride == (1, 1)
    }

    /// The `(batch·positions) × (kh·kw·c_in)` matrix of receptive fields.
    fn im2col(&self, input: &Array2<f32>) -> Array2<f32> {
        let w = &self.window;
        let c_in = w.input.channels;
        let width = w.taps() * c_in;
        let x = values(input);
        let mut cols = vec![0.0_f32; input.nrows() * w.positions() * width];
        for (row_index, row) in cols.chunks_exact_mut(width).enumerate() {
            let sample = row_index / w.positions();
            let (oy, ox) = (
                row_index % w.positions() / w.out_width,
                row_index % w.out_width,
            );
            let x = &x[sample * w.input.len()..][..w.input.len()];
            for ky in 0..w.kernel.0 {
                for kx in 0..w.kernel.1 {
                    if let Some(pixel) = w.source(oy, ox, ky, kx) {
                        let tap = (ky * w.kernel.1 + kx) * c_in;
                        row[tap..tap + c_in].copy_from_slice(&x[pixel * c_in..][..c_in]);
                    }
                }
            }
        }
        matrix(cols, input.nrows() * w.positions(), width)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    /// A 3×3×1 input, one 2×2 filter, stride 1, valid padding: worked by hand.
    fn tiny(method: ConvMethod) -> Conv2d {
        let window =
            Window::new(Shape::new(3, 3, 1), (2, 2), (1, 1), Padding::Valid).expect("fits");
        Conv2d {
            window,
            // Taps (0,0), (0,1), (1,0), (1,1).
            weights: array![[1.0], [0.0], [-1.0], [2.0]],
            bias: array![0.5],
            method,
        }
    }

    #[test]
    fn both_methods_give_the_hand_computed_output() {
        // Input 1 2 3 / 4 5 6 / 7 8 9. Output (0,0) = 1·1 + 2·0 − 4 + 2·5 + 0.5 = 7.5;
        // (0,1) = 2 − 5 + 12 + 0.5 = 9.5; (1,0) = 4 − 7 + 16 + 0.5 = 13.5;
        // (1,1) = 5 − 8 + 18 + 0.5 = 15.5.
        let input = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]];
        for method in [ConvMethod::Im2col, ConvMethod::Direct] {
            let out = tiny(method).forward(&input);
            assert_eq!(out, array![[7.5, 9.5, 13.5, 15.5]], "{method:?}");
        }
    }

    #[test]
    fn same_padding_and_stride_by_hand() {
        // 2×2×1 input, 3×3 kernel of ones, stride 2, same padding: out ⌈2/2⌉ = 1, padding
        // (0·2 + 3 − 2) = 1, none before. The window covers rows/cols 0..3 of which 0..2 are
        // real: the sum of all four pixels. Two filters: ones and twos.
        let window = Window::new(Shape::new(2, 2, 1), (3, 3), (2, 2), Padding::Same).expect("fits");
        let mut weights = Array2::ones((9, 2));
        weights.column_mut(1).fill(2.0);
        let conv = Conv2d {
            window,
            weights,
            bias: array![0.0, 1.0],
            method: ConvMethod::Im2col,
        };
        let input = array![[1.0, 2.0, 3.0, 4.0]];
        for method in [ConvMethod::Im2col, ConvMethod::Direct] {
            let conv = Conv2d {
                method,
                ..conv.clone()
            };
            assert_eq!(conv.forward(&input), array![[10.0, 21.0]], "{method:?}");
        }
        assert_eq!(conv.output_shape(), Shape::new(1, 1, 2));
        // One position × 2 filters × 9 taps.
        assert_eq!((conv.macs(), conv.params()), (18, 20));
    }

    #[test]
    fn methods_agree_on_a_random_multichannel_layer() {
        let mut init = Init::new(5);
        let mut conv = Conv2d::new(
            Shape::new(7, 6, 3),
            (3, 2),
            (2, 1),
            Padding::Same,
            4,
            &mut init,
        )
        .expect("fits");
        conv.bias = Array1::from(init.he_normal(4, 1));
        let input = matrix(init.he_normal(2 * 7 * 6 * 3, 1), 2, 7 * 6 * 3);
        let a = conv.forward(&input);
        conv.method = ConvMethod::Direct;
        let b = conv.forward(&input);
        assert_eq!(a.dim(), (2, 4 * 6 * 4));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }
}
