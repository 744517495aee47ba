//! Everything that can keep a power source from measuring, with what to do about it.

use std::io;
use std::path::PathBuf;

use super::meters::MeterError;
use crate::serial::SerialError;

/// Why a power source could not be opened or read. Messages name the source, say why
/// and what to do next; paths go last.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The spec names a kind of source this build does not know.
    #[error(
        "unknown power source kind `{kind}` in `{spec}`; this build knows: rapl, \
         rapl:ZONE, battery, um24c:PORT, um25c:PORT, um34c:PORT, tc66c:PORT, ppk2:PORT, \
         scpi:PORT, ina:PORT"
    )]
    UnknownKind { spec: String, kind: String },

    /// The spec is empty or malformed.
    #[error("bad power source `{spec}`: {reason}")]
    BadSpec { spec: String, reason: String },

    /// No powercap tree, or no RAPL zone in it.
    #[error(
        "RAPL is not available on this machine: no intel-rapl zone under the powercap tree \
         (no RAPL in this CPU, the intel_rapl_msr driver is not loaded, or a VM/container \
         hides it) at {}",
        root.display()
    )]
    RaplAbsent { root: PathBuf },

    /// RAPL exists but has no zone of the requested name.
    #[error(
        "RAPL has no zone `{wanted}` (zones here: {available}); use e.g. `rapl:package-0` \
         at {}",
        root.display()
    )]
    RaplZoneMissing {
        wanted: String,
        available: String,
        root: PathBuf,
    },

    /// The energy counter exists but this user may not read it.
    #[error(
        "permission denied reading the RAPL energy counter: since the CVE-2020-8694 fix \
         (Linux 5.10 and backports) energy_uj is readable by root only. Run actprof as \
         root, or grant read access until reboot with \
         `sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj` (a udev rule on \
         SUBSYSTEM==\"powercap\" making energy_uj group-readable keeps it across reboots): {}",
        path.display()
    )]
    NotPermitted { path: PathBuf },

    /// Any other failure to read a sysfs file.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A sysfs file held something other than the expected number.
    #[error("expected {expected} but found `{text}` in {}", path.display())]
    Parse {
        expected: &'static str,
        text: String,
        path: PathBuf,
    },

    /// The counter was polled so late that it may have wrapped more than once.
    #[error(
        "RAPL zone `{zone}` was read {elapsed_s:.1} s after the previous read, but at up to \
         {bound_w} W its counter can wrap every {wrap_period_s:.1} s: the energy of that \
         interval is unknown (was the process suspended?)"
    )]
    CounterOverrun {
        zone: String,
        elapsed_s: f64,
        wrap_period_s: f64,
        bound_w: f64,
    },

    /// The sampler thread could not be started.
    #[error("cannot start the power sampler thread")]
    Thread(#[source] io::Error),

    /// No battery in the power-supply class.
    #[error("no battery found: no power supply of type Battery at {}", root.display())]
    BatteryAbsent { root: PathBuf },

    /// The battery is charging or full, so it does not carry the system's load.
    #[error(
        "on AC power: battery discharge does not measure the system (battery `{battery}` \
         is `{status}`); unplug the charger and record again"
    )]
    OnAcPower { battery: String, status: String },

    /// The battery reports neither power nor current and voltage.
    #[error(
        "battery `{battery}` reports neither power_now nor current_now and voltage_now: {}",
        dir.display()
    )]
    BatteryNoReading { battery: String, dir: PathBuf },

    /// A meter's serial port could not be opened, read or written.
    #[error(transparent)]
    Serial(#[from] SerialError),

    /// A meter did not answer as its protocol says (boxed: it carries what was seen).
    #[error(transparent)]
    Meter(Box<MeterError>),
}

impl From<MeterError> for PowerError {
    fn from(err: MeterError) -> PowerError {
        PowerError::Meter(Box::new(err))
    }
}

impl PowerError {
    /// True when the source went away (port closed, meter silent) and opening it again
    /// may bring it back: the sampler retries those and marks the gap.
    pub fn is_disconnect(&self) -> bool {
        match self {
            PowerError::Serial(err) => err.is_disconnect(),
            PowerError::Meter(err) => err.is_disconnect(),
            _ => false,
        }
    }
}
