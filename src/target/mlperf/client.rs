//! One session with an MLPerf Tiny DUT over a [`Link`]: connect (flush, identify, check
//! the firmware), download an input tensor, run `infer N W` and read its timestamps.
//!
//! Connecting follows the MLCommons runner and EEMBC's auto-detection:
//! 1. flush the port: drop buffered input, send a lone `%` so any half command the DUT
//!    holds is completed (it answers with an error and `m-ready`), then read until the
//!    port is quiet;
//! 2. `name%`, up to 3 tries of 2 s each for `m-ready` (any `m-name-…` is accepted);
//! 3. `profile%` (3 tries) for the firmware text and the model;
//! 4. `timestamp%`: performance-mode firmware prints `m-lap-us-N`, energy-mode firmware
//!    only pulses a GPIO. Energy-mode firmware is refused for latency runs. The boot line
//!    `m-timestamp-mode-…` is noted when the DUT boots while the host listens, but not
//!    trusted alone (mlcommons/tiny#65: it can disagree with the build), and every `infer`
//!    is checked for its two `m-lap-us` lines as well.
//!
//! Without a baud rate in the spec, 115200 is tried first and 9600 (energy-mode builds)
//! when nothing answers `name%`. Every reply line must come within
//! [`ClientConfig::line_timeout`] (5 s), or [`ClientConfig::infer_timeout`] (30 s) during
//! `infer`, as in the runner. A line that repeats the command just sent (a DUT that
//! echoes) is ignored. Every error names the port and the last command sent; a boot
//! banner after connecting is a reset and ends the session.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::emulator::EMULATED_NAME;
pub use super::error::{DutError, DutErrorKind};
use super::protocol::{
    self, Command, DB_CHUNK_BYTES, Framed, LineSplitter, Message, TimestampMode,
};
use crate::serial::{Link, SerialError, open_port};
use crate::target::PortSpec;

/// Baud rates tried in order when the spec gives none: performance-mode builds, then
/// energy-mode builds (`EE_CFG_ENERGY_MODE` 1 → 9600).
pub const FALLBACK_BAUDS: [u32; 2] = [115_200, 9600];

/// Timeouts and retries of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Longest wait for each reply line (the runner's 5 s).
    pub line_timeout: Duration,
    /// Longest wait for each line of `infer`'s reply (the runner's 30 s).
    pub infer_timeout: Duration,
    /// Wait for `m-ready` after each `name%` (EEMBC auto-detection's 2 s).
    pub name_timeout: Duration,
    /// Tries of `name%` and `profile%` (the runner's 3).
    pub tries: u32,
    /// Silence that ends a drain of the port.
    pub quiet: Duration,
    /// Longest drain, however much the DUT keeps sending.
    pub max_drain: Duration,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            line_timeout: Duration::from_secs(5),
            infer_timeout: Duration::from_secs(30),
            name_timeout: Duration::from_secs(2),
            tries: 3,
            quiet: Duration::from_millis(150),
            max_drain: Duration::from_secs(3),
        }
    }
}

/// What the DUT said about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DutInfo {
    /// The text after `m-name-`, e.g. `dut-[unspecified]`.
    pub name: String,
    /// The text of `m-profile-[…]`, e.g. `ULPMark for tinyML Firmware V0.0.1`.
    pub profile: String,
    /// The model of `m-model-[…]`, e.g. `ic01`.
    pub model: String,
    /// The baud rate the DUT answered at.
    pub baud: u32,
    /// The mode its boot line stated, when it booted while the host listened.
    pub boot_mode: Option<TimestampMode>,
}

impl DutInfo {
    /// True for actprof's emulated DUT (it names itself [`EMULATED_NAME`]).
    pub fn is_emulated(&self) -> bool {
        self.name == EMULATED_NAME
    }
}

/// What the link delivered that was not protocol, counted for the end-of-run summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// `\0` and non-UTF-8 bytes dropped from lines.
    pub dropped_bytes: u64,
    /// Lines longer than [`protocol::MAX_LINE_LEN`], skipped.
    pub overlong_lines: u64,
    /// Echoes of the command just sent, ignored.
    pub echoes: u64,
}

/// One `infer N W` as the DUT timed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Inference {
    /// Timed inferences (N).
    pub inferences: u32,
    /// Warm-up inferences (W).
    pub warmup: u32,
    /// The first `m-lap-us` stamp, µs.
    pub t0_us: u64,
    /// The second `m-lap-us` stamp, µs.
    pub t1_us: u64,
    /// `t1 − t0` modulo 2³², µs.
    pub elapsed_us: u64,
    /// The text of `m-results-[…]` (empty when the DUT printed none).
    pub results: String,
    /// How long the host waited for the whole reply (warm-up and serial time included).
    pub wall: Duration,
}

/// A session with one DUT. Build it with [`DutClient::connect`] (opens the port) or
/// [`DutClient::over_link`].
pub struct DutClient {
    link: Box<dyn Link>,
    port: String,
    config: ClientConfig,
    splitter: LineSplitter,
    pending: VecDeque<Framed>,
    last_command: String,
    last_command_text: String,
    last_line: Option<String>,
    info: DutInfo,
    /// Set once identified: from then on a boot line is a reset.
    connected: bool,
    stats: LinkStats,
}

impl DutClient {
    /// Opens the port of `spec` and connects: at its baud rate, or at each of
    /// [`FALLBACK_BAUDS`] until a DUT answers.
    pub fn connect(spec: &PortSpec, config: &ClientConfig) -> Result<DutClient, DutError> {
        let bauds: Vec<u32> = match spec.baud {
            Some(baud) => vec![baud],
            None => FALLBACK_BAUDS.to_vec(),
        };
        for (index, &baud) in bauds.iter().enumerate() {
            let link = open_port(&spec.port, baud)
                .map_err(|err| DutError::new(&spec.port, "", DutErrorKind::Open(err)))?;
            match DutClient::over_link(link, baud, config.clone()) {
                Err(mut err) if matches!(err.kind, DutErrorKind::NoAnswer { .. }) => {
                    if let Some(next) = bauds.get(index + 1) {
                        tracing::info!(
                            "no DUT answered at {baud} baud on {}; trying {next} baud",
                            spec.port
                        );
                        continue;
                    }
                    if let DutErrorKind::NoAnswer { bauds: tried, .. } = &mut err.kind {
                        tried.clone_from(&bauds);
                    }
                    return Err(err);
                }
                outcome => return outcome,
            }
        }
        Err(DutError::new(
            &spec.port,
            "",
            DutErrorKind::NoAnswer {
                tries: config.tries,
                timeout: config.name_timeout,
                bauds,
            },
        ))
    }

    /// Connects over an open link (`baud` is what it was opened at, for the record).
    pub fn over_link(
        link: Box<dyn Link>,
        baud: u32,
        config: ClientConfig,
    ) -> Result<DutClient, DutError> {
        let port = link.name().to_owned();
        let mut client = DutClient {
            link,
            port,
            config,
            splitter: LineSplitter::default(),
            pending: VecDeque::new(),
            last_command: String::new(),
            last_command_text: String::new(),
            last_line: None,
            info: DutInfo {
                name: String::new(),
                profile: String::new(),
                model: String::new(),
                baud,
                boot_mode: None,
            },
            connected: false,
            stats: LinkStats::default(),
        };
        client.flush()?;
        let Some(name) = client.identify()? else {
            return Err(client.error(DutErrorKind::NoAnswer {
                tries: client.config.tries,
                timeout: client.config.name_timeout,
                bauds: vec![baud],
            }));
        };
        client.info.name = name;
        let (profile, model) = client.read_profile()?;
        client.info.profile = profile;
        client.info.model = model;
        client.check_mode()?;
        client.connected = true;
        tracing::debug!(
            "connected to DUT `{}` ({}, model {}) on {} at {baud} baud",
            client.info.name,
            client.info.profile,
            client.info.model,
            client.port
        );
        Ok(client)
    }

    /// What the DUT said about itself.
    pub fn info(&self) -> &DutInfo {
        &self.info
    }

    /// The port's path.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// What the link delivered that was not protocol so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// An error on this port after the last command sent.
    pub fn error(&self, kind: DutErrorKind) -> DutError {
        DutError::new(&self.port, &self.last_command, kind)
    }

    /// Downloads `data` as the input tensor: `db load N`, then `db <hex>` chunks of
    /// [`DB_CHUNK_BYTES`], each waited for with its `m-ready`; the last must bring
    /// `m-load-done`.
    pub fn download(&mut self, data: &[u8]) -> Result<(), DutError> {
        let bytes = data.len();
        let waiting_for = "the reply to `db load` (m-[Expecting N bytes])";
        let replies = self.exchange(&Command::DbLoad(bytes), waiting_for)?;
        let mut expecting = None;
        for message in replies {
            match message {
                Message::Expecting(count) => expecting = Some(count),
                Message::Error(text) => return Err(self.error(DutErrorKind::Refused(text))),
                Message::Unprefixed(line) if protocol::is_buffer_overflow_line(&line) => {
                    return Err(self.error(DutErrorKind::BufferTooSmall { bytes, line }));
                }
                _ => {}
            }
        }
        if expecting != Some(bytes as u64) {
            return Err(self.error(DutErrorKind::Unexpected {
                line: self.last_line.clone().unwrap_or_default(),
                expected: format!("m-[Expecting {bytes} bytes]"),
            }));
        }
        let chunks = bytes.div_ceil(DB_CHUNK_BYTES);
        for (index, chunk) in data.chunks(DB_CHUNK_BYTES).enumerate() {
            let replies = self.exchange(&Command::DbData(chunk), "m-ready after a `db` chunk")?;
            let mut done = false;
            for message in replies {
                match message {
                    Message::LoadDone => done = true,
                    Message::Error(text) => return Err(self.error(DutErrorKind::Refused(text))),
                    _ => {}
                }
            }
            let last = index + 1 == chunks;
            if done && !last {
                let sent = (index + 1) * DB_CHUNK_BYTES;
                return Err(self.error(DutErrorKind::LoadEarly { sent, bytes }));
            }
            if last && !done {
                return Err(self.error(DutErrorKind::LoadIncomplete { bytes }));
            }
        }
        Ok(())
    }

    /// Runs `infer N W` and reads its exact reply: `m-warmup-start-W`, `m-warmup-done`,
    /// `m-infer-start-N`, two `m-lap-us`, `m-infer-done`, `m-results-[…]`, `m-ready`.
    /// Other `m-` lines and unprefixed lines in between are skipped (submitters' prints).
    pub fn infer(&mut self, inferences: u32, warmup: u32) -> Result<Inference, DutError> {
        let command = Command::Infer { inferences, warmup };
        self.send(&command)?;
        let started = Instant::now();
        let timeout = self.config.infer_timeout;
        let mut stage = Stage::WarmupStart;
        let mut laps: Vec<u64> = Vec::with_capacity(2);
        let mut results = String::new();
        loop {
            let waiting_for = stage.describe(inferences, warmup, laps.len());
            let message = self.expect_message(timeout, &waiting_for)?;
            stage = match (stage, message) {
                (_, Message::Error(text)) => {
                    return Err(self.error(DutErrorKind::Refused(text)));
                }
                (_, Message::Unprefixed(text) | Message::Other(text)) => {
                    tracing::debug!("skipped `{text}` in the reply to infer on {}", self.port);
                    stage
                }
                (Stage::WarmupStart, Message::WarmupStart(w)) if w == u64::from(warmup) => {
                    Stage::WarmupDone
                }
                (Stage::WarmupDone, Message::WarmupDone) => Stage::InferStart,
                (Stage::InferStart, Message::InferStart(n)) if n == u64::from(inferences) => {
                    Stage::Laps
                }
                (Stage::Laps, Message::LapUs(stamp)) if laps.len() < 2 => {
                    laps.push(stamp);
                    Stage::Laps
                }
                (Stage::Laps, Message::InferDone) => match laps.len() {
                    2 => Stage::Results,
                    0 => {
                        return Err(self.error(DutErrorKind::EnergyMode {
                            evidence: "`infer` printed no m-lap-us lines between \
                                       m-infer-start and m-infer-done"
                                .to_owned(),
                        }));
                    }
                    count => return Err(self.error(DutErrorKind::Laps(count))),
                },
                (Stage::Results, Message::Results(text)) => {
                    results = text;
                    Stage::Ready
                }
                (Stage::Results | Stage::Ready, Message::Ready) => break,
                (_, _) => {
                    return Err(self.error(DutErrorKind::Unexpected {
                        line: self.last_line.clone().unwrap_or_default(),
                        expected: waiting_for,
                    }));
                }
            };
        }
        let (t0_us, t1_us) = (laps[0], laps[1]);
        let elapsed_us = protocol::elapsed_us(t0_us, t1_us).ok_or_else(|| {
            self.error(DutErrorKind::BadStamps {
                t0: t0_us,
                t1: t1_us,
            })
        })?;
        Ok(Inference {
            inferences,
            warmup,
            t0_us,
            t1_us,
            elapsed_us,
            results,
            wall: started.elapsed(),
        })
    }

    /// Flushes the port: drop buffered input, complete any half command with a lone `%`,
    /// read until quiet.
    fn flush(&mut self) -> Result<(), DutError> {
        self.link
            .discard_input()
            .map_err(|err| self.link_error(err))?;
        self.splitter.clear();
        self.pending.clear();
        self.send(&Command::Flush)?;
        self.drain()
    }

    /// Reads and logs whatever the DUT sends until it has been quiet for
    /// [`ClientConfig::quiet`] (at most [`ClientConfig::max_drain`]).
    fn drain(&mut self) -> Result<(), DutError> {
        let end = Instant::now() + self.config.max_drain;
        loop {
            let deadline = (Instant::now() + self.config.quiet).min(end);
            match self.next_message(deadline)? {
                Some(message) => tracing::debug!("drained from {}: {message:?}", self.port),
                None => return Ok(()),
            }
        }
    }

    /// `name%` until a try brings `m-name-…` and `m-ready`; `None` when no try did.
    fn identify(&mut self) -> Result<Option<String>, DutError> {
        for attempt in 1..=self.config.tries {
            self.send(&Command::Name)?;
            let deadline = Instant::now() + self.config.name_timeout;
            let mut name = None;
            let mut answered = false;
            while let Some(message) = self.next_message(deadline)? {
                match message {
                    Message::Name(text) => name = Some(text),
                    Message::Ready => {
                        answered = true;
                        break;
                    }
                    other => tracing::debug!("while identifying {}: {other:?}", self.port),
                }
            }
            if let (true, Some(name)) = (answered, name) {
                // A late answer to an earlier try may still be on its way.
                if attempt > 1 {
                    self.drain()?;
                }
                return Ok(Some(name));
            }
            tracing::debug!(
                "try {attempt} of name% on {}: {}",
                self.port,
                if answered {
                    "m-ready without m-name"
                } else {
                    "no m-ready in time"
                }
            );
        }
        Ok(None)
    }

    /// `profile%` (with retries): the firmware text and the model.
    fn read_profile(&mut self) -> Result<(String, String), DutError> {
        for attempt in 1..=self.config.tries {
            let replies = match self.exchange(&Command::Profile, "m-model-[…] and m-ready") {
                Ok(replies) => replies,
                Err(err)
                    if matches!(err.kind, DutErrorKind::Timeout { .. })
                        && attempt < self.config.tries =>
                {
                    continue;
                }
                Err(err) => return Err(err),
            };
            let mut profile = String::new();
            let mut model = None;
            for message in replies {
                match message {
                    Message::Profile(text) => profile = text,
                    Message::Model(text) => model = Some(text),
                    _ => {}
                }
            }
            if let Some(model) = model {
                return Ok((profile, model));
            }
        }
        Err(self.error(DutErrorKind::Unexpected {
            line: self.last_line.clone().unwrap_or_default(),
            expected: "m-model-[…]".to_owned(),
        }))
    }

    /// `timestamp%`: refuses energy-mode firmware, which prints no `m-lap-us` line.
    fn check_mode(&mut self) -> Result<(), DutError> {
        let replies = self.exchange(&Command::Timestamp, "m-ready after `timestamp`")?;
        let laps = replies
            .iter()
            .filter(|message| matches!(message, Message::LapUs(_)))
            .count();
        let boot = self.info.boot_mode;
        if laps == 0 {
            let mut evidence = "`timestamp%` printed no m-lap-us line".to_owned();
            if boot == Some(TimestampMode::Energy) {
                evidence.push_str(", and it booted with m-timestamp-mode-energy");
            }
            return Err(self.error(DutErrorKind::EnergyMode { evidence }));
        }
        if boot == Some(TimestampMode::Energy) {
            tracing::warn!(
                "the DUT on {} booted with m-timestamp-mode-energy but `timestamp%` printed \
                 m-lap-us: timing it from its stamps (each infer is checked for both)",
                self.port
            );
        }
        Ok(())
    }

    /// Sends `command` and collects its reply up to `m-ready` (not included), each line
    /// within [`ClientConfig::line_timeout`].
    fn exchange(&mut self, command: &Command, waiting_for: &str) -> Result<Vec<Message>, DutError> {
        self.send(command)?;
        self.read_reply(self.config.line_timeout, waiting_for)
    }

    /// The reply lines up to `m-ready` (not included).
    fn read_reply(
        &mut self,
        timeout: Duration,
        waiting_for: &str,
    ) -> Result<Vec<Message>, DutError> {
        let mut replies = Vec::new();
        loop {
            match self.expect_message(timeout, waiting_for)? {
                Message::Ready => return Ok(replies),
                message => replies.push(message),
            }
        }
    }

    fn send(&mut self, command: &Command) -> Result<(), DutError> {
        self.last_command = command.to_string();
        self.last_command_text = command.text();
        let bytes = command
            .encode()
            .map_err(|err| self.error(DutErrorKind::CommandTooLong(err)))?;
        tracing::trace!("→ {}: {}", self.port, self.last_command);
        self.link
            .write_all(&bytes)
            .map_err(|err| self.link_error(err))
    }

    /// The next message within `timeout`, or a timeout error naming `waiting_for`.
    fn expect_message(
        &mut self,
        timeout: Duration,
        waiting_for: &str,
    ) -> Result<Message, DutError> {
        match self.next_message(Instant::now() + timeout)? {
            Some(message) => Ok(message),
            None => Err(self.error(DutErrorKind::Timeout {
                waited: timeout,
                waiting_for: waiting_for.to_owned(),
                last_line: self.last_line.clone(),
            })),
        }
    }

    /// The next message by `deadline` (`None` if none came). Boot lines are noted while
    /// connecting and are a [`DutErrorKind::Reset`] afterwards.
    fn next_message(&mut self, deadline: Instant) -> Result<Option<Message>, DutError> {
        let Some(line) = self.next_line(deadline)? else {
            return Ok(None);
        };
        let message = protocol::parse_line(&line);
        if message.is_boot() {
            if self.connected {
                return Err(self.error(DutErrorKind::Reset(line)));
            }
            if let Message::TimestampMode(mode) = message {
                self.info.boot_mode = Some(mode);
            }
            tracing::debug!("boot line from {}: {line}", self.port);
        }
        Ok(Some(message))
    }

    /// The next line by `deadline`, without echoes of the last command.
    fn next_line(&mut self, deadline: Instant) -> Result<Option<String>, DutError> {
        let mut buf = [0u8; 512];
        loop {
            while let Some(framed) = self.pending.pop_front() {
                match framed {
                    Framed::Overlong(len) => {
                        self.stats.overlong_lines += 1;
                        tracing::warn!("skipped a {len}-byte line from {} (too long)", self.port);
                    }
                    Framed::Line(line) => {
                        if line.dropped > 0 {
                            self.note_dropped(line.dropped, &line.text);
                        }
                        if let Some(text) = self.without_echo(line.text) {
                            tracing::trace!("← {}: {text}", self.port);
                            self.last_line = Some(text.clone());
                            return Ok(Some(text));
                        }
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let count = self
                .link
                .read_some(&mut buf, deadline - now)
                .map_err(|err| self.link_error(err))?;
            if count > 0 {
                let framed = self.splitter.push(&buf[..count]);
                self.pending.extend(framed);
            }
        }
    }

    /// `text` without an echo of the last command: `None` for a line that is only the
    /// echo, the rest of a line that starts with it and its `%`.
    fn without_echo(&mut self, text: String) -> Option<String> {
        let command = self.last_command_text.as_str();
        if !command.is_empty() && (text == command || text.strip_suffix('%') == Some(command)) {
            self.stats.echoes += 1;
            return None;
        }
        let echoed = text
            .strip_prefix(command)
            .and_then(|rest| rest.strip_prefix('%'));
        if let Some(rest) = echoed {
            self.stats.echoes += 1;
            return Some(rest.to_owned());
        }
        Some(text)
    }

    fn note_dropped(&mut self, count: usize, text: &str) {
        if self.stats.dropped_bytes == 0 {
            tracing::warn!(
                "dropped {count} byte(s) that are not UTF-8 text from a line of {} (`{text}` \
                 kept); later ones are counted",
                self.port
            );
        } else {
            tracing::debug!("dropped {count} byte(s) from `{text}` on {}", self.port);
        }
        self.stats.dropped_bytes += count as u64;
    }

    fn link_error(&self, err: SerialError) -> DutError {
        if err.is_disconnect() {
            self.error(DutErrorKind::Disconnected(err))
        } else {
            self.error(DutErrorKind::Link(err))
        }
    }
}

/// Where [`DutClient::infer`] is in the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    WarmupStart,
    WarmupDone,
    InferStart,
    Laps,
    Results,
    Ready,
}

impl Stage {
    fn describe(self, inferences: u32, warmup: u32, laps: usize) -> String {
        match self {
            Stage::WarmupStart => format!("m-warmup-start-{warmup}"),
            Stage::WarmupDone => "m-warmup-done".to_owned(),
            Stage::InferStart => format!("m-infer-start-{inferences}"),
            Stage::Laps if laps == 0 => "the first m-lap-us".to_owned(),
            Stage::Laps if laps == 1 => {
                "the second m-lap-us, which ends the timed region".to_owned()
            }
            Stage::Laps => "m-infer-done".to_owned(),
            Stage::Results => "m-results-[…]".to_owned(),
            Stage::Ready => "the final m-ready".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
