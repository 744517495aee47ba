//! End-to-end tests of `actprof record` on the real binary, with a written powercap tree
//! standing in for RAPL where this machine has none.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

use actprof::session::Journal;

/// The power the fake RAPL zone draws, in W (= µJ per µs).
const FAKE_POWER_W: u64 = 5;

/// A powercap tree with one package zone whose counter a thread raises at
/// [`FAKE_POWER_W`] until the returned flag is set.
struct FakeRapl {
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    writer: Option<thread::JoinHandle<()>>,
}

impl FakeRapl {
    fn start() -> FakeRapl {
        let dir = tempfile::tempdir().expect("temp dir");
        let zone = dir.path().join("intel-rapl:0");
        fs::create_dir_all(&zone).expect("zone");
        fs::write(zone.join("name"), "package-0\n").expect("name");
        fs::write(zone.join("max_energy_range_uj"), "262143328850\n").expect("range");
        fs::write(zone.join("energy_uj"), "1000\n").expect("energy");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let writer = thread::spawn(move || {
            let start = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let energy_uj = 1000 + FAKE_POWER_W * start.elapsed().as_micros() as u64;
                // Write beside and rename, so a reader never sees a half-written number.
                let temporary = zone.join("energy_uj.tmp");
                fs::write(&temporary, format!("{energy_uj}\n")).expect("write counter");
                fs::rename(&temporary, zone.join("energy_uj")).expect("rename counter");
                thread::sleep(Duration::from_millis(2));
            }
        });
        FakeRapl {
            dir,
            stop,
            writer: Some(writer),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for FakeRapl {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn actprof(data_home: &Path) -> Command {
    let mut command = Command::cargo_bin("actprof").expect("the actprof binary is built");
    command
        .env_remove("RUST_LOG")
        .env_remove("ACTPROF_POWERCAP_ROOT")
        .env("XDG_DATA_HOME", data_home);
    command
}

/// The only session folder under the data home.
fn the_session(data_home: &Path) -> PathBuf {
    let sessions = data_home.join("actprof/sessions");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&sessions)
        .expect("sessions folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

#[test]
fn rapl_on_a_machine_without_powercap_is_refused_plainly() {
    if Path::new("/sys/class/powercap").exists() {
        eprintln!("skipped: this machine has a powercap tree");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    actprof(data.path())
        .args(["record", "--power", "rapl", "--duration", "1s"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "RAPL is not available on this machine",
        ))
        .stderr(predicate::str::contains("/sys/class/powercap"));
}

#[test]
fn a_meter_on_a_missing_port_is_refused_naming_the_port() {
    let data = tempfile::tempdir().expect("temp dir");
    actprof(data.path())
        .args([
            "record",
            "--power",
            "um25c:/dev/actprof-absent",
            "--duration",
            "1s",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no such serial port"))
        .stderr(predicate::str::contains("/dev/actprof-absent"));
}

#[test]
fn unknown_kinds_are_refused_before_recording() {
    let data = tempfile::tempdir().expect("temp dir");
    actprof(data.path())
        .args([
            "record",
            "--power",
            "um99x:/dev/ttyACM0",
            "--duration",
            "1s",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unknown power source kind `um99x`",
        ));
}

#[test]
fn a_recording_journals_the_session_and_writes_the_trace() {
    let rapl = FakeRapl::start();
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let output = actprof(data.path())
        .env("ACTPROF_POWERCAP_ROOT", rapl.root())
        .args([
            "record",
            "--power",
            "rapl:package-0",
            "--duration",
            "1500ms",
        ])
        .args(["--interval", "50ms", "--out"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary = String::from_utf8(output).expect("UTF-8");
    assert!(summary.contains("mean power:"), "{summary}");
    assert!(summary.contains("energy:"), "{summary}");

    let session = Journal::read(&the_session(data.path())).expect("session reads back");
    assert!(session.meta.ended_at.is_some());
    assert_eq!(session.meta.sources[0].spec, "rapl:package-0");
    assert!(
        session.samples.len() >= 20,
        "{} samples",
        session.samples.len()
    );

    let trace = fs::read_to_string(&out).expect("trace");
    let mut lines = trace.lines();
    assert_eq!(lines.next(), Some("time_s,power_w,energy_j,power_source"));
    assert_eq!(lines.count(), session.samples.len());

    // The counter rose at 5 W; reads of a counter updated every ~2 ms stay within a few
    // percent of that over more than a second.
    let (first, last) = (
        &session.samples[0],
        session.samples.last().expect("samples"),
    );
    let energy_j = last.energy_j.expect("counter") - first.energy_j.expect("counter");
    let mean_w = energy_j / (last.t_s - first.t_s);
    assert!((mean_w - 5.0).abs() < 0.5, "mean power {mean_w} W");
}

#[test]
fn a_killed_recording_keeps_everything_older_than_a_second() {
    let rapl = FakeRapl::start();
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("actprof"))
        .env_remove("RUST_LOG")
        .env("XDG_DATA_HOME", data.path())
        .env("ACTPROF_POWERCAP_ROOT", rapl.root())
        .args([
            "record",
            "--power",
            "rapl",
            "--duration",
            "60s",
            "--interval",
            "100ms",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("recording starts");
    thread::sleep(Duration::from_millis(2500));
    // `kill` sends SIGKILL on Unix: no handler runs, nothing more is flushed.
    child.kill().expect("killed");
    let killed_at = chrono::Utc::now();
    child.wait().expect("reaped");

    let session = Journal::read(&the_session(data.path())).expect("session reads back");
    assert_eq!(session.meta.ended_at, None, "a killed session has no end");
    let started_at =
        chrono::DateTime::parse_from_rfc3339(&session.meta.started_at).expect("RFC 3339 start");
    let killed_s =
        (killed_at - started_at.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1000.0;

    let times: Vec<f64> = session.samples.iter().map(|s| s.t_s).collect();
    let last = *times.last().expect("samples were kept");
    assert!(
        last >= killed_s - 1.0,
        "last kept sample at {last} s, killed at {killed_s} s"
    );
    // Nothing is missing before the last kept sample: reads came every ~100 ms.
    let widest = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(widest < 0.5, "a hole of {widest} s in the kept samples");
    assert!(times[0] < 0.5, "first kept sample at {} s", times[0]);
}
