//! The Functions view: f(x) and f'(x) of the plan's activations, and the error of our f32
//! kernel against the f64 reference on the same x range, computed on the spot.

use egui_plot::{Corner, HoverPosition, Legend, Line, LineStyle, Plot, PlotPoint, Points};

use crate::kernels::ulp::ulp_error;
use crate::kernels::{self, Activation, reference};

use super::super::app::{Action, ActprofApp};
use super::super::model::format_number;
use super::super::state::{ErrorUnit, FunctionsState};
use super::super::theme;
use super::export_png_ui;

/// Points per curve: fine enough to show the kinks and the error texture on a wide window.
const POINTS: usize = 2001;

/// Narrowest x range the view accepts.
const MIN_SPAN: f64 = 1e-3;

/// Curves of one activation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curves {
    /// The activation's spec (`leaky_relu:alpha=0.01`).
    pub label: String,
    /// f(x) from the f64 reference.
    pub value: Vec<PlotPoint>,
    /// f'(x) from the f64 reference.
    pub derivative: Vec<PlotPoint>,
    /// Error of the f32 kernel in ULP of the exact value.
    pub ulp_error: Vec<PlotPoint>,
    /// `|kernel − reference|`.
    pub abs_error: Vec<PlotPoint>,
}

/// Curves for the last activations and range asked for; recomputed only when they change.
#[derive(Clone, Debug, Default)]
pub struct FunctionsCache {
    key: Option<(Vec<Activation>, f64, f64)>,
    curves: Vec<Curves>,
}

impl FunctionsCache {
    /// The curves of `activations` over `[x_min, x_max]`.
    pub fn curves(&mut self, activations: &[Activation], x_min: f64, x_max: f64) -> &[Curves] {
        let key = (activations.to_vec(), x_min, x_max);
        if self.key.as_ref() != Some(&key) {
            self.curves = activations
                .iter()
                .map(|&a| compute(a, x_min, x_max))
                .collect();
            self.key = Some(key);
        }
        &self.curves
    }
}

/// Samples `activation` on an even f32 grid over `[x_min, x_max]`: the f64 reference and
/// its derivative, and the error of the f32 kernel against the reference.
pub fn compute(activation: Activation, x_min: f64, x_max: f64) -> Curves {
    let step = (x_max - x_min) / (POINTS - 1) as f64;
    let xs: Vec<f32> = (0..POINTS)
        .map(|i| (x_min + step * i as f64) as f32)
        .collect();
    let mut kernel = vec![0.0_f32; xs.len()];
    kernels::apply(activation, &xs, &mut kernel);

    let mut curves = Curves {
        label: activation.spec(),
        ..Curves::default()
    };
    for (&x, &got) in xs.iter().zip(&kernel) {
        let x = f64::from(x);
        let exact = reference::eval(activation, x);
        curves.value.push(PlotPoint::new(x, exact));
        curves
            .derivative
            .push(PlotPoint::new(x, reference::derivative(activation, x)));
        curves
            .ulp_error
            .push(PlotPoint::new(x, ulp_error(got, exact)));
        curves
            .abs_error
            .push(PlotPoint::new(x, (f64::from(got) - exact).abs()));
    }
    curves
}

/// The Functions tab.
pub fn functions_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    range_ui(ui, &mut app.state.functions);
    export_png_ui(ui, app, actions);
    ui.separator();

    let settings = app.state.functions.clone();
    if app.state.plan.activations.is_empty() {
        ui.label("Tick at least one activation in the plan to plot it.");
        return;
    }
    let curves =
        app.functions_cache
            .curves(&app.state.plan.activations, settings.x_min, settings.x_max);
    let link = egui::Id::unique("functions-x");
    let half = ((ui.available_height() - 40.0) / 2.0).max(150.0);

    ui.label("f(x) (solid) and f'(x) (dashed), f64 reference");
    let top = Plot::new("functions-values")
        .height(half)
        .legend(legend())
        .x_axis_label("x")
        .y_axis_label("f(x), f'(x)")
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .label_formatter(|hover| readout(hover, "y"))
        .show(ui, |plot_ui| {
            for (index, curve) in curves.iter().enumerate() {
                let colour = theme::series(index);
                plot_ui.line(
                    Line::new(curve.label.clone(), curve.value.as_slice())
                        .color(colour)
                        .width(2.0),
                );
                if settings.show_derivative {
                    // Same name as f(x): one legend entry shows or hides both curves.
                    let line = Line::new(curve.label.clone(), curve.derivative.as_slice())
                        .color(colour)
                        .style(LineStyle::dashed_dense());
                    plot_ui.line(line);
                }
            }
        });

    let (unit, axis) = match settings.error_unit {
        ErrorUnit::Ulp => ("ULP", "|kernel − reference| (ULP of f32)"),
        ErrorUnit::Absolute => ("abs", "|kernel − reference| (absolute)"),
    };
    ui.label(format!(
        "Error of the f32 kernel vs the f64 reference, in {unit}"
    ));
    let bottom = Plot::new("functions-error")
        .height(half)
        .legend(legend())
        .x_axis_label("x")
        .y_axis_label(axis)
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .label_formatter(move |hover| readout(hover, unit))
        .show(ui, |plot_ui| {
            for (index, curve) in curves.iter().enumerate() {
                let points = match settings.error_unit {
                    ErrorUnit::Ulp => curve.ulp_error.as_slice(),
                    ErrorUnit::Absolute => curve.abs_error.as_slice(),
                };
                // Dots, not lines: the error jumps between neighbouring inputs, and lines
                // would paint a solid block over the other activations.
                let largest = points.iter().map(|point| point.y).fold(0.0, f64::max);
                let name = format!("{} (max {} {unit})", curve.label, format_number(largest));
                let dots = Points::new(name, points)
                    .color(theme::series(index))
                    .radius(1.5);
                plot_ui.points(dots);
            }
        });
    app.chart_rect = Some(top.response.rect.union(bottom.response.rect));
}

/// Legends in the top-left corner, in the plan's order.
fn legend() -> Legend {
    Legend::default()
        .position(Corner::LeftTop)
        .follow_insertion_order(true)
}

fn range_ui(ui: &mut egui::Ui, settings: &mut FunctionsState) {
    ui.horizontal_wrapped(|ui| {
        let name = ui.label("x from");
        let max = settings.x_max - MIN_SPAN;
        let drag = egui::DragValue::new(&mut settings.x_min)
            .range(-1000.0..=max)
            .speed(0.1);
        ui.add(drag).labelled_by(name.id);
        let name = ui.label("to");
        let min = settings.x_min + MIN_SPAN;
        let drag = egui::DragValue::new(&mut settings.x_max)
            .range(min..=1000.0)
            .speed(0.1);
        ui.add(drag).labelled_by(name.id);
        ui.checkbox(&mut settings.show_derivative, "Show f'(x)");
        ui.separator();
        ui.label("Error in:");
        ui.selectable_value(&mut settings.error_unit, ErrorUnit::Ulp, "ULP");
        ui.selectable_value(&mut settings.error_unit, ErrorUnit::Absolute, "Absolute");
    });
}

/// Hover text: the curve, x and its value.
fn readout(hover: &HoverPosition<'_>, unit: &str) -> Option<String> {
    match hover {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => Some(format!(
            "{plot_name}\nx = {}\n{unit} = {}",
            format_number(position.x),
            format_number(position.y)
        )),
        HoverPosition::Elsewhere { position } => Some(format!(
            "x = {}\ny = {}",
            format_number(position.x),
            format_number(position.y)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_curves_follow_the_definition() {
        let curves = compute(Activation::Relu, -2.0, 2.0);
        assert_eq!(curves.value.len(), POINTS);
        for (value, slope) in curves.value.iter().zip(&curves.derivative) {
            assert_eq!(value.y, value.x.max(0.0));
            assert_eq!(slope.y, if value.x > 0.0 { 1.0 } else { 0.0 });
        }
        // ReLU is exact in f32.
        assert!(curves.abs_error.iter().all(|point| point.y == 0.0));
    }

    #[test]
    fn cache_recomputes_only_when_the_range_changes() {
        let mut cache = FunctionsCache::default();
        let first = cache.curves(&[Activation::Tanh], -1.0, 1.0).to_vec();
        assert_eq!(
            cache.curves(&[Activation::Tanh], -1.0, 1.0),
            first.as_slice()
        );
        let wider = cache.curves(&[Activation::Tanh], -2.0, 2.0);
        assert_eq!(wider[0].value[0].x, -2.0);
    }
}
