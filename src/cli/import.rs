//! `actprof import`: read a recording made by another tool (PPK2 app, Joulescope UI,
//! rd-usb) or by actprof, write it as an actprof trace, and print what it holds.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::power::{PowerSample, Quantity};
use crate::session::import::{self, ImportFormat, ImportOptions, ImportSummary};
use crate::session::journal::TRACE_HEADER_V1;

/// Time jumps printed one by one; the rest are counted.
const JUMPS_PRINTED: usize = 5;

/// `actprof import`.
#[derive(Clone, Debug, Args)]
pub struct ImportArgs {
    /// The recording: a CSV file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Its format; `auto` tells them apart by the header line.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,

    /// Supply voltage in V, for recordings of current only (the PPK2 app's export): the
    /// VDD the device under test ran at.
    #[arg(long, value_name = "V")]
    pub voltage: Option<f64>,

    /// Write the trace as actprof's CSV (`time_s,power_w,current_a,voltage_v,energy_j,
    /// power_source,logic`, empty cells for what the recording lacks, the source as
    /// `import:FORMAT:FILE`, `logic` the digital inputs D0–D7 as 0–255), readable by the
    /// Power tab's "Open trace…".
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Detect from the header.
    Auto,
    /// nRF Connect Power Profiler CSV export.
    Ppk2,
    /// Joulescope UI statistics CSV.
    Joulescope,
    /// rd-usb CSV export.
    RdUsb,
    /// actprof trace CSV.
    Actprof,
}

impl FormatArg {
    fn format(self) -> Option<ImportFormat> {
        match self {
            FormatArg::Auto => None,
            FormatArg::Ppk2 => Some(ImportFormat::Ppk2),
            FormatArg::Joulescope => Some(ImportFormat::Joulescope),
            FormatArg::RdUsb => Some(ImportFormat::RdUsb),
            FormatArg::Actprof => Some(ImportFormat::Actprof),
        }
    }
}

/// Energy and power over the samples as they stream by: the trapezoid over power, or
/// the counter difference when the recording has an energy counter.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    first: Option<PowerSample>,
    last: Option<PowerSample>,
    trapezoid_j: f64,
}

impl Totals {
    fn add(&mut self, sample: PowerSample) {
        if let Some(last) = self.last {
            self.trapezoid_j += 0.5 * (last.power_w + sample.power_w) * (sample.t_s - last.t_s);
        }
        self.first.get_or_insert(sample);
        self.last = Some(sample);
    }

    fn energy_j(&self, quantity: Quantity) -> f64 {
        match (quantity, self.first, self.last) {
            (
                Quantity::EnergyCounter,
                Some(PowerSample {
                    energy_j: Some(first),
                    ..
                }),
                Some(PowerSample {
                    energy_j: Some(last),
                    ..
                }),
            ) => last - first,
            _ => self.trapezoid_j,
        }
    }
}

/// Imports, writes the trace when asked, and prints the summary.
pub fn run(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        voltage_v: args.voltage,
        max_samples: None,
    };
    let format = match args.format.format() {
        Some(format) => format,
        None => import::detect(&args.file)?,
    };
    let label = import::spec_for(format, &args.file);
    let mut totals = Totals::default();
    let mut out = match &args.out {
        Some(path) => Some(trace_writer(path)?),
        None => None,
    };
    let summary = import::import(&args.file, Some(format), &options, &mut |sample| {
        totals.add(sample);
        match (out.as_mut(), &args.out) {
            (Some(out), Some(path)) => write_row(out, &sample, &label)
                .map_err(|err| io::Error::other(format!("{err}: {}", path.display()))),
            _ => Ok(()),
        }
    })?;
    if let (Some(mut out), Some(path)) = (out, &args.out) {
        out.flush()
            .with_context(|| format!("cannot write the trace to {}", path.display()))?;
    }
    print_summary(&summary, &totals, args.out.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

fn trace_writer(path: &Path) -> anyhow::Result<csv::Writer<File>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = csv::Writer::from_writer(file);
    // `logic` last, as in the session trace, so readers that count columns keep working.
    out.write_record(TRACE_HEADER_V1.split(',').chain(["power_source", "logic"]))
        .with_context(|| format!("cannot write the trace to {}", path.display()))?;
    Ok(out)
}

fn write_row(out: &mut csv::Writer<File>, sample: &PowerSample, label: &str) -> io::Result<()> {
    let text = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    out.write_record([
        sample.t_s.to_string(),
        sample.power_w.to_string(),
        text(sample.current_a),
        text(sample.voltage_v),
        text(sample.energy_j),
        label.to_owned(),
        sample
            .logic
            .map(|bits| bits.to_string())
            .unwrap_or_default(),
    ])
    .map_err(io::Error::other)
}

/// `decimals` decimals, or four significant digits in scientific notation below 0.001
/// (a PPK2 export of a few ms lasts µs and holds µJ).
fn number(value: f64, decimals: usize) -> String {
    if value != 0.0 && value.abs() < 1e-3 {
        format!("{value:.4e}")
    } else {
        format!("{value:.decimals$}")
    }
}

fn print_summary(
    summary: &ImportSummary,
    totals: &Totals,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let info = &summary.info;
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "format:     {} ({})",
        summary.format.title(),
        summary.format
    )?;
    writeln!(stdout, "source:     {}", info.description)?;
    match summary.first_skipped_line {
        Some(line) => writeln!(
            stdout,
            "rows:       {} ({} skipped: NaN or empty, the first at line {line})",
            summary.rows, summary.skipped
        )?,
        None => writeln!(stdout, "rows:       {}", summary.rows)?,
    }
    let (start_s, end_s) = summary.span_s.unwrap_or((0.0, 0.0));
    writeln!(
        stdout,
        "samples:    {} over {} s ({:.1} Hz{})",
        summary.samples,
        number(end_s - start_s, 3),
        info.rate_hz,
        if info.coarse { ", coarse" } else { "" }
    )?;
    if summary.time_jump_count > 0 {
        writeln!(
            stdout,
            "time jumps: {} (time went back; the rows after each are placed one sample \
             spacing after the last)",
            summary.time_jump_count
        )?;
        for jump in summary.time_jumps.iter().take(JUMPS_PRINTED) {
            writeln!(
                stdout,
                "  line {}: {} s -> {} s",
                jump.line, jump.from_s, jump.to_s
            )?;
        }
    }
    let energy_j = totals.energy_j(info.quantity);
    let method = if info.quantity == Quantity::EnergyCounter {
        "from the recording's energy counter"
    } else {
        "integrated over power"
    };
    writeln!(stdout, "energy:     {} J ({method})", number(energy_j, 6))?;
    if end_s > start_s {
        writeln!(
            stdout,
            "mean power: {} W",
            number(energy_j / (end_s - start_s), 6)
        )?;
    }
    if let Some(out) = out {
        writeln!(stdout, "trace:      {}", out.display())?;
    }
    Ok(())
}
