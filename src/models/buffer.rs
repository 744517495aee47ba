//! Small helpers between ndarray arrays and the flat slices the loops work on.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView2};

/// The values of `a` in row-major order, borrowed when `a` is already laid out that way
/// (every array the layers build is).
pub fn values(a: &Array2<f32>) -> Cow<'_, [f32]> {
    match a.as_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// `values` as a `rows × cols` matrix.
///
/// # Panics
/// If `values.len() != rows · cols`: the layers size every buffer from their shapes, so a
/// mismatch is a bug in a layer, never a property of the input data.
pub fn matrix(values: Vec<f32>, rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_vec((rows, cols), values)
        .expect("a layer buffer holds exactly rows × cols values")
}

/// `values` viewed as a `rows × cols` matrix, with the same panic as [`matrix`].
pub fn view(values: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), values)
        .expect("a layer buffer holds exactly rows × cols values")
}
