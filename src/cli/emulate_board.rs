//! `actprof emulate board`: the actprof firmware in QEMU (`mps2-an386`, Cortex-M4F) on a
//! pseudo-terminal, for running `bench --target board:PTY` without a board.
//!
//! The client's pty path is the first line on standard output. QEMU starts paused, its own
//! serial pty is opened, and only then is it let go, so the boot line is never lost. Bytes
//! go through a relay that can inject faults (`--fault`, see
//! [`crate::target::board::relay`]). Timing is QEMU's instruction count (`-icount
//! shift=0`), the same on every run and every machine, and never a real chip's.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};

use super::emulate::{DEFAULT_WAVEFORM, EmulateArgs, point_link};
use crate::serial::{open_port, open_pty};
use crate::target::board::TIMING_QEMU;
use crate::target::board::qemu::{self, QemuBoard};
use crate::target::board::relay::{RelayEnd, RelayFaults, relay};

/// Runs `actprof emulate board`.
pub fn run(args: &EmulateArgs) -> anyhow::Result<ExitCode> {
    refuse_meter_and_dut_flags(args)?;
    let faults: RelayFaults = args.fault.parse()?;
    let firmware = qemu::firmware_path(args.firmware.as_deref())?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Release))
        .context("cannot catch SIGINT/SIGTERM to stop the emulator")?;

    let mut board = QemuBoard::start(&firmware)?;
    let mut board_link = open_port(board.pty(), crate::target::DEFAULT_BAUD)
        .context("cannot open the QEMU board's serial pty")?;
    let (mut client, hold, client_path) = open_pty()?;
    // Neither side may make the relay wait for the other to read (see `set_write_drain`):
    // a client that is slow to read must not stall or kill the board.
    client.set_write_drain(false);
    board_link.set_write_drain(false);
    board.monitor("cont")?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{client_path}").context("cannot write to standard output")?;
        stdout.flush().context("cannot write to standard output")?;
    }
    if let Some(link) = &args.link {
        point_link(link, &client_path)
            .with_context(|| format!("cannot point {} at {client_path}", link.display()))?;
    }
    eprintln!(
        "QEMU board (pid {}) running {} on {client_path}; timing: {TIMING_QEMU}{}",
        board.pid(),
        firmware.display(),
        if args.fault.trim().is_empty() {
            String::new()
        } else {
            format!("; faults: {}", args.fault.trim())
        }
    );
    let end = relay(
        &mut board,
        board_link.as_mut(),
        client.as_mut(),
        &faults,
        &stop,
    );
    drop(client);
    drop(hold);
    drop(board_link);
    let status = board.exit_status();
    board.stop();
    match end? {
        RelayEnd::Stopped => Ok(ExitCode::SUCCESS),
        RelayEnd::Disconnected => {
            eprintln!("fault: port closed (disconnect)");
            Ok(ExitCode::SUCCESS)
        }
        RelayEnd::BoardGone if faults.kill_after.is_some() => {
            eprintln!("fault: QEMU killed; the port is closed");
            Ok(ExitCode::SUCCESS)
        }
        RelayEnd::BoardGone => bail!(
            "QEMU ended by itself ({}); the port is closed (is {} an mps2-an386 firmware ELF?)",
            status.map_or_else(|| "no exit status".to_owned(), |s| s.to_string()),
            firmware.display()
        ),
    }
}

/// Refuses the flags of the meter and DUT emulators, which the board would ignore.
fn refuse_meter_and_dut_flags(args: &EmulateArgs) -> anyhow::Result<()> {
    let set = [
        (args.waveform != DEFAULT_WAVEFORM, "--waveform"),
        (args.reply_delay.is_some(), "--reply-delay"),
        (args.inference_time.is_some(), "--inference-time"),
        (args.model.is_some(), "--model"),
        (args.mode.is_some(), "--mode"),
        (args.clock_start.is_some(), "--clock-start"),
    ];
    if let Some((_, flag)) = set.iter().find(|(on, _)| *on) {
        bail!("{flag} does not apply to `actprof emulate board`");
    }
    Ok(())
}
