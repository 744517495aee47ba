//! Imports of power recordings made by other tools, into the trace the Power tab and the
//! energy tools use: [`PowerSample`]s on a time axis starting at 0 s, and the
//! [`SourceInfo`] that says what they measure.
//!
//! One file per format: [`ppk2`] (the nRF Connect Power Profiler app's CSV export),
//! [`joulescope`] (the Joulescope UI's statistics CSV), [`rd_usb`] (rd-usb's CSV export
//! of RDTech meters) and [`actprof`] (actprof's own trace CSV, from `record --out`,
//! `import --out` or a session's `trace.csv`). [`detect`] tells them apart by their
//! header.
//!
//! # Rules shared by every format
//!
//! - Files are streamed through the `csv` crate's reader, one reused record at a time;
//!   nothing is loaded whole, so the size of a file bounds nothing but the samples kept.
//! - Columns are found by their header names, so exports with columns left out or
//!   reordered read the same.
//! - A row whose needed field is `NaN`, `nan` or empty (a dropped sample; Joulescope
//!   writes NaN for missing data) is skipped and counted; the samples around it are kept
//!   and the energy tools list the hole as a gap. Any other field that is not a number
//!   stops the import with an error naming the file, row and column.
//! - Time going backwards (pyjoulescope_ui#291: a statistics CSV whose time falls back
//!   after 5450.91 s) is flagged, each jump listed in [`ImportSummary::time_jumps`], and
//!   the rest of the file is placed after the last sample, one typical sample spacing
//!   later, so the time axis stays monotonic and every row keeps its spacing.
//! - Times start at 0 s at the first kept row; `SourceInfo::clock_offset_s` holds the
//!   offset from the file's own time.
//! - The resolution is the step of the power as the file prints it (the finest seen),
//!   not the instrument's.

pub mod actprof;
pub mod joulescope;
pub mod ppk2;
pub mod rd_usb;
mod table;
mod time_axis;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::csv_dialect::Dialect;
use crate::power::{PowerSample, Quantity, Resolution, SourceInfo};
use table::Reader;

pub use crate::power::meters::text::printed_step;
pub use time_axis::TimeJump;

/// Bytes of the first line read to detect a format.
const DETECT_BYTES: u64 = 4096;

/// Rates below this (Hz) cannot resolve single runs: the trace is marked coarse.
pub const COARSE_BELOW_HZ: f64 = 10.0;

/// Jumps kept in the summary; more are only counted.
pub const MAX_LISTED_JUMPS: usize = 100;

/// A foreign (or own) recording format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// nRF Connect Power Profiler CSV export (`Timestamp(ms),Current(uA),…`).
    Ppk2,
    /// Joulescope UI statistics CSV (`#time,current,voltage,power,charge,energy`).
    Joulescope,
    /// rd-usb CSV export (`Time,Voltage (V),Current (A),Power (W),…`).
    RdUsb,
    /// actprof's own trace CSV (`time_s,power_w,…`).
    Actprof,
}

impl ImportFormat {
    /// Every format.
    pub const ALL: [ImportFormat; 4] = [
        ImportFormat::Joulescope,
        ImportFormat::Ppk2,
        ImportFormat::RdUsb,
        ImportFormat::Actprof,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Ppk2 => "ppk2",
            ImportFormat::Joulescope => "joulescope",
            ImportFormat::RdUsb => "rd-usb",
            ImportFormat::Actprof => "actprof",
        }
    }

    /// What the format is, for people.
    pub fn title(self) -> &'static str {
        match self {
            ImportFormat::Ppk2 => "nRF Connect Power Profiler CSV export",
            ImportFormat::Joulescope => "Joulescope statistics CSV",
            ImportFormat::RdUsb => "rd-usb CSV export",
            ImportFormat::Actprof => "actprof trace CSV",
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ImportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<ImportFormat, String> {
        ImportFormat::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                format!("unknown trace format `{text}`; known: ppk2, joulescope, rd-usb, actprof")
            })
    }
}

/// What the caller knows that the file does not say.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ImportOptions {
    /// Supply voltage in V, for formats that record current only (the PPK2 export).
    pub voltage_v: Option<f64>,
    /// Most samples to keep; a longer file is refused (the GUI holds every sample).
    pub max_samples: Option<u64>,
}

/// What an import read and what it made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSummary {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: ImportFormat,
    /// The source, as the trace view and the journal describe it.
    pub info: SourceInfo,
    /// Data rows read (header excluded).
    pub rows: u64,
    /// Samples made from them.
    pub samples: u64,
    /// Rows skipped for a NaN or empty field.
    pub skipped: u64,
    /// CSV line of the first skipped row.
    pub first_skipped_line: Option<u64>,
    /// Times the file's time went backwards (all of them, listed or not).
    pub time_jump_count: u64,
    /// The first [`MAX_LISTED_JUMPS`] of them.
    pub time_jumps: Vec<TimeJump>,
    /// First and last sample time on the trace's axis, in s.
    pub span_s: Option<(f64, f64)>,
}

/// Why a file could not be imported. Messages name the file last and, for a bad field,
/// its CSV line and column.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The header matches none of the formats.
    #[error(
        "cannot tell the format from the first line `{header}`; expected a PPK2 app \
         export (Timestamp(ms),Current(uA)), a Joulescope statistics CSV \
         (#time,current,voltage,…), an rd-usb export (Time,Voltage (V),Current (A),…) or an \
         actprof trace (time_s,power_w,…); name it with --format: {}",
        path.display()
    )]
    Unknown { header: String, path: PathBuf },

    /// The header lacks a column the format needs.
    #[error("{format} header has no `{column}` column (header: `{header}`): {}", path.display())]
    MissingColumn {
        format: ImportFormat,
        column: &'static str,
        header: String,
        path: PathBuf,
    },

    /// A current-only format and no voltage given.
    #[error(
        "{format} files record current only; give the supply voltage the DUT ran at \
         (--voltage V, or the supply voltage field in the Power tab) to get power: {}",
        path.display()
    )]
    NeedsVoltage { format: ImportFormat, path: PathBuf },

    /// A field is not what its column holds.
    #[error(
        "line {line}, column {column} (`{name}`): {reason}, found `{text}` in {}",
        path.display()
    )]
    Field {
        line: u64,
        column: usize,
        name: String,
        text: String,
        reason: &'static str,
        path: PathBuf,
    },

    /// The CSV itself is malformed (bad quoting, not UTF-8).
    #[error("line {line}: malformed CSV in {}", path.display())]
    Csv {
        line: u64,
        path: PathBuf,
        #[source]
        source: csv::Error,
    },

    /// More samples than the caller can hold.
    #[error(
        "more than {limit} samples; import it with `actprof import` and cut it first: {}",
        path.display()
    )]
    TooLong { limit: u64, path: PathBuf },

    /// No sample in the file.
    #[error(
        "no usable sample (rows read: {rows}, skipped as NaN or empty: {skipped}): {}",
        path.display()
    )]
    Empty {
        rows: u64,
        skipped: u64,
        path: PathBuf,
    },

    /// The consumer of the samples failed (e.g. writing the output file).
    #[error("cannot pass on the samples imported from {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The format of `path`, from its first line.
pub fn detect(path: &Path) -> Result<ImportFormat, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let mut first = Vec::new();
    BufReader::new(file.take(DETECT_BYTES))
        .read_until(b'\n', &mut first)
        .map_err(read_error)?;
    let header = String::from_utf8_lossy(&first);
    // A file with classic Mac OS line ends (a lone CR) reads as one line up to here.
    let header = header.split(['\r', '\n']).next().unwrap_or_default();
    let header = header.trim_start_matches('\u{feff}').trim();
    detect_header(header).ok_or_else(|| ImportError::Unknown {
        header: header.chars().take(80).collect(),
        path: path.to_owned(),
    })
}

/// The format a header line belongs to.
pub fn detect_header(header: &str) -> Option<ImportFormat> {
    let names: Vec<String> = Dialect::sniff(header.as_bytes())
        .split_header(header)
        .map(|name| name.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    if names.first().is_some_and(|n| n == "#time") && has("power")
        || names.first().is_some_and(|n| n == "#time") && has("current")
    {
        Some(ImportFormat::Joulescope)
    } else if has("timestamp(ms)") || has("current(ua)") {
        Some(ImportFormat::Ppk2)
    } else if has("voltage (v)") && has("current (a)") {
        Some(ImportFormat::RdUsb)
    } else if has("time_s") && has("power_w") {
        Some(ImportFormat::Actprof)
    } else {
        None
    }
}

/// The spec an import's source carries: `import:FORMAT:PATH`.
pub fn spec_for(format: ImportFormat, path: &Path) -> String {
    format!("import:{}:{}", format.name(), path.display())
}

/// Imports `path` in `format` (detected when `None`), handing every sample to `sink` in
/// time order; returns what was read.
pub fn import(
    path: &Path,
    format: Option<ImportFormat>,
    options: &ImportOptions,
    sink: &mut dyn FnMut(PowerSample) -> io::Result<()>,
) -> Result<ImportSummary, ImportError> {
    let format = match format {
        Some(format) => format,
        None => detect(path)?,
    };
    let read_error = |source| ImportError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let mut reader = Reader::new(file).map_err(read_error)?;
    let mut out = Output::new(path, options, sink);
    let kind = match format {
        ImportFormat::Ppk2 => ppk2::read(&mut reader, options, &mut out)?,
        ImportFormat::Joulescope => joulescope::read(&mut reader, &mut out)?,
        ImportFormat::RdUsb => rd_usb::read(&mut reader, &mut out)?,
        ImportFormat::Actprof => actprof::read(&mut reader, &mut out)?,
    };
    out.finish(format, kind)
}

/// Imports `path` into memory: the samples and the summary.
pub fn read_trace(
    path: &Path,
    format: Option<ImportFormat>,
    options: &ImportOptions,
) -> Result<(Vec<PowerSample>, ImportSummary), ImportError> {
    let mut samples = Vec::new();
    let summary = import(path, format, options, &mut |sample| {
        samples.push(sample);
        Ok(())
    })?;
    Ok((samples, summary))
}

/// What a format reader found out about the source while reading.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFacts {
    /// What the samples measure.
    pub quantity: Quantity,
    /// One line about the source, without the file name.
    pub description: String,
}

/// Collects samples from a format reader: places them on the time axis, counts, tracks
/// rate and resolution, and hands them on.
pub struct Output<'a> {
    path: &'a Path,
    max_samples: Option<u64>,
    sink: &'a mut dyn FnMut(PowerSample) -> io::Result<()>,
    axis: time_axis::TimeAxis,
    rows: u64,
    samples: u64,
    skipped: u64,
    first_skipped_line: Option<u64>,
    step_w: Option<f64>,
    span: Option<(f64, f64)>,
}

impl<'a> Output<'a> {
    fn new(
        path: &'a Path,
        options: &ImportOptions,
        sink: &'a mut dyn FnMut(PowerSample) -> io::Result<()>,
    ) -> Output<'a> {
        Output {
            path,
            max_samples: options.max_samples,
            sink,
            axis: time_axis::TimeAxis::default(),
            rows: 0,
            samples: 0,
            skipped: 0,
            first_skipped_line: None,
            step_w: None,
            span: None,
        }
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// Counts a data row.
    pub fn row(&mut self) {
        self.rows += 1;
    }

    /// Counts a row skipped for a NaN or empty field at CSV `line`.
    pub fn skip(&mut self, line: u64) {
        self.skipped += 1;
        self.first_skipped_line.get_or_insert(line);
        tracing::trace!("skipped line {line} of {}", self.path.display());
    }

    /// Notes the step of a power as printed, in W; the resolution is the finest seen
    /// (`%g` prints `2` for 2.0, which says nothing about the step).
    pub fn power_step(&mut self, step_w: f64) {
        if step_w.is_finite() && step_w > 0.0 {
            self.step_w = Some(self.step_w.map_or(step_w, |step| step.min(step_w)));
        }
    }

    /// Places a sample whose file time is `sample.t_s` and hands it on.
    pub fn sample(&mut self, line: u64, mut sample: PowerSample) -> Result<(), ImportError> {
        if self.max_samples.is_some_and(|limit| self.samples >= limit) {
            return Err(ImportError::TooLong {
                limit: self.max_samples.unwrap_or(self.samples),
                path: self.path.to_owned(),
            });
        }
        sample.t_s = self.axis.place(line, sample.t_s);
        let (first, _) = self.span.get_or_insert((sample.t_s, sample.t_s));
        self.span = Some((*first, sample.t_s));
        self.samples += 1;
        (self.sink)(sample).map_err(|source| ImportError::Write {
            path: self.path.to_owned(),
            source,
        })
    }

    fn finish(self, format: ImportFormat, kind: SourceFacts) -> Result<ImportSummary, ImportError> {
        if self.samples == 0 {
            return Err(ImportError::Empty {
                rows: self.rows,
                skipped: self.skipped,
                path: self.path.to_owned(),
            });
        }
        let rate_hz = self.axis.rate_hz().unwrap_or(0.0);
        let info = SourceInfo {
            spec: spec_for(format, self.path),
            description: format!(
                "{} imported from {}: {}",
                format.title(),
                self.path.display(),
                kind.description
            ),
            quantity: kind.quantity,
            rate_hz,
            resolution: Resolution::PowerW(self.step_w.unwrap_or(0.0)),
            coarse: rate_hz < COARSE_BELOW_HZ,
            clock_offset_s: self.axis.first_file_s().map(|first| -first),
        };
        let (time_jump_count, time_jumps) = self.axis.jumps();
        Ok(ImportSummary {
            path: self.path.to_owned(),
            format,
            info,
            rows: self.rows,
            samples: self.samples,
            skipped: self.skipped,
            first_skipped_line: self.first_skipped_line,
            time_jump_count,
            time_jumps,
            span_s: self.span,
        })
    }
}

#[cfg(test)]
mod tests;
