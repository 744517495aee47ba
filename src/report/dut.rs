//! The CSV of an MLPerf Tiny DUT latency run: one row per timed window, then one `score`
//! row. Header first, comma-separated, `.` decimals, units in the column names, so
//! `pandas.read_csv` reads it as-is; cells that do not apply to a row are empty.
//!
//! | column | meaning |
//! |---|---|
//! | `model` | the DUT's model, e.g. `ic01` |
//! | `target` | `mlperf-dut:PORT[@BAUD]`, with ` (emulated)` for actprof's emulator |
//! | `dut_name` | the DUT's `m-name-` text, e.g. `dut-[unspecified]` |
//! | `dut_profile` | its `m-profile-[…]` text |
//! | `kind` | `window` or `score` |
//! | `window` | the window's number from 1; empty on the score row |
//! | `inferences` | timed inferences per window (`infer N W`'s N) |
//! | `warmup` | warm-up inferences before them (W) |
//! | `elapsed_us` | time between the window's two `m-lap-us` stamps, µs; empty on the score row |
//! | `throughput_inf_per_s` | window: N / elapsed; score: the median over the windows |
//! | `latency_ms_per_inf` | window: elapsed / N; score: 1000 / median throughput |
//! | `min_latency_ms_per_inf` | score row: the fastest window's ms per inference |
//! | `max_latency_ms_per_inf` | score row: the slowest window's ms per inference |
//! | `deviation` | score row: each departure from MLPerf Tiny's rules, `; `-separated |
//! | `results` | window: the DUT's `m-results-[…]` values, `;`-separated |
//! | `started_at_utc` | when the run started, RFC 3339 in UTC |
//! | `actprof_version` | the version of actprof that ran it |

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::ReportError;
use crate::target::mlperf::{Score, WindowResult};

/// The columns, in order.
pub const DUT_COLUMNS: [&str; 17] = [
    "model",
    "target",
    "dut_name",
    "dut_profile",
    "kind",
    "window",
    "inferences",
    "warmup",
    "elapsed_us",
    "throughput_inf_per_s",
    "latency_ms_per_inf",
    "min_latency_ms_per_inf",
    "max_latency_ms_per_inf",
    "deviation",
    "results",
    "started_at_utc",
    "actprof_version",
];

/// One row of the DUT CSV.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DutRow {
    pub model: String,
    pub target: String,
    pub dut_name: String,
    pub dut_profile: String,
    pub kind: &'static str,
    pub window: Option<usize>,
    pub inferences: u32,
    pub warmup: u32,
    pub elapsed_us: Option<u64>,
    pub throughput_inf_per_s: f64,
    pub latency_ms_per_inf: f64,
    pub min_latency_ms_per_inf: Option<f64>,
    pub max_latency_ms_per_inf: Option<f64>,
    pub deviation: String,
    pub results: String,
    pub started_at_utc: String,
    pub actprof_version: String,
}

/// What every row of a run shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DutRun {
    /// The model.
    pub model: String,
    /// The `target` column.
    pub target: String,
    /// The DUT's name.
    pub dut_name: String,
    /// The DUT's profile text.
    pub dut_profile: String,
    /// RFC 3339 start time in UTC.
    pub started_at_utc: String,
}

impl DutRun {
    fn row(&self, kind: &'static str) -> DutRow {
        DutRow {
            model: self.model.clone(),
            target: self.target.clone(),
            dut_name: self.dut_name.clone(),
            dut_profile: self.dut_profile.clone(),
            kind,
            window: None,
            inferences: 0,
            warmup: 0,
            elapsed_us: None,
            throughput_inf_per_s: 0.0,
            latency_ms_per_inf: 0.0,
            min_latency_ms_per_inf: None,
            max_latency_ms_per_inf: None,
            deviation: String::new(),
            results: String::new(),
            started_at_utc: self.started_at_utc.clone(),
            actprof_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// The rows of a run: each window, then the score (when there is one).
    pub fn rows(
        &self,
        windows: &[WindowResult],
        score: Option<&Score>,
        deviations: &[String],
    ) -> Vec<DutRow> {
        let mut rows: Vec<DutRow> = windows
            .iter()
            .enumerate()
            .map(|(index, window)| DutRow {
                window: Some(index + 1),
                inferences: window.inferences,
                warmup: window.warmup,
                elapsed_us: Some(window.elapsed_us),
                throughput_inf_per_s: window.throughput_inf_per_s(),
                latency_ms_per_inf: window.latency_ms_per_inf(),
                results: window.results.replace(',', ";"),
                ..self.row("window")
            })
            .collect();
        if let (Some(score), Some(first)) = (score, windows.first()) {
            rows.push(DutRow {
                inferences: first.inferences,
                warmup: first.warmup,
                throughput_inf_per_s: score.median_throughput_inf_per_s,
                latency_ms_per_inf: score.latency_ms_per_inf,
                min_latency_ms_per_inf: Some(score.min_latency_ms_per_inf),
                max_latency_ms_per_inf: Some(score.max_latency_ms_per_inf),
                deviation: deviations.join("; "),
                ..self.row("score")
            });
        }
        rows
    }
}

/// Writes the header and `rows` (the header even without rows).
pub fn write_dut_rows<W: Write>(writer: W, rows: &[DutRow]) -> Result<(), ReportError> {
    write_named(writer, rows, "output stream")
}

/// Writes the header and `rows` to a new file at `path`, replacing any file there.
pub fn write_dut_file(path: &Path, rows: &[DutRow]) -> Result<(), ReportError> {
    let name = path.display().to_string();
    let file = File::create(path).map_err(|source| ReportError::Write {
        path: name.clone(),
        source,
    })?;
    write_named(BufWriter::new(file), rows, &name)
}

fn write_named<W: Write>(writer: W, rows: &[DutRow], path: &str) -> Result<(), ReportError> {
    let mut csv_writer = ::csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(writer);
    let to_write_error = |error: ::csv::Error| ReportError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(error),
    };
    csv_writer
        .write_record(DUT_COLUMNS)
        .map_err(to_write_error)?;
    for row in rows {
        csv_writer.serialize(row).map_err(to_write_error)?;
    }
    csv_writer.flush().map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> DutRun {
        DutRun {
            model: "ic01".to_owned(),
            target: "mlperf-dut:/dev/ttyACM0".to_owned(),
            dut_name: "dut-[unspecified]".to_owned(),
            dut_profile: "ULPMark for tinyML Firmware V0.0.1".to_owned(),
            started_at_utc: "2026-12-04T05:00:00Z".to_owned(),
        }
    }

    fn window(elapsed_us: u64) -> WindowResult {
        WindowResult {
            inferences: 200,
            warmup: 5,
            elapsed_us,
            results: "0.000,0.996".to_owned(),
        }
    }

    #[test]
    fn the_header_and_rows_are_pinned() {
        let windows = [window(10_000_000), window(10_500_000)];
        let score = crate::target::mlperf::score::score(&windows).expect("score");
        let rows = run().rows(&windows, Some(&score), &["2 windows, not 5".to_owned()]);
        let mut out = Vec::new();
        write_dut_rows(&mut out, &rows).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], DUT_COLUMNS.join(","));
        assert_eq!(lines.len(), 4);
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            lines[1],
            format!(
                "ic01,mlperf-dut:/dev/ttyACM0,dut-[unspecified],ULPMark for tinyML Firmware \
                 V0.0.1,window,1,200,5,10000000,20.0,50.0,,,,0.000;0.996,2026-12-04T05:00:00Z,\
                 {version}"
            )
        );
        // Median of 20 and 19.047… inf/s = 19.5238…; 1000 / that = 51.2195… ms.
        assert_eq!(
            lines[3],
            format!(
                "ic01,mlperf-dut:/dev/ttyACM0,dut-[unspecified],ULPMark for tinyML Firmware \
                 V0.0.1,score,,200,5,,19.523809523809526,51.21951219512194,50.0,52.5,\
                 \"2 windows, not 5\",,2026-12-04T05:00:00Z,{version}"
            )
        );
    }

    #[test]
    fn a_run_without_windows_still_has_its_header() {
        let mut out = Vec::new();
        write_dut_rows(&mut out, &run().rows(&[], None, &[])).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            DUT_COLUMNS.join(",") + "\n"
        );
    }
}
