//! The Models tab's side panel: which zoo models and activations to time, the batch and
//! the measuring time; Run.

use crate::models::ModelKind;

use super::super::app::{Action, ActprofApp, parse_widths};
use super::super::model::displayable;
use super::super::theme;
use super::activations::activations_ui;
use super::plan::MIN_TIME_RANGE_MS;
use super::run::{RunWords, run_controls_ui};

/// Largest batch the panel offers.
const MAX_BATCH: usize = 4096;

/// The side panel of the Models tab.
pub fn models_plan_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.heading("Models");
    ui.add_enabled_ui(app.models.run.is_none(), |ui| {
        zoo_ui(ui, app);
        ui.separator();
        ui.label("Activations (every hidden layer)");
        activations_ui(
            ui,
            &mut app.state.models.activations,
            &mut app.models.params,
        );
        ui.separator();
        timing_ui(ui, app);
    });
    ui.separator();

    let dark = ui.visuals().dark_mode;
    let words = RunWords {
        run_hover: "Time every model × activation (Ctrl+R)",
        cancel_hover: "Stop within the current cell (Esc); finished cells are kept",
        unit: "cells",
        doing: "Measuring",
    };
    let elsewhere = app.models.run.is_none() && app.is_busy();
    let run = app.models.run.as_ref();
    run_controls_ui(ui, run, elsewhere, &words, Action::RunModels, actions);
    if let Some(notice) = &app.models.notice {
        ui.label(notice);
    }
    if let Some(error) = &app.models.error {
        ui.colored_label(theme::error(dark), displayable(error));
    }
    if let Some(error) = &app.messages.worker_error {
        ui.colored_label(theme::error(dark), error);
    }
}

/// A checkbox per zoo model, and the widths of `mlp-small`.
fn zoo_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let dark = ui.visuals().dark_mode;
    ui.label("Models (MLPerf Tiny shapes)");
    let settings = &mut app.state.models;
    for kind in ModelKind::ALL {
        let mut checked = settings.models.iter().any(|name| name == kind.name());
        if ui.checkbox(&mut checked, kind.name()).changed() {
            settings.models.retain(|name| name != kind.name());
            if checked {
                settings.models.push(kind.name().to_owned());
            }
        }
    }
    let tab = &mut app.models;
    let name = ui.label("mlp-small widths (input to output)");
    let field = egui::TextEdit::singleline(&mut tab.widths_text).hint_text("2, 64, 64, 64, 2");
    if ui.add(field).labelled_by(name.id).changed() {
        match parse_widths(&tab.widths_text) {
            Ok(widths) => {
                settings.mlp_widths = widths;
                tab.widths_error = None;
            }
            Err(error) => tab.widths_error = Some(error),
        }
    }
    if let Some(error) = &tab.widths_error {
        ui.colored_label(theme::error(dark), error);
    }
}

fn timing_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let settings = &mut app.state.models;
    egui::Grid::new("models-timing")
        .num_columns(2)
        .show(ui, |ui| {
            let name = ui.label("Batch (inputs per inference)");
            ui.add(egui::DragValue::new(&mut settings.batch).range(1..=MAX_BATCH))
                .labelled_by(name.id);
            ui.end_row();

            let name = ui.label("Warm-up per cell");
            let drag = egui::DragValue::new(&mut settings.warmup_ms)
                .range(0.0..=10_000.0)
                .suffix(" ms")
                .speed(5.0);
            ui.add(drag).labelled_by(name.id);
            ui.end_row();

            let name = ui.label("Min time per cell");
            let drag = egui::DragValue::new(&mut settings.min_time_ms)
                .range(MIN_TIME_RANGE_MS)
                .suffix(" ms")
                .speed(5.0);
            ui.add(drag)
                .labelled_by(name.id)
                .on_hover_text("After warm-up; the per-layer pass for the share adds half");
            ui.end_row();

            let name = ui.label("Seed");
            ui.add(egui::DragValue::new(&mut settings.seed))
                .labelled_by(name.id)
                .on_hover_text("Seeds the weights, the inputs (uniform in [−1, 1]) and the CI");
            ui.end_row();
        });
    ui.label(format!(
        "{} cells, about {:.1} s",
        settings.cells().len(),
        settings.estimated_duration().as_secs_f64()
    ));
}
