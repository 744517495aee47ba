//! One CSV row per measured cell. Units are in the column names.

use serde::{Deserialize, Serialize};

/// A report row. Field order is the CSV column order; the README documents each column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Stable activation name (`relu`, `leaky_relu`, ...).
    pub activation: String,
    /// Parameters as `alpha=0.01`, empty when none.
    pub params: String,
    /// Element type (`f32`).
    pub dtype: String,
    pub elements: u64,
    pub threads: u32,
    /// Where it ran (`local` for this CPU).
    pub target: String,
    pub samples: u64,
    pub iterations_per_sample: u64,
    pub median_ns: f64,
    pub mean_ns: f64,
    pub stddev_ns: f64,
    pub mad_ns: f64,
    pub min_ns: f64,
    pub p5_ns: f64,
    pub p95_ns: f64,
    pub p99_ns: f64,
    pub ci95_low_ns: f64,
    pub ci95_high_ns: f64,
    pub outliers_mild: u64,
    pub outliers_severe: u64,
    pub ns_per_element: f64,
    pub gelem_per_s: f64,
    pub max_ulp_error: f64,
    pub max_abs_error: f64,
    pub host_cpu: String,
    pub host_os: String,
    pub governor: String,
    pub kernel_isa: String,
    pub seed: u64,
    pub actprof_version: String,
    pub started_at_utc: String,
}
