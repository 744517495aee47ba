//! Statistics of one cell's samples.
//!
//! Methods, each computed with `statrs` 0.19 (`statistics::{Data, OrderStatistics,
//! Statistics}`) over the per-call times of a [`Sample`]:
//!
//! - **Quantiles** (p5, p95, p99 and the quartiles behind the fences): `statrs`'s
//!   `quantile`, which is Hyndman & Fan's definition 8 (the approximately median-unbiased
//!   estimator): with `n` sorted values `x₁ ≤ … ≤ xₙ` and `h = (n + 1/3)·p + 1/3`, the
//!   p-quantile is `x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋₊₁ − x⌊h⌋)`, clamped to `x₁` / `xₙ` at the ends
//!   (R. J. Hyndman, Y. Fan, "Sample quantiles in statistical packages", The American
//!   Statistician 50(4), 1996).
//! - **Median**: the middle value, or the mean of the two middle values for even `n`.
//! - **Mean** and **standard deviation**: the arithmetic mean and the sample standard
//!   deviation with Bessel's correction (`n − 1`).
//! - **MAD**: the median of `|xᵢ − median|`, multiplied by 1.4826 (≈ 1/Φ⁻¹(3/4)) so it
//!   estimates σ for normally distributed data (P. J. Rousseeuw, C. Croux, "Alternatives
//!   to the median absolute deviation", JASA 88(424), 1993).
//! - **Confidence interval of the median**: percentile bootstrap (B. Efron, R. Tibshirani,
//!   "An Introduction to the Bootstrap", 1993, ch. 13): [`BOOTSTRAP_RESAMPLES`] resamples
//!   of `n` values drawn with replacement by a `ChaCha8Rng` seeded with the run seed (so
//!   the interval is reproducible), the median of each, and the 2.5 % and 97.5 %
//!   quantiles (definition 8 above) of those medians.
//! - **Outliers**: Tukey's fences (J. W. Tukey, "Exploratory Data Analysis", 1977) on the
//!   quartiles Q1, Q3 and IQR = Q3 − Q1. A value beyond `Q1 − 1.5·IQR` or `Q3 + 1.5·IQR`
//!   but within `3·IQR` is *mild*; beyond `Q1 − 3·IQR` or `Q3 + 3·IQR` it is *severe*.
//!   Outliers are counted and reported, never dropped from the other statistics.

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use statrs::statistics::{Data, OrderStatistics as _, Statistics};

/// Scale that makes the MAD a consistent estimator of σ for normal data (1 / Φ⁻¹(0.75)).
pub const MAD_NORMAL_SCALE: f64 = 1.4826;

/// Number of bootstrap resamples behind the confidence interval of the median.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// Tukey's inner fence, in IQRs beyond the quartiles: beyond it a value is an outlier.
pub const MILD_FENCE_IQR: f64 = 1.5;

/// Tukey's outer fence, in IQRs beyond the quartiles: beyond it an outlier is severe.
pub const SEVERE_FENCE_IQR: f64 = 3.0;

/// Measured values of one cell (nanoseconds per call): at least two, all finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample(Vec<f64>);

/// Why values were refused as a [`Sample`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    #[error("a sample needs at least 2 values, got {0}")]
    TooFew(usize),
    #[error("sample value {index} is {value}, not a finite number")]
    NotFinite { index: usize, value: f64 },
}

impl Sample {
    /// Takes the values if there are at least two and none is NaN or infinite.
    pub fn new(values: Vec<f64>) -> Result<Self, SampleError> {
        if values.len() < 2 {
            return Err(SampleError::TooFew(values.len()));
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SampleError::NotFinite { index, value });
        }
        Ok(Sample(values))
    }

    /// The values, in measuring order.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    /// Number of values (at least 2).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a sample holds at least two values.
    pub fn is_empty(&self) -> bool {
        false
    }
}

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

impl Summary {
    /// Computes every statistic of the module doc; `seed` drives the bootstrap.
    pub fn from_sample(sample: &Sample, seed: u64) -> Summary {
        let values = sample.values();
        let mut data = Data::new(values.to_vec());
        let median = data.median();
        let (ci95_low_ns, ci95_high_ns) = bootstrap_median_ci(values, seed);
        let (outliers_mild, outliers_severe) = tukey_outliers(&mut data);
        Summary {
            samples: values.len(),
            min_ns: Statistics::min(values.iter()),
            median_ns: median,
            mean_ns: values.iter().mean(),
            stddev_ns: values.iter().std_dev(),
            mad_ns: mad(values, median),
            p5_ns: data.quantile(0.05),
            p95_ns: data.quantile(0.95),
            p99_ns: data.quantile(0.99),
            ci95_low_ns,
            ci95_high_ns,
            outliers_mild,
            outliers_severe,
        }
    }
}

/// Median absolute deviation around `median`, scaled by [`MAD_NORMAL_SCALE`].
fn mad(values: &[f64], median: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    Data::new(deviations).median() * MAD_NORMAL_SCALE
}

/// Percentile-bootstrap 95% interval of the median.
fn bootstrap_median_ci(values: &[f64], seed: u64) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut resample = vec![0.0; values.len()];
    let medians: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            for slot in &mut resample {
                *slot = values[rng.random_range(0..values.len())];
            }
            Data::new(resample.as_mut_slice()).median()
        })
        .collect();
    let mut medians = Data::new(medians);
    (medians.quantile(0.025), medians.quantile(0.975))
}

/// Counts (mild, severe) outliers by Tukey's fences.
fn tukey_outliers(data: &mut Data<Vec<f64>>) -> (usize, usize) {
    let q1 = data.lower_quartile();
    let q3 = data.upper_quartile();
    let iqr = q3 - q1;
    let beyond = |v: f64, fence_iqr: f64| v < q1 - fence_iqr * iqr || v > q3 + fence_iqr * iqr;
    let severe = data
        .iter()
        .filter(|&&v| beyond(v, SEVERE_FENCE_IQR))
        .count();
    let mild_or_severe = data.iter().filter(|&&v| beyond(v, MILD_FENCE_IQR)).count();
    (mild_or_severe - severe, severe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0)
    }

    /// 1..=100 in a scrambled order (37 is coprime with 100, so this is a permutation).
    fn one_to_hundred_scrambled() -> Sample {
        Sample::new((0..100).map(|i| f64::from((i * 37) % 100 + 1)).collect()).expect("valid")
    }

    #[test]
    fn summary_of_one_to_hundred_matches_the_definitions() {
        let s = Summary::from_sample(&one_to_hundred_scrambled(), 1);
        assert_eq!(s.samples, 100);
        assert_eq!(s.min_ns, 1.0);
        // Even n: mean of the 50th and 51st values.
        assert_eq!(s.median_ns, 50.5);
        assert!(close(s.mean_ns, 50.5));
        // Sample variance of 1..=n is n(n+1)/12.
        assert!(
            close(s.stddev_ns, (100.0_f64 * 101.0 / 12.0).sqrt()),
            "{}",
            s.stddev_ns
        );
        // |x − 50.5| takes 0.5, 1.5, …, 49.5 twice each; its median is (24.5 + 25.5)/2.
        assert!(close(s.mad_ns, 25.0 * 1.4826), "{}", s.mad_ns);
        // Definition 8: h = (100 + 1/3)·p + 1/3; the p-quantile of 1..=100 is then h.
        assert!(close(s.p5_ns, 5.35), "{}", s.p5_ns);
        assert!(close(s.p95_ns, 95.65), "{}", s.p95_ns);
        assert!(
            close(s.p99_ns, (100.0 + 1.0 / 3.0) * 0.99 + 1.0 / 3.0),
            "{}",
            s.p99_ns
        );
        assert_eq!((s.outliers_mild, s.outliers_severe), (0, 0));
    }

    #[test]
    fn ten_points_interpolate_and_clamp() {
        let sample =
            Sample::new(vec![7.0, 1.0, 9.0, 3.0, 5.0, 2.0, 10.0, 4.0, 8.0, 6.0]).expect("valid");
        let s = Summary::from_sample(&sample, 1);
        assert_eq!(s.median_ns, 5.5);
        // |x − 5.5| sorted: 0.5 0.5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 4.5, median 2.5.
        assert!(close(s.mad_ns, 2.5 * 1.4826));
        // h(0.05) = 10⅓·0.05 + ⅓ = 0.85 < 1: clamped to the minimum; h(0.95) = 10.15 ≥ n.
        assert_eq!(s.p5_ns, 1.0);
        assert_eq!(s.p95_ns, 10.0);
        assert!(close(s.stddev_ns, (10.0_f64 * 11.0 / 12.0).sqrt()));
    }

    #[test]
    fn tukey_fences_count_mild_and_severe() {
        // Sorted: 1..=10, 25, 100 (n = 12). h(¼) = 12⅓·¼ + ⅓ = 3.41667 → Q1 = 3.41667;
        // h(¾) = 9.58333 → Q3 = 9.58333; IQR = 6.16667. Upper fences: 1.5 IQR → 18.83,
        // 3 IQR → 28.08. So 25 is mild and 100 severe; nothing is below Q1 − 1.5 IQR.
        let mut values: Vec<f64> = (1..=10).map(f64::from).collect();
        values.extend([100.0, 25.0]);
        let s = Summary::from_sample(&Sample::new(values).expect("valid"), 3);
        assert_eq!((s.outliers_mild, s.outliers_severe), (1, 1));
        // Counted, not dropped: the mean still includes them.
        assert!(close(s.mean_ns, 180.0 / 12.0));
    }

    #[test]
    fn bootstrap_ci_contains_the_median_and_is_reproducible() {
        let sample = one_to_hundred_scrambled();
        let a = Summary::from_sample(&sample, 42);
        let b = Summary::from_sample(&sample, 42);
        assert_eq!(a, b);
        assert!(
            a.ci95_low_ns <= a.median_ns && a.median_ns <= a.ci95_high_ns,
            "{a:?}"
        );
        assert!(a.ci95_low_ns < a.ci95_high_ns);
        // The median of a resample is itself a value or a midpoint of values in [1, 100].
        assert!(a.ci95_low_ns >= 1.0 && a.ci95_high_ns <= 100.0);
    }

    #[test]
    fn constant_samples_have_zero_spread() {
        let s = Summary::from_sample(&Sample::new(vec![4.0; 8]).expect("valid"), 0);
        assert_eq!((s.median_ns, s.mad_ns, s.stddev_ns), (4.0, 0.0, 0.0));
        assert_eq!((s.ci95_low_ns, s.ci95_high_ns), (4.0, 4.0));
        assert_eq!((s.outliers_mild, s.outliers_severe), (0, 0));
    }

    #[test]
    fn bad_samples_are_refused() {
        assert_eq!(Sample::new(vec![1.0]), Err(SampleError::TooFew(1)));
        assert_eq!(Sample::new(vec![]), Err(SampleError::TooFew(0)));
        assert!(matches!(
            Sample::new(vec![1.0, f64::NAN, 2.0]),
            Err(SampleError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            Sample::new(vec![1.0, 2.0, f64::INFINITY]),
            Err(SampleError::NotFinite { index: 2, .. })
        ));
    }
}
