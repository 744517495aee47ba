//! What a board provides to the protocol engine.

use core::fmt;

/// The most timer reads while waiting for a tick: far more than the slowest sensible timer
/// needs (1 kHz on a 500 MHz core), so that a timer that does not run cannot hang `run`
/// (its runs then report 0 ticks).
pub const TICK_WAIT_MAX_READS: u32 = 1 << 22;

/// The hardware of one board: a serial port, a free-running timer, optionally a cycle
/// counter, and a marker pin. `docs/porting.md` explains each method for a new port.
pub trait Board {
    /// The next received byte, if one is waiting; never blocks.
    fn read_byte(&mut self) -> Option<u8>;

    /// Sends one byte, waiting while the transmitter is full.
    fn write_byte(&mut self, byte: u8);

    /// The free-running timer: counts up at [`Board::ticks_per_sec`] and wraps at 2^32.
    fn now_ticks(&mut self) -> u32;

    /// The rate of [`Board::now_ticks`] in Hz (`timer_hz=` in `hello`).
    fn ticks_per_sec(&self) -> u32;

    /// Waits for the start of a timer tick, so that every timed run starts at the same phase
    /// of the timer. The default spins on [`Board::now_ticks`] until it changes: the run
    /// then starts within one loop pass (a few instructions) of the tick. A board with an
    /// exact way (the QEMU board wakes from `wfi` on a periodic interrupt) overrides it.
    fn align_to_tick(&mut self) {
        let now = self.now_ticks();
        for _ in 0..TICK_WAIT_MAX_READS {
            if self.now_ticks() != now {
                return;
            }
        }
    }

    /// The core's cycle counter, if it has one that was seen advancing (wraps at 2^32).
    fn cycles(&mut self) -> Option<u32> {
        None
    }

    /// Drives the marker pin: high for the duration of each timed run.
    fn marker(&mut self, high: bool);

    /// The board's name in `hello` (`board=`), e.g. `qemu-mps2-an386`.
    fn name(&self) -> &'static str;

    /// True when the board is an emulator (`timing=emulated`).
    fn emulated(&self) -> bool;

    /// A board-specific command: `line` is the request after its id (the command word and
    /// its arguments, trimmed). Returns true when the board knew the command and answered
    /// it (with lines starting with `id`, the last one `ok` or `err`); false lets the engine
    /// answer `err 4`.
    fn command(&mut self, id: u32, line: &str) -> bool {
        let _ = (id, line);
        false
    }
}

/// `core::fmt::Write` over a board's serial port, for answers without an allocator.
pub struct Writer<'a, B: Board + ?Sized>(pub &'a mut B);

impl<B: Board + ?Sized> fmt::Write for Writer<'_, B> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            self.0.write_byte(byte);
        }
        Ok(())
    }
}
