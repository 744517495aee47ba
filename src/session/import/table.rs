//! Columns found by name and fields read as numbers, shared by the format readers.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use super::{ImportError, ImportFormat};
use crate::csv_dialect::Dialect;
use crate::csv_lines::LineCounter;

/// A CSV reader over a file that counts its line breaks (for line numbers).
pub struct Reader {
    csv: csv::Reader<LineCounter<BufReader<File>>>,
    dialect: Dialect,
}

impl Reader {
    /// A reader of `file`: fields trimmed, rows of any length.
    pub fn new(file: File) -> io::Result<Reader> {
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let dialect = Dialect::sniff(buffered.fill_buf()?);
        let counted = LineCounter::new(buffered);
        let csv = csv::ReaderBuilder::new()
            .delimiter(dialect.delimiter())
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(counted);
        Ok(Reader { csv, dialect })
    }

    /// The line of a record or error at `position` (see [`LineCounter::line`]).
    fn line(&mut self, position: Option<&csv::Position>) -> u64 {
        self.csv.get_mut().line(position)
    }
}

/// The header of a file, its names lower-cased for lookup.
pub struct Columns {
    dialect: Dialect,
    names: Vec<String>,
    lower: Vec<String>,
    header: String,
}

impl Columns {
    /// The header row of `reader`; a leading `#` and byte-order mark on the first name are
    /// dropped (Joulescope writes `#time`).
    pub fn read(reader: &mut Reader, path: &Path) -> Result<Columns, ImportError> {
        let header = match reader.csv.headers() {
            Ok(header) => header.clone(),
            Err(source) => return Err(csv_error(path, reader, source)),
        };
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let name = name.trim();
                if index == 0 {
                    name.trim_start_matches('\u{feff}')
                        .trim_start_matches('#')
                        .to_owned()
                } else {
                    name.to_owned()
                }
            })
            .collect();
        let lower = names.iter().map(|name| name.to_ascii_lowercase()).collect();
        let header = header.iter().collect::<Vec<_>>().join(",");
        Ok(Columns {
            dialect: reader.dialect,
            names,
            lower,
            header: header.chars().take(120).collect(),
        })
    }

    /// The index of the first of `names` present (case-insensitive).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|wanted| {
            let wanted = wanted.to_ascii_lowercase();
            self.lower.iter().position(|name| *name == wanted)
        })
    }

    /// The index of `name`, or an error naming the format and the header.
    pub fn require(
        &self,
        format: ImportFormat,
        name: &'static str,
        path: &Path,
    ) -> Result<usize, ImportError> {
        self.find(&[name])
            .ok_or_else(|| self.missing(format, name, path))
    }

    /// The error for a missing column `name`.
    pub fn missing(&self, format: ImportFormat, name: &'static str, path: &Path) -> ImportError {
        ImportError::MissingColumn {
            format,
            column: name,
            header: self.header.clone(),
            path: path.to_owned(),
        }
    }

    /// The header name of column `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("", String::as_str)
    }
}

/// A field read as a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    /// A finite number.
    Value(f64),
    /// `NaN`, `nan`, `-nan` or empty: a dropped sample.
    Missing,
}

/// One data row being read: the record, its CSV line, and where it came from.
pub struct Row<'a> {
    /// The fields.
    pub record: &'a csv::StringRecord,
    /// CSV line (1-based).
    pub line: u64,
    /// The header.
    pub columns: &'a Columns,
    /// The file.
    pub path: &'a Path,
}

impl Row<'_> {
    /// The text of column `index` (empty when the row is short).
    pub fn text(&self, index: usize) -> &str {
        self.record.get(index).unwrap_or("")
    }

    /// Column `index` as a number.
    pub fn number(&self, index: usize) -> Result<Field, ImportError> {
        let text = self.text(index);
        if text.is_empty() || text.eq_ignore_ascii_case("nan") || text.eq_ignore_ascii_case("-nan")
        {
            return Ok(Field::Missing);
        }
        match self.columns.dialect.parse_f64(text) {
            Ok(value) if value.is_finite() => Ok(Field::Value(value)),
            Ok(_) => Err(self.error(index, "not a finite number")),
            Err(_) => Err(self.error(index, "not a number")),
        }
    }

    /// An error about column `index` of this row.
    pub fn error(&self, index: usize, reason: &'static str) -> ImportError {
        ImportError::Field {
            line: self.line,
            column: index + 1,
            name: self.columns.name(index).to_owned(),
            text: self.text(index).chars().take(40).collect(),
            reason,
            path: self.path.to_owned(),
        }
    }
}

/// Calls `each` on every data row of `reader`, one reused record at a time.
pub fn for_each_row(
    reader: &mut Reader,
    columns: &Columns,
    path: &Path,
    mut each: impl FnMut(&Row<'_>) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(source) => return Err(csv_error(path, reader, source)),
        }
        let line = reader.line(record.position());
        each(&Row {
            record: &record,
            line,
            columns,
            path,
        })?;
    }
}

fn csv_error(path: &Path, reader: &mut Reader, source: csv::Error) -> ImportError {
    // A failed read is about the file, not a line of it.
    if let csv::ErrorKind::Io(io_error) = source.kind() {
        return ImportError::Read {
            path: path.to_owned(),
            source: io::Error::new(io_error.kind(), io_error.to_string()),
        };
    }
    ImportError::Csv {
        line: reader.line(source.position()),
        path: path.to_owned(),
        source,
    }
}
