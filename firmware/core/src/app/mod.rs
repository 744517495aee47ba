//! The protocol engine of `docs/board-protocol.md`.
//!
//! [`App`] turns received bytes into lines, answers `hello`, `caps`, `run` and `ping`, hands
//! other commands to [`Board::command`], and writes every answer through
//! `core::fmt::Write` into the board, without an allocator. `N` is the board's capacity in
//! elements; the app holds an input and an output buffer of `N` f32 and of `N` bytes
//! (10·N bytes in all) plus a 256-byte line buffer and a 256-byte table.

mod error;
mod line;
mod request;
#[cfg(test)]
mod tests;

use core::fmt::{self, Write as _};
use core::hint::black_box;

pub use error::ErrorCode;
use error::Refusal;
use line::{Completed, LineReader};
use request::{DType, RunRequest, decimal, parse_run};
pub use request::{MAX_BATCH, MAX_RUNS, MAX_WARMUP};

use crate::board::{Board, Writer};
use crate::kernels::{self, Kernel};
use crate::{PROTO_VERSION, checksum, r#gen, quant};

/// The firmware's name and version in `hello` (`fw=`).
pub const FW_NAME: &str = "actprof-fw";

/// The version in `fw=`: this crate's.
pub const FW_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The protocol engine for a board holding `N` elements per buffer.
///
/// Large (about 10·N bytes): boards keep it in a `static` or in `main`'s frame.
pub struct App<const N: usize> {
    reader: LineReader,
    work: Workspace<N>,
}

/// The buffers a `run` works in.
struct Workspace<const N: usize> {
    f32_in: [f32; N],
    f32_out: [f32; N],
    bytes_in: [u8; N],
    bytes_out: [u8; N],
    table: [u8; 256],
}

impl<const N: usize> Default for App<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> App<N> {
    /// The most elements one `run` may ask for (`max_elements=` in `caps`).
    pub const MAX_ELEMENTS: usize = N;

    /// An engine with empty buffers.
    pub const fn new() -> Self {
        App {
            reader: LineReader::new(),
            work: Workspace {
                f32_in: [0.0; N],
                f32_out: [0.0; N],
                bytes_in: [0; N],
                bytes_out: [0; N],
                table: [0; 256],
            },
        }
    }

    /// Announces the board after reset: `* boot <the keys of hello>`.
    pub fn boot<B: Board>(&mut self, board: &mut B) {
        let mut out = Writer(&mut *board);
        let _ = out.write_str("* boot ");
        write_identity(&mut out);
        let _ = out.write_str("\r\n");
    }

    /// Handles every byte the board has received so far; returns when none is waiting.
    pub fn poll<B: Board>(&mut self, board: &mut B) {
        while let Some(byte) = board.read_byte() {
            self.feed(board, byte);
        }
    }

    /// Handles one received byte, answering the line it completes, if any.
    pub fn feed<B: Board>(&mut self, board: &mut B, byte: u8) {
        match self.reader.push(byte) {
            None => {}
            Some(Completed::TooLong) => answer_error(board, 0, ErrorCode::LineTooLong, "", ""),
            Some(Completed::BadByte) => answer_error(board, 0, ErrorCode::BadByte, "", ""),
            Some(Completed::Line) => match core::str::from_utf8(self.reader.line()) {
                Ok(line) => self.work.handle_line(board, line),
                // Unreachable: the reader passes printable ASCII only.
                Err(_) => answer_error(board, 0, ErrorCode::BadByte, "", ""),
            },
        }
    }
}

impl<const N: usize> Workspace<N> {
    fn handle_line<B: Board>(&mut self, board: &mut B, line: &str) {
        let line = line.trim_matches(' ');
        if line.is_empty() {
            // A bare line end (a person pressing Enter) asks nothing.
            return;
        }
        let (id_text, rest) = line.split_once(' ').unwrap_or((line, ""));
        let Some(id) = parse_id(id_text) else {
            answer_error(board, 0, ErrorCode::BadId, "", "");
            return;
        };
        let rest = rest.trim_matches(' ');
        let mut tokens = rest.split(' ').filter(|t| !t.is_empty());
        let command = tokens.next().unwrap_or("");
        let result = match command {
            "hello" => no_arguments(tokens).map(|()| answer_hello(board, id)),
            "caps" => no_arguments(tokens).map(|()| answer_caps(board, id, N)),
            "ping" => no_arguments(tokens).map(|()| answer_ok(board, id)),
            "run" => parse_run(tokens, N).map(|request| self.run(board, id, &request)),
            _ if board.command(id, rest) => Ok(()),
            _ => Err(Refusal::new(
                ErrorCode::UnknownCommand,
                "no command",
                command,
            )),
        };
        if let Err(refusal) = result {
            answer_error(board, id, refusal.code, refusal.reason, refusal.subject);
        }
    }

    /// Runs a validated request: input, table, warm-up, timed runs, checksum.
    fn run<B: Board>(&mut self, board: &mut B, id: u32, request: &RunRequest) {
        let n = request.n;
        let (kernel, p) = (request.kernel, request.p);
        let checksum = match request.dtype {
            DType::Quantized(dtype, q) => {
                r#gen::fill_bytes(request.seed, &mut self.bytes_in[..n]);
                self.table = quant::build_table(kernel, p, dtype, &q);
                let (table, input) = (&self.table, &self.bytes_in[..n]);
                let output = &mut self.bytes_out[..n];
                timed_runs(board, id, request, || {
                    quant::apply_table(table, black_box(input), black_box(&mut *output));
                });
                checksum::fnv1a32(output)
            }
            DType::F32 => {
                r#gen::fill_f32(request.seed, &mut self.f32_in[..n]);
                let input = &self.f32_in[..n];
                let output = &mut self.f32_out[..n];
                timed_runs(board, id, request, || {
                    kernels::apply(kernel, p, black_box(input), black_box(&mut *output));
                });
                checksum::of_f32(output)
            }
        };
        say(
            board,
            format_args!("{id} ok runs={} checksum={checksum:08x}", request.runs),
        );
    }
}

/// The warm-up calls, then each timed run of `batch` calls between the marker edges and
/// the timer reads, then its line (formatted outside the timed region).
///
/// Each run starts right after a tick of the timer ([`Board::align_to_tick`]), so that it
/// starts at the same phase of the timer every time: the count then varies far less than
/// ±1 tick with a coarse timer, and on the QEMU board, which aligns exactly, it is the same
/// on every run and every launch.
fn timed_runs<B: Board>(board: &mut B, id: u32, request: &RunRequest, mut call: impl FnMut()) {
    for _ in 0..request.warmup {
        call();
    }
    for k in 0..request.runs {
        board.align_to_tick();
        board.marker(true);
        let ticks_start = board.now_ticks();
        let cycles_start = board.cycles();
        for _ in 0..request.batch {
            call();
        }
        let cycles_end = board.cycles();
        let ticks_end = board.now_ticks();
        board.marker(false);
        let ticks = ticks_end.wrapping_sub(ticks_start);
        match (cycles_start, cycles_end) {
            (Some(start), Some(end)) => say(
                board,
                format_args!(
                    "{id} run {k} ticks={ticks} cycles={}",
                    end.wrapping_sub(start)
                ),
            ),
            _ => say(board, format_args!("{id} run {k} ticks={ticks}")),
        }
    }
}

/// An id: canonical decimal (no sign, no leading zero) from 1 to 4294967295.
fn parse_id(text: &str) -> Option<u32> {
    if text.starts_with('0') {
        return None;
    }
    decimal(text)
}

fn no_arguments<'a>(mut tokens: impl Iterator<Item = &'a str>) -> Result<(), Refusal<'a>> {
    match tokens.next() {
        Some(token) => Err(Refusal::new(ErrorCode::BadArgument, "takes no", token)),
        None => Ok(()),
    }
}

/// Writes one line and its `\r\n`.
fn say<B: Board>(board: &mut B, args: fmt::Arguments<'_>) {
    let mut out = Writer(board);
    let _ = out.write_fmt(args);
    let _ = out.write_str("\r\n");
}

/// The keys `hello` and `* boot` share.
fn write_identity<B: Board>(out: &mut Writer<'_, B>) {
    let board = &*out.0;
    let (name, hz, emulated) = (board.name(), board.ticks_per_sec(), board.emulated());
    let cycles = out.0.cycles().is_some();
    let _ = write!(
        out,
        "proto={PROTO_VERSION} fw={FW_NAME}/{FW_VERSION} board={name} timer_hz={hz} \
         timing={} cycles={}",
        if emulated { "emulated" } else { "hardware" },
        if cycles { "yes" } else { "no" },
    );
}

fn answer_hello<B: Board>(board: &mut B, id: u32) {
    let mut out = Writer(board);
    let _ = write!(out, "{id} ok ");
    write_identity(&mut out);
    let _ = out.write_str("\r\n");
}

fn answer_caps<B: Board>(board: &mut B, id: u32, max_elements: usize) {
    let mut out = Writer(board);
    let _ = write!(out, "{id} ok kernels=");
    for (i, kernel) in Kernel::ALL.iter().enumerate() {
        let _ = out.write_str(if i == 0 { "" } else { "," });
        let _ = out.write_str(kernel.name());
    }
    let _ = write!(
        out,
        " dtypes=f32,i8,u8 max_elements={max_elements} max_runs={MAX_RUNS} \
         max_batch={MAX_BATCH}\r\n"
    );
}

fn answer_ok<B: Board>(board: &mut B, id: u32) {
    say(board, format_args!("{id} ok"));
}

/// `<id> err <code> <name>[: <reason> <subject>]`.
fn answer_error<B: Board>(board: &mut B, id: u32, code: ErrorCode, reason: &str, subject: &str) {
    let mut out = Writer(board);
    let _ = write!(out, "{id} err {} {}", code.code(), code.name());
    if !reason.is_empty() {
        let _ = write!(out, ": {reason} {subject}");
    }
    let _ = out.write_str("\r\n");
}
