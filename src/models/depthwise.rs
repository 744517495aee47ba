//! Depthwise 2-D convolution: one `kh × kw` filter per channel (depth multiplier 1).
//!
//! - **direct loop** (the default): for each output position and kernel tap inside the
//!   input, add `x[pixel, :] · W[tap, :]` over the channels, which are contiguous, so the
//!   loop vectorises across channels.
//! - **im2col + matrix product**: per channel, its receptive fields are gathered into a
//!   `(batch·positions) × (kh·kw)` matrix and multiplied by that channel's `kh·kw` weights
//!   (a matrix–vector product), then scattered back into channels-last order.
//!
//! On the kws-dscnn depthwise layers (3×3 over 25×5×64, batch 1; `cargo bench --bench
//! models`, criterion medians, release, the same loaded machine as in [`super::conv`]) the
//! direct loop takes 10.2 µs and im2col 182.6 µs: a depthwise layer has only 9 MACs per
//! output, too few for a matrix product to pay for the copies and the strided gathers, so
//! the direct loop is the default.
//!
//! MACs: `positions · channels · kh·kw` (padding taps included, as for [`super::conv`]).

use ndarray::{Array1, Array2};

use super::buffer::{matrix, values};
use super::conv::ConvMethod;
use super::init::Init;
use super::layer::LayerGrad;
use super::shape::Shape;
use super::window::{Padding, Window, WindowError};

/// A depthwise convolution; its output has the input's channels.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthwiseConv2d {
    pub window: Window,
    /// `(kh·kw) × channels`, rows in (tap row, tap column) order.
    pub weights: Array2<f32>,
    /// One per channel.
    pub bias: Array1<f32>,
    pub method: ConvMethod,
}

impl DepthwiseConv2d {
    /// He-normal weights (fan-in `kh·kw`) and zero biases; direct loop.
    pub fn new(
        input: Shape,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
        init: &mut Init,
    ) -> Result<DepthwiseConv2d, WindowError> {
        let window = Window::new(input, kernel, stride, padding)?;
        let taps = window.taps();
        let weights = matrix(
            init.he_normal(taps * input.channels, taps),
            taps,
            input.channels,
        );
        Ok(DepthwiseConv2d {
            window,
            weights,
            bias: Array1::zeros(input.channels),
            method: ConvMethod::Direct,
        })
    }

    pub fn output_shape(&self) -> Shape {
        Shape::new(
            self.window.out_height,
            self.window.out_width,
            self.window.input.channels,
        )
    }

    pub fn params(&self) -> usize {
        self.weights.len() + self.bias.len()
    }

    /// Multiply-accumulates per input: `positions · channels · kh·kw`.
    pub fn macs(&self) -> u64 {
        (self.window.positions() * self.weights.len()) as u64
    }

    pub fn forward(&self, input: &Array2<f32>) -> Array2<f32> {
        match self.method {
            ConvMethod::Direct => self.forward_direct(input),
            ConvMethod::Im2col => self.forward_im2col(input),
        }
    }

    fn forward_direct(&self, input: &Array2<f32>) -> Array2<f32> {
        let w = &self.window;
        let channels = w.input.channels;
        let weights = values(&self.weights);
        let bias = self.bias.to_vec();
        let x = values(input);
        let out_len = w.positions() * channels;
        let mut out = vec![0.0_f32; input.nrows() * out_len];
        for (sample, y) in out.chunks_exact_mut(out_len).enumerate() {
            let x = &x[sample * w.input.len()..][..w.input.len()];
            for oy in 0..w.out_height {
                for ox in 0..w.out_width {
                    let o = &mut y[(oy * w.out_width + ox) * channels..][..channels];
                    o.copy_from_slice(&bias);
                    for ky in 0..w.kernel.0 {
                        for kx in 0..w.kernel.1 {
                            let Some(pixel) = w.source(oy, ox, ky, kx) else {
                                continue;
                            };
                            let tap = &weights[(ky * w.kernel.1 + kx) * channels..][..channels];
                            let xs = &x[pixel * channels..][..channels];
                            for ((acc, &xv), &wv) in o.iter_mut().zip(xs).zip(tap) {
                                *acc += xv * wv;
                            }
                        }
                    }
                }
            }
        }
        matrix(out, input.nrows(), out_len)
    }

    fn forward_im2col(&self, input: &Array2<f32>) -> Array2<f32> {
        let w = &self.window;
        let (channels, taps) = (w.input.channels, w.taps());
        let rows = input.nrows() * w.positions();
        let x = values(input);
        let mut out = vec![0.0_f32; rows * channels];
        let mut cols = vec![0.0_f32; rows * taps];
        for c in 0..channels {
            cols.fill(0.0);
            for (row_index, row) in cols.chunks_exact_mut(taps).enumerate() {
                let sample = row_index / w.positions();
                let position = row_index % w.positions();
                let (oy, ox) = (position / w.out_width, position % w.out_width);
                for ky in 0..w.kernel.0 {
                    for kx in 0..w.kernel.1 {
                        if let Some(pixel) = w.source(oy, ox, ky, kx) {
                            row[ky * w.kernel.1 + kx] =
                                x[sample * w.input.len() + pixel * channels + c];
                        }
                    }
                }
            }
            let column = super::buffer::view(&cols, rows, taps).dot(&self.weights.column(c));
            for (row_index, value) in column.iter().enumerate() {
                out[row_index * channels + c] = value + self.bias[c];
            }
        }
        matrix(out, input.nrows(), w.positions() * channels)
    }

    /// `dW[tap, c] = Σ x[pixel(tap), c]·dy[c]`, `db = Σ dy`, `dx[pixel, c] += W[tap, c]·dy`.
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> LayerGrad {
        let w = &self.window;
        let channels = w.input.channels;
        let weights = values(&self.weights);
        let x = values(input);
        let dy = values(grad_output);
        let mut dw = vec![0.0_f32; self.weights.len()];
        let mut db = vec![0.0_f32; channels];
        let mut dx = vec![0.0_f32; x.len()];
        let out_len = w.positions() * channels;
        for sample in 0..input.nrows() {
            let x = &x[sample * w.input.len()..][..w.input.len()];
            let dx = &mut dx[sample * w.input.len()..][..w.input.len()];
            for oy in 0..w.out_height {
                for ox in 0..w.out_width {
                    let g =
                        &dy[sample * out_len + (oy * w.out_width + ox) * channels..][..channels];
                    for (acc, &gv) in db.iter_mut().zip(g) {
                        *acc += gv;
                    }
                    for ky in 0..w.kernel.0 {
                        for kx in 0..w.kernel.1 {
                            let Some(pixel) = w.source(oy, ox, ky, kx) else {
                                continue;
                            };
                            let tap = (ky * w.kernel.1 + kx) * channels;
                            for c in 0..channels {
                                dw[tap + c] += x[pixel * channels + c] * g[c];
                                dx[pixel * channels + c] += weights[tap + c] * g[c];
                            }
                        }
                    }
                }
            }
        }
        LayerGrad {
            input: matrix(dx, input.nrows(), w.input.len()),
            weights: Some(matrix(dw, w.taps(), channels)),
            bias: Some(Array1::from(db)),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn each_channel_has_its_own_filter_by_hand() {
        // 2×2×2 input, 2×2 kernel, valid: one output per channel.
        // Channel 0 pixels 1 2 3 4, filter 1 0 0 1 → 1 + 4 = 5, bias 1 → 6.
        // Channel 1 pixels 10 20 30 40, filter 0 1 1 0 → 20 + 30 = 50, bias −1 → 49.
        let window =
            Window::new(Shape::new(2, 2, 2), (2, 2), (1, 1), Padding::Valid).expect("fits");
        let layer = DepthwiseConv2d {
            window,
            weights: array![[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
            bias: array![1.0, -1.0],
            method: ConvMethod::Direct,
        };
        let input = array![[1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0]];
        for method in [ConvMethod::Direct, ConvMethod::Im2col] {
            let layer = DepthwiseConv2d {
                method,
                ..layer.clone()
            };
            assert_eq!(layer.forward(&input), array![[6.0, 49.0]], "{method:?}");
        }
        assert_eq!((layer.params(), layer.macs()), (10, 8));
    }

    #[test]
    fn methods_agree_with_same_padding_and_stride() {
        let mut init = Init::new(9);
        let mut layer = DepthwiseConv2d::new(
            Shape::new(6, 5, 7),
            (3, 3),
            (2, 2),
            Padding::Same,
            &mut init,
        )
        .expect("fits");
        layer.bias = Array1::from(init.he_normal(7, 1));
        let input = matrix(init.he_normal(3 * 6 * 5 * 7, 1), 3, 6 * 5 * 7);
        let a = layer.forward(&input);
        layer.method = ConvMethod::Im2col;
        let b = layer.forward(&input);
        assert_eq!(a.dim(), (3, 3 * 3 * 7));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }
}
