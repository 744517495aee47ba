//! Line numbers of CSV records as an editor shows them.
//!
//! The csv crate notes a record's position where it starts looking for the record: after
//! the terminator of the record before, ahead of any blank lines and, in a CR LF file (a
//! spreadsheet saved on Windows, Python's `csv.writer`, the PPK2 app), ahead of the `\n`
//! that ends the line before. Its line number is then too small. [`LineIndex`] gives the
//! exact line for text held in memory (reports); [`LineEndings`] corrects the CR LF case for
//! files read as a stream (imports of long recordings), where blank lines between records
//! are not counted.

use std::io::{self, BufRead};

/// Exact 1-based line numbers of byte offsets in a text held in memory.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a [u8],
    /// The last offset asked for and the number of `\n` before it (queries usually
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
        count += self.text[from..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.cursor = (start, count);
        count + 1
    }
}

/// How the lines of one CSV file end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineEndings {
    crlf: bool,
}

impl LineEndings {
    /// Looks at the start of `reader` without consuming it: CR LF when its first line ends
    /// in `\r\n` (within the reader's buffer; a first line longer than that counts as LF).
    pub fn sniff(reader: &mut impl BufRead) -> io::Result<LineEndings> {
        let start = reader.fill_buf()?;
        let crlf = start
            .iter()
            .position(|&byte| byte == b'\n')
            .is_some_and(|end| end > 0 && start[end - 1] == b'\r');
        Ok(LineEndings { crlf })
    }

    /// The 1-based line a record (or an error in it) starts on, from the csv crate's
    /// position; 0 when there is none.
    pub fn line(self, position: Option<&csv::Position>) -> u64 {
        match position {
            None => 0,
            // The first record starts at byte 0 and is counted right.
            Some(position) if self.crlf && position.byte() > 0 => position.line() + 1,
            Some(position) => position.line(),
        }
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

    /// The lines the records of `text` are reported on, streamed.
    fn record_lines(text: &str) -> Vec<u64> {
        let mut input = text.as_bytes();
        let endings = LineEndings::sniff(&mut input).expect("sniff");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(input);
        reader
            .records()
            .map(|record| endings.line(record.expect("record").position()))
            .collect()
    }

    #[test]
    fn both_endings_give_the_editors_line_numbers() {
        assert_eq!(record_lines("a,b\n1,2\n3,4\n"), [1, 2, 3]);
        assert_eq!(record_lines("a,b\r\n1,2\r\n3,4\r\n"), [1, 2, 3]);
    }

    #[test]
    fn a_quoted_line_break_moves_the_next_record_down() {
        assert_eq!(record_lines("a,b\n\"x\ny\",2\n3,4\n"), [1, 2, 4]);
        assert_eq!(record_lines("a,b\r\n\"x\r\ny\",2\r\n3,4\r\n"), [1, 2, 4]);
    }

    #[test]
    fn streamed_blank_lines_are_not_counted() {
        // The documented limit of the streaming correction.
        assert_eq!(record_lines("a,b\n\n1,2\n"), [1, 2]);
        assert_eq!(record_lines("a,b\r\n\r\n1,2\r\n"), [1, 2]);
    }

    #[test]
    fn a_file_without_a_line_break_is_one_line() {
        assert_eq!(record_lines("a,b"), [1]);
        assert_eq!(record_lines(""), Vec::<u64>::new());
    }
}
