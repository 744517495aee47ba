//! What a running plan tells its observers (CLI progress bar, GUI, report writers).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::plan::CellSpec;
use super::stats::Summary;

/// The measured outcome of one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub spec: CellSpec,
    /// Back-to-back kernel calls per timed sample.
    pub iterations_per_sample: u64,
    /// Per-call time statistics.
    pub summary: Summary,
    /// Max error of the kernel vs the f64 reference, in f32 ULP (measured on this run's
    /// accuracy sample, see `kernels::accuracy`).
    pub max_ulp_error: f64,
    /// Max absolute error of the kernel vs the f64 reference.
    pub max_abs_error: f64,
    /// Seed of the input data.
    pub seed: u64,
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
