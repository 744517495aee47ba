//! Headless command line.

use std::process::ExitCode;

/// Parses the arguments and runs the chosen command.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
