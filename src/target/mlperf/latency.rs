//! The latency test on a connected DUT: calibrate the inferences per window, then time the
//! windows, each `download; infer N W` as the MLPerf Tiny runner does. Finished windows
//! are kept when a later one fails or the run is cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::client::{DutClient, DutError, DutErrorKind, Inference};
use super::model::Model;
use super::score::{
    self, Calibration, MAX_INFERENCES, MAX_WINDOW, MLPERF_MIN_WINDOW, MLPERF_WINDOWS, Rules,
    WindowResult,
};

/// Seed of the input tensor unless the run names one (the bench plans' default seed).
pub const DEFAULT_INPUT_SEED: u64 = 24301;

/// Slack allowed between the DUT's timed region and the host's wait for the whole reply
/// before the DUT's timer is suspected (serial latency of a few lines).
const WALL_SLACK: Duration = Duration::from_millis(50);

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyPlan {
    /// Timed windows (MLPerf Tiny: 5).
    pub windows: usize,
    /// Shortest window (MLPerf Tiny: 10 s); used when `inferences` is `None`.
    pub min_window: Duration,
    /// Inferences per window; `None` = calibrate so each lasts `min_window`.
    pub inferences: Option<u32>,
    /// Warm-up inferences per window; `None` = the model's runner default.
    pub warmup: Option<u32>,
    /// Seed of the input tensor.
    pub seed: u64,
}

impl Default for LatencyPlan {
    fn default() -> LatencyPlan {
        LatencyPlan {
            windows: MLPERF_WINDOWS,
            min_window: MLPERF_MIN_WINDOW,
            inferences: None,
            warmup: None,
            seed: DEFAULT_INPUT_SEED,
        }
    }
}

impl LatencyPlan {
    /// Refuses settings the DUT or the timer cannot honour, naming the flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.windows == 0 {
            return Err("--windows must be at least 1".to_owned());
        }
        if self.min_window.is_zero() || self.min_window > MAX_WINDOW {
            return Err(format!(
                "--window must be longer than 0 and at most {} min (the DUT's 32-bit µs \
                 timer wraps every 71.6 min)",
                MAX_WINDOW.as_secs() / 60
            ));
        }
        if let Some(n) = self.inferences
            && !(1..=MAX_INFERENCES).contains(&n)
        {
            return Err(format!(
                "--inferences must be from 1 to {MAX_INFERENCES} (the firmware reads an int)"
            ));
        }
        if self.warmup.is_some_and(|w| w > MAX_INFERENCES) {
            return Err(format!(
                "--warmup-inferences must be at most {MAX_INFERENCES}"
            ));
        }
        Ok(())
    }

    /// What [`score::deviations`] compares against.
    pub fn rules(&self) -> Rules {
        Rules {
            windows: self.windows,
            min_window: self.inferences.is_none().then_some(self.min_window),
        }
    }
}

/// Progress of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum LatencyEvent<'a> {
    /// A calibration window finished.
    Calibration {
        /// Its inferences.
        inferences: u32,
        /// Its length, µs.
        elapsed_us: u64,
    },
    /// The inferences per window are chosen.
    Calibrated {
        /// Inferences per window.
        inferences: u32,
    },
    /// A timed window finished.
    Window {
        /// 1-based.
        index: usize,
        /// Windows planned.
        of: usize,
        /// The window.
        window: &'a WindowResult,
    },
}

/// How a run ended.
#[derive(Debug)]
pub struct LatencyOutcome {
    /// The DUT's model.
    pub model: &'static Model,
    /// Warm-up inferences per window.
    pub warmup: u32,
    /// Inferences per window, once chosen.
    pub inferences: Option<u32>,
    /// The finished windows, in order.
    pub windows: Vec<WindowResult>,
    /// Stopped by `cancel` between windows.
    pub cancelled: bool,
    /// What stopped the run early, if anything did.
    pub error: Option<DutError>,
}

/// Runs `plan` on `dut`, checking `cancel` before each window. Fails at once only when
/// the DUT's model is unknown; later failures end up in [`LatencyOutcome::error`] with
/// the windows finished before them.
pub fn run_latency(
    dut: &mut DutClient,
    plan: &LatencyPlan,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(LatencyEvent<'_>),
) -> Result<LatencyOutcome, DutError> {
    let name = dut.info().model.clone();
    let Some(model) = Model::find(&name) else {
        return Err(dut.error(DutErrorKind::UnknownModel {
            model: name,
            known: Model::names(),
        }));
    };
    let input = model.input_tensor(plan.seed);
    let warmup = plan.warmup.unwrap_or(model.warmup);
    let mut outcome = LatencyOutcome {
        model,
        warmup,
        inferences: plan.inferences,
        windows: Vec::new(),
        cancelled: false,
        error: None,
    };
    let inferences = match plan.inferences {
        Some(n) => n,
        None => match calibrate(dut, &input, model, plan, warmup, cancel, on_event) {
            Ok(Some(n)) => n,
            Ok(None) => {
                outcome.cancelled = true;
                return Ok(outcome);
            }
            Err(err) => {
                outcome.error = Some(err);
                return Ok(outcome);
            }
        },
    };
    outcome.inferences = Some(inferences);
    for index in 1..=plan.windows {
        if cancel.load(Ordering::Relaxed) {
            outcome.cancelled = true;
            break;
        }
        match timed_window(dut, &input, inferences, warmup) {
            Ok(window) => {
                on_event(LatencyEvent::Window {
                    index,
                    of: plan.windows,
                    window: &window,
                });
                outcome.windows.push(window);
            }
            Err(err) => {
                outcome.error = Some(err);
                break;
            }
        }
    }
    Ok(outcome)
}

/// Calibration windows from the model's runner default N until one is long enough to
/// extrapolate; `None` when cancelled.
fn calibrate(
    dut: &mut DutClient,
    input: &[u8],
    model: &Model,
    plan: &LatencyPlan,
    warmup: u32,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(LatencyEvent<'_>),
) -> Result<Option<u32>, DutError> {
    let mut inferences = model.inferences;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let inference = window(dut, input, inferences, warmup)?;
        on_event(LatencyEvent::Calibration {
            inferences,
            elapsed_us: inference.elapsed_us,
        });
        match score::calibrate(inferences, inference.elapsed_us, plan.min_window) {
            Calibration::Grow(more) => inferences = more,
            Calibration::Done(chosen) => {
                on_event(LatencyEvent::Calibrated { inferences: chosen });
                return Ok(Some(chosen));
            }
        }
    }
}

/// A scored window: its timer must have advanced.
fn timed_window(
    dut: &mut DutClient,
    input: &[u8],
    inferences: u32,
    warmup: u32,
) -> Result<WindowResult, DutError> {
    let inference = window(dut, input, inferences, warmup)?;
    if inference.elapsed_us == 0 {
        return Err(dut.error(DutErrorKind::ClockStalled(inferences)));
    }
    Ok(WindowResult::from_inference(&inference))
}

/// One `download; infer N W`.
fn window(
    dut: &mut DutClient,
    input: &[u8],
    inferences: u32,
    warmup: u32,
) -> Result<Inference, DutError> {
    dut.download(input)?;
    let inference = dut.infer(inferences, warmup)?;
    let timed = Duration::from_micros(inference.elapsed_us);
    if timed > inference.wall + WALL_SLACK {
        tracing::warn!(
            "the DUT on {} timed {:.3} s between its stamps, but the host waited only \
             {:.3} s for the whole reply: does its timer really count µs?",
            dut.port(),
            timed.as_secs_f64(),
            inference.wall.as_secs_f64()
        );
    }
    Ok(inference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_validated_with_the_flag_named() {
        assert!(LatencyPlan::default().validate().is_ok());
        let bad = [
            (
                LatencyPlan {
                    windows: 0,
                    ..LatencyPlan::default()
                },
                "--windows",
            ),
            (
                LatencyPlan {
                    min_window: Duration::ZERO,
                    ..LatencyPlan::default()
                },
                "--window",
            ),
            (
                LatencyPlan {
                    min_window: Duration::from_secs(2 * 3600),
                    ..LatencyPlan::default()
                },
                "71.6 min",
            ),
            (
                LatencyPlan {
                    inferences: Some(0),
                    ..LatencyPlan::default()
                },
                "--inferences",
            ),
        ];
        for (plan, flag) in bad {
            let message = plan.validate().expect_err(flag);
            assert!(message.contains(flag), "{message}");
        }
    }

    #[test]
    fn fixed_inferences_judge_the_windows_by_their_length() {
        let plan = LatencyPlan {
            inferences: Some(20),
            ..LatencyPlan::default()
        };
        assert_eq!(plan.rules().min_window, None);
        assert_eq!(
            LatencyPlan::default().rules().min_window,
            Some(MLPERF_MIN_WINDOW)
        );
    }
}
