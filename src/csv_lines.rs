//! Line numbers of CSV records as an editor shows them.
//!
//! The csv crate notes a record's position where it starts looking for the record: after
//! the terminator of the record before, ahead of any blank lines and, in a CR LF file (a
//! spreadsheet saved on Windows, Python's `csv.writer`, the PPK2 app), ahead of the `\n`
//! that ends the line before. Its line number is then too small. [`LineIndex`] gives the
//! exact line for text held in memory (reports); [`LineCounter`] gives it for files read as
//! a stream (imports of long recordings) by counting the line breaks it reads on the way.

use std::collections::VecDeque;
use std::io::{self, Read};

/// Line breaks among `bytes` as an editor counts them: `\n`, `\r\n` and a lone `\r` are one
/// each. `after_cr` says whether the byte before `bytes` was a `\r`, and is left saying it
/// of the last byte.
fn count_breaks(bytes: impl IntoIterator<Item = u8>, after_cr: &mut bool) -> u64 {
    let mut breaks = 0;
    for byte in bytes {
        breaks += u64::from(byte == b'\r' || (byte == b'\n' && !*after_cr));
        *after_cr = byte == b'\r';
    }
    breaks
}

/// Exact 1-based line numbers of byte offsets in a text held in memory.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a [u8],
    /// The last offset asked for and the number of line breaks before it (queries usually
    /// come in file order, so counting resumes from there).
    cursor: (usize, u64),
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a [u8]) -> LineIndex<'a> {
        LineIndex {
            text,
            cursor: (0, 0),
        }
    }

    /// The line of the first byte at or after `position` that is not a line terminator:
    /// where the record (or the error) that the csv crate placed there starts; 0 when
    /// there is no position.
    pub fn line(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 0;
        };
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        let (from, mut count) = if start >= self.cursor.0 {
            self.cursor
        } else {
            (0, 0)
        };
        let mut after_cr = from > 0 && self.text[from - 1] == b'\r';
        count += count_breaks(self.text[from..start].iter().copied(), &mut after_cr);
        self.cursor = (start, count);
        count + 1
    }
}

/// A reader that keeps count of the line breaks it hands on, so that records read from it as
/// a stream get exact line numbers (blank lines and CR LF endings included) without the
/// whole text in memory.
///
/// It holds the bytes handed on since the last [`LineCounter::line`] query; a caller that
/// asks for every record's line (as the importers do) keeps that to about one buffer of the
/// CSV reader plus the longest record.
#[derive(Debug)]
pub struct LineCounter<R> {
    inner: R,
    /// Bytes handed on and not yet passed by a query, starting at byte `window_start`.
    window: VecDeque<u8>,
    window_start: u64,
    /// Line breaks before `window_start`, and whether the byte before it was a `\r`.
    breaks_before: u64,
    after_cr: bool,
}

impl<R> LineCounter<R> {
    pub fn new(inner: R) -> LineCounter<R> {
        LineCounter {
            inner,
            window: VecDeque::new(),
            window_start: 0,
            breaks_before: 0,
            after_cr: false,
        }
    }

    /// The 1-based line of the first byte at or after `position` that is not a line
    /// terminator: where the record (or the error) that the csv crate placed there starts;
    /// 0 when there is none. Queries must come in file order (a position before the last
    /// one answered gets that one's line).
    pub fn line(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 0;
        };
        let ahead = position.byte().saturating_sub(self.window_start);
        let passed = usize::try_from(ahead)
            .unwrap_or(usize::MAX)
            .min(self.window.len());
        let terminators = self
            .window
            .iter()
            .skip(passed)
            .take_while(|&&byte| matches!(byte, b'\r' | b'\n'))
            .count();
        let consumed = passed + terminators;
        self.breaks_before += count_breaks(self.window.drain(..consumed), &mut self.after_cr);
        self.window_start += consumed as u64;
        self.breaks_before + 1
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.window.extend(&buffer[..count]);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact lines of the records of `text`.
    fn exact_lines(text: &str) -> Vec<u64> {
        let mut index = LineIndex::new(text.as_bytes());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        reader
            .records()
            .map(|record| index.line(record.expect("record").position()))
            .collect()
    }

    #[test]
    fn the_index_counts_blank_lines_quoted_breaks_and_both_endings() {
        for ending in ["\n", "\r\n"] {
            let text = ["a,b", "1,2", "", "\"x", "y\",3", "", "", "4,5", ""].join(ending);
            assert_eq!(exact_lines(&text), [1, 2, 4, 8], "{ending:?}");
        }
        assert_eq!(exact_lines("a,b"), [1]);
        let mut index = LineIndex::new(b"a\nb\nc\n");
        assert_eq!(index.line(None), 0);
    }

    /// The lines the records of `text` are reported on, streamed through `LineCounter` in
    /// pieces of `piece` bytes (so records straddle the reads).
    fn streamed_lines(text: &str, piece: usize) -> Vec<u64> {
        struct Pieces<'a>(&'a [u8], usize);
        impl Read for Pieces<'_> {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                let count = self.0.len().min(self.1).min(buffer.len());
                buffer[..count].copy_from_slice(&self.0[..count]);
                self.0 = &self.0[count..];
                Ok(count)
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(LineCounter::new(Pieces(text.as_bytes(), piece)));
        let mut record = csv::StringRecord::new();
        let mut lines = Vec::new();
        while reader.read_record(&mut record).expect("record") {
            lines.push(reader.get_mut().line(record.position()));
        }
        lines
    }

    /// Streamed lines for several read sizes, which must all agree.
    fn record_lines(text: &str) -> Vec<u64> {
        let whole = streamed_lines(text, usize::MAX);
        for piece in [1, 2, 3, 7] {
            assert_eq!(
                streamed_lines(text, piece),
                whole,
                "{text:?} read {piece} at a time"
            );
        }
        whole
    }

    #[test]
    fn both_endings_give_the_editors_line_numbers() {
        assert_eq!(record_lines("a,b\n1,2\n3,4\n"), [1, 2, 3]);
        assert_eq!(record_lines("a,b\r\n1,2\r\n3,4\r\n"), [1, 2, 3]);
        // A lone CR (classic Mac OS) ends a line for the csv crate and for editors.
        assert_eq!(record_lines("a,b\r1,2\r\r3,4\r"), [1, 2, 4]);
        assert_eq!(exact_lines("a,b\r1,2\r\r3,4\r"), [1, 2, 4]);
    }

    #[test]
    fn a_quoted_line_break_moves_the_next_record_down() {
        assert_eq!(record_lines("a,b\n\"x\ny\",2\n3,4\n"), [1, 2, 4]);
        assert_eq!(record_lines("a,b\r\n\"x\r\ny\",2\r\n3,4\r\n"), [1, 2, 4]);
    }

    #[test]
    fn streamed_blank_lines_are_counted() {
        for ending in ["\n", "\r\n"] {
            let text = ["a,b", "", "1,2", "", "", "\"x", "y\",3", "", "4,5", "", ""].join(ending);
            assert_eq!(record_lines(&text), [1, 3, 6, 9], "{ending:?}");
            assert_eq!(record_lines(&text), exact_lines(&text), "{ending:?}");
        }
        assert_eq!(record_lines("\n\n\na,b\n"), [4]);
    }

    #[test]
    fn a_file_without_a_line_break_is_one_line() {
        assert_eq!(record_lines("a,b"), [1]);
        assert_eq!(record_lines(""), Vec::<u64>::new());
    }

    #[test]
    fn no_position_is_line_zero_and_earlier_positions_keep_the_last_line() {
        let mut counter = LineCounter::new(&b"a\nb\nc\n"[..]);
        let mut sink = Vec::new();
        counter.read_to_end(&mut sink).expect("read");
        assert_eq!(counter.line(None), 0);
        let mut position = csv::Position::new();
        position.set_byte(4);
        assert_eq!(counter.line(Some(&position)), 3);
        position.set_byte(2);
        assert_eq!(counter.line(Some(&position)), 3);
    }
}
