//! Runs a [`Plan`] on a board: which cells it can run, how many calls each timed run
//! makes, and the statistics of the ticks it reports.
//!
//! Per cell:
//! 1. cells the board cannot run (kernel or dtype it lacks, more elements than it holds,
//!    more than one thread) are skipped with the reason;
//! 2. calibration: runs of `batch` calls, the batch grown until one run lasts at least
//!    [`MIN_RUN_TICKS`] timer ticks (so a tick of quantisation is under 0.1 %) or the
//!    board's `max_batch` is reached;
//! 3. the measured request: enough runs to fill the plan's `min_time` (at least its
//!    `min_samples`, at most [`MAX_BOARD_RUNS`] and the board's `max_runs`), after
//!    warm-up calls filling the plan's `warmup` (at most [`MAX_WARMUP_CALLS`]);
//! 4. the checksum is compared with the host's ([`super::expected`]); a mismatch fails
//!    the cell, it is never reported as measured.
//!
//! Time per call is `ticks / timer_hz / batch`. A board that stops answering, resets or
//! goes away ends the run with [`BoardError`]; the cells finished before are kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use statrs::statistics::{Data, Median as _};

use super::client::{BoardClient, BoardError, RunReply};
use super::expected::{self, Expected};
use super::protocol::RunRequest;
use crate::harness::stats::{Sample, Summary};
use crate::harness::{CellResult, CellSpec, Event, Plan};

/// Shortest timed run aimed for, in timer ticks.
pub const MIN_RUN_TICKS: u32 = 1000;

/// Most timed runs per cell, whatever `min_time` asks (each run is a line on the wire).
pub const MAX_BOARD_RUNS: u32 = 1000;

/// Most warm-up calls per cell (the protocol's limit).
pub const MAX_WARMUP_CALLS: u32 = 1000;

/// Calibration requests per cell, at most.
const CALIBRATION_STEPS: u32 = 6;

/// A measured board cell.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardCell {
    /// The cell as the local harness reports it (`iterations_per_sample` = batch).
    pub result: CellResult,
    /// Median cycles per call, when the board has a cycle counter.
    pub median_cycles: Option<f64>,
}

/// A cell that was not measured, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct SkippedCell {
    pub spec: CellSpec,
    pub reason: String,
}

/// What a board run produced.
#[derive(Debug)]
pub struct BoardOutcome {
    /// Finished cells, in plan order.
    pub cells: Vec<BoardCell>,
    /// Cells not run (the board lacks something) or failed (checksum mismatch).
    pub skipped: Vec<SkippedCell>,
    /// Cells whose output did not match the host's (they are also in `skipped`).
    pub mismatches: usize,
    /// The error that ended the run early, if any.
    pub error: Option<BoardError>,
    /// Whether the run was cancelled.
    pub cancelled: bool,
}

/// Runs `plan` on the board behind `client`, reporting progress to `sink`.
pub fn run_plan_on_board(
    client: &mut BoardClient,
    plan: &Plan,
    cancel: &AtomicBool,
    sink: &mut dyn FnMut(Event),
) -> BoardOutcome {
    let cells = plan.cells();
    sink(Event::Started {
        total_cells: cells.len(),
        estimated: plan.estimated_duration(),
    });
    let mut outcome = BoardOutcome {
        cells: Vec::new(),
        skipped: Vec::new(),
        mismatches: 0,
        error: None,
        cancelled: false,
    };
    let seed = board_seed(plan.seed);
    for (index, spec) in cells.into_iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            outcome.cancelled = true;
            break;
        }
        if let Some(reason) = unsupported(client, &spec) {
            sink(Event::Warning(format!(
                "skipped {}: {reason}",
                describe(&spec)
            )));
            outcome.skipped.push(SkippedCell { spec, reason });
            continue;
        }
        sink(Event::CellStarted { index, spec });
        match measure(client, plan, &spec, seed) {
            Ok(Measured::Cell(cell)) => {
                sink(Event::CellFinished {
                    index,
                    result: cell.result.clone(),
                });
                outcome.cells.push(*cell);
            }
            Ok(Measured::Mismatch(reason)) => {
                sink(Event::Warning(format!(
                    "failed {}: {reason}",
                    describe(&spec)
                )));
                outcome.mismatches += 1;
                outcome.skipped.push(SkippedCell { spec, reason });
            }
            Err(err) => {
                outcome.error = Some(err);
                break;
            }
        }
    }
    // A Ctrl-C during the last cell is still a Ctrl-C: the run did not end by itself.
    if outcome.error.is_none() && cancel.load(Ordering::Relaxed) {
        outcome.cancelled = true;
    }
    sink(Event::Finished {
        cancelled: outcome.cancelled,
    });
    outcome
}

/// The board's 32-bit seed of a plan seed (the low half xor the high half).
pub fn board_seed(seed: u64) -> u32 {
    (seed ^ (seed >> 32)) as u32
}

/// Why the board cannot run `spec`, if it cannot.
fn unsupported(client: &BoardClient, spec: &CellSpec) -> Option<String> {
    let caps = client.caps();
    let (kernel, _) = expected::firmware_kernel(spec.activation);
    if !caps.kernels.iter().any(|k| k == kernel.name()) {
        return Some(format!("the board has no {} kernel", kernel.name()));
    }
    if !caps.dtypes.iter().any(|d| d == spec.dtype.name()) {
        return Some(format!("the board has no {} kernels", spec.dtype.name()));
    }
    if spec.elements > caps.max_elements as usize {
        return Some(format!(
            "{} elements, the board holds at most {}",
            spec.elements, caps.max_elements
        ));
    }
    if spec.threads != 1 {
        return Some(format!("{} threads, the board runs one", spec.threads));
    }
    None
}

enum Measured {
    Cell(Box<BoardCell>),
    Mismatch(String),
}

fn measure(
    client: &mut BoardClient,
    plan: &Plan,
    spec: &CellSpec,
    seed: u32,
) -> Result<Measured, BoardError> {
    let Some(dtype) = expected::run_dtype(spec) else {
        return Ok(Measured::Mismatch(
            "the cell has no quantization".to_owned(),
        ));
    };
    let want = match expected::expected(spec, seed) {
        Ok(want) => want,
        Err(err) => return Ok(Measured::Mismatch(format!("bad quantization: {err}"))),
    };
    let (kernel, param) = expected::firmware_kernel(spec.activation);
    let hz = f64::from(client.info().timer_hz);
    let caps = client.caps().clone();
    let mut request = RunRequest {
        kernel,
        param,
        dtype,
        elements: spec.elements as u32,
        runs: 1,
        warmup: 0,
        batch: 1,
        seed,
    };

    // Calibration: grow the batch until a run is long enough to time.
    let mut ticks_per_call = 0.0;
    for _ in 0..CALIBRATION_STEPS {
        let reply = client.run(&request, Duration::ZERO)?;
        if let Some(mismatch) = check(&reply, &want) {
            return Ok(Measured::Mismatch(mismatch));
        }
        let ticks = reply.ticks[0];
        ticks_per_call = f64::from(ticks.max(1)) / f64::from(request.batch);
        if ticks >= MIN_RUN_TICKS || request.batch >= caps.max_batch {
            break;
        }
        let grow = (f64::from(MIN_RUN_TICKS) * 1.2 / f64::from(ticks.max(1))).ceil();
        let next = (f64::from(request.batch) * grow.max(2.0)).min(f64::from(caps.max_batch));
        request.batch = next as u32;
    }
    let call_s = ticks_per_call / hz;
    let run_s = call_s * f64::from(request.batch);
    let runs = (plan.min_time.as_secs_f64() / run_s).ceil();
    let max_runs = MAX_BOARD_RUNS.min(caps.max_runs);
    request.runs = (runs.max(plan.min_samples as f64).min(f64::from(max_runs)) as u32).max(2);
    request.warmup = (plan.warmup.as_secs_f64() / call_s)
        .ceil()
        .clamp(1.0, f64::from(MAX_WARMUP_CALLS)) as u32;

    let run_time = Duration::from_secs_f64(run_s.min(3600.0));
    let reply = client.run(&request, run_time)?;
    if let Some(mismatch) = check(&reply, &want) {
        return Ok(Measured::Mismatch(mismatch));
    }
    let per_call = |count: u32| f64::from(count) * 1e9 / hz / f64::from(request.batch);
    let values: Vec<f64> = reply.ticks.iter().map(|&t| per_call(t)).collect();
    let sample = match Sample::new(values) {
        Ok(sample) => sample,
        Err(err) => return Ok(Measured::Mismatch(format!("unusable timings: {err}"))),
    };
    let median_cycles = reply.cycles.as_ref().map(|cycles| {
        let per: Vec<f64> = cycles
            .iter()
            .map(|&c| f64::from(c) / f64::from(request.batch))
            .collect();
        Data::new(per).median()
    });
    let result = CellResult {
        spec: *spec,
        iterations_per_sample: u64::from(request.batch),
        threads_used: 1,
        summary: Summary::from_sample(&sample, u64::from(seed)),
        max_ulp_error: want.max_ulp_error,
        max_abs_error: want.max_abs_error,
        max_lsb_error: want.max_lsb_error,
        seed: u64::from(seed),
        span: None,
    };
    tracing::debug!(
        cell = describe(spec),
        batch = request.batch,
        runs = request.runs,
        warmup = request.warmup,
        "board cell measured"
    );
    Ok(Measured::Cell(Box::new(BoardCell {
        result,
        median_cycles,
    })))
}

/// `None` if the board's checksum is the host's, else what differs.
fn check(reply: &RunReply, want: &Expected) -> Option<String> {
    (reply.checksum != want.checksum).then(|| {
        format!(
            "output checksum {:08x} from the board, {:08x} expected: the board computed \
             something else than the host's reference",
            reply.checksum, want.checksum
        )
    })
}

/// `tanh f32 1K` style name of a cell, for messages.
pub fn describe(spec: &CellSpec) -> String {
    format!(
        "{} {} {}",
        spec.activation,
        spec.dtype.name(),
        crate::harness::plan::format_size(spec.elements)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_seeds_fold_the_high_half() {
        assert_eq!(board_seed(24301), 24301);
        assert_eq!(board_seed(0x0000_0001_0000_0003), 2);
        assert_eq!(board_seed(u64::MAX), 0);
    }
}
