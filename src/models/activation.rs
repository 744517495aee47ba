//! The activation layer: our f32 kernels applied in place to a batch of activations.
//!
//! Forward calls `kernels::apply_in_place_with` at the dispatched instruction set (the
//! same kernel `actprof bench` times), so a model's activation time is the kernels' time on
//! the model's tensor sizes. Backward multiplies the incoming gradient by `f'(x)`
//! ([`super::derivative`]) at the layer's input.

use ndarray::Array2;

use super::derivative::derivative;
use super::shape::Shape;
use crate::kernels::{self, Activation, Isa};

/// An element-wise activation over tensors of `shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationLayer {
    pub shape: Shape,
    pub activation: Activation,
    /// The kernel path; [`kernels::dispatched_isa`] unless a test chooses another.
    pub isa: Isa,
}

impl ActivationLayer {
    /// `activation` over `shape` on the dispatched kernels.
    pub fn new(shape: Shape, activation: Activation) -> ActivationLayer {
        ActivationLayer {
            shape,
            activation,
            isa: kernels::dispatched_isa(),
        }
    }

    /// Applies the activation to every value, in place.
    pub fn forward(&self, mut batch: Array2<f32>) -> Array2<f32> {
        match batch.as_slice_mut() {
            Some(values) => kernels::apply_in_place_with(self.isa, self.activation, values),
            // Arrays built by the layers are always contiguous; a view from elsewhere is
            // handled element by element through the same kernel.
            None => batch.map_inplace(|v| {
                let mut one = [*v];
                kernels::apply_in_place_with(self.isa, self.activation, &mut one);
                *v = one[0];
            }),
        }
        batch
    }

    /// The gradient at the input: `grad_output · f'(input)`.
    pub fn backward(&self, input: &Array2<f32>, grad_output: &Array2<f32>) -> Array2<f32> {
        let mut grad = grad_output.clone();
        grad.zip_mut_with(input, |g, &x| *g *= derivative(self.activation, x));
        grad
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn forward_applies_the_kernel_in_place() {
        let layer = ActivationLayer::new(Shape::flat(3), Activation::LeakyRelu { alpha: 0.5 });
        let out = layer.forward(array![[-2.0, 0.0, 3.0], [4.0, -1.0, -0.5]]);
        // x > 0 ? x : 0.5·x.
        assert_eq!(out, array![[-1.0, 0.0, 3.0], [4.0, -0.5, -0.25]]);
    }

    #[test]
    fn backward_scales_by_the_slope() {
        let layer = ActivationLayer::new(Shape::flat(2), Activation::Relu);
        let grad = layer.backward(&array![[-1.0, 2.0]], &array![[5.0, 7.0]]);
        assert_eq!(grad, array![[0.0, 7.0]]);
    }
}
