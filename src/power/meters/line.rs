//! Line-streaming loggers: an Arduino with an INA219/INA226 (the sketch is in
//! `firmware/ina-logger/`), or any device that prints one reading per line.
//!
//! # The line format
//!
//! ASCII lines ending in `\n` or `\r\n`, at most [`MAX_LINE_LEN`] bytes:
//!
//! ```text
//! t_ms,bus_V,current_A                          basic form
//! t_ms,bus_V,shunt_mV,current_mA,power_mW       extended form (the INA sketch)
//! ```
//!
//! - `t_ms` is the device's millisecond clock, an unsigned 32-bit integer (Arduino's
//!   `millis()`), which wraps after 2³² ms ≈ 49.7 days; a wrap is unwrapped.
//! - The other fields are decimal numbers `[-]digits[.digits]` (what Arduino's
//!   `Serial.print(value, decimals)` prints; no exponent, no `nan`, no `inf`).
//! - Power is `power_mW` when the line carries it, otherwise `bus_V × current`.
//! - A line starting with `#` or a letter is not a reading. If its comma-separated words
//!   include `t_ms` it is a *header* naming the columns (any order; names
//!   `t_ms`, `bus_V`, `current_A` or `current_mA`, optional `shunt_mV`, `power_mW` or
//!   `power_W`, case-insensitive, other columns allowed and ignored; a leading `#` is
//!   allowed). Otherwise a `#` line is a comment, and a line starting with a letter is a
//!   *banner*: the device (re)started, so its clock restarted. The comment
//!   `# actprof emulator` marks actprof's emulator.
//! - Without a header, the layout is the basic or extended form by field count, locked by
//!   the first reading; a header sets it explicitly.
//! - Sending any line to the device asks it to print its header again (the sketch and the
//!   emulator do; a device that ignores it loses nothing).
//!
//! # What is dropped
//!
//! Nothing is trusted: the first line after opening the port when it would be a reading
//! (it may be the tail of a line already being sent), a line longer than
//! [`MAX_LINE_LEN`], one with a byte that is not printable ASCII (garbage at a wrong baud
//! rate), a missing or extra field, a field that is not a number in the form above, and
//! a `t_ms` beyond 32 bits each drop the line and are counted in [`LineStats`]. No
//! reading is ever made from part of a line.
//!
//! # Time
//!
//! Readings carry device time. [`DeviceTime`] unwraps the 32-bit clock (a step back of
//! less than 2³¹ ms is a restart, anything else a wrap) and [`DeviceClock`] maps it onto
//! the session clock: `session = device + offset`, the offset taken from the first
//! reading and lowered whenever a reading would otherwise be stamped after it arrived,
//! raised when every reading of a [`LAG_WINDOW_S`] window arrived more than
//! [`MAX_LAG_S`] late (a device clock running slow). Stamps never go back in time; after
//! a restart the offset is taken afresh.

use super::text::{Framed, LineFramer, printed_step};
use crate::power::PowerSample;

pub mod emulator;
pub mod source;

/// Longest line accepted, in bytes, terminator excluded. The extended form is under 60.
pub const MAX_LINE_LEN: usize = 128;

/// The device clock wraps after this many ms (a 32-bit `millis()`).
pub const CLOCK_WRAP_MS: u64 = 1 << 32;

/// The comment by which actprof's emulator identifies itself.
pub const EMULATOR_COMMENT: &str = "actprof emulator";

/// The header of the extended form, as the sketch and the emulator print it.
pub const EXTENDED_HEADER: &str = "t_ms,bus_V,shunt_mV,current_mA,power_mW";

/// The header of the basic form.
pub const BASIC_HEADER: &str = "t_ms,bus_V,current_A";

/// Readings arriving later than this after their device time, throughout a window, mean
/// the device clock runs slow: the offset is raised.
pub const MAX_LAG_S: f64 = 0.1;

/// Length of the window over which the smallest lag is taken, in s of arrival time.
pub const LAG_WINDOW_S: f64 = 2.0;

/// Lines of a different valid layout in a row after which the layout is relearned (a
/// logger replaced by another without a header).
const RELEARN_AFTER: u32 = 5;

/// How current is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CurrentUnit {
    Amps,
    Milliamps,
}

/// How power is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PowerUnit {
    Watts,
    Milliwatts,
}

/// Where each quantity is in a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    fields: usize,
    t_ms: usize,
    bus_v: usize,
    current: (usize, CurrentUnit),
    shunt_mv: Option<usize>,
    power: Option<(usize, PowerUnit)>,
}

impl Layout {
    /// `t_ms,bus_V,current_A`.
    pub fn basic() -> Layout {
        Layout {
            fields: 3,
            t_ms: 0,
            bus_v: 1,
            current: (2, CurrentUnit::Amps),
            shunt_mv: None,
            power: None,
        }
    }

    /// `t_ms,bus_V,shunt_mV,current_mA,power_mW`.
    pub fn extended() -> Layout {
        Layout {
            fields: 5,
            t_ms: 0,
            bus_v: 1,
            current: (3, CurrentUnit::Milliamps),
            shunt_mv: Some(2),
            power: Some((4, PowerUnit::Milliwatts)),
        }
    }

    /// The layout a header names, or `None` when it lacks `t_ms`, `bus_V` or a current.
    pub fn from_header(names: &[&str]) -> Option<Layout> {
        let find = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        let current = find("current_A")
            .map(|i| (i, CurrentUnit::Amps))
            .or_else(|| find("current_mA").map(|i| (i, CurrentUnit::Milliamps)))?;
        let power = find("power_mW")
            .map(|i| (i, PowerUnit::Milliwatts))
            .or_else(|| find("power_W").map(|i| (i, PowerUnit::Watts)));
        Some(Layout {
            fields: names.len(),
            t_ms: find("t_ms")?,
            bus_v: find("bus_V")?,
            current,
            shunt_mv: find("shunt_mV"),
            power,
        })
    }

    /// The layout a headerless line of `fields` fields has.
    fn by_count(fields: usize) -> Option<Layout> {
        match fields {
            3 => Some(Layout::basic()),
            5 => Some(Layout::extended()),
            _ => None,
        }
    }
}

/// One reading as the device printed it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// The device clock, in ms (32 bits, wraps).
    pub t_ms: u32,
    /// Bus voltage in V.
    pub bus_v: f64,
    /// Current in A.
    pub current_a: f64,
    /// Power in W: the device's when it prints it, else `bus_v × current_a`.
    pub power_w: f64,
    /// Shunt voltage in mV, when printed.
    pub shunt_mv: Option<f64>,
}

/// Why a line was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The first line after opening: maybe the tail of a line.
    FirstLine,
    /// Longer than [`MAX_LINE_LEN`].
    Overlong { len: usize },
    /// A byte that is not printable ASCII.
    NotText { at: usize },
    /// A field too many or too few.
    FieldCount { got: usize, expected: usize },
    /// A field that is not a number in the documented form (1-based column).
    BadField { column: usize },
}

/// What one line was.
#[derive(Clone, Debug, PartialEq)]
pub enum LineEvent {
    /// A reading.
    Reading(Reading),
    /// A header; the layout follows it from now on.
    Header,
    /// A `#` comment, text after the `#` trimmed.
    Comment(String),
    /// A banner: the device (re)started.
    Banner(String),
    /// A line that was dropped.
    Dropped(DropReason),
}

/// Counts of what the parser saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineStats {
    /// Readings parsed.
    pub readings: u64,
    /// Headers seen.
    pub headers: u64,
    /// Banners seen.
    pub banners: u64,
    /// Lines dropped, for any reason.
    pub dropped: u64,
    /// Of those, over-long lines.
    pub overlong: u64,
    /// Of those, lines with garbage bytes.
    pub not_text: u64,
    /// Of those, lines with a missing or extra field or a bad number.
    pub malformed: u64,
    /// Times the layout was relearned from the field count.
    pub relearned: u64,
    /// Whether `# actprof emulator` was seen.
    pub emulator: bool,
}

/// Parses a logger's byte stream into [`LineEvent`]s.
#[derive(Clone, Debug)]
pub struct LineParser {
    framer: LineFramer,
    layout: Option<Layout>,
    /// Whether the layout came from a header (then it is not relearned by count).
    from_header: bool,
    /// The first line is still to be dropped.
    first_pending: bool,
    /// A different, valid headerless layout seen in a row, and how often.
    other_layout: Option<(usize, u32)>,
    stats: LineStats,
    /// Finest power step printed, in W.
    power_step_w: Option<f64>,
}

impl LineParser {
    /// A parser for a port just opened: its first line will be dropped.
    pub fn new() -> LineParser {
        LineParser {
            framer: LineFramer::new(MAX_LINE_LEN),
            layout: None,
            from_header: false,
            first_pending: true,
            other_layout: None,
            stats: LineStats::default(),
            power_step_w: None,
        }
    }

    /// A parser for a stream known to start at a line boundary (a file, a test).
    pub fn at_line_start() -> LineParser {
        LineParser {
            first_pending: false,
            ..LineParser::new()
        }
    }

    /// What was seen so far.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// The finest step of power the lines print, in W (for a line without power, the
    /// current's step times the bus voltage).
    pub fn power_step_w(&self) -> Option<f64> {
        self.power_step_w
    }

    /// Forgets a line in progress and drops the next one, keeping the layout: for a
    /// stream picked up again after input was discarded.
    pub fn resync(&mut self) {
        self.framer.clear();
        self.first_pending = true;
    }

    /// Feeds bytes; returns what the lines they complete were.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<LineEvent> {
        let framed = self.framer.push(bytes);
        let mut events = Vec::with_capacity(framed.len());
        for item in framed {
            let event = match item {
                Framed::Overlong(len) => LineEvent::Dropped(DropReason::Overlong { len }),
                // The tail of a reading could pass for one; a comment, header or banner
                // line cannot do harm, so only a would-be reading is dropped.
                Framed::Line(line)
                    if std::mem::take(&mut self.first_pending) && !starts_words(&line) =>
                {
                    tracing::trace!("dropped the first line ({} bytes)", line.len());
                    LineEvent::Dropped(DropReason::FirstLine)
                }
                Framed::Line(line) if line.iter().all(|b| *b == b' ' || *b == b'\t') => {
                    continue;
                }
                Framed::Line(line) => self.line(&line),
            };
            self.count(&event);
            events.push(event);
        }
        events
    }

    fn count(&mut self, event: &LineEvent) {
        let stats = &mut self.stats;
        match event {
            LineEvent::Reading(_) => stats.readings += 1,
            LineEvent::Header => stats.headers += 1,
            LineEvent::Banner(_) => stats.banners += 1,
            LineEvent::Comment(text) => {
                if text
                    .get(..EMULATOR_COMMENT.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(EMULATOR_COMMENT))
                {
                    stats.emulator = true;
                }
            }
            LineEvent::Dropped(reason) => {
                stats.dropped += 1;
                match reason {
                    DropReason::FirstLine => {}
                    DropReason::Overlong { .. } => stats.overlong += 1,
                    DropReason::NotText { .. } => stats.not_text += 1,
                    DropReason::FieldCount { .. } | DropReason::BadField { .. } => {
                        stats.malformed += 1;
                    }
                }
            }
        }
    }

    fn line(&mut self, line: &[u8]) -> LineEvent {
        if let Some(at) = line
            .iter()
            .position(|&b| !(b == b'\t' || (0x20..0x7f).contains(&b)))
        {
            return LineEvent::Dropped(DropReason::NotText { at });
        }
        // Printable ASCII only, so this is valid UTF-8.
        let Ok(text) = std::str::from_utf8(line) else {
            return LineEvent::Dropped(DropReason::NotText { at: 0 });
        };
        let text = text.trim();
        let first = text.as_bytes().first().copied().unwrap_or(b' ');
        if first == b'#' || first.is_ascii_alphabetic() {
            return self.words(text, first == b'#');
        }
        self.reading(text)
    }

    /// A header, a comment or a banner.
    fn words(&mut self, text: &str, comment: bool) -> LineEvent {
        let body = text.trim_start_matches('#').trim();
        let names: Vec<&str> = body.split(',').map(str::trim).collect();
        if names.iter().any(|n| n.eq_ignore_ascii_case("t_ms")) {
            if let Some(layout) = Layout::from_header(&names) {
                self.layout = Some(layout);
                self.from_header = true;
                self.other_layout = None;
                return LineEvent::Header;
            }
            return LineEvent::Dropped(DropReason::FieldCount {
                got: names.len(),
                expected: 3,
            });
        }
        if comment {
            LineEvent::Comment(body.to_owned())
        } else {
            LineEvent::Banner(body.to_owned())
        }
    }

    fn reading(&mut self, text: &str) -> LineEvent {
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        let layout = match &self.layout {
            Some(layout) if layout.fields == fields.len() => {
                self.other_layout = None;
                layout.clone()
            }
            Some(layout) => {
                let expected = layout.fields;
                return self.maybe_relearn(&fields, expected);
            }
            None => match Layout::by_count(fields.len()) {
                Some(layout) => layout,
                None => {
                    return LineEvent::Dropped(DropReason::FieldCount {
                        got: fields.len(),
                        expected: 3,
                    });
                }
            },
        };
        match parse_reading(&fields, &layout) {
            Ok(reading) => {
                let step = match layout.power {
                    Some((column, PowerUnit::Watts)) => printed_step(fields[column]),
                    Some((column, PowerUnit::Milliwatts)) => {
                        printed_step(fields[column]).map(|step| step / 1000.0)
                    }
                    None => printed_step(fields[layout.current.0]).map(|step| {
                        let scale = match layout.current.1 {
                            CurrentUnit::Amps => 1.0,
                            CurrentUnit::Milliamps => 1e-3,
                        };
                        step * scale * reading.bus_v.abs()
                    }),
                };
                if let Some(step) = step.filter(|step| *step > 0.0) {
                    self.power_step_w = Some(self.power_step_w.map_or(step, |s| s.min(step)));
                }
                self.layout.get_or_insert(layout);
                LineEvent::Reading(reading)
            }
            Err(reason) => LineEvent::Dropped(reason),
        }
    }

    /// A line of another field count than the locked layout: dropped, but after
    /// [`RELEARN_AFTER`] valid such lines in a row (and no header) the layout changes.
    fn maybe_relearn(&mut self, fields: &[&str], expected: usize) -> LineEvent {
        let wrong = LineEvent::Dropped(DropReason::FieldCount {
            got: fields.len(),
            expected,
        });
        if self.from_header {
            return wrong;
        }
        let Some(layout) = Layout::by_count(fields.len()) else {
            return wrong;
        };
        if parse_reading(fields, &layout).is_err() {
            return wrong;
        }
        let seen = match self.other_layout {
            Some((count, seen)) if count == fields.len() => seen + 1,
            _ => 1,
        };
        self.other_layout = Some((fields.len(), seen));
        if seen >= RELEARN_AFTER {
            tracing::debug!("the logger's lines now have {} fields", fields.len());
            self.layout = Some(layout);
            self.other_layout = None;
            self.stats.relearned += 1;
        }
        wrong
    }
}

impl Default for LineParser {
    fn default() -> Self {
        LineParser::new()
    }
}

/// Whether a line starts (after blanks) with `#` or a letter: a header, comment or
/// banner rather than a reading.
fn starts_words(line: &[u8]) -> bool {
    line.iter()
        .find(|b| !matches!(b, b' ' | b'\t'))
        .is_some_and(|&b| b == b'#' || b.is_ascii_alphabetic())
}

fn parse_reading(fields: &[&str], layout: &Layout) -> Result<Reading, DropReason> {
    for (index, field) in fields.iter().enumerate() {
        let ok = if index == layout.t_ms {
            is_unsigned(field)
        } else {
            is_decimal(field)
        };
        if !ok {
            return Err(DropReason::BadField { column: index + 1 });
        }
    }
    let bad = |column: usize| DropReason::BadField { column: column + 1 };
    let number = |column: usize| -> Result<f64, DropReason> {
        fields[column].parse::<f64>().map_err(|_| bad(column))
    };
    let t_ms = fields[layout.t_ms]
        .parse::<u32>()
        .map_err(|_| bad(layout.t_ms))?;
    let bus_v = number(layout.bus_v)?;
    let current_a = match layout.current {
        (column, CurrentUnit::Amps) => number(column)?,
        (column, CurrentUnit::Milliamps) => number(column)? / 1000.0,
    };
    let power_w = match layout.power {
        Some((column, PowerUnit::Watts)) => number(column)?,
        Some((column, PowerUnit::Milliwatts)) => number(column)? / 1000.0,
        None => bus_v * current_a,
    };
    let shunt_mv = layout.shunt_mv.map(number).transpose()?;
    Ok(Reading {
        t_ms,
        bus_v,
        current_a,
        power_w,
        shunt_mv,
    })
}

/// `digits`, at most 10 of them.
fn is_unsigned(field: &str) -> bool {
    (1..=10).contains(&field.len()) && field.bytes().all(|b| b.is_ascii_digit())
}

/// `[-]digits[.digits]`, at most 24 characters.
fn is_decimal(field: &str) -> bool {
    if field.len() > 24 {
        return false;
    }
    let digits = field.strip_prefix('-').unwrap_or(field);
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
}

/// A step of the device clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Forward (possibly across a wrap) to this unwrapped time in ms since the epoch.
    Forward(u64),
    /// The clock restarted: this is the first reading of a new epoch, at this time.
    Restarted(u64),
}

/// Unwraps the 32-bit millisecond clock into a 64-bit one, and tells a restart from a
/// wrap: a step forward modulo 2³² smaller than 2³¹ ms (≈ 24.9 days) is time going on,
/// anything else is the clock going back, i.e. a restart.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceTime {
    last: Option<(u32, u64)>,
    /// Wraps counted in this epoch.
    pub wraps: u64,
    /// Restarts counted.
    pub restarts: u64,
}

impl DeviceTime {
    /// The unwrapped time of a reading at `t_ms`.
    pub fn step(&mut self, t_ms: u32) -> Step {
        let step = match self.last {
            None => Step::Restarted(u64::from(t_ms)),
            Some((raw, unwrapped)) => {
                let delta = t_ms.wrapping_sub(raw);
                if delta < (1 << 31) {
                    if t_ms < raw {
                        self.wraps += 1;
                    }
                    Step::Forward(unwrapped + u64::from(delta))
                } else {
                    self.restarts += 1;
                    self.wraps = 0;
                    Step::Restarted(u64::from(t_ms))
                }
            }
        };
        let unwrapped = match step {
            Step::Forward(t) | Step::Restarted(t) => t,
        };
        self.last = Some((t_ms, unwrapped));
        step
    }

    /// Forgets the clock: the next reading starts a new epoch (after a banner).
    pub fn restart(&mut self) {
        if self.last.take().is_some() {
            self.restarts += 1;
        }
        self.wraps = 0;
    }
}

/// Maps device time onto the session clock (see the module doc).
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceClock {
    offset_s: Option<f64>,
    last_s: Option<f64>,
    window_start_s: Option<f64>,
    window_min_lag_s: f64,
}

impl DeviceClock {
    /// The current offset, session time minus device time, in s.
    pub fn offset_s(&self) -> Option<f64> {
        self.offset_s
    }

    /// Learns from a reading at `device_s` that had arrived by `arrival_s` (the latest
    /// of a batch that arrived together): sets the offset at the first reading, lowers it
    /// when the reading would be stamped after its arrival, and raises it when a whole
    /// window of readings arrived late.
    pub fn observe(&mut self, device_s: f64, arrival_s: f64) {
        let mut offset = *self.offset_s.get_or_insert(arrival_s - device_s);
        let mut lag = arrival_s - (device_s + offset);
        if lag < 0.0 {
            // Taken after it arrived is impossible: the device clock is ahead.
            offset += lag;
            lag = 0.0;
        }
        let window_start = match self.window_start_s {
            Some(start) => {
                self.window_min_lag_s = self.window_min_lag_s.min(lag);
                start
            }
            None => {
                self.window_min_lag_s = lag;
                *self.window_start_s.insert(arrival_s)
            }
        };
        if arrival_s - window_start >= LAG_WINDOW_S {
            if self.window_min_lag_s > MAX_LAG_S {
                // Every reading of the window came late: the device clock is behind.
                offset += self.window_min_lag_s;
            }
            self.window_start_s = None;
        }
        self.offset_s = Some(offset);
    }

    /// The session time of a reading at `device_s`, never before the last one stamped.
    /// Before the first [`observe`](Self::observe) the offset is 0.
    pub fn stamp(&mut self, device_s: f64) -> f64 {
        let t =
            (device_s + self.offset_s.unwrap_or(0.0)).max(self.last_s.unwrap_or(f64::NEG_INFINITY));
        self.last_s = Some(t);
        t
    }

    /// Takes the offset afresh at the next reading (the device clock restarted).
    pub fn restart(&mut self) {
        self.offset_s = None;
        self.window_start_s = None;
    }
}

/// A logger's byte stream turned into power samples on the session clock.
#[derive(Clone, Debug, Default)]
pub struct LineReader {
    parser: LineParser,
    time: DeviceTime,
    clock: DeviceClock,
    /// Unwrapped device time of the epoch's first reading, in ms.
    epoch_ms: u64,
}

impl LineReader {
    /// A reader for a port just opened (its first line is dropped).
    pub fn new() -> LineReader {
        LineReader::default()
    }

    /// A reader for a stream that starts at a line boundary.
    pub fn at_line_start() -> LineReader {
        LineReader {
            parser: LineParser::at_line_start(),
            ..LineReader::default()
        }
    }

    /// Line counts so far.
    pub fn stats(&self) -> LineStats {
        self.parser.stats()
    }

    /// The finest power step printed, in W.
    pub fn power_step_w(&self) -> Option<f64> {
        self.parser.power_step_w()
    }

    /// Picks the stream up afresh after input was discarded: the next line is dropped,
    /// and the device clock is learned anew; the layout and counts are kept.
    pub fn resync(&mut self) {
        self.parser.resync();
        self.time = DeviceTime::default();
        self.clock = DeviceClock::default();
    }

    /// Wraps and restarts of the device clock so far.
    pub fn device_time(&self) -> DeviceTime {
        self.time
    }

    /// Session time minus device time, once a reading was stamped.
    pub fn clock_offset_s(&self) -> Option<f64> {
        self.clock.offset_s()
    }

    /// Feeds bytes that arrived at `arrival_s` (session time); returns the samples of the
    /// readings they complete.
    pub fn push(&mut self, bytes: &[u8], arrival_s: f64) -> Vec<PowerSample> {
        // Device times (s since the epoch's first reading) of this batch, in runs split
        // where the device restarted; each run is anchored by its latest reading, the
        // one that arrived last.
        let mut runs: Vec<Run> = Vec::new();
        for event in self.parser.push(bytes) {
            match event {
                LineEvent::Reading(reading) => {
                    let device_ms = match self.time.step(reading.t_ms) {
                        Step::Forward(t) => t,
                        Step::Restarted(t) => {
                            self.epoch_ms = t;
                            runs.push(Run {
                                restarted: true,
                                readings: Vec::new(),
                            });
                            t
                        }
                    };
                    let device_s = device_ms.saturating_sub(self.epoch_ms) as f64 / 1000.0;
                    if runs.is_empty() {
                        runs.push(Run {
                            restarted: false,
                            readings: Vec::new(),
                        });
                    }
                    if let Some(run) = runs.last_mut() {
                        run.readings.push((device_s, reading));
                    }
                }
                LineEvent::Banner(text) => {
                    tracing::debug!("logger banner `{text}`: its clock restarts");
                    self.time.restart();
                }
                LineEvent::Dropped(reason) => tracing::trace!("dropped a line: {reason:?}"),
                LineEvent::Header | LineEvent::Comment(_) => {}
            }
        }
        let mut samples = Vec::new();
        for run in &runs {
            let Some(&(latest_s, _)) = run.readings.last() else {
                continue;
            };
            if run.restarted {
                self.clock.restart();
            }
            self.clock.observe(latest_s, arrival_s);
            for (device_s, reading) in &run.readings {
                let t_s = self.clock.stamp(*device_s);
                samples.extend(to_sample(t_s, reading));
            }
        }
        samples
    }
}

/// Readings of one epoch of the device clock within a batch.
struct Run {
    restarted: bool,
    readings: Vec<(f64, Reading)>,
}

fn to_sample(t_s: f64, reading: &Reading) -> Option<PowerSample> {
    let values = [t_s, reading.power_w, reading.current_a, reading.bus_v];
    values.iter().all(|v| v.is_finite()).then_some(PowerSample {
        t_s,
        power_w: reading.power_w,
        current_a: Some(reading.current_a),
        voltage_v: Some(reading.bus_v),
        energy_j: None,
        logic: None,
    })
}

#[cfg(test)]
mod tests;
