//! The plan editor: where to run (this CPU or a board on a serial port), which
//! activations, dtypes, sizes, threads and measuring time; profiles; Run.

use std::time::Duration;

use crate::harness::plan::{format_size, parse_size};
use crate::kernels::int8::DType;
use crate::kernels::{Activation, DEFAULT_LEAKY_ALPHA, GeluApproximation};
use crate::power::SourceSpec;
use crate::serial::ports::{PortEntry, list_ports};
use crate::target::DEFAULT_BAUD;

use super::super::app::{Action, ActprofApp, RunProgress, RunTarget};
use super::super::dialogs::{Purpose, file_button};
use super::super::state::{TargetChoice, TargetKind};
use super::super::theme;

/// The kinds of activation offered, in report order, with their checkbox labels.
const KINDS: [(Kind, &str); 7] = [
    (Kind::Relu, "ReLU"),
    (Kind::LeakyRelu, "Leaky ReLU"),
    (Kind::Sigmoid, "Sigmoid"),
    (Kind::Tanh, "Tanh"),
    (Kind::GeluErf, "GELU (exact, erf)"),
    (Kind::GeluTanh, "GELU (tanh approximation)"),
    (Kind::Swish, "Swish / SiLU"),
];

/// Smallest and largest measuring time per cell the editor offers, in ms.
const MIN_TIME_RANGE_MS: std::ops::RangeInclusive<f64> = 1.0..=60_000.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    GeluErf,
    GeluTanh,
    Swish,
}

impl Kind {
    fn of(activation: &Activation) -> Self {
        match activation {
            Activation::Relu => Kind::Relu,
            Activation::LeakyRelu { .. } => Kind::LeakyRelu,
            Activation::Sigmoid => Kind::Sigmoid,
            Activation::Tanh => Kind::Tanh,
            Activation::Gelu {
                approximation: GeluApproximation::Erf,
            } => Kind::GeluErf,
            Activation::Gelu {
                approximation: GeluApproximation::Tanh,
            } => Kind::GeluTanh,
            Activation::Swish { .. } => Kind::Swish,
        }
    }

    fn activation(self, alpha: f32, beta: f32) -> Activation {
        match self {
            Kind::Relu => Activation::Relu,
            Kind::LeakyRelu => Activation::LeakyRelu { alpha },
            Kind::Sigmoid => Activation::Sigmoid,
            Kind::Tanh => Activation::Tanh,
            Kind::GeluErf => Activation::Gelu {
                approximation: GeluApproximation::Erf,
            },
            Kind::GeluTanh => Activation::Gelu {
                approximation: GeluApproximation::Tanh,
            },
            Kind::Swish => Activation::Swish { beta },
        }
    }
}

/// Editor state that is not part of the plan itself: the sizes as typed and the parameters
/// of unchecked activations.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEditor {
    /// The sizes as typed (`1k, 64k, 1M`).
    pub sizes_text: String,
    /// Why the typed sizes were refused; the plan keeps the last valid ones.
    pub sizes_error: Option<String>,
    /// Leaky ReLU's negative slope, kept while Leaky ReLU is unticked.
    pub alpha: f32,
    /// Swish's beta, kept while Swish is unticked.
    pub beta: f32,
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
        let alpha = plan
            .activations
            .iter()
            .find_map(|activation| match activation {
                Activation::LeakyRelu { alpha } => Some(*alpha),
                _ => None,
            });
        let beta = plan
            .activations
            .iter()
            .find_map(|activation| match activation {
                Activation::Swish { beta } => Some(*beta),
                _ => None,
            });
        Self {
            sizes_text: plan
                .sizes
                .iter()
                .map(|&size| format_size(size))
                .collect::<Vec<_>>()
                .join(", "),
            sizes_error: None,
            alpha: alpha.unwrap_or(DEFAULT_LEAKY_ALPHA),
            beta: beta.unwrap_or(1.0),
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
        activations_ui(ui, app);
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

fn activations_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    ui.label("Activations");
    let plan = &mut app.state.plan;
    let editor = &mut app.plan_editor;
    let mut changed = false;
    for (kind, label) in KINDS {
        let mut checked = plan
            .activations
            .iter()
            .any(|activation| Kind::of(activation) == kind);
        ui.horizontal(|ui| {
            changed |= ui.checkbox(&mut checked, label).changed();
            match kind {
                Kind::LeakyRelu => {
                    let name = ui.label("alpha");
                    let slope = egui::DragValue::new(&mut editor.alpha)
                        .speed(0.001)
                        .range(-10.0..=10.0);
                    changed |= ui.add(slope).labelled_by(name.id).changed();
                }
                Kind::Swish => {
                    let name = ui.label("beta");
                    let drag = egui::DragValue::new(&mut editor.beta)
                        .speed(0.01)
                        .range(0.01..=20.0);
                    changed |= ui.add(drag).labelled_by(name.id).changed();
                }
                _ => {}
            }
        });
        if changed {
            set_kind(plan, kind, checked, editor.alpha, editor.beta);
            changed = false;
        }
    }
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

/// Adds or removes `kind` and refreshes its parameters, keeping the report order of KINDS.
fn set_kind(plan: &mut crate::harness::Plan, kind: Kind, on: bool, alpha: f32, beta: f32) {
    let mut wanted: Vec<Kind> = plan.activations.iter().map(Kind::of).collect();
    wanted.retain(|&other| other != kind);
    if on {
        wanted.push(kind);
    }
    plan.activations = KINDS
        .iter()
        .filter(|(candidate, _)| wanted.contains(candidate))
        .map(|(candidate, _)| candidate.activation(alpha, beta))
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
    match &app.run {
        None => {
            if ui
                .button("Run")
                .on_hover_text("Measure the plan (Ctrl+R)")
                .clicked()
            {
                actions.push(Action::Run);
            }
        }
        Some(run) => {
            let label = if run.cancelling {
                "Cancelling…"
            } else {
                "Cancel"
            };
            if ui
                .button(label)
                .on_hover_text("Stop after the current cell (Esc)")
                .clicked()
            {
                actions.push(Action::Cancel);
            }
            let text = format!(
                "{} of {} cells, {:.0} s left",
                run.finished_cells,
                run.total_cells,
                run.remaining().as_secs_f64().ceil()
            );
            // No animation: the bar redraws only when progress arrives.
            ui.add(
                egui::ProgressBar::new(run.fraction() as f32)
                    .text(text)
                    .animate(false),
            );
            if let Some(current) = &run.current {
                ui.label(format!("Measuring {current}"));
            }
            run_target_ui(ui, run);
        }
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

    #[test]
    fn toggling_keeps_report_order_and_parameters() {
        let mut plan = crate::harness::Plan {
            activations: vec![Activation::Tanh],
            ..crate::harness::Plan::default()
        };
        set_kind(&mut plan, Kind::LeakyRelu, true, 0.2, 1.0);
        set_kind(&mut plan, Kind::Relu, true, 0.2, 1.0);
        assert_eq!(
            plan.activations,
            [
                Activation::Relu,
                Activation::LeakyRelu { alpha: 0.2 },
                Activation::Tanh
            ]
        );
        set_kind(&mut plan, Kind::Tanh, false, 0.2, 1.0);
        assert_eq!(
            plan.activations,
            [Activation::Relu, Activation::LeakyRelu { alpha: 0.2 }]
        );
    }
}
