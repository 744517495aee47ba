//! What the app remembers between launches: preferences and the plan, never runtime handles.

use serde::{Deserialize, Serialize};

use crate::harness::Plan;
use crate::target::PortSpec;

use super::model::{AxisScale, ErrorBars, Metric};

/// The key under which [`UiState`] is stored in eframe's storage.
pub const STORAGE_KEY: &str = "actprof.ui_state";

/// The key under which the last results (report rows) are stored, beside [`STORAGE_KEY`].
pub const RESULTS_KEY: &str = "actprof.last_results";

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
}

impl Tab {
    /// Every tab in display order.
    pub const ALL: [Tab; 5] = [
        Tab::Heatmap,
        Tab::Compare,
        Tab::Functions,
        Tab::Report,
        Tab::Power,
    ];

    /// The label on the tab button.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Heatmap => "Heatmap",
            Tab::Compare => "Compare",
            Tab::Functions => "Functions",
            Tab::Report => "Report",
            Tab::Power => "Power",
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
        }
    }
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
}
