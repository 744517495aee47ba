//! What to run: activations × sizes × threads, and how long to measure each cell.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::kernels::Activation;

/// A run plan. Profiles in `profiles/*.toml` deserialize into this.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Activations with their parameters, in report order.
    pub activations: Vec<Activation>,
    /// Tensor lengths in elements.
    pub sizes: Vec<usize>,
    /// Worker threads per kernel call (1 = the calling thread only).
    pub threads: usize,
    /// Time-based warm-up before the samples of each cell.
    pub warmup: Duration,
    /// Minimum measuring time per cell (after warm-up).
    pub min_time: Duration,
    /// Minimum number of samples per cell.
    pub min_samples: usize,
    /// Seed of the input data generator, recorded in every report.
    pub seed: u64,
}

/// One measured cell of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    pub activation: Activation,
    pub elements: usize,
    pub threads: usize,
}
