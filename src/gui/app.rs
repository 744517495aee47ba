//! The eframe app: runtime state around the persisted [`UiState`], the one place where user
//! actions are applied, and the top-level layout.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::harness::{CellResult, Event, HostFacts, Plan};
use crate::report::Row;
use crate::target::board::{BoardCell, BoardInfo, board_row, target_name};

use super::dialogs::{Dialogs, Purpose};
use super::panels::plan::PlanEditor;
use super::state::{
    MODEL_RESULTS_KEY, RESULTS_KEY, STORAGE_KEY, TRAINING_RESULTS_KEY, Tab, UiState,
};
use super::trace::{PowerTrace, TraceScope};
use super::views::functions::FunctionsCache;
use super::views::report::SortOrder;
use super::worker::{BoardUpdate, Command, Worker, WorkerEvent};
use super::{panels, theme, views};

mod files;
mod model_runs;
mod training_runs;

pub use model_runs::{ModelsTab, format_widths, parse_widths};
pub use training_runs::{StoredTraining, TrainingTab};

/// Where results of a run on this machine come from, in every exported row.
pub const LOCAL_TARGET: &str = "local";

const RUN_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::R);
const EXPORT_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const OPEN_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const CANCEL_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::Escape);

/// Something the user asked for. Panels and views only emit actions; [`ActprofApp::apply`]
/// carries them out.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Start the plan in the editor.
    Run,
    /// Start timing the models chosen in the Models tab.
    RunModels,
    /// Start the training experiment of the Dying ReLU tab.
    RunTraining,
    /// Stop the run after the cell being measured.
    Cancel,
    /// Ask for a path (dialog or text field) for this purpose.
    Choose(Purpose),
    /// A path was chosen for this purpose.
    Chosen(Purpose, PathBuf),
    /// Write part of the power trace to the Power tab's export path.
    ExportTrace(TraceScope),
    /// Read a recorded session and show its trace in the Power tab.
    OpenSession(PathBuf),
    /// Hide the offer to reopen the last session.
    DismissRecovery,
}

/// Where the run in progress measures.
#[derive(Clone, Debug, PartialEq)]
pub enum RunTarget {
    /// This CPU.
    Local,
    /// The board on `port`; `info` once it has answered.
    Board {
        port: String,
        info: Option<BoardInfo>,
    },
}

impl RunTarget {
    /// The `target` column of the rows this run makes, once it is known.
    pub fn name(&self) -> Option<String> {
        match self {
            RunTarget::Local => Some(LOCAL_TARGET.to_owned()),
            RunTarget::Board { info, .. } => info.as_ref().map(target_name),
        }
    }
}

/// A run in progress.
#[derive(Clone, Debug)]
pub struct RunProgress {
    /// Where it measures.
    pub target: RunTarget,
    /// Index in the app's rows of this run's first row: rows before it are other targets'
    /// results, kept beside this run's.
    pub first_row: usize,
    /// When the run was started.
    pub started: Instant,
    /// Cells in the plan.
    pub total_cells: usize,
    /// The harness's estimate of the whole run.
    pub estimated: Duration,
    /// Cells measured so far.
    pub finished_cells: usize,
    /// The cell being measured, as `activation × size elements` (a model run:
    /// `model × activation`; a training: the run being trained).
    pub current: Option<String>,
    /// Fraction of the current cell's measuring time done.
    pub current_fraction: f64,
    /// Cancel was asked for; the current cell is finishing.
    pub cancelling: bool,
}

impl RunProgress {
    /// Fraction of the whole run done, in [0, 1].
    pub fn fraction(&self) -> f64 {
        if self.total_cells == 0 {
            return 0.0;
        }
        ((self.finished_cells as f64 + self.current_fraction) / self.total_cells as f64)
            .clamp(0.0, 1.0)
    }

    /// Time left: the harness estimate until a cell has finished, then extrapolated from the
    /// measured pace.
    pub fn remaining(&self) -> Duration {
        let elapsed = self.started.elapsed();
        let done = self.fraction();
        if self.finished_cells == 0 || done <= 0.0 {
            return self.estimated.saturating_sub(elapsed);
        }
        elapsed.mul_f64((1.0 - done) / done)
    }
}

/// What a set of results came from.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultsSource {
    /// Nothing measured or opened yet.
    None,
    /// A run in this session.
    Run {
        /// When the run began (RFC 3339, UTC).
        started_at_utc: String,
    },
    /// A CSV report opened from this path.
    File(PathBuf),
    /// The results shown when the app was last closed.
    LastSession,
}

/// Messages shown in place, next to the control that caused them.
#[derive(Clone, Debug, Default)]
pub struct Messages {
    /// Why the plan cannot run or a profile failed to load or save.
    pub plan_error: Option<String>,
    /// Outcome of the last profile load or save.
    pub profile_notice: Option<String>,
    /// Why the last CSV export or open failed.
    pub report_error: Option<String>,
    /// Outcome of the last CSV export or open.
    pub report_notice: Option<String>,
    /// Why the baseline report could not be loaded.
    pub baseline_error: Option<String>,
    /// Why the last chart export failed.
    pub chart_error: Option<String>,
    /// Outcome of the last chart export.
    pub chart_notice: Option<String>,
    /// How the last run ended.
    pub run_notice: Option<String>,
    /// Warnings the harness raised during the run.
    pub run_warnings: Vec<String>,
    /// Why the last run could not start on its target or stopped early (a board that
    /// cannot be reached, resets or goes away); the finished cells are kept.
    pub run_error: Option<String>,
    /// The measuring thread could not start or has stopped.
    pub worker_error: Option<String>,
}

/// A baseline report loaded for comparison.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Where the baseline was read from.
    pub path: PathBuf,
    /// Its rows, in file order.
    pub rows: Vec<Row>,
}

/// The desktop app.
pub struct ActprofApp {
    /// Preferences and the plan (persisted).
    pub state: UiState,
    /// Rows shown by every view: from the runs of this session (the latest per target) or
    /// an opened report.
    pub rows: Vec<Row>,
    /// Where `rows` came from.
    pub source: ResultsSource,
    /// The report the Compare view compares against.
    pub baseline: Option<Baseline>,
    /// Facts about this machine, once the worker has collected them.
    pub host: Option<HostFacts>,
    /// The run in progress, if any.
    pub run: Option<RunProgress>,
    /// Errors and notices shown in place.
    pub messages: Messages,
    /// Editor state of the plan panel.
    pub plan_editor: PlanEditor,
    /// Order of the Report table.
    pub sort: SortOrder,
    /// Curves of the Functions view.
    pub functions_cache: FunctionsCache,
    /// Screen rectangle of the chart on display, for PNG export.
    pub chart_rect: Option<egui::Rect>,
    /// File dialogs or typed paths.
    pub dialogs: Dialogs,
    /// The power trace of the Power tab.
    pub power: PowerTrace,
    /// A session that did not end cleanly (the app or a run was killed), offered for
    /// reopening until dismissed.
    pub recovery: Option<PathBuf>,
    /// Results and runs of the Models tab.
    pub models: ModelsTab,
    /// Runs of the Dying ReLU tab.
    pub training: TrainingTab,
    worker: Option<Worker>,
    /// Start the plan on the first frame (first launch).
    auto_run: bool,
    png_result: Option<Receiver<Result<PathBuf, String>>>,
}

impl ActprofApp {
    /// The app as eframe creates it: state from storage; on first launch (nothing stored)
    /// the default plan runs at once.
    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let stored: Option<UiState> = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, STORAGE_KEY));
        let first_launch = stored.is_none();
        let mut app =
            Self::with_state(&cc.egui_ctx, stored.unwrap_or_default(), first_launch, true);
        let last_rows: Option<Vec<Row>> = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, RESULTS_KEY));
        if let Some(rows) = last_rows.filter(|rows| !rows.is_empty()) {
            app.rows = rows;
            app.source = ResultsSource::LastSession;
        }
        let model_rows: Option<Vec<Row>> = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, MODEL_RESULTS_KEY));
        if let Some(rows) = model_rows.filter(|rows| !rows.is_empty()) {
            app.models.rows = rows;
            app.models.source = ResultsSource::LastSession;
        }
        let training: Option<StoredTraining> = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, TRAINING_RESULTS_KEY));
        if let Some(training) = training {
            training.restore(&mut app.training);
        }
        match crate::session::Journal::sessions_root() {
            Ok(root) => app.recovery = super::recovery::last_unclean_session(&root),
            Err(err) => tracing::debug!("no sessions folder to look in: {err}"),
        }
        app
    }

    /// The app from a given state, without storage. `auto_run` starts the plan on the first
    /// frame; `native_dialogs = false` makes every path a text field (tests, headless use).
    pub fn with_state(
        ctx: &egui::Context,
        state: UiState,
        auto_run: bool,
        native_dialogs: bool,
    ) -> Self {
        theme::apply(ctx, state.theme);
        let (worker, worker_error) = match Worker::spawn(ctx.clone()) {
            Ok(worker) => (Some(worker), None),
            Err(error) => (
                None,
                Some(format!("cannot start the measuring thread: {error}")),
            ),
        };
        let plan_editor = PlanEditor::new(&state.plan, &state.target);
        let models = ModelsTab::new(&state.models);
        let training = TrainingTab::new(&state.training);
        Self {
            state,
            rows: Vec::new(),
            source: ResultsSource::None,
            baseline: None,
            host: None,
            run: None,
            messages: Messages {
                worker_error,
                ..Messages::default()
            },
            plan_editor,
            sort: SortOrder::default(),
            functions_cache: FunctionsCache::default(),
            chart_rect: None,
            dialogs: Dialogs::new(native_dialogs),
            power: PowerTrace::default(),
            recovery: None,
            models,
            training,
            worker,
            auto_run,
            png_result: None,
        }
    }

    /// Whether a run of the plan is in progress.
    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Whether any run (plan, models or training) holds the measuring thread.
    pub fn is_busy(&self) -> bool {
        self.run.is_some() || self.models.run.is_some() || self.training.run.is_some()
    }

    /// Carries out one user action.
    pub fn apply(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Run => self.start_run(),
            Action::RunModels => self.start_models(),
            Action::RunTraining => self.start_training(),
            Action::Cancel => self.cancel_run(),
            Action::Choose(purpose) => {
                let current = self.path_for(purpose).clone();
                if let Some((purpose, path)) = self.dialogs.request(purpose, &current) {
                    self.apply(ctx, Action::Chosen(purpose, path));
                }
            }
            Action::Chosen(purpose, path) => {
                *self.path_for(purpose) = path.display().to_string();
                self.use_path(ctx, purpose, &path);
            }
            Action::ExportTrace(scope) => {
                let path = PathBuf::from(&self.power.export_path);
                let outcome = self.power.export(scope, &path);
                match outcome {
                    Ok(rows) => {
                        tracing::info!(path = %path.display(), "trace saved");
                        self.power.error = None;
                        self.power.notice =
                            Some(format!("Exported {rows} samples to {}", path.display()));
                    }
                    Err(error) => self.power.error = Some(error),
                }
            }
            Action::OpenSession(dir) => self.open_session(&dir),
            Action::DismissRecovery => self.recovery = None,
        }
    }

    fn path_for(&mut self, purpose: Purpose) -> &mut String {
        match purpose {
            Purpose::ExportCsv | Purpose::OpenCsv => &mut self.state.csv_path,
            Purpose::LoadBaseline => &mut self.state.baseline_path,
            Purpose::LoadProfile | Purpose::SaveProfile => &mut self.state.profile_path,
            Purpose::ExportPng => &mut self.state.png_path,
            Purpose::ExportSvg => &mut self.state.svg_path,
            Purpose::OpenTrace => &mut self.power.open_path,
            Purpose::ExportEpochs => &mut self.state.epochs_path,
        }
    }

    fn use_path(&mut self, ctx: &egui::Context, purpose: Purpose, path: &Path) {
        match purpose {
            Purpose::ExportCsv => self.export_csv(path),
            Purpose::OpenCsv => self.open_csv(path),
            Purpose::LoadBaseline => self.load_baseline(path),
            Purpose::LoadProfile => self.load_profile(path),
            Purpose::SaveProfile => self.save_profile(path),
            Purpose::ExportPng => self.export_png(ctx, path),
            Purpose::ExportSvg => self.export_svg(path),
            Purpose::OpenTrace => self.open_trace(path),
            Purpose::ExportEpochs => self.export_epochs(path),
        }
    }

    fn start_run(&mut self) {
        if self.is_busy() {
            return;
        }
        let plan = self.state.plan.clone();
        if let Err(problem) = plan.validate() {
            self.messages.plan_error = Some(format!("cannot run this plan: {problem}"));
            return;
        }
        let board = match self.state.target.board() {
            Ok(board) => board,
            Err(problem) => {
                self.messages.plan_error = Some(format!("cannot run on a board: {problem}"));
                return;
            }
        };
        if board.is_some() && plan.power.is_some() {
            self.messages.plan_error = Some(
                "cannot record power with a board target yet: clear the power source, or \
                 record the board's supply with `actprof record --power …` while it runs"
                    .to_owned(),
            );
            return;
        }
        // The memory check is this machine's; a board refuses what it cannot hold itself.
        let local_host = self.host.as_ref().filter(|_| board.is_none());
        if let Some(problem) = local_host.and_then(|host| too_big(&plan, host)) {
            self.messages.plan_error = Some(problem);
            return;
        }
        let Some(worker) = &self.worker else {
            return;
        };
        let target = match &board {
            None => RunTarget::Local,
            Some(spec) => RunTarget::Board {
                port: spec.port.clone(),
                info: None,
            },
        };
        if let Err(error) = worker.send(Command::Start { plan, board }) {
            self.messages.worker_error = Some(error.to_string());
            return;
        }
        self.messages.plan_error = None;
        self.messages.run_notice = None;
        self.messages.run_error = None;
        self.messages.run_warnings.clear();
        self.power.error = None;
        // Rows of other targets stay; a board's own rows go once it has said who it is.
        if let Some(name) = target.name() {
            self.rows.retain(|row| row.target != name);
        }
        self.source = ResultsSource::Run {
            started_at_utc: utc_now(),
        };
        self.run = Some(RunProgress {
            target,
            first_row: self.rows.len(),
            started: Instant::now(),
            total_cells: self.state.plan.cells().len(),
            estimated: self.state.plan.estimated_duration(),
            finished_cells: 0,
            current: None,
            current_fraction: 0.0,
            cancelling: false,
        });
    }

    /// Cancels whichever run is in progress.
    fn cancel_run(&mut self) {
        let run = [&mut self.run, &mut self.models.run, &mut self.training.run]
            .into_iter()
            .find_map(Option::as_mut);
        let (Some(run), Some(worker)) = (run, &self.worker) else {
            return;
        };
        run.cancelling = true;
        if let Err(error) = worker.send(Command::Cancel) {
            self.messages.worker_error = Some(error.to_string());
        }
    }

    /// Applies everything the worker has sent.
    fn drain_worker(&mut self) {
        let Some(worker) = &self.worker else {
            return;
        };
        let events = match worker.drain() {
            Ok(events) => events,
            Err(gone) => {
                self.messages.worker_error = Some(gone.to_string());
                self.worker = None;
                self.run = None;
                self.models.run = None;
                self.training.run = None;
                return;
            }
        };
        for event in events {
            match event {
                WorkerEvent::Host(host) => self.host = Some(*host),
                WorkerEvent::Run(event) => self.on_run_event(*event),
                WorkerEvent::Power(update) => self.on_power_update(update),
                WorkerEvent::Board(update) => self.on_board_update(update),
                WorkerEvent::Models(update) => self.on_models_update(update),
                WorkerEvent::Training(update) => self.on_training_update(update),
                WorkerEvent::Done { cancelled } => self.finish_run(cancelled),
            }
        }
    }

    fn on_run_event(&mut self, event: Event) {
        let Some(run) = &mut self.run else {
            return;
        };
        match event {
            Event::Started {
                total_cells,
                estimated,
            } => {
                run.total_cells = total_cells;
                run.estimated = estimated;
            }
            Event::CellStarted { spec, .. } => {
                run.current = Some(format!(
                    "{} × {} elements",
                    spec.activation.spec(),
                    super::model::format_elements(spec.elements as u64)
                ));
                run.current_fraction = 0.0;
            }
            Event::CellProgress { fraction, .. } => run.current_fraction = fraction,
            Event::CellFinished { result, .. } => {
                run.finished_cells += 1;
                run.current_fraction = 0.0;
                let row = self.row_of(&result);
                self.rows.extend(row);
            }
            Event::Warning(warning) => self.messages.run_warnings.push(warning),
            Event::Finished { .. } => {}
        }
    }

    /// The report row of a finished cell of the run in progress. A board's cells get
    /// their cycle counts when the run is over ([`BoardUpdate::Finished`]).
    fn row_of(&self, result: &CellResult) -> Option<Row> {
        let run = self.run.as_ref()?;
        let started_at = match &self.source {
            ResultsSource::Run { started_at_utc } => started_at_utc.as_str(),
            _ => "",
        };
        let host = self.host.clone().unwrap_or_default();
        match &run.target {
            RunTarget::Local => Some(Row::from_cell(result, &host, started_at, LOCAL_TARGET)),
            RunTarget::Board { info, .. } => {
                let cell = BoardCell {
                    result: result.clone(),
                    median_cycles: None,
                };
                Some(board_row(&cell, info.as_ref()?, &host, started_at))
            }
        }
    }

    /// Applies one board update from the worker.
    fn on_board_update(&mut self, update: BoardUpdate) {
        let Some(run) = &mut self.run else {
            return;
        };
        match update {
            BoardUpdate::Connected { port, info } => {
                // The board's earlier rows give way to this run's; other targets stay.
                let name = target_name(&info);
                self.rows.retain(|row| row.target != name);
                run.first_row = self.rows.len();
                run.target = RunTarget::Board {
                    port,
                    info: Some(info),
                };
            }
            BoardUpdate::Finished {
                cells,
                mismatches,
                error,
            } => {
                // The outcome's cells are the rows shown so far, now with their cycles.
                let first_row = run.first_row;
                let rows: Vec<Row> = cells
                    .iter()
                    .filter_map(|cell| self.row_of(&cell.result).map(|row| (cell, row)))
                    .map(|(cell, mut row)| {
                        row.median_cycles_per_call = cell.median_cycles;
                        row
                    })
                    .collect();
                self.rows.truncate(first_row);
                self.rows.extend(rows);
                if mismatches > 0 {
                    self.messages.run_warnings.push(format!(
                        "{mismatches} cell(s) failed the output check: the board's results \
                         do not match the host's reference"
                    ));
                }
                self.messages.run_error = error;
            }
        }
    }

    fn finish_run(&mut self, cancelled: bool) {
        let Some(run) = self.run.take() else {
            return;
        };
        let seconds = run.started.elapsed().as_secs_f64();
        let finished = self.rows.len().saturating_sub(run.first_row);
        let on = match run.target.name() {
            Some(name) if self.targets().len() > 1 => format!(" on {name}"),
            _ => String::new(),
        };
        self.messages.run_notice = if self.messages.run_error.is_some() {
            (finished > 0).then(|| {
                format!(
                    "Stopped after {finished} of {} cells{on} ({seconds:.1} s); finished \
                     cells are kept",
                    run.total_cells
                )
            })
        } else if cancelled {
            Some(format!(
                "Cancelled after {finished} of {} cells{on} ({seconds:.1} s); finished cells \
                 are kept",
                run.total_cells
            ))
        } else {
            Some(format!("Finished {finished} cells{on} in {seconds:.1} s"))
        };
    }

    /// The targets of the rows on display, in first-seen order.
    pub fn targets(&self) -> Vec<&str> {
        let mut targets: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !targets.contains(&row.target.as_str()) {
                targets.push(&row.target);
            }
        }
        targets
    }

    /// Keyboard shortcuts, read before any widget can take the keys. Ctrl+R starts the
    /// run of the tab on display.
    fn shortcuts(&self, ctx: &egui::Context) -> Vec<Action> {
        let run = match self.state.tab {
            Tab::Models => Action::RunModels,
            Tab::Training => Action::RunTraining,
            _ => Action::Run,
        };
        ctx.input_mut(|input| {
            let mut actions = Vec::new();
            if input.consume_shortcut(&RUN_SHORTCUT) {
                actions.push(run);
            }
            if input.consume_shortcut(&CANCEL_SHORTCUT) {
                actions.push(Action::Cancel);
            }
            if input.consume_shortcut(&EXPORT_SHORTCUT) {
                actions.push(Action::Choose(Purpose::ExportCsv));
            }
            if input.consume_shortcut(&OPEN_SHORTCUT) {
                actions.push(Action::Choose(Purpose::OpenCsv));
            }
            actions
        })
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                if ui
                    .selectable_value(&mut self.state.tab, tab, tab.label())
                    .clicked()
                {
                    // Export outcomes belong to the chart they were made from.
                    self.messages.chart_notice = None;
                    self.messages.chart_error = None;
                }
            }
            ui.separator();
            ui.label(self.source_label());
        });
    }

    /// Where the results of the tab on display come from.
    fn source_label(&self) -> String {
        match self.state.tab {
            Tab::Models => source_text(&self.models.source, self.models.rows.len(), "model"),
            Tab::Training => match self.training.runs.len() {
                0 => "No training yet: press Run (Ctrl+R)".to_owned(),
                runs => format!("{runs} training runs, seed {}", self.training.seed),
            },
            _ => self.kernel_source_text(),
        }
    }

    /// Where the kernel rows come from, counting the targets when there are several.
    fn kernel_source_text(&self) -> String {
        match &self.source {
            ResultsSource::Run { started_at_utc } if self.targets().len() > 1 => format!(
                "{} cells of {} targets, the latest run started {started_at_utc}",
                self.rows.len(),
                self.targets().len()
            ),
            source => source_text(source, self.rows.len(), ""),
        }
    }
}

/// Where `rows` results (of `kind`: `model` or nothing) come from, for the tab bar.
fn source_text(source: &ResultsSource, rows: usize, kind: &str) -> String {
    let kind = if kind.is_empty() {
        String::new()
    } else {
        format!("{kind} ")
    };
    match source {
        ResultsSource::None => format!("No {kind}results yet: press Run (Ctrl+R)"),
        ResultsSource::Run { started_at_utc } => {
            format!("{rows} {kind}cells from the run started {started_at_utc}")
        }
        ResultsSource::File(path) => format!("{rows} {kind}rows from {}", path.display()),
        ResultsSource::LastSession => format!("{rows} {kind}cells kept from the last session"),
    }
}

/// Now, as the `started_at_utc` of report rows (RFC 3339, UTC, whole seconds).
fn utc_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Bytes a cell holds per element: the f32 input and the f32 output.
const BYTES_PER_ELEMENT: u64 = 8;

/// Why `plan` would not fit in memory, if it would not: a failed allocation aborts the
/// process, so the largest size may take at most half of this machine's memory.
fn too_big(plan: &Plan, host: &HostFacts) -> Option<String> {
    let largest = plan.sizes.iter().copied().max()? as u64;
    let needed = largest.saturating_mul(BYTES_PER_ELEMENT);
    let allowed = host.memory_bytes / 2;
    (host.memory_bytes > 0 && needed > allowed).then(|| {
        format!(
            "cannot run this plan: {largest} elements need {:.1} GiB for input and output, \
             more than half of this machine's {:.1} GiB",
            needed as f64 / GIB,
            host.memory_bytes as f64 / GIB
        )
    })
}

/// Bytes in a GiB, for messages.
const GIB: f64 = (1u64 << 30) as f64;

impl eframe::App for ActprofApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if std::mem::take(&mut self.auto_run) {
            self.start_run();
        }
        self.drain_worker();
        self.poll_png();
        if let Some((purpose, path)) = self.dialogs.poll() {
            self.apply(ctx, Action::Chosen(purpose, path));
        }
        if self.dialogs.is_open() || self.png_result.is_some() {
            // Nothing wakes the UI when a dialog thread answers; look again shortly.
            ctx.request_repaint_after(Duration::from_millis(200));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let mut actions = self.shortcuts(&ctx);
        self.chart_rect = None;

        egui::Panel::top("tabs").show(ui, |ui| {
            self.tabs_ui(ui);
            super::recovery::recovery_ui(ui, self, &mut actions);
        });
        egui::Panel::bottom("status").show(ui, |ui| panels::status::status_ui(ui, self));
        // The side panel sets up what the tab on display runs.
        egui::Panel::left("plan")
            .resizable(true)
            .default_size(270.0)
            .min_size(230.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| match self.state.tab {
                    Tab::Models => panels::models::models_plan_ui(ui, self, &mut actions),
                    Tab::Training => panels::training::training_plan_ui(ui, self, &mut actions),
                    _ => panels::plan::plan_ui(ui, self, &mut actions),
                });
            });
        egui::CentralPanel::default().show(ui, |ui| match self.state.tab {
            Tab::Heatmap => views::heatmap::heatmap_ui(ui, self, &mut actions),
            Tab::Compare => views::compare::compare_ui(ui, self, &mut actions),
            Tab::Functions => views::functions::functions_ui(ui, self, &mut actions),
            Tab::Report => views::report::report_ui(ui, self, &mut actions),
            Tab::Power => views::power::power_ui(ui, self, &mut actions),
            Tab::Models => views::models::models_ui(ui, self, &mut actions),
            Tab::Training => views::training::training_ui(ui, self, &mut actions),
        });

        for action in actions {
            self.apply(&ctx, action);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.state);
        // Half a run is not worth restoring; keep what was stored before it started.
        if !self.is_running() {
            eframe::set_value(storage, RESULTS_KEY, &self.rows);
        }
        if self.models.run.is_none() {
            eframe::set_value(storage, MODEL_RESULTS_KEY, &self.models.rows);
        }
        if self.training.run.is_none() {
            let training = StoredTraining::of(&self.training);
            eframe::set_value(storage, TRAINING_RESULTS_KEY, &training);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_beyond_half_the_memory_are_refused() {
        let host = HostFacts {
            memory_bytes: 16 << 30,
            ..HostFacts::default()
        };
        let small = Plan {
            sizes: vec![1 << 20],
            ..Plan::default()
        };
        assert_eq!(too_big(&small, &host), None);
        // 2^30 elements × 8 bytes = 8 GiB: exactly half is still allowed.
        let half = Plan {
            sizes: vec![1 << 30],
            ..Plan::default()
        };
        assert_eq!(too_big(&half, &host), None);
        let huge = Plan {
            sizes: vec![1024, (1 << 30) + 1],
            ..Plan::default()
        };
        let message = too_big(&huge, &host).expect("refused");
        assert!(message.contains("1073741825 elements"), "{message}");
        let unknown = HostFacts::default();
        assert_eq!(too_big(&huge, &unknown), None, "no memory figure, no guess");
    }
}
