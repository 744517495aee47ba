//! The Models view: latency per inference as a model × activation heatmap (full statistics
//! on hover), the activation share per model × activation as bars, and the summary of one
//! model of the zoo.

use egui::{Align2, FontId, Rect, Sense, Stroke, pos2, vec2};

use crate::report::Row;

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::model::{activation_label, format_number};
use super::super::theme;
use super::export_png_ui;
use super::heatmap::{ColourScale, ramp_legend_ui};
use super::models_share::share_chart_ui;
use super::models_summary::summary_ui;

/// Width of the model-name column, in points.
const LABEL_WIDTH: f32 = 170.0;
/// Height of the activation header and of each model row, in points.
const ROW_HEIGHT: f32 = 34.0;
/// Height of the share chart, in points.
const SHARE_HEIGHT: f32 = 250.0;

/// The unit of latency per inference, one for the whole view, chosen by magnitude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyUnit {
    /// Microseconds per inference.
    Micros,
    /// Milliseconds per inference, once the slowest cell takes 1 ms or more.
    Millis,
}

impl LatencyUnit {
    /// The unit for a view whose slowest median is `largest_ns`.
    pub fn of(largest_ns: f64) -> Self {
        if largest_ns >= 1e6 {
            LatencyUnit::Millis
        } else {
            LatencyUnit::Micros
        }
    }

    /// `µs/inference` or `ms/inference`.
    pub fn label(self) -> &'static str {
        match self {
            LatencyUnit::Micros => "µs/inference",
            LatencyUnit::Millis => "ms/inference",
        }
    }

    /// `µs` or `ms`.
    pub fn symbol(self) -> &'static str {
        match self {
            LatencyUnit::Micros => "µs",
            LatencyUnit::Millis => "ms",
        }
    }

    /// `ns` in this unit.
    pub fn scale(self, ns: f64) -> f64 {
        match self {
            LatencyUnit::Micros => ns / 1e3,
            LatencyUnit::Millis => ns / 1e6,
        }
    }

    /// `ns` in this unit, three significant digits, without the unit.
    pub fn format_bare(self, ns: f64) -> String {
        format_number(self.scale(ns))
    }

    /// `ns` in this unit, with the unit.
    pub fn format(self, ns: f64) -> String {
        format!("{} {}", self.format_bare(ns), self.label())
    }

    /// `low – high` in this unit with the unit, with the digits it takes to tell the ends
    /// apart (at least three; a narrow confidence interval would otherwise read
    /// `134 – 134`).
    pub fn format_range(self, low_ns: f64, high_ns: f64) -> String {
        let (low, high) = (self.scale(low_ns), self.scale(high_ns));
        let magnitude = low.abs().max(high.abs());
        let width = (high - low).abs();
        if !(magnitude > 0.0 && width > 0.0 && magnitude.is_finite()) {
            return format!("{} – {}", self.format_bare(low_ns), self.format(high_ns));
        }
        let lead = magnitude.log10().floor();
        let digits = (lead - width.log10().floor() + 1.0).clamp(3.0, 7.0);
        let decimals = (digits - 1.0 - lead).max(0.0) as usize;
        format!("{low:.decimals$} – {high:.decimals$} {}", self.label())
    }
}

/// Model rows arranged as models (heatmap rows) × activations (columns), in first-seen
/// order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelGrid {
    /// Model labels: the model name, with the batch when the rows mix batches.
    pub models: Vec<String>,
    /// Activation labels as the CLI reads them (`leaky_relu:alpha=0.01`).
    pub activations: Vec<String>,
    several_batches: bool,
}

impl ModelGrid {
    /// The grid spanned by the model rows among `rows`.
    pub fn of(rows: &[Row]) -> Self {
        let first_batch = rows.iter().find_map(|row| row.batch);
        let several_batches = rows.iter().any(|row| row.batch != first_batch);
        let mut grid = Self {
            several_batches,
            ..Self::default()
        };
        for row in rows.iter().filter(|row| row.model.is_some()) {
            let model = grid.model_label(row);
            if !grid.models.contains(&model) {
                grid.models.push(model);
            }
            let activation = activation_label(row);
            if !grid.activations.contains(&activation) {
                grid.activations.push(activation);
            }
        }
        grid
    }

    /// `kws-dscnn`, or `kws-dscnn (batch 8)` when the rows mix batches.
    pub fn model_label(&self, row: &Row) -> String {
        let name = row.model.clone().unwrap_or_default();
        match row.batch {
            Some(batch) if self.several_batches => format!("{name} (batch {batch})"),
            _ => name,
        }
    }

    /// The first row of `model` × `activation`.
    pub fn cell<'r>(&self, rows: &'r [Row], model: &str, activation: &str) -> Option<&'r Row> {
        rows.iter().find(|row| {
            row.model.is_some()
                && self.model_label(row) == model
                && activation_label(row) == activation
        })
    }

    /// The batch of every row, when they share one.
    pub fn batch(&self, rows: &[Row]) -> Option<u64> {
        if self.several_batches {
            None
        } else {
            rows.iter().find_map(|row| row.batch)
        }
    }
}

/// The accessible label of a heatmap cell: `model cell kws-dscnn relu: 812 µs/inference`.
pub fn cell_label(
    model: &str,
    activation: &str,
    median_ns: Option<f64>,
    unit: LatencyUnit,
) -> String {
    let shown = median_ns.map_or_else(|| "not available".to_owned(), |ns| unit.format(ns));
    format!("model cell {model} {activation}: {shown}")
}

/// The Models tab.
pub fn models_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    toolbar_ui(ui, app, actions);
    ui.separator();
    let area = egui::ScrollArea::vertical()
        .id_salt("models-view")
        .show(ui, |ui| {
            results_ui(ui, app);
            ui.separator();
            summary_ui(ui, app);
        });
    // The part on screen: a PNG export takes what is visible.
    app.chart_rect = Some(area.inner_rect);
}

/// Export CSV (kernel and model rows) and PNG, and what became of the last export.
fn toolbar_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        let chosen = file_button(
            ui,
            &mut app.dialogs,
            "Export CSV",
            Purpose::ExportCsv,
            &mut app.state.csv_path,
        )
        .map(|(purpose, path)| Action::Chosen(purpose, path));
        actions.extend(chosen);
        ui.separator();
        export_png_ui(ui, app, actions);
    });
    ui.weak(
        "The CSV report holds the model rows after the kernel rows, as `actprof models --out`.",
    );
    if let Some(error) = &app.messages.report_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(notice) = &app.messages.report_notice {
        ui.label(notice);
    }
}

fn results_ui(ui: &mut egui::Ui, app: &ActprofApp) {
    let rows = &app.models.rows;
    if rows.is_empty() {
        ui.label(if app.models.run.is_some() {
            "Measuring: results appear here as each cell finishes."
        } else {
            "No model results yet: tick models and activations on the left and press Run \
             (Ctrl+R), or open a report of `actprof models` (Ctrl+O)."
        });
        return;
    }
    let grid = ModelGrid::of(rows);
    let largest = rows.iter().map(|row| row.median_ns).fold(0.0, f64::max);
    let unit = LatencyUnit::of(largest);
    let batch = grid.batch(rows).map_or_else(
        || "batches as labelled".to_owned(),
        |b| format!("batch {b}"),
    );
    ui.strong(format!(
        "Latency per inference ({}), median; {batch}, one thread",
        unit.label()
    ));
    heatmap_ui(ui, &grid, rows, unit);
    ui.weak("Hover a cell for its full statistics.");
    ui.add_space(10.0);

    ui.strong("Activation share (% of inference time spent in activation layers)");
    share_chart_ui(ui, &grid, rows, SHARE_HEIGHT);
    ui.weak(
        "How it is measured: after the timed samples, a separate profiled pass runs the same \
         inferences layer by layer, reading the clock around every layer (its cost \
         subtracted); the share is the activation layers' time over all layers' time. The \
         latency above comes from the timed samples, unperturbed by that pass.",
    );
}

fn heatmap_ui(ui: &mut egui::Ui, grid: &ModelGrid, rows: &[Row], unit: LatencyUnit) {
    let medians: Vec<Vec<Option<f64>>> = grid
        .models
        .iter()
        .map(|model| {
            grid.activations
                .iter()
                .map(|activation| {
                    let row = grid.cell(rows, model, activation)?;
                    row.median_ns.is_finite().then_some(row.median_ns)
                })
                .collect()
        })
        .collect();
    let Some(scale) = ColourScale::of(medians.iter().flatten().flatten().copied()) else {
        ui.label("No latency values in these results.");
        return;
    };

    let columns = grid.activations.len() as f32;
    let cell_width = ((ui.available_width() - LABEL_WIDTH) / columns).clamp(90.0, 190.0);
    let size = vec2(
        LABEL_WIDTH + cell_width * columns,
        ROW_HEIGHT * (1 + grid.models.len()) as f32,
    );
    let (area, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(area);
    let text_colour = ui.visuals().text_color();
    let font = FontId::proportional(13.0);
    let origin = area.min;
    painter.text(
        origin + vec2(4.0, ROW_HEIGHT / 2.0),
        Align2::LEFT_CENTER,
        "model \\ activation",
        font.clone(),
        ui.visuals().weak_text_color(),
    );
    for (column, activation) in grid.activations.iter().enumerate() {
        let x = LABEL_WIDTH + cell_width * (column as f32 + 0.5);
        painter.text(
            origin + vec2(x, ROW_HEIGHT / 2.0),
            Align2::CENTER_CENTER,
            activation,
            font.clone(),
            text_colour,
        );
    }

    for (row_index, model) in grid.models.iter().enumerate() {
        let top = origin.y + ROW_HEIGHT * (row_index + 1) as f32;
        painter.text(
            pos2(origin.x + 4.0, top + ROW_HEIGHT / 2.0),
            Align2::LEFT_CENTER,
            model,
            font.clone(),
            text_colour,
        );
        for (column, activation) in grid.activations.iter().enumerate() {
            let left = origin.x + LABEL_WIDTH + cell_width * column as f32;
            let rect =
                Rect::from_min_size(pos2(left, top), vec2(cell_width, ROW_HEIGHT)).shrink(1.0);
            let median = medians[row_index][column];
            let fill = median.map_or(ui.visuals().faint_bg_color, |ns| {
                theme::ramp(scale.fraction(ns))
            });
            painter.rect_filled(rect, 2.0, fill);
            let text = median.map_or_else(|| "—".to_owned(), |ns| unit.format_bare(ns));
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                text,
                font.clone(),
                theme::text_on(fill),
            );

            let id = ui.scope_id().with(("model-cell", row_index, column));
            let response = ui.interact(rect, id, Sense::hover());
            let label = cell_label(model, activation, median, unit);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
            if response.hovered() {
                let stroke = Stroke::new(2.0, text_colour);
                painter.rect_stroke(rect, 2.0, stroke, egui::StrokeKind::Inside);
            }
            let row = grid.cell(rows, model, activation);
            response.on_hover_ui(|ui| cell_tooltip_ui(ui, model, activation, row, unit));
        }
    }
    ramp_legend_ui(
        ui,
        &format!("Colour: {}", unit.label()),
        &unit.format(scale.low),
        &unit.format(scale.high),
        &scale.note(false),
    );
}

fn cell_tooltip_ui(
    ui: &mut egui::Ui,
    model: &str,
    activation: &str,
    row: Option<&Row>,
    unit: LatencyUnit,
) {
    ui.strong(format!("{model} × {activation}"));
    let Some(row) = row else {
        ui.label("Not measured.");
        return;
    };
    let batch = row.batch.unwrap_or(1).max(1);
    egui::Grid::new("model-cell-stats")
        .num_columns(2)
        .show(ui, |ui| {
            let mut line = |name: &str, text: String| {
                ui.label(name);
                ui.label(text);
                ui.end_row();
            };
            line("median", unit.format(row.median_ns));
            line(
                "95% CI of median",
                unit.format_range(row.ci95_low_ns, row.ci95_high_ns),
            );
            line("MAD (×1.4826)", unit.format(row.mad_ns));
            line(
                "p5 / p95",
                format!(
                    "{} / {}",
                    unit.format_bare(row.p5_ns),
                    unit.format(row.p95_ns)
                ),
            );
            line("mean", unit.format(row.mean_ns));
            line(
                "outliers (Tukey)",
                format!("{} mild, {} severe", row.outliers_mild, row.outliers_severe),
            );
            line(
                "samples",
                format!("{} × {} inferences", row.samples, row.iterations_per_sample),
            );
            let inputs = if batch == 1 { "input" } else { "inputs" };
            line("batch", format!("{batch} {inputs} per inference"));
            if batch > 1 {
                let per_input = unit.format_bare(row.median_ns / batch as f64);
                line(
                    "median per input",
                    format!("{per_input} {}/input", unit.symbol()),
                );
            }
            line(
                "throughput",
                format!(
                    "{} inputs/s",
                    format_number(batch as f64 * 1e9 / row.median_ns)
                ),
            );
            if let Some(share) = row.activation_share {
                line(
                    "activation share",
                    format!("{:.1} % of inference time", 100.0 * share),
                );
            }
            line(
                "activation kernel error",
                format!("max {} ULP", format_number(row.max_ulp_error)),
            );
            line("threads", row.threads.to_string());
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::model::tests::row;

    fn model_row(model: &str, activation: &str, batch: u64, median_ns: f64) -> Row {
        let mut row = row(activation, "", 10 * batch, median_ns);
        row.model = Some(model.to_owned());
        row.batch = Some(batch);
        row.activation_share = Some(0.25);
        row
    }

    #[test]
    fn the_unit_follows_the_slowest_cell() {
        assert_eq!(LatencyUnit::of(999_999.0), LatencyUnit::Micros);
        assert_eq!(LatencyUnit::of(1.2e6), LatencyUnit::Millis);
        assert_eq!(LatencyUnit::Millis.format(2_345_000.0), "2.35 ms/inference");
        assert_eq!(LatencyUnit::Micros.format(3_120.0), "3.12 µs/inference");
        let ci = LatencyUnit::Micros.format_range(133_620.0, 134_420.0);
        assert_eq!(ci, "133.6 – 134.4 µs/inference");
        let ci = LatencyUnit::Millis.format_range(2_000_000.0, 3_000_000.0);
        assert_eq!(ci, "2.00 – 3.00 ms/inference");
        let label = cell_label("mlp-small", "relu", Some(3_120.0), LatencyUnit::Micros);
        assert_eq!(label, "model cell mlp-small relu: 3.12 µs/inference");
    }

    #[test]
    fn grid_is_models_by_activations_and_names_mixed_batches() {
        let rows = vec![
            model_row("kws-dscnn", "relu", 1, 1e6),
            model_row("kws-dscnn", "tanh", 1, 2e6),
            model_row("mlp-small", "relu", 1, 3e3),
        ];
        let grid = ModelGrid::of(&rows);
        assert_eq!(grid.models, ["kws-dscnn", "mlp-small"]);
        assert_eq!(grid.activations, ["relu", "tanh"]);
        assert_eq!(grid.batch(&rows), Some(1));
        let cell = grid.cell(&rows, "kws-dscnn", "tanh").expect("measured");
        assert_eq!(cell.median_ns, 2e6);
        assert!(grid.cell(&rows, "mlp-small", "tanh").is_none());

        let mixed = vec![
            model_row("kws-dscnn", "relu", 1, 1e6),
            model_row("kws-dscnn", "relu", 8, 5e6),
        ];
        let grid = ModelGrid::of(&mixed);
        assert_eq!(grid.models, ["kws-dscnn (batch 1)", "kws-dscnn (batch 8)"]);
        assert_eq!(grid.batch(&mixed), None);
    }
}
