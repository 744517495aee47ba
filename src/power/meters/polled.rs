//! The power source of a request/response meter (UM series, TC66C): one request, one
//! frame back. Shared here so each meter file holds only its protocol.
//!
//! Connecting: the port is opened exclusively, the meter is given a moment to settle,
//! and [`connect`] asks for frames until one is valid or the connect timeout passes,
//! saying which [`ConnectStep`] failed. Measuring: [`PolledMeter::poll`] never blocks
//! for long. It reads what has arrived, decodes it, sends the next request once the
//! pacing interval has passed and the last reply is in (or timed out: then it asks again),
//! and reports [`MeterError::Silent`] when no valid frame came for the silence timeout.
//! A frame identical to the previous accepted one within the meter's update period is a
//! repeat of the same internal reading and is dropped.

use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::time::{Duration, Instant};

use super::{ConnectStep, MeterError, Seen};
use crate::power::{
    Clock, EMULATED_PREFIX, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo,
    SourceSpec,
};
use crate::serial::{Link, SerialError, hex, open_port};

/// The sampler calls [`PolledMeter::poll`] this often; each call costs one quick read.
const TICK: Duration = Duration::from_millis(20);

/// Read buffer size: several frames of any meter here.
const READ_CHUNK: usize = 1024;

/// One valid frame, decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decoded {
    /// Bus voltage in V.
    pub voltage_v: f64,
    /// Current in A.
    pub current_a: f64,
    /// Power in W, as the meter reports it.
    pub power_w: f64,
    /// The meter's accumulated energy counter in J, when it has one.
    pub energy_j: Option<f64>,
    /// True when the frame carries the actprof emulator's mark.
    pub emulated: bool,
    /// Hash of the frame's bytes, to recognise repeats.
    pub fingerprint: u64,
}

/// A frame that failed its checks, at `offset` bytes into the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Byte offset of the frame's first byte since the decoder started.
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
}

/// A meter's byte protocol: what to send, and a stream decoder for what comes back.
pub trait Protocol: Send {
    /// The meter's name for messages, e.g. `UM25C`.
    fn meter(&self) -> &'static str;

    /// The bytes that ask for one frame.
    fn request(&self) -> &[u8];

    /// Feeds received bytes; valid frames go to `out`, failed ones to `rejected`.
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Decoded>, rejected: &mut Vec<Rejected>);

    /// Bytes skipped so far while looking for a frame start.
    fn skipped(&self) -> u64;

    /// Drops any partial frame (after a flush of the port).
    fn reset(&mut self);

    /// A hint for connect errors, e.g. that the frames are another model's.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// Timing of a polled meter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollSettings {
    /// Baud rate to open the port at.
    pub baud: u32,
    /// Pause after opening before the first request.
    pub settle: Duration,
    /// Shortest time between two requests.
    pub request_interval: Duration,
    /// How long to wait for a reply before asking again.
    pub reply_timeout: Duration,
    /// How long without a valid frame before the meter counts as gone.
    pub silence_timeout: Duration,
    /// How long `open` waits for the first valid frame.
    pub connect_timeout: Duration,
    /// The meter's own update period: identical frames within it are repeats.
    pub update_period: Duration,
}

/// A connected request/response meter.
pub struct PolledMeter<P: Protocol> {
    protocol: P,
    link: Box<dyn Link>,
    settings: PollSettings,
    info: SourceInfo,
    seen: Seen,
    decoded: Vec<Decoded>,
    rejected: Vec<Rejected>,
    last_request: Option<Instant>,
    awaiting_reply: bool,
    last_valid: Instant,
    retries: u32,
    last_accepted: Option<(u64, Instant)>,
    last_problem: Option<String>,
}

/// Opens the meter `spec` names and waits for its first valid frame.
///
/// `describe` gives the description for the source info (without the emulated prefix).
pub fn connect<P: Protocol>(
    spec: &SourceSpec,
    protocol: P,
    settings: PollSettings,
    describe: impl FnOnce(&str) -> String,
) -> Result<PolledMeter<P>, PowerError> {
    let port = spec.port().ok_or_else(|| PowerError::BadSpec {
        spec: spec.to_string(),
        reason: "no serial port given".to_owned(),
    })?;
    let link = open_port(port, settings.baud)?;
    let description = describe(port);
    let info = SourceInfo {
        spec: spec.to_string(),
        description,
        quantity: Quantity::CurrentVoltage,
        rate_hz: 1.0 / settings.request_interval.as_secs_f64(),
        resolution: Resolution::PowerW(0.001),
        coarse: true,
        clock_offset_s: None,
    };
    let mut meter = PolledMeter {
        protocol,
        link,
        settings,
        info,
        seen: Seen::default(),
        decoded: Vec::new(),
        rejected: Vec::new(),
        last_request: None,
        awaiting_reply: false,
        last_valid: Instant::now(),
        retries: 0,
        last_accepted: None,
        last_problem: None,
    };
    std::thread::sleep(settings.settle);
    let first = meter.first_frame()?;
    if first.emulated {
        meter.info.description = format!("{EMULATED_PREFIX} {}", meter.info.description);
    }
    tracing::debug!(
        "{} on {port}: first frame {:.4} V, {:.5} A, {:.3} W",
        meter.protocol.meter(),
        first.voltage_v,
        first.current_a,
        first.power_w
    );
    Ok(meter)
}

impl<P: Protocol> PolledMeter<P> {
    /// Sends control bytes that have no reply (e.g. a UM group selection).
    pub fn send_control(&mut self, bytes: &[u8]) -> Result<(), PowerError> {
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!("{} -> {}", self.link.name(), hex(bytes));
        }
        self.link.write_all(bytes)?;
        Ok(())
    }

    fn port(&self) -> String {
        self.link.name().to_owned()
    }

    /// Requests frames until one is valid or the connect timeout passes.
    fn first_frame(&mut self) -> Result<Decoded, PowerError> {
        let started = Instant::now();
        let deadline = started + self.settings.connect_timeout;
        let not_connected = |meter: &PolledMeter<P>, step: ConnectStep| {
            let mut seen = meter.seen.clone();
            seen.skipped = meter.protocol.skipped();
            MeterError::NotConnected {
                meter: meter.protocol.meter(),
                step,
                waited_s: started.elapsed().as_secs_f64(),
                seen,
                hint: meter.protocol.hint().or_else(|| meter.last_problem.clone()),
                port: meter.port(),
            }
        };
        while Instant::now() < deadline {
            let request = self.protocol.request().to_vec();
            if self.link.write_all(&request).is_err() {
                return Err(not_connected(self, ConnectStep::Request).into());
            }
            let reply_by = (Instant::now() + self.settings.reply_timeout).min(deadline);
            while Instant::now() < reply_by {
                let wait = reply_by.saturating_duration_since(Instant::now());
                self.receive(wait.min(Duration::from_millis(50)))?;
                if let Some(first) = self.decoded.first().copied() {
                    self.decoded.clear();
                    return Ok(first);
                }
            }
        }
        let step = if self.seen.bytes == 0 {
            ConnectStep::Reply
        } else {
            ConnectStep::Frame
        };
        Err(not_connected(self, step).into())
    }

    /// Reads what arrives within `wait` and decodes it.
    fn receive(&mut self, wait: Duration) -> Result<(), PowerError> {
        let mut buf = [0u8; READ_CHUNK];
        let mut wait = wait;
        loop {
            let count = self.link.read_some(&mut buf, wait)?;
            if count == 0 {
                return Ok(());
            }
            let bytes = &buf[..count];
            self.seen.received(bytes);
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!("{} <- {}", self.link.name(), hex(bytes));
            }
            self.protocol
                .push(bytes, &mut self.decoded, &mut self.rejected);
            self.seen.frames += self.decoded.len() as u64;
            for rejected in self.rejected.drain(..) {
                self.seen.rejected += 1;
                let err = MeterError::BadFrame {
                    meter: self.protocol.meter(),
                    offset: rejected.offset,
                    reason: rejected.reason,
                    port: self.link.name().to_owned(),
                };
                tracing::debug!("{err}");
                self.last_problem = Some(err.to_string());
            }
            // Keep draining whatever is already buffered, without waiting again.
            wait = Duration::ZERO;
        }
    }

    fn send_request(&mut self, now: Instant) -> Result<(), PowerError> {
        let request = self.protocol.request().to_vec();
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!("{} -> {}", self.link.name(), hex(&request));
        }
        self.link.write_all(&request)?;
        self.last_request = Some(now);
        self.awaiting_reply = true;
        Ok(())
    }

    /// True (and remembered) when `frame` is a new reading, false for a repeat.
    fn accept(&mut self, frame: &Decoded, now: Instant) -> bool {
        let repeat = self.last_accepted.is_some_and(|(fingerprint, at)| {
            fingerprint == frame.fingerprint && now.duration_since(at) < self.settings.update_period
        });
        if repeat {
            self.seen.duplicates += 1;
            return false;
        }
        self.last_accepted = Some((frame.fingerprint, now));
        true
    }
}

impl<P: Protocol> PowerSource for PolledMeter<P> {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn poll_interval(&self) -> Duration {
        TICK
    }

    fn start(&mut self, _clock: &dyn Clock) -> Result<(), PowerError> {
        self.link.discard_input()?;
        self.protocol.reset();
        self.decoded.clear();
        self.awaiting_reply = false;
        self.last_request = None;
        self.last_valid = Instant::now();
        Ok(())
    }

    fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        self.poll_frames(clock).map_err(|err| self.explain(err))
    }

    fn stop(&mut self) -> Result<(), PowerError> {
        let mut seen = self.seen.clone();
        seen.skipped = self.protocol.skipped();
        tracing::debug!("{} on {}: {seen}", self.protocol.meter(), self.link.name());
        Ok(())
    }
}

impl<P: Protocol> PolledMeter<P> {
    /// A closed port, told with what this meter had sent before.
    fn explain(&self, err: PowerError) -> PowerError {
        match err {
            PowerError::Serial(SerialError::Disconnected { what, port }) => {
                let mut seen = self.seen.clone();
                seen.skipped = self.protocol.skipped();
                MeterError::Disconnected {
                    meter: self.protocol.meter(),
                    what,
                    seen,
                    port,
                }
                .into()
            }
            other => other,
        }
    }

    fn poll_frames(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        self.receive(Duration::ZERO)?;
        let now = Instant::now();
        let t_s = clock.now_s();
        let mut samples = Vec::new();
        let frames: Vec<Decoded> = self.decoded.drain(..).collect();
        if !frames.is_empty() {
            self.awaiting_reply = false;
            self.last_valid = now;
            self.retries = 0;
        }
        for frame in frames {
            if self.accept(&frame, now) {
                samples.push(PowerSample {
                    t_s,
                    power_w: frame.power_w,
                    current_a: Some(frame.current_a),
                    voltage_v: Some(frame.voltage_v),
                    energy_j: frame.energy_j,
                    logic: None,
                });
            }
        }
        let since_request = self.last_request.map(|at| now.duration_since(at));
        let paced = since_request.is_none_or(|since| since >= self.settings.request_interval);
        let timed_out = since_request.is_some_and(|since| since >= self.settings.reply_timeout);
        if self.awaiting_reply && timed_out {
            self.retries += 1;
            tracing::debug!(
                "{} on {}: no reply within {:.1} s, asking again",
                self.protocol.meter(),
                self.link.name(),
                self.settings.reply_timeout.as_secs_f64()
            );
            // Half a frame may be stuck in the buffers: start clean.
            self.link.discard_input()?;
            self.protocol.reset();
            self.send_request(now)?;
        } else if !self.awaiting_reply && paced {
            self.send_request(now)?;
        }
        let silent_for = now.duration_since(self.last_valid);
        if silent_for >= self.settings.silence_timeout {
            let mut seen = self.seen.clone();
            seen.skipped = self.protocol.skipped();
            return Err(MeterError::Silent {
                meter: self.protocol.meter(),
                waited_s: silent_for.as_secs_f64(),
                retries: self.retries,
                seen,
                port: self.port(),
            }
            .into());
        }
        Ok(samples)
    }
}

/// Hash of a frame's bytes, for [`Decoded::fingerprint`].
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
