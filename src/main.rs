//! The `actprof` binary: the desktop app without arguments, a headless command otherwise.

use std::process::ExitCode;

use clap::Parser as _;

use actprof::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    cli::init_logging();
    let outcome = match &cli.command {
        Some(command) => cli::run(command),
        None => open_app(),
    };
    outcome.unwrap_or_else(|err| {
        cli::print_error(&err);
        ExitCode::FAILURE
    })
}

/// `--help` and `--version` print and succeed; a bad argument prints clap's message (what
/// is wrong, the usage line, where to look) and fails with exit code 1 like every other error.
fn usage_error(err: &clap::Error) -> ExitCode {
    // Printing can only fail when stdout or stderr is closed; there is nobody to tell then.
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(feature = "gui")]
fn open_app() -> anyhow::Result<ExitCode> {
    actprof::gui::run()?;
    Ok(ExitCode::SUCCESS)
}

/// Built without the `gui` feature there is no app to open: show what the CLI offers.
#[cfg(not(feature = "gui"))]
fn open_app() -> anyhow::Result<ExitCode> {
    use clap::CommandFactory as _;

    Cli::command().print_help()?;
    Ok(ExitCode::from(2))
}
