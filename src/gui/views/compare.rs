//! The Compare view: a grouped bar chart of the chosen metric per activation and size with
//! error bars, and the verdict of each cell against a baseline report.
//!
//! Rows of several targets give a series per activation and target (`relu on local`), the
//! same colour per activation in a lighter shade per further target. Their key goes under
//! the chart as a table, activations across and targets down, with what each target's times
//! count (QEMU's instruction count for an emulated board): a legend of a dozen long names
//! inside the plot would cover the bars.

use egui_plot::{Bar, BarChart, Corner, GridMark, Legend, Line, Plot, PlotPoints};

use crate::report::Row;
use crate::report::compare::{Comparison, Verdict, compare};
use crate::report::row::activation_params;

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::model::{
    AxisScale, ErrorBars, Grid, Metric, activation_spec, dtype_suffixed, format_elements,
    format_ns, format_number,
};
use super::super::theme;
use super::{export_png_ui, metric_ui, no_results_ui};

/// Share of a size group's width taken by its bars (the rest separates groups).
const GROUP_FILL: f64 = 0.8;

/// Size of a series' colour swatch in the key of several targets, in points.
const SWATCH: egui::Vec2 = egui::vec2(30.0, 14.0);

/// The Compare tab.
pub fn compare_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        metric_ui(ui, &mut app.state.metric, &app.rows);
        // egui puts a combo box's label after it: separators keep each label with its box.
        ui.separator();
        egui::ComboBox::from_label("Error bars")
            .selected_text(app.state.error_bars.label())
            .show_ui(ui, |ui| {
                for bars in [ErrorBars::Ci95, ErrorBars::P5P95] {
                    ui.selectable_value(&mut app.state.error_bars, bars, bars.label());
                }
            });
        ui.separator();
        ui.label("Axis:");
        ui.selectable_value(&mut app.state.axis, AxisScale::Linear, "Linear");
        ui.selectable_value(&mut app.state.axis, AxisScale::Log, "Log");
    });
    export_png_ui(ui, app, actions);
    ui.separator();

    if app.rows.is_empty() {
        no_results_ui(ui, app);
    } else {
        // Leave room for the verdict table once a baseline is loaded.
        let share = if app.baseline.is_some() { 0.45 } else { 0.6 };
        let height = (ui.available_height() * share).max(220.0);
        let chart = chart_ui(ui, app, height);
        // The key of several targets belongs to the chart, in its PNG too.
        let key = series_key_ui(ui, app);
        app.chart_rect = Some(key.map_or(chart, |key| chart.union(key)));
    }
    ui.separator();
    baseline_ui(ui, app, actions);
}

/// The key of a chart of several targets: a swatch per activation (across) and target
/// (down), each target with what its times count. `None` with one target, whose chart has
/// its legend inside.
fn series_key_ui(ui: &mut egui::Ui, app: &ActprofApp) -> Option<egui::Rect> {
    let rows = &app.rows;
    let grid = Grid::of(rows);
    if !grid.has_several_targets() {
        return None;
    }
    let metric = app.state.metric;
    let dark = ui.visuals().dark_mode;
    let has_series = |activation: &str, target: usize| {
        grid.sizes.iter().any(|&elements| {
            grid.cell(rows, activation, target, elements)
                .and_then(|row| metric.value(row, rows))
                .is_some()
        })
    };
    let response = ui.vertical(|ui| {
        egui::ScrollArea::horizontal()
            .id_salt("compare-key")
            .show(ui, |ui| {
                egui::Grid::new("compare-key-grid")
                    .num_columns(grid.activations.len() + 2)
                    .show(ui, |ui| {
                        ui.weak("target \\ series");
                        for activation in &grid.activations {
                            ui.label(activation);
                        }
                        ui.weak("timing");
                        ui.end_row();
                        for (index, target) in grid.targets.iter().enumerate() {
                            ui.label(&target.name);
                            for (series, activation) in grid.activations.iter().enumerate() {
                                if has_series(activation, index) {
                                    let colour = theme::series_shade(series, index, dark);
                                    swatch_ui(ui, colour, &grid.on_target(activation, index));
                                } else {
                                    ui.weak("—");
                                }
                            }
                            let timing = target.timing.as_deref().unwrap_or("");
                            if target.is_emulated() {
                                ui.colored_label(theme::warning(dark), timing);
                            } else {
                                ui.weak(timing);
                            }
                            ui.end_row();
                        }
                    });
            });
        if app.state.axis == AxisScale::Linear {
            ui.weak("Targets' times differ by orders of magnitude: the Log axis shows them all.");
        }
    });
    Some(response.response.rect)
}

/// A series' colour, named for screen readers and on hover.
fn swatch_ui(ui: &mut egui::Ui, colour: egui::Color32, name: &str) {
    let (rect, response) = ui.allocate_exact_size(SWATCH, egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, colour);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, name));
    response.on_hover_text(name);
}

/// One bar with its interval, already in plot coordinates.
struct PlacedBar {
    x: f64,
    value: f64,
    interval: Option<(f64, f64)>,
    text: String,
}

fn chart_ui(ui: &mut egui::Ui, app: &ActprofApp, height: f32) -> egui::Rect {
    let metric = app.state.metric;
    let bars_kind = app.state.error_bars;
    let log = app.state.axis == AxisScale::Log;
    let rows = &app.rows;
    let grid = Grid::of(rows);
    let dark = ui.visuals().dark_mode;
    let targets = grid.targets.len().max(1);
    let width = GROUP_FILL / (grid.activations.len() * targets).max(1) as f64;

    // A series per activation and target, the targets of one activation side by side.
    let mut series: Vec<Series> = Vec::new();
    for (index, activation) in grid.activations.iter().enumerate() {
        for target in 0..grid.targets.len() {
            let slot = index * targets + target;
            let name = grid.on_target(activation, target);
            let bars: Vec<PlacedBar> = grid
                .sizes
                .iter()
                .enumerate()
                .filter_map(|(group, &elements)| {
                    let row = grid.cell(rows, activation, target, elements)?;
                    let value = metric.value(row, rows)?;
                    let interval = metric.interval(row, rows, bars_kind);
                    let x = group as f64 - GROUP_FILL / 2.0 + width * (slot as f64 + 0.5);
                    let text = bar_text(&name, elements, value, interval, metric, bars_kind);
                    Some(PlacedBar {
                        x,
                        value,
                        interval,
                        text,
                    })
                })
                .collect();
            if !bars.is_empty() {
                let colour = theme::series_shade(index, target, dark);
                series.push(Series { name, colour, bars });
            }
        }
    }

    // On a log axis the bars stand on the decade below the smallest value.
    let smallest = series
        .iter()
        .flat_map(|series| series.bars.iter().map(|bar| bar.value))
        .filter(|value| *value > 0.0)
        .fold(f64::INFINITY, f64::min);
    let floor = if log && smallest.is_finite() {
        smallest.log10().floor()
    } else {
        0.0
    };
    let to_plot = move |value: f64| {
        if log {
            value.max(f64::MIN_POSITIVE).log10()
        } else {
            value
        }
    };

    // Room above the tallest whisker for the legend (one target's, inside the plot).
    let tallest = series
        .iter()
        .flat_map(|series| {
            series
                .bars
                .iter()
                .map(|bar| bar.interval.map_or(bar.value, |(_, high)| high))
        })
        .fold(f64::NEG_INFINITY, f64::max);
    let headroom = if log {
        to_plot(tallest) + 0.5
    } else {
        tallest * 1.3
    };
    let groups = grid.sizes.len();
    let sizes = grid.sizes.clone();
    let x_formatter = move |mark: GridMark, _range: &std::ops::RangeInclusive<f64>| {
        let index = mark.value.round();
        let on_group = (mark.value - index).abs() < 1e-6 && index >= 0.0;
        sizes
            .get(index as usize)
            .filter(|_| on_group)
            .map(|&elements| format_elements(elements))
            .unwrap_or_default()
    };
    let y_formatter = move |mark: GridMark, _range: &std::ops::RangeInclusive<f64>| {
        if log {
            format_number(10f64.powf(mark.value))
        } else {
            format_number(mark.value)
        }
    };
    let y_label = if log {
        format!("{} (log scale)", metric.label())
    } else {
        metric.label().to_owned()
    };

    let mut plot = Plot::new("compare-bars").height(height);
    if !grid.has_several_targets() {
        plot = plot.legend(
            Legend::default()
                .position(Corner::LeftTop)
                .follow_insertion_order(true),
        );
    }
    let response = plot
        .include_y(headroom)
        .x_axis_label("Tensor length (elements)")
        .y_axis_label(y_label)
        .x_axis_formatter(x_formatter)
        .y_axis_formatter(y_formatter)
        .x_grid_spacer(move |_input| {
            (0..groups)
                .map(|group| GridMark {
                    value: group as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            for Series { name, colour, bars } in &series {
                let colour = *colour;
                let chart_bars = bars
                    .iter()
                    .map(|bar| {
                        Bar::new(bar.x, to_plot(bar.value) - floor)
                            .base_offset(floor)
                            .width(width * 0.9)
                            .name(&bar.text)
                            .fill(colour)
                    })
                    .collect();
                let chart = BarChart::new(name.clone(), chart_bars)
                    .color(colour)
                    .element_formatter(Box::new(|bar, _| bar.name.clone()));
                plot_ui.bar_chart(chart);
                for bar in bars {
                    if let Some((low, high)) = bar.interval {
                        let cap = width * 0.25;
                        let (low, high) = (to_plot(low), to_plot(high));
                        let points: PlotPoints<'_> = vec![
                            [bar.x - cap, low],
                            [bar.x + cap, low],
                            [bar.x, low],
                            [bar.x, high],
                            [bar.x - cap, high],
                            [bar.x + cap, high],
                        ]
                        .into();
                        // Unnamed: the legend lists activations, not their whiskers.
                        let whisker = Line::new("", points)
                            .color(ui_contrast(plot_ui.ctx()))
                            .width(1.5);
                        plot_ui.line(whisker);
                    }
                }
            }
        });
    response.response.rect
}

/// The bars of one activation on one target.
struct Series {
    /// The activation, and the target when there are several (`relu on local`).
    name: String,
    colour: egui::Color32,
    bars: Vec<PlacedBar>,
}

/// Error bars in the text colour so they stand out on every bar colour.
fn ui_contrast(ctx: &egui::Context) -> egui::Color32 {
    ctx.global_style().visuals.text_color()
}

fn bar_text(
    activation: &str,
    elements: u64,
    value: f64,
    interval: Option<(f64, f64)>,
    metric: Metric,
    bars: ErrorBars,
) -> String {
    let mut text = format!(
        "{activation} × {}\n{}",
        format_elements(elements),
        metric.format(value)
    );
    if let Some((low, high)) = interval {
        text.push_str(&format!(
            "\n{}: {} – {}",
            bars.label(),
            metric.format_bare(low),
            metric.format(high)
        ));
    }
    text
}

fn baseline_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        let name = ui.label("Noise threshold");
        let drag = egui::DragValue::new(&mut app.state.noise_pct)
            .range(0.0..=100.0)
            .suffix(" %")
            .speed(0.1);
        ui.add(drag)
            .labelled_by(name.id)
            .on_hover_text("Changes of the median smaller than this count as \"no change\"");
    });
    let chosen = file_button(
        ui,
        &mut app.dialogs,
        "Load baseline CSV",
        Purpose::LoadBaseline,
        &mut app.state.baseline_path,
    );
    actions.extend(chosen.map(|(purpose, path)| Action::Chosen(purpose, path)));
    if let Some(error) = &app.messages.baseline_error {
        ui.colored_label(theme::error(dark), error);
    }
    let Some(baseline) = &app.baseline else {
        ui.label("Load an earlier report to see, per cell, whether this run is faster or slower.");
        return;
    };
    ui.label(format!(
        "Baseline: {} ({} rows)",
        baseline.path.display(),
        baseline.rows.len()
    ));
    comparison_table_ui(ui, &app.rows, &baseline.rows, app.state.noise_pct, dark);
}

fn comparison_table_ui(
    ui: &mut egui::Ui,
    current: &[Row],
    baseline: &[Row],
    noise_pct: f64,
    dark: bool,
) {
    let report = match compare(baseline, current, noise_pct / 100.0) {
        Ok(report) => report,
        Err(error) => {
            ui.colored_label(theme::error(dark), error.to_string());
            return;
        }
    };
    ui.label(format!(
        "{} faster, {} slower, {} no change; {} cells only in the baseline, {} only in this run",
        report.count(Verdict::Faster),
        report.count(Verdict::Slower),
        report.count(Verdict::NoChange),
        report.only_in_base.len(),
        report.only_in_new.len(),
    ));
    if report.comparisons.is_empty() {
        ui.label(
            "No cell matches: cells match on activation, parameters, dtype, elements, threads \
             and target.",
        );
        return;
    }
    // Cells match on the target too; name it when the reports hold several.
    let mut targets: Vec<&str> = current
        .iter()
        .chain(baseline)
        .map(|r| r.target.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let with_target = targets.len() > 1;
    let mut headers = vec![
        "Activation",
        "Elements",
        "Threads",
        "Baseline median",
        "Current median",
        "Ratio (current / baseline)",
        "Change",
        "Verdict",
    ];
    if with_target {
        headers.insert(3, "Target");
    }
    egui::ScrollArea::vertical()
        .id_salt("comparison")
        .show(ui, |ui| {
            egui::Grid::new("comparison-table")
                .striped(true)
                .num_columns(headers.len())
                .show(ui, |ui| {
                    for header in headers {
                        ui.strong(header);
                    }
                    ui.end_row();
                    for comparison in &report.comparisons {
                        comparison_row_ui(ui, comparison, with_target, dark);
                    }
                });
        });
}

fn comparison_row_ui(ui: &mut egui::Ui, comparison: &Comparison, with_target: bool, dark: bool) {
    let key = &comparison.key;
    let label = activation_spec(&key.activation, &activation_params(&key.params));
    ui.label(dtype_suffixed(label, &key.dtype));
    ui.label(format_elements(key.elements));
    ui.label(key.threads.to_string());
    if with_target {
        ui.label(&key.target);
    }
    ui.label(format!("{} ns", format_ns(comparison.base_median_ns)));
    ui.label(format!("{} ns", format_ns(comparison.new_median_ns)));
    ui.label(format!("{:.3}×", comparison.ratio));
    ui.label(format!("{:+.1} %", comparison.change_pct));
    let colour = match comparison.verdict {
        Verdict::Faster => theme::faster(dark),
        Verdict::Slower => theme::slower(dark),
        Verdict::NoChange => theme::unchanged(dark),
    };
    ui.colored_label(colour, comparison.verdict.label());
    ui.end_row();
}
