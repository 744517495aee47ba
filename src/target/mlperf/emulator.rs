//! A fake MLPerf Tiny DUT on the master side of a pty: `actprof emulate mlperf-dut`. It
//! behaves like the reference firmware (`mlcommons/tiny` `benchmark/api/
//! internally_implemented.cpp`) as far as a host can tell:
//!
//! - at start it prints the boot banner: `m-timestamp-mode-performance` (or `-energy`),
//!   in performance mode one `m-lap-us-N`, `m-init-done`, `m-ready`;
//! - bytes are assembled into an 80-character command buffer ([`CommandBuffer`]: past 80
//!   the write index stops and the last slot is overwritten) and dispatched on `%`;
//!   words are split on spaces and compared exactly;
//! - `name` → `m-name-dut-[emu]` ([`EMULATED_NAME`], how the host tells an emulated DUT);
//!   `profile` → `m-profile-[ULPMark for tinyML Firmware V0.0.1]`, `m-model-[MODEL]`;
//!   `timestamp` → `m-lap-us-N` (energy mode: nothing, the GPIO pulse is only logged);
//!   `db load N`, `db <hex>`, `db print`, `infer N W`, `results`, `help`, and
//!   `e-[Unknown command: …]` for anything else, each reply ended by `m-ready`;
//! - `infer N W` sleeps W·t_inf, then N·t_inf between its two stamps, and reports exactly
//!   N·t_inf µs between them (`--inference-time`, default 1 ms); the µs clock is 32 bits
//!   wide and starts at `--clock-start` (default 123456);
//! - the input buffer holds the model's input (`ic01` 3072 bytes).
//!
//! Faults: see [`DutFaults`]. `--reply-delay D` waits D before each reply.

mod faults;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

pub use faults::{DEFAULT_SLOW_READY, DutFaultError, DutFaults, FAULT_NAMES};

use super::model::Model;
use super::protocol::{COMMAND_TERMINATOR, DUT_COMMAND_CAPACITY, TimestampMode};
use crate::serial::{Link, SerialError};

/// The emulator's `m-name-` text; a host labels a DUT of this name emulated.
pub const EMULATED_NAME: &str = "dut-[emu]";

/// The firmware text of `m-profile-[…]` (the reference firmware's `EE_FW_VERSION`).
pub const PROFILE: &str = "ULPMark for tinyML Firmware V0.0.1";

/// Simulated time of one inference unless `--inference-time` says otherwise.
pub const DEFAULT_INFERENCE_TIME: Duration = Duration::from_millis(1);

/// The µs timer's value at start unless `--clock-start` says otherwise.
pub const DEFAULT_CLOCK_START_US: u32 = 123_456;

/// The half command `stale` leaves in the buffer: an odd number of hex digits, so the
/// flush's `%` gets `e-[Insufficent number of hex digits]`.
const STALE_COMMAND: &[u8] = b"db 3f2a1";

/// How often a long sleep looks at the stop flag and the disconnect fault.
const SLICE: Duration = Duration::from_millis(20);

/// Everything the emulated DUT is told.
#[derive(Clone, Debug, PartialEq)]
pub struct DutEmulatorOptions {
    /// The model it reports and sizes its input buffer for.
    pub model: &'static Model,
    /// Its timestamp mode.
    pub mode: TimestampMode,
    /// Simulated time of one inference.
    pub inference_time: Duration,
    /// The µs timer's value at start.
    pub clock_start_us: u32,
    /// Faults to inject.
    pub faults: DutFaults,
    /// Seed of the garbage bytes' placement.
    pub seed: u64,
    /// Wait before each reply.
    pub reply_delay: Option<Duration>,
}

impl Default for DutEmulatorOptions {
    fn default() -> DutEmulatorOptions {
        DutEmulatorOptions {
            model: &super::model::MODELS[0],
            mode: TimestampMode::Performance,
            inference_time: DEFAULT_INFERENCE_TIME,
            clock_start_us: DEFAULT_CLOCK_START_US,
            faults: DutFaults::default(),
            seed: 6,
            reply_delay: None,
        }
    }
}

/// The firmware's command assembler (`ee_serial_callback`): up to
/// [`DUT_COMMAND_CAPACITY`] characters are kept; past that the write index stops and
/// every further character overwrites the slot after the last kept one, which the
/// terminator then overwrites with the string's end: the command is silently cut at 80.
#[derive(Clone, Debug)]
pub struct CommandBuffer {
    slots: [u8; DUT_COMMAND_CAPACITY + 1],
    position: usize,
}

impl Default for CommandBuffer {
    fn default() -> CommandBuffer {
        CommandBuffer {
            slots: [0; DUT_COMMAND_CAPACITY + 1],
            position: 0,
        }
    }
}

impl CommandBuffer {
    /// Feeds one byte; returns the command's bytes when it is the terminator.
    pub fn push(&mut self, byte: u8) -> Option<Vec<u8>> {
        if byte == COMMAND_TERMINATOR {
            let command = self.slots[..self.position].to_vec();
            self.position = 0;
            return Some(command);
        }
        self.slots[self.position] = byte;
        if self.position < DUT_COMMAND_CAPACITY {
            self.position += 1;
        }
        None
    }

    /// Empties the buffer (a reset).
    pub fn clear(&mut self) {
        self.position = 0;
    }
}

/// C's `atoi`: leading spaces, a sign, digits up to the first other character; 0 when
/// there are none. Saturates at the bounds of a 32-bit `int`.
pub fn atoi(text: &str) -> i64 {
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let mut value: i64 = 0;
    for byte in digits.bytes().take_while(u8::is_ascii_digit) {
        value = (value * 10 + i64::from(byte - b'0')).min(i64::from(i32::MAX) + 1);
    }
    (sign * value).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// Why the emulator stops serving.
enum Halt {
    /// Told to stop, or the disconnect fault fired.
    Stopped,
    /// The port failed.
    Serial(SerialError),
}

impl From<SerialError> for Halt {
    fn from(err: SerialError) -> Halt {
        Halt::Serial(err)
    }
}

/// Runs the emulated DUT on `link` until `stop` is set or the disconnect fault fires.
pub fn run(
    link: &mut dyn Link,
    options: &DutEmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    let mut dut = EmulatedDut::new(link, options, stop);
    match dut.serve() {
        Ok(()) | Err(Halt::Stopped) => Ok(()),
        Err(Halt::Serial(err)) => Err(err),
    }
}

/// The firmware's state.
struct EmulatedDut<'a> {
    link: &'a mut dyn Link,
    options: &'a DutEmulatorOptions,
    stop: &'a AtomicBool,
    started: Instant,
    rng: ChaCha8Rng,
    commands: CommandBuffer,
    /// When the (slow) boot finishes; `None` once booted.
    boot_at: Option<Instant>,
    buffer: Vec<u8>,
    /// `db load`'s N (the firmware's `g_buff_size`).
    expected: i64,
    /// Bytes stored since `db load` (`g_buff_pos`).
    position: usize,
    /// Added to the µs since start to give the timer's value.
    clock_offset: u32,
    /// `infer` commands run so far.
    infers: u32,
}

impl<'a> EmulatedDut<'a> {
    fn new(
        link: &'a mut dyn Link,
        options: &'a DutEmulatorOptions,
        stop: &'a AtomicBool,
    ) -> EmulatedDut<'a> {
        let capacity = if options.faults.unprefixed {
            options.model.input_bytes / 2
        } else {
            options.model.input_bytes
        };
        EmulatedDut {
            link,
            options,
            stop,
            started: Instant::now(),
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            commands: CommandBuffer::default(),
            boot_at: None,
            buffer: vec![0; capacity],
            expected: 0,
            position: 0,
            clock_offset: options.clock_start_us,
            infers: 0,
        }
    }

    fn serve(&mut self) -> Result<(), Halt> {
        if self.options.faults.stale {
            for &byte in STALE_COMMAND {
                self.commands.push(byte);
            }
        }
        match self.options.faults.slow_ready {
            Some(delay) => self.boot_at = Some(self.started + delay),
            None => self.boot()?,
        }
        let mut buf = [0u8; 256];
        loop {
            self.check()?;
            if self.boot_at.is_some_and(|at| Instant::now() >= at) {
                self.boot()?;
            }
            let count = self.link.read_some(&mut buf, SLICE)?;
            for &byte in &buf[..count] {
                if let Some(command) = self.commands.push(byte) {
                    self.dispatch(&String::from_utf8_lossy(&command))?;
                }
            }
        }
    }

    /// Stops when told to or when the disconnect fault is due.
    fn check(&self) -> Result<(), Halt> {
        if self.stop.load(Ordering::Acquire) {
            return Err(Halt::Stopped);
        }
        let elapsed = self.started.elapsed();
        if self
            .options
            .faults
            .disconnect_after
            .is_some_and(|after| elapsed >= after)
        {
            tracing::info!(
                "disconnecting on purpose after {:.1} s",
                elapsed.as_secs_f64()
            );
            return Err(Halt::Stopped);
        }
        Ok(())
    }

    /// Sleeps `duration` in slices, stopping early when [`check`](Self::check) says so.
    fn pause(&self, duration: Duration) -> Result<(), Halt> {
        let end = Instant::now() + duration;
        loop {
            self.check()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(SLICE));
        }
    }

    /// The 32-bit µs timer.
    fn clock(&self) -> u32 {
        // The timer is 32 bits wide: keeping the low bits is the wrap.
        let micros = self.started.elapsed().as_micros() as u32;
        self.clock_offset.wrapping_add(micros)
    }

    fn silent(&self) -> bool {
        self.options
            .faults
            .silent_after
            .is_some_and(|after| self.started.elapsed() >= after)
    }

    /// Prints one line, with the faults that touch every line.
    fn line(&mut self, text: &str) -> Result<(), Halt> {
        if self.silent() {
            return Ok(());
        }
        let faults = &self.options.faults;
        let mut bytes = Vec::with_capacity(text.len() + 3);
        if faults.garbage && self.rng.random_ratio(1, 4) {
            bytes.push(0xff);
        }
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(if faults.lf { b"\n" } else { b"\r\n" });
        self.link.write_all(&bytes)?;
        Ok(())
    }

    /// The boot banner; afterwards commands are parsed.
    fn boot(&mut self) -> Result<(), Halt> {
        self.boot_at = None;
        self.line(&format!("m-timestamp-mode-{}", self.options.mode))?;
        if self.options.mode == TimestampMode::Performance {
            // Init calls the timestamp function once.
            self.line(&format!("m-lap-us-{}", self.clock()))?;
        }
        self.line("m-init-done")?;
        self.line("m-ready")
    }

    /// A reboot: the buffers are lost and the banner printed again.
    fn reset(&mut self) -> Result<(), Halt> {
        tracing::info!(
            "resetting on purpose in the middle of infer #{}",
            self.infers
        );
        self.commands.clear();
        self.expected = 0;
        self.position = 0;
        self.buffer.fill(0);
        self.boot()
    }

    fn dispatch(&mut self, command: &str) -> Result<(), Halt> {
        if self.boot_at.is_some() {
            tracing::debug!("`{command}` before boot finished: no answer");
            return Ok(());
        }
        tracing::debug!("command `{command}`");
        if let Some(delay) = self.options.reply_delay {
            self.pause(delay)?;
        }
        if self.options.faults.echo {
            self.line(&format!("{command}%"))?;
        }
        let mut words = command.split(' ').filter(|word| !word.is_empty());
        let first = words.next().unwrap_or_default();
        let ready = match first {
            "name" => {
                self.line(&format!("m-name-{EMULATED_NAME}"))?;
                true
            }
            "timestamp" => {
                self.timestamp()?;
                true
            }
            "profile" => {
                self.line(&format!("m-profile-[{PROFILE}]"))?;
                self.line(&format!("m-model-[{}]", self.options.model.name))?;
                true
            }
            "help" => {
                self.help()?;
                true
            }
            "db" => {
                self.db(&mut words)?;
                true
            }
            "infer" => self.infer(&mut words)?,
            "results" => {
                self.line(&results_line(self.options.model))?;
                true
            }
            other => {
                self.line(&format!("e-[Unknown command: {other}]"))?;
                true
            }
        };
        if ready {
            self.line("m-ready")?;
        }
        Ok(())
    }

    fn timestamp(&mut self) -> Result<(), Halt> {
        match self.options.mode {
            TimestampMode::Performance => self.line(&format!("m-lap-us-{}", self.clock())),
            TimestampMode::Energy => {
                tracing::debug!("timestamp: GPIO pulse (energy mode)");
                Ok(())
            }
        }
    }

    fn help(&mut self) -> Result<(), Halt> {
        for text in [
            PROFILE,
            "",
            "help         : Print this information",
            "name         : Print the name of the device",
            "timestsamp   : Generate a timetsamp",
            "db SUBCMD    : Manipulate a generic byte buffer",
            "  load N     : Allocate N bytes and set load counter",
            "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes",
            "  print [N=16] [offset=0]",
            "             : Print N bytes at offset as hex",
            "infer N [W=0]: Load input, execute N inferences after W warmup loops",
            "results      : Return the result fp32 vector",
        ] {
            self.line(text)?;
        }
        Ok(())
    }

    /// `db load N`, `db print`, `db <hex>` as `ee_buffer_parse` does them. Bytes past the
    /// buffer's end are dropped (the firmware would write past it).
    fn db<'w>(&mut self, words: &mut impl Iterator<Item = &'w str>) -> Result<(), Halt> {
        match words.next() {
            None => self.line("e-[Command 'db' requires a subcommand]"),
            Some("load") => match words.next() {
                None => self.line("e-[Command 'db load' requires the # of bytes]"),
                Some(count) => {
                    let size = atoi(count);
                    if size == 0 {
                        return self.line("e-[Command 'db load' must be >0 bytes]");
                    }
                    self.expected = size;
                    self.position = 0;
                    let capacity = self.buffer.len();
                    if usize::try_from(size).map_or(true, |size| size > capacity) {
                        // The firmware's one unprefixed line, ended by `\n` alone.
                        if self.silent() {
                            return Ok(());
                        }
                        let text =
                            format!("Supplied buffer size {size} exceeds maximum of {capacity}\n");
                        self.link.write_all(text.as_bytes())?;
                        return Ok(());
                    }
                    self.line(&format!("m-[Expecting {size} bytes]"))
                }
            },
            Some("print") => self.db_print(),
            Some(hex) => self.db_hex(hex),
        }
    }

    fn db_print(&mut self) -> Result<(), Halt> {
        let size = usize::try_from(self.expected)
            .unwrap_or(0)
            .min(self.buffer.len());
        let chunks: Vec<String> = self.buffer[..size]
            .chunks(8)
            .map(|chunk| {
                let bytes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                format!("m-buffer-{}", bytes.join("-"))
            })
            .collect();
        for text in chunks {
            self.line(&text)?;
        }
        // The firmware ends a last partial line twice.
        if size % 8 != 0 {
            self.line("")?;
        }
        Ok(())
    }

    fn db_hex(&mut self, hex: &str) -> Result<(), Halt> {
        let digits = &hex.as_bytes()[..hex.len().min(DUT_COMMAND_CAPACITY)];
        if !digits.len().is_multiple_of(2) {
            return self.line("e-[Insufficent number of hex digits]");
        }
        for pair in digits.chunks(2) {
            let text = String::from_utf8_lossy(pair);
            let Ok(byte) = u8::from_str_radix(&text, 16) else {
                return self.line(&format!("e-[Invalid hex digit '{text}']"));
            };
            if let Some(slot) = self.buffer.get_mut(self.position) {
                *slot = byte;
            }
            self.position += 1;
            if i64::try_from(self.position).is_ok_and(|position| position == self.expected) {
                return self.line("m-load-done");
            }
        }
        Ok(())
    }

    /// `infer N W` as `ee_infer`; returns whether its final `m-ready` is to be printed.
    fn infer<'w>(&mut self, words: &mut impl Iterator<Item = &'w str>) -> Result<bool, Halt> {
        let (mut inferences, mut warmup) = (1, 10);
        if let Some(word) = words.next() {
            inferences = atoi(word);
            if inferences <= 0 {
                self.line("e-[Inference iterations must be >0]")?;
                return Ok(true);
            }
            if let Some(word) = words.next() {
                warmup = atoi(word);
                if warmup < 0 {
                    self.line("e-[Inference warmup must be >=0]")?;
                    return Ok(true);
                }
            }
        }
        // Both are positive and within an i32 now.
        let (inferences, warmup) = (inferences.unsigned_abs(), warmup.unsigned_abs());
        self.infers += 1;
        let number = self.infers;
        let faults = self.options.faults.clone();
        let t_inf = self.options.inference_time;
        self.line(&format!("m-warmup-start-{warmup}"))?;
        self.pause(times(t_inf, warmup))?;
        self.line("m-warmup-done")?;
        self.line(&format!("m-infer-start-{inferences}"))?;
        if faults.reset == Some(number) {
            self.pause(times(t_inf, inferences) / 2)?;
            self.reset()?;
            return Ok(false);
        }
        let timed_us = u64::try_from(t_inf.as_micros())
            .unwrap_or(u64::MAX)
            .saturating_mul(inferences);
        match self.options.mode {
            TimestampMode::Performance => {
                if faults.wrap {
                    // Put t0 half the window before 2³², so t1 lands after the wrap.
                    let half = u32::try_from((timed_us / 2).max(1)).unwrap_or(u32::MAX);
                    let now = self.clock().wrapping_sub(self.clock_offset);
                    self.clock_offset = 0u32.wrapping_sub(half).wrapping_sub(now);
                }
                let t0 = self.clock();
                self.line(&format!("m-lap-us-{t0}"))?;
                self.pause(times(t_inf, inferences))?;
                // The timer is 32 bits wide: keeping the low bits is the wrap.
                let t1 = t0.wrapping_add(timed_us as u32);
                self.line(&format!("m-lap-us-{t1}"))?;
            }
            TimestampMode::Energy => {
                tracing::debug!("infer: timestamp edge (GPIO)");
                self.pause(times(t_inf, inferences))?;
                tracing::debug!("infer: timestamp edge (GPIO)");
            }
        }
        self.line("m-infer-done")?;
        self.line(&results_line(self.options.model))?;
        if faults.drop_ready == Some(number) {
            tracing::info!("leaving out the m-ready of infer #{number} on purpose");
            return Ok(false);
        }
        Ok(true)
    }
}

/// `duration · count`, saturating.
fn times(duration: Duration, count: u64) -> Duration {
    u32::try_from(count)
        .ok()
        .and_then(|count| duration.checked_mul(count))
        .unwrap_or(Duration::MAX)
}

/// The `m-results-[…]` line of `model`: ic01's ten class scores as in the protocol notes,
/// and plausible vectors of the right length for the others.
fn results_line(model: &Model) -> String {
    let values = match model.name {
        "kws01" => "0.000,0.000,0.992,0.000,0.000,0.004,0.000,0.000,0.000,0.004,0.000,0.000",
        "vww01" => "0.027,0.973",
        "ad01" => "0.184",
        _ => "0.000,0.996,0.000,0.000,0.004,0.000,0.000,0.000,0.000,0.000",
    };
    format!("m-results-[{values}]")
}

#[cfg(test)]
mod tests;
