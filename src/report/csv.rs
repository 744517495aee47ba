//! Writing report rows as tidy CSV and reading them back.
//!
//! The format is what pandas' `read_csv` and spreadsheets read without options: the header
//! on the first line, one row per cell, comma separated, `.` as decimal point, UTF-8, `\n`
//! line ends, fields quoted only when they contain a comma, quote or line break, and no
//! comment lines. Numbers are written in their shortest round-trip form, so reading a
//! written report gives back the same bits.
//!
//! Reading maps columns by header name: columns may come in any order, unknown columns are
//! ignored (a newer actprof may add some), columns added after the first release
//! ([`OPTIONAL_COLUMNS`], such as `max_lsb_error`) may be missing and read as empty, a
//! UTF-8 byte-order mark is skipped, and text
//! fields keep their spaces (numbers may be padded). Every
//! refusal names the source, the data row (1-based, header excluded), its line in the file
//! and the column.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use super::row::{COLUMNS, OPTIONAL_COLUMNS, Row};
use crate::csv_dialect::Dialect;
use crate::csv_lines::LineIndex;
use crate::kernels::Activation;
use crate::kernels::int8::DType;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot open the report ({path})")]
    Open { path: String, source: io::Error },

    #[error("cannot read the report ({path})")]
    Read { path: String, source: io::Error },

    #[error("cannot write the report ({path})")]
    Write { path: String, source: io::Error },

    #[error("the report is empty: expected a header line naming the columns ({path})")]
    Empty { path: String },

    #[error(
        "not an actprof report: the header names none of its columns (found {found}; \
         expected activation, params, …, median_ns, …) ({path})"
    )]
    NotAReport { path: String, found: String },

    #[error(
        "the report lacks column(s) {}: was it written by `actprof bench`? ({path})",
        .columns.join(", ")
    )]
    MissingColumns { path: String, columns: Vec<String> },

    #[error("column {column} appears twice in the header ({path})")]
    DuplicateColumn { path: String, column: String },

    #[error("the report has a header but no data rows ({path})")]
    NoRows { path: String },

    #[error("{at}: {message} ({path})")]
    Malformed {
        path: String,
        at: Position,
        message: String,
    },

    #[error("{at}, column {column}: `{value}` {problem} ({path})")]
    BadValue {
        path: String,
        at: Position,
        column: &'static str,
        value: String,
        problem: Problem,
    },
}

/// Where in a report a bad record sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// 1-based data row (the header is not counted); 0 is the header itself.
    pub row: u64,
    /// 1-based line in the file.
    pub line: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.row == 0 {
            write!(f, "header (line {})", self.line)
        } else {
            write!(f, "row {} (line {})", self.row, self.line)
        }
    }
}

/// What is wrong with one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is not a number")]
    NotANumber,
    #[error("is not a whole number ≥ 0")]
    NotACount,
    #[error("is not a time: times must be finite and > 0 ns")]
    NotATime,
    #[error("is not a spread: spreads must be finite and ≥ 0 ns")]
    NotASpread,
    #[error("is not an error size: errors must be ≥ 0 (inf allowed, NaN not)")]
    NotAnErrorSize,
    #[error("is not a rate: rates must be finite and > 0")]
    NotARate,
    #[error("is empty but must name something")]
    Blank,
    #[error("is not a share: shares must be within [0, 1]")]
    NotAShare,
    #[error("is not an element type (f32, i8 or u8)")]
    NotADType,
    #[error(
        "is not an activation (relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh, silu or swish)"
    )]
    NotAnActivation,
}

/// Writes the header and `rows` as CSV to `writer`.
pub fn write_rows<W: Write>(writer: W, rows: &[Row]) -> Result<(), ReportError> {
    write_named(writer, rows, "output stream")
}

/// Writes `rows` to a new file at `path`, replacing any file there.
pub fn write_file(path: &Path, rows: &[Row]) -> Result<(), ReportError> {
    let name = path.display().to_string();
    let file = File::create(path).map_err(|source| ReportError::Write {
        path: name.clone(),
        source,
    })?;
    write_named(BufWriter::new(file), rows, &name)
}

/// [`write_rows`] with `path` naming the destination in errors.
fn write_named<W: Write>(writer: W, rows: &[Row], path: &str) -> Result<(), ReportError> {
    let mut csv_writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(writer);
    let to_write_error = |error: ::csv::Error| ReportError::Write {
        path: path.to_owned(),
        source: io::Error::other(error),
    };

    if rows.is_empty() {
        // serde writes the header with the first row; an empty report still gets one.
        csv_writer.write_record(COLUMNS).map_err(to_write_error)?;
    }
    for row in rows {
        csv_writer.serialize(row).map_err(to_write_error)?;
    }
    csv_writer.flush().map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Reads the rows of a report; `path` names the source in errors.
pub fn read_rows<R: Read>(mut reader: R, path: &str) -> Result<Vec<Row>, ReportError> {
    // Reports are small; held in memory, every error gets its exact line.
    let mut text = Vec::new();
    reader
        .read_to_end(&mut text)
        .map_err(|source| ReportError::Read {
            path: path.to_owned(),
            source,
        })?;
    let mut lines = LineIndex::new(&text);
    let dialect = Dialect::sniff(&text);
    let mut csv_reader = ::csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter())
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::Headers)
        .from_reader(text.as_slice());
    let mut records = csv_reader.records();

    let header = match records.next() {
        None => {
            return Err(ReportError::Empty {
                path: path.to_owned(),
            });
        }
        Some(header) => header.map_err(|error| malformed(path, 0, &mut lines, &error))?,
    };
    if header.iter().all(str::is_empty) {
        return Err(ReportError::Empty {
            path: path.to_owned(),
        });
    }
    let columns = ColumnMap::from_header(&header, path)?;

    let mut rows = Vec::new();
    for (index, record) in records.enumerate() {
        let row_number = index as u64 + 1;
        let record = record.map_err(|error| malformed(path, row_number, &mut lines, &error))?;
        let at = Position {
            row: row_number,
            line: lines.line(record.position()),
        };
        if record.len() != header.len() {
            return Err(ReportError::Malformed {
                path: path.to_owned(),
                at,
                message: format!(
                    "has {} fields but the header has {}",
                    record.len(),
                    header.len()
                ),
            });
        }
        let fields = Fields {
            record: &record,
            dialect,
            columns: &columns,
            at,
            path,
        };
        rows.push(fields.to_row()?);
    }

    if rows.is_empty() {
        return Err(ReportError::NoRows {
            path: path.to_owned(),
        });
    }
    Ok(rows)
}

/// Reads the report at `path`.
pub fn read_file(path: &Path) -> Result<Vec<Row>, ReportError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| ReportError::Open {
        path: name.clone(),
        source,
    })?;
    read_rows(io::BufReader::new(file), &name)
}

/// The error for a record that could not be read: a failed read of the file, or a
/// malformed record at data row `row` (0: the header), placed by `lines`.
pub(super) fn malformed(
    path: &str,
    row: u64,
    lines: &mut LineIndex<'_>,
    error: &::csv::Error,
) -> ReportError {
    let line = lines.line(error.position());
    let message = match error.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
        // A failed read (a directory, a disk error) is about the file, not a row.
        ::csv::ErrorKind::Io(io_error) => {
            return ReportError::Read {
                path: path.to_owned(),
                source: io::Error::new(io_error.kind(), io_error.to_string()),
            };
        }
        _ => error.to_string(),
    };
    ReportError::Malformed {
        path: path.to_owned(),
        at: Position { row, line },
        message,
    }
}

/// Where each of our columns sits in a file's header.
struct ColumnMap {
    index: [usize; COLUMNS.len()],
}

impl ColumnMap {
    fn from_header(header: &::csv::StringRecord, path: &str) -> Result<ColumnMap, ReportError> {
        let mut index = [usize::MAX; COLUMNS.len()];
        for (position, name) in header.iter().enumerate() {
            let Some(column) = COLUMNS.iter().position(|c| *c == name) else {
                continue;
            };
            if index[column] != usize::MAX {
                return Err(ReportError::DuplicateColumn {
                    path: path.to_owned(),
                    column: name.to_owned(),
                });
            }
            index[column] = position;
        }

        let missing: Vec<String> = COLUMNS
            .iter()
            .zip(index)
            .filter(|(name, position)| *position == usize::MAX && !OPTIONAL_COLUMNS.contains(name))
            .map(|(name, _)| (*name).to_owned())
            .collect();
        if index.iter().all(|&position| position == usize::MAX) {
            let found: Vec<&str> = header.iter().take(5).collect();
            return Err(ReportError::NotAReport {
                path: path.to_owned(),
                found: found.join(","),
            });
        }
        if !missing.is_empty() {
            return Err(ReportError::MissingColumns {
                path: path.to_owned(),
                columns: missing,
            });
        }
        Ok(ColumnMap { index })
    }
}

/// One data record being turned into a [`Row`].
struct Fields<'a> {
    record: &'a ::csv::StringRecord,
    dialect: Dialect,
    columns: &'a ColumnMap,
    at: Position,
    path: &'a str,
}

impl Fields<'_> {
    fn text(&self, column: &'static str) -> &str {
        let slot = COLUMNS
            .iter()
            .position(|c| *c == column)
            .expect("a known column");
        self.record.get(self.columns.index[slot]).unwrap_or("")
    }

    fn refuse(&self, column: &'static str, problem: Problem) -> ReportError {
        ReportError::BadValue {
            path: self.path.to_owned(),
            at: self.at,
            column,
            value: self.text(column).to_owned(),
            problem,
        }
    }

    fn name(&self, column: &'static str) -> Result<String, ReportError> {
        let text = self.text(column);
        if text.is_empty() {
            return Err(self.refuse(column, Problem::Blank));
        }
        Ok(text.to_owned())
    }

    fn count(&self, column: &'static str) -> Result<u64, ReportError> {
        self.text(column)
            .trim()
            .parse()
            .map_err(|_| self.refuse(column, Problem::NotACount))
    }

    fn number(&self, column: &'static str) -> Result<f64, ReportError> {
        self.dialect
            .parse_f64(self.text(column))
            .map_err(|_| self.refuse(column, Problem::NotANumber))
    }

    fn checked(
        &self,
        column: &'static str,
        valid: fn(f64) -> bool,
        problem: Problem,
    ) -> Result<f64, ReportError> {
        let value = self.number(column)?;
        if valid(value) {
            Ok(value)
        } else {
            Err(self.refuse(column, problem))
        }
    }

    /// A per-call time: finite and positive.
    fn time(&self, column: &'static str) -> Result<f64, ReportError> {
        self.checked(column, |v| v.is_finite() && v > 0.0, Problem::NotATime)
    }

    fn spread(&self, column: &'static str) -> Result<f64, ReportError> {
        self.checked(column, |v| v.is_finite() && v >= 0.0, Problem::NotASpread)
    }

    fn rate(&self, column: &'static str) -> Result<f64, ReportError> {
        self.checked(column, |v| v.is_finite() && v > 0.0, Problem::NotARate)
    }

    fn error_size(&self, column: &'static str) -> Result<f64, ReportError> {
        // An infinite error is a real (bad) measurement; NaN would hide one.
        self.checked(column, |v| v >= 0.0, Problem::NotAnErrorSize)
    }

    /// An optional code count: empty gives `None`.
    fn optional_count(&self, column: &'static str) -> Result<Option<u32>, ReportError> {
        let text = self.text(column).trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| self.refuse(column, Problem::NotACount))
    }

    /// Optional text: empty gives `None`.
    fn optional_text(&self, column: &'static str) -> Option<String> {
        let text = self.text(column).trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// An optional finite number: empty gives `None`. Energies may be negative (a run
    /// below the idle baseline, within noise), so only finiteness is checked.
    fn optional_number(&self, column: &'static str) -> Result<Option<f64>, ReportError> {
        if self.text(column).trim().is_empty() {
            return Ok(None);
        }
        self.checked(column, f64::is_finite, Problem::NotANumber)
            .map(Some)
    }

    /// An optional share in [0, 1]: empty gives `None`.
    fn optional_share(&self, column: &'static str) -> Result<Option<f64>, ReportError> {
        if self.text(column).trim().is_empty() {
            return Ok(None);
        }
        self.checked(column, |v| (0.0..=1.0).contains(&v), Problem::NotAShare)
            .map(Some)
    }

    /// A known activation name (its parameters are in their own column).
    fn activation(&self) -> Result<String, ReportError> {
        let name = self.name("activation")?;
        Activation::from_name_and_params(&name, "")
            .map_err(|_| self.refuse("activation", Problem::NotAnActivation))?;
        Ok(name)
    }

    fn dtype(&self) -> Result<String, ReportError> {
        let name = self.name("dtype")?;
        name.parse::<DType>()
            .map_err(|_| self.refuse("dtype", Problem::NotADType))?;
        Ok(name)
    }

    fn to_row(&self) -> Result<Row, ReportError> {
        Ok(Row {
            activation: self.activation()?,
            params: self.text("params").to_owned(),
            dtype: self.dtype()?,
            elements: self.count("elements")?,
            threads: u32::try_from(self.count("threads")?)
                .map_err(|_| self.refuse("threads", Problem::NotACount))?,
            threads_used: self.optional_count("threads_used")?,
            target: self.name("target")?,
            samples: self.count("samples")?,
            iterations_per_sample: self.count("iterations_per_sample")?,
            median_ns: self.time("median_ns")?,
            mean_ns: self.time("mean_ns")?,
            stddev_ns: self.spread("stddev_ns")?,
            mad_ns: self.spread("mad_ns")?,
            min_ns: self.time("min_ns")?,
            p5_ns: self.time("p5_ns")?,
            p95_ns: self.time("p95_ns")?,
            p99_ns: self.time("p99_ns")?,
            ci95_low_ns: self.time("ci95_low_ns")?,
            ci95_high_ns: self.time("ci95_high_ns")?,
            outliers_mild: self.count("outliers_mild")?,
            outliers_severe: self.count("outliers_severe")?,
            ns_per_element: self.rate("ns_per_element")?,
            gelem_per_s: self.rate("gelem_per_s")?,
            max_ulp_error: self.error_size("max_ulp_error")?,
            max_abs_error: self.error_size("max_abs_error")?,
            max_lsb_error: self.optional_count("max_lsb_error")?,
            host_cpu: self.text("host_cpu").to_owned(),
            host_os: self.text("host_os").to_owned(),
            governor: self.text("governor").to_owned(),
            kernel_isa: self.text("kernel_isa").to_owned(),
            seed: self.count("seed")?,
            actprof_version: self.text("actprof_version").to_owned(),
            started_at_utc: self.text("started_at_utc").to_owned(),
            power_source: self.optional_text("power_source"),
            avg_power_w: self.optional_number("avg_power_w")?,
            idle_power_w: self.optional_number("idle_power_w")?,
            energy_per_call_nj: self.optional_number("energy_per_call_nj")?,
            energy_per_element_pj: self.optional_number("energy_per_element_pj")?,
            energy_ci95_low_nj: self.optional_number("energy_ci95_low_nj")?,
            energy_ci95_high_nj: self.optional_number("energy_ci95_high_nj")?,
            power_samples: self.optional_count("power_samples")?.map(u64::from),
            timing: self.optional_text("timing"),
            median_cycles_per_call: self.optional_number("median_cycles_per_call")?,
            model: self.optional_text("model"),
            batch: self.optional_count("batch")?.map(u64::from),
            activation_share: self.optional_share("activation_share")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_dialect::resaved_by_spreadsheet;

    const HEADER: &str = concat!(
        "activation,params,dtype,elements,threads,threads_used,target,samples,",
        "iterations_per_sample,",
        "median_ns,mean_ns,stddev_ns,mad_ns,min_ns,p5_ns,p95_ns,p99_ns,ci95_low_ns,ci95_high_ns,",
        "outliers_mild,outliers_severe,ns_per_element,gelem_per_s,max_ulp_error,max_abs_error,",
        "max_lsb_error,host_cpu,host_os,governor,kernel_isa,seed,actprof_version,started_at_utc,",
        "power_source,avg_power_w,idle_power_w,energy_per_call_nj,energy_per_element_pj,",
        "energy_ci95_low_nj,energy_ci95_high_nj,power_samples,timing,median_cycles_per_call,",
        "model,batch,activation_share"
    );

    /// A row whose every field is chosen to show one formatting rule.
    fn sample_row() -> Row {
        Row {
            activation: "leaky_relu".to_owned(),
            params: "alpha=0.2".to_owned(),
            dtype: "f32".to_owned(),
            elements: 4096,
            threads: 1,
            threads_used: Some(1),
            target: "local".to_owned(),
            samples: 120,
            iterations_per_sample: 256,
            median_ns: 1234.5,
            mean_ns: 1240.25,
            stddev_ns: 0.0,
            mad_ns: 3.125,
            min_ns: 1200.0,
            p5_ns: 1210.0,
            p95_ns: 1300.0,
            p99_ns: 1350.0,
            ci95_low_ns: 1230.0,
            ci95_high_ns: 1239.0,
            outliers_mild: 4,
            outliers_severe: 0,
            ns_per_element: 0.1,
            gelem_per_s: 3.3179723502304146,
            max_ulp_error: 1.0,
            max_abs_error: 5.960464477539063e-8,
            max_lsb_error: None,
            host_cpu: "Xeon, 2 cores".to_owned(),
            host_os: "Linux 6.1.0".to_owned(),
            governor: String::new(),
            kernel_isa: "avx2+fma".to_owned(),
            seed: 42,
            actprof_version: "0.1.0".to_owned(),
            started_at_utc: "2026-12-03T19:00:00Z".to_owned(),
            power_source: None,
            avg_power_w: None,
            idle_power_w: None,
            energy_per_call_nj: None,
            energy_per_element_pj: None,
            energy_ci95_low_nj: None,
            energy_ci95_high_nj: None,
            power_samples: None,
            timing: None,
            median_cycles_per_call: None,
            model: None,
            batch: None,
            activation_share: None,
        }
    }

    fn written(rows: &[Row]) -> String {
        let mut bytes = Vec::new();
        write_rows(&mut bytes, rows).expect("writing to memory works");
        String::from_utf8(bytes).expect("reports are UTF-8")
    }

    fn read(text: &str) -> Result<Vec<Row>, ReportError> {
        read_rows(text.as_bytes(), "test.csv")
    }

    /// The written sample row with column `column` set to `value`.
    fn with_field(column: &str, value: &str) -> String {
        let slot = COLUMNS
            .iter()
            .position(|c| *c == column)
            .expect("known column");
        let text = written(&[sample_row()]);
        let line = text.lines().nth(1).expect("one data row");
        let mut record = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .records()
            .next()
            .expect("a record")
            .expect("valid csv");
        let mut fields: Vec<String> = record.iter().map(str::to_owned).collect();
        fields[slot] = value.to_owned();
        record = fields.into_iter().collect();
        let mut writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        writer.write_record(&record).expect("in memory");
        let row = String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8");
        format!("{HEADER}\n{row}")
    }

    #[test]
    fn header_line_is_pinned() {
        assert_eq!(COLUMNS.join(","), HEADER);
        assert!(written(&[]).starts_with(&format!("{HEADER}\n")));
        assert_eq!(written(&[sample_row()]).lines().next(), Some(HEADER));
    }

    #[test]
    fn one_row_is_written_exactly() {
        let expected_row = concat!(
            "leaky_relu,alpha=0.2,f32,4096,1,1,local,120,256,",
            "1234.5,1240.25,0.0,3.125,1200.0,1210.0,1300.0,1350.0,1230.0,1239.0,",
            "4,0,0.1,3.3179723502304146,1.0,5.960464477539063e-8,,",
            "\"Xeon, 2 cores\",Linux 6.1.0,,avx2+fma,42,0.1.0,2026-12-03T19:00:00Z,",
            ",,,,,,,,,,,,"
        );
        assert_eq!(
            written(&[sample_row()]),
            format!("{HEADER}\n{expected_row}\n")
        );
    }

    #[test]
    fn an_int8_row_is_written_exactly() {
        let mut row = sample_row();
        row.dtype = "i8".to_owned();
        row.params = "alpha=0.2;in_scale=0.0625;in_zp=0;out_scale=0.0625;out_zp=0".to_owned();
        row.max_lsb_error = Some(1);
        let expected_row = concat!(
            "leaky_relu,alpha=0.2;in_scale=0.0625;in_zp=0;out_scale=0.0625;out_zp=0,i8,",
            "4096,1,1,local,120,256,",
            "1234.5,1240.25,0.0,3.125,1200.0,1210.0,1300.0,1350.0,1230.0,1239.0,",
            "4,0,0.1,3.3179723502304146,1.0,5.960464477539063e-8,1,",
            "\"Xeon, 2 cores\",Linux 6.1.0,,avx2+fma,42,0.1.0,2026-12-03T19:00:00Z,",
            ",,,,,,,,,,,,"
        );
        let text = written(std::slice::from_ref(&row));
        assert_eq!(text, format!("{HEADER}\n{expected_row}\n"));
        assert_eq!(read(&text).expect("reads back"), [row]);
    }

    #[test]
    fn a_row_with_energy_is_written_exactly_and_reads_back() {
        let mut row = sample_row();
        row.power_source = Some("rapl:package-0".to_owned());
        row.avg_power_w = Some(12.5);
        row.idle_power_w = Some(4.25);
        row.energy_per_call_nj = Some(-3.5);
        row.energy_per_element_pj = Some(0.125);
        row.energy_ci95_low_nj = Some(-10.0);
        row.energy_ci95_high_nj = Some(3.0);
        row.power_samples = Some(22);
        let text = written(std::slice::from_ref(&row));
        let line = text.lines().nth(1).expect("a data row");
        assert!(
            line.ends_with(
                "2026-12-03T19:00:00Z,rapl:package-0,12.5,4.25,-3.5,0.125,-10.0,3.0,22,,,,,"
            ),
            "{line}"
        );
        assert_eq!(read(&text).expect("reads back"), [row]);

        let bad = with_field("avg_power_w", "NaN");
        let error = read(&bad).expect_err("NaN power");
        assert!(error.to_string().contains("avg_power_w"), "{error}");
    }

    #[test]
    fn a_model_row_is_written_exactly_and_reads_back() {
        let mut row = sample_row();
        row.model = Some("kws-dscnn".to_owned());
        row.batch = Some(4);
        row.activation_share = Some(0.125);
        let text = written(std::slice::from_ref(&row));
        let line = text.lines().nth(1).expect("a data row");
        assert!(line.ends_with(",,,,kws-dscnn,4,0.125"), "{line}");
        assert_eq!(read(&text).expect("reads back"), [row]);

        for value in ["1.5", "-0.1", "NaN"] {
            let error = read(&with_field("activation_share", value)).expect_err(value);
            assert!(
                matches!(
                    &error,
                    ReportError::BadValue {
                        problem: Problem::NotAShare,
                        ..
                    }
                ),
                "{value}: {error:?}"
            );
        }
        let error = read(&with_field("batch", "2.5")).expect_err("fractional batch");
        assert!(error.to_string().contains("column batch"), "{error}");
    }

    #[test]
    fn reports_without_the_model_columns_read_with_them_empty() {
        // A report of the version before the model columns: drop the last three.
        let header = HEADER
            .strip_suffix(",model,batch,activation_share")
            .expect("the model columns come last");
        let text = written(&[sample_row()]);
        let row_line = text.lines().nth(1).expect("a data row");
        let old_row = row_line.strip_suffix(",,,").expect("three empty fields");
        let rows = read(&format!("{header}\n{old_row}\n")).expect("older report reads");
        assert_eq!(rows, [sample_row()]);
    }

    #[test]
    fn a_board_row_keeps_its_timing_and_cycles() {
        let mut row = sample_row();
        row.target = "board:qemu-mps2-an386 actprof-fw/0.1.0".to_owned();
        row.timing = Some("QEMU instruction count, not real-chip cycles".to_owned());
        row.median_cycles_per_call = Some(1520.5);
        let text = written(std::slice::from_ref(&row));
        let line = text.lines().nth(1).expect("a data row");
        assert!(
            // Quoted: the label holds a comma.
            line.ends_with(",\"QEMU instruction count, not real-chip cycles\",1520.5,,,"),
            "{line}"
        );
        assert_eq!(read(&text).expect("reads back"), [row]);
    }

    #[test]
    fn reports_without_the_lsb_column_read_with_it_empty() {
        // The header and row of a report written before `max_lsb_error` and the energy
        // columns existed.
        let old_header = HEADER
            .replace("max_lsb_error,", "")
            .split(",power_source")
            .next()
            .expect("the older columns")
            .to_owned();
        let text = written(&[sample_row()]);
        let row_line = text.lines().nth(1).expect("a data row");
        let old_row = row_line
            .replace("5.960464477539063e-8,,", "5.960464477539063e-8,")
            .trim_end_matches(',')
            .to_owned();
        let rows = read(&format!("{old_header}\n{old_row}\n")).expect("older report reads");
        assert_eq!(rows, [sample_row()]);

        let bad = with_field("max_lsb_error", "1.5");
        let error = read(&bad).expect_err("a fractional LSB count");
        assert!(error.to_string().contains("max_lsb_error"), "{error}");
        assert!(error.to_string().contains("row 1"), "{error}");
    }

    #[test]
    fn reports_without_threads_used_read_with_it_empty() {
        let old_header = HEADER.replace("threads_used,", "");
        let text = written(&[sample_row()]);
        let row_line = text.lines().nth(1).expect("a data row");
        let old_row = row_line.replacen(",4096,1,1,local,", ",4096,1,local,", 1);
        let rows = read(&format!("{old_header}\n{old_row}\n")).expect("older report reads");
        let expected = Row {
            threads_used: None,
            ..sample_row()
        };
        assert_eq!(rows, [expected]);

        let error = read(&with_field("threads_used", "two")).expect_err("not a count");
        assert!(error.to_string().contains("threads_used"), "{error}");
    }

    #[test]
    fn write_then_read_gives_the_same_rows() {
        let mut second = sample_row();
        second.activation = "sigmoid".to_owned();
        second.params = String::new();
        // Values whose decimal forms are long or need an exponent must survive exactly.
        second.median_ns = 0.1 + 0.2;
        second.ns_per_element = 1.0 / 3.0;
        second.gelem_per_s = 1e300;
        second.max_ulp_error = f64::INFINITY;
        second.host_cpu = " quote \" and\nnewline ".to_owned();
        let rows = vec![sample_row(), second];

        assert_eq!(read(&written(&rows)).expect("own output reads back"), rows);
    }

    #[test]
    fn file_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.csv");
        write_file(&path, &[sample_row()]).expect("write");
        assert_eq!(read_file(&path).expect("read"), [sample_row()]);

        let missing = dir.path().join("absent.csv");
        let error = read_file(&missing).expect_err("no such file");
        assert!(matches!(error, ReportError::Open { .. }));
        assert!(
            error
                .to_string()
                .ends_with(&format!("({})", missing.display())),
            "{error}"
        );
    }

    #[test]
    fn columns_are_mapped_by_name_and_extras_ignored() {
        let text = written(&[sample_row()]);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().expect("header").clone();
        let record = reader.records().next().expect("row").expect("valid");
        // Reverse the columns and add an unknown one in the middle.
        let mut names: Vec<&str> = header.iter().rev().collect();
        let mut values: Vec<&str> = record.iter().rev().collect();
        names.insert(3, "energy_uj");
        values.insert(3, "17");
        let quote = |s: &&str| {
            if s.contains(',') {
                format!("\"{s}\"")
            } else {
                (*s).to_owned()
            }
        };
        let shuffled = format!(
            "{}\r\n{}\r\n",
            names.iter().map(quote).collect::<Vec<_>>().join(","),
            values.iter().map(quote).collect::<Vec<_>>().join(",")
        );

        assert_eq!(
            read(&shuffled).expect("reordered report reads"),
            [sample_row()]
        );
    }

    #[test]
    fn byte_order_mark_and_trailing_blank_lines_are_accepted() {
        let text = format!("\u{feff}{}\n\n", written(&[sample_row()]));
        assert_eq!(read(&text).expect("BOM is skipped"), [sample_row()]);
    }

    #[test]
    fn empty_input_is_refused() {
        for text in ["", "\n", "\n\n"] {
            let error = read(text).expect_err("empty");
            assert!(
                matches!(error, ReportError::Empty { .. }),
                "{text:?}: {error:?}"
            );
            assert!(error.to_string().contains("test.csv"), "{error}");
        }
    }

    #[test]
    fn a_foreign_csv_is_not_a_report() {
        let error = read("name,age\nada,36\n").expect_err("foreign");
        assert!(matches!(error, ReportError::NotAReport { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("not an actprof report"), "{message}");
        assert!(message.contains("name,age"), "{message}");
        assert!(message.contains("test.csv"), "{message}");
    }

    #[test]
    fn missing_columns_are_listed_by_name() {
        let text = written(&[sample_row()]);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().expect("header").clone();
        let record = reader.records().next().expect("row").expect("valid");
        let dropped = ["median_ns", "seed"];
        let keep: Vec<usize> = (0..header.len())
            .filter(|&i| !dropped.contains(&&header[i]))
            .collect();
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        writer
            .write_record(keep.iter().map(|&i| &header[i]))
            .expect("in memory");
        writer
            .write_record(keep.iter().map(|&i| &record[i]))
            .expect("in memory");
        let text = String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8");

        let error = read(&text).expect_err("columns missing");
        match &error {
            ReportError::MissingColumns { columns, .. } => assert_eq!(columns, &dropped),
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains("median_ns, seed"), "{error}");
    }

    #[test]
    fn a_bad_number_names_row_line_and_column() {
        let mut text = written(&[sample_row(), sample_row()]);
        text.push_str(with_field("median_ns", "abc").lines().nth(1).expect("row"));
        text.push('\n');

        let error = read(&text).expect_err("abc");
        let at = Position { row: 3, line: 4 };
        assert!(
            matches!(
                &error,
                ReportError::BadValue {
                    at: a, column: "median_ns", problem: Problem::NotANumber, ..
                } if *a == at
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "row 3 (line 4), column median_ns: `abc` is not a number (test.csv)"
        );
    }

    #[test]
    fn crlf_and_blank_lines_do_not_shift_the_line_named() {
        let mut text = written(&[sample_row()]);
        text.push('\n');
        text.push_str(with_field("median_ns", "abc").lines().nth(1).expect("row"));
        text.push('\n');
        for ending in ["\n", "\r\n"] {
            let error = read(&text.replace('\n', ending)).expect_err("abc");
            assert!(
                error
                    .to_string()
                    .starts_with("row 2 (line 4), column median_ns:"),
                "{ending:?}: {error}"
            );
        }
    }

    #[test]
    fn a_report_resaved_by_a_spreadsheet_in_any_locale_reads_back_the_same() {
        let text = written(&[sample_row()]);
        for (delimiter, decimal_comma) in [(b';', true), (b';', false), (b'\t', true)] {
            let resaved = resaved_by_spreadsheet(&text, delimiter, decimal_comma);
            assert!(resaved.contains("1234,5") == decimal_comma, "{resaved}");
            let rows = read(&resaved).expect("reads");
            assert_eq!(rows, [sample_row()], "{resaved}");
        }
        // With commas between fields a decimal comma cannot be told from a separator.
        let error = read(&with_field("median_ns", "1234,5")).expect_err("refused");
        assert!(
            error.to_string().contains("`1234,5` is not a number"),
            "{error}"
        );
        // A thousands mark is not guessed at.
        let german = resaved_by_spreadsheet(&text, b';', true).replace("1234,5", "1.234,5");
        let error = read(&german).expect_err("refused");
        assert!(
            error.to_string().contains("`1.234,5` is not a number"),
            "{error}"
        );
    }

    #[test]
    fn times_must_be_positive_and_finite() {
        for value in ["NaN", "-5", "0", "inf", "-inf"] {
            let error = read(&with_field("ci95_low_ns", value)).expect_err(value);
            assert_eq!(
                error.to_string(),
                format!(
                    "row 1 (line 2), column ci95_low_ns: `{value}` is not a time: times must \
                     be finite and > 0 ns (test.csv)"
                )
            );
        }
    }

    #[test]
    fn other_columns_check_their_own_kind() {
        let cases = [
            ("stddev_ns", "-1", Problem::NotASpread),
            ("mad_ns", "NaN", Problem::NotASpread),
            ("gelem_per_s", "0", Problem::NotARate),
            ("max_ulp_error", "NaN", Problem::NotAnErrorSize),
            ("max_abs_error", "-0.5", Problem::NotAnErrorSize),
            ("elements", "1.5", Problem::NotACount),
            ("threads", "-1", Problem::NotACount),
            ("threads", "4294967296", Problem::NotACount),
            ("seed", "", Problem::NotACount),
            ("activation", "", Problem::Blank),
            ("activation", "softmax", Problem::NotAnActivation),
            ("activation", "Relu", Problem::NotAnActivation),
            ("dtype", "f33", Problem::NotADType),
            ("dtype", "float32", Problem::NotADType),
        ];
        for (column, value, problem) in cases {
            let error = read(&with_field(column, value)).expect_err(column);
            assert!(
                matches!(&error, ReportError::BadValue { column: c, problem: p, .. }
                    if *c == column && *p == problem),
                "{column}={value}: {error:?}"
            );
        }
        // An infinite error is a measurement, not a format error.
        assert!(read(&with_field("max_ulp_error", "inf")).is_ok());
    }

    #[test]
    fn a_short_record_names_its_row() {
        let text = format!("{}leaky_relu,alpha=0.2\n", written(&[sample_row()]));
        let error = read(&text).expect_err("short");
        assert_eq!(
            error.to_string(),
            "row 2 (line 3): has 2 fields but the header has 46 (test.csv)"
        );
    }

    #[test]
    fn header_without_rows_and_duplicate_columns_are_refused() {
        let error = read(&written(&[])).expect_err("no rows");
        assert!(matches!(error, ReportError::NoRows { .. }), "{error:?}");

        let text = format!("{HEADER},seed\n");
        let error = read(&text).expect_err("seed twice");
        assert!(matches!(&error, ReportError::DuplicateColumn { column, .. } if column == "seed"));
    }

    #[test]
    fn every_activation_and_dtype_name_reads_back() {
        for name in Activation::DEFAULT_SET.map(|activation| activation.name()) {
            assert!(read(&with_field("activation", name)).is_ok(), "{name}");
        }
        assert!(read(&with_field("activation", "swish")).is_ok());
        for dtype in ["f32", "i8", "u8"] {
            assert!(read(&with_field("dtype", dtype)).is_ok(), "{dtype}");
        }
    }

    #[test]
    fn a_directory_is_a_read_error_not_a_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = read_file(dir.path()).expect_err("a directory");
        assert!(matches!(error, ReportError::Read { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("cannot read the report ({})", dir.path().display())
        );
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_row() {
        let mut bytes = written(&[sample_row()]).into_bytes();
        bytes.extend_from_slice(b"relu,\xff\n");
        let error = read_rows(bytes.as_slice(), "test.csv").expect_err("not UTF-8");
        assert!(
            error
                .to_string()
                .starts_with("row 2 (line 3): is not valid UTF-8"),
            "{error}"
        );
    }
}
