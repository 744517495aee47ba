//! Average pooling over windows of a feature map (valid padding, as in the MLPerf Tiny
//! models), and the flatten step that turns a map into a vector.

use ndarray::Array2;

use super::buffer::{matrix, values};
use super::layer::LayerGrad;
use super::shape::Shape;
use super::window::{Padding, Window, WindowError};

/// The mean of each `kh × kw` window, per channel.
#[derive(Clone, Debug, PartialEq)]
pub struct AvgPool2d {
    pub window: Window,
}

impl AvgPool2d {
    /// Windows of `kernel` moved by `stride`, valid padding.
    pub fn new(
        input: Shape,
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Result<AvgPool2d, WindowError> {
        Ok(AvgPool2d {
            window: Window::new(input, kernel, stride, Padding::Valid)?,
        })
    }

    /// One window over the whole map: its per-channel mean.
    pub fn global(input: Shape) -> Result<AvgPool2d, WindowError> {
        let kernel = (input.height, input.width);
        AvgPool2d::new(input, kernel, kernel)
    }

    pub fn output_shape(&self) -> Shape {
        Shape::new(
            self.window.out_height,
            self.window.out_width,
            self.window.input.channels,
        )
    }

    pub fn forward(&self, input: &Array2<f32>) -> Array2<f32> {
        let w = &self.window;
        let channels = w.input.channels;
        let x = values(input);
        let out_len = w.positions() * channels;
        let norm = 1.0 / w.taps() as f32;
        let mut out = vec![0.0_f32; input.nrows() * out_len];
        for (sample, y) in out.chunks_exact_mut(out_len).enumerate() {
            let x = &x[sample * w.input.len()..][..w.input.len()];
            for (position, o) in y.chunks_exact_mut(channels).enumerate() {
                let (oy, ox) = (position / w.out_width, position % w.out_width);
                for pixel in self.pixels(oy, ox) {
                    for (acc, &xv) in o.iter_mut().zip(&x[pixel * channels..][..channels]) {
                        *acc += xv;
                    }
                }
                o.iter_mut().for_each(|v| *v *= norm);
            }
        }
        matrix(out, input.nrows(), out_len)
    }

    /// Each window's gradient spread evenly over its pixels: `dx += dy / (kh·kw)`.
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> LayerGrad {
        let w = &self.window;
        let channels = w.input.channels;
        let dy = values(grad_output);
        let norm = 1.0 / w.taps() as f32;
        let mut dx = vec![0.0_f32; input.len()];
        let out_len = w.positions() * channels;
        for (sample, dx) in dx.chunks_exact_mut(w.input.len()).enumerate() {
            let dy = &dy[sample * out_len..][..out_len];
            for (position, g) in dy.chunks_exact(channels).enumerate() {
                let (oy, ox) = (position / w.out_width, position % w.out_width);
                for pixel in self.pixels(oy, ox) {
                    for (d, &gv) in dx[pixel * channels..][..channels].iter_mut().zip(g) {
                        *d += gv * norm;
                    }
                }
            }
        }
        LayerGrad {
            input: matrix(dx, input.nrows(), input.ncols()),
            weights: None,
            bias: None,
        }
    }

    fn pixels(&self, oy: usize, ox: usize) -> impl Iterator<Item = usize> + '_ {
        let w = &self.window;
        (0..w.kernel.0)
            .flat_map(move |ky| (0..w.kernel.1).filter_map(move |kx| w.source(oy, ox, ky, kx)))
    }
}

/// Reinterprets a feature map as a vector; the values do not move (rows are HWC already).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flatten {
    pub input: Shape,
}

impl Flatten {
    pub fn output_shape(&self) -> Shape {
        Shape::flat(self.input.len())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn windows_average_by_hand() {
        // 2×4×1 map 1 2 3 4 / 5 6 7 8 pooled 2×2, stride 2: (1+2+5+6)/4 = 3.5 and
        // (3+4+7+8)/4 = 5.5.
        let pool = AvgPool2d::new(Shape::new(2, 4, 1), (2, 2), (2, 2)).expect("fits");
        let out = pool.forward(&array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]);
        assert_eq!(out, array![[3.5, 5.5]]);
        assert_eq!(pool.output_shape(), Shape::new(1, 2, 1));
    }

    #[test]
    fn global_pooling_averages_each_channel() {
        // Two channels over a 1×3 map: channel 0 = 1, 2, 6 → 3; channel 1 = 0, 3, 3 → 2.
        let pool = AvgPool2d::global(Shape::new(1, 3, 2)).expect("fits");
        assert_eq!(
            pool.forward(&array![[1.0, 0.0, 2.0, 3.0, 6.0, 3.0]]),
            array![[3.0, 2.0]]
        );
        let grad = pool.backward(&array![[0.0; 6]], &array![[3.0, 6.0]]);
        assert_eq!(grad.input, array![[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]]);
    }
}
