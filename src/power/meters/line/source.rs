//! A line-streaming logger on a serial port as a [`PowerSource`]:
//! `ina:PORT[?baud=N&profile=FILE]`.
//!
//! The meter profile (`profiles/meters/ina219.toml` unless `?profile=` names another)
//! gives the baud rate, the connect and silence timeouts and the shortest poll interval;
//! `?baud=` overrides the baud rate.
//!
//! Opening asks the logger for its header (one newline), then waits for two valid
//! readings within the connect timeout (an open port is not yet a logger) and, when no
//! header or comment came with them, [`HEADER_GRACE`] more for one; the readings give the
//! logger's rate, and `# actprof emulator` labels the source emulated. Each poll drains
//! what arrived and turns complete lines into samples stamped through the device clock
//! (see [`super`]); a logger that prints no valid reading for the silence timeout is
//! reported silent, a closed port as a disconnect.

use std::time::{Duration, Instant};

use super::{LineReader, LineStats};
use crate::power::meters::profile::MeterProfile;
use crate::power::meters::text::drain_input;
use crate::power::meters::{ConnectStep, MeterError, Seen};
use crate::power::source::EMULATED_PREFIX;
use crate::power::{
    Clock, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo, SourceSpec,
};
use crate::serial::{Link, SerialError, open_port};

/// The shipped profile used without `?profile=`.
const DEFAULT_PROFILE: &str = "ina219.toml";

/// After the first readings, how long to wait for a header or comment that identifies
/// the logger.
pub const HEADER_GRACE: Duration = Duration::from_millis(300);

/// Options `ina:` takes.
const OPTIONS: &[&str] = &["baud", "profile"];

/// Most bytes taken in one poll, so a flood cannot stall the sampler.
const MAX_BYTES_PER_POLL: usize = 1 << 18;

/// How long one read waits during the connect phase.
const CONNECT_READ: Duration = Duration::from_millis(50);

/// The name in messages.
const METER: &str = "line logger";

/// A connected line logger.
pub struct LineSource {
    spec: SourceSpec,
    link: Box<dyn Link>,
    reader: LineReader,
    poll_interval: Duration,
    rate_hz: f64,
    seen: Seen,
    last_reading_s: f64,
    silence_timeout: Duration,
}

/// Opens `ina:PORT[?baud=N]` and waits for the logger (see the module doc).
pub fn open(
    spec: &SourceSpec,
    poll_interval: Duration,
) -> Result<Box<dyn PowerSource>, PowerError> {
    let port = spec.port().ok_or_else(|| PowerError::BadSpec {
        spec: spec.to_string(),
        reason: "`ina` needs a serial port, e.g. `ina:/dev/ttyUSB0`".to_owned(),
    })?;
    let profile = MeterProfile::for_spec(spec, DEFAULT_PROFILE, OPTIONS)?;
    let baud = spec
        .parsed_option::<u32>("baud", OPTIONS)?
        .unwrap_or(profile.baud);
    let link = open_port(port, baud)?;
    let timing = Timing {
        connect_timeout: Duration::from_millis(profile.connect_timeout_ms),
        silence_timeout: Duration::from_millis(profile.silence_timeout_ms),
        poll_interval: poll_interval.max(Duration::from_millis(profile.poll_interval_ms)),
    };
    Ok(Box::new(LineSource::connect(spec.clone(), link, timing)?))
}

/// How long a logger may take, and how often it is polled.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Longest wait for the first two readings when opening.
    pub connect_timeout: Duration,
    /// A logger without a valid reading for this long is reported silent.
    pub silence_timeout: Duration,
    /// Time between two polls.
    pub poll_interval: Duration,
}

impl LineSource {
    /// Asks for the header and waits for the first readings on `link`.
    pub fn connect(
        spec: SourceSpec,
        mut link: Box<dyn Link>,
        timing: Timing,
    ) -> Result<LineSource, PowerError> {
        let started = Instant::now();
        let mut seen = Seen::default();
        let not_connected = |step: ConnectStep, seen: Seen, link: &dyn Link, stats: LineStats| {
            let hint = (stats.dropped > 0 || stats.banners + stats.headers > 0).then(|| {
                format!(
                    "{} readings, {} lines dropped ({} garbage, {} malformed, {} over-long), \
                     {} headers, {} banners; is the baud rate right?",
                    stats.readings,
                    stats.dropped,
                    stats.not_text,
                    stats.malformed,
                    stats.overlong,
                    stats.headers,
                    stats.banners
                )
            });
            MeterError::NotConnected {
                meter: METER,
                step,
                waited_s: started.elapsed().as_secs_f64(),
                seen,
                hint,
                port: link.name().to_owned(),
            }
        };
        // Any line asks the sketch (and the emulator) to print its header again.
        link.write_all(b"\n")?;
        let mut reader = LineReader::new();
        let mut times = Vec::new();
        let mut first_reading: Option<Instant> = None;
        let mut buf = [0u8; 4096];
        loop {
            let stats = reader.stats();
            let identified = stats.headers > 0 || stats.emulator;
            let grace_over = first_reading.is_some_and(|at| at.elapsed() >= HEADER_GRACE);
            if times.len() >= 2 && (identified || grace_over) {
                break;
            }
            if started.elapsed() >= timing.connect_timeout + HEADER_GRACE
                || (times.len() < 2 && started.elapsed() >= timing.connect_timeout)
            {
                let step = if seen.bytes == 0 {
                    ConnectStep::Reply
                } else {
                    ConnectStep::Frame
                };
                seen.frames = stats.readings;
                seen.rejected = stats.not_text + stats.malformed + stats.overlong;
                return Err(not_connected(step, seen, link.as_ref(), stats).into());
            }
            let count = link.read_some(&mut buf, CONNECT_READ)?;
            seen.received(&buf[..count]);
            let arrival_s = started.elapsed().as_secs_f64();
            for sample in reader.push(&buf[..count], arrival_s) {
                first_reading.get_or_insert_with(Instant::now);
                times.push(sample.t_s);
            }
        }
        let rate_hz = match (times.first(), times.last()) {
            (Some(first), Some(last)) if last > first => (times.len() - 1) as f64 / (last - first),
            _ => 0.0,
        };
        tracing::debug!(
            "line logger on {} at {rate_hz:.1} Hz ({:?})",
            link.name(),
            reader.stats()
        );
        Ok(LineSource {
            spec,
            link,
            reader,
            poll_interval: timing.poll_interval,
            rate_hz,
            seen,
            last_reading_s: 0.0,
            silence_timeout: timing.silence_timeout,
        })
    }

    /// What the logger had sent, for messages.
    fn seen_now(&self) -> Seen {
        let stats = self.reader.stats();
        let mut seen = self.seen.clone();
        seen.frames = stats.readings;
        // Lines that failed the format; the first line after opening is not counted.
        seen.rejected = stats.not_text + stats.malformed + stats.overlong;
        seen
    }

    /// A closed port, told with what the logger had sent before.
    fn explain(&self, err: SerialError) -> PowerError {
        match err {
            SerialError::Disconnected { what, port } => {
                let seen = self.seen_now();
                MeterError::Disconnected {
                    meter: METER,
                    what,
                    seen,
                    port,
                }
                .into()
            }
            other => other.into(),
        }
    }

    fn silent(&self, waited_s: f64) -> PowerError {
        let seen = self.seen_now();
        MeterError::Silent {
            meter: METER,
            waited_s,
            retries: 0,
            seen,
            port: self.link.name().to_owned(),
        }
        .into()
    }
}

impl PowerSource for LineSource {
    fn info(&self) -> SourceInfo {
        let stats = self.reader.stats();
        let label = if stats.emulator {
            format!("{EMULATED_PREFIX} ")
        } else {
            String::new()
        };
        SourceInfo {
            spec: self.spec.to_string(),
            description: format!(
                "{label}line logger (bus voltage × current) at {:.1} Hz on {}",
                self.rate_hz,
                self.link.name()
            ),
            quantity: Quantity::CurrentVoltage,
            rate_hz: self.rate_hz,
            resolution: Resolution::PowerW(self.reader.power_step_w().unwrap_or(0.0)),
            coarse: self.rate_hz < 10.0,
            clock_offset_s: self.reader.clock_offset_s(),
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    fn start(&mut self, clock: &dyn Clock) -> Result<(), PowerError> {
        // Lines buffered since connecting were taken before the session started.
        drain_input(self.link.as_mut())?;
        self.reader.resync();
        self.last_reading_s = clock.now_s();
        Ok(())
    }

    fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        let mut samples = Vec::new();
        let mut buf = [0u8; 4096];
        let mut taken = 0;
        while taken < MAX_BYTES_PER_POLL {
            let count = self
                .link
                .read_some(&mut buf, Duration::from_millis(1))
                .map_err(|err| self.explain(err))?;
            if count == 0 {
                break;
            }
            taken += count;
            self.seen.received(&buf[..count]);
            samples.extend(self.reader.push(&buf[..count], clock.now_s()));
        }
        let now_s = clock.now_s();
        if !samples.is_empty() {
            self.last_reading_s = now_s;
        } else if now_s - self.last_reading_s > self.silence_timeout.as_secs_f64() {
            return Err(self.silent(now_s - self.last_reading_s));
        }
        Ok(samples)
    }

    fn stop(&mut self) -> Result<(), PowerError> {
        let stats = self.reader.stats();
        let time = self.reader.device_time();
        tracing::debug!(
            "line logger on {}: {} readings, {} lines dropped ({} over-long, {} garbage, {} \
             malformed), {} clock restarts, {} wraps",
            self.link.name(),
            stats.readings,
            stats.dropped,
            stats.overlong,
            stats.not_text,
            stats.malformed,
            time.restarts,
            time.wraps
        );
        Ok(())
    }
}
