//! A conversation with one board: open, resynchronise, identify, and run cells, with a
//! timeout on every wait.
//!
//! Lines are framed by the shared bounded [`LineFramer`]; a line that is over-long, not
//! printable ASCII, an echo of the request, or an answer to another request id is skipped
//! (and counted), never taken for the answer. A `* boot` line while a command waits means
//! the board reset, and fails the command.

use std::time::{Duration, Instant};

use super::protocol::{self, Answer, BoardInfo, Caps, MAX_LINE, PROTO_VERSION, RunRequest};
use crate::power::meters::text::{Framed, LineFramer};
use crate::serial::{Link, SerialError};

/// How long `hello` waits for its answer, per try.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(1);

/// Tries of `hello` at least, before the board counts as silent.
pub const HELLO_TRIES: u32 = 3;

/// Default wait for each line of an answer (a run line, or the final `ok`).
pub const DEFAULT_LINE_TIMEOUT: Duration = Duration::from_secs(5);

/// Quiet time that ends the drain after opening the port.
const DRAIN_QUIET: Duration = Duration::from_millis(100);

/// Most bytes drained after opening: a board that never stops talking is not waited for.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Why talking to a board failed. Every message names the port and the command.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("lost the board during `{command}`")]
    Serial {
        command: String,
        #[source]
        source: SerialError,
    },

    #[error(
        "no answer from the board on {port} to `{command}` within {waited:?} (not running the \
         actprof firmware, wrong baud rate, or hung)"
    )]
    Timeout {
        port: String,
        command: String,
        waited: Duration,
    },

    #[error("the board on {port} reset while running `{command}` (it printed its boot line)")]
    Reset { port: String, command: String },

    #[error("the board on {port} refused `{command}`: error {code} ({name}): {text}")]
    Refused {
        port: String,
        command: String,
        code: u32,
        name: &'static str,
        text: String,
    },

    #[error("the board on {port} gave a malformed answer to `{command}`: {what}: {line}")]
    Malformed {
        port: String,
        command: String,
        what: String,
        line: String,
    },

    #[error(
        "the board on {port} speaks protocol version {board}, this actprof speaks version \
         {host}: update the firmware or actprof"
    )]
    Version { port: String, board: u32, host: u32 },
}

impl BoardError {
    /// True when the port went away (cable pulled, emulator killed).
    pub fn is_disconnect(&self) -> bool {
        matches!(self, BoardError::Serial { source, .. } if source.is_disconnect())
    }
}

/// The port failed while `command` was being sent or answered.
fn lost(command: &str, source: SerialError) -> BoardError {
    BoardError::Serial {
        command: command.to_owned(),
        source,
    }
}

/// What one `run` gave back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReply {
    /// Timer ticks of each timed run, in order.
    pub ticks: Vec<u32>,
    /// Cycle counts of each run, when every run line carried one.
    pub cycles: Option<Vec<u32>>,
    /// Checksum of the output buffer after the last call.
    pub checksum: u32,
}

/// Lines skipped while waiting for answers, for the log and the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Lines longer than the protocol's limit.
    pub overlong: u64,
    /// Lines with bytes outside printable ASCII, or not protocol lines at all.
    pub garbage: u64,
    /// Echoes of a request.
    pub echoes: u64,
    /// Answers to another request id (late answers to an earlier command).
    pub stale: u64,
}

/// An open conversation with a board.
pub struct BoardClient {
    link: Box<dyn Link>,
    port: String,
    framer: LineFramer,
    pending: std::collections::VecDeque<String>,
    next_id: u32,
    line_timeout: Duration,
    info: BoardInfo,
    caps: Caps,
    skipped: Skipped,
}

impl BoardClient {
    /// Identifies the board on `link` (named `port` in messages): ends any half line the
    /// board holds, drains what it had to say, then `hello` (again every second, for the
    /// line timeout and at least [`HELLO_TRIES`] times) and `caps`. Refuses a protocol
    /// version other than ours.
    pub fn connect(
        link: Box<dyn Link>,
        port: &str,
        line_timeout: Duration,
    ) -> Result<BoardClient, BoardError> {
        let mut client = BoardClient {
            link,
            port: port.to_owned(),
            framer: LineFramer::new(MAX_LINE),
            pending: std::collections::VecDeque::new(),
            next_id: 1,
            line_timeout,
            info: BoardInfo {
                proto: 0,
                firmware: String::new(),
                board: String::new(),
                timer_hz: 1,
                emulated: false,
                cycles: false,
            },
            caps: Caps {
                kernels: Vec::new(),
                dtypes: Vec::new(),
                max_elements: 1,
                max_runs: 1,
                max_batch: 1,
            },
            skipped: Skipped::default(),
        };
        client
            .link
            .write_all(b"\n")
            .map_err(|source| lost("connect", source))?;
        client.drain()?;
        let hello = client.hello()?;
        client.info = hello;
        if client.info.proto != PROTO_VERSION {
            return Err(BoardError::Version {
                port: client.port.clone(),
                board: client.info.proto,
                host: PROTO_VERSION,
            });
        }
        let (id, command) = client.send("caps")?;
        let rest = client.expect_ok(id, &command, client.line_timeout)?;
        client.caps = Caps::parse(&rest).map_err(|err| client.malformed(&command, &err, &rest))?;
        tracing::info!(
            port = client.port,
            board = client.info.board,
            firmware = client.info.firmware,
            "board identified"
        );
        Ok(client)
    }

    /// The board's identity.
    pub fn info(&self) -> &BoardInfo {
        &self.info
    }

    /// What the board can run.
    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// The port's name.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// Lines skipped so far.
    pub fn skipped(&self) -> Skipped {
        self.skipped
    }

    /// Sends a board-specific command (e.g. `exit` on the QEMU board) and waits for `ok`.
    pub fn command(&mut self, text: &str) -> Result<String, BoardError> {
        let (id, command) = self.send(text)?;
        self.expect_ok(id, &command, self.line_timeout)
    }

    /// Runs one cell: sends the request, collects one line per timed run and the final
    /// checksum. Each line may take up to the line timeout plus `run_time` (the caller's
    /// estimate of one run).
    pub fn run(
        &mut self,
        request: &RunRequest,
        run_time: Duration,
    ) -> Result<RunReply, BoardError> {
        let text = request.line(self.next_id);
        let (id, command) = self.send_line(text)?;
        let wait = self.line_timeout + run_time * 2;
        let mut ticks = Vec::with_capacity(request.runs as usize);
        let mut cycles = Vec::with_capacity(request.runs as usize);
        loop {
            match self.answer(id, &command, wait)? {
                Answer::Run {
                    index,
                    ticks: t,
                    cycles: c,
                    ..
                } => {
                    if index as usize != ticks.len() || ticks.len() >= request.runs as usize {
                        return Err(self.malformed(
                            &command,
                            &format!("run {index} out of order"),
                            &format!("{id} run {index} ticks={t}"),
                        ));
                    }
                    ticks.push(t);
                    if let Some(c) = c {
                        cycles.push(c);
                    }
                }
                Answer::Ok { rest, .. } => {
                    let checksum = protocol::parse_run_done(&rest, request.runs)
                        .filter(|_| ticks.len() == request.runs as usize)
                        .ok_or_else(|| {
                            self.malformed(
                                &command,
                                &format!("{} of {} runs, then", ticks.len(), request.runs),
                                &rest,
                            )
                        })?;
                    let cycles = (cycles.len() == ticks.len()).then_some(cycles);
                    return Ok(RunReply {
                        ticks,
                        cycles,
                        checksum,
                    });
                }
                Answer::Err { code, text, .. } => return Err(self.refused(&command, code, text)),
                Answer::Boot { .. } => {
                    return Err(BoardError::Reset {
                        port: self.port.clone(),
                        command,
                    });
                }
            }
        }
    }

    /// `hello`, sent again every [`HELLO_TIMEOUT`] until an answer or until the line
    /// timeout has passed (at least [`HELLO_TRIES`] tries): a board that is still booting,
    /// or a port that lost the first line, gets another chance.
    fn hello(&mut self) -> Result<BoardInfo, BoardError> {
        let started = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let (id, command) = self.send("hello")?;
            match self.expect_ok(id, &command, HELLO_TIMEOUT) {
                Ok(rest) => {
                    return BoardInfo::parse(&rest)
                        .map_err(|err| self.malformed(&command, &err, &rest));
                }
                Err(BoardError::Timeout { .. } | BoardError::Reset { .. })
                    if tries < HELLO_TRIES || started.elapsed() < self.line_timeout =>
                {
                    tracing::debug!(tries, "hello not answered yet");
                }
                Err(BoardError::Timeout { port, command, .. }) => {
                    return Err(BoardError::Timeout {
                        port,
                        command,
                        waited: started.elapsed(),
                    });
                }
                Err(err) => return Err(err),
            }
        }
    }

    fn send(&mut self, command: &str) -> Result<(u32, String), BoardError> {
        let line = format!("{} {command}", self.next_id);
        self.send_line(line)
    }

    fn send_line(&mut self, line: String) -> Result<(u32, String), BoardError> {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        tracing::debug!(port = self.port, "> {line}");
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        if let Err(source) = self.link.write_all(&bytes) {
            return Err(lost(&line, source));
        }
        Ok((id, line))
    }

    /// Waits for the final `ok` of request `id`.
    fn expect_ok(&mut self, id: u32, command: &str, wait: Duration) -> Result<String, BoardError> {
        match self.answer(id, command, wait)? {
            Answer::Ok { rest, .. } => Ok(rest),
            Answer::Err { code, text, .. } => Err(self.refused(command, code, text)),
            other => Err(self.malformed(command, &"an unexpected line", &format!("{other:?}"))),
        }
    }

    /// The next line answering request `id` (sent as `command`), waiting up to `wait` for
    /// each line. A boot line fails with [`BoardError::Reset`]; an error for id 0 (the
    /// board could not read our line) counts as an error for `id`.
    fn answer(&mut self, id: u32, command: &str, wait: Duration) -> Result<Answer, BoardError> {
        let deadline = Instant::now() + wait;
        loop {
            let Some(line) = self
                .next_line(deadline)
                .map_err(|source| lost(command, source))?
            else {
                return Err(BoardError::Timeout {
                    port: self.port.clone(),
                    command: command.to_owned(),
                    waited: wait,
                });
            };
            if line == command {
                self.skipped.echoes += 1;
                continue;
            }
            let Some(answer) = protocol::parse_answer(&line) else {
                tracing::debug!(
                    port = self.port,
                    "skipped a line that is no answer: {line:?}"
                );
                self.skipped.garbage += 1;
                continue;
            };
            match answer {
                Answer::Boot { .. } => {
                    return Err(BoardError::Reset {
                        port: self.port.clone(),
                        command: command.to_owned(),
                    });
                }
                Answer::Err { id: 0, code, text } if (1..=3).contains(&code) => {
                    return Err(self.refused(command, code, text));
                }
                a if a.id() == Some(id) => return Ok(a),
                _ => self.skipped.stale += 1,
            }
        }
    }

    /// The next printable line, or `None` at the deadline.
    fn next_line(&mut self, deadline: Instant) -> Result<Option<String>, SerialError> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Ok(Some(line));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut buf = [0u8; 512];
            let n = self.link.read_some(&mut buf, deadline - now)?;
            for framed in self.framer.push(&buf[..n]) {
                match framed {
                    Framed::Overlong(_) => self.skipped.overlong += 1,
                    Framed::Line(bytes) => {
                        if bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
                            // Printable ASCII is valid UTF-8.
                            let line = String::from_utf8_lossy(&bytes).into_owned();
                            tracing::trace!(port = self.port, "< {line}");
                            self.pending.push_back(line);
                        } else {
                            self.skipped.garbage += 1;
                        }
                    }
                }
            }
        }
    }

    /// Reads and drops input until the port is quiet for a moment.
    fn drain(&mut self) -> Result<(), BoardError> {
        let mut buf = [0u8; 512];
        let mut total = 0;
        while total < DRAIN_LIMIT {
            let n = self
                .link
                .read_some(&mut buf, DRAIN_QUIET)
                .map_err(|source| lost("connect", source))?;
            if n == 0 {
                break;
            }
            total += n;
        }
        self.framer.clear();
        self.pending.clear();
        Ok(())
    }

    fn refused(&self, command: &str, code: u32, text: String) -> BoardError {
        BoardError::Refused {
            port: self.port.clone(),
            command: command.to_owned(),
            code,
            name: protocol::error_name(code),
            text,
        }
    }

    fn malformed(&self, command: &str, what: &dyn std::fmt::Display, line: &str) -> BoardError {
        BoardError::Malformed {
            port: self.port.clone(),
            command: command.to_owned(),
            what: what.to_string(),
            line: line.to_owned(),
        }
    }
}
