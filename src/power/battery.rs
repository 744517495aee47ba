//! The laptop battery's discharge as a coarse whole-system power source.
//!
//! Reads `/sys/class/power_supply/*/` of type `Battery` (peripheral batteries with
//! `scope` = `Device` are skipped): `power_now` in µW, or `current_now` in µA times
//! `voltage_now` in µV. Only a discharging battery carries the system's load, so any other
//! status is refused. The readings are coarse: the battery's firmware refreshes and smooths
//! them on its own schedule, usually far slower than a kernel call, so they suit long
//! windows only; [`SourceInfo::coarse`] says so.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sysfs::{RealFs, SysfsReader, read_i64, read_text};
use super::{Clock, PowerError, PowerSample, PowerSource, Quantity, Resolution, SourceInfo};

/// Where the kernel mounts the power-supply class.
pub const DEFAULT_POWER_SUPPLY_ROOT: &str = "/sys/class/power_supply";

/// The sysfs attributes count whole µW.
const POWER_NOW_RESOLUTION_W: f64 = 1e-6;

/// How a battery reports its load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    PowerNow,
    CurrentTimesVoltage,
}

/// One discharging battery.
#[derive(Clone, Debug)]
struct Battery {
    name: String,
    dir: PathBuf,
    reading: Reading,
}

/// Battery discharge as a [`PowerSource`] (summed over all discharging batteries).
pub struct BatterySource {
    reader: Box<dyn SysfsReader>,
    batteries: Vec<Battery>,
    poll_interval: Duration,
}

impl BatterySource {
    /// Finds the discharging batteries under `root`.
    pub fn open(root: &Path, poll_interval: Duration) -> Result<BatterySource, PowerError> {
        BatterySource::open_with(Box::new(RealFs), root, poll_interval)
    }

    /// [`open`](BatterySource::open) through a given file reader.
    pub fn open_with(
        reader: Box<dyn SysfsReader>,
        root: &Path,
        poll_interval: Duration,
    ) -> Result<BatterySource, PowerError> {
        let mut found = Vec::new();
        for dir in supply_dirs(root) {
            let kind = read_text(reader.as_ref(), &dir.join("type")).unwrap_or_default();
            let scope = read_text(reader.as_ref(), &dir.join("scope")).unwrap_or_default();
            if kind == "Battery" && scope != "Device" {
                found.push(dir);
            }
        }
        let Some(first) = found.first() else {
            return Err(PowerError::BatteryAbsent {
                root: root.to_owned(),
            });
        };
        let mut batteries = Vec::new();
        let mut first_status = None;
        for dir in &found {
            let status = read_text(reader.as_ref(), &dir.join("status"))?;
            let name = supply_name(dir);
            if status != "Discharging" {
                first_status.get_or_insert((name, status));
                continue;
            }
            let reading = reading_of(reader.as_ref(), dir, &name)?;
            batteries.push(Battery {
                name,
                dir: dir.clone(),
                reading,
            });
        }
        if batteries.is_empty() {
            let (battery, status) =
                first_status.unwrap_or_else(|| (supply_name(first), "?".into()));
            return Err(PowerError::OnAcPower { battery, status });
        }
        Ok(BatterySource {
            reader,
            batteries,
            poll_interval,
        })
    }

    /// Reads the summed power, and current and voltage when there is one battery that
    /// reports them.
    fn read(&self, t_s: f64) -> Result<PowerSample, PowerError> {
        let reader = self.reader.as_ref();
        let mut sample = PowerSample::power(t_s, 0.0);
        for battery in &self.batteries {
            let status = read_text(reader, &battery.dir.join("status"))?;
            if status != "Discharging" {
                return Err(PowerError::OnAcPower {
                    battery: battery.name.clone(),
                    status,
                });
            }
            match battery.reading {
                Reading::PowerNow => {
                    let power_uw = read_i64(reader, &battery.dir.join("power_now"))?;
                    sample.power_w += power_uw.unsigned_abs() as f64 / 1e6;
                }
                Reading::CurrentTimesVoltage => {
                    // Some drivers sign the current of a discharging battery negative.
                    let current_a = read_i64(reader, &battery.dir.join("current_now"))?
                        .unsigned_abs() as f64
                        / 1e6;
                    let voltage_v = read_i64(reader, &battery.dir.join("voltage_now"))?
                        .unsigned_abs() as f64
                        / 1e6;
                    sample.power_w += current_a * voltage_v;
                    if self.batteries.len() == 1 {
                        sample.current_a = Some(current_a);
                        sample.voltage_v = Some(voltage_v);
                    }
                }
            }
        }
        Ok(sample)
    }
}

fn supply_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn supply_name(dir: &Path) -> String {
    dir.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn reading_of(reader: &dyn SysfsReader, dir: &Path, name: &str) -> Result<Reading, PowerError> {
    if reader.read_to_string(&dir.join("power_now")).is_ok() {
        return Ok(Reading::PowerNow);
    }
    let has = |file: &str| reader.read_to_string(&dir.join(file)).is_ok();
    if has("current_now") && has("voltage_now") {
        return Ok(Reading::CurrentTimesVoltage);
    }
    Err(PowerError::BatteryNoReading {
        battery: name.to_owned(),
        dir: dir.to_owned(),
    })
}

impl PowerSource for BatterySource {
    fn info(&self) -> SourceInfo {
        let names: Vec<&str> = self.batteries.iter().map(|b| b.name.as_str()).collect();
        let current_voltage = self
            .batteries
            .iter()
            .all(|b| b.reading == Reading::CurrentTimesVoltage);
        let how = if current_voltage {
            "current_now × voltage_now"
        } else {
            "power_now"
        };
        SourceInfo {
            spec: "battery".to_owned(),
            description: format!(
                "battery discharge of {} ({how}): whole-system power, coarse (the battery \
                 firmware refreshes and smooths it on its own schedule)",
                names.join(" + ")
            ),
            quantity: if current_voltage {
                Quantity::CurrentVoltage
            } else {
                Quantity::Power
            },
            rate_hz: 1.0 / self.poll_interval.as_secs_f64(),
            resolution: Resolution::PowerW(POWER_NOW_RESOLUTION_W),
            coarse: true,
            clock_offset_s: None,
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    fn start(&mut self, clock: &dyn Clock) -> Result<(), PowerError> {
        self.read(clock.now_s()).map(|_| ())
    }

    fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
        Ok(vec![self.read(clock.now_s())?])
    }

    fn stop(&mut self) -> Result<(), PowerError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct AtTwo;

    impl Clock for AtTwo {
        fn now_s(&self) -> f64 {
            2.0
        }
    }

    fn write_supply(root: &Path, name: &str, files: &[(&str, &str)]) {
        let dir = root.join(name);
        fs::create_dir_all(&dir).expect("supply dir");
        for (file, text) in files {
            fs::write(dir.join(file), format!("{text}\n")).expect("attribute");
        }
    }

    fn with_ac_adapter() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        write_supply(dir.path(), "AC", &[("type", "Mains"), ("online", "0")]);
        dir
    }

    #[test]
    fn power_now_is_read_in_microwatts() {
        let tree = with_ac_adapter();
        let files = [
            ("type", "Battery"),
            ("status", "Discharging"),
            ("power_now", "12345000"),
        ];
        write_supply(tree.path(), "BAT0", &files);
        let mut source = BatterySource::open(tree.path(), Duration::from_secs(1)).expect("opens");
        let samples = source.poll(&AtTwo).expect("reads");
        assert_eq!(samples, [PowerSample::power(2.0, 12.345)]);
        let info = source.info();
        assert!(info.coarse);
        assert_eq!(info.quantity, Quantity::Power);
        assert!(info.description.contains("coarse"), "{}", info.description);
    }

    #[test]
    fn current_times_voltage_when_there_is_no_power_now() {
        let tree = with_ac_adapter();
        let files = [
            ("type", "Battery"),
            ("status", "Discharging"),
            ("current_now", "-1500000"),
            ("voltage_now", "8000000"),
        ];
        write_supply(tree.path(), "BAT1", &files);
        let mut source = BatterySource::open(tree.path(), Duration::from_secs(1)).expect("opens");
        let samples = source.poll(&AtTwo).expect("reads");
        // 1.5 A × 8 V = 12 W, whatever sign the driver gives the current.
        assert_eq!(samples[0].power_w, 12.0);
        assert_eq!(samples[0].current_a, Some(1.5));
        assert_eq!(samples[0].voltage_v, Some(8.0));
        assert_eq!(source.info().quantity, Quantity::CurrentVoltage);
    }

    #[test]
    fn a_charging_battery_is_refused_as_on_ac_power() {
        let tree = with_ac_adapter();
        let files = [
            ("type", "Battery"),
            ("status", "Charging"),
            ("power_now", "1"),
        ];
        write_supply(tree.path(), "BAT0", &files);
        let err = BatterySource::open(tree.path(), Duration::from_secs(1))
            .err()
            .expect("refused");
        let message = err.to_string();
        assert!(
            message.starts_with("on AC power: battery discharge does not measure the system"),
            "{message}"
        );
        assert!(message.contains("`Charging`"), "{message}");
    }

    #[test]
    fn plugging_in_during_a_recording_stops_it() {
        let tree = with_ac_adapter();
        let files = [
            ("type", "Battery"),
            ("status", "Discharging"),
            ("power_now", "1"),
        ];
        write_supply(tree.path(), "BAT0", &files);
        let mut source = BatterySource::open(tree.path(), Duration::from_secs(1)).expect("opens");
        fs::write(tree.path().join("BAT0/status"), "Full\n").expect("write");
        let err = source.poll(&AtTwo).expect_err("refused");
        assert!(matches!(err, PowerError::OnAcPower { .. }), "{err:?}");
    }

    #[test]
    fn no_battery_and_peripheral_batteries_are_absent() {
        let tree = with_ac_adapter();
        let files = [
            ("type", "Battery"),
            ("scope", "Device"),
            ("status", "Discharging"),
            ("power_now", "1"),
        ];
        write_supply(tree.path(), "hidpp_battery_0", &files);
        let err = BatterySource::open(tree.path(), Duration::from_secs(1))
            .err()
            .expect("refused");
        assert!(matches!(err, PowerError::BatteryAbsent { .. }), "{err:?}");
    }

    #[test]
    fn a_battery_without_readings_says_so() {
        let tree = with_ac_adapter();
        write_supply(
            tree.path(),
            "BAT0",
            &[("type", "Battery"), ("status", "Discharging")],
        );
        let err = BatterySource::open(tree.path(), Duration::from_secs(1))
            .err()
            .expect("refused");
        assert!(err.to_string().contains("neither power_now"), "{err}");
    }
}
