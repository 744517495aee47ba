//! A SCPI instrument polled over a serial port as a [`PowerSource`]:
//! `scpi:PORT[?baud=N&curr=CMD&volt=CMD&eol=lf|crlf&timeout=D&profile=FILE]`.
//!
//! Opening sends `*IDN?` and needs its four-field reply within [`IDN_TIMEOUT`], then one
//! valid current and voltage reading: an open port is not yet an instrument, and the
//! error says which step failed. Every poll sends the current query, then the voltage
//! query, each after dropping stale input, and stamps the sample at the middle of the
//! exchange on the session clock. A reply that is not a number is dropped and counted,
//! never turned into a sample; a query without a reply within the timeout is counted,
//! and an instrument that answers nothing valid for [`SILENT_AFTER`] is reported silent.
//! The `EMU` manufacturer of actprof's emulator labels the source emulated.
//!
//! # Configuration
//!
//! A meter profile (`profile=profiles/meters/scpi-generic.toml`) gives the defaults of
//! an instrument; the spec's options override it:
//!
//! ```toml
//! [scpi]
//! baud = 9600
//! current_query = "MEAS:CURR?"
//! voltage_query = "MEAS:VOLT?"
//! line_ending = "lf"        # or "crlf"
//! timeout_ms = 500
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{
    DEFAULT_CURRENT_QUERY, DEFAULT_VOLTAGE_QUERY, IDN_QUERY, Identity, LineEnding, MAX_LINE_LEN,
    ReplyError, encode_command, parse_identity, parse_number,
};
use crate::harness::plan::parse_duration;
use crate::power::meters::text::{Framed, LineFramer, drain_input, printed_step};
use crate::power::meters::{ConnectStep, MeterError, Seen};
use crate::power::{
    Clock, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo, SourceSpec,
};
use crate::serial::{Link, SerialError, open_port};

/// Baud rate unless the profile or `?baud=` says otherwise (common for RS-232 bench
/// supplies; USB instruments ignore it).
pub const DEFAULT_BAUD: u32 = 9600;

/// Reply timeout of one query unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// How long `*IDN?` may take when opening.
pub const IDN_TIMEOUT: Duration = Duration::from_secs(2);

/// An instrument without a valid reading for this long is reported silent.
pub const SILENT_AFTER: Duration = Duration::from_secs(3);

/// Options `scpi:` takes.
const OPTIONS: &[&str] = &["baud", "curr", "volt", "eol", "timeout", "profile"];

/// The name in messages.
const METER: &str = "SCPI instrument";

/// How an instrument is spoken to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScpiConfig {
    /// Baud rate.
    pub baud: u32,
    /// Query answering the current in A.
    pub current_query: String,
    /// Query answering the voltage in V.
    pub voltage_query: String,
    /// `lf` or `crlf`.
    pub line_ending: String,
    /// Reply timeout of one query, in ms.
    pub timeout_ms: u64,
}

impl Default for ScpiConfig {
    fn default() -> ScpiConfig {
        ScpiConfig {
            baud: DEFAULT_BAUD,
            current_query: DEFAULT_CURRENT_QUERY.to_owned(),
            voltage_query: DEFAULT_VOLTAGE_QUERY.to_owned(),
            line_ending: "lf".to_owned(),
            timeout_ms: DEFAULT_TIMEOUT.as_millis() as u64,
        }
    }
}

/// A meter profile file: the `[scpi]` table.
#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default)]
    scpi: ScpiConfig,
}

impl ScpiConfig {
    /// The configuration a spec names: its profile (if any), then its options.
    pub fn from_spec(spec: &SourceSpec) -> Result<ScpiConfig, PowerError> {
        let bad = |reason: String| PowerError::BadSpec {
            spec: spec.to_string(),
            reason,
        };
        let mut config = match spec.option("profile", OPTIONS)? {
            Some(path) => read_profile(Path::new(path)).map_err(&bad)?,
            None => ScpiConfig::default(),
        };
        if let Some(baud) = spec.parsed_option::<u32>("baud", OPTIONS)? {
            config.baud = baud;
        }
        if let Some(query) = spec.option("curr", OPTIONS)? {
            config.current_query = query.to_owned();
        }
        if let Some(query) = spec.option("volt", OPTIONS)? {
            config.voltage_query = query.to_owned();
        }
        if let Some(eol) = spec.option("eol", OPTIONS)? {
            config.line_ending = eol.to_owned();
        }
        if let Some(text) = spec.option("timeout", OPTIONS)? {
            let timeout = parse_duration(text).map_err(|err| bad(err.to_string()))?;
            config.timeout_ms = timeout.as_millis() as u64;
        }
        config.line_ending().map_err(&bad)?;
        if config.timeout_ms == 0 {
            return Err(bad("the reply timeout must be longer than zero".to_owned()));
        }
        for query in [&config.current_query, &config.voltage_query] {
            if query.trim().is_empty() || query.contains(['\n', '\r']) {
                return Err(bad(format!("`{query}` is not a SCPI query")));
            }
        }
        Ok(config)
    }

    /// The line ending as a value.
    pub fn line_ending(&self) -> Result<LineEnding, String> {
        match self.line_ending.to_ascii_lowercase().as_str() {
            "lf" => Ok(LineEnding::Lf),
            "crlf" => Ok(LineEnding::CrLf),
            other => Err(format!("line ending `{other}` is neither `lf` nor `crlf`")),
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

fn read_profile(path: &Path) -> Result<ScpiConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read the meter profile ({err}): {}", path.display()))?;
    let profile: Profile = toml::from_str(&text)
        .map_err(|err| format!("invalid meter profile ({err}): {}", path.display()))?;
    Ok(profile.scpi)
}

/// What one query gave.
enum Answer {
    /// A number.
    Value(f64, Option<f64>),
    /// Nothing within the timeout.
    Timeout,
    /// A reply that is not a number.
    Rejected(ReplyError),
}

/// A connected SCPI instrument.
pub struct ScpiSource {
    spec: SourceSpec,
    config: ScpiConfig,
    ending: LineEnding,
    link: Box<dyn Link>,
    framer: LineFramer,
    identity: Identity,
    poll_interval: Duration,
    seen: Seen,
    step_w: Option<f64>,
    timeouts: u64,
    last_valid_s: f64,
}

/// Opens `scpi:PORT[?…]` and identifies the instrument (see the module doc).
pub fn open(
    spec: &SourceSpec,
    poll_interval: Duration,
) -> Result<Box<dyn PowerSource>, PowerError> {
    let config = ScpiConfig::from_spec(spec)?;
    let port = spec.port().ok_or_else(|| PowerError::BadSpec {
        spec: spec.to_string(),
        reason: "`scpi` needs a serial port, e.g. `scpi:/dev/ttyUSB0`".to_owned(),
    })?;
    let link = open_port(port, config.baud)?;
    Ok(Box::new(ScpiSource::connect(
        spec.clone(),
        config,
        link,
        poll_interval,
    )?))
}

impl ScpiSource {
    /// Identifies the instrument on `link` and takes a first reading.
    pub fn connect(
        spec: SourceSpec,
        config: ScpiConfig,
        link: Box<dyn Link>,
        poll_interval: Duration,
    ) -> Result<ScpiSource, PowerError> {
        let ending = config.line_ending().map_err(|reason| PowerError::BadSpec {
            spec: spec.to_string(),
            reason,
        })?;
        let started = Instant::now();
        let mut source = ScpiSource {
            spec,
            config,
            ending,
            link,
            framer: LineFramer::new(MAX_LINE_LEN),
            identity: Identity {
                manufacturer: String::new(),
                model: String::new(),
                serial: String::new(),
                firmware: String::new(),
            },
            poll_interval,
            seen: Seen::default(),
            step_w: None,
            timeouts: 0,
            last_valid_s: 0.0,
        };
        let failed = |source: &ScpiSource, step: ConnectStep| MeterError::NotConnected {
            meter: METER,
            step,
            waited_s: started.elapsed().as_secs_f64(),
            seen: source.seen.clone(),
            port: source.link.name().to_owned(),
        };
        let reply = source.query(IDN_QUERY, IDN_TIMEOUT)?;
        let Some(line) = reply else {
            return Err(failed(&source, ConnectStep::Reply).into());
        };
        source.identity = match parse_identity(&line) {
            Ok(identity) => identity,
            Err(err) => {
                tracing::debug!("{err}");
                return Err(failed(&source, ConnectStep::Frame).into());
            }
        };
        tracing::debug!("{} on {}", source.identity, source.link.name());
        if source.reading()?.is_none() {
            return Err(failed(&source, ConnectStep::Frame).into());
        }
        source.seen.frames = 1;
        Ok(source)
    }

    /// Sends `command` after dropping stale input and waits up to `timeout` for one
    /// reply line; `None` when none came.
    fn query(&mut self, command: &str, timeout: Duration) -> Result<Option<Vec<u8>>, SerialError> {
        self.framer.clear();
        drain_input(self.link.as_mut())?;
        self.link.write_all(&encode_command(command, self.ending))?;
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 512];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let count = self.link.read_some(&mut buf, left)?;
            self.seen.received(&buf[..count]);
            for framed in self.framer.push(&buf[..count]) {
                match framed {
                    Framed::Line(line) if line.is_empty() => {}
                    Framed::Line(line) => return Ok(Some(line)),
                    Framed::Overlong(len) => {
                        self.seen.rejected += 1;
                        tracing::trace!("{len}-byte reply line dropped");
                    }
                }
            }
        }
    }

    /// Asks `command` and reads the number it answers.
    fn number(&mut self, command: &str) -> Result<Answer, SerialError> {
        let timeout = self.config.timeout();
        let Some(line) = self.query(command, timeout)? else {
            return Ok(Answer::Timeout);
        };
        Ok(match parse_number(&line) {
            Ok(value) => {
                let step = std::str::from_utf8(&line).ok().and_then(printed_step);
                Answer::Value(value, step)
            }
            Err(err) => Answer::Rejected(err),
        })
    }

    /// One current and voltage reading, or `None` when either query failed.
    fn reading(&mut self) -> Result<Option<(f64, f64)>, SerialError> {
        let current_query = self.config.current_query.clone();
        let voltage_query = self.config.voltage_query.clone();
        let mut values = [0.0; 2];
        let mut current_step = None;
        for (index, command) in [current_query, voltage_query].iter().enumerate() {
            match self.number(command)? {
                Answer::Value(value, step) => {
                    values[index] = value;
                    if index == 0 {
                        current_step = step;
                    }
                }
                Answer::Timeout => {
                    self.timeouts += 1;
                    tracing::debug!("no reply to `{command}` from {}", self.link.name());
                    return Ok(None);
                }
                Answer::Rejected(err) => {
                    self.seen.rejected += 1;
                    tracing::debug!("`{command}` on {}: {err}", self.link.name());
                    return Ok(None);
                }
            }
        }
        let [current_a, voltage_v] = values;
        if let Some(step) = current_step
            .map(|step| step * voltage_v.abs())
            .filter(|step| *step > 0.0)
        {
            self.step_w = Some(self.step_w.map_or(step, |s| s.min(step)));
        }
        Ok(Some((current_a, voltage_v)))
    }
}

impl PowerSource for ScpiSource {
    fn info(&self) -> SourceInfo {
        let label = if self.identity.is_emulator() {
            "EMULATED "
        } else {
            ""
        };
        SourceInfo {
            spec: self.spec.to_string(),
            description: format!(
                "{label}SCPI {} on {}: `{}` × `{}`",
                self.identity,
                self.link.name(),
                self.config.current_query,
                self.config.voltage_query
            ),
            quantity: Quantity::CurrentVoltage,
            rate_hz: 1.0 / self.poll_interval.as_secs_f64(),
            resolution: Resolution::PowerW(self.step_w.unwrap_or(0.0)),
            // Bench supplies and DMMs average their read-back over 100 ms or more.
            coarse: true,
            clock_offset_s: None,
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    fn start(&mut self, clock: &dyn Clock) -> Result<(), PowerError> {
        self.last_valid_s = clock.now_s();
        Ok(())
    }

    fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        let before_s = clock.now_s();
        let reading = self.reading()?;
        let after_s = clock.now_s();
        let Some((current_a, voltage_v)) = reading else {
            let quiet_s = after_s - self.last_valid_s;
            if quiet_s > SILENT_AFTER.as_secs_f64() {
                return Err(MeterError::Silent {
                    meter: METER,
                    waited_s: quiet_s,
                    retries: self.timeouts.min(u64::from(u32::MAX)) as u32,
                    seen: self.seen.clone(),
                    port: self.link.name().to_owned(),
                }
                .into());
            }
            return Ok(Vec::new());
        };
        self.seen.frames += 1;
        self.last_valid_s = after_s;
        Ok(vec![PowerSample {
            t_s: 0.5 * (before_s + after_s),
            power_w: current_a * voltage_v,
            current_a: Some(current_a),
            voltage_v: Some(voltage_v),
            energy_j: None,
        }])
    }

    fn stop(&mut self) -> Result<(), PowerError> {
        tracing::debug!(
            "SCPI on {}: {} readings, {} replies rejected, {} queries unanswered",
            self.link.name(),
            self.seen.frames,
            self.seen.rejected,
            self.timeouts
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_come_from_the_profile_and_the_spec_options() {
        let dir = tempfile::tempdir().expect("temp dir");
        let profile = dir.path().join("dmm.toml");
        std::fs::write(
            &profile,
            "[scpi]\nbaud = 115200\ncurrent_query = \"MEAS:CURR:DC?\"\nline_ending = \"crlf\"\n",
        )
        .expect("write");
        let spec: SourceSpec = format!(
            "scpi:/dev/ttyUSB0?profile={}&volt=MEAS:VOLT:DC?&timeout=250ms",
            profile.display()
        )
        .parse()
        .expect("parses");
        let config = ScpiConfig::from_spec(&spec).expect("config");
        assert_eq!(config.baud, 115_200);
        assert_eq!(config.current_query, "MEAS:CURR:DC?");
        assert_eq!(config.voltage_query, "MEAS:VOLT:DC?");
        assert_eq!(config.line_ending(), Ok(LineEnding::CrLf));
        assert_eq!(config.timeout_ms, 250);

        let plain: SourceSpec = "scpi:/dev/ttyUSB0".parse().expect("parses");
        assert_eq!(
            ScpiConfig::from_spec(&plain).expect("config"),
            ScpiConfig::default()
        );
        for bad in [
            "scpi:/dev/x?eol=cr",
            "scpi:/dev/x?speed=1",
            "scpi:/dev/x?timeout=0s",
        ] {
            let spec: SourceSpec = bad.parse().expect("parses");
            assert!(ScpiConfig::from_spec(&spec).is_err(), "{bad}");
        }
    }
}
