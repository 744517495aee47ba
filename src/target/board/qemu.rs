//! The QEMU board: the actprof firmware in QEMU's `mps2-an386` (Cortex-M4F) with its UART
//! on a pseudo-terminal, started paused so no boot output is lost.
//!
//! QEMU runs with `-icount shift=0,align=off,sleep=off`: one guest instruction is one
//! nanosecond of virtual time, whatever the host is doing, so the firmware's timer counts
//! instructions (25 MHz → one tick per 40 instructions) and repeats exactly run after run.
//! Those are **QEMU instruction counts, not real-chip cycles**: QEMU models no pipeline,
//! wait states or caches.
//!
//! Start-up: QEMU prints `char device redirected to /dev/pts/N (label serial0)` on its
//! monitor (standard output, maybe after a `(qemu) ` prompt); the caller opens that pty
//! and only then sends `cont`, because output written before the pty is opened is lost.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-arm";

/// How long QEMU may take to print its pty path.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Where `firmware/build-all.sh` (or the cargo command in the README) puts the ELF, in
/// the source tree this actprof was built from.
pub const DEFAULT_FIRMWARE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/firmware/target/thumbv7em-none-eabihf/release/actprof-fw-mps2"
);

/// The environment variable that points at another firmware ELF.
pub const FIRMWARE_ENV: &str = "ACTPROF_BOARD_FIRMWARE";

/// Why the QEMU board could not start.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    #[error(
        "the board firmware is not at {0} (build it: `cd firmware && cargo build --release \
         -p actprof-fw-mps2 --target thumbv7em-none-eabihf`, or pass --firmware ELF)"
    )]
    NoFirmware(PathBuf),

    #[error(
        "{QEMU} is not installed or not on PATH (Debian/Ubuntu: `apt install \
         qemu-system-arm`)"
    )]
    NotInstalled,

    #[error("cannot start {QEMU}: {0}")]
    Spawn(std::io::Error),

    #[error("{QEMU} did not print its serial pty within {START_TIMEOUT:?}{0}")]
    NoPty(String),

    #[error("cannot send `{command}` to the {QEMU} monitor: {source}")]
    Monitor {
        command: String,
        source: std::io::Error,
    },
}

/// The firmware to run: `explicit`, else `$ACTPROF_BOARD_FIRMWARE`, else the default.
pub fn firmware_path(explicit: Option<&Path>) -> Result<PathBuf, QemuError> {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(|| {
        std::env::var_os(FIRMWARE_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_FIRMWARE))
    });
    if path.is_file() {
        Ok(path)
    } else {
        Err(QemuError::NoFirmware(path))
    }
}

/// A paused QEMU board and its monitor.
pub struct QemuBoard {
    child: Child,
    monitor: ChildStdin,
    pty: String,
}

impl QemuBoard {
    /// Starts QEMU paused with `firmware`, and waits for the path of its serial pty.
    pub fn start(firmware: &Path) -> Result<QemuBoard, QemuError> {
        let mut command = Command::new(QEMU);
        command
            .args(["-M", "mps2-an386", "-display", "none", "-monitor", "stdio"])
            .args([
                "-serial",
                "pty",
                "-semihosting-config",
                "enable=on,target=native",
            ])
            .args(["-icount", "shift=0,align=off,sleep=off", "-S", "-kernel"])
            .arg(firmware)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut child = command.spawn().map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => QemuError::NotInstalled,
            _ => QemuError::Spawn(err),
        })?;
        let (Some(monitor), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(QemuError::Spawn(std::io::Error::other("no pipes to QEMU")));
        };
        // Standard error is forwarded to the log as it comes, so it never fills its pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                tracing::warn!("{QEMU}: {line}");
            }
        });
        let (sender, paths) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                tracing::debug!("{QEMU} monitor: {line}");
                if !sent && let Some(path) = pty_of(&line) {
                    sent = sender.send(path).is_ok();
                }
            }
        });
        match paths.recv_timeout(START_TIMEOUT) {
            Ok(pty) => Ok(QemuBoard {
                child,
                monitor,
                pty,
            }),
            Err(_) => {
                let status = child.try_wait().ok().flatten();
                let _ = child.kill();
                let _ = child.wait();
                Err(QemuError::NoPty(match status {
                    Some(status) => format!(" (it exited with {status}; see the log above)"),
                    None => String::new(),
                }))
            }
        }
    }

    /// The serial pty's path.
    pub fn pty(&self) -> &str {
        &self.pty
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a monitor command (`cont`, `system_reset`, `quit`).
    pub fn monitor(&mut self, command: &str) -> Result<(), QemuError> {
        writeln!(self.monitor, "{command}")
            .and_then(|()| self.monitor.flush())
            .map_err(|source| QemuError::Monitor {
                command: command.to_owned(),
                source,
            })
    }

    /// QEMU's exit status, if it has exited.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Whether QEMU has exited.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills QEMU at once (as a crash or a pulled cable would end it).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks QEMU to quit, and kills it if it has not within a second.
    pub fn stop(mut self) {
        let _ = self.monitor("quit");
        for _ in 0..20 {
            if self.has_exited() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
    }
}

impl Drop for QemuBoard {
    fn drop(&mut self) {
        if !self.has_exited() {
            self.kill();
        }
    }
}

/// Makes the child get SIGKILL when this process dies, however it dies: an orphaned
/// QEMU would spin on its UART poll loop forever.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed; prctl is one, and nothing is allocated.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The pty path in a monitor line `[(qemu) ]char device redirected to /dev/pts/N (label …)`.
fn pty_of(line: &str) -> Option<String> {
    let rest = line.split("char device redirected to ").nth(1)?;
    let path = rest.split_whitespace().next()?;
    path.starts_with('/').then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pty_path_is_read_with_or_without_the_prompt() {
        let plain = "char device redirected to /dev/pts/7 (label serial0)";
        assert_eq!(pty_of(plain).as_deref(), Some("/dev/pts/7"));
        let prompted = "(qemu) char device redirected to /dev/pts/12 (label serial0)";
        assert_eq!(pty_of(prompted).as_deref(), Some("/dev/pts/12"));
        assert_eq!(pty_of("QEMU 7.2.22 monitor - type 'help'"), None);
        assert_eq!(pty_of("char device redirected to (label serial0)"), None);
    }

    #[test]
    fn a_missing_firmware_names_the_path_and_the_build_command() {
        let err = firmware_path(Some(Path::new("/nonexistent/fw.elf"))).expect_err("missing");
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/fw.elf") && text.contains("cargo build"),
            "{text}"
        );
    }
}
