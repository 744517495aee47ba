//! The host's half of the board protocol (`docs/board-protocol.md`): request lines out,
//! answer lines in, parsed without trusting the board.
//!
//! Every parser here takes a line of at most [`MAX_LINE`] bytes (the framer drops longer
//! ones) and returns `None` or an error for anything it does not recognise; nothing the
//! board sends can make it panic or allocate without bound.

use std::fmt::Write as _;

use actprof_fw_core::kernels::Kernel;
use actprof_fw_core::quant::{QDType, Quant};

/// Longest line either side sends, terminator included.
pub const MAX_LINE: usize = actprof_fw_core::MAX_LINE;

/// The protocol version this host speaks.
pub const PROTO_VERSION: u32 = actprof_fw_core::PROTO_VERSION;

/// One line from the board, sorted by its first word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `<id> ok [key=value ...]`: the rest of the line after `ok`.
    Ok { id: u32, rest: String },
    /// `<id> err <code> <text>`.
    Err { id: u32, code: u32, text: String },
    /// `<id> run <k> ticks=<t> [cycles=<c>]`.
    Run {
        id: u32,
        index: u32,
        ticks: u32,
        cycles: Option<u32>,
    },
    /// `* boot ...`: the board (re)started.
    Boot { rest: String },
}

impl Answer {
    /// The request id the line answers (`None` for a boot line).
    pub fn id(&self) -> Option<u32> {
        match self {
            Answer::Ok { id, .. } | Answer::Err { id, .. } | Answer::Run { id, .. } => Some(*id),
            Answer::Boot { .. } => None,
        }
    }
}

/// Parses one line (terminator removed). `None`: not a protocol line (noise, an echo of
/// a request, a line from before the board spoke this protocol).
pub fn parse_answer(line: &str) -> Option<Answer> {
    let mut words = line.split_ascii_whitespace();
    let first = words.next()?;
    if first == "*" {
        return (words.next()? == "boot").then(|| Answer::Boot {
            rest: after_words(line, 2).to_owned(),
        });
    }
    let id: u32 = first.parse().ok()?;
    match words.next()? {
        "ok" => Some(Answer::Ok {
            id,
            rest: after_words(line, 2).to_owned(),
        }),
        "err" => {
            let code = words.next()?.parse().ok()?;
            Some(Answer::Err {
                id,
                code,
                text: after_words(line, 3).to_owned(),
            })
        }
        "run" => {
            let index = words.next()?.parse().ok()?;
            let fields = Fields::parse(after_words(line, 3))?;
            let ticks = fields.number("ticks")?;
            let cycles = match fields.get("cycles") {
                Some(text) => Some(text.parse().ok()?),
                None => None,
            };
            Some(Answer::Run {
                id,
                index,
                ticks,
                cycles,
            })
        }
        _ => None,
    }
}

/// The text after the first `n` words of `line` (words separated by spaces).
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        rest = match rest.find(' ') {
            Some(at) => rest[at..].trim_start(),
            None => "",
        };
    }
    rest.trim_end()
}

/// `key=value` words, as the board writes them after `ok` or `boot`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Splits `text` into `key=value` words; `None` if a word has no `=` or a key repeats.
    pub fn parse(text: &str) -> Option<Fields> {
        let mut fields = Vec::new();
        for word in text.split_ascii_whitespace() {
            let (key, value) = word.split_once('=')?;
            if key.is_empty() || fields.iter().any(|(k, _): &(String, String)| k == key) {
                return None;
            }
            fields.push((key.to_owned(), value.to_owned()));
        }
        Some(Fields(fields))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as a number.
    pub fn number<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key)?.parse().ok()
    }
}

/// What `hello` tells about a board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardInfo {
    /// Protocol version.
    pub proto: u32,
    /// Firmware name and version, e.g. `actprof-fw/0.1.0`.
    pub firmware: String,
    /// Board name, e.g. `qemu-mps2-an386`.
    pub board: String,
    /// Rate of the timer that `ticks` count, in Hz.
    pub timer_hz: u32,
    /// Whether the board is an emulator (QEMU): its ticks are virtual time.
    pub emulated: bool,
    /// Whether `run` lines carry cycle counts.
    pub cycles: bool,
}

/// Why a `hello` (or boot) answer was refused: the key at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InfoError {
    #[error("the answer is not a list of key=value words")]
    NotFields,
    #[error("`{0}` is missing or malformed")]
    Key(&'static str),
}

impl BoardInfo {
    /// Reads the `key=value` words of a `hello` answer or a boot line.
    pub fn parse(text: &str) -> Result<BoardInfo, InfoError> {
        let fields = Fields::parse(text).ok_or(InfoError::NotFields)?;
        let text_of = |key: &'static str| {
            fields
                .get(key)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or(InfoError::Key(key))
        };
        let flag = |key: &'static str, yes: &str, no: &str| match fields.get(key) {
            Some(v) if v == yes => Ok(true),
            Some(v) if v == no => Ok(false),
            _ => Err(InfoError::Key(key)),
        };
        Ok(BoardInfo {
            proto: fields.number("proto").ok_or(InfoError::Key("proto"))?,
            firmware: text_of("fw")?,
            board: text_of("board")?,
            timer_hz: fields
                .number("timer_hz")
                .filter(|&hz: &u32| hz > 0)
                .ok_or(InfoError::Key("timer_hz"))?,
            emulated: flag("timing", "emulated", "hardware")?,
            cycles: flag("cycles", "yes", "no")?,
        })
    }
}

/// What `caps` tells a board can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Kernel names the board has (unknown names are kept, and never asked for).
    pub kernels: Vec<String>,
    /// Element types: `f32`, `i8`, `u8`.
    pub dtypes: Vec<String>,
    /// Most elements per call.
    pub max_elements: u32,
    /// Most timed runs per `run`.
    pub max_runs: u32,
    /// Most calls per timed run.
    pub max_batch: u32,
}

impl Caps {
    /// Reads the `key=value` words of a `caps` answer.
    pub fn parse(text: &str) -> Result<Caps, InfoError> {
        let fields = Fields::parse(text).ok_or(InfoError::NotFields)?;
        let list = |key: &'static str| {
            fields
                .get(key)
                .map(|v| {
                    v.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .ok_or(InfoError::Key(key))
        };
        let positive = |key: &'static str| {
            fields
                .number(key)
                .filter(|&n: &u32| n > 0)
                .ok_or(InfoError::Key(key))
        };
        Ok(Caps {
            kernels: list("kernels")?,
            dtypes: list("dtypes")?,
            max_elements: positive("max_elements")?,
            max_runs: positive("max_runs")?,
            max_batch: positive("max_batch")?,
        })
    }
}

/// The data type of a run, as the protocol names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunDType {
    F32,
    Quantized(QDType, Quant),
}

/// One `run` request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunRequest {
    pub kernel: Kernel,
    /// The kernel's parameter (alpha, beta); ignored by kernels without one.
    pub param: f32,
    pub dtype: RunDType,
    pub elements: u32,
    pub runs: u32,
    pub warmup: u32,
    pub batch: u32,
    pub seed: u32,
}

impl RunRequest {
    /// The request line for id `id`, without terminator.
    pub fn line(&self, id: u32) -> String {
        let dtype = match self.dtype {
            RunDType::F32 => "f32",
            RunDType::Quantized(dtype, _) => dtype.name(),
        };
        let mut line = format!(
            "{id} run kernel={} dtype={dtype} n={} runs={} warmup={} batch={} seed={}",
            self.kernel.name(),
            self.elements,
            self.runs,
            self.warmup,
            self.batch,
            self.seed
        );
        if matches!(self.kernel, Kernel::LeakyRelu | Kernel::Swish) {
            let _ = write!(line, " p={:08x}", self.param.to_bits());
        }
        if let RunDType::Quantized(_, q) = self.dtype {
            let _ = write!(
                line,
                " in_scale={:08x} in_zp={} out_scale={:08x} out_zp={}",
                q.in_scale.to_bits(),
                q.in_zp,
                q.out_scale.to_bits(),
                q.out_zp
            );
        }
        line
    }
}

/// Reads the `checksum=` of a run's final `ok` line and checks its run count.
pub fn parse_run_done(rest: &str, runs: u32) -> Option<u32> {
    let fields = Fields::parse(rest)?;
    if fields.number::<u32>("runs")? != runs {
        return None;
    }
    let hex = fields.get("checksum")?;
    if hex.len() != 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// Names of the error codes of the protocol, for messages.
pub fn error_name(code: u32) -> &'static str {
    match code {
        1 => "line-too-long",
        2 => "bad-byte",
        3 => "bad-id",
        4 => "unknown-command",
        5 => "unknown-kernel",
        6 => "unsupported-dtype",
        7 => "too-large",
        8 => "bad-argument",
        _ => "unknown error code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_every_kind_parse() {
        assert_eq!(
            parse_answer("12 ok runs=3 checksum=0badf00d"),
            Some(Answer::Ok {
                id: 12,
                rest: "runs=3 checksum=0badf00d".to_owned()
            })
        );
        assert_eq!(
            parse_answer("7 err 5 no such kernel: relu6"),
            Some(Answer::Err {
                id: 7,
                code: 5,
                text: "no such kernel: relu6".to_owned()
            })
        );
        assert_eq!(
            parse_answer("9 run 0 ticks=690"),
            Some(Answer::Run {
                id: 9,
                index: 0,
                ticks: 690,
                cycles: None
            })
        );
        assert_eq!(
            parse_answer("9 run 4 ticks=4294967295 cycles=17"),
            Some(Answer::Run {
                id: 9,
                index: 4,
                ticks: u32::MAX,
                cycles: Some(17)
            })
        );
        assert_eq!(
            parse_answer("* boot proto=1 fw=x/1"),
            Some(Answer::Boot {
                rest: "proto=1 fw=x/1".to_owned()
            })
        );
        assert_eq!(
            parse_answer("5 ok"),
            Some(Answer::Ok {
                id: 5,
                rest: String::new()
            })
        );
    }

    #[test]
    fn noise_and_echoes_are_not_answers() {
        let lines = [
            "",
            "   ",
            "hello",
            "1 hello",
            "1 run kernel=relu dtype=f32 n=4 runs=1 warmup=0 batch=1 seed=1",
            "4294967296 ok",
            "-1 ok",
            "3 err",
            "3 err x",
            "3 run",
            "3 run 0",
            "3 run 0 ticks=-5",
            "3 run 0 ticks=5 cycles=many",
            "3 run 0 ticks=5 ticks=6",
            "* reboot",
            "\u{fffd}\u{fffd} ok",
        ];
        for line in lines {
            assert_eq!(parse_answer(line), None, "{line:?}");
        }
    }

    #[test]
    fn hello_fields_are_read_and_checked() {
        let info = BoardInfo::parse(
            "proto=1 fw=actprof-fw/0.1.0 board=qemu-mps2-an386 timer_hz=25000000 \
             timing=emulated cycles=no",
        )
        .expect("valid hello");
        assert_eq!(
            info,
            BoardInfo {
                proto: 1,
                firmware: "actprof-fw/0.1.0".to_owned(),
                board: "qemu-mps2-an386".to_owned(),
                timer_hz: 25_000_000,
                emulated: true,
                cycles: false,
            }
        );
        let good = "proto=1 fw=f/1 board=b timer_hz=1000000 timing=hardware cycles=yes";
        assert!(BoardInfo::parse(good).is_ok());
        for (text, key) in [
            (
                "fw=f/1 board=b timer_hz=1 timing=hardware cycles=yes",
                "proto",
            ),
            (
                "proto=1 fw=f/1 board=b timer_hz=0 timing=hardware cycles=yes",
                "timer_hz",
            ),
            (
                "proto=1 fw=f/1 board=b timer_hz=1 timing=maybe cycles=yes",
                "timing",
            ),
            (
                "proto=1 fw= board=b timer_hz=1 timing=hardware cycles=yes",
                "fw",
            ),
        ] {
            assert_eq!(BoardInfo::parse(text), Err(InfoError::Key(key)), "{text}");
        }
        assert_eq!(BoardInfo::parse("proto 1"), Err(InfoError::NotFields));
    }

    #[test]
    fn caps_lists_are_split() {
        let caps = Caps::parse(
            "kernels=relu,tanh dtypes=f32,i8 max_elements=16384 max_runs=10000 max_batch=100",
        )
        .expect("valid caps");
        assert_eq!(caps.kernels, ["relu", "tanh"]);
        assert_eq!(caps.dtypes, ["f32", "i8"]);
        assert_eq!(
            (caps.max_elements, caps.max_runs, caps.max_batch),
            (16384, 10000, 100)
        );
        assert_eq!(
            Caps::parse("kernels=relu dtypes=f32 max_elements=0 max_runs=1 max_batch=1"),
            Err(InfoError::Key("max_elements"))
        );
    }

    #[test]
    fn run_requests_write_parameters_as_f32_bits() {
        let request = RunRequest {
            kernel: Kernel::LeakyRelu,
            param: 0.01,
            dtype: RunDType::Quantized(
                QDType::I8,
                Quant {
                    in_scale: 0.0625,
                    in_zp: 0,
                    out_scale: 0.0625,
                    out_zp: -3,
                },
            ),
            elements: 1024,
            runs: 20,
            warmup: 2,
            batch: 1,
            seed: 7,
        };
        // 0.01 is 0x3C23D70A and 1/16 is 0x3D800000 in IEEE-754 single precision.
        assert_eq!(
            request.line(3),
            "3 run kernel=leaky_relu dtype=i8 n=1024 runs=20 warmup=2 batch=1 seed=7 \
             p=3c23d70a in_scale=3d800000 in_zp=0 out_scale=3d800000 out_zp=-3"
        );
        assert!(request.line(u32::MAX).len() < MAX_LINE);
        let relu = RunRequest {
            kernel: Kernel::Relu,
            dtype: RunDType::F32,
            ..request
        };
        assert_eq!(
            relu.line(1),
            "1 run kernel=relu dtype=f32 n=1024 runs=20 warmup=2 batch=1 seed=7"
        );
    }

    #[test]
    fn run_completion_needs_the_run_count_and_eight_hex_digits() {
        assert_eq!(parse_run_done("runs=3 checksum=0000beef", 3), Some(0xbeef));
        assert_eq!(parse_run_done("runs=2 checksum=0000beef", 3), None);
        assert_eq!(parse_run_done("runs=3 checksum=beef", 3), None);
        assert_eq!(parse_run_done("runs=3 checksum=0000beeg", 3), None);
        assert_eq!(parse_run_done("runs=3", 3), None);
    }
}
