//! The MLPerf Tiny benchmark models a DUT may report in `m-model-[…]`, with what the host
//! needs to drive one: the input tensor's size and the runner's default `infer N W`.
//!
//! Input sizes, in bytes as downloaded with `db`:
//! - `ic01` (ResNet on CIFAR-10): a 32 × 32 RGB int8 image, 32·32·3 = 3072 bytes; the
//!   image-classification reference firmware's `MAX_DB_INPUT_SIZE`
//!   (`mlcommons/tiny` `benchmark/reference_submissions/image_classification`).
//! - `kws01` (DS-CNN on Speech Commands): 49 MFCC frames × 10 coefficients, int8,
//!   49·10 = 490 bytes (`kKwsInputSize = kNumCols · kNumRows` in the keyword-spotting
//!   reference's model settings).
//! - `vww01` (MobileNet on Visual Wake Words): a 96 × 96 RGB int8 image, 96·96·3 = 27648
//!   bytes, the generic API's `MAX_DB_INPUT_SIZE`.
//! - `ad01` (deep autoencoder on ToyADMOS): 5 frames × 128 mel bins = 640 features as
//!   little-endian f32, 640·4 = 2560 bytes (derived from the reference model's 640-wide
//!   input layer; not read in a firmware header).
//!
//! The input tensor actprof downloads is deterministic random data of that size: int8
//! bytes for the image and audio models, and for `ad01` little-endian f32 values in
//! [-1, 1), so no NaN, infinity or subnormal (which some MCU floating-point units handle
//! in slow software paths) skews the timing.
//!
//! Default `infer N W` per model, performance mode: `tests_performance.yaml` of the
//! MLCommons runner (`ad01 1500 10`, `ic01 20 5`, `kws01 70 10`, `vww01 20 5`).

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// The element type of a model's input tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    /// One byte per element (quantized int8 models).
    Int8,
    /// Four bytes per element, little-endian IEEE 754.
    Float32,
}

/// One benchmark model as the host knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Model {
    /// The name in `m-model-[…]`, e.g. `ic01`.
    pub name: &'static str,
    /// What the model does, for messages.
    pub task: &'static str,
    /// Bytes of one input tensor as downloaded with `db`.
    pub input_bytes: usize,
    /// What the input's elements are.
    pub element: Element,
    /// The runner's inferences per window (`infer N W`'s N) in performance mode.
    pub inferences: u32,
    /// The runner's warm-up inferences (`infer N W`'s W) in performance mode.
    pub warmup: u32,
}

/// The models whose input size actprof knows.
pub const MODELS: [Model; 4] = [
    Model {
        name: "ic01",
        task: "image classification",
        input_bytes: 32 * 32 * 3,
        element: Element::Int8,
        inferences: 20,
        warmup: 5,
    },
    Model {
        name: "kws01",
        task: "keyword spotting",
        input_bytes: 49 * 10,
        element: Element::Int8,
        inferences: 70,
        warmup: 10,
    },
    Model {
        name: "vww01",
        task: "visual wake words",
        input_bytes: 96 * 96 * 3,
        element: Element::Int8,
        inferences: 20,
        warmup: 5,
    },
    Model {
        name: "ad01",
        task: "anomaly detection",
        input_bytes: 5 * 128 * 4,
        element: Element::Float32,
        inferences: 1500,
        warmup: 10,
    },
];

impl Model {
    /// The model called `name` (exact, as the firmware prints it).
    pub fn find(name: &str) -> Option<&'static Model> {
        MODELS.iter().find(|model| model.name == name)
    }

    /// The known model names, comma-separated, for messages.
    pub fn names() -> String {
        MODELS.map(|model| model.name).join(", ")
    }

    /// The input tensor downloaded before every window: `input_bytes` bytes from a
    /// ChaCha8 generator seeded with `seed` (f32 elements uniform in [-1, 1)), so a run
    /// can be repeated byte for byte. Accuracy is not scored.
    pub fn input_tensor(&self, seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        match self.element {
            Element::Int8 => {
                let mut bytes = vec![0u8; self.input_bytes];
                rand::Rng::fill_bytes(&mut rng, &mut bytes);
                bytes
            }
            Element::Float32 => (0..self.input_bytes / 4)
                .flat_map(|_| rng.random_range(-1.0f32..1.0).to_le_bytes())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sizes_follow_the_tensor_shapes() {
        let size = |name| Model::find(name).map(|model| model.input_bytes);
        assert_eq!(size("ic01"), Some(3072));
        assert_eq!(size("kws01"), Some(490));
        assert_eq!(size("vww01"), Some(27648));
        assert_eq!(size("ad01"), Some(2560));
        assert_eq!(size("IC01"), None);
        assert_eq!(Model::names(), "ic01, kws01, vww01, ad01");
    }

    #[test]
    fn the_input_tensor_is_deterministic_per_seed() {
        let model = Model::find("kws01").expect("known");
        let first = model.input_tensor(7);
        assert_eq!(first.len(), 490);
        assert_eq!(first, model.input_tensor(7));
        assert_ne!(first, model.input_tensor(8));
    }

    #[test]
    fn float_inputs_are_normal_numbers_in_range() {
        let model = Model::find("ad01").expect("known");
        let bytes = model.input_tensor(1);
        assert_eq!(bytes.len(), 2560);
        for chunk in bytes.chunks_exact(4) {
            let value = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            assert!((-1.0..1.0).contains(&value), "{value}");
            assert!(value == 0.0 || value.is_normal(), "{value}");
        }
    }
}
