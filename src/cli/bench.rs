//! `actprof bench`: time the kernels over a plan and print one line per cell.
//!
//! The plan comes from `--profile` (or the quick default) with the flags applied on top.
//! Host facts and warnings go to standard error, the results to standard output as a
//! table, CSV or JSON; `--out` also writes the CSV report. Ctrl-C stops after the current
//! sample: the finished cells are still printed and written, and the exit code is 130.
//! The `max err ULP` column is the kernel's error on the accuracy engine's fixed quick-check
//! points (`kernels::accuracy::quick_check`), the same figure the CSV report carries. For
//! i8/u8 cells it is the end-to-end error of the dequantized output over all 256 input
//! codes, and `max err LSB` their distance from the quantized definition (empty for f32).

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;

use super::args::{BenchArgs, Format};
use super::progress::Progress;
use super::table::{self, Align};
use crate::harness::plan::format_size;
use crate::harness::{CellResult, HostFacts, Plan, run_plan};
use crate::kernels;
use crate::kernels::Activation;
use crate::power::SourceSpec;
use crate::report::{self, Row};
use crate::session::powered::{DEFAULT_IDLE, DEFAULT_POLL_INTERVAL};
use crate::session::{Journal, PoweredPlan, SessionEvent};
use crate::target::TargetSpec;

pub use crate::report::row::TARGET_LOCAL;

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, the shell convention).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs `actprof bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if args.board_timeout.is_some() && !matches!(args.target, TargetSpec::Board(_)) {
        anyhow::bail!("--board-timeout applies to `--target board:PORT` only");
    }
    match &args.target {
        TargetSpec::Local => super::mlperf::refuse_dut_flags(args)?,
        TargetSpec::Board(port) => {
            super::mlperf::refuse_dut_flags(args)?;
            return super::board::run(args, port);
        }
        TargetSpec::MlperfDut(port) => return super::mlperf::run(args, port),
    }
    let plan = plan_of(args)?;
    if let Some(spec) = plan.power.clone() {
        return run_powered(args, &plan, &spec);
    }
    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(&cancel);
    let host = HostFacts::collect();
    eprint!("{}", host_summary(&host, &plan));
    let started_at_utc = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let mut progress = Progress::new();
    let outcome = run_plan(&plan, &cancel, &mut |event| progress.on_event(&event));
    progress.finish();

    let rows: Vec<Row> = outcome
        .results
        .iter()
        .map(|cell| Row::from_cell(cell, &host, &started_at_utc, TARGET_LOCAL))
        .collect();
    print_results(args.format, &outcome.results, &rows)?;
    finish(args, &plan, &rows, outcome.results.len(), outcome.cancelled)
}

/// Writes the report and says how the run ended.
pub(super) fn finish(
    args: &BenchArgs,
    plan: &Plan,
    rows: &[Row],
    finished: usize,
    cancelled: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.out {
        report::write_file(path, rows)?;
        eprintln!("report written to {}", path.display());
    }
    if cancelled {
        eprintln!(
            "interrupted: {finished} of {} cells finished (shown above{})",
            plan.cells().len(),
            if args.out.is_some() {
                " and written to the report"
            } else {
                ""
            }
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the plan with a power source: opens it (an unavailable source is an error before
/// anything runs), measures the idle baseline, runs the cells lengthened for the source,
/// journals the session, and adds the energy columns.
fn run_powered(args: &BenchArgs, plan: &Plan, spec: &SourceSpec) -> anyhow::Result<ExitCode> {
    let interval = args.power_interval.unwrap_or(DEFAULT_POLL_INTERVAL);
    let idle = args.idle.unwrap_or(DEFAULT_IDLE);
    let prepared = PoweredPlan::prepare(plan, spec, interval, idle)?;
    let sessions_root = Journal::sessions_root()?;
    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(&cancel);
    let host = HostFacts::collect();
    eprint!("{}", host_summary(&host, prepared.plan()));
    eprint!("{}", power_summary(&prepared));
    let started_at_utc = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let mut progress = Progress::new();
    let command = std::env::args().collect();
    let outcome = prepared.run(
        &sessions_root,
        command,
        host.clone(),
        &cancel,
        &mut |event| {
            if let SessionEvent::Run(event) = event {
                progress.on_event(&event);
            }
        },
    );
    progress.finish();
    let outcome = outcome.with_context(|| format!("the energy run with `{spec}` failed"))?;

    let rows: Vec<Row> = outcome
        .run
        .results
        .iter()
        .zip(&outcome.energies)
        .map(|(cell, energy)| {
            let row = Row::from_cell(cell, &host, &started_at_utc, TARGET_LOCAL);
            match energy {
                Some(energy) => row.with_energy(energy),
                None => row,
            }
        })
        .collect();
    print_results(args.format, &outcome.run.results, &rows)?;
    if args.format == Format::Table {
        io::stdout()
            .lock()
            .write_all(render_energy_table(&rows).as_bytes())
            .context("cannot write to standard output")?;
    }
    eprintln!(
        "idle baseline: {:.3} W over {} samples; session journalled in {}",
        outcome.idle.mean_power_w,
        outcome.idle.samples,
        outcome.journal_dir.display()
    );
    finish(
        args,
        plan,
        &rows,
        outcome.run.results.len(),
        outcome.run.cancelled,
    )
}

/// The power source, the idle baseline and the whole run's length, before it starts.
fn power_summary(prepared: &PoweredPlan) -> String {
    let info = prepared.info();
    format!(
        "power: {} at {:.1} Hz\n\
         energy: idle baseline {:.1} s, then every cell measures at least {:.1} s; \
         total at least {:.1} s\n",
        info.description,
        info.rate_hz,
        prepared.idle().as_secs_f64(),
        prepared.plan().min_time.as_secs_f64(),
        prepared.estimated_duration().as_secs_f64(),
    )
}

/// The energy of each cell as an aligned table, units in the headers.
pub fn render_energy_table(rows: &[Row]) -> String {
    let header = [
        ("activation", Align::Left),
        ("dtype", Align::Left),
        ("elements", Align::Right),
        ("avg W", Align::Right),
        ("idle W", Align::Right),
        ("nJ/call", Align::Right),
        ("CI95 nJ", Align::Right),
        ("pJ/elem", Align::Right),
        ("power samples", Align::Right),
    ];
    let number = |value: Option<f64>, digits| {
        value.map_or_else(|| "n/a".to_owned(), |v| table::significant(v, digits))
    };
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let ci = match (row.energy_ci95_low_nj, row.energy_ci95_high_nj) {
                (Some(low), Some(high)) => format!(
                    "[{}, {}]",
                    table::significant(low, 3),
                    table::significant(high, 3)
                ),
                _ => "n/a".to_owned(),
            };
            vec![
                row.activation.clone(),
                row.dtype.clone(),
                format_size(row.elements as usize),
                number(row.avg_power_w, 4),
                number(row.idle_power_w, 4),
                number(row.energy_per_call_nj, 3),
                ci,
                number(row.energy_per_element_pj, 3),
                row.power_samples
                    .map_or_else(|| "n/a".to_owned(), |n| n.to_string()),
            ]
        })
        .collect();
    format!("\n{}", table::render(&header, &lines))
}

/// The profile (or the quick default) with the command-line flags applied.
pub fn plan_of(args: &BenchArgs) -> anyhow::Result<Plan> {
    let mut plan = match &args.profile {
        Some(path) => Plan::from_toml_file(path)?,
        None => Plan::default(),
    };
    if !args.activations.is_empty() {
        plan.activations = args
            .activations
            .iter()
            .map(|spec| {
                spec.parse::<Activation>()
                    .with_context(|| format!("invalid --activations entry `{spec}`"))
            })
            .collect::<anyhow::Result<_>>()?;
    }
    if !args.sizes.is_empty() {
        plan.sizes.clone_from(&args.sizes);
    }
    if !args.dtypes.is_empty() {
        plan.dtypes.clone_from(&args.dtypes);
    }
    plan.threads = args.threads.unwrap_or(plan.threads);
    plan.min_time = args.min_time.unwrap_or(plan.min_time);
    plan.warmup = args.warmup.unwrap_or(plan.warmup);
    plan.min_samples = args.min_samples.unwrap_or(plan.min_samples);
    plan.seed = args.seed.unwrap_or(plan.seed);
    if args.power.is_some() {
        plan.power.clone_from(&args.power);
    }
    plan.validate().context("invalid bench options")?;
    Ok(plan)
}

/// Ctrl-C once: finish the current sample and stop. Twice: quit at once.
pub(super) fn install_ctrl_c(cancel: &Arc<AtomicBool>) {
    install_ctrl_c_after(cancel, "the current sample");
}

/// [`install_ctrl_c`] for runs that can only stop after `unit` (e.g. a board's current
/// cell, which the board finishes before it listens again).
pub(super) fn install_ctrl_c_after(cancel: &Arc<AtomicBool>, unit: &'static str) {
    let cancel = Arc::clone(cancel);
    let installed = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::Relaxed) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\nstopping after {unit} (Ctrl-C again to quit at once)");
    });
    if let Err(err) = installed {
        tracing::warn!("Ctrl-C will end the run without printing results: {err}");
    }
}

/// The host facts and warnings printed before a run, one fact per line.
pub fn host_summary(host: &HostFacts, plan: &Plan) -> String {
    let mhz = |mhz: Option<u64>| mhz.map_or_else(|| "?".to_owned(), |m| m.to_string());
    let cores = host
        .physical_cores
        .map_or_else(|| "?".to_owned(), |c| c.to_string());
    let mut text = format!(
        "host: {} ({cores} cores, {} threads), base {} MHz, now {} MHz, {:.1} GiB RAM\n\
         os: {} (kernel {}), governor {}, virtualization {}\n\
         build: actprof {} ({}), kernels f32 {}, int8 {}; streaming stores from {} elements, \
         calls split across threads from {} elements per thread\n\
         plan: {} cell(s), at least {:.1} s\n",
        host.cpu_model,
        host.logical_cores,
        mhz(host.base_mhz),
        mhz(host.current_mhz),
        host.memory_bytes as f64 / f64::from(1u32 << 30),
        host.os,
        host.kernel,
        host.governor.as_deref().unwrap_or("none (no cpufreq)"),
        host.virtualization.as_deref().unwrap_or("none"),
        host.actprof_version,
        host.rustc_version,
        host.kernel_isa,
        host.quant_isa,
        kernels::STREAMING_MIN_ELEMENTS,
        kernels::parallel::PARALLEL_MIN_ELEMENTS,
        plan.cells().len(),
        plan.estimated_duration().as_secs_f64(),
    );
    for warning in &host.warnings {
        text.push_str(&format!("warning: {warning}\n"));
    }
    if plan.threads > host.logical_cores {
        text.push_str(&format!(
            "warning: {} threads on {} logical CPUs: the threads take turns and spin while \
             they wait, so a call takes much longer than with fewer threads\n",
            plan.threads, host.logical_cores
        ));
    }
    if let Some(note) = unsplit_sizes(plan) {
        text.push_str(&note);
    }
    text
}

/// With `threads > 1`, which sizes run on the calling thread alone (fewer elements per
/// thread than the kernels' multi-threaded path splits), so their `threads` column is what
/// was asked, not what ran.
fn unsplit_sizes(plan: &Plan) -> Option<String> {
    if plan.threads < 2 {
        return None;
    }
    let mut notes = Vec::new();
    for dtype in &plan.dtypes {
        let min = if dtype.quantized().is_some() {
            kernels::parallel::PARALLEL_MIN_CODES
        } else {
            kernels::parallel::PARALLEL_MIN_ELEMENTS
        };
        let single: Vec<String> = plan
            .sizes
            .iter()
            .filter(|&&size| kernels::parallel::threads_used(size, min, plan.threads) == 1)
            .map(|&size| format_size(size))
            .collect();
        if !single.is_empty() {
            notes.push(format!("{dtype} at {}", single.join(", ")));
        }
    }
    (!notes.is_empty()).then(|| {
        format!(
            "note: calls are split across threads only from {} f32 elements ({} int8 codes) \
             per thread; these cells run on one thread although their threads column says \
             {}: {}\n",
            kernels::parallel::PARALLEL_MIN_ELEMENTS,
            kernels::parallel::PARALLEL_MIN_CODES,
            plan.threads,
            notes.join("; ")
        )
    })
}

pub(super) fn print_results(
    format: Format,
    results: &[CellResult],
    rows: &[Row],
) -> anyhow::Result<()> {
    let stdout = io::stdout().lock();
    match format {
        Format::Table => write_table(stdout, results),
        Format::Csv => Ok(report::write_rows(stdout, rows)?),
        Format::Json => {
            let mut stdout = stdout;
            serde_json::to_writer_pretty(&mut stdout, rows)?;
            writeln!(stdout).context("cannot write to standard output")
        }
    }
}

fn write_table(mut out: impl io::Write, results: &[CellResult]) -> anyhow::Result<()> {
    out.write_all(render_table(results).as_bytes())
        .context("cannot write to standard output")
}

/// The results as an aligned table, units in the headers.
pub fn render_table(results: &[CellResult]) -> String {
    let header = [
        ("activation", Align::Left),
        ("params", Align::Left),
        ("dtype", Align::Left),
        ("elements", Align::Right),
        ("threads", Align::Right),
        ("median ns/call", Align::Right),
        ("CI95 ns", Align::Right),
        ("ns/elem", Align::Right),
        ("Gelem/s", Align::Right),
        ("MAD ns", Align::Right),
        ("outliers mild/severe", Align::Right),
        ("max err ULP", Align::Right),
        ("max err LSB", Align::Right),
    ];
    let rows: Vec<Vec<String>> = results.iter().map(table_row).collect();
    table::render(&header, &rows)
}

fn table_row(cell: &CellResult) -> Vec<String> {
    let summary = &cell.summary;
    vec![
        cell.spec.activation.name().to_owned(),
        cell.spec.activation.params(),
        cell.spec.dtype.name().to_owned(),
        format_size(cell.spec.elements),
        cell.spec.threads.to_string(),
        table::significant(summary.median_ns, 4),
        table::interval(summary.ci95_low_ns, summary.ci95_high_ns, 4),
        table::significant(cell.ns_per_element(), 3),
        table::significant(cell.gelem_per_s(), 3),
        table::significant(summary.mad_ns, 2),
        format!("{}/{}", summary.outliers_mild, summary.outliers_severe),
        table::significant(cell.max_ulp_error, 3),
        cell.max_lsb_error
            .map_or_else(String::new, |lsb| lsb.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::harness::{CellSpec, Summary};
    use crate::kernels::int8::DType;

    fn cell() -> CellResult {
        CellResult {
            spec: CellSpec::f32(Activation::Sigmoid, 65_536, 1),
            iterations_per_sample: 10,
            threads_used: 1,
            summary: Summary {
                samples: 20,
                min_ns: 30_000.0,
                median_ns: 32_768.0,
                mean_ns: 33_000.0,
                stddev_ns: 500.0,
                mad_ns: 250.0,
                p5_ns: 30_100.0,
                p95_ns: 34_000.0,
                p99_ns: 35_000.0,
                ci95_low_ns: 32_700.0,
                ci95_high_ns: 32_900.0,
                outliers_mild: 2,
                outliers_severe: 1,
            },
            max_ulp_error: 1.5,
            max_abs_error: 1e-7,
            max_lsb_error: None,
            seed: 1,
            span: None,
        }
    }

    #[test]
    fn table_row_shows_units_derived_from_the_summary() {
        // 65 536 elements in 32 768 ns: 0.5 ns per element, 2 elements per ns.
        assert_eq!(
            table_row(&cell()),
            [
                "sigmoid",
                "",
                "f32",
                "64k",
                "1",
                "32768",
                "32700–32900",
                "0.500",
                "2.00",
                "250",
                "2/1",
                "1.50",
                ""
            ]
        );
        let mut int8 = cell();
        int8.spec = CellSpec::new(Activation::Sigmoid, DType::I8, 65_536, 1);
        int8.max_lsb_error = Some(0);
        let row = table_row(&int8);
        assert_eq!((row[2].as_str(), row[12].as_str()), ("i8", "0"));
        let text = render_table(&[cell()]);
        assert!(text.starts_with("activation"), "{text}");
        assert!(text.contains("median ns/call"), "{text}");
    }

    #[test]
    fn cells_too_small_to_split_are_named() {
        let plan = Plan {
            sizes: vec![1 << 10, 16 << 10, 32 << 10, 64 << 10],
            threads: 2,
            ..Plan::default()
        };
        let note = unsplit_sizes(&plan).expect("1k and 16k run on one thread");
        // 32K f32 elements are 16K per thread: the first size that is split.
        assert!(note.ends_with("f32 at 1k, 16k\n"), "{note}");
        let single = Plan { threads: 1, ..plan };
        assert_eq!(unsplit_sizes(&single), None);
    }

    #[test]
    fn host_summary_lists_warnings_and_oversubscription() {
        let host = HostFacts {
            logical_cores: 2,
            warnings: vec!["clock drifts".to_owned()],
            ..HostFacts::default()
        };
        let text = host_summary(
            &host,
            &Plan {
                threads: 3,
                ..Plan::default()
            },
        );
        assert!(text.contains("warning: clock drifts\n"), "{text}");
        assert!(
            text.contains("warning: 3 threads on 2 logical CPUs"),
            "{text}"
        );
        // 28 cells × (0.1 s + 0.2 s).
        assert!(text.contains("plan: 28 cell(s), at least 8.4 s"), "{text}");
        let text = host_summary(
            &host,
            &Plan {
                threads: 2,
                ..Plan::default()
            },
        );
        assert!(!text.contains("logical CPUs:"), "{text}");
    }

    #[test]
    fn flags_override_the_profile() {
        let args = BenchArgs {
            activations: vec!["relu".to_owned(), "swish:beta=2".to_owned()],
            sizes: vec![1000],
            dtypes: vec![DType::F32, DType::U8],
            min_time: Some(Duration::from_millis(20)),
            seed: Some(5),
            ..BenchArgs::default()
        };
        let plan = plan_of(&args).expect("valid flags");
        assert_eq!(
            plan.activations,
            [Activation::Relu, Activation::Swish { beta: 2.0 }]
        );
        assert_eq!(plan.sizes, [1000]);
        assert_eq!(plan.dtypes, [DType::F32, DType::U8]);
        assert_eq!(plan.min_time, Duration::from_millis(20));
        assert_eq!(plan.seed, 5);
        // Untouched settings keep the quick plan's values.
        assert_eq!(plan.warmup, Plan::default().warmup);
    }

    #[test]
    fn bad_flags_are_refused_with_the_flag_named() {
        let args = BenchArgs {
            activations: vec!["elu".to_owned()],
            ..BenchArgs::default()
        };
        let err = plan_of(&args).expect_err("elu is unknown");
        assert!(err.to_string().contains("--activations"), "{err}");
        let args = BenchArgs {
            min_samples: Some(1),
            ..BenchArgs::default()
        };
        let err = plan_of(&args).expect_err("one sample is too few");
        assert!(format!("{err:#}").contains("min_samples"), "{err:#}");
    }
}
