//! The PPK2 as a [`PowerSource`]: `ppk2:PORT[?mode=source|ampere&vdd_mv=3300&avg=100]`.
//!
//! Opening takes the port exclusively and reads the metadata (so a port that is not a
//! PPK2 fails at once, naming the step). Every [`start`](PowerSource::start) resets the
//! device and the decoder: `AverageStop`, the input drained and discarded, metadata read
//! again, then `SetPowerMode`, `RegulatorSet` (VDD), `DeviceRunningSet(on)` and
//! `AverageStart`, and the first samples awaited. [`stop`](PowerSource::stop) sends
//! `AverageStop` and `DeviceRunningSet(off)`.
//!
//! Options: `mode` (`source`, the default: the PPK2 supplies VDD to the DUT; `ampere`:
//! it measures the current of a circuit supplied otherwise), `vdd_mv` (800–5000, default
//! 3300: the supply in source mode; in ampere mode the voltage the power is computed
//! with, which the PPK2 does not measure), `avg` (samples averaged per session sample,
//! 1–1000, default 100 → 1 kS/s; see [`super::average`]), `baud` and `profile`.
//!
//! Samples are stamped on the PPK2's own clock (slot `k` is `k · 10 µs` after streaming
//! started), anchored to the session clock when the first samples arrive (from then on
//! the anchor is the info's [`clock_offset_s`](SourceInfo::clock_offset_s)). Lost samples
//! (the counter skipped) are counted, logged with the stream byte offset, and left as a
//! gap on the time axis.
//!
//! The logic inputs D0–D7 go into [`PowerSample::logic`] as the OR of the block's samples
//! ([`Averaged::logic`]; with `avg=1` every sample keeps its own inputs).

use std::time::{Duration, Instant};

use super::average::{Averaged, Averager, DEFAULT_PER_OUTPUT, MAX_PER_OUTPUT};
use super::calibration::Calibration;
use super::command::{Command, PowerMode, VDD_MAX_MV, VDD_MIN_MV, VddMv};
use super::decoder::{Decoder, SAMPLE_RATE_HZ};
use super::metadata::{Metadata, MetadataReader};
use crate::power::meters::profile::MeterProfile;
use crate::power::meters::{ConnectStep, MeterError, Seen};
use crate::power::{
    Clock, EMULATED_PREFIX, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo,
    SourceSpec,
};
use crate::serial::{Link, SerialError, hex, open_port};

/// Options a `ppk2:` spec takes.
pub const OPTIONS: [&str; 5] = ["mode", "vdd_mv", "avg", "baud", "profile"];

/// VDD unless `vdd_mv` says otherwise, in mV.
pub const DEFAULT_VDD_MV: u16 = 3300;

/// Shortest time between two drains of the port (the profile's `poll_interval_ms`, 30 ms
/// as Nordic's app, is used unless it is shorter than this).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Longest quiet spell that ends the draining of a stream after `AverageStop`.
const DRAIN_QUIET: Duration = Duration::from_millis(30);

/// Longest time spent draining after `AverageStop`.
const DRAIN_LIMIT: Duration = Duration::from_millis(500);

/// Reads per poll at most (each up to [`READ_CHUNK`] bytes), so a poll always ends.
const MAX_READS_PER_POLL: usize = 64;

/// Bytes asked for per read.
const READ_CHUNK: usize = 16 * 1024;

/// Shortest time between two lost-data reports in the log.
const LOSS_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// The meter's name in messages.
const METER: &str = "PPK2";

/// What a `ppk2:` spec asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Ampere or source meter.
    pub mode: PowerMode,
    /// VDD set on the regulator (and, in ampere mode, the voltage for power).
    pub vdd: VddMv,
    /// Samples averaged per session sample.
    pub per_output: u32,
    /// Baud rate (ignored by the device; CDC ACM).
    pub baud: u32,
    /// How long to wait for the metadata and for the first samples.
    pub connect_timeout: Duration,
    /// How long without a byte while streaming before the meter counts as gone.
    pub silence_timeout: Duration,
    /// How often the sampler drains the port.
    pub poll_interval: Duration,
}

impl Settings {
    /// The settings of `spec`, with the shipped `ppk2.toml` (or `?profile=FILE`) for the
    /// timing.
    pub fn from_spec(spec: &SourceSpec) -> Result<Settings, PowerError> {
        let profile = MeterProfile::for_spec(spec, "ppk2.toml", &OPTIONS)?;
        let bad = |reason: String| PowerError::BadSpec {
            spec: spec.to_string(),
            reason,
        };
        let mode = match spec.option("mode", &OPTIONS)? {
            None | Some("source") => PowerMode::Source,
            Some("ampere") => PowerMode::Ampere,
            Some(other) => {
                return Err(bad(format!(
                    "option `mode={other}`: expected `source` or `ampere`"
                )));
            }
        };
        let vdd_mv: u16 = spec
            .parsed_option("vdd_mv", &OPTIONS)?
            .unwrap_or(DEFAULT_VDD_MV);
        let vdd = VddMv::new(vdd_mv).ok_or_else(|| {
            bad(format!(
                "option `vdd_mv={vdd_mv}`: the PPK2 regulator takes {VDD_MIN_MV}–{VDD_MAX_MV} mV"
            ))
        })?;
        let per_output: u32 = spec
            .parsed_option("avg", &OPTIONS)?
            .unwrap_or(DEFAULT_PER_OUTPUT);
        if !(1..=MAX_PER_OUTPUT).contains(&per_output) {
            return Err(bad(format!(
                "option `avg={per_output}`: samples per value must be 1–{MAX_PER_OUTPUT}"
            )));
        }
        Ok(Settings {
            mode,
            vdd,
            per_output,
            baud: spec
                .parsed_option("baud", &OPTIONS)?
                .unwrap_or(profile.baud),
            connect_timeout: Duration::from_millis(profile.connect_timeout_ms),
            silence_timeout: Duration::from_millis(profile.silence_timeout_ms),
            poll_interval: Duration::from_millis(profile.poll_interval_ms).max(MIN_POLL_INTERVAL),
        })
    }
}

/// Opens the PPK2 `spec` names and reads its metadata. The PPK2 streams at its own rate,
/// so `_poll_interval` (a polled meter's request interval) does not apply; the port is
/// drained every [`Settings::poll_interval`].
pub fn open(
    spec: &SourceSpec,
    _poll_interval: Duration,
) -> Result<Box<dyn PowerSource>, PowerError> {
    let settings = Settings::from_spec(spec)?;
    let port = spec.port().ok_or_else(|| PowerError::BadSpec {
        spec: spec.to_string(),
        reason: "no serial port given (e.g. `ppk2:/dev/ttyACM0`)".to_owned(),
    })?;
    let link = open_port(port, settings.baud)?;
    let mut source = Ppk2Source::new(spec, link, settings);
    let metadata = source.reset_and_read_metadata()?;
    source.info.description = describe(port, &source.settings, &metadata);
    if !metadata.defaulted.is_empty() {
        tracing::warn!(
            "{port}: the PPK2 metadata lacks {}; their defaults are used, so currents in \
             those ranges may be off",
            metadata.defaulted.join(", ")
        );
    }
    tracing::debug!("{port}: {}", source.info.description);
    Ok(Box::new(source))
}

fn describe(port: &str, settings: &Settings, metadata: &Metadata) -> String {
    let rate = f64::from(SAMPLE_RATE_HZ) / f64::from(settings.per_output);
    let volts = settings.vdd.volts();
    let averaging = format!(
        "current at 100 kS/s averaged over {} samples ({rate} S/s, logic inputs D0–D7 \
         ORed per sample)",
        settings.per_output
    );
    let hw = metadata
        .hw
        .map(|hw| format!(", HW {hw}"))
        .unwrap_or_default();
    let text = match settings.mode {
        PowerMode::Source => format!(
            "Nordic PPK2 on {port}{hw}, source meter supplying {volts:.3} V: {averaging}; \
             power = current × {volts:.3} V"
        ),
        PowerMode::Ampere => format!(
            "Nordic PPK2 on {port}{hw}, ampere meter: {averaging}; power = current × \
             {volts:.3} V from the vdd_mv option (the voltage is not measured)"
        ),
    };
    match &metadata.emulator {
        Some(_) => format!("{EMULATED_PREFIX} {text}"),
        None => text,
    }
}

/// A connected PPK2.
pub struct Ppk2Source {
    link: Box<dyn Link>,
    settings: Settings,
    info: SourceInfo,
    decoder: Decoder,
    averager: Averager,
    /// Session time of slot 0, once the first samples arrived.
    origin_s: Option<f64>,
    buf: Vec<u8>,
    blocks: Vec<Averaged>,
    seen: Seen,
    last_bytes_at: Instant,
    lost_reported: u64,
    last_loss_report: Option<Instant>,
    streaming: bool,
    gone: bool,
}

impl Ppk2Source {
    fn new(spec: &SourceSpec, link: Box<dyn Link>, settings: Settings) -> Ppk2Source {
        let calibration = Calibration::new(&Default::default(), settings.vdd.mv());
        let volts = settings.vdd.volts();
        let step_a = calibration.current_a(1, 0) - calibration.current_a(0, 0);
        let info = SourceInfo {
            spec: spec.to_string(),
            description: String::new(),
            quantity: Quantity::CurrentVoltage,
            rate_hz: f64::from(SAMPLE_RATE_HZ) / f64::from(settings.per_output),
            resolution: Resolution::PowerW(step_a.abs() * volts),
            coarse: false,
            clock_offset_s: None,
        };
        Ppk2Source {
            link,
            averager: Averager::new(calibration, settings.per_output),
            settings,
            info,
            decoder: Decoder::new(),
            origin_s: None,
            buf: vec![0; READ_CHUNK],
            blocks: Vec::new(),
            seen: Seen::default(),
            last_bytes_at: Instant::now(),
            lost_reported: 0,
            last_loss_report: None,
            streaming: false,
            gone: false,
        }
    }

    fn port(&self) -> String {
        self.link.name().to_owned()
    }

    fn send(&mut self, command: Command) -> Result<(), PowerError> {
        let bytes = command.encode();
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!("{} -> {}", self.link.name(), hex(&bytes));
        }
        self.link.write_all(&bytes).map_err(|err| self.note(err))
    }

    /// Remembers a disconnect, so `stop` does not write to a gone port.
    fn note(&mut self, err: SerialError) -> PowerError {
        if err.is_disconnect() {
            self.gone = true;
        }
        err.into()
    }

    fn not_connected(&self, step: ConnectStep, started: Instant, hint: String) -> PowerError {
        MeterError::NotConnected {
            meter: METER,
            step,
            waited_s: started.elapsed().as_secs_f64(),
            seen: self.seen.clone(),
            hint: Some(hint),
            port: self.port(),
        }
        .into()
    }

    /// Stops any stream, drops what is buffered, and reads the metadata until `END`.
    fn reset_and_read_metadata(&mut self) -> Result<Metadata, PowerError> {
        self.send(Command::AverageStop)?;
        self.streaming = false;
        self.drain()?;
        self.link.discard_input().map_err(|err| self.note(err))?;
        self.seen = Seen::default();
        self.send(Command::GetMetadata)?;
        let started = Instant::now();
        let deadline = started + self.settings.connect_timeout;
        let mut reader = MetadataReader::new();
        loop {
            let now = Instant::now();
            if now >= deadline {
                let step = if self.seen.bytes == 0 {
                    ConnectStep::Reply
                } else {
                    ConnectStep::Frame
                };
                return Err(self.not_connected(
                    step,
                    started,
                    format!(
                        "no metadata `END` line after GetMetadata (0x19) in {} bytes",
                        reader.received()
                    ),
                ));
            }
            let count = self.read(deadline - now)?;
            let bytes = &self.buf[..count];
            match reader.push(bytes) {
                Ok(Some(metadata)) => return Ok(metadata),
                Ok(None) => {}
                Err(err) => {
                    return Err(self.not_connected(ConnectStep::Frame, started, err.to_string()));
                }
            }
        }
    }

    /// Reads whatever comes until the port has been quiet for [`DRAIN_QUIET`].
    fn drain(&mut self) -> Result<(), PowerError> {
        let started = Instant::now();
        while started.elapsed() < DRAIN_LIMIT {
            if self.read(DRAIN_QUIET)? == 0 {
                return Ok(());
            }
        }
        tracing::debug!("{}: still sending after AverageStop", self.port());
        Ok(())
    }

    /// One read into `self.buf`, counted in `seen`.
    fn read(&mut self, timeout: Duration) -> Result<usize, PowerError> {
        let count = match self.link.read_some(&mut self.buf, timeout) {
            Ok(count) => count,
            Err(err) => return Err(self.note(err)),
        };
        if count > 0 {
            self.seen.received(&self.buf[..count]);
            self.last_bytes_at = Instant::now();
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!("{} <- {} bytes", self.link.name(), count);
            }
        }
        Ok(count)
    }

    /// Reads and decodes what is buffered (at most [`MAX_READS_PER_POLL`] reads).
    fn receive(&mut self, first_wait: Duration) -> Result<(), PowerError> {
        let mut wait = first_wait;
        for _ in 0..MAX_READS_PER_POLL {
            let count = self.read(wait)?;
            if count == 0 {
                break;
            }
            self.decoder.feed(&self.buf[..count], &mut self.averager);
            wait = Duration::ZERO;
        }
        let stats = self.decoder.stats();
        self.seen.frames = stats.samples;
        self.seen.rejected = stats.breaks;
        self.seen.skipped = stats.discarded_bytes;
        Ok(())
    }

    /// Turns the finished blocks into session samples.
    fn samples(&mut self) -> Vec<PowerSample> {
        self.averager.drain_into(&mut self.blocks);
        let Some(origin_s) = self.origin_s else {
            return Vec::new();
        };
        let volts = self.settings.vdd.volts();
        let period_s = 1.0 / f64::from(SAMPLE_RATE_HZ);
        self.blocks
            .drain(..)
            .map(|block| PowerSample {
                t_s: origin_s + (block.slot + 0.5) * period_s,
                power_w: block.current_a * volts,
                current_a: Some(block.current_a),
                voltage_v: Some(volts),
                energy_j: None,
                logic: Some(block.logic),
            })
            .collect()
    }

    /// Logs lost samples at most once per [`LOSS_REPORT_INTERVAL`] (or when `force`).
    fn report_losses(&mut self, force: bool) {
        let stats = self.decoder.stats();
        let new = stats.lost - self.lost_reported;
        let due = self
            .last_loss_report
            .is_none_or(|at| at.elapsed() >= LOSS_REPORT_INTERVAL);
        if new == 0 || !(due || force) {
            return;
        }
        tracing::error!(
            "{}: the PPK2 stream lost {new} samples ({:.2} ms), the last at stream byte \
             offset {}; they are kept as a gap on the time axis ({} lost of {} in all)",
            self.port(),
            new as f64 * 1e3 / f64::from(SAMPLE_RATE_HZ),
            stats.last_break_offset,
            stats.lost,
            stats.lost + stats.samples
        );
        self.lost_reported = stats.lost;
        self.last_loss_report = Some(Instant::now());
    }
}

impl PowerSource for Ppk2Source {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn poll_interval(&self) -> Duration {
        self.settings.poll_interval
    }

    fn start(&mut self, clock: &dyn Clock) -> Result<(), PowerError> {
        let metadata = self.reset_and_read_metadata()?;
        let vdd = self.settings.vdd;
        self.send(Command::SetPowerMode(self.settings.mode))?;
        self.send(Command::RegulatorSet(vdd))?;
        self.send(Command::DeviceRunningSet(true))?;
        let calibration = Calibration::new(&metadata.modifiers, vdd.mv());
        self.averager = Averager::new(calibration, self.settings.per_output);
        self.decoder = Decoder::new();
        self.blocks.clear();
        self.origin_s = None;
        self.info.clock_offset_s = None;
        self.lost_reported = 0;
        self.send(Command::AverageStart)?;
        self.streaming = true;

        let started = Instant::now();
        let deadline = started + self.settings.connect_timeout;
        while self.decoder.stats().samples == 0 {
            let now = Instant::now();
            if now >= deadline {
                let step = if self.seen.bytes == 0 {
                    ConnectStep::Reply
                } else {
                    ConnectStep::Frame
                };
                return Err(self.not_connected(
                    step,
                    started,
                    "the metadata came, but no sample stream after AverageStart (0x06)".into(),
                ));
            }
            self.receive((deadline - now).min(self.settings.poll_interval))?;
        }
        // The newest slot arrived by now: the anchor errs late by the transfer delay only.
        let slots = self.averager.slots() as f64;
        self.origin_s = Some(clock.now_s() - slots / f64::from(SAMPLE_RATE_HZ));
        self.info.clock_offset_s = self.origin_s;
        self.last_bytes_at = Instant::now();
        Ok(())
    }

    fn poll(&mut self, _clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        self.receive(Duration::ZERO)?;
        self.report_losses(false);
        let quiet = self.last_bytes_at.elapsed();
        if quiet >= self.settings.silence_timeout {
            return Err(MeterError::Silent {
                meter: METER,
                waited_s: quiet.as_secs_f64(),
                retries: 0,
                seen: self.seen.clone(),
                port: self.port(),
            }
            .into());
        }
        Ok(self.samples())
    }

    fn stop(&mut self) -> Result<(), PowerError> {
        self.report_losses(true);
        tracing::debug!("{}: PPK2 decoder {:?}", self.port(), self.decoder.stats());
        if self.gone || !self.streaming {
            return Ok(());
        }
        self.streaming = false;
        self.send(Command::AverageStop)?;
        self.send(Command::DeviceRunningSet(false))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::super::device::Device;
    use super::*;

    /// A PPK2 behind an in-memory link: [`Device`] takes the commands, and while it
    /// streams every read gets 100 samples of a 10 mA load.
    struct FakePpk2 {
        device: Device,
        written: Arc<Mutex<Vec<u8>>>,
        pending: VecDeque<u8>,
    }

    impl Link for FakePpk2 {
        fn name(&self) -> &str {
            "/dev/fake-ppk2"
        }

        fn write_all(&mut self, bytes: &[u8]) -> Result<(), SerialError> {
            self.written.lock().expect("lock").extend_from_slice(bytes);
            for request in self.device.receive(bytes) {
                if request == super::super::device::Request::Metadata {
                    self.pending.extend(self.device.metadata_text().bytes());
                }
            }
            Ok(())
        }

        fn read_some(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize, SerialError> {
            if self.device.streaming() && self.pending.is_empty() {
                for _ in 0..100 {
                    let word = self.device.next_word(0.01, 0);
                    self.pending.extend(word.to_bytes());
                }
            }
            let count = buf.len().min(self.pending.len());
            for (slot, byte) in buf.iter_mut().zip(self.pending.drain(..count)) {
                *slot = byte;
            }
            Ok(count)
        }

        fn discard_input(&mut self) -> Result<(), SerialError> {
            self.pending.clear();
            Ok(())
        }
    }

    struct Clock0(Instant);

    impl Clock for Clock0 {
        fn now_s(&self) -> f64 {
            self.0.elapsed().as_secs_f64()
        }
    }

    fn source(written: &Arc<Mutex<Vec<u8>>>) -> Ppk2Source {
        let spec: SourceSpec = "ppk2:/dev/fake-ppk2?vdd_mv=3300".parse().expect("spec");
        let link = FakePpk2 {
            device: Device::new(),
            written: Arc::clone(written),
            pending: VecDeque::new(),
        };
        let settings = Settings::from_spec(&spec).expect("settings");
        Ppk2Source::new(&spec, Box::new(link), settings)
    }

    #[test]
    fn start_resets_then_configures_and_stop_switches_the_dut_off() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let mut ppk2 = source(&written);
        let metadata = ppk2.reset_and_read_metadata().expect("metadata");
        assert_eq!(metadata.emulator.as_deref(), Some("actprof"));
        assert_eq!(*written.lock().expect("lock"), [0x07, 0x19]);
        written.lock().expect("lock").clear();

        let clock = Clock0(Instant::now());
        ppk2.start(&clock).expect("starts");
        assert_eq!(
            *written.lock().expect("lock"),
            [0x07, 0x19, 0x11, 0x02, 0x0D, 0x0C, 0xE4, 0x0C, 0x01, 0x06]
        );
        let mut samples = Vec::new();
        for _ in 0..3 {
            samples.extend(ppk2.poll(&clock).expect("polls"));
        }
        assert!(samples.len() > 50, "{} samples", samples.len());
        assert!(samples.windows(2).all(|p| p[0].t_s < p[1].t_s));
        for sample in &samples {
            let current_a = sample.current_a.expect("current");
            // Within half an ADC step of range 1 (a step is ≈ 1 µA at 10 mA) of the load.
            assert!((current_a - 0.01).abs() < 1e-6, "{current_a} A");
            assert_eq!(sample.voltage_v, Some(3.3));
        }

        written.lock().expect("lock").clear();
        ppk2.stop().expect("stops");
        assert_eq!(*written.lock().expect("lock"), [0x07, 0x0C, 0x00]);
        // A second stop sends nothing more.
        ppk2.stop().expect("stops again");
        assert_eq!(written.lock().expect("lock").len(), 3);
    }

    #[test]
    fn bad_options_are_refused_by_name() {
        for (spec, reason) in [
            ("ppk2:/dev/x?mode=smu", "expected `source` or `ampere`"),
            ("ppk2:/dev/x?vdd_mv=700", "800–5000 mV"),
            ("ppk2:/dev/x?avg=0", "1–1000"),
            ("ppk2:/dev/x?rate=5", "no option `rate`"),
        ] {
            let spec: SourceSpec = spec.parse().expect("spec");
            let message = Settings::from_spec(&spec).expect_err("refused").to_string();
            assert!(message.contains(reason), "{spec}: {message}");
        }
    }
}
