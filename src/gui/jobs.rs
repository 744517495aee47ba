//! The model and training runs of the measuring thread.
//!
//! A model run times every cell with `models::measure` in order, as `actprof models` does,
//! and turns each result into a report row with the CLI's own conversion, so the GUI's rows
//! and the CLI's CSV are the same. A training run trains `mlp-small` once per learning rate ×
//! activation with `models::train`, as `actprof train-demo` does. Both stop at the cancel
//! flag: a model cell within one sample, a training run after the current epoch.

use std::sync::atomic::AtomicBool;

use crate::harness::HostFacts;
use crate::kernels::Activation;
use crate::models::measure::{self, Cell, Settings};
use crate::models::train::{EpochRecord, TrainConfig, TrainRun, train};
use crate::report::Row;
use crate::report::model_row::row as model_row;

use super::worker::WorkerEvent;

/// Every model × activation cell to time.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelJob {
    /// The cells in run order.
    pub cells: Vec<Cell>,
    /// How long and how often each cell is measured.
    pub settings: Settings,
    /// When the run began (RFC 3339, UTC), in every row.
    pub started_at_utc: String,
}

/// Every activation × learning rate to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingJob {
    /// Activations, one run each per learning rate.
    pub activations: Vec<Activation>,
    /// Learning rates, in run order (all activations at the first rate, then the next).
    pub learning_rates: Vec<f32>,
    /// Everything else of a run; its learning rate is replaced per run.
    pub config: TrainConfig,
}

/// What a model run reports.
#[derive(Debug)]
pub enum ModelsUpdate {
    /// Cell `index` (from 0) is being measured.
    CellStarted {
        /// Position in the job's cells.
        index: usize,
        /// `model × activation`.
        label: String,
    },
    /// Fraction of the current cell's measuring time done.
    Progress(f64),
    /// The report row of a finished cell.
    Finished(Box<Row>),
    /// The run has returned.
    Done {
        /// Whether it stopped early on Cancel.
        cancelled: bool,
        /// Why it stopped early, if a model could not be built.
        error: Option<String>,
    },
}

/// What a training run reports.
#[derive(Debug)]
pub enum TrainingUpdate {
    /// A run of one activation at one learning rate begins.
    RunStarted {
        activation: Activation,
        learning_rate: f32,
    },
    /// The state after one epoch of the current run (epoch 0: before training).
    Epoch(EpochRecord),
    /// The current run has ended: all its epochs, and whether it diverged or was cancelled.
    RunFinished(Box<TrainRun>),
    /// The whole job has returned.
    Done {
        /// Whether it stopped early on Cancel.
        cancelled: bool,
        /// Why it could not run, if the settings were refused.
        error: Option<String>,
    },
}

/// Times every cell of `job`; sends one [`ModelsUpdate::Done`] at the end, whatever happens.
pub fn run_models(
    job: &ModelJob,
    host: &HostFacts,
    cancel: &AtomicBool,
    notify: &dyn Fn(WorkerEvent),
) {
    let send = |update| notify(WorkerEvent::Models(update));
    for (index, cell) in job.cells.iter().enumerate() {
        send(ModelsUpdate::CellStarted {
            index,
            label: format!("{} × {}", cell.spec.kind, cell.activation.spec()),
        });
        let measured = measure::measure(cell, &job.settings, cancel, &mut |fraction| {
            send(ModelsUpdate::Progress(fraction));
        });
        match measured {
            Ok(Some(result)) => {
                let row = model_row(&result, host, &job.started_at_utc, job.settings.seed);
                send(ModelsUpdate::Finished(Box::new(row)));
            }
            Ok(None) => {
                send(ModelsUpdate::Done {
                    cancelled: true,
                    error: None,
                });
                return;
            }
            Err(error) => {
                send(ModelsUpdate::Done {
                    cancelled: false,
                    error: Some(format!("cannot build model {}: {error}", cell.spec.kind)),
                });
                return;
            }
        }
    }
    send(ModelsUpdate::Done {
        cancelled: false,
        error: None,
    });
}

/// Trains every run of `job`; sends one [`TrainingUpdate::Done`] at the end.
pub fn run_training(job: &TrainingJob, cancel: &AtomicBool, notify: &dyn Fn(WorkerEvent)) {
    let send = |update| notify(WorkerEvent::Training(update));
    for &learning_rate in &job.learning_rates {
        for &activation in &job.activations {
            send(TrainingUpdate::RunStarted {
                activation,
                learning_rate,
            });
            let config = TrainConfig {
                learning_rate,
                ..job.config.clone()
            };
            let trained = train(activation, &config, cancel, &mut |record| {
                send(TrainingUpdate::Epoch(*record));
            });
            match trained {
                Ok(run) => {
                    let cancelled = run.cancelled;
                    send(TrainingUpdate::RunFinished(Box::new(run)));
                    if cancelled {
                        send(TrainingUpdate::Done {
                            cancelled: true,
                            error: None,
                        });
                        return;
                    }
                }
                Err(error) => {
                    send(TrainingUpdate::Done {
                        cancelled: false,
                        error: Some(format!("cannot train: {error}")),
                    });
                    return;
                }
            }
        }
    }
    send(TrainingUpdate::Done {
        cancelled: false,
        error: None,
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::models::zoo::{ModelKind, ModelSpec};

    fn collect(run: impl FnOnce(&dyn Fn(WorkerEvent))) -> Vec<WorkerEvent> {
        let events = Mutex::new(Vec::new());
        run(&|event| events.lock().expect("not poisoned").push(event));
        events.into_inner().expect("not poisoned")
    }

    #[test]
    fn a_model_job_sends_a_row_per_cell_then_done() {
        let job = ModelJob {
            cells: vec![Cell {
                spec: ModelSpec::new(ModelKind::MlpSmall),
                activation: Activation::Relu,
                batch: 2,
            }],
            settings: Settings {
                warmup: Duration::from_millis(1),
                min_time: Duration::from_millis(5),
                min_samples: 3,
                seed: 1,
            },
            started_at_utc: "2026-12-04T00:00:00Z".to_owned(),
        };
        let events = collect(|notify| {
            run_models(&job, &HostFacts::default(), &AtomicBool::new(false), notify);
        });
        let rows: Vec<&Row> = events
            .iter()
            .filter_map(|event| match event {
                WorkerEvent::Models(ModelsUpdate::Finished(row)) => Some(&**row),
                _ => None,
            })
            .collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].model.as_deref(), Some("mlp-small"));
        assert_eq!(rows[0].batch, Some(2));
        assert_eq!(rows[0].started_at_utc, "2026-12-04T00:00:00Z");
        assert!(matches!(
            events.last(),
            Some(WorkerEvent::Models(ModelsUpdate::Done {
                cancelled: false,
                error: None
            }))
        ));
    }

    #[test]
    fn a_cancelled_training_job_ends_after_its_first_epoch_record() {
        let job = TrainingJob {
            activations: vec![Activation::Relu, Activation::Tanh],
            learning_rates: vec![0.05],
            config: TrainConfig {
                epochs: 3,
                points_per_class: 20,
                ..TrainConfig::default()
            },
        };
        let events = collect(|notify| run_training(&job, &AtomicBool::new(true), notify));
        let epochs = events
            .iter()
            .filter(|event| matches!(event, WorkerEvent::Training(TrainingUpdate::Epoch(_))))
            .count();
        // Epoch 0 is recorded before the flag is read; the second activation never starts.
        assert_eq!(epochs, 1);
        assert!(matches!(
            events.last(),
            Some(WorkerEvent::Training(TrainingUpdate::Done {
                cancelled: true,
                ..
            }))
        ));
    }
}
