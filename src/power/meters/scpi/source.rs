//! A SCPI instrument polled over a serial port as a [`PowerSource`]:
//! `scpi:PORT[?baud=N&curr=CMD&volt=CMD&eol=lf|crlf&timeout=D&profile=FILE]`.
//!
//! Opening sends `*IDN?` and needs its four-field reply within the profile's connect
//! timeout, then one
//! valid current and voltage reading: an open port is not yet an instrument, and the
//! error says which step failed. Every poll sends the current query, then the voltage
//! query, each after dropping stale input, and stamps the sample at the middle of the
//! exchange on the session clock. A reply that is not a number is dropped and counted,
//! never turned into a sample; a query without a reply within the timeout is counted,
//! and an instrument that answers nothing valid for the profile's silence timeout is
//! reported silent.
//! The `EMU` manufacturer of actprof's emulator labels the source emulated.
//!
//! # Configuration
//!
//! The meter profile (`profiles/meters/scpi.toml`, or `?profile=FILE`) gives the baud
//! rate, the timeouts and the `[scpi]` commands (`identify`, `current`, `voltage`,
//! `terminator`); the spec's options override them: `baud=`, `curr=`, `volt=`,
//! `eol=lf|crlf`, `timeout=` (reply timeout, e.g. `250ms`). The profile's
//! `poll_interval_ms` is the shortest time between two readings; a longer `--interval`
//! slows them down.

use std::time::{Duration, Instant};

use super::{
    Identity, LineEnding, MAX_LINE_LEN, ReplyError, encode_command, parse_identity, parse_number,
};
use crate::harness::plan::parse_duration;
use crate::power::meters::profile::MeterProfile;
use crate::power::meters::text::{Framed, LineFramer, drain_input, printed_step};
use crate::power::meters::{ConnectStep, MeterError, Seen};
use crate::power::source::EMULATED_PREFIX;
use crate::power::{
    Clock, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo, SourceSpec,
};
use crate::serial::{Link, SerialError, open_port};

/// Options `scpi:` takes.
const OPTIONS: &[&str] = &["baud", "curr", "volt", "eol", "timeout", "profile"];

/// The shipped profile used without `?profile=`.
const DEFAULT_PROFILE: &str = "scpi.toml";

/// The name in messages.
const METER: &str = "SCPI instrument";

/// How an instrument is spoken to: the profile, overridden by the spec's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScpiConfig {
    /// Baud rate.
    pub baud: u32,
    /// Identification query.
    pub identify: String,
    /// Query answering the current in A.
    pub current_query: String,
    /// Query answering the voltage in V.
    pub voltage_query: String,
    /// Command terminator.
    pub line_ending: LineEnding,
    /// Reply timeout of one query.
    pub timeout: Duration,
    /// How long the first `*IDN?` and reading may take.
    pub connect_timeout: Duration,
    /// How long without a valid reading before the instrument counts as gone.
    pub silence_timeout: Duration,
    /// Shortest time between two readings.
    pub min_interval: Duration,
}

impl ScpiConfig {
    /// The configuration a spec names: its meter profile, then its options.
    pub fn from_spec(spec: &SourceSpec) -> Result<ScpiConfig, PowerError> {
        let bad = |reason: String| PowerError::BadSpec {
            spec: spec.to_string(),
            reason,
        };
        let profile = MeterProfile::for_spec(spec, DEFAULT_PROFILE, OPTIONS)?;
        let commands = profile
            .scpi
            .clone()
            .ok_or_else(|| bad("the meter profile has no [scpi] table of commands".to_owned()))?;
        let ms = Duration::from_millis;
        let mut config = ScpiConfig {
            baud: profile.baud,
            identify: commands.identify,
            current_query: commands.current,
            voltage_query: commands.voltage,
            line_ending: terminator(&commands.terminator).map_err(&bad)?,
            timeout: ms(profile.reply_timeout_ms),
            connect_timeout: ms(profile.connect_timeout_ms),
            silence_timeout: ms(profile.silence_timeout_ms),
            min_interval: ms(profile.poll_interval_ms),
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
            config.line_ending = match eol.to_ascii_lowercase().as_str() {
                "lf" => LineEnding::Lf,
                "crlf" => LineEnding::CrLf,
                other => return Err(bad(format!("`eol={other}` is neither `lf` nor `crlf`"))),
            };
        }
        if let Some(text) = spec.option("timeout", OPTIONS)? {
            config.timeout = parse_duration(text).map_err(|err| bad(err.to_string()))?;
        }
        if config.timeout.is_zero() {
            return Err(bad("the reply timeout must be longer than zero".to_owned()));
        }
        for query in [
            &config.identify,
            &config.current_query,
            &config.voltage_query,
        ] {
            if query.trim().is_empty() || query.contains(['\n', '\r']) {
                return Err(bad(format!("`{query}` is not a SCPI query")));
            }
        }
        Ok(config)
    }
}

/// The line ending a profile's `terminator` names.
fn terminator(text: &str) -> Result<LineEnding, String> {
    match text {
        "\n" => Ok(LineEnding::Lf),
        "\r\n" => Ok(LineEnding::CrLf),
        other => Err(format!(
            "terminator {other:?} in the meter profile is neither \"\\n\" nor \"\\r\\n\""
        )),
    }
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

impl ScpiSource {
    /// A closed port, told with what the instrument had sent before.
    fn explain(&self, err: SerialError) -> PowerError {
        match err {
            SerialError::Disconnected { what, port } => MeterError::Disconnected {
                meter: METER,
                what,
                seen: self.seen.clone(),
                port,
            }
            .into(),
            other => other.into(),
        }
    }
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
        let ending = config.line_ending;
        let config_interval = config.min_interval;
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
            poll_interval: poll_interval.max(config_interval),
            seen: Seen::default(),
            step_w: None,
            timeouts: 0,
            last_valid_s: 0.0,
        };
        let failed = |source: &ScpiSource, step: ConnectStep, hint: Option<String>| {
            MeterError::NotConnected {
                meter: METER,
                step,
                waited_s: started.elapsed().as_secs_f64(),
                seen: source.seen.clone(),
                hint,
                port: source.link.name().to_owned(),
            }
        };
        let identify = source.config.identify.clone();
        let reply = source.query(&identify, source.config.connect_timeout)?;
        let Some(line) = reply else {
            let hint = format!("no reply to `{identify}`");
            return Err(failed(&source, ConnectStep::Reply, Some(hint)).into());
        };
        source.identity = match parse_identity(&line) {
            Ok(identity) => identity,
            Err(err) => {
                return Err(failed(&source, ConnectStep::Frame, Some(err.to_string())).into());
            }
        };
        tracing::debug!("{} on {}", source.identity, source.link.name());
        if source.reading()?.is_none() {
            let hint = format!(
                "{} answered `{identify}`, but `{}` and `{}` gave no number (set the queries \
                 with ?curr= and ?volt=)",
                source.identity, source.config.current_query, source.config.voltage_query
            );
            return Err(failed(&source, ConnectStep::Frame, Some(hint)).into());
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
        let timeout = self.config.timeout;
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
            format!("{EMULATED_PREFIX} ")
        } else {
            String::new()
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
        let reading = self.reading().map_err(|err| self.explain(err))?;
        let after_s = clock.now_s();
        let Some((current_a, voltage_v)) = reading else {
            let quiet_s = after_s - self.last_valid_s;
            if quiet_s > self.config.silence_timeout.as_secs_f64() {
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
            logic: None,
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
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// An instrument double: replies by command from a script, and input the test can
    /// add to between polls (stale bytes, junk).
    struct ScriptedLink {
        input: Arc<Mutex<VecDeque<u8>>>,
        replies: Vec<(&'static str, Vec<Vec<u8>>)>,
    }

    impl Link for ScriptedLink {
        fn name(&self) -> &str {
            "/dev/scripted"
        }

        fn write_all(&mut self, bytes: &[u8]) -> Result<(), SerialError> {
            let command = String::from_utf8_lossy(bytes).trim().to_owned();
            if let Some((_, replies)) = self.replies.iter_mut().find(|(c, _)| *c == command)
                && !replies.is_empty()
            {
                let reply = replies.remove(0);
                self.input.lock().expect("lock").extend(reply);
            }
            Ok(())
        }

        fn read_some(&mut self, buf: &mut [u8], _: Duration) -> Result<usize, SerialError> {
            let mut input = self.input.lock().expect("lock");
            let count = buf.len().min(input.len());
            for (slot, byte) in buf.iter_mut().zip(input.drain(..count)) {
                *slot = byte;
            }
            Ok(count)
        }

        fn discard_input(&mut self) -> Result<(), SerialError> {
            self.input.lock().expect("lock").clear();
            Ok(())
        }
    }

    struct FixedClock(f64);

    impl Clock for FixedClock {
        fn now_s(&self) -> f64 {
            self.0
        }
    }

    fn scripted(curr: &[&[u8]], volt: &[&[u8]]) -> (ScpiSource, Arc<Mutex<VecDeque<u8>>>) {
        let input = Arc::new(Mutex::new(VecDeque::new()));
        let link = ScriptedLink {
            input: Arc::clone(&input),
            replies: vec![
                ("*IDN?", vec![b"EMU,PSU-1,0,1.0\n".to_vec()]),
                ("MEAS:CURR?", curr.iter().map(|r| r.to_vec()).collect()),
                ("MEAS:VOLT?", volt.iter().map(|r| r.to_vec()).collect()),
            ],
        };
        let spec: SourceSpec = "scpi:/dev/scripted?timeout=20ms".parse().expect("spec");
        let config = ScpiConfig::from_spec(&spec).expect("config");
        let source = ScpiSource::connect(spec, config, Box::new(link), Duration::from_millis(50))
            .expect("connects");
        (source, input)
    }

    #[test]
    fn stale_input_is_never_read_as_the_next_reply() {
        let (mut source, input) = scripted(
            &[b"0.1\n", b"1.2345E-02\r\n", b"\xaa\xd50.2\n", b"0.3\n"],
            &[b"5.0\n", b"5.0\n", b"5.0\n"],
        );
        assert!(
            source
                .info()
                .description
                .starts_with("EMULATED SCPI EMU PSU-1")
        );
        let clock = FixedClock(1.0);
        source.start(&clock).expect("starts");

        // A late reply left in the input before the poll is dropped, not taken for the
        // current.
        input.lock().expect("lock").extend(b"9.99\n".iter());
        let samples = source.poll(&clock).expect("polls");
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].current_a, Some(0.012345));
        assert_eq!(samples[0].voltage_v, Some(5.0));
        assert!((samples[0].power_w - 0.061725).abs() < 1e-12);
        assert_eq!(samples[0].t_s, 1.0);

        // A reply with garbage in front is rejected: no sample.
        assert!(source.poll(&clock).expect("polls").is_empty());
        assert_eq!(source.seen.rejected, 1);

        // The next poll reads again.
        let samples = source.poll(&clock).expect("polls");
        assert_eq!(samples[0].current_a, Some(0.3));
    }

    #[test]
    fn unanswered_queries_give_no_sample_then_a_silence_error() {
        let (mut source, _) = scripted(&[b"0.1\n"], &[b"5.0\n"]);
        source.start(&FixedClock(0.0)).expect("starts");
        // The script is used up: nothing answers any more.
        assert!(source.poll(&FixedClock(1.0)).expect("quiet").is_empty());
        assert_eq!(source.timeouts, 1);
        let err = source.poll(&FixedClock(3.5)).expect_err("silent");
        assert!(err.is_disconnect(), "{err}");
        let message = err.to_string();
        assert!(message.contains("stopped answering"), "{message}");
        assert!(message.ends_with("/dev/scripted"), "{message}");
    }

    #[test]
    fn commands_come_from_the_profile_and_the_spec_options() {
        let dir = tempfile::tempdir().expect("temp dir");
        let profile = dir.path().join("dmm.toml");
        std::fs::write(
            &profile,
            "meter = \"scpi\"\ndescription = \"a DMM\"\nbaud = 115200\n\
             poll_interval_ms = 100\nreply_timeout_ms = 800\nsilence_timeout_ms = 5000\n\
             connect_timeout_ms = 2000\n[scpi]\nidentify = \"*IDN?\"\n\
             current = \"MEAS:CURR:DC?\"\nvoltage = \"MEAS:VOLT?\"\nterminator = \"\\r\\n\"\n",
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
        assert_eq!(config.line_ending, LineEnding::CrLf);
        assert_eq!(config.timeout, Duration::from_millis(250));
        assert_eq!(config.silence_timeout, Duration::from_secs(5));

        // The shipped profile: the documented defaults.
        let plain: SourceSpec = "scpi:/dev/ttyUSB0".parse().expect("parses");
        let config = ScpiConfig::from_spec(&plain).expect("config");
        assert_eq!(config.identify, "*IDN?");
        assert_eq!(config.current_query, super::super::DEFAULT_CURRENT_QUERY);
        assert_eq!(config.voltage_query, super::super::DEFAULT_VOLTAGE_QUERY);
        assert_eq!(config.line_ending, LineEnding::Lf);
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
