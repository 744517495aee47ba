//! What every meter emulator shares: the waveform it plays, the faults it injects, and
//! its seed. `actprof emulate KIND --waveform W --fault F,... --seed N` parses these.
//!
//! # Waveforms
//!
//! - `const:0.5W` — constant power at [`DEFAULT_VOLTAGE_V`] (USB bus voltage);
//!   `const:0.5W@3.3V` at another voltage; `const:100mA@3.3V` — constant current.
//! - `square:lo=0.1W,hi=0.5W,period=1s` (optionally `,v=3.3V`) — `lo` for the first half
//!   of every period, `hi` for the second.
//! - a CSV file `time_s,power_w[,voltage_v]` with a header line: each row's value holds
//!   until the next row's time, and the last row holds after the end.
//!
//! Units: W, mW, uW/µW; A, mA, uA/µA; V, mV; durations as everywhere (`500ms`, `1s`).
//!
//! # Faults
//!
//! `--fault` takes a comma-separated list: `garbage` (junk bytes between frames),
//! `short-reads` (frames written in small chunks with pauses, like RFCOMM fragments),
//! `drop-samples` (some replies or samples are left out), `bad-checksum` (some frames
//! are sent with a wrong trailer or checksum), `silent-after=D` (stop answering after D),
//! `disconnect-after=D` (close the port after D) and `replug` (with `disconnect-after`:
//! come back once on a fresh pty instead of exiting). Line loggers (`ina`) also take
//! `partial-line`, `crlf`, `missing-field`, `reset-after=D` and `wrap`. Each emulator
//! documents how often its faults fire.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use crate::harness::plan::parse_duration;
use crate::serial::{Link, SerialError};

/// Bus voltage of waveforms that do not give one, in V (a USB port's nominal VBUS).
pub const DEFAULT_VOLTAGE_V: f64 = 5.0;

/// Seed of the emulators' fault and noise choices unless `--seed` says otherwise.
pub const DEFAULT_SEED: u64 = 6;

/// What an emulated meter measures at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// Power in W.
    pub power_w: f64,
    /// Bus voltage in V.
    pub voltage_v: f64,
    /// Current in A.
    pub current_a: f64,
}

impl Reading {
    /// A reading of `power_w` at `voltage_v` (current = P / V, 0 at 0 V).
    pub fn from_power(power_w: f64, voltage_v: f64) -> Reading {
        let current_a = if voltage_v > 0.0 {
            power_w / voltage_v
        } else {
            0.0
        };
        Reading {
            power_w,
            voltage_v,
            current_a,
        }
    }

    /// A reading of `current_a` at `voltage_v`.
    pub fn from_current(current_a: f64, voltage_v: f64) -> Reading {
        Reading {
            power_w: current_a * voltage_v,
            voltage_v,
            current_a,
        }
    }
}

/// The load an emulator plays, as a function of seconds since it started.
#[derive(Clone, Debug, PartialEq)]
pub enum Waveform {
    /// The same reading all the time.
    Const(Reading),
    /// `lo` for the first half of every period, `hi` for the second.
    Square {
        /// Reading of the low half.
        lo: Reading,
        /// Reading of the high half.
        hi: Reading,
        /// Period in s (> 0).
        period_s: f64,
    },
    /// Rows `(time_s, reading)` in increasing time, each held until the next.
    Table(Vec<(f64, Reading)>),
}

impl Default for Waveform {
    fn default() -> Waveform {
        Waveform::Const(Reading::from_power(0.5, DEFAULT_VOLTAGE_V))
    }
}

impl Waveform {
    /// The reading at `t_s` seconds since the emulator started.
    pub fn at(&self, t_s: f64) -> Reading {
        match self {
            Waveform::Const(reading) => *reading,
            Waveform::Square { lo, hi, period_s } => {
                let phase = t_s.rem_euclid(*period_s) / period_s;
                if phase < 0.5 { *lo } else { *hi }
            }
            Waveform::Table(rows) => {
                let after = rows.partition_point(|(time, _)| *time <= t_s);
                let index = after.saturating_sub(1);
                rows.get(index)
                    .map_or_else(|| Waveform::default().at(0.0), |(_, reading)| *reading)
            }
        }
    }

    /// Reads a waveform CSV file `time_s,power_w[,voltage_v]` (header line first).
    pub fn from_csv(path: &Path) -> Result<Waveform, EmulateError> {
        let text = std::fs::read_to_string(path).map_err(|err| EmulateError::File {
            reason: err.to_string(),
            path: path.display().to_string(),
        })?;
        let bad = |line: usize, reason: String| EmulateError::File {
            reason: format!("line {line}: {reason}"),
            path: path.display().to_string(),
        };
        let mut rows: Vec<(f64, Reading)> = Vec::new();
        for (index, line) in text.lines().enumerate().skip(1) {
            let line_no = index + 1;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if !(2..=3).contains(&fields.len()) {
                return Err(bad(
                    line_no,
                    format!("{} fields, expected 2 or 3", fields.len()),
                ));
            }
            let number = |text: &str| -> Result<f64, EmulateError> {
                match text.parse::<f64>() {
                    Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
                    _ => Err(bad(line_no, format!("`{text}` is not a number ≥ 0"))),
                }
            };
            let time_s = number(fields[0])?;
            let power_w = number(fields[1])?;
            let voltage_v = match fields.get(2) {
                Some(text) => number(text)?,
                None => DEFAULT_VOLTAGE_V,
            };
            if rows.last().is_some_and(|(last, _)| time_s <= *last) {
                return Err(bad(line_no, "time does not increase".to_owned()));
            }
            rows.push((time_s, Reading::from_power(power_w, voltage_v)));
        }
        if rows.is_empty() {
            return Err(bad(1, "no rows after the header".to_owned()));
        }
        Ok(Waveform::Table(rows))
    }
}

impl FromStr for Waveform {
    type Err = EmulateError;

    fn from_str(text: &str) -> Result<Waveform, EmulateError> {
        let text = text.trim();
        let bad = |reason: &str| EmulateError::Waveform {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = text.strip_prefix("const:") {
            return parse_level(rest).map(Waveform::Const).map_err(|r| bad(&r));
        }
        if let Some(rest) = text.strip_prefix("square:") {
            return parse_square(rest).map_err(|r| bad(&r));
        }
        let path = Path::new(text);
        if path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
        {
            return Waveform::from_csv(path);
        }
        Err(bad(
            "expected `const:0.5W`, `const:100mA@3.3V`, `square:lo=0.1W,hi=0.5W,period=1s` \
             or a .csv file",
        ))
    }
}

/// `0.5W`, `0.5W@3.3V` or `100mA@3.3V`.
fn parse_level(text: &str) -> Result<Reading, String> {
    let (level, voltage) = match text.split_once('@') {
        Some((level, voltage)) => (level, parse_quantity(voltage, "V")?),
        None => (text, DEFAULT_VOLTAGE_V),
    };
    if let Ok(power_w) = parse_quantity(level, "W") {
        return Ok(Reading::from_power(power_w, voltage));
    }
    if let Ok(current_a) = parse_quantity(level, "A") {
        return Ok(Reading::from_current(current_a, voltage));
    }
    Err(format!(
        "`{level}` is neither a power (W) nor a current (A)"
    ))
}

fn parse_square(text: &str) -> Result<Waveform, String> {
    let (mut lo, mut hi, mut period, mut voltage) = (None, None, None, DEFAULT_VOLTAGE_V);
    for part in text.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not key=value"))?;
        match key.trim() {
            "lo" => lo = Some(parse_quantity(value, "W")?),
            "hi" => hi = Some(parse_quantity(value, "W")?),
            "period" => {
                let duration = parse_duration(value).map_err(|err| err.to_string())?;
                if duration.is_zero() {
                    return Err("the period must be longer than zero".to_owned());
                }
                period = Some(duration.as_secs_f64());
            }
            "v" => voltage = parse_quantity(value, "V")?,
            other => return Err(format!("unknown key `{other}` (lo, hi, period, v)")),
        }
    }
    match (lo, hi, period) {
        (Some(lo), Some(hi), Some(period_s)) => Ok(Waveform::Square {
            lo: Reading::from_power(lo, voltage),
            hi: Reading::from_power(hi, voltage),
            period_s,
        }),
        _ => Err("a square wave needs lo=, hi= and period=".to_owned()),
    }
}

/// A non-negative number with an SI unit `unit` and an optional m/u/µ prefix.
fn parse_quantity(text: &str, unit: &str) -> Result<f64, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a quantity in {unit}");
    let number = text.strip_suffix(unit).ok_or_else(bad)?;
    let (number, scale) = if let Some(n) = number.strip_suffix('m') {
        (n, 1e-3)
    } else if let Some(n) = number
        .strip_suffix('u')
        .or_else(|| number.strip_suffix('µ'))
    {
        (n, 1e-6)
    } else {
        (number, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value * scale),
        _ => Err(bad()),
    }
}

/// Faults an emulator injects on purpose, for tests of the readers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Junk bytes between frames.
    pub garbage: bool,
    /// Frames written in small chunks with pauses.
    pub short_reads: bool,
    /// Some replies or samples are left out.
    pub drop_samples: bool,
    /// Some frames carry a wrong trailer or checksum.
    pub bad_checksum: bool,
    /// Stop answering this long after start.
    pub silent_after: Option<Duration>,
    /// Close the port this long after start.
    pub disconnect_after: Option<Duration>,
    /// After the disconnect, come back once on a fresh pty instead of exiting.
    pub replug: bool,
    /// Line loggers: start in the middle of a line, as when the port is opened while the
    /// logger is already streaming.
    pub partial_line: bool,
    /// Line loggers: end lines with `\r\n` instead of `\n`.
    pub crlf: bool,
    /// Line loggers: leave a field out of some lines.
    pub missing_field: bool,
    /// Line loggers: print a reset banner and restart the clock at 0 this long after start.
    pub reset_after: Option<Duration>,
    /// Line loggers: start the 32-bit millisecond clock 1.5 s before it wraps.
    pub wrap: bool,
}

impl Faults {
    /// True once `disconnect-after` has passed, `elapsed` after the emulator started
    /// (and says so in the log): the emulator then closes its port.
    pub fn disconnect_due(&self, elapsed: Duration) -> bool {
        let due = self.disconnect_after.is_some_and(|after| elapsed >= after);
        if due {
            tracing::info!(
                "disconnecting on purpose after {:.1} s",
                elapsed.as_secs_f64()
            );
        }
        due
    }
}

/// Writes `bytes` whole, or with `fragment` in random chunks of 1–40 bytes with pauses of
/// 2–15 ms between them (the `short-reads` fault: RFCOMM fragmentation).
pub fn write_fragmented(
    link: &mut dyn Link,
    bytes: &[u8],
    fragment: bool,
    rng: &mut ChaCha8Rng,
) -> Result<(), SerialError> {
    if !fragment {
        return link.write_all(bytes);
    }
    let mut rest = bytes;
    while !rest.is_empty() {
        let take = rng.random_range(1..=40).min(rest.len());
        link.write_all(&rest[..take])?;
        rest = &rest[take..];
        std::thread::sleep(Duration::from_millis(rng.random_range(2..=15)));
    }
    Ok(())
}

impl FromStr for Faults {
    type Err = EmulateError;

    fn from_str(text: &str) -> Result<Faults, EmulateError> {
        let mut faults = Faults::default();
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let bad = |reason: String| EmulateError::Fault {
                text: item.to_owned(),
                reason,
            };
            let duration = |value: &str| parse_duration(value).map_err(|err| bad(err.to_string()));
            match item.split_once('=') {
                None => match item {
                    "garbage" => faults.garbage = true,
                    "short-reads" => faults.short_reads = true,
                    "drop-samples" => faults.drop_samples = true,
                    "bad-checksum" => faults.bad_checksum = true,
                    "replug" => faults.replug = true,
                    "partial-line" => faults.partial_line = true,
                    "crlf" => faults.crlf = true,
                    "missing-field" => faults.missing_field = true,
                    "wrap" => faults.wrap = true,
                    _ => return Err(bad(FAULT_NAMES.to_owned())),
                },
                Some(("silent-after", value)) => faults.silent_after = Some(duration(value)?),
                Some(("disconnect-after", value)) => {
                    faults.disconnect_after = Some(duration(value)?);
                }
                Some(("reset-after", value)) => faults.reset_after = Some(duration(value)?),
                Some(_) => return Err(bad(FAULT_NAMES.to_owned())),
            }
        }
        if faults.replug && faults.disconnect_after.is_none() {
            return Err(EmulateError::Fault {
                text: "replug".to_owned(),
                reason: "needs disconnect-after=D as well".to_owned(),
            });
        }
        Ok(faults)
    }
}

const FAULT_NAMES: &str = "known faults: garbage, short-reads, drop-samples, bad-checksum, \
                           silent-after=D, disconnect-after=D, replug; for line loggers \
                           also partial-line, crlf, missing-field, reset-after=D, wrap";

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = Vec::new();
        for (on, name) in [
            (self.garbage, "garbage"),
            (self.short_reads, "short-reads"),
            (self.drop_samples, "drop-samples"),
            (self.bad_checksum, "bad-checksum"),
            (self.partial_line, "partial-line"),
            (self.crlf, "crlf"),
            (self.missing_field, "missing-field"),
            (self.wrap, "wrap"),
        ] {
            if on {
                names.push(name.to_owned());
            }
        }
        if let Some(after) = self.silent_after {
            names.push(format!("silent-after={}s", after.as_secs_f64()));
        }
        if let Some(after) = self.disconnect_after {
            names.push(format!("disconnect-after={}s", after.as_secs_f64()));
        }
        if let Some(after) = self.reset_after {
            names.push(format!("reset-after={}s", after.as_secs_f64()));
        }
        if self.replug {
            names.push("replug".to_owned());
        }
        f.write_str(&names.join(","))
    }
}

/// Everything an emulator is told.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorOptions {
    /// The load it plays.
    pub waveform: Waveform,
    /// The faults it injects.
    pub faults: Faults,
    /// Seed of its random choices (garbage bytes, chunk sizes and pauses).
    pub seed: u64,
    /// Delay between a request and its reply; `None` = the model's own default.
    pub reply_delay: Option<Duration>,
}

impl Default for EmulatorOptions {
    fn default() -> EmulatorOptions {
        EmulatorOptions {
            waveform: Waveform::default(),
            faults: Faults::default(),
            seed: DEFAULT_SEED,
            reply_delay: None,
        }
    }
}

/// A bad `--waveform` or `--fault`.
#[derive(Debug, thiserror::Error)]
pub enum EmulateError {
    /// The waveform text is malformed.
    #[error("bad waveform `{text}`: {reason}")]
    Waveform { text: String, reason: String },

    /// A waveform CSV file cannot be read or is malformed.
    #[error("bad waveform file ({reason}): {path}")]
    File { reason: String, path: String },

    /// A fault is unknown or malformed.
    #[error("bad fault `{text}`: {reason}")]
    Fault { text: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn constant_power_defaults_to_usb_voltage() {
        let wave: Waveform = "const:0.5W".parse().expect("parses");
        let reading = wave.at(123.0);
        assert_eq!(reading.power_w, 0.5);
        assert_eq!(reading.voltage_v, 5.0);
        assert!(close(reading.current_a, 0.1));

        let milli: Waveform = "const:250mW@3.3V".parse().expect("parses");
        assert!(close(milli.at(0.0).power_w, 0.25));
        assert_eq!(milli.at(0.0).voltage_v, 3.3);
    }

    #[test]
    fn constant_current_sets_power_from_voltage() {
        let wave: Waveform = "const:100mA@3.3V".parse().expect("parses");
        let reading = wave.at(0.0);
        assert!(close(reading.current_a, 0.1));
        assert!(close(reading.power_w, 0.33));
    }

    #[test]
    fn a_square_wave_is_low_then_high_every_period() {
        let wave: Waveform = "square:lo=0.1W,hi=0.5W,period=1s".parse().expect("parses");
        assert_eq!(wave.at(0.0).power_w, 0.1);
        assert_eq!(wave.at(0.49).power_w, 0.1);
        assert_eq!(wave.at(0.5).power_w, 0.5);
        assert_eq!(wave.at(0.99).power_w, 0.5);
        assert_eq!(wave.at(1.2).power_w, 0.1);
        let volts: Waveform = "square:lo=1W,hi=2W,period=200ms,v=12V".parse().expect("v");
        assert_eq!(volts.at(0.15).voltage_v, 12.0);
        assert!(close(volts.at(0.15).current_a, 2.0 / 12.0));
    }

    #[test]
    fn a_csv_waveform_holds_each_row_until_the_next() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("load.csv");
        std::fs::write(&path, "time_s,power_w,voltage_v\n0,0.2\n1.5,0.8,3.3\n").expect("write");
        let wave: Waveform = path.to_str().expect("utf-8").parse().expect("parses");
        assert_eq!(wave.at(0.0).power_w, 0.2);
        assert_eq!(wave.at(0.0).voltage_v, 5.0);
        assert_eq!(wave.at(1.49).power_w, 0.2);
        assert_eq!(wave.at(1.5).power_w, 0.8);
        assert_eq!(wave.at(100.0).voltage_v, 3.3);
    }

    #[test]
    fn bad_waveforms_say_what_is_wrong() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backwards = dir.path().join("back.csv");
        std::fs::write(&backwards, "time_s,power_w\n1,0.2\n0.5,0.3\n").expect("write");
        let backwards = backwards.to_str().expect("utf-8").to_owned();
        for (text, reason) in [
            ("const:0.5", "neither a power"),
            ("const:-1W", "neither a power"),
            ("const:1W@5", "quantity in V"),
            ("square:lo=0.1W,hi=0.5W", "needs lo=, hi= and period="),
            ("square:lo=0.1W,hi=0.5W,period=0s", "longer than zero"),
            ("square:lo=0.1W,top=1W,period=1s", "unknown key `top`"),
            ("sine:1W", "expected `const:0.5W`"),
            (backwards.as_str(), "line 3: time does not increase"),
            ("/no/such/load.csv", "bad waveform file"),
        ] {
            let message = text.parse::<Waveform>().expect_err(text).to_string();
            assert!(message.contains(reason), "{text}: {message}");
        }
    }

    #[test]
    fn faults_parse_from_a_list_and_print_back() {
        let faults: Faults = "garbage, short-reads,bad-checksum,silent-after=1.5s,\
                              disconnect-after=500ms,replug"
            .parse()
            .expect("parses");
        assert!(faults.garbage && faults.short_reads && faults.bad_checksum && faults.replug);
        assert!(!faults.drop_samples);
        assert_eq!(faults.silent_after, Some(Duration::from_millis(1500)));
        assert_eq!(faults.disconnect_after, Some(Duration::from_millis(500)));
        let again: Faults = faults.to_string().parse().expect("round trip");
        assert_eq!(again, faults);
        assert_eq!("".parse::<Faults>().expect("none"), Faults::default());
    }

    #[test]
    fn bad_faults_are_refused_by_name() {
        for (text, reason) in [
            ("sparks", "known faults"),
            ("silent-after=soon", "silent-after=soon"),
            ("replug", "needs disconnect-after"),
            ("garbage=yes", "known faults"),
        ] {
            let message = text.parse::<Faults>().expect_err(text).to_string();
            assert!(message.contains(reason), "{text}: {message}");
        }
    }
}
