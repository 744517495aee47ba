//! The Functions view: f(x) and f'(x) of the plan's activations, and the error of our f32
//! kernel against the f64 reference on the same x range, computed on the spot.
//!
//! When the plan includes a quantized dtype, each activation also gets its int8 staircase:
//! the dequantized output of the quantized kernel (default quantization) for every input
//! code, held over the inputs that round to that code, and, in the Absolute error plot,
//! its real-units error `|dequant(q_out) − f(dequant(q_in))|` at each code. i8 and u8 have
//! the same staircase (their default quantizations differ by a shift of 128 codes on both
//! sides), so i8 is drawn when both are planned.

use egui_plot::{Corner, HoverPosition, Legend, Line, LineStyle, Plot, PlotPoint, Points};

use crate::kernels::int8::{DType, QuantDType, QuantizedKernel, default_quant};
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
    /// The quantized kernel's curves, when a quantized dtype is planned.
    pub quantized: Option<QuantCurves>,
}

/// The staircase of a quantized kernel and its real-units error.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantCurves {
    /// The dtype drawn.
    pub dtype: QuantDType,
    /// Corner points of the staircase: each code's dequantized output, from halfway to the
    /// previous input code to halfway to the next one, inside the plotted range.
    pub staircase: Vec<PlotPoint>,
    /// `|dequant(q_out) − f(dequant(q_in))|` at each input code inside the plotted range.
    pub abs_error: Vec<PlotPoint>,
    /// The largest of those errors over all 256 codes, in the activation's units.
    pub max_abs_error: f64,
}

/// Curves for the last activations and range asked for; recomputed only when they change.
#[derive(Clone, Debug, Default)]
pub struct FunctionsCache {
    key: Option<(Vec<Activation>, f64, f64, Option<QuantDType>)>,
    curves: Vec<Curves>,
}

impl FunctionsCache {
    /// The curves of `activations` over `[x_min, x_max]`, with the staircase of `quantized`
    /// when given.
    pub fn curves(
        &mut self,
        activations: &[Activation],
        x_min: f64,
        x_max: f64,
        quantized: Option<QuantDType>,
    ) -> &[Curves] {
        let key = (activations.to_vec(), x_min, x_max, quantized);
        if self.key.as_ref() != Some(&key) {
            self.curves = activations
                .iter()
                .map(|&a| {
                    let mut curves = compute(a, x_min, x_max);
                    curves.quantized =
                        quantized.and_then(|d| compute_quantized(a, d, x_min, x_max));
                    curves
                })
                .collect();
            self.key = Some(key);
        }
        &self.curves
    }
}

/// The quantized dtype the view draws for `dtypes`: i8 if planned, else u8, else none.
pub fn drawn_quant_dtype(dtypes: &[DType]) -> Option<QuantDType> {
    [DType::I8, DType::U8]
        .into_iter()
        .find(|dtype| dtypes.contains(dtype))
        .and_then(DType::quantized)
}

/// The staircase of `activation`'s quantized kernel in `dtype` with its default
/// quantization; `None` if the kernel cannot be built (a non-finite parameter).
pub fn compute_quantized(
    activation: Activation,
    dtype: QuantDType,
    x_min: f64,
    x_max: f64,
) -> Option<QuantCurves> {
    let (input, output) = default_quant(activation, dtype);
    let kernel = QuantizedKernel::new(activation, dtype, input, output).ok()?;
    let half_step = f64::from(input.scale) / 2.0;
    let mut curves = QuantCurves {
        dtype,
        staircase: Vec::new(),
        abs_error: Vec::new(),
        max_abs_error: 0.0,
    };
    for q_in in dtype.qmin()..=dtype.qmax() {
        let x = input.dequantize(q_in);
        let y = output.dequantize(kernel.eval_code(q_in));
        let error = (y - reference::eval(activation, x)).abs();
        curves.max_abs_error = curves.max_abs_error.max(error);
        let (left, right) = ((x - half_step).max(x_min), (x + half_step).min(x_max));
        if left < right {
            curves.staircase.push(PlotPoint::new(left, y));
            curves.staircase.push(PlotPoint::new(right, y));
        }
        if (x_min..=x_max).contains(&x) {
            curves.abs_error.push(PlotPoint::new(x, error));
        }
    }
    Some(curves)
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
    let quantized = drawn_quant_dtype(&app.state.plan.dtypes);
    let curves = app.functions_cache.curves(
        &app.state.plan.activations,
        settings.x_min,
        settings.x_max,
        quantized,
    );
    let link = egui::Id::unique("functions-x");
    let dark = ui.visuals().dark_mode;
    let half = ((ui.available_height() - 40.0) / 2.0).max(150.0);

    ui.label(match quantized {
        Some(dtype) => format!(
            "f(x) (solid) and f'(x) (dashed), f64 reference; {dtype} kernel's dequantized output \
             (lighter steps, default quantization)"
        ),
        None => "f(x) (solid) and f'(x) (dashed), f64 reference".to_owned(),
    });
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
                if let Some(quant) = &curve.quantized {
                    let name = format!(
                        "{} ({}, max error {})",
                        curve.label,
                        quant.dtype,
                        format_number(quant.max_abs_error)
                    );
                    let steps = Line::new(name, quant.staircase.as_slice())
                        .color(theme::series_quantized(index, dark))
                        .width(1.5)
                        // Banding would merge the risers into a smooth ribbon and hide the
                        // steps this line is there to show.
                        .allow_band(false);
                    plot_ui.line(steps);
                }
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
    ui.label(match (quantized, settings.error_unit) {
        (Some(dtype), ErrorUnit::Absolute) => format!(
            "Error vs the f64 reference, absolute: f32 kernel (small dots) and {dtype} kernel \
             at each input code (large lighter dots, real units)"
        ),
        (Some(dtype), ErrorUnit::Ulp) => format!(
            "Error of the f32 kernel vs the f64 reference, in ULP ({dtype} error: choose \
             Absolute, or see the legend above)"
        ),
        (None, _) => format!("Error of the f32 kernel vs the f64 reference, in {unit}"),
    });
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
                if let (Some(quant), ErrorUnit::Absolute) = (&curve.quantized, settings.error_unit)
                {
                    let name = format!(
                        "{} ({}, max {} abs)",
                        curve.label,
                        quant.dtype,
                        format_number(quant.max_abs_error)
                    );
                    let dots = Points::new(name, quant.abs_error.as_slice())
                        .color(theme::series_quantized(index, dark))
                        .radius(3.0);
                    plot_ui.points(dots);
                }
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
        let first = cache.curves(&[Activation::Tanh], -1.0, 1.0, None).to_vec();
        assert_eq!(
            cache.curves(&[Activation::Tanh], -1.0, 1.0, None),
            first.as_slice()
        );
        let wider = cache.curves(&[Activation::Tanh], -2.0, 2.0, None);
        assert_eq!(wider[0].value[0].x, -2.0);
        assert!(wider[0].quantized.is_none());
        let stepped = cache.curves(&[Activation::Tanh], -2.0, 2.0, Some(QuantDType::I8));
        assert!(stepped[0].quantized.is_some());
    }

    #[test]
    fn the_relu_staircase_is_the_input_grid() {
        // Default i8 ReLU keeps the input mapping, step 1/16: each code's output is its own
        // input value for x ≥ 0 and 0 below, held over ±1/32 around the code.
        let quant =
            compute_quantized(Activation::Relu, QuantDType::I8, -1.0, 1.0).expect("relu builds");
        assert_eq!(quant.max_abs_error, 0.0);
        // Codes −16..=16 lie in [−1, 1]; their error dots are all 0.
        assert_eq!(quant.abs_error.len(), 33);
        assert!(quant.abs_error.iter().all(|p| p.y == 0.0));
        for pair in quant.staircase.chunks(2) {
            let centre = (pair[0].x + pair[1].x) / 2.0;
            assert_eq!(pair[0].y, pair[1].y);
            if (pair[1].x - pair[0].x - 0.0625).abs() < 1e-12 {
                assert!((pair[0].y - centre.max(0.0)).abs() < 1e-12, "{pair:?}");
            }
        }
        assert_eq!(
            drawn_quant_dtype(&[DType::F32, DType::U8]),
            Some(QuantDType::U8)
        );
        assert_eq!(
            drawn_quant_dtype(&[DType::U8, DType::I8]),
            Some(QuantDType::I8)
        );
        assert_eq!(drawn_quant_dtype(&[DType::F32]), None);
    }
}
