//! The [`PowerSource`] trait, its samples, and the one-string [`SourceSpec`] that the CLI,
//! profiles and the GUI all use to name a source.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::PowerError;
use super::battery::BatterySource;
use super::rapl::RaplSource;

/// Environment variable that moves the powercap root away from `/sys/class/powercap`.
/// A testing and diagnostic hook: point it at a copy of a machine's powercap tree.
pub const POWERCAP_ROOT_ENV: &str = "ACTPROF_POWERCAP_ROOT";

/// Environment variable that moves the power-supply root away from
/// `/sys/class/power_supply` (testing and diagnostic hook, like [`POWERCAP_ROOT_ENV`]).
pub const POWER_SUPPLY_ROOT_ENV: &str = "ACTPROF_POWER_SUPPLY_ROOT";

/// What a source measures directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Instantaneous power in W.
    Power,
    /// Current in A and voltage in V, whose product is the power.
    CurrentVoltage,
    /// A cumulative energy counter in J; power is its rate of change.
    EnergyCounter,
}

/// The smallest step a source can report.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// A power step in W.
    PowerW(f64),
    /// An energy step in J.
    EnergyJ(f64),
}

/// What a source is, for the journal and for the user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The spec it was opened from, e.g. `rapl:package-0`.
    pub spec: String,
    /// One line for people: what is measured and how well.
    pub description: String,
    /// What the source measures directly.
    pub quantity: Quantity,
    /// Nominal sample rate in Hz (for polled sources, one over the poll interval).
    pub rate_hz: f64,
    /// Smallest reportable step.
    pub resolution: Resolution,
    /// True when the readings are too slow or smoothed to resolve single runs.
    pub coarse: bool,
    /// For a source with its own clock: session time = source time + this offset, in s.
    /// `None` when samples are stamped on the host clock directly.
    #[serde(default)]
    pub clock_offset_s: Option<f64>,
}

/// One reading, stamped in seconds since the session started (host monotonic clock).
///
/// `power_w` is always finite. For counter sources it is the mean power over the interval
/// that ends at `t_s`, and `energy_j` holds the counter (J since the source started).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerSample {
    /// Seconds since the session started.
    pub t_s: f64,
    /// Power in W.
    pub power_w: f64,
    /// Current in A, when the source measures it.
    pub current_a: Option<f64>,
    /// Voltage in V, when the source measures it.
    pub voltage_v: Option<f64>,
    /// Energy counter in J since the source started, for counter sources.
    pub energy_j: Option<f64>,
}

impl PowerSample {
    /// A power-only sample.
    pub fn power(t_s: f64, power_w: f64) -> PowerSample {
        PowerSample {
            t_s,
            power_w,
            current_a: None,
            voltage_v: None,
            energy_j: None,
        }
    }
}

/// The session clock as a source sees it: seconds since the session started.
pub trait Clock {
    /// Seconds since the session started, on the host monotonic clock.
    fn now_s(&self) -> f64;
}

/// A power meter or counter that a sampler thread polls.
///
/// The sampler calls [`start`](PowerSource::start) once, then
/// [`poll`](PowerSource::poll) every [`poll_interval`](PowerSource::poll_interval), then
/// [`stop`](PowerSource::stop). Samples are stamped on the [`Clock`] it passes; a source
/// with its own clock maps its time stamps onto it and records the offset in its
/// [`SourceInfo`].
pub trait PowerSource: Send {
    /// What this source is and measures.
    fn info(&self) -> SourceInfo;

    /// How often the sampler should call [`poll`](PowerSource::poll).
    fn poll_interval(&self) -> Duration;

    /// Begins measuring (reads counter baselines, checks access).
    fn start(&mut self, clock: &dyn Clock) -> Result<(), PowerError>;

    /// Readings taken since the last poll (may be empty).
    fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError>;

    /// Ends measuring.
    fn stop(&mut self) -> Result<(), PowerError>;
}

/// The kinds of source this build can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Linux RAPL energy counters through powercap sysfs.
    Rapl,
    /// The laptop battery's discharge through the power-supply class.
    Battery,
}

/// A power source named by one string: `KIND` or `KIND:ARG`, e.g. `rapl`,
/// `rapl:package-0`, `battery` (the argument is a zone for RAPL, a port for meters).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceSpec {
    /// Which backend.
    pub kind: SourceKind,
    /// What follows the first `:`, if anything.
    pub arg: Option<String>,
}

impl FromStr for SourceSpec {
    type Err = PowerError;

    fn from_str(text: &str) -> Result<SourceSpec, PowerError> {
        let spec = text.trim();
        let (kind, arg) = match spec.split_once(':') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (spec, None),
        };
        let bad = |reason: &str| PowerError::BadSpec {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        if kind.is_empty() {
            return Err(bad(
                "expected KIND or KIND:ARG, e.g. `rapl` or `rapl:package-0`",
            ));
        }
        if arg.is_some_and(str::is_empty) {
            return Err(bad("nothing after `:`"));
        }
        let kind = match kind.to_ascii_lowercase().as_str() {
            "rapl" => SourceKind::Rapl,
            "battery" => SourceKind::Battery,
            _ => {
                return Err(PowerError::UnknownKind {
                    spec: spec.to_owned(),
                    kind: kind.to_owned(),
                });
            }
        };
        if kind == SourceKind::Battery && arg.is_some() {
            return Err(bad("`battery` takes no argument"));
        }
        Ok(SourceSpec {
            kind,
            arg: arg.map(str::to_owned),
        })
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            SourceKind::Rapl => "rapl",
            SourceKind::Battery => "battery",
        };
        match &self.arg {
            Some(arg) => write!(f, "{kind}:{arg}"),
            None => f.write_str(kind),
        }
    }
}

impl TryFrom<String> for SourceSpec {
    type Error = PowerError;

    fn try_from(text: String) -> Result<SourceSpec, PowerError> {
        text.parse()
    }
}

impl From<SourceSpec> for String {
    fn from(spec: SourceSpec) -> String {
        spec.to_string()
    }
}

/// Opens the source `spec` names, to be polled every `poll_interval`.
///
/// The sysfs roots are the kernel's unless [`POWERCAP_ROOT_ENV`] or
/// [`POWER_SUPPLY_ROOT_ENV`] say otherwise.
pub fn open(
    spec: &SourceSpec,
    poll_interval: Duration,
) -> Result<Box<dyn PowerSource>, PowerError> {
    match spec.kind {
        SourceKind::Rapl => {
            let root = root_from_env(POWERCAP_ROOT_ENV, super::rapl::DEFAULT_POWERCAP_ROOT);
            let source = RaplSource::open(&root, spec.arg.as_deref(), poll_interval)?;
            Ok(Box::new(source))
        }
        SourceKind::Battery => {
            let root = root_from_env(
                POWER_SUPPLY_ROOT_ENV,
                super::battery::DEFAULT_POWER_SUPPLY_ROOT,
            );
            Ok(Box::new(BatterySource::open(&root, poll_interval)?))
        }
    }
}

fn root_from_env(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_kind_and_argument() {
        let rapl: SourceSpec = "rapl".parse().expect("parses");
        assert_eq!(rapl.kind, SourceKind::Rapl);
        assert_eq!(rapl.arg, None);

        let zone: SourceSpec = "rapl:package-0".parse().expect("parses");
        assert_eq!(zone.arg.as_deref(), Some("package-0"));
        assert_eq!(zone.to_string(), "rapl:package-0");

        let by_dir: SourceSpec = "rapl:intel-rapl:0:1".parse().expect("parses");
        assert_eq!(by_dir.arg.as_deref(), Some("intel-rapl:0:1"));

        let battery: SourceSpec = " battery ".parse().expect("parses");
        assert_eq!(battery.kind, SourceKind::Battery);
    }

    #[test]
    fn meters_not_built_yet_are_refused_by_name() {
        let err = "um25c:/dev/rfcomm0"
            .parse::<SourceSpec>()
            .expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains("unknown power source kind `um25c`"),
            "{message}"
        );
        assert!(message.contains("rapl"), "{message}");
    }

    #[test]
    fn malformed_specs_say_what_is_wrong() {
        for (text, reason) in [
            ("", "expected KIND"),
            ("rapl:", "nothing after"),
            ("battery:BAT0", "takes no argument"),
        ] {
            let message = text.parse::<SourceSpec>().expect_err(text).to_string();
            assert!(message.contains(reason), "{text}: {message}");
        }
    }

    #[test]
    fn specs_round_trip_through_serde() {
        let spec: SourceSpec = "rapl:core".parse().expect("parses");
        let json = serde_json::to_string(&spec).expect("serializes");
        assert_eq!(json, "\"rapl:core\"");
        let back: SourceSpec = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, spec);
    }
}
