//! Seeded weight initialisation: He (Kaiming) normal and Glorot (Xavier) uniform.
//!
//! - He normal: `N(0, 2 / fan_in)`, for layers followed by a ReLU-family activation
//!   (K. He et al., "Delving Deep into Rectifiers", ICCV 2015).
//! - Glorot uniform: `U(−l, l)` with `l = √(6 / (fan_in + fan_out))`, for the last layer
//!   (X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
//!   neural networks", AISTATS 2010).
//!
//! Normal deviates come from the Box–Muller transform of two uniform draws of a
//! `ChaCha8Rng`, so the same seed gives the same weights on every machine. Biases start at
//! zero. The latency of our dense, convolution and activation kernels does not depend on
//! the weight values (no data-dependent branches or sparsity shortcuts; inputs and weights
//! stay in the normal f32 range), so seeded random weights time the same as trained ones.

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// A seeded source of initial weights.
pub struct Init {
    rng: ChaCha8Rng,
}

impl Init {
    /// A generator whose draws depend only on `seed`.
    pub fn new(seed: u64) -> Init {
        Init {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A uniform draw from `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        self.rng.random_range(low..high)
    }

    /// A standard normal deviate (Box–Muller; the second deviate of the pair is dropped so
    /// that every call consumes exactly two draws).
    pub fn standard_normal(&mut self) -> f32 {
        // u1 in (0, 1] keeps the logarithm finite.
        let u1 = 1.0 - self.rng.random::<f64>();
        let u2 = self.rng.random::<f64>();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    /// `count` He-normal weights for a layer with `fan_in` inputs per output.
    pub fn he_normal(&mut self, count: usize, fan_in: usize) -> Vec<f32> {
        let std = (2.0 / fan_in.max(1) as f32).sqrt();
        (0..count).map(|_| std * self.standard_normal()).collect()
    }

    /// `count` Glorot-uniform weights for a layer with the given fans.
    pub fn glorot_uniform(&mut self, count: usize, fan_in: usize, fan_out: usize) -> Vec<f32> {
        let limit = (6.0 / (fan_in + fan_out).max(1) as f32).sqrt();
        (0..count).map(|_| self.uniform(-limit, limit)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_scaled_as_defined() {
        let a = Init::new(3).he_normal(20_000, 50);
        assert_eq!(a, Init::new(3).he_normal(20_000, 50));
        // He normal with fan_in 50: variance 2/50 = 0.04.
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let var = a.iter().map(|w| (w - mean).powi(2)).sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 0.04).abs() < 0.003, "{var}");

        // Glorot uniform with fans 10 and 14: limit √(6/24) = 0.5.
        let g = Init::new(4).glorot_uniform(10_000, 10, 14);
        assert!(g.iter().all(|w| w.abs() <= 0.5));
        assert!(g.iter().any(|w| w.abs() > 0.49));
    }
}
