//! `actprof emulate mlperf-dut`: an MLPerf Tiny device under test on a pseudo-terminal,
//! for testing `bench --target mlperf-dut:PORT` without a board.
//!
//! The slave path is the first line on standard output (flushed at once). The emulated
//! DUT (`target::mlperf::emulator`) runs until SIGINT/SIGTERM or, with
//! `--fault disconnect-after=D`, until it closes the port. `--model`, `--mode`,
//! `--inference-time`, `--clock-start`, `--fault`, `--seed`, `--reply-delay` and `--link`
//! apply; `--waveform` does not.

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use clap::ValueEnum;

use super::emulate::{EmulateArgs, point_link};
use crate::serial::open_pty;
use crate::target::mlperf::emulator::{
    self, DEFAULT_CLOCK_START_US, DEFAULT_INFERENCE_TIME, DutEmulatorOptions, DutFaults,
};
use crate::target::mlperf::{Model, TimestampMode};

/// `--mode` of the emulated DUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DutMode {
    /// `m-lap-us` timestamps, as firmware built with EE_CFG_ENERGY_MODE 0.
    Performance,
    /// GPIO timestamps and no text, as firmware built with EE_CFG_ENERGY_MODE 1.
    Energy,
}

/// Runs the emulated DUT until stopped.
pub fn run(args: &EmulateArgs) -> anyhow::Result<ExitCode> {
    let options = options_of(args)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Release))
        .context("cannot catch SIGINT/SIGTERM to stop the emulator")?;

    let (mut master, hold, slave_path) = open_pty()?;
    if let Some(link) = &args.link {
        point_link(link, &slave_path)
            .with_context(|| format!("cannot point {} at {slave_path}", link.display()))?;
    }
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{slave_path}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(
        "emulating an MLPerf Tiny DUT ({}, {} mode, {:?} per inference, faults `{}`) on \
         {slave_path}",
        options.model.name,
        options.mode,
        options.inference_time,
        options.faults
    );

    let outcome = emulator::run(master.as_mut(), &options, &stop);
    drop(master);
    drop(hold);
    if let Some(link) = &args.link {
        let _ = std::fs::remove_file(link);
    }
    if let Err(err) = outcome {
        tracing::warn!("the emulator stopped: {err}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The emulator's options from the command line.
fn options_of(args: &EmulateArgs) -> anyhow::Result<DutEmulatorOptions> {
    let name = args.model.as_deref().unwrap_or("ic01");
    let Some(model) = Model::find(name) else {
        bail!(
            "unknown model `{name}` for mlperf-dut (known: {})",
            Model::names()
        );
    };
    let faults: DutFaults = args.fault.parse()?;
    let mode = match args.mode.unwrap_or(DutMode::Performance) {
        DutMode::Performance => TimestampMode::Performance,
        DutMode::Energy => TimestampMode::Energy,
    };
    Ok(DutEmulatorOptions {
        model,
        mode,
        inference_time: args.inference_time.unwrap_or(DEFAULT_INFERENCE_TIME),
        clock_start_us: args.clock_start.unwrap_or(DEFAULT_CLOCK_START_US),
        faults,
        seed: args.seed,
        reply_delay: args.reply_delay,
    })
}
