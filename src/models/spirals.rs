//! The two-spirals data set, generated (nothing is downloaded).
//!
//! Class `k ∈ {0, 1}`, point `i` of `n`: radius `r = i / n`, angle `θ = 3π·r + k·π`
//! (one and a half turns, the second spiral the first turned by half a circle), position
//! `(r·cos θ, r·sin θ)` plus Gaussian noise of standard deviation `noise` on each
//! coordinate from a `ChaCha8Rng` seeded with `seed`. Points lie within about the unit
//! disc; the classes interleave, so a linear model cannot separate them (K. J. Lang,
//! M. J. Witbrock, "Learning to tell two spirals apart", 1988).

use ndarray::Array2;

use super::buffer::matrix;
use super::init::Init;

/// Noise of the built-in experiment's points (per coordinate, standard deviation).
pub const DEFAULT_NOISE: f32 = 0.03;

/// Labelled points: `inputs` is `2n × 2`, `labels[i]` the class of row `i`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spirals {
    pub inputs: Array2<f32>,
    pub labels: Vec<usize>,
}

/// `points_per_class` points of each spiral, class 0 first.
pub fn two_spirals(points_per_class: usize, noise: f32, seed: u64) -> Spirals {
    let mut init = Init::new(seed);
    let mut values = Vec::with_capacity(4 * points_per_class);
    let mut labels = Vec::with_capacity(2 * points_per_class);
    for class in 0..2 {
        for i in 0..points_per_class {
            let r = i as f32 / points_per_class as f32;
            let theta = 3.0 * std::f32::consts::PI * r + class as f32 * std::f32::consts::PI;
            values.push(r * theta.cos() + noise * init.standard_normal());
            values.push(r * theta.sin() + noise * init.standard_normal());
            labels.push(class);
        }
    }
    Spirals {
        inputs: matrix(values, 2 * points_per_class, 2),
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_follow_the_definition_without_noise() {
        let s = two_spirals(4, 0.0, 1);
        assert_eq!(s.inputs.dim(), (8, 2));
        assert_eq!(s.labels, [0, 0, 0, 0, 1, 1, 1, 1]);
        // Class 0, i = 2 of 4: r = 0.5, θ = 1.5π → (0, −0.5). Class 1 turns by π: (0, 0.5).
        let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
        assert!(close(s.inputs[[2, 0]], 0.0) && close(s.inputs[[2, 1]], -0.5));
        assert!(close(s.inputs[[6, 0]], 0.0) && close(s.inputs[[6, 1]], 0.5));
        // i = 0 is the centre for both classes.
        assert!(close(s.inputs[[0, 0]], 0.0) && close(s.inputs[[4, 1]], 0.0));
    }

    #[test]
    fn noise_is_seeded() {
        assert_eq!(two_spirals(50, 0.1, 3), two_spirals(50, 0.1, 3));
        assert_ne!(two_spirals(50, 0.1, 3), two_spirals(50, 0.1, 4));
    }
}
