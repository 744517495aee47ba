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

/// Prefix of [`SourceInfo::description`] for a source whose device identified itself as
/// an emulator (`actprof emulate`).
pub const EMULATED_PREFIX: &str = "EMULATED";

impl SourceInfo {
    /// True when the readings come from an emulator, not a real device.
    pub fn is_emulated(&self) -> bool {
        self.description.starts_with(EMULATED_PREFIX)
    }

    /// The spec, with ` (emulated)` appended for an emulator: what exports write in
    /// their `power_source` column.
    pub fn label(&self) -> String {
        if self.is_emulated() {
            format!("{} (emulated)", self.spec)
        } else {
            self.spec.clone()
        }
    }
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
    /// The 8 digital inputs D0–D7 sampled with the reading (bit `n` is `Dn`, 1 = high),
    /// for a source that has them (the PPK2). A sample that averages a block of
    /// readings holds the OR of the block's inputs: a pin reads 1 when it was high in
    /// any reading of the block, so a pulse shorter than the block is not lost.
    #[serde(default)]
    pub logic: Option<u8>,
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
            logic: None,
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
    /// RDTech UM24C USB meter (Bluetooth serial).
    Um24c,
    /// RDTech UM25C USB meter (Bluetooth serial).
    Um25c,
    /// RDTech UM34C USB meter (Bluetooth serial).
    Um34c,
    /// RDTech TC66C USB-C meter (USB serial).
    Tc66c,
    /// Nordic Power Profiler Kit II.
    Ppk2,
    /// An SCPI bench supply or multimeter.
    Scpi,
    /// A line-streaming INA219/INA226 logger.
    Ina,
}

impl SourceKind {
    /// Every kind with its spec name, in the order help texts list them.
    pub const ALL: [(SourceKind, &'static str); 9] = [
        (SourceKind::Rapl, "rapl"),
        (SourceKind::Battery, "battery"),
        (SourceKind::Um24c, "um24c"),
        (SourceKind::Um25c, "um25c"),
        (SourceKind::Um34c, "um34c"),
        (SourceKind::Tc66c, "tc66c"),
        (SourceKind::Ppk2, "ppk2"),
        (SourceKind::Scpi, "scpi"),
        (SourceKind::Ina, "ina"),
    ];

    /// The kind's name in specs, e.g. `um25c`.
    pub fn name(self) -> &'static str {
        SourceKind::ALL
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("?", |(_, name)| name)
    }

    /// The kind named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<SourceKind> {
        SourceKind::ALL
            .iter()
            .find(|(_, known)| known.eq_ignore_ascii_case(name))
            .map(|(kind, _)| *kind)
    }

    /// True for meters on a serial port, whose argument is `PORT[?key=value&...]`.
    pub fn is_serial_meter(self) -> bool {
        !matches!(self, SourceKind::Rapl | SourceKind::Battery)
    }
}

/// A power source named by one string: `KIND` or `KIND:ARG`, e.g. `rapl`,
/// `rapl:package-0`, `battery` (the argument is a zone for RAPL, a port for meters).
///
/// Serial meters need the port and may take options after it:
/// `KIND:PORT?key=value&key=value`, e.g. `um25c:/dev/rfcomm0?group=3` or
/// `ina:/dev/ttyUSB0?baud=115200`. [`port`](SourceSpec::port) and
/// [`options`](SourceSpec::options) split the argument; each meter checks its own keys.
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
        let Some(kind) = SourceKind::from_name(kind) else {
            return Err(PowerError::UnknownKind {
                spec: spec.to_owned(),
                kind: kind.to_owned(),
            });
        };
        if kind == SourceKind::Battery && arg.is_some() {
            return Err(bad("`battery` takes no argument"));
        }
        let parsed = SourceSpec {
            kind,
            arg: arg.map(str::to_owned),
        };
        if kind.is_serial_meter() {
            let name = kind.name();
            if parsed.port().is_none() {
                return Err(bad(&format!(
                    "`{name}` needs a serial port, e.g. `{name}:/dev/ttyUSB0` \
                     (`actprof ports` lists them)"
                )));
            }
            parsed.options()?;
        }
        Ok(parsed)
    }
}

impl SourceSpec {
    /// A serial meter's port: the argument up to `?`, if not empty.
    pub fn port(&self) -> Option<&str> {
        let arg = self.arg.as_deref()?;
        let port = arg.split_once('?').map_or(arg, |(port, _)| port);
        (!port.is_empty()).then_some(port)
    }

    /// A serial meter's `key=value` options after `?`, in order.
    pub fn options(&self) -> Result<Vec<(&str, &str)>, PowerError> {
        let Some((_, text)) = self.arg.as_deref().and_then(|arg| arg.split_once('?')) else {
            return Ok(Vec::new());
        };
        let mut options = Vec::new();
        for pair in text.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some((key, value)) if !key.is_empty() && !value.is_empty() => {
                    if options.iter().any(|(seen, _)| *seen == key) {
                        return Err(self.bad_option(format!("option `{key}` is given twice")));
                    }
                    options.push((key, value));
                }
                _ => {
                    return Err(self.bad_option(format!(
                        "option `{pair}` is not key=value (e.g. `?baud=115200`)"
                    )));
                }
            }
        }
        Ok(options)
    }

    /// The value of option `key`, refusing the spec if it has options not in `known`.
    pub fn option(&self, key: &str, known: &[&str]) -> Result<Option<&str>, PowerError> {
        let options = self.options()?;
        if let Some((unknown, _)) = options.iter().find(|(key, _)| !known.contains(key)) {
            let known = if known.is_empty() {
                "it takes none".to_owned()
            } else {
                format!("known: {}", known.join(", "))
            };
            return Err(self.bad_option(format!(
                "`{}` has no option `{unknown}` ({known})",
                self.kind.name()
            )));
        }
        Ok(options
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value))
    }

    /// Option `key` parsed as a `T`, refusing unknown options like [`option`](Self::option).
    pub fn parsed_option<T: FromStr>(
        &self,
        key: &str,
        known: &[&str],
    ) -> Result<Option<T>, PowerError> {
        match self.option(key, known)? {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                self.bad_option(format!("option `{key}={text}` is not a valid value"))
            }),
        }
    }

    fn bad_option(&self, reason: String) -> PowerError {
        PowerError::BadSpec {
            spec: self.to_string(),
            reason,
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.name();
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
        SourceKind::Um24c | SourceKind::Um25c | SourceKind::Um34c => {
            super::meters::um::open(spec, poll_interval)
        }
        SourceKind::Tc66c => super::meters::tc66c::open(spec, poll_interval),
        SourceKind::Scpi => super::meters::scpi::source::open(spec, poll_interval),
        SourceKind::Ina => super::meters::line::source::open(spec, poll_interval),
        SourceKind::Ppk2 => super::meters::ppk2::open(spec, poll_interval),
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
    fn unknown_kinds_are_refused_by_name() {
        let err = "um99x:/dev/rfcomm0"
            .parse::<SourceSpec>()
            .expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains("unknown power source kind `um99x`"),
            "{message}"
        );
        assert!(message.contains("rapl"), "{message}");
        assert!(message.contains("um25c:PORT"), "{message}");
    }

    #[test]
    fn meter_specs_take_a_port_and_options() {
        for (text, kind) in [
            ("um24c:/dev/rfcomm0", SourceKind::Um24c),
            ("UM25C:/dev/rfcomm1", SourceKind::Um25c),
            ("um34c:/dev/pts/3", SourceKind::Um34c),
            ("tc66c:/dev/ttyACM0", SourceKind::Tc66c),
            (
                "ppk2:/dev/ttyACM0?mode=source&vdd_mv=3300",
                SourceKind::Ppk2,
            ),
            ("scpi:/dev/ttyUSB0", SourceKind::Scpi),
            ("ina:/dev/ttyUSB0?baud=115200", SourceKind::Ina),
        ] {
            let spec: SourceSpec = text.parse().expect(text);
            assert_eq!(spec.kind, kind, "{text}");
            assert!(
                spec.port().is_some_and(|port| port.starts_with("/dev/")),
                "{text}"
            );
        }
        let ppk2: SourceSpec = "ppk2:/dev/ttyACM0?mode=source&vdd_mv=3300"
            .parse()
            .expect("ok");
        assert_eq!(ppk2.port(), Some("/dev/ttyACM0"));
        assert_eq!(
            ppk2.options().expect("options"),
            [("mode", "source"), ("vdd_mv", "3300")]
        );
        let known = ["mode", "vdd_mv"];
        assert_eq!(
            ppk2.parsed_option::<u32>("vdd_mv", &known).expect("u32"),
            Some(3300)
        );
        assert_eq!(
            ppk2.option("baud", &["mode", "vdd_mv", "baud"])
                .expect("ok"),
            None
        );
        assert_eq!(
            ppk2.to_string(),
            "ppk2:/dev/ttyACM0?mode=source&vdd_mv=3300"
        );
    }

    #[test]
    fn bad_meter_specs_say_what_is_wrong() {
        for (text, reason) in [
            ("um25c", "needs a serial port"),
            ("um25c:?group=1", "needs a serial port"),
            ("um25c:/dev/rfcomm0?group", "not key=value"),
            ("um25c:/dev/rfcomm0?=3", "not key=value"),
            ("um25c:/dev/rfcomm0?group=1&group=2", "given twice"),
        ] {
            let message = text.parse::<SourceSpec>().expect_err(text).to_string();
            assert!(message.contains(reason), "{text}: {message}");
        }
        let spec: SourceSpec = "um25c:/dev/rfcomm0?colour=red".parse().expect("parses");
        let message = spec
            .option("group", &["group"])
            .expect_err("unknown")
            .to_string();
        assert!(
            message.contains("no option `colour` (known: group)"),
            "{message}"
        );
        let spec: SourceSpec = "um25c:/dev/rfcomm0?group=x".parse().expect("parses");
        let message = spec
            .parsed_option::<u8>("group", &["group"])
            .expect_err("not a number")
            .to_string();
        assert!(
            message.contains("`group=x` is not a valid value"),
            "{message}"
        );
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
    fn an_emulated_source_is_labelled_so() {
        let mut info = SourceInfo {
            spec: "um25c:/dev/pts/3".into(),
            description: "RDTech UM25C on /dev/pts/3".into(),
            quantity: Quantity::CurrentVoltage,
            rate_hz: 2.0,
            resolution: Resolution::PowerW(0.001),
            coarse: true,
            clock_offset_s: None,
        };
        assert!(!info.is_emulated());
        assert_eq!(info.label(), "um25c:/dev/pts/3");
        info.description = format!("{EMULATED_PREFIX} {}", info.description);
        assert!(info.is_emulated());
        assert_eq!(info.label(), "um25c:/dev/pts/3 (emulated)");
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
