//! `actprof accuracy`: error sweeps of the fast kernels against the exact f64 reference.
//!
//! Every chosen activation is checked on every chosen kernel variant (ISA), over a
//! deterministic sample of inputs ([`DEFAULT_SAMPLED_POINTS`] unless `--points` says
//! otherwise) or, with `--exhaustive`, over all 2^32 f32 bit patterns using every core. The
//! table gives the worst errors found, where they occur and the kernel's contract.
//!
//! `--dtype i8|u8` checks the quantized kernels instead ([`super::accuracy_q`]).
//!
//! Exit codes: 0 when every kernel met its contract over the whole sweep, 1 when any
//! kernel broke it (also if found before an interruption), 130 when Ctrl-C stopped the
//! sweeps before they finished (the partial results are printed, marked `PARTIAL`).

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::bench::EXIT_INTERRUPTED;
use super::eval::shortest;
use super::table::{self, Align};
use super::{AccuracyArgs, IsaChoice};
use crate::kernels::accuracy::{
    self as sweeps, AccuracyReport, Contract, DEFAULT_SAMPLED_POINTS, MIN_SAMPLED_POINTS, SweepMode,
};
use crate::kernels::{Activation, Isa};

/// Runs `actprof accuracy` and prints its table.
pub fn run(args: &AccuracyArgs) -> anyhow::Result<ExitCode> {
    if let Some(dtype) = args.dtype.quantized() {
        return super::accuracy_q::run(args, dtype);
    }
    let activations = activations_of(args)?;
    let isas = isas_of(args.isa)?;
    let mode = mode_of(args)?;
    let threads = threads_of(args)?;

    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(&cancel);

    let mut reports = Vec::new();
    'sweeps: for &activation in &activations {
        for &isa in &isas {
            reports.push(sweep_with_progress(activation, isa, mode, threads, &cancel));
            if cancel.load(Ordering::Relaxed) {
                break 'sweeps;
            }
        }
    }

    let text = render(&reports);
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write to standard output")?;

    let planned = activations.len() * isas.len();
    let interrupted = reports.len() < planned || reports.iter().any(|r| r.cancelled);
    if interrupted {
        eprintln!(
            "interrupted: {} of {planned} sweeps finished; PARTIAL rows checked fewer inputs \
             than asked and prove nothing beyond them",
            reports.iter().filter(|r| !r.cancelled).count()
        );
    }
    Ok(exit_code(&reports, interrupted))
}

/// 1 if any kernel broke its contract, else 130 if interrupted, else 0.
fn exit_code(reports: &[AccuracyReport], interrupted: bool) -> ExitCode {
    if reports.iter().any(failed) {
        ExitCode::FAILURE
    } else if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    }
}

/// The activations to check: `--activations`, or the default seven.
pub fn activations_of(args: &AccuracyArgs) -> anyhow::Result<Vec<Activation>> {
    if args.activations.is_empty() {
        return Ok(Activation::DEFAULT_SET.to_vec());
    }
    args.activations
        .iter()
        .map(|spec| {
            spec.parse()
                .with_context(|| format!("bad --activations entry `{spec}`"))
        })
        .collect()
}

/// The kernel variants to check; asking for one this CPU cannot run is an error.
pub fn isas_of(choice: IsaChoice) -> anyhow::Result<Vec<Isa>> {
    let wanted = match choice {
        IsaChoice::All => return Ok(Isa::available()),
        IsaChoice::Scalar => Isa::Scalar,
        IsaChoice::Neon => Isa::Neon,
        IsaChoice::Avx2 => Isa::Avx2Fma,
        IsaChoice::Avx512 => Isa::Avx512,
    };
    if !wanted.is_available() {
        let available: Vec<&str> = Isa::available().into_iter().map(Isa::name).collect();
        bail!(
            "this CPU cannot run the {} kernels (available here: {})",
            wanted.name(),
            available.join(", ")
        );
    }
    Ok(vec![wanted])
}

fn mode_of(args: &AccuracyArgs) -> anyhow::Result<SweepMode> {
    if args.exhaustive {
        return Ok(SweepMode::Exhaustive);
    }
    let points = args.points.unwrap_or(DEFAULT_SAMPLED_POINTS);
    if points < MIN_SAMPLED_POINTS {
        bail!(
            "--points {points} is too few to check a kernel: at least {MIN_SAMPLED_POINTS} \
             (the default is {DEFAULT_SAMPLED_POINTS})"
        );
    }
    Ok(SweepMode::Sampled { points })
}

fn threads_of(args: &AccuracyArgs) -> anyhow::Result<usize> {
    match args.threads {
        Some(0) => bail!("--threads must be at least 1"),
        Some(threads) => Ok(threads),
        None => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
    }
}

/// One sweep with a progress bar on standard error (hidden when that is not a terminal).
fn sweep_with_progress(
    activation: Activation,
    isa: Isa,
    mode: SweepMode,
    threads: usize,
    cancel: &AtomicBool,
) -> AccuracyReport {
    let bar = ProgressBar::with_draw_target(Some(mode.points()), ProgressDrawTarget::stderr());
    let template = "{msg:24} [{elapsed_precise}] {bar:30} {percent:>3}% (ETA {eta})";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(format!("{activation} {}", isa.name()));

    let report = sweeps::sweep(
        activation,
        isa,
        mode,
        threads,
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
        cancel,
    );
    bar.finish_and_clear();
    tracing::debug!(
        "{activation} on {}: {} points in {:.2} s",
        isa.name(),
        report.points_checked,
        report.elapsed_s
    );
    report
}

/// Ctrl-C once: stop the sweeps after their current chunk and print what was found.
/// Twice: quit at once.
fn install_ctrl_c(cancel: &Arc<AtomicBool>) {
    let cancel = Arc::clone(cancel);
    let installed = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::Relaxed) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\nstopping the sweep (Ctrl-C again to quit at once)");
    });
    if let Err(err) = installed {
        tracing::warn!("Ctrl-C will end the sweep without printing results: {err}");
    }
}

/// The results table, then one note per kernel whose contract bounds tiny results
/// absolutely. For those kernels the table's ULP column counts only inputs whose exact
/// result is a normal f32, as the contract does.
pub fn render(reports: &[AccuracyReport]) -> String {
    let header = [
        ("activation", Align::Left),
        ("isa", Align::Left),
        ("points", Align::Right),
        ("max ULP", Align::Right),
        ("at x", Align::Right),
        ("max abs error", Align::Right),
        ("at x", Align::Right),
        ("contract", Align::Left),
        ("failures", Align::Right),
        ("result", Align::Left),
    ];
    let rows: Vec<Vec<String>> = reports.iter().map(table_row).collect();
    let mut text = table::render(&header, &rows);

    for report in reports {
        let contract = sweeps::contract(report.activation);
        let Some(bound) = contract.abs_below_normal else {
            continue;
        };
        text.push_str(&format!(
            "{} on {}: ULP counted where the exact result is a normal f32; below the normal \
             range the worst absolute error is {} (contract ≤ {}), the largest ULP error \
             anywhere {} at x = {}\n",
            report.activation,
            report.isa.name(),
            scientific(report.worst_below_normal_abs),
            scientific(bound),
            table::significant(report.max_ulp, 3),
            shortest(report.max_ulp_at),
        ));
    }
    text
}

fn table_row(report: &AccuracyReport) -> Vec<String> {
    let contract = sweeps::contract(report.activation);
    let (max_ulp, max_ulp_at) =
        if contract.abs_below_normal.is_none() || report.max_ulp == report.max_ulp_normal_outputs {
            (report.max_ulp, shortest(report.max_ulp_at))
        } else {
            // The overall worst lies where the contract counts absolute error (see the note
            // under the table); the table shows the worst among normal results.
            (
                report.max_ulp_normal_outputs,
                shortest(report.max_ulp_normal_at),
            )
        };
    vec![
        report.activation.to_string(),
        report.isa.name().to_owned(),
        report.points_checked.to_string(),
        table::significant(max_ulp, 3),
        max_ulp_at,
        scientific(report.max_abs),
        shortest(report.max_abs_at),
        contract_text(&contract),
        report.failures.to_string(),
        verdict(report).to_owned(),
    ]
}

/// Whether the sweep shows a broken contract (a partial sweep can, a complete one must
/// also pass).
fn failed(report: &AccuracyReport) -> bool {
    report.failures > 0 || (!report.cancelled && !report.passes)
}

/// `PASS`, `FAIL`, or `PARTIAL` for an interrupted sweep without failures so far.
fn verdict(report: &AccuracyReport) -> &'static str {
    if failed(report) {
        "FAIL"
    } else if report.cancelled {
        "PARTIAL"
    } else {
        "PASS"
    }
}

/// The promise as a short phrase: `exact`, `≤ 2 ULP`, `≤ 4 ULP, ≤ 1e-9 abs if subnormal`.
fn contract_text(contract: &Contract) -> String {
    let ulp = if contract.max_ulp == 0.0 {
        "exact".to_owned()
    } else {
        format!("≤ {} ULP", contract.max_ulp)
    };
    match contract.abs_below_normal {
        Some(bound) => format!("{ulp}, ≤ {} abs if subnormal", scientific(bound)),
        None => ulp,
    }
}

/// Three significant digits in exponent form (`2.98e-8`), `0` for zero.
fn scientific(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let text = format!("{x:.2e}");
    // `2.50e-8` → `2.5e-8`, `1.00e-9` → `1e-9`: trailing zeros add no information.
    match text.split_once('e') {
        Some((mantissa, exponent)) if mantissa.contains('.') => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exponent}")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::GeluApproximation;

    fn report(activation: Activation, failures: u64, cancelled: bool) -> AccuracyReport {
        AccuracyReport {
            activation,
            isa: Isa::Scalar,
            points_checked: 1000,
            max_ulp: 1.5,
            max_ulp_at: -0.25,
            max_abs: 2.5e-8,
            max_abs_at: 3.0,
            max_ulp_normal_outputs: 1.25,
            max_ulp_normal_at: 0.75,
            worst_below_normal_abs: 1e-12,
            failures,
            cancelled,
            passes: failures == 0 && !cancelled,
            elapsed_s: 0.5,
        }
    }

    #[test]
    fn verdicts_and_exit_codes_follow_failures_then_interruption() {
        let pass = report(Activation::Sigmoid, 0, false);
        let partial = report(Activation::Tanh, 0, true);
        let fail = report(Activation::Tanh, 3, true);
        assert_eq!(
            [verdict(&pass), verdict(&partial), verdict(&fail)],
            ["PASS", "PARTIAL", "FAIL"]
        );
        assert_eq!(
            exit_code(std::slice::from_ref(&pass), false),
            ExitCode::SUCCESS
        );
        assert_eq!(
            exit_code(&[pass.clone(), partial], true),
            ExitCode::from(EXIT_INTERRUPTED)
        );
        assert_eq!(exit_code(&[pass, fail], true), ExitCode::FAILURE);
    }

    #[test]
    fn a_gelu_row_shows_the_worst_normal_result_and_where_it_is() {
        // The overall worst (1.5 ULP at −0.25) stands for a subnormal result, where GELU's
        // contract counts absolute error; the row shows the normal results' worst instead.
        let gelu = Activation::Gelu {
            approximation: GeluApproximation::Erf,
        };
        let row = table_row(&report(gelu, 0, false));
        assert_eq!((row[3].as_str(), row[4].as_str()), ("1.25", "0.75"));
    }

    #[test]
    fn table_rows_show_the_report_fields() {
        let row = table_row(&report(Activation::LeakyRelu { alpha: 0.2 }, 0, false));
        assert_eq!(
            row,
            [
                "leaky_relu:alpha=0.2",
                "scalar",
                "1000",
                "1.50",
                "-0.25",
                "2.5e-8",
                "3",
                "≤ 0.5 ULP",
                "0",
                "PASS"
            ]
        );
    }

    #[test]
    fn absolute_contracts_get_a_note_below_the_table() {
        let gelu = Activation::Gelu {
            approximation: GeluApproximation::Erf,
        };
        let text = render(&[report(Activation::Relu, 0, false), report(gelu, 0, false)]);
        assert!(text.contains("exact"), "{text}");
        assert!(
            text.contains(
                "gelu on scalar: ULP counted where the exact result is a normal f32; below \
                 the normal range the worst absolute error is 1e-12 (contract ≤ 1e-9), the \
                 largest ULP error anywhere 1.50 at x = -0.25"
            ),
            "{text}"
        );
        // In the table, gelu's ULP column shows the worst among normal results.
        let gelu_row = text.lines().nth(2).expect("gelu row");
        assert!(gelu_row.contains(" 1.25  "), "{text}");
        assert!(!text.contains("relu on scalar:"), "{text}");
    }

    #[test]
    fn scientific_keeps_three_significant_digits() {
        assert_eq!(scientific(2.9766355491567253e-8), "2.98e-8");
        assert_eq!(scientific(1e-9), "1e-9");
        assert_eq!(scientific(2.5e-8), "2.5e-8");
        assert_eq!(scientific(0.0), "0");
        assert_eq!(scientific(1234.0), "1.23e3");
    }

    #[test]
    fn bad_arguments_are_refused() {
        let args = AccuracyArgs {
            activations: vec!["elu".to_owned()],
            exhaustive: false,
            points: Some(0),
            threads: Some(0),
            isa: IsaChoice::All,
            dtype: crate::kernels::int8::DType::F32,
        };
        let error = activations_of(&args).expect_err("elu");
        assert!(
            format!("{error:#}").contains("bad --activations entry `elu`"),
            "{error:#}"
        );
        assert!(mode_of(&args).is_err());
        assert!(threads_of(&args).is_err());
        let exhaustive = AccuracyArgs {
            exhaustive: true,
            ..args
        };
        assert_eq!(mode_of(&exhaustive).expect("valid"), SweepMode::Exhaustive);
    }
}
