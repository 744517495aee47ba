//! Run and Cancel with the progress of a run, shared by the panels of every kind of run.

use super::super::app::{Action, RunProgress};

/// What the run controls of one kind of run say.
pub struct RunWords {
    /// Hover text of Run.
    pub run_hover: &'static str,
    /// Hover text of Cancel.
    pub cancel_hover: &'static str,
    /// What the progress counts (`cells`, `epochs`).
    pub unit: &'static str,
    /// What is being done to the current item (`Measuring`, `Training`).
    pub doing: &'static str,
}

/// Run (emitting `start`) while nothing runs; Cancel, a progress bar and the current item
/// while `run` is in progress. With `busy_elsewhere` another kind of run holds the worker,
/// so Run is disabled.
pub fn run_controls_ui(
    ui: &mut egui::Ui,
    run: Option<&RunProgress>,
    busy_elsewhere: bool,
    words: &RunWords,
    start: Action,
    actions: &mut Vec<Action>,
) {
    let Some(run) = run else {
        let button = ui
            .add_enabled(!busy_elsewhere, egui::Button::new("Run"))
            .on_hover_text(words.run_hover)
            .on_disabled_hover_text("Another run is in progress: wait for it or cancel it (Esc)");
        if button.clicked() {
            actions.push(start);
        }
        return;
    };
    let label = if run.cancelling {
        "Cancelling…"
    } else {
        "Cancel"
    };
    if ui.button(label).on_hover_text(words.cancel_hover).clicked() {
        actions.push(Action::Cancel);
    }
    let text = format!(
        "{} of {} {}, {:.0} s left",
        run.finished_cells,
        run.total_cells,
        words.unit,
        run.remaining().as_secs_f64().ceil()
    );
    // No animation: the bar redraws only when progress arrives.
    ui.add(
        egui::ProgressBar::new(run.fraction() as f32)
            .text(text)
            .animate(false),
    );
    if let Some(current) = &run.current {
        ui.label(format!("{} {current}", words.doing));
    }
}
