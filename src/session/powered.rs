//! A plan run with a power source: the idle baseline first, then the plan's cells on the
//! same session clock as the samples, the session journalled as it goes, and the energy of
//! every cell attributed at the end.
//!
//! # Timing rules
//!
//! - The sampler thread polls the source every `poll_interval`; its nominal rate `r` is
//!   the source's [`SourceInfo::rate_hz`].
//! - **Idle baseline.** With nothing of ours running, for the longer of the requested idle
//!   time (default [`DEFAULT_IDLE`]) and the time `r` needs for
//!   [`energy::DEFAULT_MIN_SAMPLES`] samples plus [`MARGIN_PERIODS`] periods.
//! - **Cells.** Every cell's `min_time` is raised to at least
//!   `(DEFAULT_MIN_SAMPLES + MARGIN_PERIODS) / r`, so its window holds enough samples
//!   whatever the phase of the polls (a 2 Hz meter gets 11 s cells).
//! - **Run window.** From the start of a cell's first timed sample to the end of its
//!   last ([`MeasuredSpan`]): warm-up and error checks are outside it, so the calls
//!   counted are exactly the calls in the window.
//! - **Energy.** [`energy::energy_per_call`] on the window's energy and the idle baseline.
//!   A cell whose energy cannot be attributed keeps empty energy fields and the run
//!   reports why ([`Event::Warning`]); nothing is estimated in its place.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::energy::{self, Attribution, CallEnergy, EnergyError, IdleBaseline};
use super::journal::now_rfc3339;
use super::{Journal, JournalError, RunWindow, Sampler, SamplerEvent, SessionClock, SessionMeta};
use crate::harness::{CellResult, CellSpec, Event, HostFacts, MeasuredSpan, Plan, RunOutcome};
use crate::power::{self, PowerError, PowerSample, PowerSource, SourceInfo, SourceSpec};

/// How often the sampler reads the source unless told otherwise: 20 Hz, so RAPL cells
/// last about a second.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Shortest idle baseline unless told otherwise.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(2);

/// Sample periods added to the minimum window length, so that a window still holds
/// [`energy::DEFAULT_MIN_SAMPLES`] samples when the polls fall late in it.
pub const MARGIN_PERIODS: f64 = 2.0;

/// Label of the idle-baseline window in the journal and the trace view.
pub const IDLE_LABEL: &str = "idle";

/// The energy attributed to one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellEnergy {
    /// The power source's spec, e.g. `rapl`.
    pub source: String,
    /// Time-weighted mean power over the run window, in W.
    pub avg_power_w: f64,
    /// The idle baseline's mean power, in W.
    pub idle_power_w: f64,
    /// Power samples inside the run window.
    pub samples: usize,
    /// Energy per call and per element above idle, with their 95 % CIs.
    pub per_call: CallEnergy,
}

/// What a powered run tells its observer, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// The harness's own progress.
    Run(Event),
    /// New power samples, in time order.
    Samples(Vec<PowerSample>),
    /// A finished window (the idle baseline, then one per cell).
    Window(RunWindow),
}

/// Why a powered run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The source could not be opened, started or read.
    #[error("cannot use power source `{spec}`")]
    Power {
        spec: String,
        #[source]
        source: PowerError,
    },

    /// The journal could not be written.
    #[error(transparent)]
    Journal(#[from] JournalError),

    /// The source gave no sample within the expected time.
    #[error(
        "power source `{spec}` gave no sample within {waited_s:.1} s (it should give one \
         every {period_s:.3} s)"
    )]
    Silent {
        spec: String,
        waited_s: f64,
        period_s: f64,
    },

    /// The idle baseline could not be measured.
    #[error("the idle baseline of power source `{spec}` is unusable")]
    Idle {
        spec: String,
        #[source]
        source: EnergyError,
    },
}

/// What a powered run produced.
#[derive(Clone, Debug)]
pub struct PoweredOutcome {
    /// The harness outcome, cells in plan order.
    pub run: RunOutcome,
    /// Per result (same order): its energy, or `None` when it could not be attributed.
    pub energies: Vec<Option<CellEnergy>>,
    /// The source.
    pub info: SourceInfo,
    /// The idle baseline.
    pub idle: IdleBaseline,
    /// Every window, idle first.
    pub windows: Vec<RunWindow>,
    /// Every sample, in time order.
    pub samples: Vec<PowerSample>,
    /// The session folder.
    pub journal_dir: PathBuf,
}

/// A plan, its opened power source, and the timing the source's rate requires.
pub struct PoweredPlan {
    source: Box<dyn PowerSource>,
    spec: SourceSpec,
    poll_interval: Duration,
    info: SourceInfo,
    plan: Plan,
    idle: Duration,
}

impl PoweredPlan {
    /// Opens `spec` and fits the plan's cells and the idle baseline to its rate.
    /// An unavailable source is an error naming it and why.
    pub fn prepare(
        plan: &Plan,
        spec: &SourceSpec,
        poll_interval: Duration,
        idle: Duration,
    ) -> Result<PoweredPlan, SessionError> {
        let source = power::open(spec, poll_interval).map_err(|source| SessionError::Power {
            spec: spec.to_string(),
            source,
        })?;
        let info = source.info();
        let shortest = Duration::from_secs_f64(min_window_s(info.rate_hz));
        let mut plan = plan.clone();
        plan.power = Some(spec.clone());
        plan.min_time = plan.min_time.max(shortest);
        Ok(PoweredPlan {
            source,
            spec: spec.clone(),
            poll_interval,
            info,
            plan,
            idle: idle.max(shortest),
        })
    }

    /// The plan as it will run (cells lengthened for the source).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The source.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Length of the idle baseline.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// A lower bound of the whole run: the idle baseline plus the plan's estimate.
    pub fn estimated_duration(&self) -> Duration {
        self.idle + self.plan.estimated_duration()
    }

    /// Runs the idle baseline and the plan, journalling the session in a new folder under
    /// `sessions_root`. `cancel` stops the plan after the current sample.
    pub fn run(
        self,
        sessions_root: &Path,
        command: Vec<String>,
        host: HostFacts,
        cancel: &AtomicBool,
        sink: &mut dyn FnMut(SessionEvent),
    ) -> Result<PoweredOutcome, SessionError> {
        let spec = self.info.spec.clone();
        let meta = SessionMeta {
            command,
            plan: Some(self.plan.clone()),
            host,
            sources: vec![self.info.clone()],
            actprof_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: now_rfc3339(),
            ended_at: None,
            gaps: Vec::new(),
        };
        let clock = SessionClock::start_now();
        let journal = Journal::create_in(sessions_root, meta)?;
        tracing::info!("journalling the session in {}", journal.dir().display());
        let (reopen_spec, poll_interval) = (self.spec.clone(), self.poll_interval);
        let reopen = Box::new(move || power::open(&reopen_spec, poll_interval));
        let sampler =
            Sampler::spawn_reconnecting(self.source, clock, reopen).map_err(|source| {
                SessionError::Power {
                    spec: spec.clone(),
                    source,
                }
            })?;
        let mut recording = Recording {
            spec,
            period_s: 1.0 / self.info.rate_hz,
            clock,
            sampler: Some(sampler),
            journal,
            samples: Vec::new(),
            windows: Vec::new(),
            failure: None,
            info: None,
        };
        let idle = recording.idle_baseline(self.idle, &self.info, cancel, sink)?;
        let run = recording.run_plan(&self.plan, cancel, sink);
        recording.finish(run, idle, self.info, sink)
    }
}

/// Shortest window (idle or cell) for a source sampling at `rate_hz`, in s.
pub fn min_window_s(rate_hz: f64) -> f64 {
    energy::min_window_s(rate_hz, energy::DEFAULT_MIN_SAMPLES) + MARGIN_PERIODS / rate_hz
}

/// `gelu f32 ×65536`, the label of a cell's run window.
pub fn cell_label(spec: &CellSpec) -> String {
    format!("{} {} ×{}", spec.activation, spec.dtype, spec.elements)
}

/// A session being recorded.
struct Recording {
    spec: String,
    period_s: f64,
    clock: SessionClock,
    /// `None` once stopped.
    sampler: Option<Sampler>,
    journal: Journal,
    samples: Vec<PowerSample>,
    windows: Vec<RunWindow>,
    /// The first thing that went wrong with the source or the journal; it stops the run.
    failure: Option<SessionError>,
    /// The source's facts as last reported while it ran (e.g. with its clock offset).
    info: Option<SourceInfo>,
}

impl Recording {
    /// Takes the sampler's pending events; true when something failed.
    fn drain(&mut self, sink: &mut dyn FnMut(SessionEvent)) -> bool {
        let events: Vec<SamplerEvent> = match &self.sampler {
            Some(sampler) => sampler.events().try_iter().collect(),
            None => Vec::new(),
        };
        for event in events {
            self.take(event, sink);
        }
        self.journal_flush();
        self.failure.is_some()
    }

    fn take(&mut self, event: SamplerEvent, sink: &mut dyn FnMut(SessionEvent)) {
        match event {
            SamplerEvent::Samples(batch) => {
                if let Err(err) = self.journal.append_samples(&batch) {
                    self.failure.get_or_insert(SessionError::Journal(err));
                }
                self.samples.extend_from_slice(&batch);
                sink(SessionEvent::Samples(batch));
            }
            SamplerEvent::Disconnected { at_s, error } => {
                sink(SessionEvent::Run(Event::Warning(format!(
                    "power source `{}` at {at_s:.3} s: {error}; reconnecting",
                    self.spec
                ))));
            }
            SamplerEvent::Reconnected { gap } => {
                sink(SessionEvent::Run(Event::Warning(format!(
                    "power source `{}` reconnected; no samples from {:.3} s to {:.3} s",
                    self.spec, gap.start_s, gap.end_s
                ))));
                if let Err(err) = self.journal.mark_gap(gap) {
                    self.failure.get_or_insert(SessionError::Journal(err));
                }
            }
            SamplerEvent::Source(info) => {
                if let Err(err) = self.journal.update_source(info.clone()) {
                    self.failure.get_or_insert(SessionError::Journal(err));
                }
                self.info = Some(info);
            }
            SamplerEvent::Failed(source) => {
                self.failure.get_or_insert(SessionError::Power {
                    spec: self.spec.clone(),
                    source,
                });
            }
        }
    }

    fn journal_flush(&mut self) {
        if let Err(err) = self.journal.flush_if_due() {
            self.failure.get_or_insert(SessionError::Journal(err));
        }
    }

    fn add_window(&mut self, window: RunWindow, sink: &mut dyn FnMut(SessionEvent)) {
        if let Err(err) = self.journal.append_window(&window) {
            self.failure.get_or_insert(SessionError::Journal(err));
        }
        self.windows.push(window.clone());
        sink(SessionEvent::Window(window));
    }

    /// Waits until a sample at or after `t_s` has arrived (or the source fails).
    fn wait_for_sample(
        &mut self,
        t_s: f64,
        sink: &mut dyn FnMut(SessionEvent),
    ) -> Result<(), SessionError> {
        let waited_s = 5.0 * self.period_s + 1.0;
        let deadline = self.clock.elapsed().as_secs_f64().max(t_s) + waited_s;
        while self.samples.last().is_none_or(|last| last.t_s < t_s) {
            if let Some(err) = self.failure.take() {
                return Err(err);
            }
            if self.clock.elapsed().as_secs_f64() > deadline {
                return Err(SessionError::Silent {
                    spec: self.spec.clone(),
                    waited_s,
                    period_s: self.period_s,
                });
            }
            let Some(sampler) = &self.sampler else {
                break;
            };
            if let Ok(event) = sampler.events().recv_timeout(Duration::from_millis(20)) {
                self.take(event, sink);
            }
        }
        Ok(())
    }

    /// Records `length` of idle from the first sample on and returns its baseline.
    fn idle_baseline(
        &mut self,
        length: Duration,
        info: &SourceInfo,
        cancel: &AtomicBool,
        sink: &mut dyn FnMut(SessionEvent),
    ) -> Result<IdleBaseline, SessionError> {
        self.wait_for_sample(0.0, sink)?;
        let start_s = self.samples.first().map_or(0.0, |first| first.t_s);
        let end_s = start_s + length.as_secs_f64();
        // Sleeping in short steps keeps the journal flushed and Ctrl-C responsive, and
        // wakes the core rarely enough to leave the machine idle.
        while self.clock.elapsed().as_secs_f64() < end_s && !cancel.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if self.drain(sink) {
                break;
            }
        }
        let end_s = end_s.min(self.clock.elapsed().as_secs_f64());
        self.wait_for_sample(end_s, sink)?;
        let window = energy::window_energy(
            &self.samples,
            info.quantity,
            start_s,
            end_s,
            &Attribution::for_rate(info.rate_hz),
        )
        .map_err(|source| SessionError::Idle {
            spec: self.spec.clone(),
            source,
        })?;
        self.add_window(
            RunWindow {
                label: IDLE_LABEL.to_owned(),
                start_s,
                end_s,
                calls: 0,
                elements: 0,
            },
            sink,
        );
        Ok(IdleBaseline::from_window(&window))
    }

    /// Runs the plan, taking samples and recording each cell's window as it finishes.
    fn run_plan(
        &mut self,
        plan: &Plan,
        cancel: &AtomicBool,
        sink: &mut dyn FnMut(SessionEvent),
    ) -> RunOutcome {
        // The runner stops on its own flag, set by the caller's or by a failure here.
        let stop = AtomicBool::new(cancel.load(Ordering::Relaxed));
        crate::harness::run_plan(plan, &stop, &mut |event| {
            if self.drain(sink) || cancel.load(Ordering::Relaxed) {
                stop.store(true, Ordering::Relaxed);
            }
            if let Event::CellFinished { result, .. } = &event
                && let Some(span) = result.span
            {
                let window = self.window_of(result, span);
                self.add_window(window, sink);
            }
            sink(SessionEvent::Run(event));
        })
    }

    fn window_of(&self, result: &CellResult, span: MeasuredSpan) -> RunWindow {
        RunWindow {
            label: cell_label(&result.spec),
            start_s: self.clock.seconds_at(span.start),
            end_s: self.clock.seconds_at(span.end),
            calls: span.calls,
            elements: span.calls.saturating_mul(result.spec.elements as u64),
        }
    }

    /// Waits for the samples that close the last window, stops the source, ends the
    /// journal and attributes the energy of every cell.
    fn finish(
        mut self,
        run: RunOutcome,
        idle: IdleBaseline,
        info: SourceInfo,
        sink: &mut dyn FnMut(SessionEvent),
    ) -> Result<PoweredOutcome, SessionError> {
        let last_end = self.windows.last().map_or(0.0, |window| window.end_s);
        let waited = self.wait_for_sample(last_end, sink);
        if let Some(sampler) = self.sampler.take() {
            for event in sampler.stop() {
                self.take(event, sink);
            }
        }
        if let Some(err) = self.failure.take() {
            self.journal.flush()?;
            return Err(err);
        }
        waited?;
        let info = self.info.take().unwrap_or(info);
        let journal_dir = self.journal.finish()?;
        let rules = Attribution::for_rate(info.rate_hz);
        let energies = run
            .results
            .iter()
            .map(|result| {
                let span = result.span?;
                let label = cell_label(&result.spec);
                let window = self
                    .windows
                    .iter()
                    .find(|w| w.label == label && w.calls == span.calls)?;
                match cell_energy(&self.samples, &info, &rules, &idle, window) {
                    Ok(energy) => Some(energy),
                    Err(err) => {
                        sink(SessionEvent::Run(Event::Warning(format!(
                            "no energy for {label}: {err}"
                        ))));
                        None
                    }
                }
            })
            .collect();
        Ok(PoweredOutcome {
            run,
            energies,
            info,
            idle,
            windows: self.windows,
            samples: self.samples,
            journal_dir,
        })
    }
}

/// The energy of one run window above the idle baseline.
pub fn cell_energy(
    samples: &[PowerSample],
    info: &SourceInfo,
    rules: &Attribution,
    idle: &IdleBaseline,
    window: &RunWindow,
) -> Result<CellEnergy, EnergyError> {
    let run = energy::window_energy(samples, info.quantity, window.start_s, window.end_s, rules)?;
    let per_call = energy::energy_per_call(&run, idle, window.calls, window.elements)?;
    Ok(CellEnergy {
        source: info.label(),
        avg_power_w: run.mean_power_w(),
        idle_power_w: idle.mean_power_w,
        samples: run.samples,
        per_call,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::{Quantity, Resolution};

    fn power_info(rate_hz: f64) -> SourceInfo {
        SourceInfo {
            spec: "synthetic".into(),
            description: "synthetic power samples".into(),
            quantity: Quantity::Power,
            rate_hz,
            resolution: Resolution::PowerW(0.001),
            coarse: false,
            clock_offset_s: None,
        }
    }

    #[test]
    fn a_run_above_idle_costs_the_extra_power_times_its_duration() {
        // 10 Hz: 4 W of idle for 3 s, then 11 W while 2000 calls of 4096 elements run
        // from 4 s to 9 s.
        let samples: Vec<PowerSample> = (0..=100)
            .map(|k| {
                let t_s = f64::from(k) / 10.0;
                let power_w = if t_s < 3.5 { 4.0 } else { 11.0 };
                PowerSample::power(t_s, power_w)
            })
            .collect();
        let info = power_info(10.0);
        let rules = Attribution::for_rate(10.0);
        let idle_window =
            energy::window_energy(&samples, Quantity::Power, 0.0, 3.0, &rules).expect("idle");
        let idle = IdleBaseline::from_window(&idle_window);
        let window = RunWindow {
            label: "gelu f32 ×4096".into(),
            start_s: 4.0,
            end_s: 9.0,
            calls: 2000,
            elements: 2000 * 4096,
        };
        let energy = cell_energy(&samples, &info, &rules, &idle, &window).expect("energy");

        // Definition: (∫P dt − P_idle · d) / calls = (11 W − 4 W) · 5 s / 2000.
        let per_call_j = (11.0 - 4.0) * 5.0 / 2000.0;
        assert!((energy.per_call.per_call_j - per_call_j).abs() < 1e-12);
        let per_element_j = per_call_j / 4096.0;
        let got = energy.per_call.per_element_j.expect("elements");
        assert!((got - per_element_j).abs() < 1e-15);
        assert!((energy.avg_power_w - 11.0).abs() < 1e-12);
        assert!((energy.idle_power_w - 4.0).abs() < 1e-12);
        assert_eq!(energy.samples, 51);
        // Constant power on both sides: no spread, so no uncertainty.
        assert_eq!(energy.per_call.per_call_ci95_j, 0.0);
    }

    #[test]
    fn a_window_too_short_for_the_rate_is_refused_not_guessed() {
        let samples: Vec<PowerSample> = (0..=20)
            .map(|k| PowerSample::power(f64::from(k) / 10.0, 5.0))
            .collect();
        let rules = Attribution::for_rate(10.0);
        let idle = IdleBaseline {
            mean_power_w: 5.0,
            std_w: 0.0,
            samples: 20,
        };
        let window = RunWindow {
            label: "relu f32 ×1024".into(),
            start_s: 0.5,
            end_s: 1.0,
            calls: 10,
            elements: 10_240,
        };
        let err = cell_energy(&samples, &power_info(10.0), &rules, &idle, &window)
            .expect_err("five samples are too few");
        assert!(matches!(err, EnergyError::TooFewSamples { .. }), "{err}");
    }

    #[test]
    fn slow_sources_get_long_windows() {
        // 20 samples plus two periods of margin at 2 Hz.
        assert!((min_window_s(2.0) - 11.0).abs() < 1e-12);
        assert!((min_window_s(20.0) - 1.1).abs() < 1e-12);
    }
}
