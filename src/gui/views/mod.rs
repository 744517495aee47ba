//! The main-area views, one per tab, and the controls they share.

pub mod compare;
pub mod functions;
pub mod heatmap;
pub mod heatmap_svg;
pub mod models;
pub mod models_share;
pub mod models_summary;
pub mod power;
pub mod report;
pub mod training;

use super::app::{Action, ActprofApp};
use super::dialogs::{Purpose, file_button};
use super::model::Metric;
use super::theme;

/// The metric picker shared by the Heatmap and Compare views; energy metrics are offered
/// only when the results have energy.
fn metric_ui(ui: &mut egui::Ui, metric: &mut Metric, rows: &[crate::report::Row]) {
    let available = Metric::available(rows);
    if !available.contains(metric) {
        *metric = Metric::default();
    }
    egui::ComboBox::from_label("Metric")
        .selected_text(metric.label())
        .show_ui(ui, |ui| {
            for choice in available {
                ui.selectable_value(metric, choice, choice.label());
            }
        });
}

/// "Export PNG" with its path, and the outcome of the last export.
fn export_png_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    let chosen = file_button(
        ui,
        &mut app.dialogs,
        "Export PNG",
        Purpose::ExportPng,
        &mut app.state.png_path,
    );
    actions.extend(chosen.map(|(purpose, path)| Action::Chosen(purpose, path)));
    if let Some(error) = &app.messages.chart_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(notice) = &app.messages.chart_notice {
        ui.label(notice);
    }
}

/// What a view shows before any results exist.
fn no_results_ui(ui: &mut egui::Ui, app: &ActprofApp) {
    let text = if app.is_running() {
        "Measuring: results appear here as each cell finishes."
    } else {
        "No results yet: press Run (Ctrl+R) or open a CSV report (Ctrl+O)."
    };
    ui.label(text);
}
