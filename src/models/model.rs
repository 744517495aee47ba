//! A model: a chain of steps over a batch, with a stack for residual connections.
//!
//! Most steps are layers. A residual block is written flat: [`Step::Save`] pushes a copy
//! of the current tensor, the block's layers run, and [`Step::Add`] pops the copy (through
//! an optional 1×1 projection when the shapes differ) and adds it. Every model is checked
//! when built: each step's input shape matches what precedes it and every save is added
//! back.
//!
//! **Activation memory** is the most f32 bytes of activations alive at once during one
//! inference of one input: at each step its input and output (once for in-place steps:
//! activations, flatten), plus every tensor saved for a residual connection (and, at an
//! add, the projected copy). It grows linearly with the batch.

use std::time::{Duration, Instant};

use ndarray::Array2;

use super::conv::Conv2d;
use super::layer::Layer;
use super::shape::Shape;

/// One step of a model.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Layer(Layer),
    /// Push a copy of the current tensor for a residual connection.
    Save,
    /// Pop the last saved tensor, project it if given, and add it to the current one.
    Add {
        projection: Option<Conv2d>,
    },
}

impl Step {
    pub fn describe(&self) -> String {
        match self {
            Step::Layer(layer) => layer.describe(),
            Step::Save => "save (residual)".to_owned(),
            Step::Add { projection: None } => "add (identity shortcut)".to_owned(),
            Step::Add {
                projection: Some(conv),
            } => format!("add (shortcut {})", Layer::Conv2d(conv.clone()).describe()),
        }
    }

    pub fn params(&self) -> usize {
        match self {
            Step::Layer(layer) => layer.params(),
            Step::Save | Step::Add { projection: None } => 0,
            Step::Add {
                projection: Some(conv),
            } => conv.params(),
        }
    }

    pub fn macs(&self) -> u64 {
        match self {
            Step::Layer(layer) => layer.macs(),
            Step::Save | Step::Add { projection: None } => 0,
            Step::Add {
                projection: Some(conv),
            } => conv.macs(),
        }
    }

    pub fn is_activation(&self) -> bool {
        matches!(self, Step::Layer(layer) if layer.is_activation())
    }
}

/// Why a chain of steps is not a model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("step {index} ({step}) expects a {expected} input but gets {found}")]
    ShapeMismatch {
        index: usize,
        step: String,
        expected: Shape,
        found: Shape,
    },
    #[error("step {index} (add) has no saved tensor to add")]
    NothingSaved { index: usize },
    #[error("{count} saved tensor(s) are never added back")]
    SavedLeftOver { count: usize },
    #[error("cannot build layer {index} ({what}): {reason}")]
    Layer {
        index: usize,
        what: String,
        reason: String,
    },
    #[error("invalid mlp-small widths `{0}`: {1}")]
    Widths(String, String),
}

/// A checked chain of steps from `input` to `output`.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    steps: Vec<Step>,
}

/// One line of a model summary.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    pub index: usize,
    pub layer: String,
    pub output: Shape,
    pub params: usize,
    pub macs: u64,
    pub is_activation: bool,
}

/// What a model holds and costs, per input.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSummary {
    pub name: String,
    pub input: Shape,
    pub rows: Vec<SummaryRow>,
    pub params: usize,
    pub macs: u64,
    /// Peak bytes of live f32 activations for one input (see the module doc).
    pub activation_bytes: usize,
}

impl Model {
    /// Checks the chain: shapes follow each other, every save is added back once.
    pub fn new(name: &str, input: Shape, steps: Vec<Step>) -> Result<Model, ModelError> {
        let mut current = input;
        let mut saved = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let mismatch = |expected: Shape, found: Shape| ModelError::ShapeMismatch {
                index,
                step: step.describe(),
                expected,
                found,
            };
            match step {
                Step::Layer(layer) => {
                    if layer.input_shape() != current {
                        return Err(mismatch(layer.input_shape(), current));
                    }
                    current = layer.output_shape();
                }
                Step::Save => saved.push(current),
                Step::Add { projection } => {
                    let skip = saved.pop().ok_or(ModelError::NothingSaved { index })?;
                    let skip = match projection {
                        Some(conv) if conv.window.input != skip => {
                            return Err(mismatch(conv.window.input, skip));
                        }
                        Some(conv) => conv.output_shape(),
                        None => skip,
                    };
                    if skip != current {
                        return Err(mismatch(current, skip));
                    }
                }
            }
        }
        if !saved.is_empty() {
            return Err(ModelError::SavedLeftOver { count: saved.len() });
        }
        Ok(Model {
            name: name.to_owned(),
            input,
            output: current,
            steps,
        })
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// One inference of a batch (one input per row).
    pub fn forward(&self, input: Array2<f32>) -> Array2<f32> {
        let mut saved = Vec::new();
        self.steps
            .iter()
            .fold(input, |x, step| apply(step, x, &mut saved))
    }

    /// [`Model::forward`] of a borrowed batch, without copying it when the first step
    /// writes a new tensor anyway (every zoo model starts with a dense or conv layer).
    pub fn infer(&self, input: &Array2<f32>) -> Array2<f32> {
        let Some((first, rest)) = self.steps.split_first() else {
            return input.clone();
        };
        let mut saved = Vec::new();
        let x = match first {
            Step::Layer(layer) => layer.forward_borrowed(input),
            step => apply(step, input.clone(), &mut saved),
        };
        rest.iter().fold(x, |x, step| apply(step, x, &mut saved))
    }

    /// [`Model::forward`] with each step timed: `times[i]` grows by step `i`'s time.
    /// The clock is read twice per step, so short steps read slightly long; callers that
    /// need exact shares subtract the clock's cost (see `measure`).
    pub fn forward_profiled(&self, input: Array2<f32>, times: &mut [Duration]) -> Array2<f32> {
        let mut saved = Vec::new();
        let mut x = input;
        for (step, time) in self.steps.iter().zip(times.iter_mut()) {
            let start = Instant::now();
            x = apply(step, x, &mut saved);
            *time += start.elapsed();
        }
        x
    }

    /// Layers, output shapes, parameters, MACs and activation memory.
    pub fn summary(&self) -> ModelSummary {
        let mut current = self.input;
        let rows: Vec<SummaryRow> = self
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| {
                if let Step::Layer(layer) = step {
                    current = layer.output_shape();
                }
                SummaryRow {
                    index,
                    layer: step.describe(),
                    output: current,
                    params: step.params(),
                    macs: step.macs(),
                    is_activation: step.is_activation(),
                }
            })
            .collect();
        ModelSummary {
            name: self.name.clone(),
            input: self.input,
            params: rows.iter().map(|r| r.params).sum(),
            macs: rows.iter().map(|r| r.macs).sum(),
            rows,
            activation_bytes: self.peak_activation_values() * std::mem::size_of::<f32>(),
        }
    }

    /// The most activation values alive at once for one input (module doc).
    fn peak_activation_values(&self) -> usize {
        let mut current = self.input.len();
        let mut saved: Vec<usize> = Vec::new();
        let mut peak = current;
        for step in &self.steps {
            let held: usize = saved.iter().sum();
            let live = match step {
                Step::Layer(layer) if layer.is_in_place() => current + held,
                Step::Layer(layer) => {
                    let out = layer.output_shape().len();
                    let live = current + out + held;
                    current = out;
                    live
                }
                Step::Save => {
                    saved.push(current);
                    2 * current + held
                }
                Step::Add { projection } => {
                    let projected = projection.as_ref().map_or(0, |c| c.output_shape().len());
                    saved.pop();
                    current + held + projected
                }
            };
            peak = peak.max(live);
        }
        peak
    }
}

fn apply(step: &Step, x: Array2<f32>, saved: &mut Vec<Array2<f32>>) -> Array2<f32> {
    match step {
        Step::Layer(layer) => layer.forward(x),
        Step::Save => {
            saved.push(x.clone());
            x
        }
        Step::Add { projection } => {
            let mut x = x;
            // `Model::new` checked that every add has a saved tensor of the right shape.
            if let Some(skip) = saved.pop() {
                match projection {
                    Some(conv) => x += &conv.forward(&skip),
                    None => x += &skip,
                }
            }
            x
        }
    }
}
