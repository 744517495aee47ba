//! The Heatmap view: activations (one row per activation × dtype, `sigmoid (i8)`) × sizes,
//! coloured by the chosen metric, with the full statistics of a cell on hover.
//!
//! Rows from several targets (this CPU and a board) sit side by side: the columns are
//! grouped per target under a header naming it and what its times count. Each target has
//! its own colour scale and legend: a board's times are a thousand times the host's, and on
//! a shared scale every host cell would sit at one end of the ramp and every board cell at
//! the other, showing only that the board is slower. The numbers in the cells compare
//! across targets; the colours compare within one.

use egui::{Align2, FontId, Rect, Sense, Stroke, pos2, vec2};

use crate::report::Row;

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::model::{
    Grid, GridTarget, Metric, format_elements, format_ns, format_number, quant_params,
};
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
/// Height of the per-target header above the sizes, when there are several targets.
const TARGET_HEADER_HEIGHT: f32 = 38.0;
/// Space between the column groups of two targets, in points.
const GROUP_GAP: f32 = 12.0;

/// The accessible label of a heatmap cell: `heatmap cell gelu 64k: 0.412 ns/element`, or
/// with several targets `heatmap cell gelu 64k on local: 0.412 ns/element`.
pub fn cell_label(
    activation: &str,
    target: Option<&str>,
    elements: u64,
    value: Option<f64>,
    metric: Metric,
) -> String {
    let shown = value.map_or_else(|| "not available".to_owned(), |value| metric.format(value));
    let on = target.map_or_else(String::new, |target| format!(" on {target}"));
    format!(
        "heatmap cell {activation} {}{on}: {shown}",
        format_elements(elements)
    )
}

/// The accessible label of a target's column header: `heatmap target local: host
/// monotonic clock`.
pub fn target_label(target: &GridTarget) -> String {
    match &target.timing {
        Some(timing) => format!("heatmap target {}: {timing}", target.name),
        None => format!("heatmap target {}", target.name),
    }
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
/// activation), and the colour scale of each target.
pub struct HeatmapData {
    /// The metric the values are in.
    pub metric: Metric,
    /// Activations (rows) × target and size (columns, [`Grid::columns`]).
    pub grid: Grid,
    /// `values[row][column]`; `None` where a cell was not measured.
    pub values: Vec<Vec<Option<f64>>>,
    /// Colours spanning each target's values, in [`Grid::targets`] order; `None` for a
    /// target with no value of this metric.
    pub scales: Vec<Option<ColourScale>>,
}

impl HeatmapData {
    /// The heatmap of `rows` for `metric`; `None` when no cell has a value.
    pub fn of(rows: &[Row], metric: Metric) -> Option<Self> {
        let grid = Grid::of(rows);
        let values: Vec<Vec<Option<f64>>> = grid
            .activations
            .iter()
            .map(|activation| {
                grid.columns
                    .iter()
                    .map(|column| {
                        grid.cell(rows, activation, column.target, column.elements)
                            .and_then(|r| metric.value(r, rows))
                    })
                    .collect()
            })
            .collect();
        let scales: Vec<Option<ColourScale>> = (0..grid.targets.len())
            .map(|target| {
                let of_target = grid
                    .columns
                    .iter()
                    .enumerate()
                    .filter_map(|(index, c)| (c.target == target).then_some(index));
                let columns: Vec<usize> = of_target.collect();
                ColourScale::of(
                    values
                        .iter()
                        .flat_map(|row| columns.iter().filter_map(|&c| row[c])),
                )
            })
            .collect();
        scales.iter().any(Option::is_some).then_some(Self {
            metric,
            grid,
            values,
            scales,
        })
    }

    /// The colour of `value` in heatmap column `column` (on its target's scale).
    pub fn colour(&self, column: usize, value: f64) -> egui::Color32 {
        let target = self.grid.columns[column].target;
        let fraction = self.scales[target]
            .as_ref()
            .map_or(0.5, |scale| scale.fraction(value));
        theme::ramp(fraction)
    }

    /// What the colours of `scale` mean, for legends.
    pub fn scale_note(&self, scale: &ColourScale) -> String {
        let direction = if self.metric.higher_is_better() {
            "higher is better"
        } else {
            "lower is better"
        };
        let mapping = if scale.log {
            "log colour scale"
        } else {
            "linear colour scale"
        };
        format!("{mapping}; {direction}")
    }

    /// How the colours of several targets relate, for the legend's first line.
    pub fn targets_note(&self) -> String {
        format!(
            "Colour: {}, a scale per target (compare targets by the numbers, not the colours)",
            self.metric.unit()
        )
    }
}

/// Where a heatmap's columns go, in points from the left of the grid.
struct ColumnLayout {
    /// Left edge of each column (after the label column).
    lefts: Vec<f32>,
    /// Width of each column.
    widths: Vec<f32>,
    /// Each target's span: its first column's left edge and its last column's right edge.
    spans: Vec<(f32, f32)>,
}

impl ColumnLayout {
    /// `base` wide columns, each target's widened until its header fits in `needed[t]`.
    fn new(grid: &Grid, base: f32, needed: &[f32]) -> Self {
        let mut lefts = Vec::with_capacity(grid.columns.len());
        let mut widths = Vec::with_capacity(grid.columns.len());
        let mut spans = Vec::with_capacity(grid.targets.len());
        let mut x = LABEL_WIDTH;
        for (target, needed) in needed.iter().enumerate() {
            if target > 0 {
                x += GROUP_GAP;
            }
            let count = grid.columns.iter().filter(|c| c.target == target).count();
            let width = base.max(needed / count.max(1) as f32);
            let start = x;
            for _ in 0..count {
                lefts.push(x);
                widths.push(width);
                x += width;
            }
            spans.push((start, x));
        }
        Self {
            lefts,
            widths,
            spans,
        }
    }

    /// Right edge of the last column.
    fn right(&self) -> f32 {
        self.spans.last().map_or(LABEL_WIDTH, |span| span.1)
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
                let per = if data.grid.has_several_targets() {
                    format!("{per}, target")
                } else {
                    per.to_owned()
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
        ..
    } = data;
    let metric = *metric;
    let several = grid.has_several_targets();
    let text_colour = ui.visuals().text_color();
    let weak_colour = ui.visuals().weak_text_color();
    let font = FontId::proportional(13.0);

    let header_height = if several {
        TARGET_HEADER_HEIGHT + ROW_HEIGHT
    } else {
        ROW_HEIGHT
    };
    let gaps = GROUP_GAP * grid.targets.len().saturating_sub(1) as f32;
    let columns = grid.columns.len() as f32;
    let activations = grid.activations.len() as f32;
    let cell_width = ((ui.available_width() - LABEL_WIDTH - gaps) / columns).clamp(70.0, 170.0);
    // Keep room below the grid for the legend and the hint (about three rows, and one more
    // per target when each has its own legend line).
    let legend_rows = if several {
        grid.targets.len() as f32 + 1.0
    } else {
        0.0
    };
    let cell_height = ((ui.available_height() - header_height - ROW_HEIGHT * (3.0 + legend_rows))
        / activations)
        .clamp(ROW_HEIGHT, MAX_ROW_HEIGHT);
    // Each target's header is its name over its timing; its columns widen to hold it.
    let needed: Vec<f32> = if several {
        header_widths(ui, grid)
    } else {
        vec![0.0]
    };
    let layout = ColumnLayout::new(grid, cell_width, &needed);
    let size = vec2(layout.right(), header_height + cell_height * activations);
    let (area, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(area);
    let origin = area.min;

    if several {
        target_headers_ui(ui, &painter, origin, grid, &layout);
    }

    let sizes_top = header_height - ROW_HEIGHT;
    painter.text(
        origin + vec2(4.0, sizes_top + ROW_HEIGHT / 2.0),
        Align2::LEFT_CENTER,
        "activation \\ elements",
        font.clone(),
        weak_colour,
    );
    for (column, grid_column) in grid.columns.iter().enumerate() {
        let centre = origin
            + vec2(
                layout.lefts[column] + layout.widths[column] / 2.0,
                sizes_top + ROW_HEIGHT / 2.0,
            );
        painter.text(
            centre,
            Align2::CENTER_CENTER,
            format_elements(grid_column.elements),
            font.clone(),
            text_colour,
        );
    }

    for (row_index, activation) in grid.activations.iter().enumerate() {
        let top = origin.y + header_height + cell_height * row_index as f32;
        painter.text(
            pos2(origin.x + 4.0, top + cell_height / 2.0),
            Align2::LEFT_CENTER,
            activation,
            font.clone(),
            text_colour,
        );
        for (column, grid_column) in grid.columns.iter().enumerate() {
            let left = origin.x + layout.lefts[column];
            let rect =
                Rect::from_min_size(pos2(left, top), vec2(layout.widths[column], cell_height))
                    .shrink(1.0);
            let value = values[row_index][column];
            let fill = value.map_or(ui.visuals().faint_bg_color, |v| data.colour(column, v));
            painter.rect_filled(rect, 2.0, fill);
            let text = value.map_or_else(|| "—".to_owned(), |v| metric.format_bare(v));
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                text,
                font.clone(),
                theme::text_on(fill),
            );

            let target = &grid.targets[grid_column.target];
            let elements = grid_column.elements;
            let id = ui.scope_id().with(("heatmap-cell", row_index, column));
            let response = ui.interact(rect, id, Sense::hover());
            let named = several.then_some(target.name.as_str());
            let label = cell_label(activation, named, elements, value, metric);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
            if response.hovered() {
                painter.rect_stroke(
                    rect,
                    2.0,
                    Stroke::new(2.0, text_colour),
                    egui::StrokeKind::Inside,
                );
            }
            let row = grid.cell(rows, activation, grid_column.target, elements);
            let title = grid.on_target(activation, grid_column.target);
            response.on_hover_ui(|ui| cell_tooltip_ui(ui, &title, elements, row, value, metric));
        }
    }
}

/// Font of a target's name in its header; its timing goes under it a size smaller.
const TARGET_FONT_SIZE: f32 = 13.0;

/// The width each target's header needs: its name or its timing, whichever is wider.
fn header_widths(ui: &egui::Ui, grid: &Grid) -> Vec<f32> {
    let width = |text: &str, size: f32| {
        ui.painter()
            .layout_no_wrap(
                text.to_owned(),
                FontId::proportional(size),
                egui::Color32::WHITE,
            )
            .size()
            .x
    };
    grid.targets
        .iter()
        .map(|target| {
            let timing = target
                .timing
                .as_deref()
                .map_or(0.0, |t| width(t, TARGET_FONT_SIZE - 1.0));
            width(&target.name, TARGET_FONT_SIZE).max(timing) + 12.0
        })
        .collect()
}

/// Each target's name over its timing (an emulator's in the warning colour), centred on its
/// columns (from the grid's top left corner `origin`) with a rule under them; named for
/// screen readers.
fn target_headers_ui(
    ui: &egui::Ui,
    painter: &egui::Painter,
    origin: egui::Pos2,
    grid: &Grid,
    layout: &ColumnLayout,
) {
    let text_colour = ui.visuals().text_color();
    let weak_colour = ui.visuals().weak_text_color();
    let dark = ui.visuals().dark_mode;
    for (index, (target, span)) in grid.targets.iter().zip(&layout.spans).enumerate() {
        let rect = Rect::from_min_max(
            origin + vec2(span.0 + 1.0, 0.0),
            origin + vec2(span.1 - 1.0, TARGET_HEADER_HEIGHT - 2.0),
        );
        painter.text(
            pos2(rect.center().x, rect.min.y + 10.0),
            Align2::CENTER_CENTER,
            &target.name,
            FontId::proportional(TARGET_FONT_SIZE),
            text_colour,
        );
        if let Some(timing) = &target.timing {
            let colour = if target.is_emulated() {
                theme::warning(dark)
            } else {
                weak_colour
            };
            painter.text(
                pos2(rect.center().x, rect.min.y + 26.0),
                Align2::CENTER_CENTER,
                timing,
                FontId::proportional(TARGET_FONT_SIZE - 1.0),
                colour,
            );
        }
        painter.line_segment(
            [rect.left_bottom(), rect.right_bottom()],
            Stroke::new(1.0, weak_colour),
        );
        let id = ui.scope_id().with(("heatmap-target", index));
        let label = target_label(target);
        ui.interact(rect, id, Sense::hover())
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
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
        line("target", row.target.clone());
        if let Some(timing) = &row.timing {
            line("timing", timing.clone());
        }
        if let Some(cycles) = row.median_cycles_per_call {
            line(
                "median cycles",
                format!("{} per call", format_number(cycles)),
            );
        }
    });
}

fn legend_ui(ui: &mut egui::Ui, data: &HeatmapData) {
    let metric = data.metric;
    if !data.grid.has_several_targets() {
        let Some(scale) = data.scales.first().and_then(Option::as_ref) else {
            return;
        };
        ui.horizontal(|ui| {
            ui.label(format!("Colour: {}", metric.unit()));
            scale_ui(ui, data, scale);
        });
        return;
    }
    ui.label(data.targets_note());
    // A row per target, the gradients one under the other; what each target's times
    // count is in its column header.
    egui::Grid::new("heatmap-legend")
        .num_columns(5)
        .show(ui, |ui| {
            for (target, scale) in data.grid.targets.iter().zip(&data.scales) {
                ui.label(format!("{}:", target.name));
                match scale {
                    Some(scale) => scale_ui(ui, data, scale),
                    None => {
                        ui.weak(format!("no {} values", metric.unit()));
                    }
                }
                ui.end_row();
            }
        });
}

/// The low end, the gradient bar, the high end and what the colours mean, as four widgets
/// (in a row, or in a legend grid's columns).
fn scale_ui(ui: &mut egui::Ui, data: &HeatmapData, scale: &ColourScale) {
    /// Slices of the gradient bar.
    const STEPS: usize = 64;
    ui.label(data.metric.format(scale.low));
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
    ui.label(data.metric.format(scale.high));
    ui.weak(format!("({})", data.scale_note(scale)));
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
        let label = cell_label("gelu", None, 65_536, Some(0.412), Metric::NsPerElement);
        assert_eq!(label, "heatmap cell gelu 64k: 0.412 ns/element");
        let label = cell_label("gelu", Some("local"), 1024, None, Metric::NsPerElement);
        assert_eq!(label, "heatmap cell gelu 1k on local: not available");
    }

    #[test]
    fn each_target_gets_its_own_colour_scale() {
        use super::super::super::model::tests::row;
        let board = |activation: &str, median_ns: f64| Row {
            target: "board:test".to_owned(),
            ..row(activation, "", 1024, median_ns)
        };
        let rows = [
            row("relu", "", 1024, 50.0),
            row("tanh", "", 1024, 500.0),
            board("relu", 80_000.0),
            board("tanh", 800_000.0),
        ];
        let data = HeatmapData::of(&rows, Metric::NsPerCall).expect("values");
        let ranges: Vec<(f64, f64)> = data
            .scales
            .iter()
            .map(|scale| scale.as_ref().map(|s| (s.low, s.high)).expect("a scale"))
            .collect();
        assert_eq!(ranges, [(50.0, 500.0), (80_000.0, 800_000.0)]);
        // The fastest cell of each target takes the low end of the ramp, the slowest the
        // high end, whatever the other target's times.
        assert_eq!(data.colour(0, 50.0), theme::ramp(0.0));
        assert_eq!(data.colour(1, 800_000.0), theme::ramp(1.0));
        assert!(data.targets_note().contains("a scale per target"));
    }
}
