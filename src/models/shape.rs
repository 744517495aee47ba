//! The shape of one input's activations: height × width × channels, stored channels-last.
//!
//! A batch of activations is an `Array2<f32>` of `batch` rows, each row one input's tensor
//! flattened in HWC order (row-major: channel fastest, then width, then height), so a dense
//! layer sees a plain matrix and a convolution reads pixel `(y, x)` at
//! `(y·width + x)·channels`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Height × width × channels of one input's tensor; a flat vector is `1 × 1 × n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl Shape {
    /// A feature map of `height × width × channels`.
    pub const fn new(height: usize, width: usize, channels: usize) -> Shape {
        Shape {
            height,
            width,
            channels,
        }
    }

    /// A flat vector of `len` features.
    pub const fn flat(len: usize) -> Shape {
        Shape::new(1, 1, len)
    }

    /// Number of values in one input's tensor.
    pub const fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// True for a tensor without values (never built by the zoo).
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the shape is a plain vector (`1 × 1 × n`).
    pub const fn is_flat(&self) -> bool {
        self.height == 1 && self.width == 1
    }
}

impl fmt::Display for Shape {
    /// `25×5×64` for a feature map, `640` for a vector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_flat() {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}×{}×{}", self.height, self.width, self.channels)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_count_and_print_their_values() {
        assert_eq!(Shape::new(49, 10, 1).len(), 490);
        assert_eq!(Shape::new(25, 5, 64).to_string(), "25×5×64");
        assert_eq!(Shape::flat(640).to_string(), "640");
        assert!(Shape::flat(3).is_flat() && !Shape::new(2, 1, 1).is_flat());
    }
}
