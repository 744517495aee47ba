//! The Dying ReLU tab's runtime state, how the app starts the training experiment and
//! takes in its epochs, and the per-epoch CSV export.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::kernels::Activation;
use crate::models::train::{EpochRecord, TrainConfig, TrainRun};
use crate::report::epochs::epoch_rows;
use crate::report::write_epochs_file;

use super::super::jobs::{TrainingJob, TrainingUpdate};
use super::super::panels::activations::ActivationParams;
use super::super::state::TrainingSettings;
use super::super::worker::Command;
use super::{ActprofApp, RunProgress, RunTarget};

/// Everything the Dying ReLU tab shows besides its persisted settings.
pub struct TrainingTab {
    /// One entry per activation × learning rate, in run order; the last one grows while
    /// it trains.
    pub runs: Vec<TrainRun>,
    /// Seed the runs were trained with (a column of the per-epoch CSV).
    pub seed: u64,
    /// Epochs each run was asked for.
    pub epochs_per_run: usize,
    /// The training in progress, if any; its progress counts epochs.
    pub run: Option<RunProgress>,
    /// How the last training ended.
    pub notice: Option<String>,
    /// Why the last training could not start or stopped early.
    pub error: Option<String>,
    /// Outcome of the last per-epoch CSV export.
    pub export_notice: Option<String>,
    /// Why the last per-epoch CSV export failed.
    pub export_error: Option<String>,
    /// Leaky ReLU's alpha and Swish's beta, kept while their boxes are unticked.
    pub params: ActivationParams,
}

impl TrainingTab {
    /// The tab showing `settings`, with no runs.
    pub fn new(settings: &TrainingSettings) -> Self {
        Self {
            runs: Vec::new(),
            seed: settings.seed,
            epochs_per_run: settings.epochs,
            run: None,
            notice: None,
            error: None,
            export_notice: None,
            export_error: None,
            params: ActivationParams::of(&settings.activations),
        }
    }
}

/// Training runs as they are kept between launches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredTraining {
    seed: u64,
    epochs_per_run: usize,
    runs: Vec<StoredRun>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredRun {
    activation: Activation,
    learning_rate: f32,
    /// (epoch, loss, accuracy, dead fraction) per record.
    records: Vec<(usize, f64, f64, f64)>,
    diverged_at: Option<usize>,
    cancelled: bool,
}

impl StoredTraining {
    /// What `tab` holds, to store.
    pub fn of(tab: &TrainingTab) -> Self {
        let runs = tab
            .runs
            .iter()
            .map(|run| StoredRun {
                activation: run.activation,
                learning_rate: run.learning_rate,
                records: run
                    .records
                    .iter()
                    .map(|r| (r.epoch, r.loss, r.accuracy, r.dead_fraction))
                    .collect(),
                diverged_at: run.diverged_at,
                cancelled: run.cancelled,
            })
            .collect();
        Self {
            seed: tab.seed,
            epochs_per_run: tab.epochs_per_run,
            runs,
        }
    }

    /// Puts the stored runs back into `tab`.
    pub fn restore(self, tab: &mut TrainingTab) {
        tab.seed = self.seed;
        tab.epochs_per_run = self.epochs_per_run;
        tab.runs = self
            .runs
            .into_iter()
            .map(|run| TrainRun {
                activation: run.activation,
                learning_rate: run.learning_rate,
                records: run
                    .records
                    .into_iter()
                    .map(|(epoch, loss, accuracy, dead_fraction)| EpochRecord {
                        epoch,
                        loss,
                        accuracy,
                        dead_fraction,
                    })
                    .collect(),
                diverged_at: run.diverged_at,
                cancelled: run.cancelled,
            })
            .collect();
    }
}

impl ActprofApp {
    /// Starts training every chosen activation at each ticked learning rate.
    pub(super) fn start_training(&mut self) {
        if self.is_busy() {
            return;
        }
        let settings = &self.state.training;
        let learning_rates = settings.learning_rates();
        if settings.activations.is_empty() || learning_rates.is_empty() {
            self.training.error =
                Some("cannot train: tick at least one activation and one learning rate".into());
            return;
        }
        let config = settings.config();
        for &learning_rate in &learning_rates {
            let checked = TrainConfig {
                learning_rate,
                ..config.clone()
            }
            .validate();
            if let Err(problem) = checked {
                self.training.error = Some(format!("cannot train: {problem}"));
                return;
            }
        }
        let Some(worker) = &self.worker else {
            return;
        };
        let total_epochs = settings.total_epochs();
        let (seed, epochs) = (settings.seed, settings.epochs);
        let job = TrainingJob {
            activations: settings.activations.clone(),
            learning_rates,
            config,
        };
        if let Err(error) = worker.send(Command::StartTraining(job)) {
            self.messages.worker_error = Some(error.to_string());
            return;
        }
        let tab = &mut self.training;
        tab.error = None;
        tab.notice = None;
        tab.export_notice = None;
        tab.runs.clear();
        tab.seed = seed;
        tab.epochs_per_run = epochs;
        tab.run = Some(RunProgress {
            target: RunTarget::Local,
            first_row: 0,
            started: Instant::now(),
            total_cells: total_epochs,
            estimated: Duration::ZERO,
            finished_cells: 0,
            current: None,
            current_fraction: 0.0,
            cancelling: false,
        });
    }

    /// Applies one report of the training in progress.
    pub(super) fn on_training_update(&mut self, update: TrainingUpdate) {
        let tab = &mut self.training;
        let Some(progress) = &mut tab.run else {
            return;
        };
        match update {
            TrainingUpdate::RunStarted {
                activation,
                learning_rate,
            } => {
                progress.current = Some(format!("{} at lr {learning_rate}", activation.spec()));
                tab.runs.push(TrainRun {
                    activation,
                    learning_rate,
                    records: Vec::new(),
                    diverged_at: None,
                    cancelled: false,
                });
            }
            TrainingUpdate::Epoch(record) => {
                if record.epoch > 0 {
                    progress.finished_cells += 1;
                }
                if let Some(run) = tab.runs.last_mut() {
                    run.records.push(record);
                }
            }
            TrainingUpdate::RunFinished(run) => {
                // A diverged run ends early: its missing epochs count as done.
                if !run.cancelled {
                    progress.finished_cells = tab.runs.len() * tab.epochs_per_run;
                }
                if let Some(last) = tab.runs.last_mut() {
                    *last = *run;
                }
            }
            TrainingUpdate::Done { cancelled, error } => {
                let seconds = progress.started.elapsed().as_secs_f64();
                let epochs = progress.finished_cells;
                let runs = tab.runs.len();
                tab.notice = Some(if cancelled {
                    format!(
                        "Cancelled after {epochs} epochs ({seconds:.1} s); the epochs trained \
                         are kept"
                    )
                } else if error.is_some() {
                    format!("Stopped after {runs} runs ({seconds:.1} s)")
                } else {
                    format!("Trained {runs} runs, {epochs} epochs, in {seconds:.1} s")
                });
                tab.error = error;
                tab.run = None;
            }
        }
    }

    /// Writes every epoch of every run as the per-epoch CSV of `actprof train-demo`.
    pub(super) fn export_epochs(&mut self, path: &Path) {
        let tab = &mut self.training;
        tab.export_notice = None;
        if tab.runs.is_empty() {
            tab.export_error = Some("nothing to export: train first".to_owned());
            return;
        }
        let rows = epoch_rows(&tab.runs, tab.seed);
        match write_epochs_file(path, &rows) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "epochs saved");
                tab.export_error = None;
                tab.export_notice = Some(format!(
                    "Exported {} epochs of {} runs to {}",
                    rows.len(),
                    tab.runs.len(),
                    path.display()
                ));
            }
            Err(error) => tab.export_error = Some(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_runs_come_back_as_they_were() {
        let mut tab = TrainingTab::new(&TrainingSettings::default());
        tab.seed = 7;
        tab.runs.push(TrainRun {
            activation: Activation::LeakyRelu { alpha: 0.01 },
            learning_rate: 0.5,
            records: vec![EpochRecord {
                epoch: 0,
                loss: 0.69,
                accuracy: 0.5,
                dead_fraction: 0.25,
            }],
            diverged_at: Some(1),
            cancelled: false,
        });
        let text = serde_json::to_string(&StoredTraining::of(&tab)).expect("serializes");
        let mut back = TrainingTab::new(&TrainingSettings::default());
        serde_json::from_str::<StoredTraining>(&text)
            .expect("deserializes")
            .restore(&mut back);
        assert_eq!((back.runs, back.seed), (tab.runs, 7));
    }
}
