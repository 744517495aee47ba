//! `actprof record`: record a power source headless for a while, journal the session, and
//! write the trace.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::harness::HostFacts;
use crate::harness::plan::parse_duration;
use crate::power::{self, PowerSample, Quantity, SourceInfo, SourceSpec};
use crate::session::energy::{self, Attribution, Gap};
use crate::session::journal::now_rfc3339;
use crate::session::{Journal, Sampler, SamplerEvent, SessionClock, SessionMeta};

/// How long the main thread waits for samples before checking the clock and flushing.
const TICK: Duration = Duration::from_millis(200);

/// `actprof record`.
#[derive(Clone, Debug, Args)]
pub struct RecordArgs {
    /// Power source: `rapl` (all CPU packages), `rapl:ZONE` (a RAPL zone by name or id,
    /// e.g. `rapl:package-0`, `rapl:core`), `battery` (laptop battery discharge,
    /// coarse), or a USB meter on a serial port: `um24c:PORT`, `um25c:PORT`,
    /// `um34c:PORT` (options `?group=N`, `?baud=N`, `?profile=FILE`), `tc66c:PORT`,
    /// `ppk2:PORT` (options `?mode=source|ampere`, `?vdd_mv=N`, `?avg=N`), an SCPI
    /// instrument `scpi:PORT` (options `?curr=QUERY`, `?volt=QUERY`, `?eol=crlf`,
    /// `?timeout=D`, `?baud=N`, `?profile=FILE`) or a line logger `ina:PORT` (`?baud=N`).
    /// A meter that disconnects is reopened and the gap is marked in the session. For
    /// testing and diagnosis, the environment variables ACTPROF_POWERCAP_ROOT and
    /// ACTPROF_POWER_SUPPLY_ROOT move the sysfs trees read.
    #[arg(long = "power", value_name = "SOURCE", value_parser = source_arg)]
    pub source: SourceSpec,

    /// How long to record, e.g. `60s` or `500ms`.
    #[arg(long, value_name = "DURATION", value_parser = duration_arg, default_value = "60s")]
    pub duration: Duration,

    /// Time between two reads of the source, e.g. `100ms`.
    #[arg(long, value_name = "DURATION", value_parser = duration_arg, default_value = "100ms")]
    pub interval: Duration,

    /// Also write the trace as CSV (`time_s,power_w`, plus `current_a,voltage_v` when the
    /// source measures them and `energy_j` for counter sources, then `power_source`: the
    /// spec, with ` (emulated)` for an emulator, then `logic` for a source with digital
    /// inputs: D0–D7 as 0–255, bit `n` = `Dn`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn source_arg(text: &str) -> Result<SourceSpec, String> {
    text.parse()
        .map_err(|err: power::PowerError| err.to_string())
}

fn duration_arg(text: &str) -> Result<Duration, String> {
    match parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err("must be longer than zero".to_owned()),
        Ok(duration) => Ok(duration),
        Err(err) => Err(err.to_string()),
    }
}

/// Records, then prints the summary on standard output.
pub fn run(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let source = power::open(&args.source, args.interval)
        .with_context(|| format!("cannot record power source `{}`", args.source))?;
    let info = source.info();
    tracing::debug!("recording {}", info.description);

    let clock = SessionClock::start_now();
    let started_at = now_rfc3339();
    let meta = SessionMeta {
        command: std::env::args().collect(),
        plan: None,
        host: HostFacts::collect(),
        sources: vec![info.clone()],
        actprof_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        ended_at: None,
        gaps: Vec::new(),
    };
    let mut journal = Journal::create_in(&Journal::sessions_root()?, meta)?;
    tracing::info!("journalling the session in {}", journal.dir().display());

    let spec = args.source.clone();
    let interval = args.interval;
    let reopen = Box::new(move || power::open(&spec, interval));
    let sampler = Sampler::spawn_reconnecting(source, clock, reopen)
        .with_context(|| format!("cannot start power source `{}`", args.source))?;
    let mut collected = collect(args, &clock, sampler, &mut journal)?;
    // What the source learned once running (its clock offset), if anything.
    let info = collected.info.take().unwrap_or(info);
    let samples = collected.samples;
    let dir = journal.finish()?;

    if let Some(out) = &args.out {
        write_trace(out, &samples, &info)
            .with_context(|| format!("cannot write the trace to {}", out.display()))?;
    }
    print_summary(&samples, &collected.gaps, &info, &dir, args.out.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// What a recording received.
#[derive(Default)]
struct Collected {
    samples: Vec<PowerSample>,
    /// Disconnects the source came back from.
    gaps: Vec<Gap>,
    /// The disconnect the source has not come back from yet.
    down: Option<power::PowerError>,
    /// The source's facts as last reported while it ran.
    info: Option<SourceInfo>,
}

/// Receives samples until the duration is over (or Ctrl-C), journalling them as they come.
fn collect(
    args: &RecordArgs,
    clock: &SessionClock,
    sampler: Sampler,
    journal: &mut Journal,
) -> anyhow::Result<Collected> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    if let Err(err) = ctrlc::set_handler(move || flag.store(true, Ordering::Release)) {
        tracing::warn!("Ctrl-C will end the recording without saving its end: {err}");
    }
    let bar = progress_bar(args.duration);
    let mut collected = Collected::default();
    let mut failure = None;
    while failure.is_none()
        && clock.elapsed() < args.duration
        && !interrupted.load(Ordering::Acquire)
    {
        if let Ok(event) = sampler.events().recv_timeout(TICK) {
            failure = take(event, journal, &mut collected)?;
        }
        journal.flush_if_due()?;
        bar.set_position(clock.elapsed().min(args.duration).as_millis() as u64);
    }
    bar.finish_and_clear();
    for event in sampler.stop() {
        if let Some(err) = take(event, journal, &mut collected)? {
            failure.get_or_insert(err);
        }
    }
    // Still unplugged at the end: the rest of the recording is lost, so say so.
    if let Some(err) = failure.or_else(|| collected.down.take()) {
        journal.flush()?;
        return Err(anyhow::Error::new(err).context(format!(
            "the power source failed after {}; they are kept in {}",
            samples_text(collected.samples.len()),
            journal.dir().display()
        )));
    }
    Ok(collected)
}

/// Journals one sampler event; returns the source's failure, if that is what it was.
fn take(
    event: SamplerEvent,
    journal: &mut Journal,
    collected: &mut Collected,
) -> anyhow::Result<Option<power::PowerError>> {
    match event {
        SamplerEvent::Samples(batch) => {
            journal.append_samples(&batch)?;
            collected.samples.extend(batch);
        }
        SamplerEvent::Disconnected { at_s, error } => {
            eprintln!(
                "warning: at {at_s:.3} s: {error}; reconnecting (kept so far: {})",
                samples_text(collected.samples.len())
            );
            collected.down = Some(error);
        }
        SamplerEvent::Reconnected { gap } => {
            eprintln!(
                "warning: reconnected; no samples from {:.3} s to {:.3} s",
                gap.start_s, gap.end_s
            );
            journal.mark_gap(gap)?;
            collected.gaps.push(gap);
            collected.down = None;
        }
        SamplerEvent::Source(info) => {
            journal.update_source(info.clone())?;
            collected.info = Some(info);
        }
        SamplerEvent::Failed(err) => return Ok(Some(err)),
    }
    Ok(None)
}

/// `1 sample`, `2 samples`.
fn samples_text(count: usize) -> String {
    if count == 1 {
        "1 sample".to_owned()
    } else {
        format!("{count} samples")
    }
}

fn progress_bar(duration: Duration) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(duration.as_millis() as u64),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template("recording {bar:30} {elapsed} / {msg}") {
        bar.set_style(style);
    }
    bar.set_message(format!("{:.1} s", duration.as_secs_f64()));
    bar
}

/// Writes the trace CSV with only the columns the source fills.
fn write_trace(path: &Path, samples: &[PowerSample], info: &SourceInfo) -> io::Result<()> {
    let electrical = info.quantity == Quantity::CurrentVoltage;
    let counter = info.quantity == Quantity::EnergyCounter;
    let logic = samples.iter().any(|sample| sample.logic.is_some());
    let mut out = csv::Writer::from_writer(File::create(path)?);
    let mut header = vec!["time_s", "power_w"];
    if electrical {
        header.extend(["current_a", "voltage_v"]);
    }
    if counter {
        header.push("energy_j");
    }
    // The source on every row, so a trace cut out of the file still says where it came
    // from, and an emulator's trace says it is one.
    header.push("power_source");
    if logic {
        header.push("logic");
    }
    let label = info.label();
    out.write_record(&header)?;
    let text = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    for sample in samples {
        let mut row = vec![sample.t_s.to_string(), sample.power_w.to_string()];
        if electrical {
            row.extend([text(sample.current_a), text(sample.voltage_v)]);
        }
        if counter {
            row.push(text(sample.energy_j));
        }
        row.push(label.clone());
        if logic {
            row.push(
                sample
                    .logic
                    .map(|bits| bits.to_string())
                    .unwrap_or_default(),
            );
        }
        out.write_record(&row)?;
    }
    out.flush()
}

/// Prints samples, mean/min/max power and energy over the recording.
fn print_summary(
    samples: &[PowerSample],
    disconnects: &[Gap],
    info: &SourceInfo,
    dir: &Path,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        bail!("the recording ended before the source gave a sample; record for longer");
    };
    if samples.len() < 2 {
        bail!("the recording holds a single sample; record for longer");
    }
    // The summary spans the whole recording; per-window attribution has its own minimum.
    let rules = Attribution {
        min_samples: 2,
        ..Attribution::for_rate(info.rate_hz)
    };
    let whole = energy::window_energy(samples, info.quantity, first.t_s, last.t_s, &rules)?;
    let (min_w, max_w) = samples
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, s| {
            (acc.0.min(s.power_w), acc.1.max(s.power_w))
        });
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "source:     {}", info.description)?;
    writeln!(
        stdout,
        "samples:    {} over {:.3} s",
        samples.len(),
        whole.duration_s()
    )?;
    writeln!(stdout, "mean power: {:.3} W", whole.mean_power_w())?;
    writeln!(stdout, "min power:  {min_w:.3} W")?;
    writeln!(stdout, "max power:  {max_w:.3} W")?;
    writeln!(stdout, "energy:     {:.3} J", whole.energy_j)?;
    for gap in &whole.gaps {
        writeln!(
            stdout,
            "gap:        no sample from {:.3} s to {:.3} s (bridged by a straight line)",
            gap.start_s, gap.end_s
        )?;
    }
    for gap in disconnects {
        writeln!(
            stdout,
            "reconnect:  disconnected, no sample from {:.3} s to {:.3} s",
            gap.start_s, gap.end_s
        )?;
    }
    writeln!(stdout, "session:    {}", dir.display())?;
    if let Some(out) = out {
        writeln!(stdout, "trace:      {}", out.display())?;
    }
    Ok(())
}
