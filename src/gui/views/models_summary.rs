//! The model summary of the Models view: one zoo model's layers with their output shapes,
//! parameters and MACs, and the totals with the activation memory.

use crate::kernels::Activation;
use crate::models::ModelKind;

use super::super::app::ActprofApp;
use super::super::model::{displayable, format_bytes, format_count};
use super::super::theme;

/// The summary section: a model picker and the table of the chosen model.
pub fn summary_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let dark = ui.visuals().dark_mode;
    let settings = &mut app.state.models;
    let mut kind = settings
        .summary_model
        .parse::<ModelKind>()
        .unwrap_or(ModelKind::KwsDscnn);
    // egui puts a combo box's label after the box.
    egui::ComboBox::from_label("Model summary")
        .selected_text(kind.name())
        .show_ui(ui, |ui| {
            for choice in ModelKind::ALL {
                ui.selectable_value(&mut kind, choice, choice.name());
            }
        });
    settings.summary_model = kind.name().to_owned();
    let spec = settings.spec(kind);
    // Shown with the first activation of the panel; no number depends on it.
    let activation = settings
        .activations
        .first()
        .copied()
        .unwrap_or(Activation::Relu);

    let summary = match app.models.summary(&spec, activation) {
        Ok(summary) => summary,
        Err(error) => {
            ui.colored_label(
                theme::error(dark),
                format!("cannot build {kind}: {}", displayable(error)),
            );
            return;
        }
    };
    ui.label(format!(
        "{}: input {}, {} parameters, {} MACs per input, peak activation memory {} (f32, per \
         input)",
        summary.name,
        summary.input,
        format_count(summary.params as u64),
        format_count(summary.macs),
        format_bytes(summary.activation_bytes as u64),
    ));
    ui.weak(
        "Batch norm is folded into the weights before it; weights are seeded He/Glorot, and \
         latency does not depend on their values.",
    );
    let headers = ["#", "Layer", "Output shape", "Parameters", "MACs"];
    egui::Grid::new("model-summary")
        .striped(true)
        .num_columns(headers.len())
        .show(ui, |ui| {
            for header in headers {
                ui.strong(header);
            }
            ui.end_row();
            for row in &summary.rows {
                ui.label(row.index.to_string());
                ui.label(displayable(&row.layer));
                ui.label(row.output.to_string());
                ui.label(format_count(row.params as u64));
                ui.label(format_count(row.macs));
                ui.end_row();
            }
            ui.label("");
            ui.strong("total");
            ui.label("");
            ui.strong(format_count(summary.params as u64));
            ui.strong(format_count(summary.macs));
            ui.end_row();
        });
}
