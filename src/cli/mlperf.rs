//! `actprof bench --target mlperf-dut:PORT[@BAUD]`: MLPerf Tiny's latency test on a device
//! under test running EEMBC / MLPerf Tiny firmware.
//!
//! The DUT is connected and checked (`target::mlperf::client`), a calibration window picks
//! the inferences per window, and the windows run one after the other, each downloading
//! the input tensor and timing `infer N W` by the DUT's own stamps. A line per window goes
//! to standard error; the score (median throughput, latency per inference, the windows'
//! spread) goes to standard output as a table, CSV or JSON, with every departure from
//! MLPerf Tiny's rules stated; `--out` writes the DUT CSV (`report::dut`).
//!
//! Ctrl-C stops after the current window: the finished windows are scored, printed and
//! written, and the exit code is 130. A failure mid-run (a timeout, a disconnect, a
//! reset) keeps them too, and exits 1 with the error.

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::args::{BenchArgs, Format};
use super::bench::EXIT_INTERRUPTED;
use super::table::{self, Align};
use crate::report::dut::{DutRow, DutRun, write_dut_file, write_dut_rows};
use crate::target::mlperf::client::LinkStats;
use crate::target::mlperf::latency::DEFAULT_INPUT_SEED;
use crate::target::mlperf::score::{self, Score, seconds};
use crate::target::mlperf::{
    ClientConfig, DutClient, DutInfo, LatencyEvent, LatencyOutcome, LatencyPlan, Model, run_latency,
};
use crate::target::{PortSpec, TargetSpec};

/// The bench flags that only an MLPerf Tiny DUT takes.
const DUT_FLAGS: &str = "--windows, --window, --inferences, --warmup-inferences, \
                         --line-timeout, --infer-timeout";

/// The runner's per-line wait during `infer`, the least `--infer-timeout` defaults to.
const INFER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the latency test on the DUT at `port`.
pub fn run(args: &BenchArgs, port: &PortSpec) -> anyhow::Result<ExitCode> {
    refuse_plan_flags(args)?;
    let plan = plan_of(args)?;
    let config = client_config(args, &plan)?;
    let spec = TargetSpec::MlperfDut(port.clone()).to_string();
    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(&cancel);
    let started_at_utc = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let mut dut = DutClient::connect(port, &config)
        .with_context(|| format!("cannot start the MLPerf Tiny latency test on `{spec}`"))?;
    let info = dut.info().clone();
    eprint!("{}", dut_summary(&info, dut.port(), &plan));
    let outcome = run_latency(&mut dut, &plan, &cancel, &mut |event| {
        eprintln!("{}", describe_event(&event));
    })
    .with_context(|| format!("cannot run the MLPerf Tiny latency test on `{spec}`"))?;
    let stats = dut.stats();
    drop(dut);

    let score = score::score(&outcome.windows);
    let deviations = score::deviations(&outcome.windows, &plan.rules());
    let run = DutRun {
        model: info.model.clone(),
        target: if info.is_emulated() {
            format!("{spec} (emulated)")
        } else {
            spec.clone()
        },
        dut_name: info.name.clone(),
        dut_profile: info.profile.clone(),
        started_at_utc,
    };
    let rows = run.rows(&outcome.windows, score.as_ref(), &deviations);
    print_results(
        args.format,
        &run,
        &outcome,
        score.as_ref(),
        &deviations,
        &rows,
    )?;
    eprint!("{}", link_summary(stats));
    if let Some(path) = &args.out {
        write_dut_file(path, &rows)?;
        eprintln!("report written to {}", path.display());
    }
    finish(args, &spec, &plan, outcome)
}

/// Says how the run ended: an error with the windows kept, an interruption, or success.
fn finish(
    args: &BenchArgs,
    spec: &str,
    plan: &LatencyPlan,
    outcome: LatencyOutcome,
) -> anyhow::Result<ExitCode> {
    let finished = outcome.windows.len();
    let kept = match (finished, &args.out) {
        (0, _) => String::new(),
        (_, Some(path)) => format!(" (shown above and written to {})", path.display()),
        (_, None) => " (shown above)".to_owned(),
    };
    if let Some(err) = outcome.error {
        let when = match finished {
            0 => format!("before the first of {} windows", plan.windows),
            _ => format!("after {finished} of {} windows{kept}", plan.windows),
        };
        return Err(anyhow::Error::new(err).context(format!(
            "the MLPerf Tiny latency test on `{spec}` stopped {when}"
        )));
    }
    if outcome.cancelled {
        eprintln!(
            "interrupted: {finished} of {} windows finished{kept}",
            plan.windows
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses the DUT flags for the other targets.
pub fn refuse_dut_flags(args: &BenchArgs) -> anyhow::Result<()> {
    let set = [
        (args.windows.is_some(), "--windows"),
        (args.window.is_some(), "--window"),
        (args.inferences.is_some(), "--inferences"),
        (args.warmup_inferences.is_some(), "--warmup-inferences"),
        (args.line_timeout.is_some(), "--line-timeout"),
        (args.infer_timeout.is_some(), "--infer-timeout"),
    ];
    if let Some((_, flag)) = set.iter().find(|(on, _)| *on) {
        bail!("{flag} applies to `--target mlperf-dut:PORT` only");
    }
    Ok(())
}

/// Refuses the flags of a kernel plan, which a DUT running its own model cannot honour.
fn refuse_plan_flags(args: &BenchArgs) -> anyhow::Result<()> {
    if args.power.is_some() {
        bail!(
            "--power does not apply to an MLPerf Tiny DUT: its energy test needs energy-mode \
             firmware and a power monitor on the timestamp pin, which actprof does not drive"
        );
    }
    let set = [
        (!args.activations.is_empty(), "--activations"),
        (!args.sizes.is_empty(), "--sizes"),
        (!args.dtypes.is_empty(), "--dtype"),
        (args.threads.is_some(), "--threads"),
        (args.min_time.is_some(), "--min-time"),
        (
            args.warmup.is_some(),
            "--warmup (the DUT's is --warmup-inferences)",
        ),
        (args.min_samples.is_some(), "--min-samples"),
        (args.profile.is_some(), "--profile"),
        (args.power_interval.is_some(), "--power-interval"),
        (args.idle.is_some(), "--idle"),
    ];
    if let Some((_, flag)) = set.iter().find(|(on, _)| *on) {
        bail!(
            "{flag} does not apply to `--target mlperf-dut:PORT`: the DUT runs its own model \
             (its flags: {DUT_FLAGS}, --seed)"
        );
    }
    Ok(())
}

/// The latency plan from the flags.
fn plan_of(args: &BenchArgs) -> anyhow::Result<LatencyPlan> {
    let defaults = LatencyPlan::default();
    let plan = LatencyPlan {
        windows: args.windows.unwrap_or(defaults.windows),
        min_window: args.window.unwrap_or(defaults.min_window),
        inferences: args.inferences,
        warmup: args.warmup_inferences,
        seed: args.seed.unwrap_or(DEFAULT_INPUT_SEED),
    };
    if let Err(reason) = plan.validate() {
        bail!("invalid MLPerf Tiny options: {reason}");
    }
    Ok(plan)
}

/// The session's timeouts from the flags.
fn client_config(args: &BenchArgs, plan: &LatencyPlan) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::default();
    if let Some(timeout) = args.line_timeout {
        config.line_timeout = timeout;
    }
    config.infer_timeout = args
        .infer_timeout
        .unwrap_or_else(|| INFER_TIMEOUT.max(plan.min_window * 2 + Duration::from_secs(10)));
    if config.line_timeout.is_zero() || config.infer_timeout.is_zero() {
        bail!("--line-timeout and --infer-timeout must be longer than 0");
    }
    Ok(config)
}

/// Ctrl-C once: finish the current window and stop. Twice: quit at once.
fn install_ctrl_c(cancel: &Arc<AtomicBool>) {
    let cancel = Arc::clone(cancel);
    let installed = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::Relaxed) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\nstopping after the current window (Ctrl-C again to quit at once)");
    });
    if let Err(err) = installed {
        tracing::warn!("Ctrl-C will end the run without printing results: {err}");
    }
}

/// The DUT and the plan, printed before the first window.
fn dut_summary(info: &DutInfo, port: &str, plan: &LatencyPlan) -> String {
    let emulated = if info.is_emulated() {
        " (EMULATED)"
    } else {
        ""
    };
    let mut text = format!(
        "dut:    {} on {port} at {} baud{emulated}\n        {}, performance mode\n",
        info.name, info.baud, info.profile
    );
    if let Some(model) = Model::find(&info.model) {
        text.push_str(&format!(
            "model:  {} ({}, {}-byte input, {} warm-up inferences per window)\n",
            model.name,
            model.task,
            model.input_bytes,
            plan.warmup.unwrap_or(model.warmup)
        ));
    }
    let length = match plan.inferences {
        Some(n) => format!("{n} inferences each"),
        None => format!(
            "at least {} s each (inferences chosen from a calibration window)",
            seconds(plan.min_window.as_secs_f64())
        ),
    };
    text.push_str(&format!("plan:   {} windows, {length}\n", plan.windows));
    text
}

/// One progress line.
fn describe_event(event: &LatencyEvent<'_>) -> String {
    match event {
        LatencyEvent::Calibration {
            inferences,
            elapsed_us,
        } => format!(
            "calibration: {inferences} inferences in {} s",
            seconds(*elapsed_us as f64 / 1e6)
        ),
        LatencyEvent::Calibrated { inferences } => {
            format!("calibrated: {inferences} inferences per window")
        }
        LatencyEvent::Window { index, of, window } => format!(
            "window {index}/{of}: {} inferences in {} s, {} inf/s, {} ms/inf",
            window.inferences,
            seconds(window.seconds()),
            table::significant(window.throughput_inf_per_s(), 4),
            table::significant(window.latency_ms_per_inf(), 4)
        ),
    }
}

/// What the link delivered that was not protocol, when anything.
fn link_summary(stats: LinkStats) -> String {
    let mut parts = Vec::new();
    if stats.dropped_bytes > 0 {
        parts.push(format!(
            "dropped {} byte(s) that were not UTF-8 text",
            stats.dropped_bytes
        ));
    }
    if stats.overlong_lines > 0 {
        parts.push(format!(
            "skipped {} over-long line(s)",
            stats.overlong_lines
        ));
    }
    if stats.echoes > 0 {
        parts.push(format!("ignored {} echoed command(s)", stats.echoes));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("link:   {}\n", parts.join(", "))
}

fn print_results(
    format: Format,
    run: &DutRun,
    outcome: &LatencyOutcome,
    score: Option<&Score>,
    deviations: &[String],
    rows: &[DutRow],
) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match format {
        Format::Table => {
            let mut text = String::new();
            if let Some(score) = score {
                text.push_str(&render_score(&run.target, outcome, score));
                text.push_str(&render_deviations(deviations));
            }
            stdout.write_all(text.as_bytes())
        }
        Format::Csv => return Ok(write_dut_rows(stdout, rows)?),
        Format::Json => serde_json::to_writer_pretty(&mut stdout, rows)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(stdout)),
    }
    .context("cannot write to standard output")
}

/// The score as an aligned table, units in the headers.
pub fn render_score(target: &str, outcome: &LatencyOutcome, score: &Score) -> String {
    let header = [
        ("target", Align::Left),
        ("model", Align::Left),
        ("windows", Align::Right),
        ("inferences/window", Align::Right),
        ("warmup", Align::Right),
        ("median ms/inf", Align::Right),
        ("window spread ms/inf", Align::Right),
        ("median inf/s", Align::Right),
    ];
    let row = vec![
        target.to_owned(),
        outcome.model.name.to_owned(),
        score.windows.to_string(),
        outcome
            .inferences
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        outcome.warmup.to_string(),
        table::significant(score.latency_ms_per_inf, 4),
        format!(
            "{}–{}",
            table::significant(score.min_latency_ms_per_inf, 4),
            table::significant(score.max_latency_ms_per_inf, 4)
        ),
        table::significant(score.median_throughput_inf_per_s, 4),
    ];
    table::render(&header, &[row])
}

/// The departures from MLPerf Tiny's rules, or that there are none.
fn render_deviations(deviations: &[String]) -> String {
    if deviations.is_empty() {
        return format!(
            "MLPerf Tiny rules met: {} windows of at least {} s\n",
            score::MLPERF_WINDOWS,
            seconds(score::MLPERF_MIN_WINDOW.as_secs_f64())
        );
    }
    let mut text = String::new();
    for deviation in deviations {
        text.push_str(&format!("not MLPerf Tiny compliant: {deviation}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::mlperf::WindowResult;

    fn outcome(windows: Vec<WindowResult>) -> LatencyOutcome {
        LatencyOutcome {
            model: Model::find("ic01").expect("known"),
            warmup: 5,
            inferences: Some(105),
            windows,
            cancelled: false,
            error: None,
        }
    }

    #[test]
    fn the_score_table_shows_latency_spread_and_throughput() {
        let windows: Vec<WindowResult> = [105_000, 104_000, 106_000]
            .into_iter()
            .map(|elapsed_us| WindowResult {
                inferences: 105,
                warmup: 5,
                elapsed_us,
                results: String::new(),
            })
            .collect();
        let score = score::score(&windows).expect("score");
        let text = render_score("mlperf-dut:COM3", &outcome(windows), &score);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "target           model  windows  inferences/window  warmup  median ms/inf  \
             window spread ms/inf  median inf/s"
        );
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "mlperf-dut:COM3",
                "ic01",
                "3",
                "105",
                "5",
                "1.000",
                "0.9905–1.010",
                "1000"
            ]
        );
        assert_eq!(lines[1].len(), lines[0].len() + "–".len() - 1);
    }

    #[test]
    fn deviations_are_stated_and_compliance_too() {
        assert_eq!(
            render_deviations(&["windows of 0.5 s, shorter than MLPerf Tiny's 10 s".to_owned()]),
            "not MLPerf Tiny compliant: windows of 0.5 s, shorter than MLPerf Tiny's 10 s\n"
        );
        assert_eq!(
            render_deviations(&[]),
            "MLPerf Tiny rules met: 5 windows of at least 10 s\n"
        );
    }

    #[test]
    fn flags_of_the_other_target_are_refused_by_name() {
        let args = BenchArgs {
            sizes: vec![1024],
            ..BenchArgs::default()
        };
        let err = refuse_plan_flags(&args).expect_err("refused");
        assert!(
            err.to_string().starts_with("--sizes does not apply"),
            "{err}"
        );
        let args = BenchArgs {
            windows: Some(3),
            ..BenchArgs::default()
        };
        let err = refuse_dut_flags(&args).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "--windows applies to `--target mlperf-dut:PORT` only"
        );
        let args = BenchArgs {
            windows: Some(0),
            ..BenchArgs::default()
        };
        let err = plan_of(&args).expect_err("no windows");
        assert!(
            err.to_string().contains("--windows must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn the_infer_timeout_outlasts_a_long_window() {
        let args = BenchArgs::default();
        let plan = LatencyPlan {
            min_window: Duration::from_secs(60),
            ..LatencyPlan::default()
        };
        let config = client_config(&args, &plan).expect("valid");
        assert_eq!(config.infer_timeout, Duration::from_secs(130));
        let config = client_config(&args, &LatencyPlan::default()).expect("valid");
        assert_eq!(config.infer_timeout, Duration::from_secs(30));
    }
}
