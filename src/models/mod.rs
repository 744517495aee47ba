//! Small models on ndarray whose activation is a parameter: the layers, the zoo shaped
//! after MLPerf Tiny, timing whole inferences, and the dying-ReLU training experiment.
//!
//! Layout: [`shape`] and [`window`] hold the geometry; one file per layer kind
//! ([`dense`], [`conv`], [`depthwise`], [`batchnorm`] with folding, [`pool`],
//! [`activation`], which calls our kernels); [`layer`] unites them, [`model`] chains them
//! (with residual connections) and reports parameters, MACs and activation memory;
//! [`zoo`] builds the four models; [`measure`] times inferences with the harness's
//! statistics; [`spirals`], [`mlp`] and [`train`] are the training experiment, with
//! [`derivative`] the activations' slopes for backpropagation.
//!
//! Tensors are `Array2<f32>` batches: one row per input, each row one input's HWC tensor
//! ([`shape`]). Everything runs on the calling thread.

pub mod activation;
pub mod batchnorm;
pub mod buffer;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod derivative;
pub mod init;
pub mod layer;
pub mod measure;
pub mod mlp;
pub mod model;
pub mod pool;
pub mod shape;
pub mod spirals;
pub mod train;
pub mod window;
pub mod zoo;

pub use layer::{Layer, LayerGrad};
pub use model::{Model, ModelError, ModelSummary, Step, SummaryRow};
pub use shape::Shape;
pub use zoo::{ModelKind, ModelSpec, UnknownModel};

#[cfg(test)]
mod zoo_tests;

#[cfg(test)]
mod gradient_tests;
