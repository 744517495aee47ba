//! The model zoo, shaped after the MLPerf Tiny reference models.
//!
//! Every model takes its hidden activation as a parameter; batch norm is folded into the
//! convolution or dense layer before it ([`super::batchnorm`]); dropout (a no-op at
//! inference) and the final softmax (not an activation of our set) are left out. Weights
//! come from a seeded He/Glorot initialisation ([`super::init`]) with seeded batch-norm
//! statistics; no trained weights are loaded.
//!
//! - `ad-autoencoder` (anomaly detection, MLPerf Tiny `ad01`): dense 640 → 128 → 128 →
//!   128 → 128 → 8 → 128 → 128 → 128 → 128 → 640, every hidden layer dense + batch norm +
//!   activation, the last linear.
//! - `kws-dscnn` (keyword spotting, `kws01`): a 49 × 10 × 1 MFCC input; conv 10 × 4,
//!   stride 2, same padding, 64 filters; four depthwise-separable blocks of 64 channels
//!   (depthwise 3 × 3 and pointwise 1 × 1, each batch norm + activation); average pooling
//!   over 24 × 5 of the 25 × 5 map (the reference pools `⌊49/2⌋ × ⌊10/2⌋`, so the last row
//!   is left out); dense 64 → 12.
//! - `ic-resnet8` (image classification, `ic01`): 32 × 32 × 3; conv 3 × 3, 16 filters;
//!   three residual stages of 16, 32 and 64 filters (two 3 × 3 convolutions each, the first
//!   with stride 2 in stages 2 and 3, whose shortcut is then a 1 × 1 stride-2 convolution
//!   without batch norm); activation after each add; global average pooling; dense 64 → 10.
//! - `mlp-small`: a configurable perceptron, `widths` from input to output (default
//!   2 → 64 → 64 → 64 → 2, the two-spirals network of `train-demo`); dense + activation
//!   per hidden layer, no batch norm.

use std::fmt;
use std::str::FromStr;

use super::batchnorm::BatchNorm;
use super::conv::Conv2d;
use super::dense::{Dense, InitKind};
use super::depthwise::DepthwiseConv2d;
use super::init::Init;
use super::layer::Layer;
use super::mlp::Mlp;
use super::model::{Model, ModelError, Step};
use super::pool::{AvgPool2d, Flatten};
use super::shape::Shape;
use super::window::{Padding, WindowError};
use crate::kernels::Activation;
use crate::models::activation::ActivationLayer;

/// The default widths of `mlp-small`, input to output.
pub const MLP_SMALL_WIDTHS: [usize; 5] = [2, 64, 64, 64, 2];

/// Which model of the zoo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    AdAutoencoder,
    KwsDscnn,
    IcResnet8,
    MlpSmall,
}

impl ModelKind {
    /// Every model, in report order.
    pub const ALL: [ModelKind; 4] = [
        ModelKind::AdAutoencoder,
        ModelKind::KwsDscnn,
        ModelKind::IcResnet8,
        ModelKind::MlpSmall,
    ];

    /// The stable name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::AdAutoencoder => "ad-autoencoder",
            ModelKind::KwsDscnn => "kws-dscnn",
            ModelKind::IcResnet8 => "ic-resnet8",
            ModelKind::MlpSmall => "mlp-small",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model name that is not in the zoo.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown model `{0}` (expected ad-autoencoder, kws-dscnn, ic-resnet8 or mlp-small)")]
pub struct UnknownModel(pub String);

impl FromStr for ModelKind {
    type Err = UnknownModel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s.trim())
            .ok_or_else(|| UnknownModel(s.trim().to_owned()))
    }
}

/// A model of the zoo with its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    pub kind: ModelKind,
    /// `mlp-small` only: the widths from input to output (at least two).
    pub widths: Vec<usize>,
}

impl ModelSpec {
    /// The model with its default options.
    pub fn new(kind: ModelKind) -> ModelSpec {
        ModelSpec {
            kind,
            widths: MLP_SMALL_WIDTHS.to_vec(),
        }
    }

    /// Builds the model with `activation` in every hidden layer and weights from `seed`.
    pub fn build(&self, activation: Activation, seed: u64) -> Result<Model, ModelError> {
        let mut init = Init::new(seed);
        match self.kind {
            ModelKind::AdAutoencoder => ad_autoencoder(activation, &mut init),
            ModelKind::KwsDscnn => kws_dscnn(activation, &mut init),
            ModelKind::IcResnet8 => ic_resnet8(activation, &mut init),
            ModelKind::MlpSmall => mlp_small(&self.widths, activation, seed),
        }
    }
}

/// Lays out a model step by step, tracking the current shape.
struct Builder<'a> {
    init: &'a mut Init,
    activation: Activation,
    shape: Shape,
    steps: Vec<Step>,
}

impl Builder<'_> {
    fn layer(&mut self, layer: Layer) {
        self.shape = layer.output_shape();
        self.steps.push(Step::Layer(layer));
    }

    fn refuse(&self, what: &str, error: WindowError) -> ModelError {
        ModelError::Layer {
            index: self.steps.len(),
            what: what.to_owned(),
            reason: error.to_string(),
        }
    }

    fn activate(&mut self) {
        let layer = ActivationLayer::new(self.shape, self.activation);
        self.layer(Layer::Activation(layer));
    }

    /// Convolution with batch norm folded in, then (optionally) the activation.
    fn conv(
        &mut self,
        kernel: (usize, usize),
        stride: usize,
        filters: usize,
        activate: bool,
    ) -> Result<(), ModelError> {
        let conv = Conv2d::new(
            self.shape,
            kernel,
            (stride, stride),
            Padding::Same,
            filters,
            self.init,
        )
        .map_err(|e| self.refuse("conv2d", e))?;
        let bn = BatchNorm::seeded(conv.output_shape(), self.init);
        self.layer(Layer::Conv2d(bn.fold_into_conv(conv)));
        if activate {
            self.activate();
        }
        Ok(())
    }

    /// Depthwise 3×3 + batch norm + activation, then pointwise 1×1 + batch norm +
    /// activation.
    fn separable(&mut self, filters: usize) -> Result<(), ModelError> {
        let dw = DepthwiseConv2d::new(self.shape, (3, 3), (1, 1), Padding::Same, self.init)
            .map_err(|e| self.refuse("depthwise", e))?;
        let bn = BatchNorm::seeded(dw.output_shape(), self.init);
        self.layer(Layer::Depthwise(bn.fold_into_depthwise(dw)));
        self.activate();
        self.conv((1, 1), 1, filters, true)
    }

    /// Dense (+ folded batch norm + activation for hidden layers).
    fn dense(&mut self, outputs: usize, hidden: bool, batch_norm: bool) {
        let kind = if hidden {
            InitKind::He
        } else {
            InitKind::Glorot
        };
        let mut dense = Dense::new(self.shape.len(), outputs, kind, self.init);
        if batch_norm {
            dense = BatchNorm::seeded(Shape::flat(outputs), self.init).fold_into_dense(dense);
        }
        self.layer(Layer::Dense(dense));
        if hidden {
            self.activate();
        }
    }

    /// A residual stage: two 3×3 convolutions, the first with `stride`; the shortcut is
    /// the identity, or a 1×1 convolution with `stride` when the shape changes.
    fn residual(&mut self, filters: usize, stride: usize) -> Result<(), ModelError> {
        let block_input = self.shape;
        self.steps.push(Step::Save);
        self.conv((3, 3), stride, filters, true)?;
        self.conv((3, 3), 1, filters, false)?;
        let projection = if block_input == self.shape {
            None
        } else {
            let conv = Conv2d::new(
                block_input,
                (1, 1),
                (stride, stride),
                Padding::Same,
                filters,
                self.init,
            )
            .map_err(|e| self.refuse("shortcut conv2d", e))?;
            Some(conv)
        };
        self.steps.push(Step::Add { projection });
        self.activate();
        Ok(())
    }

    fn pool(&mut self, kernel: (usize, usize)) -> Result<(), ModelError> {
        let pool =
            AvgPool2d::new(self.shape, kernel, kernel).map_err(|e| self.refuse("avg pool", e))?;
        self.layer(Layer::AvgPool(pool));
        self.layer(Layer::Flatten(Flatten { input: self.shape }));
        Ok(())
    }

    fn finish(self, name: &str, input: Shape) -> Result<Model, ModelError> {
        Model::new(name, input, self.steps)
    }
}

fn builder(init: &mut Init, activation: Activation, input: Shape) -> Builder<'_> {
    Builder {
        init,
        activation,
        shape: input,
        steps: Vec::new(),
    }
}

fn ad_autoencoder(activation: Activation, init: &mut Init) -> Result<Model, ModelError> {
    let input = Shape::flat(640);
    let mut b = builder(init, activation, input);
    for width in [128, 128, 128, 128, 8, 128, 128, 128, 128] {
        b.dense(width, true, true);
    }
    b.dense(640, false, false);
    b.finish(ModelKind::AdAutoencoder.name(), input)
}

fn kws_dscnn(activation: Activation, init: &mut Init) -> Result<Model, ModelError> {
    let input = Shape::new(49, 10, 1);
    let mut b = builder(init, activation, input);
    b.conv((10, 4), 2, 64, true)?;
    for _ in 0..4 {
        b.separable(64)?;
    }
    b.pool((input.height / 2, input.width / 2))?;
    b.dense(12, false, false);
    b.finish(ModelKind::KwsDscnn.name(), input)
}

fn ic_resnet8(activation: Activation, init: &mut Init) -> Result<Model, ModelError> {
    let input = Shape::new(32, 32, 3);
    let mut b = builder(init, activation, input);
    b.conv((3, 3), 1, 16, true)?;
    b.residual(16, 1)?;
    b.residual(32, 2)?;
    b.residual(64, 2)?;
    let map = (b.shape.height, b.shape.width);
    b.pool(map)?;
    b.dense(10, false, false);
    b.finish(ModelKind::IcResnet8.name(), input)
}

fn mlp_small(widths: &[usize], activation: Activation, seed: u64) -> Result<Model, ModelError> {
    Mlp::new(widths, activation, seed)?.to_model(ModelKind::MlpSmall.name())
}
