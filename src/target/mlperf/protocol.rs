//! The DUT protocol as bytes, with no I/O: DUT → host lines into [`Message`]s, host → DUT
//! [`Command`]s into `%`-terminated bytes.
//!
//! DUT → host (`mlcommons/tiny` `benchmark/api/internally_implemented.cpp`): text lines
//! ending `\r\n` (a few end `\n` only), `m-` for messages, `e-` for errors, and some with
//! no prefix at all (the "Supplied buffer size … exceeds maximum of …" line, submitters'
//! debug prints). Like the MLCommons runner (`serial_device.py`) the [`LineSplitter`]
//! splits on `\n`, drops `\r` and `\0`, and drops bytes that are not UTF-8 (counting them,
//! so the caller can warn). Lengths are never trusted: a line longer than
//! [`MAX_LINE_LEN`] is skipped to its end and reported.
//!
//! Host → DUT: ASCII words split by single spaces and ended by `%`; no newline. The DUT
//! assembles at most [`DUT_COMMAND_CAPACITY`] characters and silently truncates the rest,
//! so [`Command::encode`] refuses a longer command instead of sending it.

use std::fmt;

/// Ends every host → DUT command (`EE_CMD_TERMINATOR`).
pub const COMMAND_TERMINATOR: u8 = b'%';

/// Characters of one command the DUT keeps (`EE_CMD_SIZE`); the terminator is not counted.
pub const DUT_COMMAND_CAPACITY: usize = 80;

/// Longest DUT → host line kept, in bytes; longer ones are dropped. The longest line the
/// reference firmware prints is an `m-results-[…]` of a dozen floats, under 100 bytes.
pub const MAX_LINE_LEN: usize = 4096;

/// Bytes per `db <hex>` command when the DUT is connected directly: 31 bytes = 62 hex
/// digits, `db ` + 62 = 65 characters of the DUT's 80 (the MLCommons runner's
/// `device_under_test.py`).
pub const DB_CHUNK_BYTES: usize = 31;

/// How the firmware marks the timed region, fixed at build time by `EE_CFG_ENERGY_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampMode {
    /// `m-lap-us-N` lines from the DUT's µs timer (115200 baud builds).
    Performance,
    /// A GPIO edge for the power monitor and no text (9600 baud builds).
    Energy,
}

impl TimestampMode {
    /// `performance` or `energy`, as in `m-timestamp-mode-…`.
    pub fn name(self) -> &'static str {
        match self {
            TimestampMode::Performance => "performance",
            TimestampMode::Energy => "energy",
        }
    }
}

impl fmt::Display for TimestampMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One DUT → host line, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// `m-ready`: the end of every command's reply, and of the boot banner.
    Ready,
    /// `m-init-done`: boot finished.
    InitDone,
    /// `m-name-…`: the text after `m-name-`, e.g. `dut-[unspecified]`.
    Name(String),
    /// `m-profile-[…]`: the firmware's version text.
    Profile(String),
    /// `m-model-[…]`: the model name, e.g. `ic01`.
    Model(String),
    /// `m-timestamp-mode-performance|energy`: printed at boot.
    TimestampMode(TimestampMode),
    /// `m-lap-us-N`: a timestamp in µs.
    LapUs(u64),
    /// `m-warmup-start-W`.
    WarmupStart(u64),
    /// `m-warmup-done`.
    WarmupDone,
    /// `m-infer-start-N`.
    InferStart(u64),
    /// `m-infer-done`.
    InferDone,
    /// `m-results-[…]`: the text inside the brackets, e.g. `0.000,0.996`.
    Results(String),
    /// `m-[Expecting N bytes]`: the answer to `db load N`.
    Expecting(u64),
    /// `m-load-done`: the N-th byte of a `db` download arrived.
    LoadDone,
    /// `m-buffer-…`: a line of `db print`, the hex text after `m-buffer-`.
    Buffer(String),
    /// `e-[…]`: an error, the text inside the brackets (or after `e-`).
    Error(String),
    /// A known `m-` prefix whose value does not parse, e.g. `m-lap-us-12x`: the line.
    Malformed(String),
    /// Another `m-` line: the text after `m-`.
    Other(String),
    /// A line with neither prefix.
    Unprefixed(String),
}

impl Message {
    /// True for the lines only a (re)booting DUT prints.
    pub fn is_boot(&self) -> bool {
        matches!(self, Message::TimestampMode(_) | Message::InitDone)
    }
}

/// Parses one line (terminator already removed). Never fails: what is not understood is
/// [`Message::Other`], [`Message::Malformed`] or [`Message::Unprefixed`].
pub fn parse_line(line: &str) -> Message {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("e-") {
        return Message::Error(bracketed(rest).unwrap_or(rest).to_owned());
    }
    let Some(rest) = line.strip_prefix("m-") else {
        return Message::Unprefixed(line.to_owned());
    };
    let malformed = || Message::Malformed(line.to_owned());
    let number = |text: &str, make: fn(u64) -> Message| {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return malformed();
        }
        text.parse::<u64>().map_or_else(|_| malformed(), make)
    };
    let bracket = |text: &str, make: fn(String) -> Message| {
        bracketed(text).map_or_else(malformed, |inner| make(inner.to_owned()))
    };
    match rest {
        "ready" => return Message::Ready,
        "init-done" => return Message::InitDone,
        "warmup-done" => return Message::WarmupDone,
        "infer-done" => return Message::InferDone,
        "load-done" => return Message::LoadDone,
        "timestamp-mode-performance" => {
            return Message::TimestampMode(TimestampMode::Performance);
        }
        "timestamp-mode-energy" => return Message::TimestampMode(TimestampMode::Energy),
        _ => {}
    }
    if let Some(value) = rest.strip_prefix("lap-us-") {
        return number(value, Message::LapUs);
    }
    if let Some(value) = rest.strip_prefix("warmup-start-") {
        return number(value, Message::WarmupStart);
    }
    if let Some(value) = rest.strip_prefix("infer-start-") {
        return number(value, Message::InferStart);
    }
    if let Some(value) = rest.strip_prefix("name-") {
        return Message::Name(value.to_owned());
    }
    if let Some(value) = rest.strip_prefix("profile-") {
        return bracket(value, Message::Profile);
    }
    if let Some(value) = rest.strip_prefix("model-") {
        return bracket(value, Message::Model);
    }
    if let Some(value) = rest.strip_prefix("results-") {
        return bracket(value, Message::Results);
    }
    if let Some(value) = rest.strip_prefix("buffer-") {
        return Message::Buffer(value.to_owned());
    }
    if let Some(value) = rest.strip_prefix("[Expecting ") {
        return match value.strip_suffix(" bytes]") {
            Some(count) => number(count, Message::Expecting),
            None => malformed(),
        };
    }
    if rest.starts_with("timestamp-mode-") {
        return malformed();
    }
    Message::Other(rest.to_owned())
}

/// The text inside `[` … `]` when `text` is exactly that.
fn bracketed(text: &str) -> Option<&str> {
    text.strip_prefix('[')?.strip_suffix(']')
}

/// True for the firmware's unprefixed answer to a `db load` larger than its buffer,
/// "Supplied buffer size N exceeds maximum of M".
pub fn is_buffer_overflow_line(line: &str) -> bool {
    line.starts_with("Supplied buffer size") && line.contains("exceeds maximum")
}

/// One line as the [`LineSplitter`] delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The text, without `\r`, `\0`, bytes that were not UTF-8 and the `\n`.
    pub text: String,
    /// How many `\0` and non-UTF-8 bytes were dropped from it.
    pub dropped: usize,
}

/// One event of the [`LineSplitter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framed {
    /// A complete line.
    Line(Line),
    /// A line longer than the limit was skipped; this many bytes of it were seen.
    Overlong(usize),
}

/// Splits the DUT's byte stream into [`Line`]s at `\n`, holding at most `max_len` bytes of
/// a line: a longer one is skipped up to its `\n` and reported as [`Framed::Overlong`].
#[derive(Clone, Debug)]
pub struct LineSplitter {
    max_len: usize,
    line: Vec<u8>,
    /// Bytes of an over-long line seen so far; `Some` while skipping to its end.
    skipping: Option<usize>,
}

impl Default for LineSplitter {
    fn default() -> LineSplitter {
        LineSplitter::new(MAX_LINE_LEN)
    }
}

impl LineSplitter {
    /// A splitter for lines of at most `max_len` bytes (before `\r` and `\0` are dropped).
    pub fn new(max_len: usize) -> LineSplitter {
        LineSplitter {
            max_len,
            line: Vec::new(),
            skipping: None,
        }
    }

    /// Feeds bytes; returns the lines and skips they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Framed> {
        let mut out = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                match self.skipping.take() {
                    Some(seen) => out.push(Framed::Overlong(seen)),
                    None => out.push(Framed::Line(decode(&std::mem::take(&mut self.line)))),
                }
                continue;
            }
            if let Some(seen) = self.skipping.as_mut() {
                *seen += 1;
                continue;
            }
            if self.line.len() >= self.max_len {
                self.skipping = Some(self.line.len() + 1);
                self.line = Vec::new();
            } else {
                self.line.push(byte);
            }
        }
        out
    }

    /// Forgets a line in progress (after the port was flushed).
    pub fn clear(&mut self) {
        self.line.clear();
        self.skipping = None;
    }
}

/// The text of a raw line: `\r` dropped, `\0` and invalid UTF-8 dropped and counted.
fn decode(raw: &[u8]) -> Line {
    let mut text = String::with_capacity(raw.len());
    let mut dropped = 0;
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => {}
                '\0' => dropped += 1,
                c => text.push(c),
            }
        }
        dropped += chunk.invalid().len();
    }
    Line { text, dropped }
}

/// A host → DUT command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// A lone `%`: completes whatever half command the DUT holds (the port flush).
    Flush,
    /// `name`: the DUT answers `m-name-…`.
    Name,
    /// `profile`: `m-profile-[…]` and `m-model-[…]`.
    Profile,
    /// `timestamp`: `m-lap-us-N` in performance mode, a GPIO pulse in energy mode.
    Timestamp,
    /// `db load N`: expect N bytes of input.
    DbLoad(usize),
    /// `db <hex>`: bytes of the input, two lowercase hex digits each.
    DbData(&'a [u8]),
    /// `infer N W`: W warm-up inferences, then N timed ones.
    Infer {
        /// Timed inferences (N).
        inferences: u32,
        /// Warm-up inferences before the first timestamp (W).
        warmup: u32,
    },
    /// `results`: the last inference's output vector.
    Results,
}

/// A command that would not fit the DUT's command buffer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the command `{text}` is {len} characters, more than the {DUT_COMMAND_CAPACITY} the DUT \
     keeps (it would silently cut the rest)"
)]
pub struct CommandTooLong {
    /// The command's text (without `%`), shortened for the message.
    pub text: String,
    /// Its length in characters.
    pub len: usize,
}

impl Command<'_> {
    /// The command's text without the terminator, e.g. `infer 20 5`.
    pub fn text(&self) -> String {
        match self {
            Command::Flush => String::new(),
            Command::Name => "name".to_owned(),
            Command::Profile => "profile".to_owned(),
            Command::Timestamp => "timestamp".to_owned(),
            Command::DbLoad(count) => format!("db load {count}"),
            Command::DbData(bytes) => {
                let mut text = String::with_capacity(3 + 2 * bytes.len());
                text.push_str("db ");
                for byte in *bytes {
                    text.push_str(&format!("{byte:02x}"));
                }
                text
            }
            Command::Infer { inferences, warmup } => format!("infer {inferences} {warmup}"),
            Command::Results => "results".to_owned(),
        }
    }

    /// The bytes to send: the text and `%`; refused when longer than the DUT keeps.
    pub fn encode(&self) -> Result<Vec<u8>, CommandTooLong> {
        let mut bytes = self.text().into_bytes();
        if bytes.len() > DUT_COMMAND_CAPACITY {
            let len = bytes.len();
            let mut text = String::from_utf8_lossy(&bytes[..40]).into_owned();
            text.push('…');
            return Err(CommandTooLong { text, len });
        }
        bytes.push(COMMAND_TERMINATOR);
        Ok(bytes)
    }
}

impl fmt::Display for Command<'_> {
    /// As sent, e.g. `infer 20 5%`; a download chunk is shortened to `db 3f2a…%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::DbData(bytes) if bytes.len() > 4 => {
                write!(f, "db ")?;
                for byte in &bytes[..4] {
                    write!(f, "{byte:02x}")?;
                }
                write!(f, "…% ({} bytes)", bytes.len())
            }
            other => write!(f, "{}%", other.text()),
        }
    }
}

/// µs between two `m-lap-us` stamps of a 32-bit timer: `t1 − t0`, modulo 2³² when the timer
/// wrapped in between. `None` when `t1 < t0` and a stamp does not fit 32 bits (a wider
/// timer does not wrap within a window, so the stamps are out of order).
pub fn elapsed_us(t0: u64, t1: u64) -> Option<u64> {
    if t1 >= t0 {
        return Some(t1 - t0);
    }
    let (t0, t1) = (u32::try_from(t0).ok()?, u32::try_from(t1).ok()?);
    Some(u64::from(t1.wrapping_sub(t0)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lines(framed: Vec<Framed>) -> Vec<Line> {
        framed
            .into_iter()
            .filter_map(|f| match f {
                Framed::Line(line) => Some(line),
                Framed::Overlong(_) => None,
            })
            .collect()
    }

    fn clean(text: &str) -> Line {
        Line {
            text: text.to_owned(),
            dropped: 0,
        }
    }

    #[test]
    fn every_line_kind_parses() {
        let cases = [
            ("m-ready", Message::Ready),
            ("m-init-done", Message::InitDone),
            (
                "m-name-dut-[unspecified]",
                Message::Name("dut-[unspecified]".into()),
            ),
            ("m-name-io-manager", Message::Name("io-manager".into())),
            (
                "m-profile-[ULPMark for tinyML Firmware V0.0.1]",
                Message::Profile("ULPMark for tinyML Firmware V0.0.1".into()),
            ),
            ("m-model-[ic01]", Message::Model("ic01".into())),
            (
                "m-timestamp-mode-performance",
                Message::TimestampMode(TimestampMode::Performance),
            ),
            (
                "m-timestamp-mode-energy",
                Message::TimestampMode(TimestampMode::Energy),
            ),
            ("m-lap-us-4294967295", Message::LapUs(4_294_967_295)),
            ("m-warmup-start-5", Message::WarmupStart(5)),
            ("m-warmup-done", Message::WarmupDone),
            ("m-infer-start-20", Message::InferStart(20)),
            ("m-infer-done", Message::InferDone),
            (
                "m-results-[0.000,0.996]",
                Message::Results("0.000,0.996".into()),
            ),
            ("m-[Expecting 3072 bytes]", Message::Expecting(3072)),
            ("m-load-done", Message::LoadDone),
            ("m-buffer-00-ff-10", Message::Buffer("00-ff-10".into())),
            (
                "e-[Unknown command: foo]",
                Message::Error("Unknown command: foo".into()),
            ),
            (
                "e-Input db has 3 elemented",
                Message::Error("Input db has 3 elemented".into()),
            ),
            (
                "m-dut-passthrough(name)",
                Message::Other("dut-passthrough(name)".into()),
            ),
            (
                "Supplied buffer size 4000 exceeds maximum of 3072",
                Message::Unprefixed("Supplied buffer size 4000 exceeds maximum of 3072".into()),
            ),
            ("", Message::Unprefixed(String::new())),
            ("  m-ready  ", Message::Ready),
        ];
        for (line, want) in cases {
            assert_eq!(parse_line(line), want, "{line:?}");
        }
    }

    #[test]
    fn known_prefixes_with_bad_values_are_malformed() {
        for line in [
            "m-lap-us-",
            "m-lap-us-12x",
            "m-lap-us--5",
            "m-lap-us-99999999999999999999999",
            "m-infer-start-twenty",
            "m-profile-no brackets",
            "m-results-[0.1,0.2",
            "m-[Expecting lots of bytes]",
            "m-[Expecting 12 byte]",
            "m-timestamp-mode-turbo",
        ] {
            assert_eq!(parse_line(line), Message::Malformed(line.into()), "{line}");
        }
        assert!(parse_line("m-init-done").is_boot());
        assert!(!parse_line("m-lap-us-5").is_boot());
    }

    #[test]
    fn the_buffer_overflow_line_is_recognised() {
        assert!(is_buffer_overflow_line(
            "Supplied buffer size 27648 exceeds maximum of 3072"
        ));
        assert!(!is_buffer_overflow_line("Initialized"));
    }

    #[test]
    fn lines_split_on_lf_with_cr_and_nul_dropped() {
        let mut splitter = LineSplitter::default();
        assert!(splitter.push(b"m-rea").is_empty());
        let got = lines(splitter.push(b"dy\r\nm-init-done\nSupplied\0 buffer\r\n"));
        assert_eq!(
            got,
            [
                clean("m-ready"),
                clean("m-init-done"),
                Line {
                    text: "Supplied buffer".into(),
                    dropped: 1
                }
            ]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_dropped_and_counted() {
        let mut splitter = LineSplitter::default();
        let got = lines(splitter.push(b"\xffm-ready\r\nm-lap-us-\xc3\x281\r\n"));
        assert_eq!(
            got,
            [
                Line {
                    text: "m-ready".into(),
                    dropped: 1
                },
                Line {
                    text: "m-lap-us-(1".into(),
                    dropped: 1
                }
            ]
        );
        assert_eq!(parse_line(&got[0].text), Message::Ready);
        // UTF-8 text itself is kept.
        assert_eq!(
            lines(splitter.push("e-[µs]\n".as_bytes())),
            [clean("e-[µs]")]
        );
    }

    #[test]
    fn an_overlong_line_is_skipped_and_the_next_is_kept() {
        let mut splitter = LineSplitter::new(8);
        let mut input = vec![b'x'; 20];
        input.extend_from_slice(b"\r\nm-ready\r\n");
        assert_eq!(
            splitter.push(&input),
            [Framed::Overlong(21), Framed::Line(clean("m-ready"))]
        );
        // Exactly the limit is kept.
        assert_eq!(lines(splitter.push(b"12345678\n")), [clean("12345678")]);
        splitter.push(b"half a li");
        splitter.clear();
        assert_eq!(lines(splitter.push(b"ne\n")), [clean("ne")]);
    }

    #[test]
    fn commands_are_percent_terminated_text() {
        let encode = |command: Command| command.encode().expect("fits");
        assert_eq!(encode(Command::Flush), b"%");
        assert_eq!(encode(Command::Name), b"name%");
        assert_eq!(encode(Command::Profile), b"profile%");
        assert_eq!(encode(Command::Timestamp), b"timestamp%");
        assert_eq!(encode(Command::DbLoad(3072)), b"db load 3072%");
        assert_eq!(encode(Command::DbData(&[0x00, 0xff, 0x10])), b"db 00ff10%");
        assert_eq!(
            encode(Command::Infer {
                inferences: 20,
                warmup: 5
            }),
            b"infer 20 5%"
        );
        assert_eq!(encode(Command::Results), b"results%");
        assert_eq!(Command::Name.to_string(), "name%");
        assert_eq!(
            Command::DbData(&[1, 2, 3, 4, 5]).to_string(),
            "db 01020304…% (5 bytes)"
        );
    }

    #[test]
    fn a_full_chunk_fits_and_a_longer_command_is_refused() {
        let chunk = [0xabu8; DB_CHUNK_BYTES];
        let bytes = Command::DbData(&chunk).encode().expect("31 bytes fit");
        assert_eq!(bytes.len(), 3 + 62 + 1);
        // 38 bytes = 3 + 76 = 79 characters still fit; 39 bytes = 81 do not.
        assert!(Command::DbData(&[0u8; 38]).encode().is_ok());
        let err = Command::DbData(&[0u8; 39]).encode().expect_err("too long");
        assert_eq!(err.len, 81);
        assert!(err.to_string().contains("more than the 80"), "{err}");
    }

    #[test]
    fn elapsed_time_wraps_modulo_2_pow_32() {
        assert_eq!(elapsed_us(1_000_000, 1_020_000), Some(20_000));
        assert_eq!(elapsed_us(5, 5), Some(0));
        // t0 = 2³² − 10 000, t1 = 10 000 after the wrap: 20 000 µs.
        assert_eq!(elapsed_us(4_294_957_296, 10_000), Some(20_000));
        assert_eq!(elapsed_us(u64::from(u32::MAX), 0), Some(1));
        // A 64-bit timer that goes backwards is not a wrap.
        assert_eq!(elapsed_us(1 << 40, 5), None);
    }

    proptest! {
        #[test]
        fn no_input_panics_or_grows_a_line_past_the_limit(
            chunks in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..300),
                0..20,
            )
        ) {
            let mut splitter = LineSplitter::new(64);
            for chunk in &chunks {
                for framed in splitter.push(chunk) {
                    if let Framed::Line(line) = framed {
                        prop_assert!(line.text.len() <= 64);
                        let _ = parse_line(&line.text);
                    }
                }
            }
        }

        #[test]
        fn any_text_parses_to_some_message(text in ".{0,120}") {
            let _ = parse_line(&text);
        }
    }
}
