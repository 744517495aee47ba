//! End-to-end tests of `actprof import` on the fixtures in `tests/fixtures/import/`:
//! small files in each tool's documented format, with expected values worked out by hand
//! from their rows (see the comments).

mod meters_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn actprof() -> Command {
    // A private copy: the build directory is shared with other builds.
    let mut command = Command::new(meters_support::binary());
    command.env_remove("RUST_LOG");
    command
}

/// The number after `label` in the summary.
fn value(summary: &str, label: &str) -> f64 {
    let line = summary
        .lines()
        .find(|line| line.starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` in {summary}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no number in `{line}`"))
}

/// The summary `import` prints on success.
fn summary_of(command: &mut Command) -> String {
    let output = command.assert().success().get_output().stdout.clone();
    String::from_utf8(output).expect("UTF-8")
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * b.abs()
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("the trace is written");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time_s,power_w,current_a,voltage_v,energy_j,power_source,logic")
    );
    lines
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_joulescope_csv_with_a_nan_row_and_a_time_jump() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("trace.csv");
    let summary = summary_of(
        actprof()
            .arg("import")
            .arg(fixture("joulescope.csv"))
            .arg("--out")
            .arg(&out),
    );
    assert!(
        summary.contains("Joulescope statistics CSV (joulescope)"),
        "{summary}"
    );
    assert!(
        summary.contains("rows:       7 (1 skipped: NaN or empty, the first at line 5)"),
        "{summary}"
    );
    assert!(summary.contains("time jumps: 1"), "{summary}");
    assert!(summary.contains("line 7: 2 s -> 0.5 s"), "{summary}");
    // The file's own energy column: 5.95057 J at the last row, 0 at the first.
    assert!(
        summary.contains("from the recording's energy counter"),
        "{summary}"
    );
    assert!(
        close(value(&summary, "energy:"), 5.95057, 1e-9),
        "{summary}"
    );
    // Over 3 s: the jump's rows are placed 0.5 s apart after 2.0 s.
    assert!(
        close(value(&summary, "mean power:"), 5.95057 / 3.0, 1e-6),
        "{summary}"
    );

    let rows = rows(&out);
    let times: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(times, ["0", "0.5", "1", "2", "2.5", "3"]);
    let source = format!("import:joulescope:{}", fixture("joulescope.csv").display());
    assert_eq!(
        rows[1],
        [
            "0.5",
            "1.90114",
            "0.400691",
            "4.74479",
            "0.950568",
            source.as_str(),
            ""
        ]
    );

    // The written trace reads back as an energy-counter trace with the same energy.
    let again = summary_of(actprof().arg("import").arg(&out));
    assert!(again.contains("actprof trace CSV (actprof)"), "{again}");
    assert!(close(value(&again, "energy:"), 5.95057, 1e-9), "{again}");
}

#[test]
fn a_ppk2_export_needs_the_supply_voltage() {
    actprof()
        .arg("import")
        .arg(fixture("ppk2.csv"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("give the supply voltage"))
        .stderr(predicate::str::contains("--voltage"))
        .stderr(predicate::str::contains("ppk2.csv"));

    let summary = summary_of(actprof().arg("import").arg(fixture("ppk2.csv")).args([
        "--format",
        "ppk2",
        "--voltage",
        "3",
    ]));
    // 10 µs apart: 100 kS/s.
    assert!(
        summary.contains("samples:    10 over 9.0000e-5 s (100000.0 Hz)"),
        "{summary}"
    );
    // 10 µs × (4 × 3 mW + 6 mW + 4 × 9 mW) = 5.4e-7 J.
    assert!(close(value(&summary, "energy:"), 5.4e-7, 1e-3), "{summary}");
}

#[test]
fn rd_usb_exports_old_and_new_give_the_same_energy() {
    for file in ["rd-usb.csv", "rd-usb-old.csv"] {
        let summary = summary_of(
            actprof()
                .arg("import")
                .arg(fixture(file))
                .args(["--format", "auto"]),
        );
        assert!(summary.contains("rd-usb CSV export (rd-usb)"), "{summary}");
        assert!(summary.contains("(1.0 Hz, coarse)"), "{summary}");
        // 1 s apart at 2.5, 2.5, 5, 5 W: 2.5 + 3.75 + 5 = 11.25 J over 3 s.
        assert!(
            close(value(&summary, "energy:"), 11.25, 1e-9),
            "{file}: {summary}"
        );
        assert!(
            close(value(&summary, "mean power:"), 3.75, 1e-9),
            "{summary}"
        );
    }
}

#[test]
fn a_bad_field_is_named_by_line_column_and_file() {
    actprof()
        .arg("import")
        .arg(fixture("ppk2-bad.csv"))
        .args(["--voltage", "3.3"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "line 3, column 2 (`Current(uA)`): not a number, found `10x0.000`",
        ))
        .stderr(predicate::str::contains("ppk2-bad.csv"));
}

#[test]
fn a_joulescope_csv_resaved_by_a_spreadsheet_keeps_its_lines_and_energy() {
    // The fixture as a decimal-comma spreadsheet saves it (`;`, `0,5`), with CR LF ends and
    // a blank line after the header: the skipped NaN row and the time jump move one line
    // down (lines 6 and 8), the energy is the file's own 5.95057 J.
    let text = std::fs::read_to_string(fixture("joulescope.csv")).expect("fixture");
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| line.replace(',', ";").replace('.', ","))
        .collect();
    lines.insert(1, String::new());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("joulescope-de.csv");
    std::fs::write(&path, lines.join("\r\n")).expect("write");

    let summary = summary_of(actprof().arg("import").arg(&path));
    assert!(
        summary.contains("Joulescope statistics CSV (joulescope)"),
        "{summary}"
    );
    assert!(
        summary.contains("rows:       7 (1 skipped: NaN or empty, the first at line 6)"),
        "{summary}"
    );
    assert!(summary.contains("line 8: 2 s -> 0.5 s"), "{summary}");
    assert!(
        close(value(&summary, "energy:"), 5.95057, 1e-9),
        "{summary}"
    );
}

#[test]
fn an_unknown_file_asks_for_the_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mystery.csv");
    std::fs::write(&path, "a,b\n1,2\n").expect("write");
    actprof()
        .arg("import")
        .arg(&path)
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot tell the format"))
        .stderr(predicate::str::contains("--format"));
}
