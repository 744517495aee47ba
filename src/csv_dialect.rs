//! The field separator and decimal mark of a CSV file, read off its header line.
//!
//! actprof writes commas between fields and points in numbers. A spreadsheet set to a
//! locale with a decimal comma (most of Europe) saves the same table with `;` between
//! fields and `0,25` for a quarter, and data copied out of a spreadsheet is often
//! tab-separated; the readers of reports and power traces take all three back. The header
//! decides: the first of `,`, `;` and tab that it holds outside quotes separates the fields,
//! and where that is not a comma, a comma in a number is its decimal mark.

use std::num::ParseFloatError;

/// How one CSV file separates fields and writes decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    delimiter: u8,
}

impl Default for Dialect {
    fn default() -> Dialect {
        Dialect { delimiter: b',' }
    }
}

impl Dialect {
    /// The dialect of a file whose text starts with `start` (its header line, or more).
    pub fn sniff(start: &[u8]) -> Dialect {
        let mut quoted = false;
        let mut found = [false; 3];
        for &byte in start {
            match byte {
                b'"' => quoted = !quoted,
                b'\n' | b'\r' if !quoted => break,
                b',' if !quoted => found[0] = true,
                b';' if !quoted => found[1] = true,
                b'\t' if !quoted => found[2] = true,
                _ => {}
            }
        }
        let delimiter = [b',', b';', b'\t']
            .into_iter()
            .zip(found)
            .find_map(|(delimiter, seen)| seen.then_some(delimiter))
            .unwrap_or(b',');
        Dialect { delimiter }
    }

    /// The byte between fields.
    pub fn delimiter(self) -> u8 {
        self.delimiter
    }

    /// A number as the file writes it: `0.25`, or also `0,25` where fields are not
    /// separated by commas. Surrounding spaces are ignored.
    pub fn parse_f64(self, text: &str) -> Result<f64, ParseFloatError> {
        let text = text.trim();
        if self.delimiter != b',' && text.contains(',') {
            text.replacen(',', ".", 1).parse()
        } else {
            text.parse()
        }
    }

    /// The header names of a line in this dialect (not unquoted: for recognising a format).
    pub fn split_header(self, line: &str) -> impl Iterator<Item = &str> {
        line.split(char::from(self.delimiter))
    }
}

/// `text` (comma-separated, decimal points) as a spreadsheet saves it with `delimiter`
/// between fields, and with a decimal comma in every number when `decimal_comma`; for the
/// readers' tests.
#[cfg(test)]
pub(crate) fn resaved_by_spreadsheet(text: &str, delimiter: u8, decimal_comma: bool) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::new());
    for record in reader.records() {
        let record = record.expect("valid csv");
        let fields = record.iter().map(|field| {
            if decimal_comma && field.parse::<f64>().is_ok() {
                field.replace('.', ",")
            } else {
                field.to_owned()
            }
        });
        writer.write_record(fields).expect("in memory");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delimiter(start: &str) -> char {
        char::from(Dialect::sniff(start.as_bytes()).delimiter())
    }

    #[test]
    fn the_header_chooses_the_separator() {
        assert_eq!(delimiter("activation,params,median_ns\n1;2;3\n"), ',');
        assert_eq!(delimiter("activation;params;median_ns\r\n1,5;2;3\r\n"), ';');
        assert_eq!(delimiter("activation\tparams\tmedian_ns\n"), '\t');
        // A comma inside a quoted name separates nothing.
        assert_eq!(delimiter("\"a,b\";c\n"), ';');
        // One column, or nothing at all: commas, as actprof writes.
        assert_eq!(delimiter("median_ns\n1,5\n"), ',');
        assert_eq!(delimiter(""), ',');
        // A comma anywhere in the header wins over the others.
        assert_eq!(delimiter("a;b,c\n"), ',');
    }

    #[test]
    fn a_decimal_comma_is_read_only_where_commas_do_not_separate_fields() {
        let semicolon = Dialect::sniff(b"a;b");
        let tab = Dialect::sniff(b"a\tb");
        let comma = Dialect::default();
        assert_eq!(semicolon.parse_f64(" 0,25 "), Ok(0.25));
        assert_eq!(tab.parse_f64("-1,5e3"), Ok(-1500.0));
        assert_eq!(semicolon.parse_f64("0.25"), Ok(0.25));
        assert!(comma.parse_f64("0,25").is_err());
        // Thousands marks are not guessed at.
        assert!(semicolon.parse_f64("1.234,5").is_err());
        assert!(semicolon.parse_f64("1,234,5").is_err());
    }
}
