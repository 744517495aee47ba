//! The Dying ReLU tab's side panel: activations, the normal and the high learning rate,
//! epochs and seed; Run.

use crate::models::train::TrainConfig;

use super::super::app::{Action, ActprofApp};
use super::super::theme;
use super::activations::activations_ui;
use super::run::{RunWords, run_controls_ui};

/// Most epochs per run the panel offers.
const MAX_EPOCHS: usize = 10_000;

/// Learning rates the panel offers.
const LR_RANGE: std::ops::RangeInclusive<f32> = 1e-4..=10.0;

/// The side panel of the Dying ReLU tab.
pub fn training_plan_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.heading("Dying ReLU");
    ui.label(setup_text(&app.state.training.config()));
    ui.add_enabled_ui(app.training.run.is_none(), |ui| {
        ui.separator();
        ui.label("Activations (every hidden layer)");
        activations_ui(
            ui,
            &mut app.state.training.activations,
            &mut app.training.params,
        );
        ui.separator();
        settings_ui(ui, app);
    });
    ui.separator();

    let dark = ui.visuals().dark_mode;
    let words = RunWords {
        run_hover: "Train every activation at each ticked learning rate (Ctrl+R)",
        cancel_hover: "Stop after the current epoch (Esc); the epochs trained are kept",
        unit: "epochs",
        doing: "Training",
    };
    let elsewhere = app.training.run.is_none() && app.is_busy();
    let run = app.training.run.as_ref();
    run_controls_ui(ui, run, elsewhere, &words, Action::RunTraining, actions);
    if let Some(notice) = &app.training.notice {
        ui.label(notice);
    }
    if let Some(error) = &app.training.error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(error) = &app.messages.worker_error {
        ui.colored_label(theme::error(dark), error);
    }
}

/// What one run does, from the engine's settings.
fn setup_text(config: &TrainConfig) -> String {
    let widths: Vec<String> = config.widths.iter().map(ToString::to_string).collect();
    format!(
        "Trains mlp-small (widths {}) on two spirals ({} points each) with SGD, momentum {}, \
         batches of {}; one run per activation × learning rate.",
        widths.join(", "),
        config.points_per_class,
        config.momentum,
        config.batch_size
    )
}

fn settings_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let settings = &mut app.state.training;
    egui::Grid::new("training-settings")
        .num_columns(2)
        .show(ui, |ui| {
            let name = ui.checkbox(&mut settings.use_normal_lr, "Normal learning rate");
            let drag = egui::DragValue::new(&mut settings.normal_lr)
                .range(LR_RANGE)
                .speed(0.001);
            ui.add(drag)
                .labelled_by(name.id)
                .on_hover_text("Learning rate of the normal runs");
            ui.end_row();

            let name = ui.checkbox(&mut settings.use_high_lr, "High learning rate");
            let drag = egui::DragValue::new(&mut settings.high_lr)
                .range(LR_RANGE)
                .speed(0.01);
            ui.add(drag)
                .labelled_by(name.id)
                .on_hover_text("Learning rate of the deliberately high runs");
            ui.end_row();

            let name = ui.label("Epochs");
            ui.add(egui::DragValue::new(&mut settings.epochs).range(1..=MAX_EPOCHS))
                .labelled_by(name.id);
            ui.end_row();

            let name = ui.label("Seed");
            ui.add(egui::DragValue::new(&mut settings.seed))
                .labelled_by(name.id)
                .on_hover_text("Seeds the data, the weights and the shuffling");
            ui.end_row();
        });
    ui.label(format!(
        "{} runs, {} epochs",
        settings.activations.len() * settings.learning_rates().len(),
        settings.total_epochs()
    ));
}
