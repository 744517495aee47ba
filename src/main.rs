//! The `actprof` binary: the desktop app without arguments, a headless command otherwise.

use std::process::ExitCode;

use clap::Parser as _;

use actprof::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
