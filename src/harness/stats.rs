//! Statistics of one cell's samples.

use serde::{Deserialize, Serialize};

/// Summary statistics of the per-call times of one cell, in nanoseconds per call.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub samples: usize,
    pub min_ns: f64,
    pub median_ns: f64,
    pub mean_ns: f64,
    pub stddev_ns: f64,
    /// Median absolute deviation, scaled by 1.4826 (consistent with σ for normal data).
    pub mad_ns: f64,
    pub p5_ns: f64,
    pub p95_ns: f64,
    pub p99_ns: f64,
    /// Bootstrap 95% confidence interval of the median.
    pub ci95_low_ns: f64,
    pub ci95_high_ns: f64,
    /// Tukey fences: beyond 1.5 IQR (mild, excluding severe) and beyond 3 IQR (severe).
    pub outliers_mild: usize,
    pub outliers_severe: usize,
}
