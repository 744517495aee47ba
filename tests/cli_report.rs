//! End-to-end tests of `actprof eval`, `compare` and `accuracy`, driving the real binary.
//!
//! Expected values come from the mathematical definitions (computed here in f64 and
//! rounded to f32) and from the verdict rule documented in `report::compare`, never from
//! the code under test.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn actprof() -> Command {
    Command::cargo_bin("actprof").expect("the actprof binary is built")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn stdout_of(command: &mut Command) -> String {
    let output = command.output().expect("actprof runs");
    assert!(
        output.status.success(),
        "actprof failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// `1 / (1 + e^-x)` in f64, rounded once to f32.
fn sigmoid_f32(x: f64) -> f32 {
    (1.0 / (1.0 + (-x).exp())) as f32
}

#[test]
fn eval_sigmoid_prints_the_correctly_rounded_values() {
    // 1/(1+e^100) ≈ 3.72e-44 is an f32 subnormal (27 × 2^-149, printed 3.8e-44 as the
    // shortest decimal that reads back to it); 1/(1+e^-100) rounds to 1.
    let expected = "-100 3.8e-44\n0 0.5\n100 1\n";
    for (x, printed) in [(-100.0, "3.8e-44"), (0.0, "0.5"), (100.0, "1")] {
        let value: f32 = printed.parse().expect("a number");
        assert_eq!(value.to_bits(), sigmoid_f32(x).to_bits(), "sigmoid({x})");
    }

    for implementation in ["fast", "reference"] {
        let out = stdout_of(
            actprof()
                .args(["eval", "sigmoid", "--impl", implementation])
                .args(["--", "-100", "0", "100"]),
        );
        assert_eq!(out, expected, "--impl {implementation}");
    }
}

#[test]
fn eval_runs_the_kernel_variant_asked_for() {
    // Every CPU runs the scalar kernels; they give sigmoid's correctly rounded values here
    // (see the test above for why -100 gives 3.8e-44).
    let expected = "-100 3.8e-44\n0 0.5\n100 1\n";
    let out = stdout_of(
        actprof()
            .args(["eval", "sigmoid", "--isa", "scalar"])
            .args(["--", "-100", "0", "100"]),
    );
    assert_eq!(out, expected);
    actprof()
        .args(["eval", "sigmoid", "--isa", "all", "--", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pick --isa"));
}

#[test]
fn eval_keeps_signed_zeros_and_nan_as_defined() {
    // relu(-0) = max(-0, 0) is +0 by our definition; tanh is odd, so tanh(-0) = -0.
    assert_eq!(
        stdout_of(actprof().args(["eval", "relu", "--", "-0"])),
        "-0 0\n"
    );
    assert_eq!(
        stdout_of(actprof().args(["eval", "tanh", "--", "-0"])),
        "-0 -0\n"
    );
    assert_eq!(
        stdout_of(actprof().args(["eval", "sigmoid", "NaN"])),
        "NaN NaN\n"
    );
    // sigmoid's limits at ±infinity are 0 and 1.
    assert_eq!(
        stdout_of(actprof().args(["eval", "sigmoid", "--", "-inf", "inf"])),
        "-inf 0\ninf 1\n"
    );
}

#[test]
fn eval_takes_parameters_and_negative_numbers_after_the_separator() {
    // leaky_relu with alpha = 0.5: -4 → -2 exactly; 3 → 3.
    let out = stdout_of(actprof().args(["eval", "leaky_relu", "--alpha", "0.5", "--", "-4", "3"]));
    assert_eq!(out, "-4 -2\n3 3\n");
}

#[test]
fn eval_names_a_bad_value_and_its_position() {
    actprof()
        .args(["eval", "relu", "--", "1", "one"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "input 2 of 2, `one`, is not a number",
        ));
}

#[test]
fn compare_reports_a_faster_run_and_exits_0() {
    // relu: 500 ns [495, 505] → 400 ns [396, 404]: disjoint, −20% → faster.
    // sigmoid: 2000 [1990, 2010] → 1980 [1975, 1985]: disjoint but −1% ≤ 2% → no change.
    // leaky_relu: 600 [590, 610] → 580 [560, 595]: intervals overlap → no change.
    let out = stdout_of(
        actprof()
            .arg("compare")
            .arg(fixture("base.csv"))
            .arg(fixture("faster.csv")),
    );

    let verdicts: Vec<(&str, &str)> = out
        .lines()
        .skip(1)
        .take(3)
        .map(|line| {
            let activation = line.split_whitespace().next().expect("activation column");
            let verdict = line.rsplit("  ").next().expect("verdict column").trim();
            (activation, verdict)
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("relu", "faster"),
            ("sigmoid", "no change"),
            ("leaky_relu", "no change")
        ]
    );
    assert!(out.contains("-20.0%"), "{out}");
    assert!(out.contains("-1.0%"), "{out}");
    assert!(out.contains("1 faster, 0 slower, 2 no change"), "{out}");
}

#[test]
fn compare_flags_a_regression_with_exit_1() {
    // relu: 500 [495, 505] → 625 [620, 630]: disjoint, +25% → slower.
    // sigmoid: [1990, 2010] vs [1995, 2005] overlap → no change.
    // leaky_relu only in base, gelu only in new.
    let assert = actprof()
        .arg("compare")
        .arg(fixture("base.csv"))
        .arg(fixture("slower.csv"))
        .assert()
        .code(1);
    let out = String::from_utf8(assert.get_output().stdout.clone()).expect("UTF-8");
    assert!(out.contains("+25.0%"), "{out}");
    assert!(out.contains("0 faster, 1 slower, 1 no change"), "{out}");
    assert!(
        out.contains("leaky_relu:alpha=0.2 f32 × 4096, 1 thread, local"),
        "{out}"
    );
    assert!(out.contains("gelu f32 × 4096, 1 thread, local"), "{out}");
}

#[test]
fn compare_noise_threshold_changes_the_verdict() {
    // With a 30% threshold the +25% relu change is noise, so nothing regressed.
    actprof()
        .arg("compare")
        .arg(fixture("base.csv"))
        .arg(fixture("slower.csv"))
        .args(["--noise", "30%"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0 faster, 0 slower, 2 no change"));
}

#[test]
fn compare_names_file_row_and_column_of_a_bad_number() {
    let bad = fixture("bad_number.csv");
    actprof()
        .arg("compare")
        .arg(fixture("base.csv"))
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "row 2 (line 3), column median_ns: `2O00.0` is not a number",
        ))
        .stderr(predicate::str::contains(bad.display().to_string()));
}

#[test]
fn compare_refuses_a_bad_noise_threshold() {
    actprof()
        .arg("compare")
        .arg(fixture("base.csv"))
        .arg(fixture("faster.csv"))
        .args(["--noise", "lots"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad noise threshold `lots`"));
}

/// Runs a tiny real `actprof bench` that writes its CSV report to `out`.
fn bench_into(out: &Path) {
    actprof()
        .args([
            "bench",
            "--activations",
            "relu",
            "--sizes",
            "1k",
            "--min-time",
            "10ms",
        ])
        .args(["--warmup", "5ms", "--min-samples", "5", "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn compare_two_real_bench_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (base_path, new_path) = (dir.path().join("base.csv"), dir.path().join("new.csv"));
    bench_into(&base_path);
    bench_into(&new_path);
    let base = actprof::report::read_file(&base_path).expect("bench writes a readable report");
    let new = actprof::report::read_file(&new_path).expect("bench writes a readable report");
    assert_eq!((base.len(), new.len()), (1, 1));
    let (b, n) = (&base[0], &new[0]);
    assert_eq!(
        (b.activation.as_str(), b.elements, b.threads),
        ("relu", 1024, 1)
    );

    let output = actprof()
        .arg("compare")
        .arg(&base_path)
        .arg(&new_path)
        .output()
        .expect("runs");

    // The verdict follows the documented rule; which one it is depends on timing noise.
    let overlap = b.ci95_low_ns <= n.ci95_high_ns && n.ci95_low_ns <= b.ci95_high_ns;
    let change = n.median_ns / b.median_ns - 1.0;
    let verdict = if overlap || change.abs() <= 0.02 {
        "no change"
    } else if change < 0.0 {
        "faster"
    } else {
        "slower"
    };
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let row = stdout.lines().nth(1).expect("one table row");
    assert!(row.starts_with("relu"), "{stdout}");
    assert!(
        row.contains(&format!("{:+.1}%", change * 100.0)),
        "{stdout}"
    );
    assert!(row.ends_with(verdict), "{stdout}");
    assert_eq!(
        output.status.code(),
        Some(if verdict == "slower" { 1 } else { 0 })
    );
    assert!(stdout.contains("1 cell compared"), "{stdout}");
}

/// `text` as a spreadsheet in a decimal-comma locale saves it: `;` between fields, and a
/// comma for the point of every number.
fn resaved_with_semicolons(text: &str) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    for record in reader.records() {
        let record = record.expect("bench writes valid CSV");
        writer
            .write_record(record.iter().map(|field| {
                if field.parse::<f64>().is_ok() {
                    field.replace('.', ",")
                } else {
                    field.to_owned()
                }
            }))
            .expect("in memory");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("UTF-8")
}

#[test]
fn compare_reads_a_report_resaved_by_a_decimal_comma_spreadsheet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (base_path, resaved_path) = (dir.path().join("base.csv"), dir.path().join("de.csv"));
    bench_into(&base_path);
    let text = std::fs::read_to_string(&base_path).expect("report");
    let resaved = resaved_with_semicolons(&text);
    assert!(resaved.starts_with("activation;params;"), "{resaved}");
    std::fs::write(&resaved_path, &resaved).expect("write");

    // The same measurements: the median changes by exactly 0 %, so "no change", exit 0.
    let stdout = stdout_of(actprof().arg("compare").arg(&base_path).arg(&resaved_path));
    let row = stdout.lines().nth(1).expect("one table row");
    assert!(row.starts_with("relu"), "{stdout}");
    assert!(
        row.contains("+0.0%") && row.ends_with("no change"),
        "{stdout}"
    );
    assert!(stdout.contains("1 cell compared"), "{stdout}");
    assert!(stdout.contains("0 only in"), "{stdout}");
}

#[test]
fn accuracy_of_sigmoid_on_a_sample_passes() {
    let out = stdout_of(
        actprof()
            .args(["accuracy", "--activations", "sigmoid"])
            .args(["--points", "100000", "--threads", "2"]),
    );
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(!rows.is_empty(), "{out}");
    for row in rows {
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[0], "sigmoid", "{out}");
        assert_eq!(fields[2], "100000", "{out}");
        assert_eq!(fields.last(), Some(&"PASS"), "{out}");
    }
}

#[test]
fn accuracy_refuses_an_unknown_activation() {
    actprof()
        .args(["accuracy", "--activations", "elu", "--points", "10"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown activation `elu`"));
}
