//! `actprof emulate KIND`: a meter emulator on a pseudo-terminal, for testing readers
//! (and the GUI) without hardware.
//!
//! The slave path is the first line on standard output (flushed at once); readers open it
//! like a real port. The emulator runs until SIGINT/SIGTERM or, with
//! `--fault disconnect-after=D`, until it closes the port. With `replug` as well it comes
//! back once on a fresh pty (like a cable pulled and plugged back), prints the new path on
//! a new line, and points `--link PATH` (a symlink, like udev's `/dev/serial/by-id/`
//! names) at it; the replugged meter stays connected.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;

use crate::harness::plan::parse_duration;
use crate::power::SourceKind;
use crate::power::meters::emulate::{DEFAULT_SEED, EmulatorOptions, Faults, Waveform};
use crate::power::meters::{ppk2, tc66c_emulator, um_emulator};
use crate::serial::{Link, SerialError, open_pty};

/// Pause between a disconnect and the replug, like a cable pulled and plugged back.
const REPLUG_PAUSE: Duration = Duration::from_millis(300);

/// The load a meter emulator plays unless `--waveform` says otherwise.
pub const DEFAULT_WAVEFORM: &str = "const:0.5W";

/// `actprof emulate`.
#[derive(Clone, Debug, Args)]
pub struct EmulateArgs {
    /// What to emulate: a meter (um24c, um25c, um34c, tc66c, ppk2, scpi (a bench supply) or
    /// ina (an INA219 line logger)); board (the actprof firmware in QEMU's mps2-an386,
    /// needs qemu-system-arm); or mlperf-dut (an MLPerf Tiny device under test).
    #[arg(value_name = "KIND")]
    pub kind: String,

    /// The load to play: `const:0.5W`, `const:100mA@3.3V`,
    /// `square:lo=0.1W,hi=0.5W,period=1s` (optionally `,v=3.3V`), or a CSV file
    /// `time_s,power_w[,voltage_v]`. Voltage defaults to 5 V.
    #[arg(long, value_name = "WAVEFORM", default_value = DEFAULT_WAVEFORM)]
    pub waveform: String,

    /// Faults to inject, comma-separated: garbage, short-reads, drop-samples,
    /// bad-checksum, silent-after=D, disconnect-after=D, replug; for `ina` also
    /// partial-line, crlf, missing-field, reset-after=D and wrap. For mlperf-dut: stale,
    /// garbage, lf, wrap, unprefixed, drop-ready[=K], slow-ready[=D], reset[=K],
    /// silent-after=D, disconnect-after=D, echo (K counts infer commands from 1). For
    /// board: garbage, echo, reset-after=D, silent-after=D, disconnect-after=D,
    /// kill-after=D (D counted from the end of the first measured cell).
    #[arg(long, value_name = "LIST", default_value = "")]
    pub fault: String,

    /// Seed of the emulator's random choices (garbage bytes, chunk sizes and pauses).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Delay between a request and the reply, e.g. `300ms`. [default: the meter's own]
    #[arg(long, value_name = "DURATION", value_parser = delay_arg)]
    pub reply_delay: Option<Duration>,

    /// Keep a symlink at PATH pointing to the current pty (replaced on every replug).
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,

    /// board: the firmware ELF QEMU runs. [default: $ACTPROF_BOARD_FIRMWARE, else
    /// firmware/target/thumbv7em-none-eabihf/release/actprof-fw-mps2 in the source tree
    /// actprof was built from, as `firmware/build-all.sh` builds it]
    #[arg(long, value_name = "ELF")]
    pub firmware: Option<PathBuf>,

    /// mlperf-dut: simulated time of one inference, e.g. `2ms`. [default: 1ms]
    #[arg(long, value_name = "DURATION", value_parser = delay_arg)]
    pub inference_time: Option<Duration>,

    /// mlperf-dut: the model it reports, which sizes its input buffer: ic01, kws01, vww01
    /// or ad01. [default: ic01]
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,

    /// mlperf-dut: the firmware's timestamp mode: performance (m-lap-us lines) or energy
    /// (a GPIO edge, no text). [default: performance]
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<super::emulate_dut::DutMode>,

    /// mlperf-dut: the 32-bit µs timer's value at start, e.g. 4294000000 (it wraps about
    /// a second later). [default: 123456]
    #[arg(long, value_name = "US")]
    pub clock_start: Option<u32>,
}

fn delay_arg(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|err| err.to_string())
}

/// An emulator's main loop: behaves like the device on `link` until `stop` is set or a
/// disconnect fault fires.
pub type EmulatorFn = fn(&mut dyn Link, &EmulatorOptions, &AtomicBool) -> Result<(), SerialError>;

/// The emulator of `kind` in this build.
pub fn emulator_for(kind: SourceKind) -> Option<EmulatorFn> {
    match kind {
        SourceKind::Um24c => Some(um_emulator::run_um24c),
        SourceKind::Um25c => Some(um_emulator::run_um25c),
        SourceKind::Um34c => Some(um_emulator::run_um34c),
        SourceKind::Tc66c => Some(tc66c_emulator::run),
        SourceKind::Scpi => Some(crate::power::meters::scpi::emulator::run),
        SourceKind::Ina => Some(crate::power::meters::line::emulator::run),
        SourceKind::Ppk2 => Some(ppk2::emulator::run),
        SourceKind::Rapl | SourceKind::Battery => None,
    }
}

/// Runs the emulator until stopped.
pub fn run(args: &EmulateArgs) -> anyhow::Result<ExitCode> {
    if args.kind != "board" && args.firmware.is_some() {
        bail!("--firmware applies to `actprof emulate board` only");
    }
    match args.kind.as_str() {
        "board" => return super::emulate_board::run(args),
        "mlperf-dut" => return super::emulate_dut::run(args),
        _ => {}
    }
    let Some(kind) = SourceKind::from_name(&args.kind).filter(|kind| kind.is_serial_meter()) else {
        bail!(
            "`{}` is not a meter; emulate one of: um24c, um25c, um34c, tc66c, ppk2, scpi, ina, \
             or board, mlperf-dut",
            args.kind
        );
    };
    let Some(emulator) = emulator_for(kind) else {
        bail!("this build has no emulator for `{}` yet", kind.name());
    };
    let options = EmulatorOptions {
        waveform: args.waveform.parse::<Waveform>()?,
        faults: args.fault.parse::<Faults>()?,
        seed: args.seed,
        reply_delay: args.reply_delay,
    };

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Release))
        .context("cannot catch SIGINT/SIGTERM to stop the emulator")?;

    let mut plug = 0u64;
    loop {
        let (mut master, hold, slave_path) = open_pty()?;
        if let Some(link) = &args.link {
            point_link(link, &slave_path)
                .with_context(|| format!("cannot point {} at {slave_path}", link.display()))?;
        }
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{slave_path}")?;
        stdout.flush()?;
        drop(stdout);
        tracing::info!("emulating a {} on {slave_path}", kind.name());

        let mut options = EmulatorOptions {
            seed: options.seed.wrapping_add(plug),
            ..options.clone()
        };
        // A replugged meter stays plugged: one pull per run.
        if plug > 0 {
            options.faults.disconnect_after = None;
        }
        let outcome = emulator(master.as_mut(), &options, &stop);
        drop(master);
        drop(hold);
        if let Err(err) = outcome {
            tracing::warn!("the emulator stopped: {err}");
        }
        if stop.load(Ordering::Acquire) || !options.faults.replug || plug > 0 {
            break;
        }
        tracing::info!("disconnected on purpose; replugging");
        std::thread::sleep(REPLUG_PAUSE);
        plug += 1;
    }
    if let Some(link) = &args.link {
        let _ = std::fs::remove_file(link);
    }
    Ok(ExitCode::SUCCESS)
}

/// Points the symlink `link` at `target`, replacing it atomically.
pub(super) fn point_link(link: &Path, target: &str) -> io::Result<()> {
    let mut temporary = link.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    std::fs::rename(&temporary, link)
}
