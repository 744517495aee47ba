//! Timing whole inferences with the harness's method and statistics.
//!
//! One *call* is one inference of a batch: `Model::infer` on `batch` inputs drawn
//! uniformly from [−1, 1] by a `ChaCha8Rng` seeded with the run seed. The timing follows
//! the kernel harness (`harness::runner`): a time-based warm-up estimates one call's cost;
//! each sample times a run of back-to-back calls long enough that reading the clock costs
//! under 1 % of it ([`MAX_CLOCK_OVERHEAD`], at least [`MIN_SAMPLE`]); sampling goes on
//! until both `min_samples` and `min_time` are reached (at most [`MAX_SAMPLES`]); the
//! per-call times become a [`Summary`] (median, bootstrap CI, MAD, percentiles, Tukey
//! outliers).
//!
//! **Activation share** comes from a separate profiled pass after the timed samples, so
//! the headline latency is not perturbed by it: inferences run step by step with the clock
//! read around every step (`Model::forward_profiled`) until half of `min_time` has passed
//! (at least [`MIN_PROFILED`] inferences). The cost of one clock read, measured at the
//! start, is subtracted from every step's time, and each step's time is the median over
//! the profiled inferences (a preempted step in one inference does not move it). The share
//! is the summed median time of the activation layers over the summed median time of all
//! steps; the per-layer medians are kept for the `--layers` table and the bench.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ndarray::Array2;

use super::buffer::matrix;
use super::init::Init;
use super::model::{Model, ModelError, ModelSummary};
use super::zoo::ModelSpec;
use crate::harness::runner::{MAX_CLOCK_OVERHEAD, MAX_SAMPLES, MIN_SAMPLE, TARGET_SAMPLES};
use crate::harness::stats::{Sample, Summary};
use crate::kernels::Activation;

/// Fewest inferences of the profiled pass.
pub const MIN_PROFILED: usize = 10;

/// Most inferences of the profiled pass.
const MAX_PROFILED: usize = 20_000;

/// How long and how often to measure each cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub warmup: Duration,
    pub min_time: Duration,
    pub min_samples: usize,
    /// Seeds the weights, the inputs and the bootstrap.
    pub seed: u64,
}

/// One model × activation × batch to time.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub spec: ModelSpec,
    pub activation: Activation,
    pub batch: usize,
}

/// The median time of one step over the profiled inferences.
#[derive(Clone, Debug, PartialEq)]
pub struct StepTime {
    pub index: usize,
    pub layer: String,
    pub is_activation: bool,
    pub median_ns: f64,
}

/// What timing a cell gave.
#[derive(Clone, Debug, PartialEq)]
pub struct InferenceResult {
    pub cell: Cell,
    pub summary: ModelSummary,
    /// Back-to-back inferences per timed sample.
    pub iterations_per_sample: u64,
    /// Per-inference time statistics, ns.
    pub timing: Summary,
    /// Time in activation layers over the time of all steps, in [0, 1].
    pub activation_share: f64,
    pub steps: Vec<StepTime>,
    pub profiled_inferences: usize,
}

impl InferenceResult {
    /// Input values of one call: one input's elements × batch.
    pub fn elements(&self) -> usize {
        self.summary.input.len() * self.cell.batch
    }
}

/// Times `cell`; `progress` sees the fraction done, `None` comes back when `cancel` was
/// set. Fails only when the model cannot be built.
pub fn measure(
    cell: &Cell,
    settings: &Settings,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(f64),
) -> Result<Option<InferenceResult>, ModelError> {
    let model = cell.spec.build(cell.activation, settings.seed)?;
    let input = inputs(&model, cell.batch.max(1), settings.seed);
    let clock = clock_cost();
    let total = settings.warmup + settings.min_time + settings.min_time / 2;
    let started = Instant::now();
    let mut report = || progress((started.elapsed().as_secs_f64() / total.as_secs_f64()).min(1.0));

    let mut run = |iterations: u64| {
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(model.infer(black_box(&input)));
        }
        start.elapsed()
    };
    let Some(per_call) = warm_up(&mut run, settings.warmup, cancel) else {
        return Ok(None);
    };
    let target = MIN_SAMPLE
        .max((clock * 2).div_f64(MAX_CLOCK_OVERHEAD))
        .max(settings.min_time / TARGET_SAMPLES);
    let iterations =
        ((target.as_secs_f64() / per_call.as_secs_f64().max(1e-12)).ceil() as u64).max(1);
    tracing::debug!(model = model.name, %cell.activation, iterations, "batch size chosen");

    let min_samples = settings.min_samples.max(2);
    let mut times = Vec::with_capacity(min_samples.max(64));
    let sampling = Instant::now();
    let mut last_report = sampling;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        times.push(run(iterations).as_nanos() as f64 / iterations as f64);
        let enough = times.len() >= min_samples && sampling.elapsed() >= settings.min_time;
        if enough || times.len() >= MAX_SAMPLES.max(min_samples) {
            break;
        }
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            report();
        }
    }
    let Some((steps, profiled_inferences)) =
        profile(&model, &input, settings.min_time / 2, clock, cancel)
    else {
        return Ok(None);
    };
    report();

    let timing = match Sample::new(times) {
        Ok(sample) => Summary::from_sample(&sample, settings.seed),
        // Two or more finite durations were collected above; nothing else reaches here.
        Err(err) => {
            tracing::warn!("unusable timings for {}: {err}", model.name);
            return Ok(None);
        }
    };
    let all: f64 = steps.iter().map(|s| s.median_ns).sum();
    let active: f64 = steps
        .iter()
        .filter(|s| s.is_activation)
        .map(|s| s.median_ns)
        .sum();
    Ok(Some(InferenceResult {
        cell: cell.clone(),
        summary: model.summary(),
        iterations_per_sample: iterations,
        timing,
        activation_share: if all > 0.0 { active / all } else { 0.0 },
        steps,
        profiled_inferences,
    }))
}

/// `batch` inputs of `model`, uniform in [−1, 1].
pub fn inputs(model: &Model, batch: usize, seed: u64) -> Array2<f32> {
    let mut init = Init::new(seed ^ 0x0001_4e70);
    let len = model.input.len();
    let values = (0..batch * len).map(|_| init.uniform(-1.0, 1.0)).collect();
    matrix(values, batch, len)
}

/// Runs `run` for `warmup` (at least once) and returns the mean time of one call.
fn warm_up(
    run: &mut dyn FnMut(u64) -> Duration,
    warmup: Duration,
    cancel: &AtomicBool,
) -> Option<Duration> {
    let start = Instant::now();
    let (mut calls, mut batch) = (0_u64, 1_u64);
    loop {
        run(batch);
        calls += batch;
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let elapsed = start.elapsed();
        let per_call = elapsed.as_secs_f64() / calls as f64;
        if elapsed >= warmup {
            return Some(Duration::from_secs_f64(per_call));
        }
        if per_call * ((2 * batch) as f64) < 1e-3 {
            batch *= 2;
        }
    }
}

/// Per-step median times over profiled inferences (module doc), and how many ran.
fn profile(
    model: &Model,
    input: &Array2<f32>,
    duration: Duration,
    clock: Duration,
    cancel: &AtomicBool,
) -> Option<(Vec<StepTime>, usize)> {
    let steps = model.steps();
    let mut per_step: Vec<Vec<f64>> = vec![Vec::new(); steps.len()];
    let mut times = vec![Duration::ZERO; steps.len()];
    let clock_ns = clock.as_nanos() as f64;
    let start = Instant::now();
    let mut count = 0;
    while count < MIN_PROFILED || (start.elapsed() < duration && count < MAX_PROFILED) {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        times.fill(Duration::ZERO);
        black_box(model.forward_profiled(input.clone(), &mut times));
        for (samples, time) in per_step.iter_mut().zip(&times) {
            samples.push((time.as_nanos() as f64 - clock_ns).max(0.0));
        }
        count += 1;
    }
    let times = steps
        .iter()
        .zip(per_step)
        .enumerate()
        .map(|(index, (step, samples))| StepTime {
            index,
            layer: step.describe(),
            is_activation: step.is_activation(),
            median_ns: median(samples),
        })
        .collect();
    Some((times, count))
}

/// The middle value (mean of the two middle ones for an even count); 0 when empty.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

/// The cost of one `Instant::now()`: the best of a few averaged runs.
pub fn clock_cost() -> Duration {
    const CALLS: u32 = 1000;
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                black_box(Instant::now());
            }
            start.elapsed() / CALLS
        })
        .min()
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::zoo::ModelKind;

    fn quick() -> Settings {
        Settings {
            warmup: Duration::from_millis(2),
            min_time: Duration::from_millis(10),
            min_samples: 5,
            seed: 3,
        }
    }

    #[test]
    fn a_cell_is_timed_with_its_share_and_steps() {
        let cell = Cell {
            spec: ModelSpec::new(ModelKind::KwsDscnn),
            activation: Activation::Gelu {
                approximation: crate::kernels::GeluApproximation::Erf,
            },
            batch: 2,
        };
        let mut fractions = Vec::new();
        let result = measure(&cell, &quick(), &AtomicBool::new(false), &mut |f| {
            fractions.push(f)
        })
        .expect("builds")
        .expect("not cancelled");
        assert!(result.timing.samples >= 5);
        assert!(result.timing.median_ns > 0.0);
        assert!((0.0..=1.0).contains(&result.activation_share));
        assert!(result.activation_share > 0.0);
        assert_eq!(result.steps.len(), result.summary.rows.len());
        assert!(result.profiled_inferences >= MIN_PROFILED);
        assert_eq!(result.elements(), 2 * 490);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(fractions.iter().all(|f| (0.0..=1.0).contains(f)));
    }

    #[test]
    fn a_set_cancel_flag_gives_nothing() {
        let cell = Cell {
            spec: ModelSpec::new(ModelKind::MlpSmall),
            activation: Activation::Relu,
            batch: 1,
        };
        let result = measure(&cell, &quick(), &AtomicBool::new(true), &mut |_| {});
        assert_eq!(result, Ok(None));
    }

    #[test]
    fn inputs_are_seeded_and_in_range() {
        let model = ModelSpec::new(ModelKind::AdAutoencoder)
            .build(Activation::Relu, 1)
            .expect("builds");
        let a = inputs(&model, 3, 9);
        assert_eq!(a, inputs(&model, 3, 9));
        assert_eq!(a.dim(), (3, 640));
        assert!(a.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
}
