//! Energy attribution: joules per window, the idle baseline, and joules per call.
//!
//! # Method
//!
//! **Power sources** (W samples `(tᵢ, Pᵢ)`, spacing may be uneven): power between two
//! samples is taken as the straight line joining them, and the window energy is the
//! integral of that piecewise-linear curve over `[start, end]`: the trapezoid rule on
//! every sample interval inside the window, with the curve interpolated linearly at the
//! window edges. It is exact for power that is constant or linear between samples.
//!
//! **Counter sources** (cumulative J `(tᵢ, Eᵢ)`, already unwrapped): the window energy is
//! `E(end) − E(start)` with `E` interpolated linearly between the reads that bracket each
//! edge. Nothing is extrapolated: the samples must cover the whole window.
//!
//! **Gaps.** A *gap* is a pair of neighbouring samples, overlapping the window, further
//! apart than `max_gap_s` (by default [`GAP_PERIODS`] nominal sample periods). The
//! energy across a gap is still the straight line, but every gap is listed in the result
//! so that callers report it; it is never bridged silently.
//!
//! **Too short.** A window holding fewer than `min_samples` samples (default
//! [`DEFAULT_MIN_SAMPLES`]) is refused: at `r` Hz a window must last at least
//! `min_samples / r` seconds ([`min_window_s`]).
//!
//! **Idle baseline.** From an idle window: `P_idle` = window energy / duration (the
//! time-weighted mean), `σ_idle` = sample standard deviation (n − 1) of the power samples
//! in the window, `n_idle` = their number. For counter sources the power samples are the
//! mean powers of the intervals between reads.
//!
//! **Energy per call.** For a run window of duration `d` with `calls` calls:
//! `E_call = (E_window − P_idle · d) / calls`; per element divide by the elements instead,
//! and an inference of `k` calls costs `k · E_call`. The 95 % confidence half-width treats
//! the two mean powers as independent means of their samples:
//!
//! ```text
//! ci95(E_call) = 1.96 · sqrt(σ_idle² / n_idle + σ_run² / n_run) · d / calls
//! ```
//!
//! It reflects the noise of the power readings, not a source's calibration error.

use serde::{Deserialize, Serialize};

use crate::power::{PowerSample, Quantity};

/// Fewest samples a window needs before its energy is attributed.
pub const DEFAULT_MIN_SAMPLES: usize = 20;

/// Neighbouring samples more than this many nominal periods apart form a gap.
pub const GAP_PERIODS: f64 = 3.0;

/// Two-sided 95 % quantile of the standard normal distribution.
const Z_95: f64 = 1.96;

/// Rules for attributing energy to a window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attribution {
    /// Nominal sample rate of the source in Hz (used in messages).
    pub rate_hz: f64,
    /// Fewest samples a window must hold.
    pub min_samples: usize,
    /// Longest spacing between neighbouring samples that is not a gap, in s.
    pub max_gap_s: f64,
}

impl Attribution {
    /// The default rules for a source sampling at `rate_hz`.
    pub fn for_rate(rate_hz: f64) -> Attribution {
        Attribution {
            rate_hz,
            min_samples: DEFAULT_MIN_SAMPLES,
            max_gap_s: GAP_PERIODS / rate_hz,
        }
    }
}

/// Shortest window in seconds that holds `min_samples` samples at `rate_hz`.
pub fn min_window_s(rate_hz: f64, min_samples: usize) -> f64 {
    min_samples as f64 / rate_hz
}

/// A stretch between two neighbouring samples longer than the gap threshold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Time of the sample before the gap, in s.
    pub start_s: f64,
    /// Time of the sample after the gap, in s.
    pub end_s: f64,
}

/// The energy of one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowEnergy {
    /// Window start in s.
    pub start_s: f64,
    /// Window end in s.
    pub end_s: f64,
    /// Energy over the window in J.
    pub energy_j: f64,
    /// Samples with `start_s ≤ t ≤ end_s`.
    pub samples: usize,
    /// Sample standard deviation of the power samples in the window, in W.
    pub power_std_w: f64,
    /// Gaps overlapping the window.
    pub gaps: Vec<Gap>,
}

impl WindowEnergy {
    /// Window length in s.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// Time-weighted mean power in W.
    pub fn mean_power_w(&self) -> f64 {
        self.energy_j / self.duration_s()
    }
}

/// Why energy could not be attributed to a window.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EnergyError {
    /// The window is empty or reversed.
    #[error("window [{start_s} s, {end_s} s] is empty")]
    EmptyWindow { start_s: f64, end_s: f64 },

    /// The samples do not reach both edges of the window.
    #[error(
        "window [{start_s:.3} s, {end_s:.3} s] is not covered by the power samples, which \
         span [{first_s:.3} s, {last_s:.3} s]"
    )]
    NotCovered {
        start_s: f64,
        end_s: f64,
        first_s: f64,
        last_s: f64,
    },

    /// Too few samples fell in the window.
    #[error(
        "window of {duration_s:.3} s holds {got} power samples, fewer than the {need} \
         needed: at {rate_hz} Hz a window must last at least {min_duration_s:.3} s"
    )]
    TooFewSamples {
        got: usize,
        need: usize,
        duration_s: f64,
        rate_hz: f64,
        min_duration_s: f64,
    },

    /// A counter source's sample lacks its counter value.
    #[error("the power sample at {t_s} s has no energy counter value")]
    NoCounter { t_s: f64 },

    /// Energy per call of a window without calls.
    #[error("the run window has no calls to share its energy")]
    NoCalls,
}

/// The energy of `[start_s, end_s]` for a source measuring `quantity`.
pub fn window_energy(
    samples: &[PowerSample],
    quantity: Quantity,
    start_s: f64,
    end_s: f64,
    rules: &Attribution,
) -> Result<WindowEnergy, EnergyError> {
    match quantity {
        Quantity::EnergyCounter => counter_energy(samples, start_s, end_s, rules),
        Quantity::Power | Quantity::CurrentVoltage => power_energy(samples, start_s, end_s, rules),
    }
}

/// The integral of the piecewise-linear power curve over `[start_s, end_s]`.
pub fn power_energy(
    samples: &[PowerSample],
    start_s: f64,
    end_s: f64,
    rules: &Attribution,
) -> Result<WindowEnergy, EnergyError> {
    let first = check_window(samples, start_s, end_s, rules)?;
    let mut energy_j = 0.0;
    for pair in samples[first..].windows(2) {
        let (left, right) = (&pair[0], &pair[1]);
        if left.t_s >= end_s {
            break;
        }
        let lo = left.t_s.max(start_s);
        let hi = right.t_s.min(end_s);
        if hi > lo {
            let p_lo = interpolate(left.t_s, left.power_w, right.t_s, right.power_w, lo);
            let p_hi = interpolate(left.t_s, left.power_w, right.t_s, right.power_w, hi);
            energy_j += 0.5 * (p_lo + p_hi) * (hi - lo);
        }
    }
    Ok(finish(samples, first, start_s, end_s, energy_j, rules))
}

/// The counter difference between `end_s` and `start_s`, each interpolated linearly.
pub fn counter_energy(
    samples: &[PowerSample],
    start_s: f64,
    end_s: f64,
    rules: &Attribution,
) -> Result<WindowEnergy, EnergyError> {
    let first = check_window(samples, start_s, end_s, rules)?;
    let at_start = counter_at(samples, first, start_s)?;
    let at_end = counter_at(samples, first, end_s)?;
    Ok(finish(
        samples,
        first,
        start_s,
        end_s,
        at_end - at_start,
        rules,
    ))
}

/// Linear interpolation of the counter at `t_s`, searching from sample `from`.
fn counter_at(samples: &[PowerSample], from: usize, t_s: f64) -> Result<f64, EnergyError> {
    let offset = samples[from..].partition_point(|s| s.t_s <= t_s);
    let left = &samples[(from + offset).saturating_sub(1).max(from)];
    let left_j = left
        .energy_j
        .ok_or(EnergyError::NoCounter { t_s: left.t_s })?;
    let Some(right) = samples.get(from + offset).filter(|_| left.t_s < t_s) else {
        return Ok(left_j);
    };
    let right_j = right
        .energy_j
        .ok_or(EnergyError::NoCounter { t_s: right.t_s })?;
    Ok(interpolate(left.t_s, left_j, right.t_s, right_j, t_s))
}

fn interpolate(t0: f64, y0: f64, t1: f64, y1: f64, t: f64) -> f64 {
    if t1 == t0 || t == t0 {
        return y0;
    }
    if t == t1 {
        return y1;
    }
    y0 + (y1 - y0) * (t - t0) / (t1 - t0)
}

/// Checks the window against the samples and returns the index of the last sample at
/// or before its start.
fn check_window(
    samples: &[PowerSample],
    start_s: f64,
    end_s: f64,
    rules: &Attribution,
) -> Result<usize, EnergyError> {
    if end_s <= start_s || !(start_s.is_finite() && end_s.is_finite()) {
        return Err(EnergyError::EmptyWindow { start_s, end_s });
    }
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Err(EnergyError::NotCovered {
            start_s,
            end_s,
            first_s: f64::NAN,
            last_s: f64::NAN,
        });
    };
    if first.t_s > start_s || last.t_s < end_s {
        return Err(EnergyError::NotCovered {
            start_s,
            end_s,
            first_s: first.t_s,
            last_s: last.t_s,
        });
    }
    let inside = inside(samples, start_s, end_s).len();
    if inside < rules.min_samples {
        return Err(EnergyError::TooFewSamples {
            got: inside,
            need: rules.min_samples,
            duration_s: end_s - start_s,
            rate_hz: rules.rate_hz,
            min_duration_s: min_window_s(rules.rate_hz, rules.min_samples),
        });
    }
    Ok(samples.partition_point(|s| s.t_s <= start_s) - 1)
}

/// The samples with `start_s ≤ t ≤ end_s`.
fn inside(samples: &[PowerSample], start_s: f64, end_s: f64) -> &[PowerSample] {
    let from = samples.partition_point(|s| s.t_s < start_s);
    let to = samples.partition_point(|s| s.t_s <= end_s);
    &samples[from..to.max(from)]
}

fn finish(
    samples: &[PowerSample],
    first: usize,
    start_s: f64,
    end_s: f64,
    energy_j: f64,
    rules: &Attribution,
) -> WindowEnergy {
    let gaps = samples[first..]
        .windows(2)
        .take_while(|pair| pair[0].t_s < end_s)
        .filter(|pair| pair[1].t_s - pair[0].t_s > rules.max_gap_s)
        .map(|pair| Gap {
            start_s: pair[0].t_s,
            end_s: pair[1].t_s,
        })
        .collect();
    let window = inside(samples, start_s, end_s);
    WindowEnergy {
        start_s,
        end_s,
        energy_j,
        samples: window.len(),
        power_std_w: sample_std(window.iter().map(|s| s.power_w)),
        gaps,
    }
}

/// Sample standard deviation (n − 1); 0 for fewer than two values.
fn sample_std(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, sum), v| (n + 1, sum + v));
    if n < 2 {
        return 0.0;
    }
    let mean = sum / n as f64;
    let squares: f64 = values.map(|v| (v - mean) * (v - mean)).sum();
    (squares / (n - 1) as f64).sqrt()
}

/// The machine's power with nothing running.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleBaseline {
    /// Time-weighted mean power in W.
    pub mean_power_w: f64,
    /// Sample standard deviation of the power samples in W.
    pub std_w: f64,
    /// Number of power samples.
    pub samples: usize,
}

impl IdleBaseline {
    /// The baseline measured over an idle window.
    pub fn from_window(idle: &WindowEnergy) -> IdleBaseline {
        IdleBaseline {
            mean_power_w: idle.mean_power_w(),
            std_w: idle.power_std_w,
            samples: idle.samples,
        }
    }
}

/// Energy attributed to one call of a run window, above idle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallEnergy {
    /// Window energy minus the idle baseline over the window, in J.
    pub net_energy_j: f64,
    /// Energy per call in J.
    pub per_call_j: f64,
    /// 95 % confidence half-width of `per_call_j` in J.
    pub per_call_ci95_j: f64,
    /// Energy per element in J (`None` when the window processed no elements).
    pub per_element_j: Option<f64>,
    /// 95 % confidence half-width of `per_element_j` in J.
    pub per_element_ci95_j: Option<f64>,
    /// Gaps in the run window's samples.
    pub gaps: Vec<Gap>,
}

impl CallEnergy {
    /// Energy of an inference that makes `calls_per_inference` calls, with its 95 %
    /// confidence half-width, in J.
    pub fn per_inference_j(&self, calls_per_inference: f64) -> (f64, f64) {
        (
            self.per_call_j * calls_per_inference,
            self.per_call_ci95_j * calls_per_inference,
        )
    }
}

/// Energy per call (and per element) of `run`, above the `idle` baseline.
pub fn energy_per_call(
    run: &WindowEnergy,
    idle: &IdleBaseline,
    calls: u64,
    elements: u64,
) -> Result<CallEnergy, EnergyError> {
    if calls == 0 {
        return Err(EnergyError::NoCalls);
    }
    let duration_s = run.duration_s();
    let net_energy_j = run.energy_j - idle.mean_power_w * duration_s;
    let variance_w2 =
        variance_of_mean(idle.std_w, idle.samples) + variance_of_mean(run.power_std_w, run.samples);
    let net_ci95_j = Z_95 * variance_w2.sqrt() * duration_s;
    let per = |count: u64| (count > 0).then_some(count as f64);
    Ok(CallEnergy {
        net_energy_j,
        per_call_j: net_energy_j / calls as f64,
        per_call_ci95_j: net_ci95_j / calls as f64,
        per_element_j: per(elements).map(|n| net_energy_j / n),
        per_element_ci95_j: per(elements).map(|n| net_ci95_j / n),
        gaps: run.gaps.clone(),
    })
}

fn variance_of_mean(std: f64, samples: usize) -> f64 {
    if samples == 0 {
        return 0.0;
    }
    std * std / samples as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::counter::CounterUnwrapper;

    /// Samples every 0.1 s from 0 to 10 s of `power(t)`.
    fn every_tenth(power: impl Fn(f64) -> f64) -> Vec<PowerSample> {
        (0..=100)
            .map(|k| {
                let t_s = f64::from(k) / 10.0;
                PowerSample::power(t_s, power(t_s))
            })
            .collect()
    }

    fn rules() -> Attribution {
        Attribution::for_rate(10.0)
    }

    fn assert_close(actual: f64, expected: f64) {
        let tolerance = 1e-12 * expected.abs().max(1.0);
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} differs from {expected}"
        );
    }

    #[test]
    fn constant_power_integrates_to_power_times_duration() {
        let samples = every_tenth(|_| 5.0);
        let window = power_energy(&samples, 1.05, 3.55, &rules()).expect("energy");
        assert_close(window.energy_j, 5.0 * 2.5);
        assert_close(window.mean_power_w(), 5.0);
        assert_eq!(window.samples, 25);
        assert_eq!(window.power_std_w, 0.0);
        assert!(window.gaps.is_empty());
    }

    #[test]
    fn a_step_inside_the_window_ramps_over_one_sample_interval() {
        // 2 W before 5 s, 6 W from 5 s: the curve ramps from 2 W at 4.9 s to 6 W at 5 s.
        let samples = every_tenth(|t| if t < 5.0 { 2.0 } else { 6.0 });
        let window = power_energy(&samples, 1.0, 9.0, &rules()).expect("energy");
        assert_close(
            window.energy_j,
            2.0 * 3.9 + 0.5 * (2.0 + 6.0) * 0.1 + 6.0 * 4.0,
        );
    }

    #[test]
    fn a_step_at_the_window_edge_is_interpolated() {
        let samples = every_tenth(|t| if t < 5.0 { 2.0 } else { 6.0 });
        let at_step = power_energy(&samples, 5.0, 9.0, &rules()).expect("energy");
        assert_close(at_step.energy_j, 6.0 * 4.0);
        // Half-way up the ramp the curve is at 4 W.
        let mid_ramp = power_energy(&samples, 4.95, 9.0, &rules()).expect("energy");
        assert_close(mid_ramp.energy_j, 0.5 * (4.0 + 6.0) * 0.05 + 6.0 * 4.0);
    }

    #[test]
    fn a_ramp_is_integrated_exactly() {
        // ∫ (1 + 2t) dt = t + t² from 2.5 to 7.25.
        let samples = every_tenth(|t| 1.0 + 2.0 * t);
        let window = power_energy(&samples, 2.5, 7.25, &rules()).expect("energy");
        assert_close(window.energy_j, (7.25 + 7.25 * 7.25) - (2.5 + 2.5 * 2.5));
    }

    #[test]
    fn unevenly_spaced_samples_of_a_ramp_are_integrated_exactly() {
        let steps = [0.05, 0.2, 0.1, 0.15, 0.025, 0.1];
        let mut t_s = 0.0;
        let mut samples = Vec::new();
        for k in 0..60 {
            samples.push(PowerSample::power(t_s, 3.0 - 0.25 * t_s));
            t_s += steps[k % steps.len()];
        }
        let (a, b) = (0.33, 5.07);
        let window = power_energy(&samples, a, b, &rules()).expect("energy");
        let antiderivative = |t: f64| 3.0 * t - 0.125 * t * t;
        assert_close(window.energy_j, antiderivative(b) - antiderivative(a));
    }

    #[test]
    fn a_gap_is_reported_and_not_bridged_silently() {
        let samples: Vec<PowerSample> = every_tenth(|_| 5.0)
            .into_iter()
            .filter(|s| s.t_s <= 4.0 || s.t_s >= 6.0)
            .collect();
        let window = power_energy(&samples, 1.0, 9.0, &rules()).expect("energy");
        assert_close(window.energy_j, 5.0 * 8.0);
        assert_eq!(
            window.gaps,
            [Gap {
                start_s: 4.0,
                end_s: 6.0
            }]
        );
    }

    /// Reads of a 10 W zone every 0.01 s through a 1 J counter that wraps every 0.1 s.
    fn wrapping_counter_trace() -> Vec<PowerSample> {
        const RANGE_UJ: u64 = 1_000_000;
        let mut counter = CounterUnwrapper::new(0, 0.0, RANGE_UJ, 20.0);
        let mut samples = vec![PowerSample {
            energy_j: Some(0.0),
            ..PowerSample::power(0.0, 10.0)
        }];
        for k in 1..=300u64 {
            let t_s = k as f64 / 100.0;
            let raw_uj = (k * 100_000) % (RANGE_UJ + 1);
            let total_uj = counter.advance(raw_uj, t_s).expect("fast enough");
            samples.push(PowerSample {
                energy_j: Some(total_uj as f64 / 1e6),
                ..PowerSample::power(t_s, 10.0)
            });
        }
        samples
    }

    #[test]
    fn counter_energy_across_wraps_is_the_interpolated_difference() {
        let samples = wrapping_counter_trace();
        let rules = Attribution::for_rate(100.0);
        let window = counter_energy(&samples, 0.355, 1.855, &rules).expect("energy");
        // About 15 wraps lie inside; the unwrapped counter still rises 10 J per second.
        assert_close(window.energy_j, 10.0 * 1.5);
        let dispatched =
            window_energy(&samples, Quantity::EnergyCounter, 0.355, 1.855, &rules).expect("ok");
        assert_eq!(dispatched, window);
    }

    #[test]
    fn idle_power_is_subtracted_before_sharing_among_calls() {
        let samples = every_tenth(|t| if t < 4.0 { 3.0 } else { 8.0 });
        let idle = power_energy(&samples, 0.5, 3.5, &rules()).expect("idle");
        let baseline = IdleBaseline::from_window(&idle);
        assert_close(baseline.mean_power_w, 3.0);
        let run = power_energy(&samples, 5.0, 9.0, &rules()).expect("run");
        let calls = energy_per_call(&run, &baseline, 1_000, 1_000 * 4096).expect("per call");
        // (8 W − 3 W) × 4 s over 1000 calls of 4096 elements.
        assert_close(calls.net_energy_j, 20.0);
        assert_close(calls.per_call_j, 0.02);
        assert_close(calls.per_element_j.expect("elements"), 20.0 / 4_096_000.0);
        assert_eq!(calls.per_call_ci95_j, 0.0);
        let (inference_j, _) = calls.per_inference_j(12.0);
        assert_close(inference_j, 0.24);
    }

    #[test]
    fn the_confidence_interval_follows_the_stated_formula() {
        // Idle alternates 2.5 W and 3.5 W; the run is a steady 8 W.
        let samples = every_tenth(|t| {
            let k = (t * 10.0).round() as i64;
            match (t < 5.0, k % 2 == 0) {
                (true, true) => 2.5,
                (true, false) => 3.5,
                (false, _) => 8.0,
            }
        });
        let idle = power_energy(&samples, 0.0, 3.9, &rules()).expect("idle");
        // 40 samples at 0.0 … 3.9 s: 20 of 2.5 W and 20 of 3.5 W, mean 3 W.
        assert_eq!(idle.samples, 40);
        let sigma_idle = (40.0 * 0.25_f64 / 39.0).sqrt();
        assert_close(idle.power_std_w, sigma_idle);

        let baseline = IdleBaseline::from_window(&idle);
        let run = power_energy(&samples, 6.0, 8.0, &rules()).expect("run");
        let calls = energy_per_call(&run, &baseline, 500, 0).expect("per call");
        let expected = 1.96 * (sigma_idle * sigma_idle / 40.0).sqrt() * 2.0 / 500.0;
        assert_close(calls.per_call_ci95_j, expected);
        assert_eq!(calls.per_element_j, None);
    }

    #[test]
    fn too_few_samples_say_how_long_a_window_must_last() {
        let samples = every_tenth(|_| 5.0);
        let err = power_energy(&samples, 1.0, 1.95, &rules()).expect_err("too short");
        assert_eq!(
            err,
            EnergyError::TooFewSamples {
                got: 10,
                need: 20,
                duration_s: 1.95 - 1.0,
                rate_hz: 10.0,
                min_duration_s: 2.0,
            }
        );
        assert!(err.to_string().contains("at least 2.000 s"), "{err}");
    }

    #[test]
    fn windows_beyond_the_samples_or_without_calls_are_refused() {
        let samples = every_tenth(|_| 5.0);
        let err = power_energy(&samples, 8.0, 10.5, &rules()).expect_err("not covered");
        assert!(matches!(err, EnergyError::NotCovered { .. }), "{err:?}");
        let err = power_energy(&samples, 3.0, 3.0, &rules()).expect_err("empty");
        assert!(matches!(err, EnergyError::EmptyWindow { .. }), "{err:?}");
        let run = power_energy(&samples, 1.0, 9.0, &rules()).expect("run");
        let idle = IdleBaseline::from_window(&run);
        assert_eq!(
            energy_per_call(&run, &idle, 0, 0),
            Err(EnergyError::NoCalls)
        );
    }
}
