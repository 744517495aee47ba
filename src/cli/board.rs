//! `actprof bench --target ...` (in progress on a branch).

use std::process::ExitCode;

use super::args::BenchArgs;
use crate::target::PortSpec;

/// Runs the plan on the target.
pub fn run(_args: &BenchArgs, port: &PortSpec) -> anyhow::Result<ExitCode> {
    anyhow::bail!("target on {} is being built", port.port)
}
