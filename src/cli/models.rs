//! `actprof models`: latency per inference of the model zoo, per activation.
//!
//! Every model × activation cell is timed by `models::measure` (warm-up, timed samples,
//! the harness's statistics, then a separate per-layer profiled pass for the activation
//! share). Host facts go to standard error, the results to standard output as a table, CSV
//! or JSON; `--out` writes the CSV report in the schema of `bench` with the `model`,
//! `batch` and `activation_share` columns filled. `elements` is one input's values times
//! the batch, so `ns_per_element` is the time per input value. Ctrl-C stops after the
//! current sample: finished cells are printed and written, and the exit code is 130.
//! `--summary` prints each model's layers, output shapes, parameters and MACs instead.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::Format;
use super::bench::{EXIT_INTERRUPTED, install_ctrl_c};
use super::table::{self, Align};
use crate::harness::HostFacts;
use crate::kernels::Activation;
use crate::models::measure::{self, Cell, InferenceResult, Settings};
use crate::models::zoo::MLP_SMALL_WIDTHS;
use crate::models::{ModelKind, ModelSpec, ModelSummary};
pub use crate::report::model_row::row;
use crate::report::{self, Row};

/// Default seed of weights, inputs and bootstrap (the quick plan's).
pub const DEFAULT_SEED: u64 = 24301;

/// `actprof models`.
#[derive(Clone, Debug, Default, Args)]
pub struct ModelsArgs {
    /// Models, comma-separated: ad-autoencoder, kws-dscnn, ic-resnet8, mlp-small.
    /// [default: all four]
    #[arg(long = "model", value_delimiter = ',', value_name = "LIST")]
    pub models: Vec<String>,

    /// Activations of the hidden layers, comma-separated, as for `bench` (e.g.
    /// `relu,leaky_relu:alpha=0.2,gelu`). [default: all seven of the quick plan]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub activations: Vec<String>,

    /// Inputs per inference (at least 1). [default: 1]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub batch: Option<usize>,

    /// Widths of mlp-small from input to output, comma-separated (at least two, each at
    /// least 1). [default: 2,64,64,64,2]
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = at_least_one)]
    pub mlp_widths: Vec<usize>,

    /// Minimum measuring time per cell, after warm-up, e.g. `0.5s` or `200ms`; the
    /// profiled pass for the activation share adds half of it. [default: 0.2s]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub min_time: Option<Duration>,

    /// Warm-up time per cell before sampling, e.g. `50ms`. [default: 0.1s]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub warmup: Option<Duration>,

    /// Minimum number of timed samples per cell (at least 2). [default: 10]
    #[arg(long, value_name = "N", value_parser = at_least_two)]
    pub min_samples: Option<usize>,

    /// Seed of the weights, the inputs (uniform in [-1, 1]) and the bootstrap.
    /// [default: 24301]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// What to print on standard output: an aligned table, CSV report rows, or JSON rows.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write the CSV report (one row per model × activation) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print each model's summary (layers, output shapes, parameters, MACs, activation
    /// memory) instead of timing.
    #[arg(long)]
    pub summary: bool,

    /// After the results, print the median time of every layer of every cell.
    #[arg(long)]
    pub layers: bool,
}

/// Runs `actprof models`.
pub fn run(args: &ModelsArgs) -> anyhow::Result<ExitCode> {
    let specs = model_specs(args)?;
    let activations = activations(&args.activations)?;
    let seed = args.seed.unwrap_or(DEFAULT_SEED);
    // Build every model once up front, so a bad option fails before anything is timed.
    let mut summaries = Vec::with_capacity(specs.len());
    for spec in &specs {
        let model = spec
            .build(activations[0], seed)
            .with_context(|| format!("cannot build model {}", spec.kind))?;
        summaries.push(model.summary());
    }
    if args.summary {
        let text: String = summaries.iter().map(render_summary).collect();
        write_stdout(&text)?;
        return Ok(ExitCode::SUCCESS);
    }

    let settings = Settings {
        warmup: args.warmup.unwrap_or(Duration::from_millis(100)),
        min_time: args.min_time.unwrap_or(Duration::from_millis(200)),
        min_samples: args.min_samples.unwrap_or(10),
        seed,
    };
    let batch = args.batch.unwrap_or(1);
    let cells: Vec<Cell> = specs
        .iter()
        .flat_map(|spec| {
            activations.iter().map(move |&activation| Cell {
                spec: spec.clone(),
                activation,
                batch,
            })
        })
        .collect();

    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(&cancel);
    let host = HostFacts::collect();
    eprint!("{}", header(&host, &settings, cells.len()));
    let started_at_utc = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let (results, cancelled) = measure_all(&cells, &settings, &cancel)?;
    let rows: Vec<Row> = results
        .iter()
        .map(|result| row(result, &host, &started_at_utc, seed))
        .collect();
    let mut text = match args.format {
        Format::Table => render_results(&results),
        Format::Csv => {
            let mut bytes = Vec::new();
            report::write_rows(&mut bytes, &rows)?;
            String::from_utf8(bytes).context("the CSV report is not UTF-8")?
        }
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&rows)?),
    };
    if args.layers && args.format == Format::Table {
        text.extend(results.iter().map(render_layers));
    }
    write_stdout(&text)?;
    if let Some(path) = &args.out {
        report::write_file(path, &rows)?;
        eprintln!("report written to {}", path.display());
    }
    if cancelled {
        eprintln!(
            "interrupted: {} of {} cells finished (shown above{})",
            results.len(),
            cells.len(),
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

/// The models named by `--model` (all four by default) with `--mlp-widths` applied.
pub fn model_specs(args: &ModelsArgs) -> anyhow::Result<Vec<ModelSpec>> {
    let kinds: Vec<ModelKind> = if args.models.is_empty() {
        ModelKind::ALL.to_vec()
    } else {
        args.models
            .iter()
            .map(|name| {
                name.parse::<ModelKind>()
                    .with_context(|| format!("invalid --model entry `{name}`"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let widths = if args.mlp_widths.is_empty() {
        MLP_SMALL_WIDTHS.to_vec()
    } else {
        args.mlp_widths.clone()
    };
    Ok(kinds
        .into_iter()
        .map(|kind| ModelSpec {
            kind,
            widths: widths.clone(),
        })
        .collect())
}

/// The activations of `--activations` (the seven of the quick plan by default).
pub fn activations(specs: &[String]) -> anyhow::Result<Vec<Activation>> {
    if specs.is_empty() {
        return Ok(Activation::DEFAULT_SET.to_vec());
    }
    specs
        .iter()
        .map(|spec| {
            spec.parse::<Activation>()
                .with_context(|| format!("invalid --activations entry `{spec}`"))
        })
        .collect()
}

/// Times every cell in order on a progress bar; stops early when cancelled.
fn measure_all(
    cells: &[Cell],
    settings: &Settings,
    cancel: &AtomicBool,
) -> anyhow::Result<(Vec<InferenceResult>, bool)> {
    const STEPS: u64 = 100;
    let bar = ProgressBar::with_draw_target(
        Some(cells.len() as u64 * STEPS),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {percent:>3}% (ETA {eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    let mut results = Vec::with_capacity(cells.len());
    for (index, cell) in cells.iter().enumerate() {
        bar.set_message(format!(
            "cell {}/{}: {} × {}",
            index + 1,
            cells.len(),
            cell.spec.kind,
            cell.activation
        ));
        let base = index as u64 * STEPS;
        let measured = measure::measure(cell, settings, cancel, &mut |fraction| {
            bar.set_position(base + (fraction * STEPS as f64) as u64);
        })
        .with_context(|| format!("cannot build model {}", cell.spec.kind))?;
        match measured {
            Some(result) => results.push(result),
            None => {
                bar.finish_and_clear();
                return Ok((results, true));
            }
        }
    }
    bar.finish_and_clear();
    Ok((results, false))
}

/// Host facts and the plan, before the run.
fn header(host: &HostFacts, settings: &Settings, cells: usize) -> String {
    let mut text = format!(
        "host: {} ({} threads), kernels {}; one inference at a time on this thread\n\
         plan: {cells} cell(s), at least {:.1} s\n",
        host.cpu_model,
        host.logical_cores,
        host.kernel_isa,
        cells as f64 * (settings.warmup + settings.min_time + settings.min_time / 2).as_secs_f64(),
    );
    for warning in &host.warnings {
        text.push_str(&format!("warning: {warning}\n"));
    }
    text
}

/// The results as an aligned table, times per inference in µs.
pub fn render_results(results: &[InferenceResult]) -> String {
    let header = [
        ("model", Align::Left),
        ("activation", Align::Left),
        ("params", Align::Left),
        ("batch", Align::Right),
        ("median µs/inference", Align::Right),
        ("CI95 µs", Align::Right),
        ("inputs/s", Align::Right),
        ("MAD µs", Align::Right),
        ("outliers mild/severe", Align::Right),
        ("activation share", Align::Right),
    ];
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let t = &r.timing;
            vec![
                r.summary.name.clone(),
                r.cell.activation.name().to_owned(),
                r.cell.activation.params(),
                r.cell.batch.to_string(),
                table::significant(t.median_ns / 1e3, 4),
                table::interval(t.ci95_low_ns / 1e3, t.ci95_high_ns / 1e3, 4),
                table::significant(r.cell.batch as f64 * 1e9 / t.median_ns, 3),
                table::significant(t.mad_ns / 1e3, 2),
                format!("{}/{}", t.outliers_mild, t.outliers_severe),
                format!("{:.1} %", 100.0 * r.activation_share),
            ]
        })
        .collect();
    table::render(&header, &rows)
}

/// The median time of each layer of one cell.
pub fn render_layers(result: &InferenceResult) -> String {
    let header = [
        ("#", Align::Right),
        ("layer", Align::Left),
        ("output", Align::Left),
        ("median µs", Align::Right),
        ("share", Align::Right),
    ];
    let total: f64 = result.steps.iter().map(|s| s.median_ns).sum();
    let rows: Vec<Vec<String>> = result
        .steps
        .iter()
        .zip(&result.summary.rows)
        .map(|(step, row)| {
            vec![
                step.index.to_string(),
                step.layer.clone(),
                row.output.to_string(),
                table::significant(step.median_ns / 1e3, 3),
                format!(
                    "{:.1} %",
                    100.0 * step.median_ns / total.max(f64::MIN_POSITIVE)
                ),
            ]
        })
        .collect();
    format!(
        "\n{} × {} (batch {}): median per layer over {} profiled inferences\n{}",
        result.summary.name,
        result.cell.activation,
        result.cell.batch,
        result.profiled_inferences,
        table::render(&header, &rows)
    )
}

/// A model's layers, shapes, parameters and MACs, with the totals above.
pub fn render_summary(summary: &ModelSummary) -> String {
    let header = [
        ("#", Align::Right),
        ("layer", Align::Left),
        ("output", Align::Left),
        ("params", Align::Right),
        ("MACs", Align::Right),
    ];
    let rows: Vec<Vec<String>> = summary
        .rows
        .iter()
        .map(|row| {
            vec![
                row.index.to_string(),
                row.layer.clone(),
                row.output.to_string(),
                row.params.to_string(),
                row.macs.to_string(),
            ]
        })
        .collect();
    format!(
        "{}: input {}, {} parameters, {} MACs, activation memory {} bytes (f32, per \
         input)\n{}\n",
        summary.name,
        summary.input,
        summary.params,
        summary.macs,
        summary.activation_bytes,
        table::render(&header, &rows)
    )
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write to standard output")
}

fn duration(text: &str) -> Result<Duration, String> {
    crate::harness::plan::parse_duration(text).map_err(|err| err.to_string())
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number ≥ 1")),
    }
}

fn at_least_two(text: &str) -> Result<usize, String> {
    match at_least_one(text)? {
        1 => Err("must be at least 2".to_owned()),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::measure::StepTime;

    #[test]
    fn bad_model_and_activation_entries_are_named() {
        let args = ModelsArgs {
            models: vec!["kws-dscnn".to_owned(), "vww".to_owned()],
            ..ModelsArgs::default()
        };
        let err = model_specs(&args).expect_err("vww is not in the zoo");
        assert!(
            format!("{err:#}").contains("--model entry `vww`"),
            "{err:#}"
        );
        let err = activations(&["elu".to_owned()]).expect_err("elu is unknown");
        assert!(
            err.to_string().contains("--activations entry `elu`"),
            "{err}"
        );
        assert_eq!(activations(&[]).expect("default").len(), 7);
    }

    #[test]
    fn numbers_are_checked_by_the_parsers() {
        assert!(at_least_one("0").is_err());
        assert!(at_least_one("x").is_err());
        assert_eq!(at_least_one("3"), Ok(3));
        assert!(at_least_two("1").is_err());
        assert!(duration("NaNs").is_err());
    }

    #[test]
    fn the_summary_lists_every_layer_with_totals() {
        let summary = ModelSpec::new(ModelKind::AdAutoencoder)
            .build(Activation::Relu, 1)
            .expect("builds")
            .summary();
        let text = render_summary(&summary);
        assert!(text.starts_with("ad-autoencoder: input 640, 265864 parameters, 264192 MACs"));
        assert!(text.contains("dense 640 → 128"), "{text}");
        assert_eq!(text.lines().count(), 2 + summary.rows.len() + 1);
    }

    #[test]
    fn a_result_becomes_a_model_row() {
        let summary = ModelSpec::new(ModelKind::MlpSmall)
            .build(Activation::Relu, 1)
            .expect("builds")
            .summary();
        let timing = crate::harness::Summary {
            samples: 20,
            min_ns: 900.0,
            median_ns: 1000.0,
            mean_ns: 1010.0,
            stddev_ns: 5.0,
            mad_ns: 4.0,
            p5_ns: 950.0,
            p95_ns: 1100.0,
            p99_ns: 1200.0,
            ci95_low_ns: 990.0,
            ci95_high_ns: 1010.0,
            outliers_mild: 1,
            outliers_severe: 0,
        };
        let result = InferenceResult {
            cell: Cell {
                spec: ModelSpec::new(ModelKind::MlpSmall),
                activation: Activation::Relu,
                batch: 4,
            },
            summary,
            iterations_per_sample: 100,
            timing,
            activation_share: 0.25,
            steps: vec![StepTime {
                index: 0,
                layer: "dense 2 → 64".to_owned(),
                is_activation: false,
                median_ns: 10.0,
            }],
            profiled_inferences: 10,
        };
        let row = row(&result, &HostFacts::default(), "2026-12-04T00:00:00Z", 5);
        assert_eq!(row.model.as_deref(), Some("mlp-small"));
        assert_eq!((row.batch, row.activation_share), (Some(4), Some(0.25)));
        // Two input values × batch 4.
        assert_eq!(row.elements, 8);
        assert_eq!(row.median_ns, 1000.0);
        assert_eq!(
            (row.activation.as_str(), row.dtype.as_str()),
            ("relu", "f32")
        );
        let table = render_results(std::slice::from_ref(&result));
        // 1000 ns per inference of 4 inputs: 1 µs, 4 million inputs per second.
        assert!(
            table.contains("1.000") && table.contains("4000000"),
            "{table}"
        );
        assert!(table.contains("25.0 %"), "{table}");
    }
}
