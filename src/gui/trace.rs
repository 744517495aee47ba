//! The power trace the Power tab shows: the samples of the live run or of a reopened
//! session, its run windows, the user's selection, and the decimated line for the view.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::power::{PowerSample, Quantity, SourceInfo};
use crate::session::decimate::Envelope;
use crate::session::energy::IdleBaseline;
use crate::session::import::ImportSummary;
use crate::session::selection::{SelectionStats, selection_stats};
use crate::session::{RecordedSession, RunWindow};

/// Where the trace came from.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceOrigin {
    /// The run in progress or last finished in this app.
    Run,
    /// A session folder read back from disk.
    Session(PathBuf),
    /// A recording file imported (another tool's or an actprof trace).
    Imported(PathBuf),
}

/// Which part of the trace to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceScope {
    /// Every sample.
    Whole,
    /// The samples in the visible time range.
    Visible,
    /// The samples in the selection.
    Selection,
}

/// The decimated line of one view, kept until the view or the trace changes.
#[derive(Clone, Debug)]
struct Decimated {
    x_min: f64,
    x_max: f64,
    columns: usize,
    len: usize,
    points: Vec<[f64; 2]>,
}

/// The power trace and everything the Power tab does with it.
#[derive(Clone, Debug, Default)]
pub struct PowerTrace {
    /// The source the samples came from.
    pub info: Option<SourceInfo>,
    /// Where they came from; `None` while there is no trace.
    pub origin: Option<TraceOrigin>,
    /// Every sample, in time order.
    pub samples: Vec<PowerSample>,
    /// Run windows, idle first.
    pub windows: Vec<RunWindow>,
    /// The idle baseline of the run, once measured.
    pub idle: Option<IdleBaseline>,
    /// Selected time range `(start_s, end_s)`, start before end.
    pub selection: Option<(f64, f64)>,
    /// First click of a two-click selection.
    pub pending_click: Option<f64>,
    /// Subtract [`tare_w`](Self::tare_w) from the selection's energy.
    pub tare_on: bool,
    /// Baseline power to subtract, in W.
    pub tare_w: f64,
    /// The visible time range of the last frame.
    pub visible: Option<(f64, f64)>,
    /// Why the source could not record, or the session could not be read.
    pub error: Option<String>,
    /// Outcome of the last export.
    pub notice: Option<String>,
    /// Path typed for exports.
    pub export_path: String,
    /// Path typed for "Open trace…": a recording file or a session folder.
    pub open_path: String,
    /// Supply voltage typed for recordings of current only, in V (empty: none).
    pub import_voltage: String,
    envelope: Envelope,
    decimated: Option<Decimated>,
}

impl PowerTrace {
    /// An empty trace for a new run on `info`.
    pub fn start_run(&mut self, info: SourceInfo) {
        *self = PowerTrace {
            info: Some(info),
            origin: Some(TraceOrigin::Run),
            export_path: std::mem::take(&mut self.export_path),
            open_path: std::mem::take(&mut self.open_path),
            import_voltage: std::mem::take(&mut self.import_voltage),
            ..PowerTrace::default()
        };
    }

    /// The trace of a recorded session.
    pub fn load_session(&mut self, session: RecordedSession) {
        let mut trace = PowerTrace {
            info: session.meta.sources.first().cloned(),
            origin: Some(TraceOrigin::Session(session.dir)),
            windows: session.windows,
            export_path: std::mem::take(&mut self.export_path),
            open_path: std::mem::take(&mut self.open_path),
            import_voltage: std::mem::take(&mut self.import_voltage),
            ..PowerTrace::default()
        };
        trace.push_samples(&session.samples);
        *self = trace;
    }

    /// The trace of an imported recording.
    pub fn load_import(&mut self, samples: &[PowerSample], summary: &ImportSummary) {
        let mut trace = PowerTrace {
            info: Some(summary.info.clone()),
            origin: Some(TraceOrigin::Imported(summary.path.clone())),
            export_path: std::mem::take(&mut self.export_path),
            open_path: std::mem::take(&mut self.open_path),
            import_voltage: std::mem::take(&mut self.import_voltage),
            notice: Some(import_notice(summary)),
            ..PowerTrace::default()
        };
        trace.push_samples(samples);
        *self = trace;
    }

    /// Appends samples; one going back in time or not finite is dropped with an error
    /// message, since the sampler never sends such.
    pub fn push_samples(&mut self, samples: &[PowerSample]) {
        for sample in samples {
            match self.envelope.push(sample.t_s, sample.power_w) {
                Ok(()) => self.samples.push(*sample),
                Err((t_s, _)) => {
                    tracing::warn!("power sample at {t_s} s is out of order; not drawn");
                }
            }
        }
    }

    /// First and last sample time.
    pub fn time_span(&self) -> Option<(f64, f64)> {
        self.envelope.time_span()
    }

    /// The line to draw `[x_min, x_max]` on `columns` pixel columns: min/max per column,
    /// recomputed only when the range, the width or the trace changed.
    pub fn decimated(&mut self, x_min: f64, x_max: f64, columns: usize) -> &[[f64; 2]] {
        let len = self.envelope.len();
        let fresh = self.decimated.as_ref().is_some_and(|cached| {
            cached.x_min == x_min
                && cached.x_max == x_max
                && cached.columns == columns
                && cached.len == len
        });
        if !fresh {
            self.decimated = Some(Decimated {
                x_min,
                x_max,
                columns,
                len,
                points: self.envelope.decimate(x_min, x_max, columns),
            });
        }
        self.decimated.as_ref().map_or(&[], |cached| &cached.points)
    }

    /// How the source measures (plain power for a trace without source facts).
    pub fn quantity(&self) -> Quantity {
        self.info
            .as_ref()
            .map_or(Quantity::Power, |info| info.quantity)
    }

    /// The statistics of the selection, or why there are none.
    pub fn selection_stats(&self) -> Option<Result<SelectionStats, String>> {
        let (start_s, end_s) = self.selection?;
        let tare = self.tare_on.then_some(self.tare_w);
        Some(
            selection_stats(&self.samples, self.quantity(), start_s, end_s, tare)
                .map_err(|err| err.to_string()),
        )
    }

    /// The time range a scope covers; `None` when it covers nothing yet.
    pub fn range_of(&self, scope: TraceScope) -> Option<(f64, f64)> {
        match scope {
            TraceScope::Whole => self.time_span(),
            TraceScope::Visible => self.visible,
            TraceScope::Selection => self.selection,
        }
    }

    /// Writes the samples of `scope` as CSV `time_s,power_w,current_a,voltage_v,
    /// power_source,logic` (empty cells for what the source does not measure; the
    /// source's label, ` (emulated)` for an emulator; the digital inputs D0–D7 as 0–255,
    /// bit `n` = `Dn`); returns the rows written.
    pub fn export(&self, scope: TraceScope, path: &Path) -> Result<usize, String> {
        let Some((start_s, end_s)) = self.range_of(scope) else {
            return Err("nothing to export in that range".to_owned());
        };
        let write = || -> Result<usize, csv::Error> {
            let mut out = csv::Writer::from_writer(File::create(path)?);
            out.write_record([
                "time_s",
                "power_w",
                "current_a",
                "voltage_v",
                "power_source",
                "logic",
            ])?;
            let label = self
                .info
                .as_ref()
                .map(SourceInfo::label)
                .unwrap_or_default();
            let text = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
            let mut rows = 0;
            for sample in self.samples.iter() {
                if sample.t_s < start_s || sample.t_s > end_s {
                    continue;
                }
                out.write_record([
                    sample.t_s.to_string(),
                    sample.power_w.to_string(),
                    text(sample.current_a),
                    text(sample.voltage_v),
                    label.clone(),
                    sample
                        .logic
                        .map(|bits| bits.to_string())
                        .unwrap_or_default(),
                ])?;
                rows += 1;
            }
            out.flush()?;
            Ok(rows)
        };
        write().map_err(|err| format!("cannot write the trace: {err} ({})", path.display()))
    }
}

/// What an import read, in one line.
fn import_notice(summary: &ImportSummary) -> String {
    let mut notice = format!(
        "Imported {} samples from {} rows ({})",
        summary.samples, summary.rows, summary.format
    );
    if let Some(line) = summary.first_skipped_line {
        notice.push_str(&format!(
            "; {} rows skipped as NaN or empty, the first at line {line}",
            summary.skipped
        ));
    }
    if let Some(jump) = summary.time_jumps.first() {
        notice.push_str(&format!(
            "; {} backward time jumps, the first at line {} ({} s to {} s), later rows \
             placed after the last sample",
            summary.time_jump_count, jump.line, jump.from_s, jump.to_s
        ));
    }
    notice
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace() -> PowerTrace {
        let mut trace = PowerTrace::default();
        let samples: Vec<PowerSample> = (0..100)
            .map(|k| PowerSample::power(f64::from(k) * 0.1, 3.0))
            .collect();
        trace.push_samples(&samples);
        trace
    }

    #[test]
    fn decimation_is_cached_until_the_view_or_trace_changes() {
        let mut trace = trace();
        let first = trace.decimated(0.0, 9.9, 10).as_ptr();
        assert_eq!(trace.decimated(0.0, 9.9, 10).as_ptr(), first);
        trace.push_samples(&[PowerSample::power(10.0, 4.0)]);
        let points = trace.decimated(0.0, 10.0, 10);
        assert!(points.iter().any(|p| p[1] == 4.0));
    }

    #[test]
    fn export_writes_the_documented_columns_for_the_scope() {
        let mut trace = trace();
        trace.selection = Some((1.0, 1.45));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sel.csv");
        let rows = trace.export(TraceScope::Selection, &path).expect("written");
        // Samples at 1.0, 1.1, 1.2, 1.3, 1.4 (k × 0.1 rounds a hair either way, so count
        // them the same way).
        let expected = trace
            .samples
            .iter()
            .filter(|s| s.t_s >= 1.0 && s.t_s <= 1.45)
            .count();
        assert_eq!(rows, expected);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.starts_with("time_s,power_w,current_a,voltage_v,power_source,logic\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), rows + 1);
        assert!(trace.export(TraceScope::Visible, &path).is_err());
    }
}
