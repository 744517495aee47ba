//! The Models tab's runtime state, and how the app starts a model run and takes in what
//! the worker reports about it.

use std::time::Instant;

use crate::kernels::Activation;
use crate::models::{ModelSpec, ModelSummary};
use crate::report::Row;

use super::super::jobs::{ModelJob, ModelsUpdate};
use super::super::panels::activations::ActivationParams;
use super::super::state::ModelsSettings;
use super::super::worker::Command;
use super::{ActprofApp, ResultsSource, RunProgress, RunTarget};

/// Everything the Models tab shows besides its persisted settings.
pub struct ModelsTab {
    /// Model rows (the `model` column set), from the last model run or an opened report.
    pub rows: Vec<Row>,
    /// Where `rows` came from.
    pub source: ResultsSource,
    /// The model run in progress, if any.
    pub run: Option<RunProgress>,
    /// How the last model run ended.
    pub notice: Option<String>,
    /// Why the last model run could not start or stopped early.
    pub error: Option<String>,
    /// Leaky ReLU's alpha and Swish's beta, kept while their boxes are unticked.
    pub params: ActivationParams,
    /// The `mlp-small` widths as typed (`2, 64, 64, 64, 2`).
    pub widths_text: String,
    /// Why the typed widths were refused; the settings keep the last valid ones.
    pub widths_error: Option<String>,
    /// Summaries built so far, per model with its options and activation.
    summaries: Vec<SummaryEntry>,
}

impl ModelsTab {
    /// The tab showing `settings`, with no results.
    pub fn new(settings: &ModelsSettings) -> Self {
        Self {
            rows: Vec::new(),
            source: ResultsSource::None,
            run: None,
            notice: None,
            error: None,
            params: ActivationParams::of(&settings.activations),
            widths_text: format_widths(&settings.mlp_widths),
            widths_error: None,
            summaries: Vec::new(),
        }
    }

    /// The summary of `spec` with `activation` in its hidden layers (layers, shapes,
    /// parameters, MACs, activation memory), built once per model, options and activation;
    /// the error says why the model cannot be built.
    pub fn summary(
        &mut self,
        spec: &ModelSpec,
        activation: Activation,
    ) -> Result<&ModelSummary, &str> {
        let known = self
            .summaries
            .iter()
            .position(|(other, with, _)| other == spec && *with == activation);
        let index = match known {
            Some(index) => index,
            None => {
                // The weights' seed changes no number of the summary.
                let built = spec
                    .build(activation, 1)
                    .map(|model| model.summary())
                    .map_err(|error| error.to_string());
                self.summaries.push((spec.clone(), activation, built));
                self.summaries.len() - 1
            }
        };
        self.summaries[index].2.as_ref().map_err(String::as_str)
    }
}

/// A summary built once: the model, its activation, and the summary or why it failed.
type SummaryEntry = (ModelSpec, Activation, Result<ModelSummary, String>);

/// Widths as the field shows them.
pub fn format_widths(widths: &[usize]) -> String {
    widths
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Widths separated by commas or spaces: at least two, each at least 1.
pub fn parse_widths(text: &str) -> Result<Vec<usize>, String> {
    let widths = text
        .split([',', ' '])
        .filter(|part| !part.trim().is_empty())
        .map(|part| match part.trim().parse::<usize>() {
            Ok(0) | Err(_) => Err(format!("`{}` is not a whole number ≥ 1", part.trim())),
            Ok(width) => Ok(width),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if widths.len() < 2 {
        return Err("give at least an input and an output width".to_owned());
    }
    Ok(widths)
}

impl ActprofApp {
    /// Starts timing the chosen models × activations.
    pub(super) fn start_models(&mut self) {
        if self.is_busy() {
            return;
        }
        let settings = &self.state.models;
        let cells = settings.cells();
        if cells.is_empty() {
            self.models.error =
                Some("cannot run: tick at least one model and one activation".into());
            return;
        }
        let Some(worker) = &self.worker else {
            return;
        };
        let started_at_utc = super::utc_now();
        let job = ModelJob {
            cells,
            settings: settings.settings(),
            started_at_utc: started_at_utc.clone(),
        };
        let total_cells = job.cells.len();
        let estimated = settings.estimated_duration();
        if let Err(error) = worker.send(Command::StartModels(job)) {
            self.messages.worker_error = Some(error.to_string());
            return;
        }
        self.models.error = None;
        self.models.notice = None;
        self.models.rows.clear();
        self.models.source = ResultsSource::Run { started_at_utc };
        self.models.run = Some(RunProgress {
            target: RunTarget::Local,
            first_row: 0,
            started: Instant::now(),
            total_cells,
            estimated,
            finished_cells: 0,
            current: None,
            current_fraction: 0.0,
            cancelling: false,
        });
    }

    /// Applies one report of the model run.
    pub(super) fn on_models_update(&mut self, update: ModelsUpdate) {
        let tab = &mut self.models;
        let Some(run) = &mut tab.run else {
            return;
        };
        match update {
            ModelsUpdate::CellStarted { index, label } => {
                run.finished_cells = index;
                run.current = Some(label);
                run.current_fraction = 0.0;
            }
            ModelsUpdate::Progress(fraction) => run.current_fraction = fraction,
            ModelsUpdate::Finished(row) => {
                run.finished_cells += 1;
                run.current_fraction = 0.0;
                tab.rows.push(*row);
            }
            ModelsUpdate::Done { cancelled, error } => {
                let seconds = run.started.elapsed().as_secs_f64();
                let (finished, total) = (tab.rows.len(), run.total_cells);
                tab.notice = Some(if error.is_some() {
                    format!("Stopped after {finished} of {total} cells ({seconds:.1} s)")
                } else if cancelled {
                    format!(
                        "Cancelled after {finished} of {total} cells ({seconds:.1} s); finished \
                         cells are kept"
                    )
                } else {
                    format!("Finished {finished} cells in {seconds:.1} s")
                });
                tab.error = error;
                tab.run = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_need_two_positive_whole_numbers() {
        assert_eq!(parse_widths("2, 64 64,2"), Ok(vec![2, 64, 64, 2]));
        assert!(parse_widths("2").is_err());
        let error = parse_widths("2, 0, 2").expect_err("0 is refused");
        assert!(error.contains("`0`"), "{error}");
        assert!(
            parse_widths("2, wide")
                .expect_err("refused")
                .contains("`wide`")
        );
        assert_eq!(format_widths(&[2, 64, 2]), "2, 64, 2");
    }
}
