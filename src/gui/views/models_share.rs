//! The activation-share bars of the Models view: one group per model, one bar per
//! activation, in percent of inference time. Each bar is also a widget with an accessible
//! label and its own tooltip.

use egui::Sense;
use egui_plot::{Bar, BarChart, Corner, GridMark, Legend, Plot, PlotPoint};

use crate::report::Row;

use super::super::theme;
use super::models::ModelGrid;

/// Share of a model group's width taken by its bars (the rest separates groups).
const GROUP_FILL: f64 = 0.8;

/// One bar in plot coordinates: `x` its centre, `percent` its height.
struct ShareBar {
    x: f64,
    percent: f64,
    model: String,
    activation: String,
}

impl ShareBar {
    fn text(&self) -> String {
        format!(
            "{} × {}\n{:.1} % of inference time in activation layers",
            self.model, self.activation, self.percent
        )
    }
}

/// The accessible label of a bar: `share bar kws-dscnn relu: 23.4 %`.
pub fn bar_label(model: &str, activation: &str, percent: f64) -> String {
    format!("share bar {model} {activation}: {percent:.1} %")
}

/// Draws the bars of `rows` laid out by `grid`, `height` points tall.
pub fn share_chart_ui(ui: &mut egui::Ui, grid: &ModelGrid, rows: &[Row], height: f32) {
    let width = GROUP_FILL / grid.activations.len().max(1) as f64;
    let series: Vec<Vec<ShareBar>> = grid
        .activations
        .iter()
        .enumerate()
        .map(|(index, activation)| {
            grid.models
                .iter()
                .enumerate()
                .filter_map(|(group, model)| {
                    let share = grid.cell(rows, model, activation)?.activation_share?;
                    Some(ShareBar {
                        x: group as f64 - GROUP_FILL / 2.0 + width * (index as f64 + 0.5),
                        percent: 100.0 * share,
                        model: model.clone(),
                        activation: activation.clone(),
                    })
                })
                .collect()
        })
        .collect();
    if series.iter().all(Vec::is_empty) {
        ui.label("These results have no activation share (a kernel report, or an older one).");
        return;
    }

    let tallest = series
        .iter()
        .flatten()
        .map(|bar| bar.percent)
        .fold(0.0, f64::max);
    let models = grid.models.clone();
    let groups = models.len();
    let x_formatter = move |mark: GridMark, _range: &std::ops::RangeInclusive<f64>| {
        let index = mark.value.round();
        let on_group = (mark.value - index).abs() < 1e-6 && index >= 0.0;
        models
            .get(index as usize)
            .filter(|_| on_group)
            .cloned()
            .unwrap_or_default()
    };
    let response = Plot::new("models-share")
        .height(height)
        .legend(
            Legend::default()
                .position(Corner::LeftTop)
                .follow_insertion_order(true),
        )
        // Room above the tallest bar for the legend.
        .include_y(0.0)
        .include_y((tallest * 1.4).clamp(10.0, 100.0))
        .x_axis_label("model")
        .y_axis_label("activation share (% of inference time)")
        .x_axis_formatter(x_formatter)
        .y_axis_formatter(|mark, _range| format!("{} %", mark.value))
        .x_grid_spacer(move |_input| {
            (0..groups)
                .map(|group| GridMark {
                    value: group as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .show_y(false)
        .show_crosshair(false)
        .show(ui, |plot_ui| {
            for (index, bars) in series.iter().enumerate() {
                let colour = theme::series(index);
                let chart_bars = bars
                    .iter()
                    .map(|bar| Bar::new(bar.x, bar.percent).width(width * 0.9).fill(colour))
                    .collect();
                // The bar widgets below show the tooltips; the plot's own would repeat them.
                let chart = BarChart::new(grid.activations[index].clone(), chart_bars)
                    .color(colour)
                    .allow_hover(false);
                plot_ui.bar_chart(chart);
            }
        });

    // Each bar as a widget: screen readers and tests find it by label, and its tooltip
    // takes over from the plot's.
    let transform = response.transform;
    for (index, bar) in series.iter().flatten().enumerate() {
        let rect = transform.rect_from_values(
            &PlotPoint::new(bar.x - width * 0.45, 0.0),
            &PlotPoint::new(bar.x + width * 0.45, bar.percent),
        );
        let id = response.response.id.with(("share-bar", index));
        let bar_response = ui.interact(rect, id, Sense::hover());
        let label = bar_label(&bar.model, &bar.activation, bar.percent);
        bar_response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
        bar_response.on_hover_text(bar.text());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_label_names_model_activation_and_percent() {
        assert_eq!(
            bar_label("kws-dscnn", "relu", 23.44),
            "share bar kws-dscnn relu: 23.4 %"
        );
    }
}
