//! Where a sliding window (convolution, pooling) reads its input.
//!
//! Padding follows TensorFlow's rules, which the MLPerf Tiny reference models use:
//! `Valid` keeps windows inside the input, `out = ⌊(in − k) / s⌋ + 1`; `Same` gives
//! `out = ⌈in / s⌉` and pads `max((out − 1)·s + k − in, 0)` zeros, the smaller half
//! before (top, left) and the larger after.

use serde::{Deserialize, Serialize};

use super::shape::Shape;

/// How a window treats the input's border.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Padding {
    /// No padding: windows lie entirely inside the input.
    Valid,
    /// Zero padding so that `out = ⌈in / stride⌉`.
    Same,
}

/// The geometry of one windowed layer: input, kernel, stride and where the padding goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub input: Shape,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// Zero rows above and zero columns left of the input.
    pub pad_before: (usize, usize),
    pub out_height: usize,
    pub out_width: usize,
}

/// Why a window does not fit its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("kernel and stride must be at least 1×1, got kernel {kernel:?} stride {stride:?}")]
    Degenerate {
        kernel: (usize, usize),
        stride: (usize, usize),
    },
    #[error("a {kernel:?} window with valid padding does not fit a {input} input")]
    TooLarge {
        kernel: (usize, usize),
        input: Shape,
    },
}

impl Window {
    /// The geometry of a `kernel` window moving by `stride` over `input`.
    pub fn new(
        input: Shape,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Window, WindowError> {
        if kernel.0 == 0 || kernel.1 == 0 || stride.0 == 0 || stride.1 == 0 {
            return Err(WindowError::Degenerate { kernel, stride });
        }
        let axis = |size: usize, k: usize, s: usize| -> Option<(usize, usize)> {
            match padding {
                Padding::Valid => (size >= k).then(|| ((size - k) / s + 1, 0)),
                Padding::Same => {
                    let out = size.div_ceil(s);
                    let total = ((out - 1) * s + k).saturating_sub(size);
                    Some((out, total / 2))
                }
            }
        };
        let too_large = WindowError::TooLarge { kernel, input };
        let (out_height, pad_top) =
            axis(input.height, kernel.0, stride.0).ok_or_else(|| too_large.clone())?;
        let (out_width, pad_left) = axis(input.width, kernel.1, stride.1).ok_or(too_large)?;
        Ok(Window {
            input,
            kernel,
            stride,
            pad_before: (pad_top, pad_left),
            out_height,
            out_width,
        })
    }

    /// Output positions per input channel.
    pub fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    /// Kernel taps per channel.
    pub fn taps(&self) -> usize {
        self.kernel.0 * self.kernel.1
    }

    /// The input pixel under kernel tap `(ky, kx)` at output `(oy, ox)`, or `None` where
    /// the tap falls on padding.
    #[inline]
    pub fn source(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<usize> {
        let y = (oy * self.stride.0 + ky).checked_sub(self.pad_before.0)?;
        let x = (ox * self.stride.1 + kx).checked_sub(self.pad_before.1)?;
        (y < self.input.height && x < self.input.width).then_some(y * self.input.width + x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_follows_tensorflow() {
        // 49 rows, kernel 10, stride 2: out = ⌈49/2⌉ = 25, padding (24·2 + 10 − 49) = 9,
        // 4 before and 5 after. 10 columns, kernel 4, stride 2: out 5, padding 2, 1 before.
        let w = Window::new(Shape::new(49, 10, 1), (10, 4), (2, 2), Padding::Same).expect("fits");
        assert_eq!((w.out_height, w.out_width), (25, 5));
        assert_eq!(w.pad_before, (4, 1));
        // Output (0, 0), tap (0, 0) reads row −4: padding. Tap (4, 1) reads pixel (0, 0).
        assert_eq!(w.source(0, 0, 0, 0), None);
        assert_eq!(w.source(0, 0, 4, 1), Some(0));
        assert_eq!(w.source(1, 2, 4, 1), Some(2 * 10 + 4));
    }

    #[test]
    fn valid_padding_drops_what_does_not_fit() {
        // 25 rows pooled by 24 with stride 24: one window, the last row unused.
        let w = Window::new(Shape::new(25, 5, 64), (24, 5), (24, 5), Padding::Valid).expect("fits");
        assert_eq!((w.out_height, w.out_width, w.pad_before), (1, 1, (0, 0)));
        let error = Window::new(Shape::new(3, 3, 1), (4, 1), (1, 1), Padding::Valid);
        assert!(matches!(error, Err(WindowError::TooLarge { .. })));
        let error = Window::new(Shape::new(3, 3, 1), (0, 1), (1, 1), Padding::Same);
        assert!(matches!(error, Err(WindowError::Degenerate { .. })));
    }
}
