//! What the app remembers between launches: preferences and the plan, never runtime handles.

use serde::{Deserialize, Serialize};

use crate::harness::Plan;
use crate::kernels::{Activation, DEFAULT_LEAKY_ALPHA, GeluApproximation};
use crate::models::ModelKind;
use crate::models::measure::{Cell, Settings};
use crate::models::train::{DEFAULT_LEARNING_RATES, TrainConfig};
use crate::models::zoo::{MLP_SMALL_WIDTHS, ModelSpec};
use crate::target::PortSpec;

use super::model::{AxisScale, ErrorBars, Metric};

/// The key under which [`UiState`] is stored in eframe's storage.
pub const STORAGE_KEY: &str = "actprof.ui_state";

/// The key under which the last results (report rows) are stored, beside [`STORAGE_KEY`].
pub const RESULTS_KEY: &str = "actprof.last_results";

/// The key under which the last model rows (the Models tab) are stored.
pub const MODEL_RESULTS_KEY: &str = "actprof.last_model_results";

/// The key under which the last training runs (the Dying ReLU tab) are stored.
pub const TRAINING_RESULTS_KEY: &str = "actprof.last_training";

/// Seed of weights, inputs, data and bootstrap until the user picks another (the CLI's).
pub const DEFAULT_SEED: u64 = 24301;

/// The noise threshold used by the Compare view until the user picks another, in percent.
pub const DEFAULT_NOISE_PCT: f64 = 2.0;

/// The tabs of the main area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    /// Activations × sizes, coloured by a metric.
    Heatmap,
    /// Bar chart with error bars and the verdicts against a baseline.
    Compare,
    /// Curves of the activations and the error of our kernels.
    Functions,
    /// Every row of the results in a table.
    Report,
    /// The power trace of the run or of a reopened session.
    Power,
    /// Latency per inference and activation share of the model zoo, and model summaries.
    Models,
    /// Loss and dead units per epoch of the dying-ReLU training experiment.
    Training,
}

impl Tab {
    /// Every tab in display order.
    pub const ALL: [Tab; 7] = [
        Tab::Heatmap,
        Tab::Compare,
        Tab::Functions,
        Tab::Report,
        Tab::Power,
        Tab::Models,
        Tab::Training,
    ];

    /// The label on the tab button.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Heatmap => "Heatmap",
            Tab::Compare => "Compare",
            Tab::Functions => "Functions",
            Tab::Report => "Report",
            Tab::Power => "Power",
            Tab::Models => "Models",
            Tab::Training => "Dying ReLU",
        }
    }
}

/// Light, dark or whatever the system uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    /// Follow the operating system.
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// Which error the Functions view plots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorUnit {
    /// Units in the last place of the f32 result.
    #[default]
    Ulp,
    /// `|kernel − reference|`.
    Absolute,
}

/// Settings of the Functions view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionsState {
    /// Left end of the plotted x range.
    pub x_min: f64,
    /// Right end of the plotted x range.
    pub x_max: f64,
    /// Unit of the error plot.
    pub error_unit: ErrorUnit,
    /// Whether f'(x) is drawn beside f(x).
    pub show_derivative: bool,
}

impl Default for FunctionsState {
    fn default() -> Self {
        Self {
            x_min: -6.0,
            x_max: 6.0,
            error_unit: ErrorUnit::Ulp,
            show_derivative: true,
        }
    }
}

/// Where Run measures the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    /// This CPU, through the local harness.
    #[default]
    Local,
    /// A board running the actprof firmware, over a serial port (`docs/board-protocol.md`).
    Board,
}

/// The target picked in the plan panel. The port and baud are kept while This CPU is
/// picked, so switching back to the board needs no retyping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetChoice {
    /// This CPU or a board.
    pub kind: TargetKind,
    /// The board's serial port as typed or picked, e.g. `/dev/ttyACM0`.
    pub port: String,
    /// The board's baud rate; `None` opens the port at [`crate::target::DEFAULT_BAUD`].
    pub baud: Option<u32>,
}

impl TargetChoice {
    /// The board's port when a board is picked, `None` for this CPU. A board without a
    /// port is refused with the message to show.
    pub fn board(&self) -> Result<Option<PortSpec>, String> {
        match self.kind {
            TargetKind::Local => Ok(None),
            TargetKind::Board => {
                let port = self.port.trim();
                if port.is_empty() {
                    return Err(
                        "give the board's serial port (e.g. /dev/ttyACM0, or the pty that \
                         `actprof emulate board` prints)"
                            .to_owned(),
                    );
                }
                Ok(Some(PortSpec {
                    port: port.to_owned(),
                    baud: self.baud,
                }))
            }
        }
    }
}

/// Preferences and the plan, persisted with eframe storage.
///
/// Unknown or missing fields take their defaults, so an older or newer state never fails to
/// load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    #[serde(with = "plan_as_toml")]
    /// The plan edited in the side panel (stored as its TOML profile).
    pub plan: Plan,
    /// Where Run measures the plan.
    pub target: TargetChoice,
    /// The tab on display.
    pub tab: Tab,
    /// Light, dark or system theme.
    pub theme: ThemeChoice,
    /// Metric of the Heatmap and Compare views.
    pub metric: Metric,
    /// Value axis of the Compare chart.
    pub axis: AxisScale,
    /// Spread shown by the Compare chart's error bars.
    pub error_bars: ErrorBars,
    /// Relative change below which two medians count as the same, in percent.
    pub noise_pct: f64,
    /// Last CSV exported or opened.
    pub csv_path: String,
    /// Last baseline report loaded in the Compare view.
    pub baseline_path: String,
    /// Last TOML profile loaded or saved.
    pub profile_path: String,
    /// Last PNG a chart was exported to.
    pub png_path: String,
    /// Last SVG the heatmap was exported to.
    pub svg_path: String,
    /// Settings of the Functions view.
    pub functions: FunctionsState,
    /// What the Models tab times.
    pub models: ModelsSettings,
    /// How the Dying ReLU tab trains.
    pub training: TrainingSettings,
    /// Last per-epoch CSV the training runs were exported to.
    pub epochs_path: String,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            plan: Plan::default(),
            target: TargetChoice::default(),
            tab: Tab::default(),
            theme: ThemeChoice::default(),
            metric: Metric::default(),
            axis: AxisScale::default(),
            error_bars: ErrorBars::default(),
            noise_pct: DEFAULT_NOISE_PCT,
            csv_path: "actprof-report.csv".to_owned(),
            baseline_path: String::new(),
            profile_path: "profiles/my-profile.toml".to_owned(),
            png_path: "actprof-chart.png".to_owned(),
            svg_path: "actprof-heatmap.svg".to_owned(),
            functions: FunctionsState::default(),
            models: ModelsSettings::default(),
            training: TrainingSettings::default(),
            epochs_path: "actprof-epochs.csv".to_owned(),
        }
    }
}

/// ReLU, Leaky ReLU and GELU: the comparison the model views start with.
fn default_model_activations() -> Vec<Activation> {
    vec![
        Activation::Relu,
        Activation::LeakyRelu {
            alpha: DEFAULT_LEAKY_ALPHA,
        },
        Activation::Gelu {
            approximation: GeluApproximation::Erf,
        },
    ]
}

/// What the Models tab times: every chosen model × activation, one cell each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelsSettings {
    /// Zoo models by name (`kws-dscnn`, …); names this build does not know are skipped.
    pub models: Vec<String>,
    /// Widths of `mlp-small` from input to output.
    pub mlp_widths: Vec<usize>,
    /// Activation of the hidden layers, one cell per activation.
    pub activations: Vec<Activation>,
    /// Inputs per inference.
    pub batch: usize,
    /// Warm-up per cell before sampling, in ms.
    pub warmup_ms: f64,
    /// Minimum measuring time per cell after warm-up, in ms (the profiled pass for the
    /// activation share adds half of it).
    pub min_time_ms: f64,
    /// Minimum timed samples per cell.
    pub min_samples: usize,
    /// Seed of the weights, the inputs and the bootstrap.
    pub seed: u64,
    /// The model whose summary the tab shows, by name.
    pub summary_model: String,
}

impl Default for ModelsSettings {
    fn default() -> Self {
        Self {
            models: ModelKind::ALL
                .iter()
                .map(|kind| kind.name().to_owned())
                .collect(),
            mlp_widths: MLP_SMALL_WIDTHS.to_vec(),
            activations: default_model_activations(),
            batch: 1,
            // The defaults of `actprof models`.
            warmup_ms: 100.0,
            min_time_ms: 200.0,
            min_samples: 10,
            seed: DEFAULT_SEED,
            summary_model: ModelKind::KwsDscnn.name().to_owned(),
        }
    }
}

impl ModelsSettings {
    /// The chosen models, in zoo order.
    pub fn kinds(&self) -> Vec<ModelKind> {
        ModelKind::ALL
            .into_iter()
            .filter(|kind| self.models.iter().any(|name| name == kind.name()))
            .collect()
    }

    /// `kind` with this tab's options (the `mlp-small` widths).
    pub fn spec(&self, kind: ModelKind) -> ModelSpec {
        ModelSpec {
            kind,
            widths: self.mlp_widths.clone(),
        }
    }

    /// Every model × activation cell, model by model, as `actprof models` orders them.
    pub fn cells(&self) -> Vec<Cell> {
        self.kinds()
            .into_iter()
            .flat_map(|kind| {
                self.activations.iter().map(move |&activation| Cell {
                    spec: self.spec(kind),
                    activation,
                    batch: self.batch.max(1),
                })
            })
            .collect()
    }

    /// How long and how often each cell is measured.
    pub fn settings(&self) -> Settings {
        Settings {
            warmup: duration_ms(self.warmup_ms),
            min_time: duration_ms(self.min_time_ms),
            min_samples: self.min_samples.max(2),
            seed: self.seed,
        }
    }

    /// Warm-up, sampling and the profiled pass of every cell.
    pub fn estimated_duration(&self) -> std::time::Duration {
        let settings = self.settings();
        let per_cell = settings.warmup + settings.min_time + settings.min_time / 2;
        per_cell * u32::try_from(self.cells().len()).unwrap_or(u32::MAX)
    }
}

/// How the Dying ReLU tab trains: every activation at each chosen learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingSettings {
    /// Activations to train with, one run each per learning rate.
    pub activations: Vec<Activation>,
    /// The normal learning rate.
    pub normal_lr: f32,
    /// The deliberately high learning rate.
    pub high_lr: f32,
    /// Whether to train at the normal learning rate.
    pub use_normal_lr: bool,
    /// Whether to train at the high learning rate.
    pub use_high_lr: bool,
    /// Epochs per run.
    pub epochs: usize,
    /// Seed of the data, the weights and the shuffling.
    pub seed: u64,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            activations: default_model_activations(),
            normal_lr: DEFAULT_LEARNING_RATES[0],
            high_lr: DEFAULT_LEARNING_RATES[1],
            use_normal_lr: true,
            use_high_lr: true,
            epochs: TrainConfig::default().epochs,
            seed: DEFAULT_SEED,
        }
    }
}

impl TrainingSettings {
    /// The learning rates ticked, normal first.
    pub fn learning_rates(&self) -> Vec<f32> {
        [
            (self.use_normal_lr, self.normal_lr),
            (self.use_high_lr, self.high_lr),
        ]
        .into_iter()
        .filter_map(|(on, rate)| on.then_some(rate))
        .collect()
    }

    /// The training settings shared by every run (the learning rate set per run).
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            seed: self.seed,
            ..TrainConfig::default()
        }
    }

    /// Epochs over all runs.
    pub fn total_epochs(&self) -> usize {
        self.activations.len() * self.learning_rates().len() * self.epochs
    }
}

/// `ms` milliseconds; negative or not finite gives zero.
fn duration_ms(ms: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(ms / 1e3).unwrap_or_default()
}

/// Stores the plan in its profile (TOML) form, the one format the loader validates.
mod plan_as_toml {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use crate::harness::Plan;

    pub fn serialize<S: Serializer>(plan: &Plan, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&plan.to_toml())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Plan, D::Error> {
        let text = String::deserialize(deserializer)?;
        Plan::from_toml_str(&text, "saved GUI state").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_json() {
        let mut state = UiState {
            tab: Tab::Report,
            noise_pct: 5.0,
            ..UiState::default()
        };
        state.plan.sizes = vec![1024, 4096];
        state.target = TargetChoice {
            kind: TargetKind::Board,
            port: "/dev/ttyACM0".to_owned(),
            baud: Some(9600),
        };
        let text = serde_json::to_string(&state).expect("serializes");
        let back: UiState = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, state);
    }

    #[test]
    fn missing_fields_take_defaults() {
        let back: UiState = serde_json::from_str(r#"{"noise_pct": 3.5}"#).expect("deserializes");
        assert_eq!(back.noise_pct, 3.5);
        assert_eq!(back.plan, Plan::default());
        assert_eq!(back.tab, Tab::Heatmap);
        assert_eq!(back.target, TargetChoice::default());
        assert_eq!(back.models, ModelsSettings::default());
    }

    #[test]
    fn a_board_needs_a_port() {
        let mut choice = TargetChoice {
            kind: TargetKind::Board,
            port: "  ".to_owned(),
            baud: None,
        };
        let refused = choice.board().expect_err("no port");
        assert!(refused.contains("serial port"), "{refused}");
        choice.port = " /dev/pts/4 ".to_owned();
        let spec = choice.board().expect("a port").expect("a board");
        assert_eq!(spec.port, "/dev/pts/4");
        assert_eq!(spec.baud_or_default(), crate::target::DEFAULT_BAUD);
        choice.kind = TargetKind::Local;
        assert_eq!(choice.board(), Ok(None));
    }

    #[test]
    fn model_cells_go_model_by_model_in_zoo_order() {
        let settings = ModelsSettings {
            models: vec![
                "mlp-small".to_owned(),
                "kws-dscnn".to_owned(),
                "vww".to_owned(),
            ],
            activations: vec![Activation::Relu, Activation::Tanh],
            batch: 0,
            ..ModelsSettings::default()
        };
        let cells = settings.cells();
        let names: Vec<_> = cells
            .iter()
            .map(|cell| (cell.spec.kind.name(), cell.activation.name(), cell.batch))
            .collect();
        assert_eq!(
            names,
            [
                ("kws-dscnn", "relu", 1),
                ("kws-dscnn", "tanh", 1),
                ("mlp-small", "relu", 1),
                ("mlp-small", "tanh", 1)
            ]
        );
        // 100 ms warm-up + 200 ms + 100 ms profiled pass, four cells.
        assert_eq!(settings.estimated_duration().as_millis(), 1600);
    }

    #[test]
    fn training_runs_every_activation_at_each_ticked_rate() {
        let mut settings = TrainingSettings::default();
        assert_eq!(settings.learning_rates(), DEFAULT_LEARNING_RATES);
        assert_eq!(settings.total_epochs(), 3 * 2 * settings.epochs);
        settings.use_normal_lr = false;
        assert_eq!(settings.learning_rates(), [DEFAULT_LEARNING_RATES[1]]);
        assert_eq!(settings.config().epochs, settings.epochs);
    }
}
