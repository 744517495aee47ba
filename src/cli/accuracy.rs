//! `actprof accuracy`: error sweeps of the fast kernels against the f64 reference.

use std::process::ExitCode;

use super::AccuracyArgs;

/// Runs `actprof accuracy`.
pub fn run(_args: &AccuracyArgs) -> anyhow::Result<ExitCode> {
    // TODO(report): the accuracy sweep command is written in the `report` branch.
    anyhow::bail!("`actprof accuracy` is not built yet")
}
