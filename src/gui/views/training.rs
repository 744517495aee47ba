//! The Dying ReLU view: training loss and dead-unit fraction per epoch, one line per
//! activation × learning rate in two stacked plots sharing the epoch axis, and the final
//! numbers of every run.

use egui_plot::{Corner, Legend, Line, LineStyle, Plot, PlotPoints, uniform_grid_spacer};

use crate::kernels::Activation;
use crate::models::train::{DEAD_EPSILON, TrainRun};

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::model::format_number;
use super::super::theme;
use super::export_png_ui;

/// Least height of each plot, in points.
const MIN_PLOT_HEIGHT: f32 = 170.0;

/// The epoch axis reaches this many times the last epoch, leaving the legends a margin.
const LEGEND_ROOM: f64 = 1.35;

/// The legend entry and line name of a run: `leaky_relu:alpha=0.01 @ lr 0.5`.
pub fn series_name(run: &TrainRun) -> String {
    format!("{} @ lr {}", run.activation.spec(), run.learning_rate)
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

/// Solid for the first learning rate, dashed for the second, dotted after that.
fn style_of(rate_index: usize) -> LineStyle {
    match rate_index {
        0 => LineStyle::Solid,
        1 => LineStyle::dashed_loose(),
        _ => LineStyle::dotted_loose(),
    }
}

/// The Dying ReLU tab.
pub fn training_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    toolbar_ui(ui, app, actions);
    ui.separator();
    let runs = &app.training.runs;
    if runs.is_empty() {
        ui.label(if app.training.run.is_some() {
            "Training: the lines grow as each epoch finishes."
        } else {
            "No training yet: choose activations and learning rates on the left and press Run \
             (Ctrl+R)."
        });
        return;
    }

    let activations: Vec<Activation> = distinct(runs.iter().map(|run| run.activation));
    let rates: Vec<f32> = distinct(runs.iter().map(|run| run.learning_rate));
    let styles: Vec<String> = rates
        .iter()
        .enumerate()
        .map(|(index, rate)| {
            let style = ["solid", "dashed", "dotted"][index.min(2)];
            format!("{style} = lr {rate}")
        })
        .collect();
    ui.label(format!(
        "Per epoch (0 = before training); colour = activation, {}. A unit is dead when its \
         output and its slope stay ≤ {DEAD_EPSILON} for every training input.",
        styles.join(", ")
    ));
    let table_height = 60.0 + 22.0 * runs.len() as f32;
    let height = ((ui.available_height() - table_height - 30.0) / 2.0).max(MIN_PLOT_HEIGHT);
    let link = egui::Id::unique("training-epochs");
    // The legends sit right of the last epoch, where no line runs.
    let last_epoch = runs
        .iter()
        .filter_map(|run| run.records.last())
        .map(|record| record.epoch)
        .max()
        .unwrap_or(0);
    let x_max = (last_epoch as f64 * LEGEND_ROOM).max(1.0);
    let line_of = |run: &TrainRun, value: fn(f64, f64) -> f64| {
        let colour = activations
            .iter()
            .position(|activation| *activation == run.activation)
            .map_or(theme::series(0), theme::series);
        let rate = rates
            .iter()
            .position(|rate| *rate == run.learning_rate)
            .unwrap_or(0);
        let points: PlotPoints<'_> = run
            .records
            .iter()
            .map(|record| {
                [
                    record.epoch as f64,
                    value(record.loss, record.dead_fraction),
                ]
            })
            .collect::<Vec<_>>()
            .into();
        Line::new(series_name(run), points)
            .color(colour)
            .width(2.0)
            .style(style_of(rate))
    };

    let loss = Plot::new("training-loss")
        .height(height)
        .legend(legend())
        .x_axis_label("epoch")
        .y_axis_label("loss (cross-entropy, nats)")
        .include_x(0.0)
        .include_x(x_max)
        .include_y(0.0)
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .show(ui, |plot_ui| {
            for run in runs {
                plot_ui.line(line_of(run, |loss, _| loss));
            }
        });
    let dead = Plot::new("training-dead")
        .height(height)
        .legend(legend())
        .x_axis_label("epoch")
        .y_axis_label("dead units (%)")
        // Lines every 5 %, labels every 25 %: the range is always 0–100 %.
        .y_grid_spacer(uniform_grid_spacer(|_| [5.0, 25.0, 100.0]))
        .include_x(0.0)
        .include_x(x_max)
        .include_y(0.0)
        .include_y(100.0)
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .show(ui, |plot_ui| {
            for run in runs {
                plot_ui.line(line_of(run, |_, dead| 100.0 * dead));
            }
        });
    let mut chart = loss.response.rect.union(dead.response.rect);
    chart = chart.union(final_table_ui(ui, runs));
    app.chart_rect = Some(chart);
}

/// Legends in the top-right corner, away from the falling loss at the left.
fn legend() -> Legend {
    Legend::default()
        .position(Corner::RightTop)
        .follow_insertion_order(true)
}

fn toolbar_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        let chosen = file_button(
            ui,
            &mut app.dialogs,
            "Export epochs CSV",
            Purpose::ExportEpochs,
            &mut app.state.epochs_path,
        )
        .map(|(purpose, path)| Action::Chosen(purpose, path));
        actions.extend(chosen);
        ui.separator();
        export_png_ui(ui, app, actions);
    });
    if let Some(error) = &app.training.export_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(notice) = &app.training.export_notice {
        ui.label(notice);
    }
}

/// The last epoch of every run; returns the table's rectangle.
fn final_table_ui(ui: &mut egui::Ui, runs: &[TrainRun]) -> egui::Rect {
    let headers = [
        "Activation",
        "Learning rate",
        "Epochs",
        "Loss (nats)",
        "Accuracy",
        "Dead units",
        "Most dead at once",
        "Note",
    ];
    egui::Grid::new("training-final")
        .striped(true)
        .num_columns(headers.len())
        .show(ui, |ui| {
            for header in headers {
                ui.strong(header);
            }
            ui.end_row();
            for run in runs {
                let Some(last) = run.records.last() else {
                    continue;
                };
                let most = run
                    .records
                    .iter()
                    .map(|record| record.dead_fraction)
                    .fold(0.0, f64::max);
                let note = match (run.diverged_at, run.cancelled) {
                    (Some(epoch), _) => format!("diverged at epoch {epoch}"),
                    (None, true) => "cancelled".to_owned(),
                    (None, false) => String::new(),
                };
                ui.label(run.activation.spec());
                ui.label(run.learning_rate.to_string());
                ui.label(last.epoch.to_string());
                ui.label(format_number(last.loss));
                ui.label(format!("{:.1} %", 100.0 * last.accuracy));
                ui.label(format!("{:.1} %", 100.0 * last.dead_fraction));
                ui.label(format!("{:.1} %", 100.0 * most));
                ui.label(note);
                ui.end_row();
            }
        })
        .response
        .rect
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_named_by_activation_and_rate() {
        let run = TrainRun {
            activation: Activation::LeakyRelu { alpha: 0.01 },
            learning_rate: 0.5,
            records: Vec::new(),
            diverged_at: None,
            cancelled: false,
        };
        assert_eq!(series_name(&run), "leaky_relu:alpha=0.01 @ lr 0.5");
        assert_eq!(distinct([3, 1, 3, 2, 1].into_iter()), [3, 1, 2]);
    }
}
