//! What a running plan tells its observers (CLI progress bar, GUI, report writers).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::plan::CellSpec;
use super::stats::Summary;

/// The measured outcome of one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub spec: CellSpec,
    /// Back-to-back kernel calls per timed sample.
    pub iterations_per_sample: u64,
    /// Threads each call ran on: `spec.threads`, or fewer where the tensor is too small to
    /// give every thread its minimum share (`kernels::parallel::threads_used`).
    pub threads_used: usize,
    /// Per-call time statistics.
    pub summary: Summary,
    /// Max error of the kernel vs the f64 reference, in f32 ULP.
    ///
    /// f32 cells: on the accuracy engine's quick-check points (`kernels::accuracy`).
    /// i8/u8 cells: end to end over all 256 input codes, the dequantized output against
    /// `f(dequantized input)`, counted in f32 ULPs at the exact value so it reads on the
    /// same scale as the f32 rows (see `harness::quantized`).
    pub max_ulp_error: f64,
    /// Max absolute error of the kernel vs the f64 reference, in the activation's units.
    /// For i8/u8 cells the end-to-end real error (`QuantAccuracy::max_abs_real_error`).
    pub max_abs_error: f64,
    /// i8/u8 cells: max error against the quantized definition over all 256 input codes,
    /// in output codes (LSB). `None` for f32 cells.
    #[serde(default)]
    pub max_lsb_error: Option<u32>,
    /// Seed of the input data.
    pub seed: u64,
    /// When the timed samples ran (warm-up and error checks excluded), for attributing
    /// the energy a power source measured meanwhile. `None` for results read back from
    /// elsewhere: instants mean nothing outside the process that measured them.
    #[serde(skip)]
    pub span: Option<MeasuredSpan>,
}

/// The stretch of a cell's timed samples: from the first sample's start to the last
/// sample's end, and the kernel calls made in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeasuredSpan {
    /// Start of the first timed sample.
    pub start: Instant,
    /// End of the last timed sample.
    pub end: Instant,
    /// Kernel calls made in the samples (batch size × samples).
    pub calls: u64,
}

impl CellResult {
    /// Median nanoseconds per element.
    pub fn ns_per_element(&self) -> f64 {
        self.summary.median_ns / self.spec.elements as f64
    }

    /// Throughput at the median: 10^9 elements per second (= elements per ns).
    pub fn gelem_per_s(&self) -> f64 {
        self.spec.elements as f64 / self.summary.median_ns
    }
}

/// Progress of a plan, in order: `Started`, then per cell `CellStarted`, any number of
/// `CellProgress`, `CellFinished`; finally `Finished`.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Started {
        total_cells: usize,
        estimated: Duration,
    },
    CellStarted {
        index: usize,
        spec: CellSpec,
    },
    /// Fraction in [0, 1] of the current cell's measuring time.
    CellProgress {
        index: usize,
        fraction: f64,
    },
    CellFinished {
        index: usize,
        result: CellResult,
    },
    /// Something the user should know that does not stop the run.
    Warning(String),
    Finished {
        cancelled: bool,
    },
}
