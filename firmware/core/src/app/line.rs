//! Assembling request lines from serial bytes.

use crate::MAX_LINE;

/// What a `\n` completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completed {
    /// A line of printable bytes, ready in [`LineReader::line`].
    Line,
    /// The line had more than `MAX_LINE - 1` bytes and was dropped.
    TooLong,
    /// The line held a byte outside 0x20..=0x7E.
    BadByte,
}

/// A line buffer of [`MAX_LINE`] bytes that recovers at the next `\n` from over-long lines
/// and bad bytes.
pub(crate) struct LineReader {
    buf: [u8; MAX_LINE],
    /// Bytes of the line being received (stored or, past the limit, only counted).
    len: usize,
    /// Length of the last completed line.
    done: usize,
    too_long: bool,
    bad_byte: bool,
    /// A `\r` arrived; it is ignored if a `\n` follows, else it is a bad byte.
    pending_cr: bool,
}

impl LineReader {
    pub(crate) const fn new() -> Self {
        LineReader {
            buf: [0; MAX_LINE],
            len: 0,
            done: 0,
            too_long: false,
            bad_byte: false,
            pending_cr: false,
        }
    }

    /// Takes one received byte; returns what it completed, if it was a `\n`.
    pub(crate) fn push(&mut self, byte: u8) -> Option<Completed> {
        if byte == b'\n' {
            return Some(self.complete());
        }
        if self.pending_cr {
            self.pending_cr = false;
            self.store(b'\r');
        }
        if byte == b'\r' {
            self.pending_cr = true;
        } else {
            self.store(byte);
        }
        None
    }

    /// The last completed line (valid after [`Completed::Line`]).
    pub(crate) fn line(&self) -> &[u8] {
        &self.buf[..self.done]
    }

    fn store(&mut self, byte: u8) {
        if !(0x20..=0x7E).contains(&byte) {
            self.bad_byte = true;
        }
        // The terminator needs its byte of the MAX_LINE too.
        if self.len >= MAX_LINE - 1 {
            self.too_long = true;
            return;
        }
        self.buf[self.len] = byte;
        self.len += 1;
    }

    fn complete(&mut self) -> Completed {
        let completed = if self.too_long {
            Completed::TooLong
        } else if self.bad_byte {
            Completed::BadByte
        } else {
            Completed::Line
        };
        self.done = if completed == Completed::Line {
            self.len
        } else {
            0
        };
        self.len = 0;
        self.too_long = false;
        self.bad_byte = false;
        self.pending_cr = false;
        completed
    }
}
