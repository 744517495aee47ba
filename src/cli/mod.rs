//! Headless command line: clap arguments, one file per subcommand, logging and errors.
//!
//! `main.rs` parses a [`Cli`], opens the GUI when there is no subcommand, and otherwise
//! hands the [`Command`] to [`run`]; errors come back here to be printed by
//! [`print_error`].

pub mod accuracy;
pub mod accuracy_q;
pub mod args;
pub mod bench;
pub mod board;
pub mod compare;
pub mod emulate;
pub mod emulate_board;
pub mod emulate_dut;
pub mod eval;
pub mod eval_q;
pub mod import;
pub mod mlperf;
pub mod models;
pub mod out_file;
pub mod ports;
pub mod progress;
pub mod record;
pub mod table;
pub mod train_demo;

use std::path::Path;
use std::process::ExitCode;

pub use args::{
    AccuracyArgs, BenchArgs, Cli, Command, CompareArgs, EvalArgs, Format, Impl, IsaChoice,
};

/// Runs one subcommand and returns its exit code.
pub fn run(command: &Command) -> anyhow::Result<ExitCode> {
    if let Some(path) = written_at_the_end(command) {
        out_file::check_writable(path)?;
    }
    match command {
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Accuracy(args) => accuracy::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Record(args) => record::run(args),
        Command::Import(args) => import::run(args),
        Command::Emulate(args) => emulate::run(args),
        Command::Ports(args) => ports::run(args),
        Command::Models(args) => models::run(args),
        Command::TrainDemo(args) => train_demo::run(args),
    }
}

/// The file a command writes when it ends (the others write as they go, or nothing).
fn written_at_the_end(command: &Command) -> Option<&Path> {
    match command {
        Command::Bench(args) => args.out.as_deref(),
        Command::Models(args) => args.out.as_deref(),
        Command::TrainDemo(args) => args.out.as_deref(),
        Command::Record(args) => args.out.as_deref(),
        _ => None,
    }
}

/// Sends `tracing` output to standard error, filtered by `RUST_LOG` (default: `warn`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only on a terminal: a log redirected to a file stays plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A second initialisation (only possible in tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints `error: …` and one `caused by: …` line per underlying cause, on standard error.
pub fn print_error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("caused by: {cause}");
    }
}
