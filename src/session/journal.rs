//! The session journal: every session written to disk as it happens, and read back.
//!
//! A session folder (by default `sessions/<UTC start time>/` under the user's data
//! directory) holds:
//!
//! - `session.json`: what ran ([`SessionMeta`]: command line, plan, host facts, power
//!   sources, versions, start and end time), rewritten atomically when the session ends;
//! - `runs.csv`: one row per run window, `label,start_s,end_s,calls,elements`;
//! - `trace.csv`: one row per power sample, [`TRACE_HEADER`], with empty cells for what a
//!   source does not measure.
//!
//! Rows go through buffered writers that are flushed at least every
//! [`FLUSH_INTERVAL`] (when [`Journal::flush_if_due`] is called at least that often, as
//! the recorders do) and when the session ends, so a crash or a kill loses at most the
//! last second. A failed write (disk full, folder gone) stops the journal with an error
//! naming the file; what was flushed before stays on disk. [`Journal::read`] reads a
//! session back and drops a torn last line, which is what a kill mid-write leaves.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::RunWindow;
use super::energy::Gap;
use crate::harness::HostFacts;
use crate::harness::plan::Plan;
use crate::power::{PowerSample, SourceInfo};

/// Longest time rows wait in memory before they are flushed to disk.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);

/// Header of `trace.csv`: seconds since session start, W, A, V, the counter in J, and the
/// digital inputs D0–D7 as a number 0–255 (bit `n` = `Dn`; see [`PowerSample::logic`]).
/// `logic` came last and later: [`Journal::read`] also reads traces without it
/// ([`TRACE_HEADER_V1`]).
pub const TRACE_HEADER: &str = "time_s,power_w,current_a,voltage_v,energy_j,logic";

/// Header of `trace.csv` before the `logic` column was added.
pub const TRACE_HEADER_V1: &str = "time_s,power_w,current_a,voltage_v,energy_j";

/// Header of `runs.csv`.
pub const RUNS_HEADER: &str = "label,start_s,end_s,calls,elements";

const SESSION_FILE: &str = "session.json";
const RUNS_FILE: &str = "runs.csv";
const TRACE_FILE: &str = "trace.csv";

/// What a session ran and where, stored as `session.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The command line that started the session.
    pub command: Vec<String>,
    /// The run plan, when the session ran one.
    pub plan: Option<Plan>,
    /// The machine.
    pub host: HostFacts,
    /// The power sources recorded.
    pub sources: Vec<SourceInfo>,
    /// actprof's version.
    pub actprof_version: String,
    /// Wall-clock time of session time zero, RFC 3339 in UTC.
    pub started_at: String,
    /// Wall-clock end, RFC 3339 in UTC; absent when the session did not end cleanly.
    pub ended_at: Option<String>,
    /// Stretches without samples because the power source was disconnected and came
    /// back (the trace itself just has no rows there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
}

/// A session read back from its folder.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedSession {
    /// The session folder.
    pub dir: PathBuf,
    /// `session.json`.
    pub meta: SessionMeta,
    /// `runs.csv`.
    pub windows: Vec<RunWindow>,
    /// `trace.csv`.
    pub samples: Vec<PowerSample>,
    /// Torn last lines dropped (0, 1 or 2: one per CSV file).
    pub torn_lines: usize,
}

/// Why the journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// No home directory to put the sessions in.
    #[error("no data directory for actprof sessions (is HOME set?)")]
    NoDataDir,

    /// The session folder or a file in it could not be created.
    #[error("cannot create the session journal at {}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A write failed: the recording stops, and what was flushed before stays.
    #[error(
        "cannot write the session journal (disk full or folder unwritable?); the recording \
         stopped and what was written before is kept in {}",
        path.display()
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A journal file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// `session.json` is not valid.
    #[error("invalid session description in {}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// A CSV row is malformed.
    #[error("line {line}: {reason} in {}", path.display())]
    Row {
        line: usize,
        reason: String,
        path: PathBuf,
    },
}

/// A session being written.
pub struct Journal {
    dir: PathBuf,
    meta: SessionMeta,
    trace: BufWriter<File>,
    runs: csv::Writer<File>,
    last_flush: Instant,
}

/// Buffer of the trace writer: about a second of samples at 10 kHz.
const TRACE_BUFFER_BYTES: usize = 256 * 1024;

impl Journal {
    /// `sessions/` under actprof's data directory.
    pub fn sessions_root() -> Result<PathBuf, JournalError> {
        let dirs =
            directories::ProjectDirs::from("", "", "actprof").ok_or(JournalError::NoDataDir)?;
        Ok(dirs.data_dir().join("sessions"))
    }

    /// Starts a session in a new folder under `root`, named by the UTC start time.
    pub fn create_in(root: &Path, meta: SessionMeta) -> Result<Journal, JournalError> {
        let stamp = chrono::Utc::now()
            .format("%Y-%m-%dT%H-%M-%S%.3fZ")
            .to_string();
        let mut dir = root.join(&stamp);
        let mut suffix = 2;
        while dir.exists() {
            dir = root.join(format!("{stamp}-{suffix}"));
            suffix += 1;
        }
        Journal::create(&dir, meta)
    }

    /// Starts a session in the folder `dir` (created if missing).
    pub fn create(dir: &Path, meta: SessionMeta) -> Result<Journal, JournalError> {
        fs::create_dir_all(dir).map_err(create_error(dir))?;
        write_meta(dir, &meta)?;

        let trace_path = dir.join(TRACE_FILE);
        let trace_file = File::create(&trace_path).map_err(create_error(&trace_path))?;
        let mut trace = BufWriter::with_capacity(TRACE_BUFFER_BYTES, trace_file);
        writeln!(trace, "{TRACE_HEADER}").map_err(write_error(&trace_path))?;

        let runs_path = dir.join(RUNS_FILE);
        let runs_file = File::create(&runs_path).map_err(create_error(&runs_path))?;
        let mut runs = csv::Writer::from_writer(runs_file);
        runs.write_record(RUNS_HEADER.split(','))
            .map_err(|err| csv_write_error(&runs_path, err))?;

        let mut journal = Journal {
            dir: dir.to_owned(),
            meta,
            trace,
            runs,
            last_flush: Instant::now(),
        };
        journal.flush()?;
        Ok(journal)
    }

    /// The session folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends power samples to `trace.csv` and flushes when one is due.
    pub fn append_samples(&mut self, samples: &[PowerSample]) -> Result<(), JournalError> {
        for sample in samples {
            write_trace_row(&mut self.trace, sample).map_err(write_error(&self.trace_path()))?;
        }
        self.flush_if_due()
    }

    /// Appends a finished run window to `runs.csv` and flushes when one is due.
    pub fn append_window(&mut self, window: &RunWindow) -> Result<(), JournalError> {
        let record = [
            window.label.clone(),
            window.start_s.to_string(),
            window.end_s.to_string(),
            window.calls.to_string(),
            window.elements.to_string(),
        ];
        let path = self.dir.join(RUNS_FILE);
        self.runs
            .write_record(&record)
            .map_err(|err| csv_write_error(&path, err))?;
        self.flush_if_due()
    }

    /// Records a disconnect gap in `session.json` at once (the trace is flushed first, so
    /// the samples before the gap are on disk too).
    pub fn mark_gap(&mut self, gap: Gap) -> Result<(), JournalError> {
        self.flush()?;
        self.meta.gaps.push(gap);
        write_meta(&self.dir, &self.meta)
    }

    /// Replaces the facts of the source with `info`'s spec (adds them if it is not
    /// listed) and rewrites `session.json` at once when they changed: what a source
    /// learns after it started, such as its clock offset, is on disk even after a crash.
    pub fn update_source(&mut self, info: SourceInfo) -> Result<(), JournalError> {
        match self
            .meta
            .sources
            .iter_mut()
            .find(|known| known.spec == info.spec)
        {
            Some(known) if *known == info => return Ok(()),
            Some(known) => *known = info,
            None => self.meta.sources.push(info),
        }
        write_meta(&self.dir, &self.meta)
    }

    /// Flushes when [`FLUSH_INTERVAL`] has passed since the last flush.
    pub fn flush_if_due(&mut self) -> Result<(), JournalError> {
        if self.last_flush.elapsed() >= FLUSH_INTERVAL {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes everything buffered to the files.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        self.trace
            .flush()
            .map_err(write_error(&self.trace_path()))?;
        self.runs
            .flush()
            .map_err(write_error(&self.dir.join(RUNS_FILE)))?;
        self.last_flush = Instant::now();
        Ok(())
    }

    /// Ends the session: flushes, syncs, and records the end time in `session.json`.
    pub fn finish(mut self) -> Result<PathBuf, JournalError> {
        self.flush()?;
        let trace_path = self.trace_path();
        self.trace
            .get_ref()
            .sync_all()
            .map_err(write_error(&trace_path))?;
        self.meta.ended_at = Some(now_rfc3339());
        write_meta(&self.dir, &self.meta)?;
        Ok(self.dir)
    }

    fn trace_path(&self) -> PathBuf {
        self.dir.join(TRACE_FILE)
    }

    /// Reads the session in `dir`, dropping a torn last line of either CSV file.
    pub fn read(dir: &Path) -> Result<RecordedSession, JournalError> {
        let meta_path = dir.join(SESSION_FILE);
        let meta_text = read_text(&meta_path)?;
        let meta = serde_json::from_str(&meta_text).map_err(|source| JournalError::Json {
            path: meta_path,
            source,
        })?;

        let trace_path = dir.join(TRACE_FILE);
        let trace_text = read_text(&trace_path)?;
        let (trace_lines, trace_torn) = complete_lines(&trace_text);
        let samples = parse_trace(&trace_lines, &trace_path)?;

        let runs_path = dir.join(RUNS_FILE);
        let runs_text = read_text(&runs_path)?;
        let (runs_lines, runs_torn) = complete_lines(&runs_text);
        let windows = parse_runs(&runs_lines, &runs_path)?;

        Ok(RecordedSession {
            dir: dir.to_owned(),
            meta,
            windows,
            samples,
            torn_lines: usize::from(trace_torn) + usize::from(runs_torn),
        })
    }
}

/// Current wall-clock time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn create_error(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Create {
        path: path.to_owned(),
        source,
    }
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Write {
        path: path.to_owned(),
        source,
    }
}

fn csv_write_error(path: &Path, err: csv::Error) -> JournalError {
    JournalError::Write {
        path: path.to_owned(),
        source: io::Error::other(err),
    }
}

/// Writes `session.json` through a temporary file and a rename, so a reader never sees
/// half of it.
fn write_meta(dir: &Path, meta: &SessionMeta) -> Result<(), JournalError> {
    let path = dir.join(SESSION_FILE);
    let temporary = dir.join(format!("{SESSION_FILE}.tmp"));
    let text = serde_json::to_string_pretty(meta).map_err(|err| JournalError::Write {
        path: path.clone(),
        source: io::Error::other(err),
    })?;
    fs::write(&temporary, text).map_err(write_error(&temporary))?;
    fs::rename(&temporary, &path).map_err(write_error(&path))
}

/// One trace row. zmij prints the shortest text that reads back to the same f64, several
/// times faster than `{}`, which keeps a 100 kHz meter's trace cheap to write.
fn write_trace_row(out: &mut impl io::Write, sample: &PowerSample) -> io::Result<()> {
    let mut buffer = zmij::Buffer::new();
    out.write_all(buffer.format(sample.t_s).as_bytes())?;
    out.write_all(b",")?;
    out.write_all(buffer.format(sample.power_w).as_bytes())?;
    for value in [sample.current_a, sample.voltage_v, sample.energy_j] {
        out.write_all(b",")?;
        if let Some(value) = value {
            out.write_all(buffer.format(value).as_bytes())?;
        }
    }
    out.write_all(b",")?;
    if let Some(logic) = sample.logic {
        write!(out, "{logic}")?;
    }
    out.write_all(b"\n")
}

fn read_text(path: &Path) -> Result<String, JournalError> {
    fs::read_to_string(path).map_err(|source| JournalError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The lines that end in a newline, and whether a torn line followed them.
fn complete_lines(text: &str) -> (Vec<&str>, bool) {
    let mut lines: Vec<&str> = text.split('\n').collect();
    // After the last newline `split` yields "" when the file ends cleanly.
    let torn = lines.pop().is_some_and(|rest| !rest.is_empty());
    (lines, torn)
}

fn parse_trace(lines: &[&str], path: &Path) -> Result<Vec<PowerSample>, JournalError> {
    let row_error = |line: usize, reason: String| JournalError::Row {
        line,
        reason,
        path: path.to_owned(),
    };
    let width = match lines.first() {
        Some(&header) if header == TRACE_HEADER => 6,
        Some(&header) if header == TRACE_HEADER_V1 => 5,
        Some(header) => return Err(row_error(1, format!("unexpected header `{header}`"))),
        None => return Err(row_error(1, "no header".to_owned())),
    };
    let mut samples = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != width {
            return Err(row_error(
                index + 1,
                format!("{} fields, expected {width}", fields.len()),
            ));
        }
        let number = |column: usize| -> Result<Option<f64>, JournalError> {
            let text = fields[column];
            if text.is_empty() {
                return Ok(None);
            }
            match text.parse::<f64>() {
                Ok(value) if value.is_finite() => Ok(Some(value)),
                _ => Err(row_error(
                    index + 1,
                    format!("column {} is `{text}`, not a finite number", column + 1),
                )),
            }
        };
        let required = |column: usize| {
            number(column)?
                .ok_or_else(|| row_error(index + 1, format!("column {} is empty", column + 1)))
        };
        samples.push(PowerSample {
            t_s: required(0)?,
            power_w: required(1)?,
            current_a: number(2)?,
            voltage_v: number(3)?,
            energy_j: number(4)?,
            logic: logic(&fields, index + 1, path)?,
        });
    }
    Ok(samples)
}

/// The `logic` cell of a trace row (column 6, absent in old traces).
fn logic(fields: &[&str], line: usize, path: &Path) -> Result<Option<u8>, JournalError> {
    match fields.get(5) {
        None | Some(&"") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| JournalError::Row {
            line,
            reason: format!("column 6 is `{text}`, not a logic byte (0–255)"),
            path: path.to_owned(),
        }),
    }
}

fn parse_runs(lines: &[&str], path: &Path) -> Result<Vec<RunWindow>, JournalError> {
    let text = lines.join("\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut windows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| JournalError::Row {
            line: err.position().map_or(0, |p| p.line() as usize),
            reason: err.to_string(),
            path: path.to_owned(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let field = |column: usize| record.get(column).unwrap_or_default();
        let bad = |column: usize| JournalError::Row {
            line,
            reason: format!("column {} is `{}`", column + 1, field(column)),
            path: path.to_owned(),
        };
        windows.push(RunWindow {
            label: field(0).to_owned(),
            start_s: field(1).parse().map_err(|_| bad(1))?,
            end_s: field(2).parse().map_err(|_| bad(2))?,
            calls: field(3).parse().map_err(|_| bad(3))?,
            elements: field(4).parse().map_err(|_| bad(4))?,
        });
    }
    Ok(windows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::{Quantity, Resolution};

    fn meta() -> SessionMeta {
        SessionMeta {
            command: vec!["actprof".into(), "record".into()],
            plan: None,
            host: HostFacts::default(),
            sources: vec![SourceInfo {
                spec: "battery".into(),
                description: "test source".into(),
                quantity: Quantity::CurrentVoltage,
                rate_hz: 10.0,
                resolution: Resolution::PowerW(1e-6),
                coarse: true,
                clock_offset_s: None,
            }],
            actprof_version: "0.1.0".into(),
            started_at: "2026-01-02T03:04:05.678Z".into(),
            ended_at: None,
            gaps: Vec::new(),
        }
    }

    fn samples() -> Vec<PowerSample> {
        vec![
            PowerSample {
                current_a: Some(1.25),
                voltage_v: Some(8.0),
                ..PowerSample::power(0.1, 10.0)
            },
            PowerSample {
                energy_j: Some(1.0 / 3.0),
                ..PowerSample::power(0.2, 0.1 + 0.2)
            },
            // D0 and D7 high.
            PowerSample {
                logic: Some(0b1000_0001),
                ..PowerSample::power(0.3, 2.0)
            },
        ]
    }

    #[test]
    fn a_session_reads_back_exactly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::create_in(dir.path(), meta()).expect("created");
        journal.append_samples(&samples()).expect("samples");
        let window = RunWindow {
            label: "gelu, 1M".into(),
            start_s: 0.125,
            end_s: 0.5,
            calls: 40,
            elements: 40 << 20,
        };
        journal.append_window(&window).expect("window");
        let session_dir = journal.finish().expect("finished");
        assert!(session_dir.starts_with(dir.path()));

        let session = Journal::read(&session_dir).expect("read");
        assert_eq!(session.samples, samples());
        assert_eq!(session.windows, [window]);
        assert_eq!(session.meta.sources, meta().sources);
        assert!(session.meta.ended_at.is_some());
        assert_eq!(session.torn_lines, 0);

        let trace = fs::read_to_string(session_dir.join(TRACE_FILE)).expect("trace");
        let lines: Vec<&str> = trace.lines().collect();
        assert_eq!(lines[0], TRACE_HEADER);
        assert_eq!(lines[1], "0.1,10.0,1.25,8.0,,");
        assert_eq!(lines[3], "0.3,2.0,,,,129");
    }

    #[test]
    fn a_trace_from_before_the_logic_column_reads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = Journal::create(dir.path(), meta()).expect("created");
        drop(journal);
        let old = format!("{TRACE_HEADER_V1}\n0.1,10,1.25,8,\n0.2,0.3,,,0.5\n");
        fs::write(dir.path().join(TRACE_FILE), old).expect("old trace");
        let session = Journal::read(dir.path()).expect("read");
        assert_eq!(session.samples.len(), 2);
        assert!(session.samples.iter().all(|sample| sample.logic.is_none()));
        assert_eq!(session.samples[1].energy_j, Some(0.5));
    }

    #[test]
    fn a_logic_cell_past_eight_bits_names_its_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = Journal::create(dir.path(), meta()).expect("created");
        drop(journal);
        let text = format!("{TRACE_HEADER}\n0.1,5,,,,1\n0.2,5,,,,256\n");
        fs::write(dir.path().join(TRACE_FILE), text).expect("trace");
        let message = Journal::read(dir.path()).expect_err("refused").to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("`256`"), "{message}");
    }

    #[test]
    fn a_gap_is_in_session_json_before_the_session_ends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::create(dir.path(), meta()).expect("created");
        journal.append_samples(&samples()).expect("samples");
        let gap = Gap {
            start_s: 0.2,
            end_s: 1.7,
        };
        journal.mark_gap(gap).expect("marked");
        // Read back while the journal is still open, as after a crash.
        let session = Journal::read(dir.path()).expect("read");
        assert_eq!(session.meta.gaps, [gap]);
        assert_eq!(session.samples, samples());
        drop(journal);
        let plain = meta();
        let json = serde_json::to_string(&plain).expect("json");
        assert!(!json.contains("gaps"), "no key without gaps: {json}");
    }

    #[test]
    fn source_facts_learned_after_the_start_are_in_session_json_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::create(dir.path(), meta()).expect("created");
        let mut info = meta().sources[0].clone();
        info.clock_offset_s = Some(12.5);
        journal.update_source(info.clone()).expect("updated");
        // Read back while the journal is still open, as after a crash.
        let session = Journal::read(dir.path()).expect("read");
        assert_eq!(session.meta.sources, [info.clone()]);
        drop(journal);
        let session = Journal::read(dir.path()).expect("read");
        assert_eq!(session.meta.sources, [info]);
    }

    #[test]
    fn a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::create(dir.path(), meta()).expect("created");
        journal.append_samples(&samples()).expect("samples");
        journal.flush().expect("flushed");
        drop(journal);
        let trace_path = dir.path().join(TRACE_FILE);
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&trace_path)
            .expect("open");
        file.write_all(b"0.3,12.5,,").expect("torn write");

        let session = Journal::read(dir.path()).expect("read");
        assert_eq!(session.samples, samples());
        assert_eq!(session.torn_lines, 1);
        assert_eq!(session.meta.ended_at, None);
    }

    #[test]
    fn a_bad_row_names_its_line_and_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = Journal::create(dir.path(), meta()).expect("created");
        journal.finish().expect("finished");
        let trace_path = dir.path().join(TRACE_FILE);
        let text = format!("{TRACE_HEADER}\n0.1,5,,,,\n0.2,NaN,,,,\n");
        fs::write(&trace_path, text).expect("write");
        let err = Journal::read(dir.path()).expect_err("refused");
        let message = err.to_string();
        assert!(
            message.starts_with("line 3: column 2 is `NaN`"),
            "{message}"
        );
        assert!(message.ends_with("trace.csv"), "{message}");
    }

    #[test]
    fn a_full_disk_stops_the_journal_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = Journal::create(dir.path(), meta()).expect("created");
        drop(journal);
        // /dev/full fails every write with ENOSPC, like a full disk.
        let trace_path = dir.path().join(TRACE_FILE);
        fs::remove_file(&trace_path).expect("remove");
        std::os::unix::fs::symlink("/dev/full", &trace_path).expect("symlink");
        let err = Journal::create(dir.path(), meta()).err().expect("refused");
        assert!(matches!(err, JournalError::Write { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("disk full"), "{message}");
        assert!(message.ends_with("trace.csv"), "{message}");
        // What was written before is kept.
        assert!(dir.path().join(SESSION_FILE).exists());
    }

    #[test]
    fn an_unusable_folder_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("not-a-folder");
        fs::write(&file, "x").expect("write");
        let err = Journal::create(&file.join("session"), meta())
            .err()
            .expect("refused");
        assert!(matches!(err, JournalError::Create { .. }), "{err:?}");
        assert!(err.to_string().ends_with("not-a-folder/session"), "{err}");
    }
}
