//! The dying-ReLU experiment: train `mlp-small` on two spirals and watch units die.
//!
//! Training: softmax cross-entropy on the two classes, mini-batch SGD with momentum
//! (`v ← μ·v − η·∇`, `w ← w + v`, μ = 0.9, batches of 32), the training set reshuffled every
//! epoch by a `ChaCha8Rng` seeded from the run's seed, so a run is reproducible bit for bit
//! on one machine. After every epoch (and once before the first) the whole training set is
//! evaluated: mean loss, accuracy, and the fraction of dead hidden units.
//!
//! **Dead unit**: a hidden unit whose output is at most [`DEAD_EPSILON`] *and* whose slope
//! `|f'(z)|` is at most [`DEAD_EPSILON`] for every training input. It then contributes
//! (almost) nothing downstream and passes (almost) no gradient back, so gradient descent
//! cannot revive it. For ReLU this is exactly "output ≤ 0 for every training input" (a
//! ReLU output in (0, ε] has slope 1); sigmoid, tanh, GELU and Swish units count as dead
//! only when saturated on their flat negative side for every input; a Leaky ReLU unit always
//! keeps slope α on the negative side, so with α above ε it never counts as dead even when
//! all its outputs are negative, which is the point the experiment makes observable.
//!
//! A run whose loss or weights stop being finite (a learning rate too high for that
//! activation) ends there; its finished epochs are kept and the divergence is reported.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, Axis};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::buffer::matrix;
use super::derivative::derivative;
use super::mlp::{Mlp, Trace};
use super::model::ModelError;
use super::spirals::{DEFAULT_NOISE, Spirals, two_spirals};
use super::zoo::MLP_SMALL_WIDTHS;
use crate::kernels::Activation;

/// Output and slope bound below which a unit counts as dead (module doc).
pub const DEAD_EPSILON: f32 = 1e-3;

/// Momentum of the SGD updates.
pub const MOMENTUM: f32 = 0.9;

/// The learning rates of the built-in experiment: a normal one and a deliberately high one.
pub const DEFAULT_LEARNING_RATES: [f32; 2] = [0.05, 0.5];

/// How one run trains.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Network widths, input to output; input 2 and output 2 for the spirals.
    pub widths: Vec<usize>,
    pub epochs: usize,
    pub learning_rate: f32,
    pub momentum: f32,
    pub batch_size: usize,
    /// Points of each spiral.
    pub points_per_class: usize,
    /// Seeds the data, the weights and the shuffling.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            widths: MLP_SMALL_WIDTHS.to_vec(),
            epochs: 40,
            learning_rate: DEFAULT_LEARNING_RATES[0],
            momentum: MOMENTUM,
            batch_size: 32,
            points_per_class: 200,
            seed: 24301,
        }
    }
}

/// The state of the network after one epoch (epoch 0: before training).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    /// Mean softmax cross-entropy over the training set, in nats.
    pub loss: f64,
    /// Share of training points classified correctly, in [0, 1].
    pub accuracy: f64,
    /// Share of hidden units that are dead (module doc), in [0, 1].
    pub dead_fraction: f64,
}

/// A finished (or diverged, or cancelled) run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainRun {
    pub activation: Activation,
    pub learning_rate: f32,
    pub records: Vec<EpochRecord>,
    /// The epoch whose loss or weights stopped being finite, if any.
    pub diverged_at: Option<usize>,
    pub cancelled: bool,
}

/// Why a run cannot start.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("learning rate {0} is not a finite number > 0")]
    LearningRate(f32),
    #[error("momentum {0} is not in [0, 1)")]
    Momentum(f32),
    #[error("{what} must be at least {min}, got {value}")]
    TooSmall {
        what: &'static str,
        min: usize,
        value: usize,
    },
    #[error("the spirals need input width 2 and output width 2, got widths {0}")]
    Widths(String),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl TrainConfig {
    /// Refuses settings a run cannot use, naming what is wrong.
    pub fn validate(&self) -> Result<(), TrainError> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::LearningRate(self.learning_rate));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(TrainError::Momentum(self.momentum));
        }
        let at_least = |what, min, value| {
            if value < min {
                Err(TrainError::TooSmall { what, min, value })
            } else {
                Ok(())
            }
        };
        at_least("epochs", 1, self.epochs)?;
        at_least("batch size", 1, self.batch_size)?;
        at_least("points per class", 2, self.points_per_class)?;
        if self.widths.first() != Some(&2) || self.widths.last() != Some(&2) {
            let text: Vec<String> = self.widths.iter().map(ToString::to_string).collect();
            return Err(TrainError::Widths(text.join(",")));
        }
        Ok(())
    }
}

/// Trains a fresh `mlp-small` with `activation`; `on_epoch` sees every record as it is
/// made. Setting `cancel` stops after the current epoch.
pub fn train(
    activation: Activation,
    config: &TrainConfig,
    cancel: &AtomicBool,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<TrainRun, TrainError> {
    config.validate()?;
    let data = two_spirals(config.points_per_class, DEFAULT_NOISE, config.seed);
    let mut mlp = Mlp::new(&config.widths, activation, config.seed)?;
    let mut velocity: Vec<(Array2<f32>, ndarray::Array1<f32>)> = mlp
        .layers
        .iter()
        .map(|d| {
            (
                Array2::zeros(d.weights.dim()),
                ndarray::Array1::zeros(d.bias.len()),
            )
        })
        .collect();
    let mut shuffle = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_5eed);
    let mut order: Vec<usize> = (0..data.labels.len()).collect();

    let mut run = TrainRun {
        activation,
        learning_rate: config.learning_rate,
        records: Vec::with_capacity(config.epochs + 1),
        diverged_at: None,
        cancelled: false,
    };
    let first = evaluate(&mlp, &data, 0);
    on_epoch(&first);
    run.records.push(first);
    for epoch in 1..=config.epochs {
        if cancel.load(Ordering::Relaxed) {
            run.cancelled = true;
            break;
        }
        shuffle_in_place(&mut order, &mut shuffle);
        for batch in order.chunks(config.batch_size) {
            let (x, labels) = gather(&data, batch);
            let trace = mlp.forward_trace(&x);
            let (_, grad_logits) = cross_entropy(&trace.logits, &labels);
            let grads = mlp.backward(&trace, &grad_logits);
            for ((dense, grad), (vw, vb)) in mlp.layers.iter_mut().zip(&grads).zip(&mut velocity) {
                vw.zip_mut_with(&grad.weights, |v, &g| {
                    *v = config.momentum * *v - config.learning_rate * g;
                });
                vb.zip_mut_with(&grad.bias, |v, &g| {
                    *v = config.momentum * *v - config.learning_rate * g;
                });
                dense.weights += &*vw;
                dense.bias += &*vb;
            }
        }
        let record = evaluate(&mlp, &data, epoch);
        let finite = mlp
            .layers
            .iter()
            .all(|d| d.weights.iter().chain(&d.bias).all(|w| w.is_finite()));
        if !(record.loss.is_finite() && finite) {
            tracing::debug!(%activation, epoch, "training diverged");
            run.diverged_at = Some(epoch);
            break;
        }
        on_epoch(&record);
        run.records.push(record);
    }
    Ok(run)
}

/// Loss, accuracy and dead fraction of `mlp` on the whole training set.
fn evaluate(mlp: &Mlp, data: &Spirals, epoch: usize) -> EpochRecord {
    let trace = mlp.forward_trace(&data.inputs);
    let (loss, _) = cross_entropy(&trace.logits, &data.labels);
    let correct = trace
        .logits
        .rows()
        .into_iter()
        .zip(&data.labels)
        .filter(|(logits, label)| predicted(logits.iter().copied()) == **label)
        .count();
    EpochRecord {
        epoch,
        loss,
        accuracy: correct as f64 / data.labels.len() as f64,
        dead_fraction: dead_fraction(mlp, &trace),
    }
}

/// The share of hidden units that are dead on the inputs of `trace` (module doc).
pub fn dead_fraction(mlp: &Mlp, trace: &Trace) -> f64 {
    let mut dead = 0_usize;
    for (z, a) in trace.pre_activations.iter().zip(&trace.inputs[1..]) {
        for (z_unit, a_unit) in z.axis_iter(Axis(1)).zip(a.axis_iter(Axis(1))) {
            let is_dead = z_unit.iter().zip(a_unit.iter()).all(|(&z, &a)| {
                a <= DEAD_EPSILON && derivative(mlp.activation, z).abs() <= DEAD_EPSILON
            });
            dead += usize::from(is_dead);
        }
    }
    dead as f64 / mlp.hidden_units().max(1) as f64
}

/// The index of the largest logit (the first on ties; NaN never wins).
fn predicted(logits: impl Iterator<Item = f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, v) in logits.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Mean softmax cross-entropy of `logits` against `labels`, and its gradient at the
/// logits: `(softmax − onehot) / batch`.
pub fn cross_entropy(logits: &Array2<f32>, labels: &[usize]) -> (f64, Array2<f32>) {
    let batch = logits.nrows().max(1);
    let mut grad = logits.clone();
    let mut total = 0.0_f64;
    for (mut row, &label) in grad.rows_mut().into_iter().zip(labels) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
        let log_sum = f64::from(max) + sum.ln();
        total += log_sum - f64::from(row[label]);
        for (i, v) in row.iter_mut().enumerate() {
            let p = (f64::from(*v) - log_sum).exp();
            let target = if i == label { 1.0 } else { 0.0 };
            *v = ((p - target) / batch as f64) as f32;
        }
    }
    (total / batch as f64, grad)
}

fn gather(data: &Spirals, batch: &[usize]) -> (Array2<f32>, Vec<usize>) {
    let width = data.inputs.ncols();
    let mut values = Vec::with_capacity(batch.len() * width);
    for &i in batch {
        values.extend(data.inputs.row(i).iter());
    }
    let labels = batch.iter().map(|&i| data.labels[i]).collect();
    (matrix(values, batch.len(), width), labels)
}

/// Fisher–Yates shuffle.
fn shuffle_in_place(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn run(activation: Activation, learning_rate: f32) -> TrainRun {
        let config = TrainConfig {
            learning_rate,
            ..TrainConfig::default()
        };
        train(activation, &config, &AtomicBool::new(false), &mut |_| {}).expect("valid config")
    }

    #[test]
    fn relu_dies_more_than_leaky_relu_at_the_high_learning_rate() {
        let high = DEFAULT_LEARNING_RATES[1];
        let relu = run(Activation::Relu, high);
        let leaky = run(Activation::LeakyRelu { alpha: 0.01 }, high);
        let last = |run: &TrainRun| *run.records.last().expect("at least epoch 0");
        let (relu_end, leaky_end) = (last(&relu), last(&leaky));
        println!(
            "lr {high}: relu dead {:.3} (loss {:.3}, accuracy {:.3}); leaky_relu dead {:.3} \
             (loss {:.3}, accuracy {:.3})",
            relu_end.dead_fraction,
            relu_end.loss,
            relu_end.accuracy,
            leaky_end.dead_fraction,
            leaky_end.loss,
            leaky_end.accuracy
        );
        assert_eq!(relu.records.len(), TrainConfig::default().epochs + 1);
        assert!(relu_end.dead_fraction > leaky_end.dead_fraction);
    }

    #[test]
    fn runs_are_reproducible_and_record_every_epoch() {
        let config = TrainConfig {
            epochs: 12,
            ..TrainConfig::default()
        };
        let mut seen = Vec::new();
        let a = train(
            Activation::Tanh,
            &config,
            &AtomicBool::new(false),
            &mut |r| {
                seen.push(r.epoch);
            },
        )
        .expect("valid");
        let b = train(
            Activation::Tanh,
            &config,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .expect("valid");
        assert_eq!(a, b);
        assert_eq!(seen, (0..=12).collect::<Vec<_>>());
        assert!(a.records.iter().all(|r| (0.0..=1.0).contains(&r.accuracy)));
        // Training lowers the loss of a well-behaved activation.
        assert!(a.records[12].loss < a.records[0].loss, "{:?}", a.records);
    }

    #[test]
    fn a_set_cancel_flag_keeps_epoch_zero_only() {
        let run = train(
            Activation::Relu,
            &TrainConfig::default(),
            &AtomicBool::new(true),
            &mut |_| {},
        )
        .expect("valid");
        assert!(run.cancelled);
        assert_eq!(run.records.len(), 1);
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let bad = |config: TrainConfig| config.validate().expect_err("refused").to_string();
        let base = TrainConfig::default();
        assert!(
            bad(TrainConfig {
                learning_rate: f32::NAN,
                ..base.clone()
            })
            .contains("NaN")
        );
        assert!(
            bad(TrainConfig {
                learning_rate: -1.0,
                ..base.clone()
            })
            .contains("> 0")
        );
        assert!(
            bad(TrainConfig {
                momentum: 1.0,
                ..base.clone()
            })
            .contains("momentum")
        );
        assert!(
            bad(TrainConfig {
                epochs: 0,
                ..base.clone()
            })
            .contains("epochs")
        );
        assert!(
            bad(TrainConfig {
                widths: vec![3, 8, 2],
                ..base
            })
            .contains("3,8,2")
        );
    }

    #[test]
    fn cross_entropy_by_hand() {
        // Equal logits: p = (1/2, 1/2), loss ln 2; gradient (p − onehot) = (−1/2, 1/2).
        let (loss, grad) = cross_entropy(&array![[0.0, 0.0]], &[0]);
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-12);
        assert_eq!(grad, array![[-0.5, 0.5]]);
        // Logits (ln 3, 0): p = (3/4, 1/4); label 1 gives loss ln 4; two rows average.
        let (loss, grad) = cross_entropy(&array![[3.0_f32.ln(), 0.0], [0.0, 0.0]], &[1, 0]);
        assert!((loss - (4.0_f64.ln() + std::f64::consts::LN_2) / 2.0).abs() < 1e-6);
        assert!((grad[[0, 0]] - 0.375).abs() < 1e-6 && (grad[[0, 1]] + 0.375).abs() < 1e-6);
    }

    #[test]
    fn dead_units_follow_the_definition() {
        // One hidden layer of three ReLU units on two inputs: unit 0 is negative for both
        // inputs (dead), unit 1 positive once (alive), unit 2 exactly 0 for both (dead).
        let mlp = Mlp::new(&[1, 3, 2], Activation::Relu, 1).expect("widths");
        let z = array![[-1.0, 2.0, 0.0], [-0.5, -3.0, 0.0]];
        let a = z.mapv(|v: f32| v.max(0.0));
        let trace = Trace {
            inputs: vec![array![[0.0], [0.0]], a.clone()],
            pre_activations: vec![z.clone()],
            logits: array![[0.0, 0.0], [0.0, 0.0]],
        };
        assert!((dead_fraction(&mlp, &trace) - 2.0 / 3.0).abs() < 1e-12);
        // The same pre-activations under Leaky ReLU keep slope 0.01 > ε: nothing is dead.
        let leaky = Mlp::new(&[1, 3, 2], Activation::LeakyRelu { alpha: 0.01 }, 1).expect("widths");
        let trace = Trace {
            inputs: vec![
                trace.inputs[0].clone(),
                z.mapv(|v| if v > 0.0 { v } else { 0.01 * v }),
            ],
            ..trace
        };
        assert_eq!(dead_fraction(&leaky, &trace), 0.0);
    }
}
