//! Comparing two reports cell by cell: did the new run get faster, slower, or neither?
//!
//! Cells are matched by [`CellKey`]: activation, parameters, dtype, elements, threads and
//! target. Each matched pair gets a [`Verdict`] in the manner of criterion's change
//! detection, reduced to what a report keeps (the median and its bootstrap 95% confidence
//! interval, not the raw samples):
//!
//! 1. If the two 95% confidence intervals of the median overlap (touching counts), the
//!    difference is not distinguishable from sampling noise: [`Verdict::NoChange`].
//! 2. Otherwise, if the relative change of the median, `|new / base − 1|`, is at most the
//!    noise threshold (2% by default), the difference is real but too small to matter:
//!    [`Verdict::NoChange`].
//! 3. Otherwise the new median is [`Verdict::Faster`] (lower time) or [`Verdict::Slower`].
//!
//! Times are nanoseconds per kernel call, so a ratio below 1 means faster.

use std::collections::HashMap;
use std::fmt;

use super::row::Row;

/// Relative change below which a real difference still counts as no change (2%).
pub const DEFAULT_NOISE: f64 = 0.02;

/// What identifies a cell across reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub activation: String,
    pub params: String,
    pub dtype: String,
    pub elements: u64,
    pub threads: u32,
    pub target: String,
}

impl CellKey {
    /// The key of a report row.
    pub fn of(row: &Row) -> CellKey {
        CellKey {
            activation: row.activation.clone(),
            params: row.params.clone(),
            dtype: row.dtype.clone(),
            elements: row.elements,
            threads: row.threads,
            target: row.target.clone(),
        }
    }
}

impl fmt::Display for CellKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.activation)?;
        if !self.params.is_empty() {
            write!(f, ":{}", self.params)?;
        }
        let plural = if self.threads == 1 { "" } else { "s" };
        write!(
            f,
            " {} × {}, {} thread{plural}, {}",
            self.dtype, self.elements, self.threads, self.target
        )
    }
}

/// The outcome of comparing one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The new median time is lower, beyond both the confidence intervals and the noise.
    Faster,
    /// The new median time is higher, beyond both the confidence intervals and the noise.
    Slower,
    /// The intervals overlap or the change is within the noise threshold.
    NoChange,
}

impl Verdict {
    /// A lower-case word for tables: `faster`, `slower`, `no change`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoChange => "no change",
        }
    }
}

/// One cell present in both reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub key: CellKey,
    pub base_median_ns: f64,
    pub new_median_ns: f64,
    /// `new_median_ns / base_median_ns`: below 1 is faster.
    pub ratio: f64,
    /// `(ratio − 1) × 100`: negative is faster.
    pub change_pct: f64,
    /// Whether the two 95% confidence intervals of the median overlap.
    pub intervals_overlap: bool,
    pub verdict: Verdict,
}

/// Everything a comparison of two reports found.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareReport {
    /// Matched cells, in the base report's order.
    pub comparisons: Vec<Comparison>,
    /// Cells measured only in the base report, in its order.
    pub only_in_base: Vec<CellKey>,
    /// Cells measured only in the new report, in its order.
    pub only_in_new: Vec<CellKey>,
    /// The noise threshold used, as a fraction (0.02 = 2%).
    pub noise: f64,
}

impl CompareReport {
    /// How many matched cells got `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.verdict == verdict)
            .count()
    }

    /// Whether any cell got slower.
    pub fn any_regression(&self) -> bool {
        self.count(Verdict::Slower) > 0
    }
}

/// Why two reports could not be compared.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error(
        "the {report} report measures cell {key} twice (rows {first_row} and {second_row}), \
         so it is unclear which to compare"
    )]
    DuplicateCell {
        report: &'static str,
        key: Box<CellKey>,
        first_row: usize,
        second_row: usize,
    },

    #[error(
        "bad noise threshold `{0}`: expected a percentage such as 2% or a fraction in [0, 1) \
         such as 0.02"
    )]
    BadNoise(String),
}

/// Reads a noise threshold: `2%` or `0.02` both mean a fraction of 0.02.
///
/// A bare number must be below 1, so `2` (likely meant as 2%) is refused, not read as 200%.
pub fn parse_noise(text: &str) -> Result<f64, CompareError> {
    let refuse = || CompareError::BadNoise(text.to_owned());
    let trimmed = text.trim();
    let fraction = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map_err(|_| refuse())? / 100.0,
        None => {
            let value: f64 = trimmed.parse().map_err(|_| refuse())?;
            if value >= 1.0 {
                return Err(refuse());
            }
            value
        }
    };
    if fraction.is_finite() && fraction >= 0.0 {
        Ok(fraction)
    } else {
        Err(refuse())
    }
}

/// The verdict for one cell measured as `base` and again as `new` (see the module doc).
pub fn verdict(base: &Row, new: &Row, noise: f64) -> Verdict {
    if intervals_overlap(base, new) {
        return Verdict::NoChange;
    }
    let change = new.median_ns / base.median_ns - 1.0;
    if change.abs() <= noise {
        Verdict::NoChange
    } else if change < 0.0 {
        Verdict::Faster
    } else {
        Verdict::Slower
    }
}

fn intervals_overlap(base: &Row, new: &Row) -> bool {
    base.ci95_low_ns <= new.ci95_high_ns && new.ci95_low_ns <= base.ci95_high_ns
}

/// Matches the cells of `base` and `new` and judges each pair with the `noise` threshold.
pub fn compare(base: &[Row], new: &[Row], noise: f64) -> Result<CompareReport, CompareError> {
    let base_index = index_cells(base, "base")?;
    let new_index = index_cells(new, "new")?;

    let mut comparisons = Vec::new();
    let mut only_in_base = Vec::new();
    for base_row in base {
        let key = CellKey::of(base_row);
        let Some(&new_position) = new_index.get(&key) else {
            only_in_base.push(key);
            continue;
        };
        let new_row = &new[new_position];
        let ratio = new_row.median_ns / base_row.median_ns;
        comparisons.push(Comparison {
            key,
            base_median_ns: base_row.median_ns,
            new_median_ns: new_row.median_ns,
            ratio,
            change_pct: (ratio - 1.0) * 100.0,
            intervals_overlap: intervals_overlap(base_row, new_row),
            verdict: verdict(base_row, new_row, noise),
        });
    }

    let only_in_new = new
        .iter()
        .map(CellKey::of)
        .filter(|key| !base_index.contains_key(key))
        .collect();
    Ok(CompareReport {
        comparisons,
        only_in_base,
        only_in_new,
        noise,
    })
}

/// Position of each cell in `rows`; a cell measured twice is an error.
fn index_cells(
    rows: &[Row],
    report: &'static str,
) -> Result<HashMap<CellKey, usize>, CompareError> {
    let mut index = HashMap::with_capacity(rows.len());
    for (position, row) in rows.iter().enumerate() {
        let key = CellKey::of(row);
        if let Some(&first) = index.get(&key) {
            return Err(CompareError::DuplicateCell {
                report,
                key: Box::new(key),
                first_row: first + 1,
                second_row: position + 1,
            });
        }
        index.insert(key, position);
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of `activation` × 1000 elements with the given median and 95% CI.
    fn row(activation: &str, median_ns: f64, ci95_ns: (f64, f64)) -> Row {
        Row {
            activation: activation.to_owned(),
            params: String::new(),
            dtype: "f32".to_owned(),
            elements: 1000,
            threads: 1,
            threads_used: Some(1),
            target: "local".to_owned(),
            samples: 100,
            iterations_per_sample: 10,
            median_ns,
            mean_ns: median_ns,
            stddev_ns: 1.0,
            mad_ns: 1.0,
            min_ns: ci95_ns.0,
            p5_ns: ci95_ns.0,
            p95_ns: ci95_ns.1,
            p99_ns: ci95_ns.1,
            ci95_low_ns: ci95_ns.0,
            ci95_high_ns: ci95_ns.1,
            outliers_mild: 0,
            outliers_severe: 0,
            ns_per_element: median_ns / 1000.0,
            gelem_per_s: 1000.0 / median_ns,
            max_ulp_error: 0.0,
            max_abs_error: 0.0,
            max_lsb_error: None,
            host_cpu: String::new(),
            host_os: String::new(),
            governor: String::new(),
            kernel_isa: "scalar".to_owned(),
            seed: 1,
            actprof_version: "0.1.0".to_owned(),
            started_at_utc: String::new(),
            power_source: None,
            avg_power_w: None,
            idle_power_w: None,
            energy_per_call_nj: None,
            energy_per_element_pj: None,
            energy_ci95_low_nj: None,
            energy_ci95_high_nj: None,
            power_samples: None,
            timing: None,
            median_cycles_per_call: None,
            model: None,
            batch: None,
            activation_share: None,
        }
    }

    #[test]
    fn overlapping_intervals_mean_no_change_even_for_a_big_shift() {
        // Medians 30% apart, but the intervals share [110, 120].
        let base = row("relu", 100.0, (90.0, 120.0));
        let new = row("relu", 130.0, (110.0, 150.0));
        assert_eq!(verdict(&base, &new, DEFAULT_NOISE), Verdict::NoChange);
    }

    #[test]
    fn touching_intervals_count_as_overlapping() {
        let base = row("relu", 100.0, (99.0, 101.0));
        let new = row("relu", 110.0, (101.0, 111.0));
        assert_eq!(verdict(&base, &new, DEFAULT_NOISE), Verdict::NoChange);
    }

    #[test]
    fn separate_intervals_within_the_noise_mean_no_change() {
        // 1.5% slower with tight, disjoint intervals: real, but under 2%.
        let base = row("relu", 100.0, (99.9, 100.1));
        let new = row("relu", 101.5, (101.4, 101.6));
        assert_eq!(verdict(&base, &new, DEFAULT_NOISE), Verdict::NoChange);
        // Exactly at the threshold still counts as noise (|change| ≤ noise).
        let at_threshold = row("relu", 125.0, (124.0, 126.0));
        assert_eq!(verdict(&base, &at_threshold, 0.25), Verdict::NoChange);
    }

    #[test]
    fn separate_intervals_beyond_the_noise_give_a_direction() {
        let base = row("relu", 100.0, (99.0, 101.0));
        let slower = row("relu", 110.0, (109.0, 111.0));
        let faster = row("relu", 90.0, (89.0, 91.0));
        assert_eq!(verdict(&base, &slower, DEFAULT_NOISE), Verdict::Slower);
        assert_eq!(verdict(&base, &faster, DEFAULT_NOISE), Verdict::Faster);
        // A larger threshold turns the same 10% into noise.
        assert_eq!(verdict(&base, &slower, 0.15), Verdict::NoChange);
    }

    #[test]
    fn compare_matches_cells_and_lists_the_unmatched() {
        let base = [
            row("relu", 100.0, (99.0, 101.0)),
            row("sigmoid", 200.0, (198.0, 202.0)),
            row("tanh", 300.0, (290.0, 310.0)),
        ];
        let mut new_gelu = row("gelu", 400.0, (390.0, 410.0));
        new_gelu.threads = 2;
        let new = [
            row("sigmoid", 100.0, (99.0, 101.0)),
            row("relu", 110.0, (109.0, 111.0)),
            new_gelu.clone(),
        ];

        let report = compare(&base, &new, DEFAULT_NOISE).expect("no duplicate cells");

        let names: Vec<_> = report
            .comparisons
            .iter()
            .map(|c| c.key.activation.as_str())
            .collect();
        assert_eq!(names, ["relu", "sigmoid"]);
        let relu = &report.comparisons[0];
        assert_eq!(relu.ratio, 1.1);
        assert!((relu.change_pct - 10.0).abs() < 1e-9);
        assert_eq!(relu.verdict, Verdict::Slower);
        let sigmoid = &report.comparisons[1];
        assert_eq!(sigmoid.ratio, 0.5);
        assert_eq!(sigmoid.change_pct, -50.0);
        assert_eq!(sigmoid.verdict, Verdict::Faster);
        assert_eq!(report.only_in_base, [CellKey::of(&base[2])]);
        assert_eq!(report.only_in_new, [CellKey::of(&new_gelu)]);
        assert_eq!(report.count(Verdict::Slower), 1);
        assert!(report.any_regression());
    }

    #[test]
    fn every_key_field_separates_cells() {
        let base = row("relu", 100.0, (99.0, 101.0));
        let variants: [fn(&mut Row); 6] = [
            |r| r.activation = "sigmoid".to_owned(),
            |r| r.params = "alpha=0.2".to_owned(),
            |r| r.dtype = "i8".to_owned(),
            |r| r.elements = 2000,
            |r| r.threads = 4,
            |r| r.target = "board".to_owned(),
        ];
        for change in variants {
            let mut new = base.clone();
            change(&mut new);
            let report =
                compare(std::slice::from_ref(&base), &[new], DEFAULT_NOISE).expect("no duplicates");
            assert!(report.comparisons.is_empty());
            assert_eq!(report.only_in_base.len(), 1);
            assert_eq!(report.only_in_new.len(), 1);
        }
    }

    #[test]
    fn a_cell_measured_twice_is_refused_with_both_rows() {
        let rows = [row("relu", 1.0, (1.0, 1.0)), row("tanh", 1.0, (1.0, 1.0))];
        let twice = [rows[0].clone(), rows[1].clone(), rows[0].clone()];
        let error = compare(&rows, &twice, DEFAULT_NOISE).expect_err("duplicate");
        assert_eq!(
            error,
            CompareError::DuplicateCell {
                report: "new",
                key: Box::new(CellKey::of(&rows[0])),
                first_row: 1,
                second_row: 3
            }
        );
        assert!(error.to_string().contains("rows 1 and 3"), "{error}");
    }

    #[test]
    fn noise_reads_percentages_and_fractions() {
        assert_eq!(parse_noise("2%"), Ok(0.02));
        assert_eq!(parse_noise(" 5 % "), Ok(0.05));
        assert_eq!(parse_noise("0.02"), Ok(0.02));
        assert_eq!(parse_noise("0"), Ok(0.0));
        for bad in ["", "%", "two", "-1%", "2", "1", "inf%", "NaN"] {
            let error = parse_noise(bad).expect_err(bad);
            assert_eq!(error, CompareError::BadNoise(bad.to_owned()));
            assert!(error.to_string().contains("2%"), "{error}");
        }
    }

    #[test]
    fn key_display_names_every_part() {
        let mut leaky = row("leaky_relu", 1.0, (1.0, 1.0));
        leaky.params = "alpha=0.2".to_owned();
        leaky.threads = 4;
        assert_eq!(
            CellKey::of(&leaky).to_string(),
            "leaky_relu:alpha=0.2 f32 × 1000, 4 threads, local"
        );
    }
}
