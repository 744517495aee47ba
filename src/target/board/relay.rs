//! The byte relay between a client's pty and the QEMU board's UART, with fault injection
//! for tests: what a flaky cable, a terminal echo, a board reset or a crash look like.
//!
//! Faults (`--fault`, comma-separated), timed from the end of the first measured cell (the
//! board's first `ok runs=R` answer with R ≥ 2), so they land in the middle of a run with
//! at least one cell finished, however fast the machine:
//! - `garbage`: after every few board lines, a line of non-ASCII bytes and a line that
//!   looks like an answer to an old request (`999 ok stale`);
//! - `echo`: every byte the client sends comes straight back, as from a port with echo on;
//! - `reset-after=D`: the board is reset through QEMU's monitor (`system_reset`), so it
//!   prints its boot line again in the middle of whatever it was doing;
//! - `silent-after=D`: the board's output is dropped from then on (a hung board);
//! - `disconnect-after=D`: the client's pty is closed (a pulled USB cable);
//! - `kill-after=D`: QEMU is killed, and the client's pty closed with it.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::protocol::{Answer, Fields, parse_answer};
use super::qemu::QemuBoard;
use crate::harness::plan::parse_duration;
use crate::serial::{Link, SerialError};

/// Longest board line the relay looks at for the fault clock; longer ones are skipped.
const WATCH_LINE: usize = 256;

/// Board lines between two injected garbage lines.
const GARBAGE_EVERY: u32 = 3;

/// Wait of each read, in each direction.
const POLL: Duration = Duration::from_millis(1);

/// The faults to inject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayFaults {
    pub garbage: bool,
    pub echo: bool,
    pub reset_after: Option<Duration>,
    pub silent_after: Option<Duration>,
    pub disconnect_after: Option<Duration>,
    pub kill_after: Option<Duration>,
}

/// A fault list that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown board fault `{0}` (expected garbage, echo, reset-after=D, silent-after=D, \
     disconnect-after=D or kill-after=D, with D a duration such as 500ms)"
)]
pub struct BadFault(String);

impl FromStr for RelayFaults {
    type Err = BadFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut faults = RelayFaults::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = || BadFault(item.to_owned());
            match item.split_once('=') {
                None if item == "garbage" => faults.garbage = true,
                None if item == "echo" => faults.echo = true,
                Some((key, value)) => {
                    let after = Some(parse_duration(value).map_err(|_| bad())?);
                    match key {
                        "reset-after" => faults.reset_after = after,
                        "silent-after" => faults.silent_after = after,
                        "disconnect-after" => faults.disconnect_after = after,
                        "kill-after" => faults.kill_after = after,
                        _ => return Err(bad()),
                    }
                }
                None => return Err(bad()),
            }
        }
        Ok(faults)
    }
}

/// Why the relay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// `stop` was set.
    Stopped,
    /// QEMU went away (it exited, or `kill-after` killed it).
    BoardGone,
    /// `disconnect-after` fired.
    Disconnected,
}

/// Relays bytes between `client` and `board_link` until `stop`, a fault, or QEMU's end.
pub fn relay(
    board: &mut QemuBoard,
    board_link: &mut dyn Link,
    client: &mut dyn Link,
    faults: &RelayFaults,
    stop: &AtomicBool,
) -> Result<RelayEnd, SerialError> {
    let mut started: Option<Instant> = None;
    let mut watched: Vec<u8> = Vec::with_capacity(WATCH_LINE);
    let mut reset_done = false;
    let mut lines = 0u32;
    let mut buf = [0u8; 1024];
    let due = |after: Option<Duration>, started: Option<Instant>| match (after, started) {
        (Some(after), Some(at)) => at.elapsed() >= after,
        _ => false,
    };
    loop {
        if stop.load(Ordering::Acquire) {
            return Ok(RelayEnd::Stopped);
        }
        if due(faults.kill_after, started) {
            tracing::info!("fault: killing QEMU");
            board.kill();
            return Ok(RelayEnd::BoardGone);
        }
        if due(faults.disconnect_after, started) {
            tracing::info!("fault: closing the client's port");
            return Ok(RelayEnd::Disconnected);
        }
        if !reset_done && due(faults.reset_after, started) {
            tracing::info!("fault: resetting the board");
            reset_done = true;
            if let Err(err) = board.monitor("system_reset") {
                tracing::warn!("{err}");
            }
        }
        let silent = due(faults.silent_after, started);

        let n = client.read_some(&mut buf, POLL)?;
        if n > 0 {
            if faults.echo {
                client.write_all(&buf[..n])?;
            }
            match board_link.write_all(&buf[..n]) {
                Err(err) if err.is_disconnect() => return Ok(RelayEnd::BoardGone),
                other => other?,
            }
        }
        let n = match board_link.read_some(&mut buf, POLL) {
            Err(err) if err.is_disconnect() => return Ok(RelayEnd::BoardGone),
            other => other?,
        };
        if started.is_none() {
            for &byte in &buf[..n] {
                if byte != b'\n' {
                    if watched.len() < WATCH_LINE {
                        watched.push(byte);
                    }
                    continue;
                }
                if ends_measured_cell(&watched) {
                    started = Some(Instant::now());
                }
                watched.clear();
            }
        }
        if n == 0 || silent {
            if board.has_exited() {
                return Ok(RelayEnd::BoardGone);
            }
            continue;
        }
        if !faults.garbage {
            client.write_all(&buf[..n])?;
            continue;
        }
        for &byte in &buf[..n] {
            client.write_all(&[byte])?;
            if byte == b'\n' {
                lines += 1;
                if lines.is_multiple_of(GARBAGE_EVERY) {
                    client.write_all(b"\xff\xfe\x80 \x01\r\n999 ok stale\r\n")?;
                }
            }
        }
    }
}

/// Whether a board line is the final answer of a measured run: `<id> ok runs=R …`, R ≥ 2
/// (the host's calibration requests ask for one run).
fn ends_measured_cell(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    match parse_answer(line.trim_end()) {
        Some(Answer::Ok { rest, .. }) => Fields::parse(&rest)
            .and_then(|fields| fields.number::<u32>("runs"))
            .is_some_and(|runs| runs >= 2),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_lists_parse() {
        let faults: RelayFaults = "garbage, echo,reset-after=2s,kill-after=300ms"
            .parse()
            .expect("valid");
        assert_eq!(
            faults,
            RelayFaults {
                garbage: true,
                echo: true,
                reset_after: Some(Duration::from_secs(2)),
                kill_after: Some(Duration::from_millis(300)),
                ..RelayFaults::default()
            }
        );
        assert_eq!("".parse::<RelayFaults>(), Ok(RelayFaults::default()));
        assert!(ends_measured_cell(b"5 ok runs=40 checksum=0badf00d\r"));
        assert!(!ends_measured_cell(b"4 ok runs=1 checksum=0badf00d\r"));
        assert!(!ends_measured_cell(b"4 run 3 ticks=5"));
        assert!(!ends_measured_cell(b"\xff ok runs=9"));
        for bad in ["noise", "reset-after", "reset-after=soon", "melt-after=1s"] {
            assert!(bad.parse::<RelayFaults>().is_err(), "{bad}");
        }
    }
}
