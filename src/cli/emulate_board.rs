//! `actprof emulate ...` (in progress on a branch).

use std::process::ExitCode;

use super::emulate::EmulateArgs;

/// Runs the emulator.
pub fn run(args: &EmulateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("emulator {} is being built", args.kind)
}
