//! The plan editor: where to run (this CPU or a board on a serial port), which
//! activations, dtypes, sizes, threads and measuring time; profiles; Run.

use std::time::Duration;

use crate::harness::plan::{format_size, parse_size};
use crate::kernels::int8::DType;
use crate::power::SourceSpec;
use crate::serial::ports::{PortEntry, list_ports};
use crate::target::DEFAULT_BAUD;

use super::super::app::{Action, ActprofApp, RunProgress, RunTarget};
use super::super::dialogs::{Purpose, file_button};
use super::super::state::{TargetChoice, TargetKind};
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
    /// The board's baud rate as typed (empty for the default).
    pub baud_text: String,
    /// Why the typed baud rate was refused; the target keeps the last valid one.
    pub baud_error: Option<String>,
    /// The serial ports the system lists, read when the board target is shown and on
    /// Refresh; `Err` says why they could not be listed.
    pub ports: Option<Result<Vec<PortEntry>, String>>,
}

impl PlanEditor {
    /// The editor showing `plan`, with the board's baud rate of `target`.
    pub fn new(plan: &crate::harness::Plan, target: &TargetChoice) -> Self {
        Self {
            baud_text: target.baud.map(|baud| baud.to_string()).unwrap_or_default(),
            ..Self::from_plan(plan)
        }
    }

    /// The editor showing `plan` (a loaded profile leaves the target alone).
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
            baud_text: String::new(),
            baud_error: None,
            ports: None,
        }
    }
}

/// The plan panel.
pub fn plan_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    ui.heading("Plan");
    let running = app.is_running();
    ui.add_enabled_ui(!running, |ui| {
        target_ui(ui, app);
        ui.separator();
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

/// Where Run measures: this CPU, or a board on a serial port with an optional baud rate.
fn target_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let dark = ui.visuals().dark_mode;
    let target = &mut app.state.target;
    let editor = &mut app.plan_editor;
    ui.label("Target");
    ui.radio_value(&mut target.kind, TargetKind::Local, "This CPU");
    ui.radio_value(
        &mut target.kind,
        TargetKind::Board,
        "Board on a serial port",
    );
    if target.kind == TargetKind::Local {
        return;
    }
    let ports = editor.ports.get_or_insert_with(listed_ports);
    egui::Grid::new("plan-board").num_columns(2).show(ui, |ui| {
        let name = ui.label("Serial port");
        let field = egui::TextEdit::singleline(&mut target.port)
            .hint_text("/dev/ttyACM0")
            .desired_width(150.0);
        ui.add(field).labelled_by(name.id);
        ui.end_row();

        let name = ui.label("Detected");
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("plan-board-ports")
                .selected_text("pick a port")
                .show_ui(ui, |ui| match ports {
                    Ok(entries) if !entries.is_empty() => {
                        for entry in entries.iter() {
                            let text = port_text(entry);
                            ui.selectable_value(&mut target.port, entry.name.clone(), text);
                        }
                    }
                    Ok(_) => {
                        ui.label("The system lists no serial ports; type the path.");
                    }
                    Err(error) => {
                        ui.colored_label(theme::error(dark), error.as_str());
                    }
                })
                .response
                .labelled_by(name.id);
            if ui
                .button("Refresh")
                .on_hover_text("List the serial ports again")
                .clicked()
            {
                *ports = listed_ports();
            }
        });
        ui.end_row();

        let name = ui.label("Baud");
        let field = egui::TextEdit::singleline(&mut editor.baud_text)
            .hint_text(DEFAULT_BAUD.to_string())
            .desired_width(150.0);
        if ui.add(field).labelled_by(name.id).changed() {
            match parse_baud(&editor.baud_text) {
                Ok(baud) => {
                    target.baud = baud;
                    editor.baud_error = None;
                }
                Err(error) => editor.baud_error = Some(error),
            }
        }
        ui.end_row();
    });
    if let Some(error) = &editor.baud_error {
        ui.colored_label(theme::error(dark), error);
    }
    ui.weak("The board times itself; cells it cannot run are skipped with a warning.");
}

/// The system's serial ports, or why they could not be listed.
fn listed_ports() -> Result<Vec<PortEntry>, String> {
    list_ports().map_err(|error| error.to_string())
}

/// A port as the picker lists it: the path, and the USB product when there is one.
fn port_text(entry: &PortEntry) -> String {
    match (&entry.product, &entry.manufacturer) {
        (Some(product), _) => format!("{} ({product})", entry.name),
        (None, Some(maker)) => format!("{} ({maker})", entry.name),
        (None, None) => entry.name.clone(),
    }
}

/// A baud rate as typed: empty for the default, else a whole number above zero.
fn parse_baud(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(baud) if baud > 0 => Ok(Some(baud)),
        _ => Err(format!(
            "`{text}` is not a baud rate (a whole number of bits per second, e.g. 115200)"
        )),
    }
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
    if let Some(run) = &app.run {
        run_target_ui(ui, run);
    }
    if let Some(notice) = &app.messages.run_notice {
        ui.label(notice);
    }
    if let Some(error) = &app.messages.run_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(error) = &app.messages.plan_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(error) = &app.messages.worker_error {
        ui.colored_label(theme::error(dark), error);
    }
}

/// Which board the run is on and what its times count, while it runs.
fn run_target_ui(ui: &mut egui::Ui, run: &RunProgress) {
    let dark = ui.visuals().dark_mode;
    let RunTarget::Board { port, info } = &run.target else {
        return;
    };
    let Some(info) = info else {
        ui.label(format!("Connecting to the board on {port}…"));
        return;
    };
    ui.label(format!(
        "Board: {} ({}) on {port}, protocol {}",
        info.board, info.firmware, info.proto
    ));
    let timing = format!("Timing: {}", crate::target::board::timing_label(info));
    if info.emulated {
        ui.colored_label(theme::warning(dark), timing);
    } else {
        ui.label(timing);
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
    fn baud_is_empty_for_the_default_or_a_positive_number() {
        assert_eq!(parse_baud(" "), Ok(None));
        assert_eq!(parse_baud("9600"), Ok(Some(9600)));
        for bad in ["0", "fast", "-1", "1.5"] {
            let error = parse_baud(bad).expect_err(bad);
            assert!(error.contains(bad), "{error}");
        }
    }

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
