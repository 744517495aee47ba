//! The Heatmap view: activations (one row per activation × dtype, `sigmoid (i8)`) × sizes,
//! coloured by the chosen metric, with the full statistics of a cell on hover.

use egui::{Align2, FontId, Rect, Sense, Stroke, pos2, vec2};

use crate::report::Row;

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::model::{Grid, Metric, format_elements, format_ns, format_number, quant_params};
use super::super::theme;
use super::{export_png_ui, metric_ui, no_results_ui};

/// Width of the activation-name column, in points.
const LABEL_WIDTH: f32 = 190.0;
/// Height of the size header, and the least height of each activation row, in points.
const ROW_HEIGHT: f32 = 30.0;
/// Rows grow up to this height when the window has room.
const MAX_ROW_HEIGHT: f32 = 56.0;
/// Colours switch to a log scale when the largest value is this many times the smallest.
const LOG_COLOUR_RATIO: f64 = 20.0;

/// The accessible label of a heatmap cell: `heatmap cell gelu 64k: 0.412 ns/element`.
pub fn cell_label(activation: &str, elements: u64, value: Option<f64>, metric: Metric) -> String {
    let shown = value.map_or_else(|| "not available".to_owned(), |value| metric.format(value));
    format!(
        "heatmap cell {activation} {}: {shown}",
        format_elements(elements)
    )
}

/// How values map to colours.
pub struct ColourScale {
    /// Smallest value, at the low end of the ramp.
    pub low: f64,
    /// Largest value, at the high end of the ramp.
    pub high: f64,
    /// Whether colours follow log10 of the values.
    pub log: bool,
}

impl ColourScale {
    /// The scale spanning `values`; `None` when none is finite.
    pub fn of(values: impl Iterator<Item = f64>) -> Option<Self> {
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(v), high.max(v))
        });
        if !low.is_finite() || !high.is_finite() {
            return None;
        }
        let log = low > 0.0 && high / low >= LOG_COLOUR_RATIO;
        Some(Self { low, high, log })
    }

    /// `log colour scale; lower is better` and the like, for legends.
    pub fn note(&self, higher_is_better: bool) -> String {
        let direction = if higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let mapping = if self.log {
            "log colour scale"
        } else {
            "linear colour scale"
        };
        format!("{mapping}; {direction}")
    }

    /// Where `value` falls between `low` (0) and `high` (1).
    pub fn fraction(&self, value: f64) -> f64 {
        let (value, low, high) = if self.log {
            (value.log10(), self.low.log10(), self.high.log10())
        } else {
            (value, self.low, self.high)
        };
        if high > low {
            (value - low) / (high - low)
        } else {
            0.5
        }
    }
}

/// What the heatmap shows: the grid, the metric value of each cell (row-major by
/// activation), and the colour scale spanning them.
pub struct HeatmapData {
    /// The metric the values are in.
    pub metric: Metric,
    /// Activations (rows) × sizes (columns).
    pub grid: Grid,
    /// `values[row][column]`; `None` where a cell was not measured.
    pub values: Vec<Vec<Option<f64>>>,
    /// Colours spanning the values.
    pub scale: ColourScale,
}

impl HeatmapData {
    /// The heatmap of `rows` for `metric`; `None` when no cell has a value.
    pub fn of(rows: &[Row], metric: Metric) -> Option<Self> {
        let grid = Grid::of(rows);
        let values: Vec<Vec<Option<f64>>> = grid
            .activations
            .iter()
            .map(|activation| {
                grid.sizes
                    .iter()
                    .map(|&size| {
                        grid.cell(rows, activation, size)
                            .and_then(|r| metric.value(r, rows))
                    })
                    .collect()
            })
            .collect();
        let scale = ColourScale::of(values.iter().flatten().flatten().copied())?;
        Some(Self {
            metric,
            grid,
            values,
            scale,
        })
    }

    /// What the colours mean, for legends.
    pub fn scale_note(&self) -> String {
        self.scale.note(self.metric.higher_is_better())
    }
}

/// The Heatmap tab.
pub fn heatmap_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        metric_ui(ui, &mut app.state.metric, &app.rows);
        ui.separator();
        export_png_ui(ui, app, actions);
        let chosen = file_button(
            ui,
            &mut app.dialogs,
            "Export SVG",
            Purpose::ExportSvg,
            &mut app.state.svg_path,
        );
        actions.extend(chosen.map(|(purpose, path)| Action::Chosen(purpose, path)));
    });
    ui.separator();
    if app.rows.is_empty() {
        no_results_ui(ui, app);
        return;
    }

    let metric = app.state.metric;
    let rows = &app.rows;
    let Some(data) = HeatmapData::of(rows, metric) else {
        ui.label(format!("No {} values in these results.", metric.unit()));
        return;
    };

    let chart = egui::ScrollArea::both()
        .show(ui, |ui| {
            ui.vertical(|ui| {
                let per = if rows.iter().any(|row| row.dtype != rows[0].dtype) {
                    "activation, dtype"
                } else {
                    "activation"
                };
                ui.label(format!("{} per {per} and tensor length", metric.label()));
                grid_ui(ui, &data, rows);
                ui.add_space(8.0);
                legend_ui(ui, &data);
                ui.weak("Hover a cell for its full statistics.");
            })
            .response
            .rect
        })
        .inner;
    app.chart_rect = Some(chart);
}

fn grid_ui(ui: &mut egui::Ui, data: &HeatmapData, rows: &[Row]) {
    let HeatmapData {
        metric,
        grid,
        values,
        scale,
    } = data;
    let metric = *metric;
    let columns = grid.sizes.len() as f32;
    let activations = grid.activations.len() as f32;
    let cell_width = ((ui.available_width() - LABEL_WIDTH) / columns).clamp(70.0, 170.0);
    // Keep room below the grid for the legend and the hint (about three rows).
    let cell_height = ((ui.available_height() - ROW_HEIGHT * 4.0) / activations)
        .clamp(ROW_HEIGHT, MAX_ROW_HEIGHT);
    let size = vec2(
        LABEL_WIDTH + cell_width * columns,
        ROW_HEIGHT + cell_height * activations,
    );
    let (area, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(area);
    let text_colour = ui.visuals().text_color();
    let font = FontId::proportional(13.0);
    let origin = area.min;

    painter.text(
        origin + vec2(4.0, ROW_HEIGHT / 2.0),
        Align2::LEFT_CENTER,
        "activation \\ elements",
        font.clone(),
        ui.visuals().weak_text_color(),
    );
    for (column, &elements) in grid.sizes.iter().enumerate() {
        let centre = origin
            + vec2(
                LABEL_WIDTH + cell_width * (column as f32 + 0.5),
                ROW_HEIGHT / 2.0,
            );
        painter.text(
            centre,
            Align2::CENTER_CENTER,
            format_elements(elements),
            font.clone(),
            text_colour,
        );
    }

    for (row_index, activation) in grid.activations.iter().enumerate() {
        let top = origin.y + ROW_HEIGHT + cell_height * row_index as f32;
        painter.text(
            pos2(origin.x + 4.0, top + cell_height / 2.0),
            Align2::LEFT_CENTER,
            activation,
            font.clone(),
            text_colour,
        );
        for (column, &elements) in grid.sizes.iter().enumerate() {
            let left = origin.x + LABEL_WIDTH + cell_width * column as f32;
            let rect =
                Rect::from_min_size(pos2(left, top), vec2(cell_width, cell_height)).shrink(1.0);
            let value = values[row_index][column];
            let fill = value.map_or(ui.visuals().faint_bg_color, |v| {
                theme::ramp(scale.fraction(v))
            });
            painter.rect_filled(rect, 2.0, fill);
            let text = value.map_or_else(|| "—".to_owned(), |v| metric.format_bare(v));
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                text,
                font.clone(),
                theme::text_on(fill),
            );

            let id = ui.scope_id().with(("heatmap-cell", row_index, column));
            let response = ui.interact(rect, id, Sense::hover());
            let label = cell_label(activation, elements, value, metric);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
            if response.hovered() {
                painter.rect_stroke(
                    rect,
                    2.0,
                    Stroke::new(2.0, text_colour),
                    egui::StrokeKind::Inside,
                );
            }
            let row = grid.cell(rows, activation, elements);
            response
                .on_hover_ui(|ui| cell_tooltip_ui(ui, activation, elements, row, value, metric));
        }
    }
}

fn cell_tooltip_ui(
    ui: &mut egui::Ui,
    activation: &str,
    elements: u64,
    row: Option<&Row>,
    value: Option<f64>,
    metric: Metric,
) {
    ui.strong(format!(
        "{activation} × {} ({elements} elements)",
        format_elements(elements)
    ));
    let Some(row) = row else {
        ui.label("Not measured.");
        return;
    };
    if let Some(value) = value {
        ui.label(format!("{}: {}", metric.label(), metric.format(value)));
    }
    let quant = quant_params(row);
    egui::Grid::new("cell-stats").num_columns(2).show(ui, |ui| {
        let mut line = |name: &str, text: String| {
            ui.label(name);
            ui.label(text);
            ui.end_row();
        };
        line("median", format!("{} ns/call", format_ns(row.median_ns)));
        line(
            "95% CI of median",
            format!(
                "{} – {} ns",
                format_ns(row.ci95_low_ns),
                format_ns(row.ci95_high_ns)
            ),
        );
        line("MAD (×1.4826)", format!("{} ns", format_ns(row.mad_ns)));
        line(
            "p5 / p95",
            format!("{} / {} ns", format_ns(row.p5_ns), format_ns(row.p95_ns)),
        );
        line(
            "outliers (Tukey)",
            format!("{} mild, {} severe", row.outliers_mild, row.outliers_severe),
        );
        line(
            "samples",
            format!("{} × {} calls", row.samples, row.iterations_per_sample),
        );
        line(
            "time per element",
            format!("{} ns", format_number(row.ns_per_element)),
        );
        line(
            "throughput",
            format!("{} Gelem/s", format_number(row.gelem_per_s)),
        );
        line("dtype", row.dtype.clone());
        if !quant.is_empty() {
            line("quantization", quant.replace(';', " "));
        }
        let end_to_end = if quant.is_empty() {
            ""
        } else {
            ", end to end over all 256 codes"
        };
        line(
            "max error",
            format!(
                "{} ULP ({} abs{end_to_end})",
                format_number(row.max_ulp_error),
                format_number(row.max_abs_error)
            ),
        );
        if let Some(lsb) = row.max_lsb_error {
            line("vs int8 definition", format!("{lsb} LSB"));
        }
        line("threads", row.threads.to_string());
    });
}

fn legend_ui(ui: &mut egui::Ui, data: &HeatmapData) {
    ramp_legend_ui(
        ui,
        &format!("Colour: {}", data.metric.unit()),
        &data.metric.format(data.scale.low),
        &data.metric.format(data.scale.high),
        &data.scale_note(),
    );
}

/// `title low [gradient] high (note)` on one line: the legend of a colour ramp.
pub fn ramp_legend_ui(ui: &mut egui::Ui, title: &str, low: &str, high: &str, note: &str) {
    /// Slices of the gradient bar.
    const STEPS: usize = 64;
    ui.horizontal(|ui| {
        ui.label(title);
        ui.label(low);
        let (rect, _) = ui.allocate_exact_size(vec2(220.0, 16.0), Sense::hover());
        let painter = ui.painter_at(rect);
        let step = rect.width() / STEPS as f32;
        for i in 0..STEPS {
            let slice = Rect::from_min_size(
                pos2(rect.min.x + step * i as f32, rect.min.y),
                vec2(step + 0.5, rect.height()),
            );
            painter.rect_filled(slice, 0.0, theme::ramp(i as f64 / (STEPS - 1) as f64));
        }
        ui.label(high);
        ui.weak(format!("({note})"));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scale_goes_log_for_wide_ranges() {
        let scale = ColourScale::of([1.0, 10.0, 100.0].into_iter()).expect("finite");
        assert!(scale.log);
        assert!((scale.fraction(10.0) - 0.5).abs() < 1e-12);
        let narrow = ColourScale::of([2.0, 4.0].into_iter()).expect("finite");
        assert!(!narrow.log);
        assert!((narrow.fraction(3.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn cell_label_names_activation_size_value_and_unit() {
        let label = cell_label("gelu", 65_536, Some(0.412), Metric::NsPerElement);
        assert_eq!(label, "heatmap cell gelu 64k: 0.412 ns/element");
    }
}
