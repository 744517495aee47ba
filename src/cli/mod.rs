//! Headless command line.

use std::path::PathBuf;
use std::process::ExitCode;

pub mod compare;
pub mod eval;

// TODO(cli): these argument structs stand in for the harness branch's clap definitions
// until that branch is merged; the merge replaces this file.

/// Which implementation `eval` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Fast,
    Reference,
}

/// `actprof eval`.
#[derive(Clone, Debug)]
pub struct EvalArgs {
    pub activation: String,
    pub alpha: Option<f32>,
    pub beta: Option<f32>,
    pub implementation: Impl,
    pub values: Vec<String>,
}

/// `actprof compare`.
#[derive(Clone, Debug)]
pub struct CompareArgs {
    pub base: PathBuf,
    pub new: PathBuf,
    pub noise: String,
}

/// Parses the arguments and runs the chosen command.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
