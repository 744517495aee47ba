//! MLPerf Tiny's latency score, from the MLCommons runner (`main.py`, `script.py`) and
//! EEMBC's README:
//!
//! - a test is 5 windows, each `download; infer N W`;
//! - a window's throughput is `N / elapsed`, elapsed = `t1 − t0` of its two `m-lap-us`
//!   stamps (µs, modulo 2³²);
//! - the score is the **median throughput** of the windows (for an even count, the mean
//!   of the middle two, as numpy's median); latency per inference = 1 / median throughput
//!   (results tables print it in ms);
//! - each window must last at least 10 s; submitters raise N until it does.
//!
//! actprof chooses N from a short calibration window ([`calibrate`]) so each window lasts
//! at least the minimum, and states every way a run departs from these rules
//! ([`deviations`]).

use std::time::Duration;

use super::client::Inference;

/// Windows of an MLPerf Tiny performance test.
pub const MLPERF_WINDOWS: usize = 5;

/// Shortest window MLPerf Tiny accepts.
pub const MLPERF_MIN_WINDOW: Duration = Duration::from_secs(10);

/// Most inferences one `infer` may ask for: the firmware reads N with `atoi` into an `int`.
pub const MAX_INFERENCES: u32 = i32::MAX as u32;

/// Longest window the 32-bit µs timer can time without ambiguity, with room for the
/// calibration margin: 60 min of its 71.6-minute wrap period.
pub const MAX_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Calibrated windows aim this much above the minimum, in percent, so that jitter does
/// not bring one under it.
const CALIBRATION_MARGIN_PERCENT: u128 = 5;

/// One timed window as the score sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowResult {
    /// Timed inferences (N).
    pub inferences: u32,
    /// Warm-up inferences before them (W).
    pub warmup: u32,
    /// Time between the two stamps, µs (> 0).
    pub elapsed_us: u64,
    /// The DUT's `m-results-[…]` text of the window's last inference.
    pub results: String,
}

impl WindowResult {
    /// The window of one `infer`.
    pub fn from_inference(inference: &Inference) -> WindowResult {
        WindowResult {
            inferences: inference.inferences,
            warmup: inference.warmup,
            elapsed_us: inference.elapsed_us,
            results: inference.results.clone(),
        }
    }

    /// The window's length in s.
    pub fn seconds(&self) -> f64 {
        self.elapsed_us as f64 / 1e6
    }

    /// Inferences per second.
    pub fn throughput_inf_per_s(&self) -> f64 {
        f64::from(self.inferences) / self.seconds()
    }

    /// ms per inference.
    pub fn latency_ms_per_inf(&self) -> f64 {
        self.elapsed_us as f64 / 1e3 / f64::from(self.inferences)
    }
}

/// The score of a set of windows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Windows scored.
    pub windows: usize,
    /// Median of the windows' throughputs, inferences per second.
    pub median_throughput_inf_per_s: f64,
    /// 1000 / median throughput: ms per inference.
    pub latency_ms_per_inf: f64,
    /// The fastest window's ms per inference.
    pub min_latency_ms_per_inf: f64,
    /// The slowest window's ms per inference.
    pub max_latency_ms_per_inf: f64,
}

/// The median of `values`: the middle one, or the mean of the middle two. `None` when
/// empty or when a value is not finite.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|value| !value.is_finite()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        Some(sorted[middle])
    } else {
        Some(f64::midpoint(sorted[middle - 1], sorted[middle]))
    }
}

/// The MLPerf Tiny score of `windows`; `None` without a window or with one of 0 µs.
pub fn score(windows: &[WindowResult]) -> Option<Score> {
    if windows.iter().any(|window| window.elapsed_us == 0) {
        return None;
    }
    let throughputs: Vec<f64> = windows
        .iter()
        .map(WindowResult::throughput_inf_per_s)
        .collect();
    let median_throughput_inf_per_s = median(&throughputs)?;
    let latencies = windows.iter().map(WindowResult::latency_ms_per_inf);
    Some(Score {
        windows: windows.len(),
        median_throughput_inf_per_s,
        latency_ms_per_inf: 1e3 / median_throughput_inf_per_s,
        min_latency_ms_per_inf: latencies.clone().fold(f64::INFINITY, f64::min),
        max_latency_ms_per_inf: latencies.fold(0.0, f64::max),
    })
}

/// What a calibration window says to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calibration {
    /// Too short to extrapolate from: calibrate again with this many inferences.
    Grow(u32),
    /// Windows of this many inferences will last at least the minimum.
    Done(u32),
}

/// The next step after a calibration window of `inferences` that took `elapsed_us`.
///
/// A window of at least a fifth of `min_window` (and at least 10 ms, ten ticks of the
/// coarsest timer EEMBC allows) is extrapolated: N = ⌈inferences · min_window / elapsed ·
/// 1.05⌉. A shorter one is repeated with more inferences (aiming at 1.5 × that fifth, at
/// least twice and at most ten times as many).
pub fn calibrate(inferences: u32, elapsed_us: u64, min_window: Duration) -> Calibration {
    let target_us = min_window.as_micros().max(1);
    let enough_us = (target_us / 5).max(target_us.min(10_000));
    let count = u128::from(inferences.max(1));
    let elapsed = u128::from(elapsed_us);
    let cap = u128::from(MAX_INFERENCES);
    if elapsed >= enough_us || count >= cap {
        if elapsed == 0 {
            return Calibration::Done(MAX_INFERENCES);
        }
        let wanted =
            (count * target_us * (100 + CALIBRATION_MARGIN_PERCENT)).div_ceil(elapsed * 100);
        return Calibration::Done(clamp_count(wanted.max(1), cap));
    }
    let grown = if elapsed == 0 {
        count * 10
    } else {
        (count * enough_us * 3)
            .div_ceil(elapsed * 2)
            .clamp(count * 2, count * 10)
    };
    Calibration::Grow(clamp_count(grown, cap))
}

fn clamp_count(count: u128, cap: u128) -> u32 {
    u32::try_from(count.min(cap)).unwrap_or(MAX_INFERENCES)
}

/// What a run was asked to do, for [`deviations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Windows asked for.
    pub windows: usize,
    /// Shortest window asked for; `None` when the inferences per window were fixed.
    pub min_window: Option<Duration>,
}

/// Every way `windows` depart from MLPerf Tiny's rules, as sentences for the output; empty
/// for a compliant run.
pub fn deviations(windows: &[WindowResult], rules: &Rules) -> Vec<String> {
    let mut found = Vec::new();
    if windows.len() != MLPERF_WINDOWS {
        let asked = if rules.windows == windows.len() {
            String::new()
        } else {
            format!(" of the {} asked for", rules.windows)
        };
        found.push(format!(
            "{} window{}{asked}, not MLPerf Tiny's {MLPERF_WINDOWS}",
            windows.len(),
            if windows.len() == 1 { "" } else { "s" }
        ));
    }
    let rule_s = MLPERF_MIN_WINDOW.as_secs_f64();
    match rules.min_window {
        Some(min_window) if min_window < MLPERF_MIN_WINDOW => found.push(format!(
            "windows of {} s, shorter than MLPerf Tiny's {} s",
            seconds(min_window.as_secs_f64()),
            seconds(rule_s)
        )),
        _ => {
            let short: Vec<f64> = windows
                .iter()
                .map(WindowResult::seconds)
                .filter(|&s| s < rule_s)
                .collect();
            if let Some(shortest) = short.iter().copied().reduce(f64::min) {
                found.push(format!(
                    "{} of {} windows lasted less than MLPerf Tiny's {} s (the shortest {} s)",
                    short.len(),
                    windows.len(),
                    seconds(rule_s),
                    seconds(shortest)
                ));
            }
        }
    }
    found
}

/// `x` s with at most 3 decimals and no trailing zeros: 0.5 → `0.5`, 10 → `10`.
pub fn seconds(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(inferences: u32, elapsed_us: u64) -> WindowResult {
        WindowResult {
            inferences,
            warmup: 5,
            elapsed_us,
            results: String::new(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn a_window_reports_throughput_and_latency() {
        // 20 inferences in 0.5 s: 40 inf/s, 25 ms each.
        let w = window(20, 500_000);
        assert_eq!(w.seconds(), 0.5);
        assert_eq!(w.throughput_inf_per_s(), 40.0);
        assert_eq!(w.latency_ms_per_inf(), 25.0);
    }

    #[test]
    fn the_score_is_the_median_throughput_of_the_windows() {
        // 100 inferences per window in 10.0, 10.4, 9.8, 10.2 and 12.5 s:
        // throughputs 10, 9.615…, 10.204…, 9.803…, 8 inf/s; sorted, the middle one is
        // 100/10.2 = 9.8039 inf/s, so the latency is 102 ms per inference.
        let windows = [
            window(100, 10_000_000),
            window(100, 10_400_000),
            window(100, 9_800_000),
            window(100, 10_200_000),
            window(100, 12_500_000),
        ];
        let score = score(&windows).expect("a score");
        assert_eq!(score.windows, 5);
        assert!(close(score.median_throughput_inf_per_s, 100.0 / 10.2));
        assert!(close(score.latency_ms_per_inf, 102.0));
        assert!(close(score.min_latency_ms_per_inf, 98.0));
        assert!(close(score.max_latency_ms_per_inf, 125.0));
    }

    #[test]
    fn an_even_count_takes_the_mean_of_the_middle_throughputs() {
        // 10 inferences in 1 s and in 0.5 s: 10 and 20 inf/s; median 15 inf/s, and the
        // latency is 1000/15 = 66.67 ms, not the mean of 100 and 50 ms.
        let score = score(&[window(10, 1_000_000), window(10, 500_000)]).expect("a score");
        assert_eq!(score.median_throughput_inf_per_s, 15.0);
        assert!(close(score.latency_ms_per_inf, 1000.0 / 15.0));
        assert!(super::score(&[]).is_none());
        assert!(super::score(&[window(10, 0)]).is_none());
    }

    #[test]
    fn calibration_extrapolates_a_long_enough_window_with_a_margin() {
        // 20 inferences in 2.5 s toward 10 s: ⌈20 · 10 / 2.5 · 1.05⌉ = 84.
        let ten = Duration::from_secs(10);
        assert_eq!(calibrate(20, 2_500_000, ten), Calibration::Done(84));
        // 20 inferences of 1 ms toward 100 ms: 20 ms is a fifth; ⌈20 · 5 · 1.05⌉ = 105.
        let short = Duration::from_millis(100);
        assert_eq!(calibrate(20, 20_000, short), Calibration::Done(105));
        // Already longer than a window: still at least one inference.
        assert_eq!(calibrate(1, 60_000_000, ten), Calibration::Done(1));
    }

    #[test]
    fn calibration_grows_a_short_window_two_to_ten_times() {
        let ten = Duration::from_secs(10);
        // 1 s of the 2 s needed: aim at 3 s, three times as many.
        assert_eq!(calibrate(20, 1_000_000, ten), Calibration::Grow(60));
        // 1 ms: at most ten times.
        assert_eq!(calibrate(20, 1_000, ten), Calibration::Grow(200));
        // 1.9 s: at least twice.
        assert_eq!(calibrate(20, 1_900_000, ten), Calibration::Grow(40));
        // A timer that did not move.
        assert_eq!(calibrate(20, 0, ten), Calibration::Grow(200));
        // Never past what the firmware's int holds.
        assert_eq!(
            calibrate(MAX_INFERENCES / 2, 10, ten),
            Calibration::Grow(MAX_INFERENCES)
        );
        assert_eq!(
            calibrate(MAX_INFERENCES, 10, ten),
            Calibration::Done(MAX_INFERENCES)
        );
    }

    #[test]
    fn a_compliant_run_has_no_deviation() {
        let windows = vec![window(100, 10_500_000); 5];
        let rules = Rules {
            windows: 5,
            min_window: Some(MLPERF_MIN_WINDOW),
        };
        assert!(deviations(&windows, &rules).is_empty());
    }

    #[test]
    fn deviations_are_stated() {
        let windows = vec![window(105, 105_000); 3];
        let rules = Rules {
            windows: 5,
            min_window: Some(Duration::from_millis(100)),
        };
        assert_eq!(
            deviations(&windows, &rules),
            [
                "3 windows of the 5 asked for, not MLPerf Tiny's 5",
                "windows of 0.1 s, shorter than MLPerf Tiny's 10 s",
            ]
        );
        let fixed = Rules {
            windows: 1,
            min_window: None,
        };
        assert_eq!(
            deviations(&[window(20, 9_500_000)], &fixed),
            [
                "1 window, not MLPerf Tiny's 5",
                "1 of 1 windows lasted less than MLPerf Tiny's 10 s (the shortest 9.5 s)",
            ]
        );
    }

    #[test]
    fn seconds_print_without_trailing_zeros() {
        assert_eq!(seconds(0.5), "0.5");
        assert_eq!(seconds(10.0), "10");
        assert_eq!(seconds(0.105), "0.105");
        assert_eq!(seconds(12.3456), "12.346");
    }
}
