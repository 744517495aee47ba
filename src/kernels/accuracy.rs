//! The accuracy engine: how far the fast f32 kernels are from the exact f64 reference.
//!
//! Every point is evaluated by the kernel under test (on a chosen [`Isa`], in blocks of
//! [`CHUNK`] inputs, as in real use) and by [`reference::eval`] in f64; the error is counted
//! in ULPs of the exact value ([`ulp_error`]) and as an absolute difference. Each activation
//! has a [`Contract`]: the error the kernels promise. A sweep covers either a deterministic
//! sample ([`SweepMode::Sampled`]: edge values, then a fixed mix of every bit pattern,
//! log-uniform magnitudes down to 2^-40 and uniform ranges up to ±120) or all 2^32 bit
//! patterns ([`SweepMode::Exhaustive`]), split across named scoped threads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a sweep reports progress.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

use super::activation::{Activation, GeluApproximation};
use super::dispatch::{Isa, apply_with};
use super::reference;
use super::ulp::{F32_MIN_NORMAL, abs_error, ulp_error};

/// Inputs per kernel call in a sweep.
pub const CHUNK: usize = 65_536;

/// Points in the default sampled sweep.
pub const DEFAULT_SAMPLED_POINTS: u64 = 4_000_000;

/// The smallest sampled sweep: the edge values and enough spread points to reach every
/// binade of both signs (a sweep of a handful of points would pass while checking nothing).
pub const MIN_SAMPLED_POINTS: u64 = 1000;

/// Points of [`quick_check`].
pub const QUICK_CHECK_POINTS: u64 = 65_536;

/// The error a kernel promises against the exact f64 value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contract {
    /// Largest error in ULPs of the exact value.
    pub max_ulp: f64,
    /// Where the exact value is below the normal f32 range (|v| < 2^-126), the largest
    /// absolute error instead of `max_ulp`; `None` keeps the ULP bound there too.
    pub abs_below_normal: Option<f64>,
}

impl Contract {
    /// Whether `got` is within the contract of `exact`.
    pub fn allows(&self, got: f32, exact: f64) -> bool {
        match self.abs_below_normal {
            Some(bound) if exact.abs() < F32_MIN_NORMAL => abs_error(got, exact) <= bound,
            _ => ulp_error(got, exact) <= self.max_ulp,
        }
    }

    /// Whether the error at `exact` is counted in ULPs (true) or absolutely (false).
    pub fn measures_ulp_at(&self, exact: f64) -> bool {
        self.abs_below_normal.is_none() || exact.abs() >= F32_MIN_NORMAL || exact.is_nan()
    }
}

/// The contract of each activation's fast kernel.
///
/// ReLU is exact (0 ULP); Leaky ReLU is one correctly rounded product (≤ 0.5 ULP against
/// the exact product); sigmoid and tanh ≤ 2 ULP; Swish/SiLU ≤ 3 ULP; both GELUs ≤ 4 ULP
/// where the exact result is a normal f32 and ≤ 1e-9 absolute below.
pub fn contract(activation: Activation) -> Contract {
    let ulp = |max_ulp| Contract {
        max_ulp,
        abs_below_normal: None,
    };
    match activation {
        Activation::Relu => ulp(0.0),
        Activation::LeakyRelu { .. } => ulp(0.5),
        Activation::Sigmoid | Activation::Tanh => ulp(2.0),
        Activation::Swish { .. } => ulp(3.0),
        Activation::Gelu {
            approximation: GeluApproximation::Erf | GeluApproximation::Tanh,
        } => Contract {
            max_ulp: 4.0,
            abs_below_normal: Some(1e-9),
        },
    }
}

/// Which inputs a sweep checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepMode {
    /// The edge values, then `points` deterministic samples in total (seeded, so two runs
    /// check the same inputs).
    Sampled {
        /// How many inputs to check (edge values included).
        points: u64,
    },
    /// Every one of the 2^32 f32 bit patterns.
    Exhaustive,
}

impl Default for SweepMode {
    fn default() -> Self {
        SweepMode::Sampled {
            points: DEFAULT_SAMPLED_POINTS,
        }
    }
}

impl SweepMode {
    /// How many inputs the mode checks.
    pub fn points(self) -> u64 {
        match self {
            SweepMode::Sampled { points } => points,
            SweepMode::Exhaustive => 1 << 32,
        }
    }

    /// The `index`-th input of the sweep.
    fn input(self, index: u64) -> f32 {
        match self {
            SweepMode::Sampled { .. } => sample_point(index),
            SweepMode::Exhaustive => f32::from_bits(index as u32),
        }
    }
}

/// What a sweep found.
#[derive(Clone, Debug, PartialEq)]
pub struct AccuracyReport {
    /// The activation checked.
    pub activation: Activation,
    /// The kernel path checked.
    pub isa: Isa,
    /// Inputs checked (fewer than asked if cancelled).
    pub points_checked: u64,
    /// Largest error in ULPs over all inputs checked.
    pub max_ulp: f64,
    /// The input with the largest ULP error (first in sweep order on ties).
    pub max_ulp_at: f32,
    /// Largest absolute error.
    pub max_abs: f64,
    /// The input with the largest absolute error.
    pub max_abs_at: f32,
    /// Largest ULP error among inputs whose exact result is a normal f32 (or ±inf, NaN).
    pub max_ulp_normal_outputs: f64,
    /// The input with that error (first in sweep order on ties).
    pub max_ulp_normal_at: f32,
    /// Largest absolute error among inputs whose exact result is below the normal range.
    pub worst_below_normal_abs: f64,
    /// Inputs whose result violates the [`contract`].
    pub failures: u64,
    /// Whether the sweep was stopped before checking every input.
    pub cancelled: bool,
    /// Complete and without failures.
    pub passes: bool,
    /// Wall-clock time of the sweep in seconds.
    pub elapsed_s: f64,
}

/// Checks `activation` on `isa` over the inputs of `mode`, using `threads` worker threads.
///
/// `progress(done, total)` is called from the calling thread about every 0.2 s and once at
/// the end; setting `cancel` stops the workers after their current chunk.
///
/// # Panics
/// If `isa` is not available on this CPU.
pub fn sweep(
    activation: Activation,
    isa: Isa,
    mode: SweepMode,
    threads: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &AtomicBool,
) -> AccuracyReport {
    let started = Instant::now();
    let total = mode.points();
    let chunks = total.div_ceil(CHUNK as u64);
    let next_chunk = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let tally = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|worker| {
                let (next_chunk, done) = (&next_chunk, &done);
                std::thread::Builder::new()
                    .name(format!("accuracy-{worker}"))
                    .spawn_scoped(scope, move || {
                        let mut tally = Tally::default();
                        let mut input = Vec::with_capacity(CHUNK);
                        let mut output = vec![0.0; CHUNK];
                        while !cancel.load(Ordering::Relaxed) {
                            let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                            if chunk >= chunks {
                                break;
                            }
                            let start = chunk * CHUNK as u64;
                            let end = (start + CHUNK as u64).min(total);
                            input.clear();
                            input.extend((start..end).map(|i| mode.input(i)));
                            let output = &mut output[..input.len()];
                            apply_with(isa, activation, &input, output);
                            tally.add_chunk(activation, start, &input, output);
                            done.fetch_add(end - start, Ordering::Relaxed);
                        }
                        tally
                    })
                    .expect("spawning an accuracy worker thread")
            })
            .collect();
        // A worker that panicked counts as finished too, so this never waits forever; the
        // join below then reports the panic.
        let mut last_progress = Instant::now();
        while !workers.iter().all(|worker| worker.is_finished()) {
            if last_progress.elapsed() >= PROGRESS_INTERVAL {
                progress(done.load(Ordering::Relaxed), total);
                last_progress = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        workers.into_iter().fold(Tally::default(), |acc, worker| {
            acc.merge(worker.join().expect("accuracy worker panicked"))
        })
    });
    let points_checked = done.load(Ordering::Relaxed);
    progress(points_checked, total);
    tally.into_report(activation, isa, points_checked, total, started.elapsed())
}

/// Max ULP error (where the contract counts ULPs) and max absolute error of `activation` on
/// `isa` over [`QUICK_CHECK_POINTS`] fixed sampled inputs: a fast figure for reports.
///
/// # Panics
/// If `isa` is not available on this CPU.
pub fn quick_check(activation: Activation, isa: Isa) -> (f64, f64) {
    let input: Vec<f32> = (0..QUICK_CHECK_POINTS).map(sample_point).collect();
    let mut output = vec![0.0; input.len()];
    apply_with(isa, activation, &input, &mut output);
    let terms = contract(activation);
    let (mut max_ulp, mut max_abs) = (0.0_f64, 0.0_f64);
    for (&x, &got) in input.iter().zip(&output) {
        let exact = reference::eval(activation, f64::from(x));
        if terms.measures_ulp_at(exact) {
            max_ulp = max_ulp.max(ulp_error(got, exact));
        }
        max_abs = max_abs.max(abs_error(got, exact));
    }
    (max_ulp, max_abs)
}

/// Running worst cases of one worker. Indices break ties so the result does not depend on
/// which worker saw which chunk.
#[derive(Clone, Debug, Default)]
struct Tally {
    max_ulp: Worst,
    max_abs: Worst,
    max_ulp_normal: Worst,
    below_normal_abs: Worst,
    failures: u64,
}

/// The largest error seen and where (sweep index, input).
#[derive(Clone, Copy, Debug, Default)]
struct Worst {
    error: f64,
    index: u64,
    input: f32,
}

impl Worst {
    fn offer(&mut self, error: f64, index: u64, input: f32) {
        if error > self.error {
            *self = Worst {
                error,
                index,
                input,
            };
        }
    }

    fn merge(self, other: Worst) -> Worst {
        let other_wins = other.error > self.error
            || (other.error == self.error && other.error > 0.0 && other.index < self.index);
        if other_wins { other } else { self }
    }
}

impl Tally {
    fn add_chunk(&mut self, activation: Activation, start: u64, input: &[f32], output: &[f32]) {
        let terms = contract(activation);
        for (offset, (&x, &got)) in input.iter().zip(output).enumerate() {
            let index = start + offset as u64;
            let exact = reference::eval(activation, f64::from(x));
            let ulp = ulp_error(got, exact);
            let abs = abs_error(got, exact);
            self.max_ulp.offer(ulp, index, x);
            self.max_abs.offer(abs, index, x);
            if exact.abs() < F32_MIN_NORMAL {
                self.below_normal_abs.offer(abs, index, x);
            } else {
                self.max_ulp_normal.offer(ulp, index, x);
            }
            if !terms.allows(got, exact) {
                self.failures += 1;
            }
        }
    }

    fn merge(self, other: Tally) -> Tally {
        Tally {
            max_ulp: self.max_ulp.merge(other.max_ulp),
            max_abs: self.max_abs.merge(other.max_abs),
            max_ulp_normal: self.max_ulp_normal.merge(other.max_ulp_normal),
            below_normal_abs: self.below_normal_abs.merge(other.below_normal_abs),
            failures: self.failures + other.failures,
        }
    }

    fn into_report(
        self,
        activation: Activation,
        isa: Isa,
        points_checked: u64,
        total: u64,
        elapsed: Duration,
    ) -> AccuracyReport {
        let cancelled = points_checked < total;
        AccuracyReport {
            activation,
            isa,
            points_checked,
            max_ulp: self.max_ulp.error,
            max_ulp_at: self.max_ulp.input,
            max_abs: self.max_abs.error,
            max_abs_at: self.max_abs.input,
            max_ulp_normal_outputs: self.max_ulp_normal.error,
            max_ulp_normal_at: self.max_ulp_normal.input,
            worst_below_normal_abs: self.below_normal_abs.error,
            failures: self.failures,
            cancelled,
            passes: !cancelled && self.failures == 0,
            elapsed_s: elapsed.as_secs_f64(),
        }
    }
}

/// Inputs every sampled sweep starts with: signed zeros, infinities, NaN, the extremes of
/// the f32 range and the places where kernels switch method or saturate.
pub const EDGE_VALUES: [f32; 40] = [
    0.0,
    -0.0,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    f32::MAX,
    -f32::MAX,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1e-45,
    -1e-45,
    1e-30,
    -1e-30,
    1e30,
    -1e30,
    1000.0,
    -1000.0,
    88.8,
    -88.8,
    87.33,
    -87.33,
    103.97,
    -103.97,
    0.549_306_2,
    -0.549_306_2,
    0.6745,
    -0.6745,
    13.146,
    -13.146,
    13.15,
    -13.15,
    9.0,
    -9.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    5.116,
    -5.116,
    -170.0,
];

/// The `index`-th input of the sampled sweep: first [`EDGE_VALUES`], then a fixed mix of
/// random bit patterns (every exponent and both signs), log-uniform magnitudes in
/// [2^-40, 2^7) and uniform values on ±1, ±6, ±20 and ±120.
fn sample_point(index: u64) -> f32 {
    if let Some(&edge) = EDGE_VALUES.get(index as usize) {
        return edge;
    }
    let bits = splitmix64(index ^ SAMPLE_SEED);
    let unit = (bits >> 40) as f32 * (1.0 / (1u64 << 24) as f32);
    let signed = |range: f32| (2.0 * unit - 1.0) * range;
    match bits % 8 {
        0 | 1 => f32::from_bits((bits >> 32) as u32),
        2 | 3 => {
            let exponent = -40.0 + 47.0 * unit;
            let magnitude = exponent.exp2();
            if bits & 0x100 == 0 {
                magnitude
            } else {
                -magnitude
            }
        }
        4 => signed(1.0),
        5 => signed(6.0),
        6 => signed(20.0),
        _ => signed(120.0),
    }
}

/// Seed of the sampled sweep (any fixed value; changing it changes the inputs).
const SAMPLE_SEED: u64 = 0x6163_7470_726f_6631;

/// SplitMix64 finaliser: a bijective mix of a counter into 64 well-spread bits.
fn splitmix64(counter: u64) -> u64 {
    let mut z = counter.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_are_the_documented_numbers() {
        assert_eq!(contract(Activation::Relu).max_ulp, 0.0);
        assert_eq!(contract(Activation::LeakyRelu { alpha: 0.2 }).max_ulp, 0.5);
        assert_eq!(contract(Activation::Sigmoid).max_ulp, 2.0);
        assert_eq!(contract(Activation::Tanh).max_ulp, 2.0);
        assert_eq!(contract(Activation::Swish { beta: 1.0 }).max_ulp, 3.0);
        let gelu = contract(Activation::Gelu {
            approximation: GeluApproximation::Erf,
        });
        assert_eq!(
            gelu,
            Contract {
                max_ulp: 4.0,
                abs_below_normal: Some(1e-9)
            }
        );
    }

    #[test]
    fn contract_switches_to_absolute_error_below_the_normal_range() {
        let gelu = contract(Activation::Gelu {
            approximation: GeluApproximation::Tanh,
        });
        // 1e-39 is subnormal: returning 0 is an absolute error of 1e-39, allowed.
        assert!(gelu.allows(0.0, -1e-39));
        assert!(!gelu.allows(1e-8, -1e-39));
        // A normal exact value keeps the ULP bound: 5 ULP away from 1.0 is refused.
        let five_ulp = f32::from_bits(1.0_f32.to_bits() + 5);
        assert!(!gelu.allows(five_ulp, 1.0));
        assert!(gelu.allows(f32::from_bits(1.0_f32.to_bits() + 4), 1.0));
        // Sigmoid has no absolute escape: a flushed subnormal result is many ULPs off.
        assert!(!contract(Activation::Sigmoid).allows(0.0, 3.72e-44));
        assert!(contract(Activation::Sigmoid).allows(f32::NAN, f64::NAN));
    }

    #[test]
    fn sampled_points_are_deterministic_and_cover_both_signs_and_scales() {
        let points: Vec<f32> = (0..20_000).map(sample_point).collect();
        let again: Vec<f32> = (0..20_000).map(sample_point).collect();
        assert!(
            points
                .iter()
                .zip(&again)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(points.iter().any(|x| *x < -50.0) && points.iter().any(|x| *x > 50.0));
        assert!(points.iter().any(|x| x.abs() < 1e-9 && *x != 0.0));
        assert!(points.iter().any(|x| x.abs() > 1e20));
        assert_eq!(points[..EDGE_VALUES.len()].len(), EDGE_VALUES.len());
    }

    #[test]
    fn quick_check_reports_errors_within_the_contract() {
        for isa in Isa::available() {
            for activation in Activation::DEFAULT_SET {
                let (max_ulp, max_abs) = quick_check(activation, isa);
                assert!(
                    max_ulp <= contract(activation).max_ulp,
                    "{isa} {activation}"
                );
                assert!(max_abs.is_finite(), "{isa} {activation}");
            }
        }
    }

    #[test]
    fn a_cancelled_sweep_says_so_and_does_not_pass() {
        let cancel = AtomicBool::new(true);
        let calls = AtomicU64::new(0);
        let progress = |_: u64, _: u64| {
            calls.fetch_add(1, Ordering::Relaxed);
        };
        let report = sweep(
            Activation::Tanh,
            Isa::Scalar,
            SweepMode::Exhaustive,
            2,
            &progress,
            &cancel,
        );
        assert!(report.cancelled && !report.passes);
        assert!(report.points_checked < 1 << 32);
        assert!(calls.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn a_complete_sweep_counts_every_point_and_reports_progress() {
        let never = AtomicBool::new(false);
        let last = AtomicU64::new(0);
        let progress = |done: u64, total: u64| {
            assert!(done <= total);
            last.store(done, Ordering::Relaxed);
        };
        let mode = SweepMode::Sampled { points: 100_000 };
        let report = sweep(Activation::Relu, Isa::Scalar, mode, 3, &progress, &never);
        assert_eq!(report.points_checked, 100_000);
        assert_eq!(last.load(Ordering::Relaxed), 100_000);
        assert!(report.passes && !report.cancelled);
        assert_eq!(report.max_ulp, 0.0);
    }
}
