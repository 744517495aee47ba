//! `actprof train-demo`: the dying-ReLU experiment from the command line.
//!
//! Trains `mlp-small` on the built-in two spirals once per activation × learning rate
//! (`models::train`), prints one summary line per run on standard output, and with `--out`
//! writes every epoch of every run as CSV (`report::epochs`). Ctrl-C stops after the
//! current epoch; finished epochs are printed and written, and the exit code is 130.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::bench::{EXIT_INTERRUPTED, install_ctrl_c};
use super::models::{DEFAULT_SEED, activations};
use super::table::{self, Align};
use crate::models::train::{DEFAULT_LEARNING_RATES, TrainConfig, TrainRun, train};
pub use crate::report::epochs::epoch_rows;
use crate::report::write_epochs_file;

/// `actprof train-demo`.
#[derive(Clone, Debug, Default, Args)]
pub struct TrainDemoArgs {
    /// Activations to train with, comma-separated, as for `bench`. [default: all seven of
    /// the quick plan]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub activations: Vec<String>,

    /// Learning rates of the SGD updates, comma-separated, each a finite number > 0.
    /// [default: 0.05,0.5, a normal and a deliberately high one]
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = learning_rate)]
    pub lr: Vec<f32>,

    /// Epochs per run (at least 1). [default: 40]
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// Seed of the data, the weights and the shuffling. [default: 24301]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Widths of the network from input to output, comma-separated; input and output
    /// must be 2. [default: 2,64,64,64,2]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub widths: Vec<usize>,

    /// Points of each spiral (at least 2). [default: 200]
    #[arg(long, value_name = "N")]
    pub points: Option<usize>,

    /// Write every epoch of every run as CSV (activation, params, lr, epoch, loss,
    /// accuracy, dead_fraction, seed) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `actprof train-demo`.
pub fn run(args: &TrainDemoArgs) -> anyhow::Result<ExitCode> {
    let activations = activations(&args.activations)?;
    let rates = if args.lr.is_empty() {
        DEFAULT_LEARNING_RATES.to_vec()
    } else {
        args.lr.clone()
    };
    let defaults = TrainConfig::default();
    let base = TrainConfig {
        widths: if args.widths.is_empty() {
            defaults.widths.clone()
        } else {
            args.widths.clone()
        },
        epochs: args.epochs.unwrap_or(defaults.epochs),
        points_per_class: args.points.unwrap_or(defaults.points_per_class),
        seed: args.seed.unwrap_or(DEFAULT_SEED),
        ..defaults
    };
    for &learning_rate in &rates {
        TrainConfig {
            learning_rate,
            ..base.clone()
        }
        .validate()
        .context("invalid train-demo options")?;
    }

    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(&cancel);
    let total = (activations.len() * rates.len() * base.epochs) as u64;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} epochs {msg}") {
        bar.set_style(style);
    }
    let mut runs = Vec::new();
    'runs: for &learning_rate in &rates {
        for &activation in &activations {
            bar.set_message(format!("{activation} at lr {learning_rate}"));
            let config = TrainConfig {
                learning_rate,
                ..base.clone()
            };
            let run = train(activation, &config, &cancel, &mut |record| {
                if record.epoch > 0 {
                    bar.inc(1);
                }
            })
            .context("invalid train-demo options")?;
            let stop = run.cancelled;
            if let Some(epoch) = run.diverged_at {
                bar.suspend(|| {
                    eprintln!(
                        "warning: {activation} at lr {learning_rate} diverged at epoch {epoch} \
                         (loss or weights not finite); its rows stop at epoch {}",
                        epoch - 1
                    );
                });
            }
            runs.push(run);
            if stop {
                break 'runs;
            }
        }
    }
    bar.finish_and_clear();

    io::stdout()
        .lock()
        .write_all(render_runs(&runs).as_bytes())
        .context("cannot write to standard output")?;
    if let Some(path) = &args.out {
        write_epochs_file(path, &epoch_rows(&runs, base.seed))?;
        eprintln!("epochs written to {}", path.display());
    }
    if runs.iter().any(|run| run.cancelled) {
        eprintln!("interrupted: the epochs finished so far are shown above");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per run: the last epoch's loss, accuracy and dead fraction, and the most
/// units that were dead at once.
pub fn render_runs(runs: &[TrainRun]) -> String {
    let header = [
        ("activation", Align::Left),
        ("params", Align::Left),
        ("lr", Align::Right),
        ("epochs", Align::Right),
        ("loss", Align::Right),
        ("accuracy", Align::Right),
        ("dead units", Align::Right),
        ("most dead", Align::Right),
        ("note", Align::Left),
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .filter_map(|run| {
            let last = run.records.last()?;
            let most = run
                .records
                .iter()
                .map(|r| r.dead_fraction)
                .fold(0.0, f64::max);
            let note = match (run.diverged_at, run.cancelled) {
                (Some(epoch), _) => format!("diverged at epoch {epoch}"),
                (None, true) => "interrupted".to_owned(),
                (None, false) => String::new(),
            };
            Some(vec![
                run.activation.name().to_owned(),
                run.activation.params(),
                format!("{}", run.learning_rate),
                last.epoch.to_string(),
                table::significant(last.loss, 3),
                format!("{:.1} %", 100.0 * last.accuracy),
                format!("{:.1} %", 100.0 * last.dead_fraction),
                format!("{:.1} %", 100.0 * most),
                note,
            ])
        })
        .collect();
    table::render(&header, &rows)
}

fn learning_rate(text: &str) -> Result<f32, String> {
    match text.trim().parse::<f32>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("`{text}` is not a finite number > 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Activation;
    use crate::models::train::EpochRecord;

    #[test]
    fn learning_rates_must_be_finite_and_positive() {
        for bad in ["NaN", "inf", "0", "-0.1", "fast"] {
            assert!(learning_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(learning_rate("0.5"), Ok(0.5));
    }

    #[test]
    fn runs_become_rows_and_summary_lines() {
        let record = |epoch, dead_fraction| EpochRecord {
            epoch,
            loss: 0.5,
            accuracy: 0.75,
            dead_fraction,
        };
        let run = TrainRun {
            activation: Activation::LeakyRelu { alpha: 0.01 },
            learning_rate: 0.5,
            records: vec![record(0, 0.0), record(1, 0.25), record(2, 0.125)],
            diverged_at: Some(3),
            cancelled: false,
        };
        let rows = epoch_rows(std::slice::from_ref(&run), 9);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[2].epoch, rows[2].dead_fraction), (2, 0.125));
        assert_eq!((rows[0].params.as_str(), rows[0].seed), ("alpha=0.01", 9));
        let text = render_runs(&[run]);
        assert!(text.contains("12.5 %") && text.contains("25.0 %"), "{text}");
        assert!(text.contains("diverged at epoch 3"), "{text}");
    }
}
