//! The timing loop: runs every cell of a [`Plan`] and turns its samples into a
//! [`CellResult`].
//!
//! Per cell: the input (uniform in [−8, 8], no subnormals, from a `ChaCha8Rng` seeded with
//! the plan's seed) and the output are allocated once; a time-based warm-up estimates the
//! cost of one call; then each sample times a batch of back-to-back kernel calls. The batch
//! is long enough that reading the clock costs under 1% of a sample (and that a sample
//! lasts at least [`MIN_SAMPLE`]), and sampling goes on until both `min_samples` and
//! `min_time` are reached, or [`MAX_SAMPLES`] samples were taken.
//!
//! With `threads > 1` every call goes through the kernels' multi-threaded path
//! ([`kernels::parallel::Pool`]): the tensor is split into contiguous chunks, one per
//! thread, and the call returns when all are done, so a sample includes handing out and
//! collecting the chunks of every call, as a user's call would. The pool's workers are
//! started once per cell, outside the timed region. Tensors too small to split (fewer than
//! the path's minimum per thread) run on the calling thread, as they would for a user.
//!
//! Cells of dtype i8/u8 run the same loop on the quantized kernel
//! ([`QuantizedKernel::apply_bytes`]) over random input codes; their errors are exhaustive
//! over the 256 codes ([`super::quantized`]).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::events::{CellResult, Event, MeasuredSpan};
use super::plan::{CellSpec, Plan};
use super::quantized;
use super::stats::{Sample, Summary};
use crate::kernels::accuracy::quick_check;
use crate::kernels::int8::QuantizedKernel;
use crate::kernels::parallel::{PARALLEL_MIN_CODES, PARALLEL_MIN_ELEMENTS, Pool};
use crate::kernels::{self, Isa, Stores};

/// Shortest sample: batches of fast calls are grown to at least this.
pub const MIN_SAMPLE: Duration = Duration::from_micros(10);

/// Most samples kept per cell; sampling stops there even before `min_time`.
pub const MAX_SAMPLES: usize = 10_000;

/// Samples aimed for within `min_time`: a sample is at least `min_time / TARGET_SAMPLES`
/// long, so slow-to-summarise sample counts are rare.
pub const TARGET_SAMPLES: u32 = 1000;

/// Reading the clock twice per sample may cost at most this share of a sample.
pub const MAX_CLOCK_OVERHEAD: f64 = 0.01;

/// Inputs are drawn uniformly from `[-INPUT_RANGE, INPUT_RANGE]`.
pub const INPUT_RANGE: f32 = 8.0;

/// Progress events per second, at most.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// What a plan produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// Finished cells in plan order (a cell interrupted by cancelling is left out).
    pub results: Vec<CellResult>,
    /// Whether the run stopped early because `cancel` was set.
    pub cancelled: bool,
}

/// Runs every cell of `plan` in order, reporting to `sink`. Setting `cancel` stops the run
/// after the current sample (or kernel call, for calls longer than a sample).
pub fn run_plan(plan: &Plan, cancel: &AtomicBool, sink: &mut dyn FnMut(Event)) -> RunOutcome {
    let cells = plan.cells();
    sink(Event::Started {
        total_cells: cells.len(),
        estimated: plan.estimated_duration(),
    });
    let clock_cost = clock_overhead();
    tracing::debug!(
        clock_cost_ns = clock_cost.as_nanos(),
        "measured Instant::now cost"
    );
    let mut results = Vec::with_capacity(cells.len());
    let mut cancelled = false;
    for (index, spec) in cells.into_iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        sink(Event::CellStarted { index, spec });
        let cell = Cell {
            plan,
            spec,
            index,
            clock_cost,
            cancel,
        };
        match cell.run(sink) {
            CellEnd::Finished(result) => {
                sink(Event::CellFinished {
                    index,
                    result: (*result).clone(),
                });
                results.push(*result);
            }
            CellEnd::Failed(reason) => {
                sink(Event::Warning(format!(
                    "cell {} skipped: {reason}",
                    describe(&spec)
                )));
            }
            CellEnd::Cancelled => {
                cancelled = true;
                break;
            }
        }
    }
    sink(Event::Finished { cancelled });
    RunOutcome { results, cancelled }
}

/// The input tensor of a cell: `elements` values uniform in [−8, 8], subnormals flushed to
/// zero (they would time the CPU's slow path, not the kernel).
pub fn input_data(elements: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..elements)
        .map(|_| {
            let x = rng.random_range(-INPUT_RANGE..=INPUT_RANGE);
            if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
        })
        .collect()
}

/// The cost of one `Instant::now()` call: the best of a few averaged runs.
fn clock_overhead() -> Duration {
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

/// `gelu i8 ×65536 (1 thread)`, for messages.
fn describe(spec: &CellSpec) -> String {
    let threads = if spec.threads == 1 {
        "thread"
    } else {
        "threads"
    };
    format!(
        "{} {} ×{} ({} {threads})",
        spec.activation, spec.dtype, spec.elements, spec.threads
    )
}

/// What sampling a cell produced: the batch size, the per-call time of every sample in
/// ns, and when the samples ran.
struct Measured {
    iterations: u64,
    /// Threads each call ran on.
    threads_used: usize,
    times: Vec<f64>,
    span: MeasuredSpan,
}

/// How measuring a cell ended.
enum CellEnd {
    Finished(Box<CellResult>),
    Cancelled,
    /// The cell could not be measured; the run goes on with the next one.
    Failed(String),
}

/// One cell being measured.
struct Cell<'a> {
    plan: &'a Plan,
    spec: CellSpec,
    index: usize,
    clock_cost: Duration,
    cancel: &'a AtomicBool,
}

impl Cell<'_> {
    /// Measures the cell with the kernel of its dtype.
    fn run(&self, sink: &mut dyn FnMut(Event)) -> CellEnd {
        match quantized::kernel_of(&self.spec) {
            None => self.run_f32(sink),
            Some(Ok(kernel)) => self.run_quantized(&kernel, sink),
            Some(Err(err)) => CellEnd::Failed(format!("cannot build the quantized kernel: {err}")),
        }
    }

    /// An f32 cell: random reals in [−8, 8], the dispatched f32 kernel.
    fn run_f32(&self, sink: &mut dyn FnMut(Event)) -> CellEnd {
        let input = input_data(self.spec.elements, self.plan.seed);
        let mut output = vec![0.0_f32; input.len()];
        let activation = self.spec.activation;
        let isa = Isa::detect();
        // Streaming stores or not, decided on the whole tensor as `Pool::apply` does.
        let stores = Stores::Auto.resolve(input.len());
        let apply = |input: &[f32], output: &mut [f32]| {
            kernels::apply_with_stores(isa, stores, activation, input, output);
        };
        let measured = self.time(&apply, &input, &mut output, PARALLEL_MIN_ELEMENTS, sink);
        // The error is measured on the accuracy engine's fixed points rather than on this
        // cell's inputs, so every report and the `accuracy` command agree on it.
        let (max_ulp_error, max_abs_error) = quick_check(activation, Isa::detect());
        self.finish(measured, (max_ulp_error, max_abs_error, None))
    }

    /// An i8/u8 cell: random codes, the quantized kernel on raw bytes.
    fn run_quantized(&self, kernel: &QuantizedKernel, sink: &mut dyn FnMut(Event)) -> CellEnd {
        let input = quantized::input_codes(self.spec.elements, self.plan.seed);
        let mut output = vec![0_u8; input.len()];
        let apply = |input: &[u8], output: &mut [u8]| {
            let applied = kernel.apply_bytes(input, output);
            // Input and output chunks are cut alike from equal-length tensors, so the only
            // refusal (a length mismatch) cannot happen; checking it stays out of release.
            debug_assert!(applied.is_ok(), "{applied:?}");
        };
        let measured = self.time(&apply, &input, &mut output, PARALLEL_MIN_CODES, sink);
        let errors = quantized::errors(kernel);
        self.finish(
            measured,
            (errors.max_ulp, errors.max_abs, Some(errors.max_lsb)),
        )
    }

    /// Times `apply` on the cell's tensors, on one thread or split across the cell's
    /// threads per call (with at least `min_per_thread` elements each). `Ok(None)` when
    /// cancelled.
    fn time<T, K>(
        &self,
        apply: &K,
        input: &[T],
        output: &mut [T],
        min_per_thread: usize,
        sink: &mut dyn FnMut(Event),
    ) -> Result<Option<Measured>, String>
    where
        T: Send + Sync,
        K: Fn(&[T], &mut [T]) + Sync,
    {
        let threads = self.spec.threads.clamp(1, self.spec.elements);
        let used = kernels::parallel::threads_used(input.len(), min_per_thread, threads);
        if threads == 1 {
            let mut batch = |iterations: u64| {
                let start = Instant::now();
                for _ in 0..iterations {
                    apply(black_box(input), black_box(&mut *output));
                }
                let elapsed = start.elapsed();
                black_box(&*output);
                elapsed
            };
            return Ok(self.measure(&mut batch, sink, 1));
        }
        let pool =
            Pool::new(threads).map_err(|err| format!("cannot start worker threads: {err}"))?;
        let mut batch = |iterations: u64| {
            let start = Instant::now();
            for _ in 0..iterations {
                pool.split(
                    black_box(input),
                    black_box(&mut *output),
                    min_per_thread,
                    apply,
                );
            }
            let elapsed = start.elapsed();
            black_box(&*output);
            elapsed
        };
        Ok(self.measure(&mut batch, sink, used))
    }

    /// The cell's result from its timings and its errors `(ulp, abs, lsb)`.
    fn finish(
        &self,
        measured: Result<Option<Measured>, String>,
        (max_ulp_error, max_abs_error, max_lsb_error): (f64, f64, Option<u32>),
    ) -> CellEnd {
        let Measured {
            iterations: iterations_per_sample,
            threads_used,
            times,
            span,
        } = match measured {
            Ok(Some(measured)) => measured,
            Ok(None) => return CellEnd::Cancelled,
            Err(reason) => return CellEnd::Failed(reason),
        };
        let sample = match Sample::new(times) {
            Ok(sample) => sample,
            Err(err) => return CellEnd::Failed(format!("unusable timings: {err}")),
        };
        CellEnd::Finished(Box::new(CellResult {
            spec: self.spec,
            iterations_per_sample,
            threads_used,
            summary: Summary::from_sample(&sample, self.plan.seed),
            max_ulp_error,
            max_abs_error,
            max_lsb_error,
            seed: self.plan.seed,
            span: Some(span),
        }))
    }

    /// Warm-up, batch sizing and sampling around `batch` (which runs `n` calls and returns
    /// their total time). Returns the batch size and the per-call time of every sample in
    /// ns, or `None` when cancelled. `threads_used` is recorded with them.
    fn measure(
        &self,
        batch: &mut dyn FnMut(u64) -> Duration,
        sink: &mut dyn FnMut(Event),
        threads_used: usize,
    ) -> Option<Measured> {
        let per_call = self.warm_up(batch)?;
        let sync_cost = batch(0);
        let target = self.target_sample(sync_cost);
        let iterations = (target.as_secs_f64() / per_call.as_secs_f64().max(1e-12)).ceil();
        let iterations = (iterations as u64).max(1);
        tracing::debug!(
            cell = self.index,
            per_call_ns = per_call.as_nanos(),
            iterations,
            "batch size chosen"
        );

        let min_samples = self.plan.min_samples.max(2);
        let min_time = self.plan.min_time.as_secs_f64();
        let mut times = Vec::with_capacity(min_samples.max(64));
        let start = Instant::now();
        let mut last_progress = start;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return None;
            }
            let elapsed = batch(iterations);
            times.push(elapsed.as_nanos() as f64 / iterations as f64);
            let measured = start.elapsed().as_secs_f64();
            let done = times.len() >= min_samples && measured >= min_time;
            if done || times.len() >= MAX_SAMPLES.max(min_samples) {
                break;
            }
            if last_progress.elapsed() >= PROGRESS_INTERVAL {
                last_progress = Instant::now();
                let by_time = if min_time > 0.0 {
                    measured / min_time
                } else {
                    1.0
                };
                let by_count = times.len() as f64 / min_samples as f64;
                let fraction = by_time.min(by_count).clamp(0.0, 1.0);
                sink(Event::CellProgress {
                    index: self.index,
                    fraction,
                });
            }
        }
        let end = Instant::now();
        let span = MeasuredSpan {
            start,
            end,
            calls: iterations * times.len() as u64,
        };
        Some(Measured {
            iterations,
            threads_used,
            times,
            span,
        })
    }

    /// Runs the kernel for the plan's warm-up time (at least once) and returns the mean
    /// time of one call; `None` when cancelled.
    fn warm_up(&self, batch: &mut dyn FnMut(u64) -> Duration) -> Option<Duration> {
        let start = Instant::now();
        let mut calls: u64 = 0;
        let mut iterations: u64 = 1;
        loop {
            batch(iterations);
            calls += iterations;
            if self.cancel.load(Ordering::Relaxed) {
                return None;
            }
            let elapsed = start.elapsed();
            let per_call = elapsed.as_secs_f64() / calls as f64;
            if elapsed >= self.plan.warmup {
                return Some(Duration::from_secs_f64(per_call));
            }
            // Grow the batches so the loop itself does not dominate for tiny calls, but
            // keep checking `cancel` about every millisecond.
            if per_call * ((2 * iterations) as f64) < 1e-3 {
                iterations *= 2;
            }
        }
    }

    /// How long one sample must last: the clock (and, with threads, the barrier
    /// round trip `sync_cost`) under 1% of it, at least [`MIN_SAMPLE`], and short enough
    /// for about [`TARGET_SAMPLES`] samples in `min_time`.
    fn target_sample(&self, sync_cost: Duration) -> Duration {
        let overhead = (self.clock_cost * 2).max(sync_cost);
        let for_overhead = overhead.div_f64(MAX_CLOCK_OVERHEAD);
        let for_count = self.plan.min_time / TARGET_SAMPLES;
        MIN_SAMPLE.max(for_overhead).max(for_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Activation;
    use crate::kernels::int8::DType;

    fn tiny_plan(threads: usize) -> Plan {
        Plan {
            activations: vec![Activation::Relu, Activation::Sigmoid],
            dtypes: vec![DType::F32],
            sizes: vec![1000, 4096],
            threads,
            warmup: Duration::from_millis(2),
            min_time: Duration::from_millis(5),
            min_samples: 5,
            seed: 7,
            power: None,
        }
    }

    #[test]
    fn input_is_reproducible_in_range_and_normal() {
        let a = input_data(10_000, 11);
        assert_eq!(a, input_data(10_000, 11));
        assert_ne!(a, input_data(10_000, 12));
        assert!(a.iter().all(|x| (-8.0..=8.0).contains(x)));
        assert!(a.iter().all(|x| *x == 0.0 || x.is_normal()));
        // Uniform on [−8, 8]: about half the values are negative.
        let negative = a.iter().filter(|x| **x < 0.0).count();
        assert!((4000..6000).contains(&negative), "{negative}");
    }

    #[test]
    fn every_cell_is_measured_in_plan_order_with_events() {
        for threads in [1, 3] {
            let plan = tiny_plan(threads);
            let mut events = Vec::new();
            let outcome = run_plan(&plan, &AtomicBool::new(false), &mut |e| events.push(e));
            assert!(!outcome.cancelled);
            assert_eq!(outcome.results.len(), 4);
            for (result, spec) in outcome.results.iter().zip(plan.cells()) {
                assert_eq!(result.spec, spec);
                assert!(result.summary.samples >= 5);
                assert!(result.iterations_per_sample >= 1);
                assert!(result.summary.median_ns.is_finite() && result.summary.median_ns > 0.0);
                assert!(result.max_ulp_error.is_finite() && result.max_ulp_error >= 0.0);
                // ReLU is exact in f32, whatever the kernel.
                if result.spec.activation == Activation::Relu {
                    assert_eq!((result.max_ulp_error, result.max_abs_error), (0.0, 0.0));
                }
            }
            assert!(matches!(
                events.first(),
                Some(Event::Started { total_cells: 4, .. })
            ));
            assert!(matches!(
                events.last(),
                Some(Event::Finished { cancelled: false })
            ));
            let finished = events
                .iter()
                .filter(|e| matches!(e, Event::CellFinished { .. }));
            assert_eq!(finished.count(), 4);
        }
    }

    #[test]
    fn cells_record_the_threads_their_calls_ran_on() {
        // Two threads split a call only from 16K f32 elements (32K int8 codes) per thread.
        let plan = Plan {
            activations: vec![Activation::Relu],
            dtypes: vec![DType::F32, DType::I8],
            sizes: vec![1000, 40_000, 70_000],
            ..tiny_plan(2)
        };
        let outcome = run_plan(&plan, &AtomicBool::new(false), &mut |_| {});
        let used: Vec<(DType, usize, usize)> = outcome
            .results
            .iter()
            .map(|r| (r.spec.dtype, r.spec.elements, r.threads_used))
            .collect();
        assert_eq!(
            used,
            [
                (DType::F32, 1000, 1),
                (DType::I8, 1000, 1),
                (DType::F32, 40_000, 2),
                (DType::I8, 40_000, 1),
                (DType::F32, 70_000, 2),
                (DType::I8, 70_000, 2),
            ]
        );
        let single = run_plan(&tiny_plan(1), &AtomicBool::new(false), &mut |_| {});
        assert!(single.results.iter().all(|r| r.threads_used == 1));
    }

    #[test]
    fn int8_cells_are_timed_with_their_lsb_error() {
        for threads in [1, 2] {
            let plan = Plan {
                dtypes: vec![DType::F32, DType::I8, DType::U8],
                sizes: vec![999],
                ..tiny_plan(threads)
            };
            let outcome = run_plan(&plan, &AtomicBool::new(false), &mut |_| {});
            assert_eq!(outcome.results.len(), 6);
            for (result, spec) in outcome.results.iter().zip(plan.cells()) {
                assert_eq!(result.spec, spec);
                assert!(result.summary.median_ns > 0.0);
                match result.spec.dtype {
                    DType::F32 => assert_eq!(result.max_lsb_error, None),
                    // Table and max kernels compute the definition exactly.
                    DType::I8 | DType::U8 => assert_eq!(result.max_lsb_error, Some(0)),
                }
            }
            // Sigmoid's int8 output tops out at code 127 = 255/256, below sigmoid(127/16).
            let top = 1.0 / (1.0 + (-127.0_f64 / 16.0).exp()) - 255.0 / 256.0;
            let sigmoid_i8 = outcome
                .results
                .iter()
                .find(|r| r.spec.activation == Activation::Sigmoid && r.spec.dtype == DType::I8)
                .expect("an i8 sigmoid cell");
            assert!((sigmoid_i8.max_abs_error - top).abs() < 1e-9);
        }
    }

    #[test]
    fn a_set_cancel_flag_stops_before_any_cell() {
        let mut events = Vec::new();
        let outcome = run_plan(&tiny_plan(1), &AtomicBool::new(true), &mut |e| {
            events.push(e)
        });
        assert!(outcome.cancelled);
        assert!(outcome.results.is_empty());
        assert!(matches!(
            events.last(),
            Some(Event::Finished { cancelled: true })
        ));
    }

    #[test]
    fn cancelling_during_a_cell_keeps_the_finished_ones() {
        let cancel = AtomicBool::new(false);
        let outcome = run_plan(&tiny_plan(2), &cancel, &mut |event| {
            if let Event::CellFinished { index: 1, .. } = event {
                cancel.store(true, Ordering::Relaxed);
            }
        });
        assert!(outcome.cancelled);
        assert_eq!(outcome.results.len(), 2);
    }
}
