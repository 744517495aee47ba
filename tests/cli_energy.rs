//! End-to-end tests of `actprof bench --power` on the real binary. This machine has no
//! RAPL, so a written powercap tree whose counter rises at a constant, known power stands
//! in for it: every number below comes from that fixture.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use actprof::report;
use actprof::session::Journal;
use support::FakeRapl;

/// The fake zone's constant power, in W.
const FAKE_POWER_W: u64 = 10;

fn actprof(data_home: &Path) -> Command {
    let mut command = Command::cargo_bin("actprof").expect("the actprof binary is built");
    command
        .env_remove("RUST_LOG")
        .env_remove("ACTPROF_POWERCAP_ROOT")
        .env("XDG_DATA_HOME", data_home);
    command
}

fn sessions(data_home: &Path) -> Vec<PathBuf> {
    match fs::read_dir(data_home.join("actprof/sessions")) {
        Ok(entries) => entries.map(|entry| entry.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn bench_with_rapl_absent_is_an_error_that_names_it_and_writes_nothing() {
    if Path::new("/sys/class/powercap").exists() {
        eprintln!("skipped: this machine has a powercap tree");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("report.csv");
    actprof(data.path())
        .args([
            "bench",
            "--power",
            "rapl",
            "--activations",
            "relu",
            "--sizes",
            "1k",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("power source `rapl`"))
        .stderr(predicate::str::contains(
            "RAPL is not available on this machine",
        ));
    assert!(!out.exists(), "no report for a run that did not happen");
    assert!(sessions(data.path()).is_empty(), "no session either");
}

#[test]
fn bench_without_power_leaves_the_energy_columns_empty() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("report.csv");
    actprof(data.path())
        .args(["bench", "--activations", "relu", "--sizes", "1k"])
        .args(["--min-time", "10ms", "--warmup", "5ms", "--out"])
        .arg(&out)
        .assert()
        .success();
    let rows = report::read_file(&out).expect("report reads");
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].has_energy());
    assert_eq!(rows[0].power_source, None);
    assert_eq!(rows[0].avg_power_w, None);
    assert!(sessions(data.path()).is_empty());
}

#[test]
fn constant_power_costs_nothing_above_idle() {
    let rapl = FakeRapl::start(FAKE_POWER_W);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("report.csv");
    let assert = actprof(data.path())
        .env("ACTPROF_POWERCAP_ROOT", rapl.root())
        .args([
            "bench",
            "--power",
            "rapl",
            "--activations",
            "relu,gelu",
            "--sizes",
            "4k",
        ])
        .args(["--power-interval", "20ms", "--idle", "1s"])
        .args(["--min-time", "50ms", "--warmup", "10ms", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("nJ/call"))
        // 50 Hz: 22 samples make 0.44 s, so the 50 ms cells were lengthened.
        .stderr(predicate::str::contains("at least 0.4 s"))
        .stderr(predicate::str::contains("idle baseline"));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("total at least"), "{stderr}");

    let rows = report::read_file(&out).expect("report reads");
    assert_eq!(rows.len(), 2);
    let expected_w = FAKE_POWER_W as f64;
    for row in &rows {
        assert_eq!(row.power_source.as_deref(), Some("rapl"), "{stderr}");
        let avg = row.avg_power_w.expect("avg power");
        let idle = row.idle_power_w.expect("idle power");
        // The counter rises at exactly 10 W; the writer thread's lag (a few ms on a busy
        // machine) at the window edges keeps the window means within 10 %.
        assert!((avg - expected_w).abs() < 0.1 * expected_w, "avg {avg} W");
        assert!(
            (idle - expected_w).abs() < 0.1 * expected_w,
            "idle {idle} W"
        );
        assert!(row.power_samples.expect("samples") >= 20, "{row:?}");

        // Run and idle draw the same power, so a call costs 0 J above idle: zero must lie
        // within the CI, widened by the writer's lag at both window edges (up to 10 ms at
        // 10 W each) shared over the window's calls. Forgetting to subtract idle would
        // be off by 10 W × 0.44 s, twenty times that.
        let per_call = row.energy_per_call_nj.expect("energy per call");
        let low = row.energy_ci95_low_nj.expect("ci low");
        let high = row.energy_ci95_high_nj.expect("ci high");
        assert!(
            low <= per_call && per_call <= high,
            "{low} {per_call} {high}"
        );
        let window_s = row.power_samples.expect("samples") as f64 / 50.0;
        let calls = window_s * 1e9 / row.mean_ns;
        let edge_nj = 2.0 * expected_w * 10e-3 * 1e9 / calls;
        let gross_nj = avg * window_s * 1e9 / calls;
        assert!(
            edge_nj < 0.1 * gross_nj,
            "the tolerance stays far below the gross energy"
        );
        assert!(
            low - edge_nj <= 0.0 && 0.0 <= high + edge_nj,
            "0 outside [{low}, {high}] ± {edge_nj} nJ"
        );
        let per_element = row.energy_per_element_pj.expect("per element");
        let expected_pj = per_call * 1e3 / row.elements as f64;
        assert!((per_element - expected_pj).abs() <= 1e-9 * expected_pj.abs().max(1.0));
    }

    let dirs = sessions(data.path());
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let session = Journal::read(&dirs[0]).expect("session reads back");
    assert!(session.meta.ended_at.is_some());
    assert!(
        session
            .meta
            .plan
            .as_ref()
            .is_some_and(|p| p.power.is_some())
    );
    let labels: Vec<&str> = session.windows.iter().map(|w| w.label.as_str()).collect();
    assert_eq!(labels, ["idle", "relu f32 ×4096", "gelu f32 ×4096"]);
    // Windows do not overlap and each lies within the recorded trace.
    let first_t = session.samples[0].t_s;
    let last_t = session.samples.last().expect("samples").t_s;
    for pair in session.windows.windows(2) {
        assert!(pair[0].end_s <= pair[1].start_s);
    }
    for window in &session.windows {
        assert!(
            first_t <= window.start_s && window.end_s <= last_t,
            "{window:?}"
        );
    }
}
