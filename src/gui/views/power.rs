//! The Power tab: the power trace of the run (live while it runs) or of a reopened
//! session, its run windows shaded and labelled, a selection with its statistics, and
//! CSV export of the trace.

use egui::Color32;
use egui_plot::{HoverPosition, Line, Plot, PlotPoint, PlotPoints, Span};

use super::super::app::{Action, ActprofApp};
use super::super::theme;
use super::super::trace::{PowerTrace, TraceOrigin, TraceScope};
use crate::power::SourceInfo;
use crate::session::powered::IDLE_LABEL;

/// Height of the trace plot in points.
const PLOT_HEIGHT: f32 = 380.0;

/// The Power tab.
pub fn power_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    if let Some(error) = &app.power.error {
        ui.colored_label(theme::error(dark), error);
    }
    if app.power.origin.is_none() {
        no_source_ui(ui, app);
        return;
    }
    header_ui(ui, &app.power, dark);
    if app.power.samples.is_empty() {
        ui.label("Waiting for the first power samples…");
        return;
    }
    trace_plot_ui(ui, &mut app.power);
    ui.separator();
    windows_ui(ui, &app.power);
    ui.separator();
    selection_ui(ui, &mut app.power);
    ui.separator();
    export_ui(ui, &mut app.power, actions);
}

fn no_source_ui(ui: &mut egui::Ui, app: &ActprofApp) {
    ui.heading("No power source is set");
    ui.label(
        "Type a power source in the plan panel (Power source: `rapl`, `rapl:package-0`, \
         `battery`, or a meter such as `um25c:/dev/rfcomm0`) and press Run, or run \
         `actprof bench --power rapl` / add `power = \"rapl\"` to a profile. The trace of \
         the run then appears here.",
    );
    if app.state.plan.power.is_some() {
        ui.label("A source is set: press Run (Ctrl+R) to record it.");
    }
}

fn header_ui(ui: &mut egui::Ui, trace: &PowerTrace, dark: bool) {
    let origin = match &trace.origin {
        Some(TraceOrigin::Session(dir)) => format!("Session {}", dir.display()),
        _ => "This run".to_owned(),
    };
    let source = trace.info.as_ref().map_or_else(
        || "unknown source".to_owned(),
        |info| info.description.clone(),
    );
    ui.label(format!("{origin}: {source}"));
    if trace.info.as_ref().is_some_and(SourceInfo::is_emulated) {
        ui.colored_label(
            theme::warning(dark),
            "EMULATED: these readings come from `actprof emulate`, not from a real meter.",
        );
    }
    if let Some(idle) = &trace.idle {
        ui.label(format!(
            "Idle baseline: {:.3} W over {} samples",
            idle.mean_power_w, idle.samples
        ));
    }
    ui.label(
        "Scroll to zoom, drag to pan, double-click to fit. Select with Shift+drag or two \
         clicks.",
    );
}

fn trace_plot_ui(ui: &mut egui::Ui, trace: &mut PowerTrace) {
    let shift = ui.input(|input| input.modifiers.shift);
    let window_fill = theme::series(1).gamma_multiply(0.12);
    let idle_fill = Color32::GRAY.gamma_multiply(0.15);
    let selection_fill = theme::series(3).gamma_multiply(0.25);
    let line_colour = theme::series(0);
    let plot = Plot::new("power_trace")
        .height(PLOT_HEIGHT)
        .x_axis_label("time (s)")
        .y_axis_label("power (W)")
        .allow_drag(!shift)
        .allow_double_click_reset(true)
        .label_formatter(|hover| {
            let (HoverPosition::NearDataPoint { position, .. }
            | HoverPosition::Elsewhere { position }) = *hover;
            Some(format!("t = {:.3} s\nP = {:.3} W", position.x, position.y))
        });
    let response = plot.show(ui, |plot_ui| {
        let (x_min, x_max) = if plot_ui.auto_bounds().x {
            trace.time_span().unwrap_or((0.0, 1.0))
        } else {
            let bounds = plot_ui.plot_bounds();
            (bounds.min()[0], bounds.max()[0])
        };
        let columns = plot_ui.response().rect.width().max(1.0) as usize;
        for window in &trace.windows {
            let fill = if window.label == IDLE_LABEL {
                idle_fill
            } else {
                window_fill
            };
            plot_ui.span(Span::new(&window.label, window.start_s..=window.end_s).fill(fill));
        }
        if let Some((start, end)) = trace.selection {
            plot_ui.span(Span::new("selection", start..=end).fill(selection_fill));
        }
        let points: Vec<PlotPoint> = trace
            .decimated(x_min, x_max, columns)
            .iter()
            .map(|&[x, y]| PlotPoint::new(x, y))
            .collect();
        plot_ui.line(Line::new("power (W)", PlotPoints::Owned(points)).color(line_colour));
        let pointer = plot_ui.pointer_coordinate().map(|p| p.x);
        (pointer, plot_ui.plot_bounds())
    });
    let (pointer, bounds) = response.inner;
    trace.visible = Some((bounds.min()[0], bounds.max()[0]));
    select_with_pointer(trace, &response.response, pointer, shift);
}

/// Shift+drag selects the dragged range; two plain clicks select between them.
fn select_with_pointer(
    trace: &mut PowerTrace,
    response: &egui::Response,
    pointer: Option<f64>,
    shift: bool,
) {
    let Some(x) = pointer else {
        return;
    };
    if shift && response.drag_started() {
        trace.pending_click = Some(x);
    }
    if shift
        && response.dragged()
        && let Some(anchor) = trace.pending_click
    {
        trace.selection = Some((anchor.min(x), anchor.max(x)));
    }
    if shift && response.drag_stopped() {
        trace.pending_click = None;
    }
    if !shift && response.clicked() {
        match trace.pending_click.take() {
            Some(first) if first != x => trace.selection = Some((first.min(x), first.max(x))),
            _ => trace.pending_click = Some(x),
        }
    }
}

fn windows_ui(ui: &mut egui::Ui, trace: &PowerTrace) {
    ui.label(format!("Run windows ({})", trace.windows.len()));
    egui::ScrollArea::vertical()
        .id_salt("run_windows")
        .max_height(90.0)
        .show(ui, |ui| {
            egui::Grid::new("run_windows_grid")
                .striped(true)
                .show(ui, |ui| {
                    for window in &trace.windows {
                        ui.label(&window.label);
                        ui.label(format!(
                            "{:.3} s – {:.3} s ({:.3} s)",
                            window.start_s,
                            window.end_s,
                            window.duration_s()
                        ));
                        if window.calls > 0 {
                            ui.label(format!("{} calls", window.calls));
                        }
                        ui.end_row();
                    }
                });
        });
}

fn selection_ui(ui: &mut egui::Ui, trace: &mut PowerTrace) {
    ui.horizontal(|ui| {
        ui.checkbox(&mut trace.tare_on, "Subtract baseline (tare)");
        let tare = egui::DragValue::new(&mut trace.tare_w)
            .speed(0.01)
            .suffix(" W");
        ui.add_enabled(trace.tare_on, tare);
        if let Some(idle) = trace.idle
            && ui.button("Use idle baseline").clicked()
        {
            trace.tare_w = idle.mean_power_w;
            trace.tare_on = true;
        }
        if trace.selection.is_some() && ui.button("Clear selection").clicked() {
            trace.selection = None;
        }
    });
    match trace.selection_stats() {
        None => {
            ui.label("No selection: Shift+drag over the trace, or click its two ends.");
        }
        Some(Err(why)) => {
            ui.label(format!("Selection: no statistics ({why})"));
        }
        Some(Ok(stats)) => {
            ui.label(format!(
                "Selection {:.3} s – {:.3} s: duration {:.3} s, {} samples",
                stats.start_s,
                stats.end_s,
                stats.duration_s(),
                stats.samples
            ));
            ui.label(format!(
                "mean {:.3} W, min {:.3} W, max {:.3} W, median {:.3} W",
                stats.mean_w, stats.min_w, stats.max_w, stats.median_w
            ));
            let energy = match stats.tare_w {
                Some(tare) => format!("energy {:.4} J above {tare:.3} W", stats.energy_j),
                None => format!("energy {:.4} J", stats.energy_j),
            };
            ui.label(energy);
        }
    }
}

fn export_ui(ui: &mut egui::Ui, trace: &mut PowerTrace, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let name = ui.label("Trace CSV");
        ui.text_edit_singleline(&mut trace.export_path)
            .labelled_by(name.id);
        for (label, scope) in [
            ("Export whole trace", TraceScope::Whole),
            ("Export visible", TraceScope::Visible),
            ("Export selection", TraceScope::Selection),
        ] {
            let enabled = trace.range_of(scope).is_some() && !trace.export_path.is_empty();
            if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
                actions.push(Action::ExportTrace(scope));
            }
        }
    });
    if let Some(notice) = &trace.notice {
        ui.label(notice);
    }
}
