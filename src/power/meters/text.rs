//! Newline framing of text from a serial device, with a bounded line: what SCPI
//! instruments and line-streaming loggers share.
//!
//! A device's byte stream is never trusted for lengths: a line that grows past the limit
//! (a missing newline, garbage at a wrong baud rate) is dropped up to its newline and
//! counted, so memory stays bounded whatever arrives.

use std::time::Duration;

use crate::serial::{Link, SerialError};

/// One event from the [`LineFramer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framed {
    /// A complete line, terminator (`\n` or `\r\n`) removed.
    Line(Vec<u8>),
    /// A line longer than the limit was dropped; this many bytes of it were seen.
    Overlong(usize),
}

/// Splits a byte stream into lines ending in `\n` (a `\r` before it is removed), never
/// holding more than `max_len` bytes: a longer line is dropped up to its newline and
/// reported as [`Framed::Overlong`].
#[derive(Clone, Debug)]
pub struct LineFramer {
    max_len: usize,
    line: Vec<u8>,
    /// Bytes of an over-long line seen so far; `Some` while skipping to its end.
    skipping: Option<usize>,
}

impl LineFramer {
    /// A framer that accepts lines of at most `max_len` bytes.
    pub fn new(max_len: usize) -> LineFramer {
        LineFramer {
            max_len,
            line: Vec::with_capacity(max_len.min(1024)),
            skipping: None,
        }
    }

    /// Feeds bytes; returns the lines and drops they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Framed> {
        let mut out = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                if let Some(seen) = self.skipping.take() {
                    out.push(Framed::Overlong(seen));
                } else {
                    let mut line = std::mem::take(&mut self.line);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if line.len() > self.max_len {
                        out.push(Framed::Overlong(line.len()));
                    } else {
                        out.push(Framed::Line(line));
                    }
                }
                continue;
            }
            if let Some(seen) = self.skipping.as_mut() {
                *seen += 1;
                continue;
            }
            // One byte of slack for the `\r` of a `\r\n` ending.
            if self.line.len() > self.max_len {
                self.skipping = Some(self.line.len() + 1);
                self.line.clear();
            } else {
                self.line.push(byte);
            }
        }
        out
    }

    /// Forgets a line in progress (after a discarded input or a timeout).
    pub fn clear(&mut self) {
        self.line.clear();
        self.skipping = None;
    }

    /// Whether part of a line is buffered.
    pub fn is_mid_line(&self) -> bool {
        !self.line.is_empty() || self.skipping.is_some()
    }
}

/// The step of a number as printed: `0.0408671` → 1e-7, `4.5e-3` → 1e-4, `12` → 1.
pub fn printed_step(text: &str) -> Option<f64> {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let decimals = match mantissa.split_once('.') {
        Some((_, fraction)) => i32::try_from(fraction.len()).ok()?,
        None => 0,
    };
    Some(10f64.powi(exponent - decimals))
}

/// Reads and drops whatever input is buffered (a late reply, junk). Reading rather than
/// flushing the port makes a hung-up port show as a disconnect.
pub fn drain_input(link: &mut dyn Link) -> Result<(), SerialError> {
    let mut buf = [0u8; 512];
    // Bounded: a device that floods the port cannot keep the query from going out.
    for _ in 0..64 {
        if link.read_some(&mut buf, Duration::ZERO)? == 0 {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(framed: Vec<Framed>) -> Vec<Vec<u8>> {
        framed
            .into_iter()
            .filter_map(|f| match f {
                Framed::Line(line) => Some(line),
                Framed::Overlong(_) => None,
            })
            .collect()
    }

    #[test]
    fn lines_are_framed_across_reads_with_lf_or_crlf() {
        let mut framer = LineFramer::new(256);
        assert!(framer.push(b"0.01").is_empty());
        assert!(framer.is_mid_line());
        let got = lines(framer.push(b"2345\r\n3.300000\n1.2345E-02\r"));
        assert_eq!(got, [b"0.012345".to_vec(), b"3.300000".to_vec()]);
        assert_eq!(lines(framer.push(b"\n")), [b"1.2345E-02".to_vec()]);
        assert!(!framer.is_mid_line());
    }

    #[test]
    fn an_overlong_line_is_dropped_and_counted_and_the_next_one_is_kept() {
        let mut framer = LineFramer::new(8);
        let mut input = vec![b'7'; 20];
        input.extend_from_slice(b"\n3.3\n");
        let got = framer.push(&input);
        assert_eq!(got, [Framed::Overlong(20), Framed::Line(b"3.3".to_vec())]);
        // Exactly the limit is fine, with or without a `\r`.
        assert_eq!(
            framer.push(b"12345678\r\n"),
            [Framed::Line(b"12345678".to_vec())]
        );
        assert_eq!(framer.push(b"123456789\n"), [Framed::Overlong(9)]);
    }
}
