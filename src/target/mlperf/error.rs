//! What can go wrong in a DUT session: [`DutError`] names the port and the last command
//! sent; [`DutErrorKind`] says what happened, with the serial error as its source.

use std::fmt;
use std::time::Duration;

use super::protocol::CommandTooLong;
use crate::serial::SerialError;

/// A failed DUT session step: what went wrong, the last command sent and the port.
#[derive(Debug)]
pub struct DutError {
    /// The port, e.g. `/dev/ttyACM0`.
    pub port: String,
    /// The last command sent as it went out (e.g. `infer 20 5%`); empty before any.
    pub command: String,
    /// What went wrong.
    pub kind: DutErrorKind,
}

impl DutError {
    /// An error on `port` after `command`.
    pub fn new(port: &str, command: &str, kind: DutErrorKind) -> DutError {
        DutError {
            port: port.to_owned(),
            command: command.to_owned(),
            kind,
        }
    }
}

impl fmt::Display for DutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.command.is_empty() {
            write!(f, "{}: {}", self.kind, self.port)
        } else {
            write!(
                f,
                "{} (last command sent: `{}`): {}",
                self.kind, self.command, self.port
            )
        }
    }
}

impl std::error::Error for DutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// What went wrong in a [`DutError`].
#[derive(Debug, thiserror::Error)]
pub enum DutErrorKind {
    /// The port could not be opened.
    #[error("cannot open the DUT's serial port")]
    Open(#[source] SerialError),

    /// The port went away (cable pulled, board reset its USB, emulator closed).
    #[error("the DUT disconnected")]
    Disconnected(#[source] SerialError),

    /// Another read or write failure.
    #[error("the serial link to the DUT failed")]
    Link(#[source] SerialError),

    /// Nothing answered `name%` with `m-name-…` and `m-ready`.
    #[error(
        "no MLPerf Tiny DUT answered `name%` ({tries} tries of {:.1} s at {} baud); check \
         the port, that the board runs EEMBC/MLPerf Tiny firmware, and the baud rate \
         (`mlperf-dut:PORT@BAUD`)",
        timeout.as_secs_f64(),
        join_bauds(bauds)
    )]
    NoAnswer {
        /// Tries per baud rate.
        tries: u32,
        /// Wait per try.
        timeout: Duration,
        /// The baud rates tried.
        bauds: Vec<u32>,
    },

    /// A reply line did not come in time.
    #[error(
        "no reply within {:.1} s while waiting for {waiting_for}{}",
        waited.as_secs_f64(),
        last_line.as_ref().map_or_else(String::new, |line| format!("; the last line was `{line}`"))
    )]
    Timeout {
        /// How long the host waited for the line.
        waited: Duration,
        /// What it waited for.
        waiting_for: String,
        /// The last line the DUT did send.
        last_line: Option<String>,
    },

    /// The DUT answered with an `e-[…]` line.
    #[error("the DUT refused the command: `e-[{0}]`")]
    Refused(String),

    /// A line out of the protocol's order.
    #[error("unexpected line `{line}` from the DUT while waiting for {expected}")]
    Unexpected {
        /// The line.
        line: String,
        /// What should have come.
        expected: String,
    },

    /// The DUT printed its boot banner after the session had started.
    #[error(
        "the DUT reset: it printed its boot line `{0}` in the middle of the command; \
         timings across a reset are not comparable, so the run stops"
    )]
    Reset(String),

    /// The firmware marks timestamps on a GPIO, not as text.
    #[error(
        "the DUT runs energy-mode firmware ({evidence}); a latency run needs \
         performance-mode firmware (built with EE_CFG_ENERGY_MODE 0, 115200 baud), which \
         prints m-lap-us timestamps; energy-mode runs need a power monitor on the timestamp \
         pin and are not supported"
    )]
    EnergyMode {
        /// What showed it.
        evidence: String,
    },

    /// `db load N` got the firmware's unprefixed "Supplied buffer size…" line.
    #[error(
        "the DUT's input buffer is too small for the {bytes}-byte input tensor: `{line}` \
         (the firmware's MAX_DB_INPUT_SIZE is smaller than the model's input)"
    )]
    BufferTooSmall {
        /// The input's size in bytes.
        bytes: usize,
        /// The DUT's line.
        line: String,
    },

    /// The last `db` chunk got no `m-load-done`.
    #[error("the DUT did not confirm the {bytes}-byte download with m-load-done")]
    LoadIncomplete {
        /// The input's size in bytes.
        bytes: usize,
    },

    /// `m-load-done` came before the last chunk.
    #[error("the DUT printed m-load-done after {sent} of {bytes} bytes")]
    LoadEarly {
        /// Bytes sent so far.
        sent: usize,
        /// The input's size in bytes.
        bytes: usize,
    },

    /// A command longer than the DUT keeps.
    #[error(transparent)]
    CommandTooLong(CommandTooLong),

    /// `infer` printed one `m-lap-us` line, or more than two.
    #[error("`infer` printed {0} m-lap-us line(s) between m-infer-start and m-infer-done, not 2")]
    Laps(usize),

    /// The stamps go backwards and are not a 32-bit wrap.
    #[error("the m-lap-us stamps go backwards ({t0} then {t1} µs) and are wider than 32 bits")]
    BadStamps {
        /// The first stamp.
        t0: u64,
        /// The second stamp.
        t1: u64,
    },

    /// The DUT's timer did not advance over a timed window.
    #[error(
        "the DUT's timer did not advance over {0} inferences (t1 = t0): its resolution must \
         be at least 1 kHz (EEMBC's rule), or the window needs more inferences"
    )]
    ClockStalled(u32),

    /// The DUT runs a model whose input size actprof does not know.
    #[error("the DUT runs model `{model}`, whose input actprof does not know (known: {known})")]
    UnknownModel {
        /// The model it named.
        model: String,
        /// The known ones.
        known: String,
    },
}

fn join_bauds(bauds: &[u32]) -> String {
    let names: Vec<String> = bauds.iter().map(u32::to_string).collect();
    names.join(" and ")
}
