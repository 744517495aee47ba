//! Linux RAPL energy counters through the powercap sysfs tree.
//!
//! Each zone is a directory `intel-rapl:<package>` or `intel-rapl:<package>:<sub>` (AMD
//! Zen uses the same names; some laptops add an `intel-rapl-mmio:<n>` copy of the
//! package) holding `name` (`package-0`, `core`, `uncore`, `dram`, `psys`), the µJ counter
//! `energy_uj` and its wrap point `max_energy_range_uj`. Energy is always a difference of
//! counter reads (see [`super::counter`]); power is that difference over the time between
//! reads. Since the CVE-2020-8694 fix `energy_uj` is readable by root only, which is told
//! apart from a machine without RAPL.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::counter::{CounterUnwrapper, POLL_WARNING_FRACTION, wrap_period_s};
use super::sysfs::{RealFs, SysfsReader, read_text, read_u64};
use super::{Clock, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo};

/// Where the kernel mounts the powercap class.
pub const DEFAULT_POWERCAP_ROOT: &str = "/sys/class/powercap";

/// Upper bound on the power of one RAPL zone, in W, used to bound how fast a counter can
/// wrap. Server packages are specified up to ~500 W; twice that leaves a margin.
pub const RAPL_POWER_BOUND_W: f64 = 1000.0;

/// The sysfs counters count whole µJ.
const ENERGY_UJ_RESOLUTION_J: f64 = 1e-6;

/// One RAPL zone found in the powercap tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Directory name, e.g. `intel-rapl:0:1`.
    pub id: String,
    /// Contents of its `name` file, e.g. `uncore`.
    pub name: String,
    /// The zone directory.
    pub dir: PathBuf,
    /// True for sub-zones (`intel-rapl:P:S`).
    pub subzone: bool,
    /// True for the `intel-rapl-mmio` interface.
    pub mmio: bool,
}

/// Lists the RAPL zones under `root`, sorted by directory name.
pub fn discover_zones(reader: &dyn SysfsReader, root: &Path) -> Result<Vec<Zone>, PowerError> {
    let absent = || PowerError::RaplAbsent {
        root: root.to_owned(),
    };
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(absent()),
        Err(err) => return Err(super::sysfs::read_error(root, err)),
    };
    let mut zones = Vec::new();
    for entry in entries.flatten() {
        let id = entry.file_name().to_string_lossy().into_owned();
        let Some((mmio, subzone)) = parse_zone_id(&id) else {
            continue;
        };
        let dir = root.join(&id);
        let name = read_text(reader, &dir.join("name"))?;
        zones.push(Zone {
            id,
            name,
            dir,
            subzone,
            mmio,
        });
    }
    if zones.is_empty() {
        return Err(absent());
    }
    zones.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(zones)
}

/// Recognises `intel-rapl:N`, `intel-rapl:N:M` and their `intel-rapl-mmio` forms;
/// returns (mmio, subzone).
fn parse_zone_id(id: &str) -> Option<(bool, bool)> {
    let (mmio, numbers) = if let Some(rest) = id.strip_prefix("intel-rapl-mmio:") {
        (true, rest)
    } else {
        (false, id.strip_prefix("intel-rapl:")?)
    };
    let parts: Vec<&str> = numbers.split(':').collect();
    let numeric = parts
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    (numeric && parts.len() <= 2).then_some((mmio, parts.len() == 2))
}

/// Picks the zones a spec argument names: by `name` or directory id; without one, every
/// package zone (the `intel-rapl-mmio` copy only when there is no other). When a name
/// matches both interfaces the `intel-rapl` zone wins, so nothing is counted twice.
pub fn select_zones(
    zones: &[Zone],
    wanted: Option<&str>,
    root: &Path,
) -> Result<Vec<Zone>, PowerError> {
    let matches = |zone: &&Zone| match wanted {
        Some(wanted) => zone.name == wanted || zone.id == wanted,
        None => !zone.subzone && zone.name.starts_with("package"),
    };
    let mut chosen: Vec<Zone> = zones.iter().filter(matches).cloned().collect();
    if chosen.iter().any(|zone| !zone.mmio) {
        chosen.retain(|zone| !zone.mmio);
    }
    if chosen.is_empty() {
        let available: Vec<String> = zones
            .iter()
            .map(|zone| format!("{} ({})", zone.name, zone.id))
            .collect();
        return Err(PowerError::RaplZoneMissing {
            wanted: wanted.unwrap_or("package-*").to_owned(),
            available: available.join(", "),
            root: root.to_owned(),
        });
    }
    Ok(chosen)
}

/// One zone being read and the wrap point of its counter.
struct ZoneCounter {
    zone: Zone,
    range_uj: u64,
}

/// The state of a started source: one unwrapped counter per zone and the last total.
struct Running {
    counters: Vec<CounterUnwrapper>,
    previous_t_s: f64,
    previous_uj: u64,
}

/// RAPL as a [`PowerSource`]: the sum of the chosen zones' counters.
pub struct RaplSource {
    reader: Box<dyn SysfsReader>,
    spec: String,
    zones: Vec<ZoneCounter>,
    poll_interval: Duration,
    running: Option<Running>,
}

impl RaplSource {
    /// Opens the zones `wanted` names (all packages when `None`) under `root` and checks
    /// that their counters can be read.
    pub fn open(
        root: &Path,
        wanted: Option<&str>,
        poll_interval: Duration,
    ) -> Result<RaplSource, PowerError> {
        RaplSource::open_with(Box::new(RealFs), root, wanted, poll_interval)
    }

    /// [`open`](RaplSource::open) through a given file reader.
    pub fn open_with(
        reader: Box<dyn SysfsReader>,
        root: &Path,
        wanted: Option<&str>,
        poll_interval: Duration,
    ) -> Result<RaplSource, PowerError> {
        let zones = select_zones(&discover_zones(reader.as_ref(), root)?, wanted, root)?;
        let mut counters = Vec::with_capacity(zones.len());
        for zone in zones {
            let range_uj = read_u64(reader.as_ref(), &zone.dir.join("max_energy_range_uj"))?;
            // Read once now so a root-only counter is reported before recording starts.
            read_u64(reader.as_ref(), &zone.dir.join("energy_uj"))?;
            warn_if_slow(&zone, range_uj, poll_interval);
            counters.push(ZoneCounter { zone, range_uj });
        }
        let spec = match wanted {
            Some(wanted) => format!("rapl:{wanted}"),
            None => "rapl".to_owned(),
        };
        Ok(RaplSource {
            reader,
            spec,
            zones: counters,
            poll_interval,
            running: None,
        })
    }

    /// The zones being summed.
    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.iter().map(|counter| &counter.zone)
    }

    /// Reads every zone's raw counter, stamped at the middle of the reads.
    fn read_raw(&self, clock: &dyn Clock) -> Result<(f64, Vec<u64>), PowerError> {
        let before = clock.now_s();
        let raw = self
            .zones
            .iter()
            .map(|zone| read_u64(self.reader.as_ref(), &zone.zone.dir.join("energy_uj")))
            .collect::<Result<Vec<u64>, PowerError>>()?;
        let after = clock.now_s();
        Ok((0.5 * (before + after), raw))
    }
}

fn warn_if_slow(zone: &Zone, range_uj: u64, poll_interval: Duration) {
    let period_s = wrap_period_s(range_uj, RAPL_POWER_BOUND_W);
    if poll_interval.as_secs_f64() > POLL_WARNING_FRACTION * period_s {
        tracing::warn!(
            "polling RAPL zone {} every {:.3} s is close to its shortest wrap period \
             ({period_s:.1} s at {RAPL_POWER_BOUND_W} W); poll faster",
            zone.name,
            poll_interval.as_secs_f64()
        );
    }
}

impl PowerSource for RaplSource {
    fn info(&self) -> SourceInfo {
        let names: Vec<String> = self
            .zones
            .iter()
            .map(|zone| format!("{} ({})", zone.zone.name, zone.zone.id))
            .collect();
        SourceInfo {
            spec: self.spec.clone(),
            description: format!(
                "RAPL energy counter of {}: the CPU's own energy estimate for the whole \
                 zone (all processes), read from powercap sysfs",
                names.join(" + ")
            ),
            quantity: Quantity::EnergyCounter,
            rate_hz: 1.0 / self.poll_interval.as_secs_f64(),
            resolution: Resolution::EnergyJ(ENERGY_UJ_RESOLUTION_J),
            coarse: false,
            clock_offset_s: None,
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    fn start(&mut self, clock: &dyn Clock) -> Result<(), PowerError> {
        let (t_s, raw) = self.read_raw(clock)?;
        let counters = self
            .zones
            .iter()
            .zip(raw)
            .map(|(zone, raw_uj)| {
                CounterUnwrapper::new(raw_uj, t_s, zone.range_uj, RAPL_POWER_BOUND_W)
            })
            .collect();
        self.running = Some(Running {
            counters,
            previous_t_s: t_s,
            previous_uj: 0,
        });
        Ok(())
    }

    fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        if self.running.is_none() {
            self.start(clock)?;
            return Ok(Vec::new());
        }
        let (t_s, raw) = self.read_raw(clock)?;
        let Some(running) = self.running.as_mut() else {
            return Ok(Vec::new());
        };
        let mut total_uj = 0;
        for ((zone, counter), raw_uj) in self.zones.iter().zip(&mut running.counters).zip(raw) {
            total_uj +=
                counter
                    .advance(raw_uj, t_s)
                    .map_err(|overrun| PowerError::CounterOverrun {
                        zone: zone.zone.name.clone(),
                        elapsed_s: overrun.elapsed_s,
                        wrap_period_s: overrun.wrap_period_s,
                        bound_w: RAPL_POWER_BOUND_W,
                    })?;
        }
        let interval_s = t_s - running.previous_t_s;
        let interval_j = (total_uj - running.previous_uj) as f64 / 1e6;
        running.previous_t_s = t_s;
        running.previous_uj = total_uj;
        if interval_s <= 0.0 {
            return Ok(Vec::new());
        }
        let energy_j = total_uj as f64 / 1e6;
        Ok(vec![PowerSample {
            t_s,
            power_w: interval_j / interval_s,
            current_a: None,
            voltage_v: None,
            energy_j: Some(energy_j),
            logic: None,
        }])
    }

    fn stop(&mut self) -> Result<(), PowerError> {
        self.running = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A clock the test moves by hand.
    struct HandClock(Cell<f64>);

    impl Clock for HandClock {
        fn now_s(&self) -> f64 {
            self.0.get()
        }
    }

    const RANGE_UJ: u64 = 262_143_328_850;

    fn write_zone(root: &Path, id: &str, name: &str, energy_uj: u64) {
        let dir = root.join(id);
        fs::create_dir_all(&dir).expect("zone dir");
        fs::write(dir.join("name"), format!("{name}\n")).expect("name");
        fs::write(dir.join("energy_uj"), format!("{energy_uj}\n")).expect("energy");
        fs::write(dir.join("max_energy_range_uj"), format!("{RANGE_UJ}\n")).expect("range");
    }

    fn set_energy(root: &Path, id: &str, energy_uj: u64) {
        fs::write(root.join(id).join("energy_uj"), format!("{energy_uj}\n")).expect("energy");
    }

    /// A laptop-like tree: one package with core and uncore, a psys zone, the mmio copy
    /// of the package, and the `intel-rapl` control-type directory to be ignored.
    fn laptop_tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        write_zone(root, "intel-rapl:0", "package-0", 1_000);
        write_zone(root, "intel-rapl:0:0", "core", 2_000);
        write_zone(root, "intel-rapl:0:1", "uncore", 3_000);
        write_zone(root, "intel-rapl:1", "psys", 4_000);
        write_zone(root, "intel-rapl-mmio:0", "package-0", 5_000);
        fs::create_dir_all(root.join("intel-rapl")).expect("control type dir");
        dir
    }

    #[test]
    fn zones_and_subzones_are_found_by_their_names() {
        let tree = laptop_tree();
        let zones = discover_zones(&RealFs, tree.path()).expect("zones");
        let found: Vec<(&str, &str, bool, bool)> = zones
            .iter()
            .map(|z| (z.id.as_str(), z.name.as_str(), z.subzone, z.mmio))
            .collect();
        assert_eq!(
            found,
            [
                ("intel-rapl-mmio:0", "package-0", false, true),
                ("intel-rapl:0", "package-0", false, false),
                ("intel-rapl:0:0", "core", true, false),
                ("intel-rapl:0:1", "uncore", true, false),
                ("intel-rapl:1", "psys", false, false),
            ]
        );
    }

    #[test]
    fn selection_by_name_id_or_default_counts_nothing_twice() {
        let tree = laptop_tree();
        let zones = discover_zones(&RealFs, tree.path()).expect("zones");
        let ids = |wanted| -> Vec<String> {
            select_zones(&zones, wanted, tree.path())
                .expect("selected")
                .into_iter()
                .map(|z| z.id)
                .collect()
        };
        assert_eq!(ids(None), ["intel-rapl:0"]);
        assert_eq!(ids(Some("package-0")), ["intel-rapl:0"]);
        assert_eq!(ids(Some("core")), ["intel-rapl:0:0"]);
        assert_eq!(ids(Some("intel-rapl-mmio:0")), ["intel-rapl-mmio:0"]);

        let missing = select_zones(&zones, Some("dram"), tree.path()).expect_err("no dram");
        let message = missing.to_string();
        assert!(message.contains("no zone `dram`"), "{message}");
        assert!(message.contains("uncore (intel-rapl:0:1)"), "{message}");
    }

    #[test]
    fn no_powercap_tree_or_no_zone_means_rapl_is_absent() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("powercap");
        let err = discover_zones(&RealFs, &missing).expect_err("absent");
        assert!(matches!(err, PowerError::RaplAbsent { .. }), "{err:?}");
        assert!(err.to_string().contains("RAPL is not available"), "{err}");

        fs::create_dir_all(missing.join("dtpm")).expect("other powercap driver");
        let err = discover_zones(&RealFs, &missing).expect_err("no rapl zone");
        assert!(matches!(err, PowerError::RaplAbsent { .. }), "{err:?}");
    }

    /// Fails reads of `energy_uj` with one error kind, like a kernel would.
    struct FailingCounter(io::ErrorKind);

    impl SysfsReader for FailingCounter {
        fn read_to_string(&self, path: &Path) -> io::Result<String> {
            if path.ends_with("energy_uj") {
                return Err(io::Error::from(self.0));
            }
            fs::read_to_string(path)
        }
    }

    #[test]
    fn a_root_only_counter_explains_how_to_grant_access() {
        let tree = laptop_tree();
        let reader = Box::new(FailingCounter(io::ErrorKind::PermissionDenied));
        let err = RaplSource::open_with(reader, tree.path(), None, Duration::from_millis(100))
            .err()
            .expect("refused");
        assert!(matches!(err, PowerError::NotPermitted { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("permission denied"), "{message}");
        assert!(message.contains("CVE-2020-8694"), "{message}");
        assert!(message.contains("sudo chmod o+r"), "{message}");
        assert!(message.ends_with("intel-rapl:0/energy_uj"), "{message}");
    }

    #[test]
    fn a_vanished_counter_is_a_read_error_not_a_permission_problem() {
        let tree = laptop_tree();
        let reader = Box::new(FailingCounter(io::ErrorKind::NotFound));
        let err = RaplSource::open_with(reader, tree.path(), None, Duration::from_millis(100))
            .err()
            .expect("refused");
        assert!(matches!(err, PowerError::Read { .. }), "{err:?}");
        assert!(!err.to_string().contains("permission"), "{err}");
    }

    #[test]
    fn power_and_energy_come_from_counter_differences_across_wraps() {
        let tree = laptop_tree();
        let root = tree.path();
        set_energy(root, "intel-rapl:0", RANGE_UJ - 500_000);
        let clock = HandClock(Cell::new(1.0));
        let mut source =
            RaplSource::open(root, Some("package-0"), Duration::from_millis(100)).expect("opens");
        source.start(&clock).expect("starts");

        // 0.5 s later the counter has wrapped once: 500 000 to the top, 1 over it, 249 999.
        set_energy(root, "intel-rapl:0", 249_999);
        clock.0.set(1.5);
        let first = source.poll(&clock).expect("polls");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].t_s, 1.5);
        assert_eq!(first[0].energy_j, Some(0.75));
        assert_eq!(first[0].power_w, 0.75 / 0.5);

        // Up towards the top, then one more wrap that adds exactly 1.0 J.
        set_energy(root, "intel-rapl:0", RANGE_UJ - 100_000);
        clock.0.set(2.0);
        let second = source.poll(&clock).expect("polls");
        let expected_uj = 750_000 + (RANGE_UJ - 100_000 - 249_999);
        assert_eq!(second[0].energy_j, Some(expected_uj as f64 / 1e6));
        set_energy(root, "intel-rapl:0", 899_999);
        clock.0.set(2.5);
        let third = source.poll(&clock).expect("polls");
        assert_eq!(
            third[0].energy_j,
            Some((expected_uj + 1_000_000) as f64 / 1e6)
        );
        assert_eq!(third[0].power_w, 1.0 / 0.5);
    }

    #[test]
    fn a_poll_slower_than_the_wrap_period_is_refused() {
        let tree = laptop_tree();
        let clock = HandClock(Cell::new(0.0));
        let mut source =
            RaplSource::open(tree.path(), None, Duration::from_millis(100)).expect("opens");
        source.start(&clock).expect("starts");
        clock
            .0
            .set(wrap_period_s(RANGE_UJ, RAPL_POWER_BOUND_W) + 1.0);
        let err = source.poll(&clock).expect_err("overrun");
        assert!(matches!(err, PowerError::CounterOverrun { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("energy of that interval is unknown"),
            "{err}"
        );
    }

    #[test]
    fn non_numeric_counters_name_the_file() {
        let tree = laptop_tree();
        fs::write(tree.path().join("intel-rapl:0/energy_uj"), "lots\n").expect("write");
        let err = RaplSource::open(tree.path(), None, Duration::from_millis(100))
            .err()
            .expect("refused");
        let message = err.to_string();
        assert!(message.contains("`lots`"), "{message}");
        assert!(message.ends_with("intel-rapl:0/energy_uj"), "{message}");
    }
}
