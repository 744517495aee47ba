//! The plan editor: which activations, dtypes, sizes, threads and measuring time; profiles;
//! Run.

use std::time::Duration;

use crate::harness::plan::{format_size, parse_size};
use crate::kernels::int8::DType;
use crate::power::SourceSpec;

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::theme;
use super::activations::{ActivationParams, activations_ui};
use super::run::{RunWords, run_controls_ui};

/// Smallest and largest measuring time per cell the editor offers, in ms.
pub const MIN_TIME_RANGE_MS: std::ops::RangeInclusive<f64> = 1.0..=60_000.0;

/// Editor state that is not part of the plan itself: the sizes as typed and the parameters
/// of unchecked activations.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEditor {
    /// The sizes as typed (`1k, 64k, 1M`).
    pub sizes_text: String,
    /// Why the typed sizes were refused; the plan keeps the last valid ones.
    pub sizes_error: Option<String>,
    /// Leaky ReLU's alpha and Swish's beta, kept while their boxes are unticked.
    pub params: ActivationParams,
    /// The power source as typed (`rapl`, `rapl:package-0`, `battery`; empty for none).
    pub power_text: String,
    /// Why the typed power source was refused; the plan keeps the last valid one.
    pub power_error: Option<String>,
}

impl PlanEditor {
    /// The editor showing `plan`.
    pub fn from_plan(plan: &crate::harness::Plan) -> Self {
        Self {
            sizes_text: plan
                .sizes
                .iter()
                .map(|&size| format_size(size))
                .collect::<Vec<_>>()
                .join(", "),
            sizes_error: None,
            params: ActivationParams::of(&plan.activations),
            power_text: plan
                .power
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            power_error: None,
        }
    }
}

/// The plan panel.
pub fn plan_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.heading("Plan");
    let running = app.is_running();
    ui.add_enabled_ui(!running, |ui| {
        plan_activations_ui(ui, app);
        ui.separator();
        dtypes_ui(ui, &mut app.state.plan);
        ui.separator();
        sizes_ui(ui, app);
        timing_ui(ui, app);
        ui.separator();
        power_source_ui(ui, app);
    });
    ui.separator();
    run_ui(ui, app, actions);
    ui.separator();
    profile_ui(ui, app, actions);
}

fn plan_activations_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    ui.label("Activations");
    activations_ui(
        ui,
        &mut app.state.plan.activations,
        &mut app.plan_editor.params,
    );
}

/// The dtype checkboxes: f32 runs the float kernels, i8 and u8 the quantized ones with each
/// activation's default quantization.
fn dtypes_ui(ui: &mut egui::Ui, plan: &mut crate::harness::Plan) {
    ui.label("Dtypes")
        .on_hover_text("i8 and u8 use each activation's default quantization (input step 1/16)");
    ui.horizontal(|ui| {
        for dtype in DType::ALL {
            let mut checked = plan.dtypes.contains(&dtype);
            if ui.checkbox(&mut checked, dtype.name()).changed() {
                set_dtype(plan, dtype, checked);
            }
        }
    });
}

/// Adds or removes `dtype`, keeping report order (f32, i8, u8). The last one cannot be
/// removed: a plan needs a dtype.
fn set_dtype(plan: &mut crate::harness::Plan, dtype: DType, on: bool) {
    let mut wanted = plan.dtypes.clone();
    wanted.retain(|&other| other != dtype);
    if on {
        wanted.push(dtype);
    }
    if wanted.is_empty() {
        return;
    }
    plan.dtypes = DType::ALL
        .into_iter()
        .filter(|candidate| wanted.contains(candidate))
        .collect();
}

fn sizes_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let dark = ui.visuals().dark_mode;
    let editor = &mut app.plan_editor;
    let name = ui.label("Sizes (elements; k = 1024, M = 1024²)");
    let field = egui::TextEdit::singleline(&mut editor.sizes_text).hint_text("1k, 64k, 1M");
    if ui.add(field).labelled_by(name.id).changed() {
        match parse_sizes(&editor.sizes_text) {
            Ok(sizes) => {
                app.state.plan.sizes = sizes;
                editor.sizes_error = None;
            }
            Err(error) => editor.sizes_error = Some(error),
        }
    }
    if let Some(error) = &editor.sizes_error {
        ui.colored_label(theme::error(dark), error);
    }
}

/// Sizes separated by commas or spaces; the error names the bad entry.
fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    let sizes = text
        .split([',', ' '])
        .filter(|part| !part.trim().is_empty())
        .map(|part| parse_size(part.trim()).map_err(|error| error.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.is_empty() {
        return Err("give at least one size".to_owned());
    }
    if sizes.contains(&0) {
        return Err("every size must be at least 1 element".to_owned());
    }
    Ok(sizes)
}

fn timing_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let plan = &mut app.state.plan;
    egui::Grid::new("plan-timing")
        .num_columns(2)
        .show(ui, |ui| {
            let name = ui.label("Threads");
            ui.add(egui::DragValue::new(&mut plan.threads).range(1..=1024))
                .labelled_by(name.id);
            ui.end_row();

            let name = ui.label("Min time per cell");
            let mut ms = plan.min_time.as_secs_f64() * 1e3;
            let drag = egui::DragValue::new(&mut ms)
                .range(MIN_TIME_RANGE_MS)
                .suffix(" ms")
                .speed(5.0);
            if ui.add(drag).labelled_by(name.id).changed() {
                plan.min_time = Duration::from_secs_f64(ms / 1e3);
            }
            ui.end_row();
        });
    let cells = plan.cells().len();
    ui.label(format!(
        "{cells} cells, about {:.1} s",
        plan.estimated_duration().as_secs_f64()
    ));
}

/// The power source field: validated as typed, the error shown in place.
fn power_source_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let dark = ui.visuals().dark_mode;
    let editor = &mut app.plan_editor;
    let name = ui.label("Power source (empty = none)");
    let field = egui::TextEdit::singleline(&mut editor.power_text)
        .hint_text("rapl, battery, um25c:/dev/rfcomm0, tc66c:/dev/ttyACM0, ina:/dev/ttyUSB0");
    if ui.add(field).labelled_by(name.id).changed() {
        let text = editor.power_text.trim();
        if text.is_empty() {
            app.state.plan.power = None;
            editor.power_error = None;
        } else {
            match text.parse::<SourceSpec>() {
                Ok(spec) => {
                    app.state.plan.power = Some(spec);
                    editor.power_error = None;
                }
                Err(err) => editor.power_error = Some(err.to_string()),
            }
        }
    }
    if let Some(error) = &editor.power_error {
        ui.colored_label(theme::error(dark), error);
    } else if app.state.plan.power.is_some() {
        ui.label("Energy per call: idle baseline first, cells lengthened to the source.");
    }
}

fn run_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    let words = RunWords {
        run_hover: "Measure the plan (Ctrl+R)",
        cancel_hover: "Stop after the current cell (Esc)",
        unit: "cells",
        doing: "Measuring",
    };
    let elsewhere = app.run.is_none() && app.is_busy();
    run_controls_ui(
        ui,
        app.run.as_ref(),
        elsewhere,
        &words,
        Action::Run,
        actions,
    );
    if let Some(notice) = &app.messages.run_notice {
        ui.label(notice);
    }
    if let Some(error) = &app.messages.plan_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(error) = &app.messages.worker_error {
        ui.colored_label(theme::error(dark), error);
    }
}

fn profile_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.label("Profile (TOML, usually in profiles/)");
    let path = &mut app.state.profile_path;
    let loaded = file_button(
        ui,
        &mut app.dialogs,
        "Load profile",
        Purpose::LoadProfile,
        path,
    );
    let saved = file_button(
        ui,
        &mut app.dialogs,
        "Save profile",
        Purpose::SaveProfile,
        path,
    );
    actions.extend(
        loaded
            .or(saved)
            .map(|(purpose, path)| Action::Chosen(purpose, path)),
    );
    if let Some(notice) = &app.messages.profile_notice {
        ui.label(notice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_suffixes_and_name_the_bad_entry() {
        assert_eq!(parse_sizes("1k, 64k 1M"), Ok(vec![1024, 65_536, 1 << 20]));
        let error = parse_sizes("1k, lots").expect_err("refused");
        assert!(error.contains("lots"), "{error}");
        assert!(parse_sizes(" , ").is_err());
    }

    #[test]
    fn dtypes_keep_report_order_and_one_always_stays() {
        let mut plan = crate::harness::Plan::default();
        set_dtype(&mut plan, DType::U8, true);
        set_dtype(&mut plan, DType::I8, true);
        assert_eq!(plan.dtypes, [DType::F32, DType::I8, DType::U8]);
        set_dtype(&mut plan, DType::F32, false);
        set_dtype(&mut plan, DType::U8, false);
        assert_eq!(plan.dtypes, [DType::I8]);
        set_dtype(&mut plan, DType::I8, false);
        assert_eq!(plan.dtypes, [DType::I8]);
    }
}
