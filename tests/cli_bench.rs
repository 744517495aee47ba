//! End-to-end tests of `actprof bench` (and the command-line frame) on the real binary.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

/// The seven default activations by their report names.
const DEFAULT_NAMES: [&str; 7] = [
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_tanh",
    "silu",
];

/// A bench small enough for a test: 2 sizes × 7 activations, a few ms per cell.
const TINY: [&str; 9] = [
    "bench",
    "--sizes",
    "1k,4k",
    "--min-time",
    "20ms",
    "--warmup",
    "5ms",
    "--min-samples",
    "5",
];

fn actprof() -> Command {
    let mut command = Command::cargo_bin("actprof").expect("the actprof binary is built");
    command.env_remove("RUST_LOG");
    command
}

/// Parses a CSV report into one map (column → value) per row.
fn parse_csv(text: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text);
    let header = reader.headers().expect("a header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("a well-formed row");
            header
                .iter()
                .map(str::to_owned)
                .zip(record.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} is a number", row[column]))
}

fn check_tiny_report(rows: &[BTreeMap<String, String>]) {
    assert_eq!(rows.len(), 14, "7 activations × 2 sizes");
    for elements in ["1024", "4096"] {
        let names: Vec<&str> = rows
            .iter()
            .filter(|row| row["elements"] == elements)
            .map(|row| row["activation"].as_str())
            .collect();
        assert_eq!(names, DEFAULT_NAMES, "elements = {elements}");
    }
    for row in rows {
        for column in [
            "median_ns",
            "mean_ns",
            "min_ns",
            "ns_per_element",
            "gelem_per_s",
        ] {
            let value = number(row, column);
            assert!(
                value.is_finite() && value > 0.0,
                "{column} = {value} in {row:?}"
            );
        }
        assert!(number(row, "samples") >= 5.0);
        assert!(number(row, "ci95_low_ns") <= number(row, "median_ns"));
        assert!(number(row, "median_ns") <= number(row, "ci95_high_ns"));
        // Elements per ns is the reciprocal of ns per element.
        let product = number(row, "ns_per_element") * number(row, "gelem_per_s");
        assert!((product - 1.0).abs() < 1e-6, "{product}");
        assert_eq!(row["threads"], "1");
        assert_eq!(row["target"], "local");
        assert_eq!(row["dtype"], "f32");
    }
}

#[test]
fn tiny_bench_prints_csv_rows_for_every_cell() {
    let output = actprof()
        .args(TINY)
        .args(["--format", "csv"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    check_tiny_report(&parse_csv(&output.stdout));
    // Host facts and their warnings go to standard error, not into the CSV.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("host: "), "{stderr}");
}

#[test]
fn out_writes_the_csv_report_next_to_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.csv");
    let output = actprof()
        .args(TINY)
        .args([
            "--activations",
            "relu,swish:beta=2",
            "--threads",
            "2",
            "--out",
        ])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table
            .lines()
            .next()
            .is_some_and(|h| h.contains("median ns/call")),
        "{table}"
    );
    assert_eq!(
        table.lines().count(),
        1 + 4,
        "header + 2 activations × 2 sizes"
    );

    let rows = parse_csv(&std::fs::read(&path).expect("report written"));
    let cells: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["activation"].as_str(),
                r["params"].as_str(),
                r["elements"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("relu", "", "1024"),
            ("swish", "beta=2", "1024"),
            ("relu", "", "4096"),
            ("swish", "beta=2", "4096")
        ]
    );
    assert!(rows.iter().all(|r| r["threads"] == "2"));
}

#[test]
fn json_rows_carry_the_report_columns() {
    let output = actprof()
        .args([
            "bench",
            "--activations",
            "tanh",
            "--sizes",
            "1000",
            "--format",
            "json",
        ])
        .args([
            "--min-time",
            "10ms",
            "--warmup",
            "2ms",
            "--min-samples",
            "3",
        ])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let rows = rows.as_array().expect("an array of rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["activation"], "tanh");
    assert_eq!(rows[0]["elements"], 1000);
    assert!(rows[0]["median_ns"].as_f64().is_some_and(|ns| ns > 0.0));
}

#[test]
fn profile_sets_the_plan_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("small.toml");
    std::fs::write(
        &profile,
        "activations = [\"sigmoid\", \"gelu_tanh\"]\nsizes = [\"2k\"]\nthreads = 1\n\
         warmup = \"5ms\"\nmin_time = \"10ms\"\nmin_samples = 4\nseed = 9\n",
    )
    .expect("write profile");
    let output = actprof()
        .args(["bench", "--format", "csv", "--seed", "10", "--profile"])
        .arg(&profile)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = parse_csv(&output.stdout);
    let names: Vec<&str> = rows.iter().map(|r| r["activation"].as_str()).collect();
    assert_eq!(names, ["sigmoid", "gelu_tanh"]);
    assert!(
        rows.iter()
            .all(|r| r["elements"] == "2048" && r["seed"] == "10")
    );
}

#[test]
fn malformed_profile_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("broken.toml");
    std::fs::write(
        &profile,
        "activations = [\"relu\"]\nsizes = [\"1k\"]\nthreads = 1\nwarmup = \"fast\"\n\
         min_time = \"10ms\"\nmin_samples = 4\nseed = 9\n",
    )
    .expect("write profile");
    let expected = format!("{}:4:", profile.display());
    actprof()
        .args(["bench", "--profile"])
        .arg(&profile)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains(expected))
        .stderr(predicate::str::contains("warmup"))
        .stderr(predicate::str::contains("fast"));
}

#[test]
fn missing_profile_names_the_path() {
    let path = Path::new("/nonexistent/actprof/plan.toml");
    actprof()
        .args(["bench", "--profile"])
        .arg(path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/nonexistent/actprof/plan.toml"))
        .stderr(predicate::str::contains("caused by: "));
}

#[test]
fn unknown_activation_is_a_clear_error() {
    actprof()
        .args(["bench", "--activations", "relu,elu", "--sizes", "1k"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "error: invalid --activations entry `elu`",
        ))
        .stderr(predicate::str::contains(
            "caused by: unknown activation `elu`",
        ));
}

#[test]
fn bad_size_is_refused_before_running() {
    actprof()
        .args(["bench", "--sizes", "1k,12q"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("12q"));
}

#[test]
fn an_unwritable_report_path_is_refused_before_running() {
    // The check happens before the plan: nothing is measured (no table on stdout).
    actprof()
        .args(TINY)
        .args(["--out", "/nonexistent/actprof/r.csv"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "error: cannot write the output file /nonexistent/actprof/r.csv",
        ))
        .stderr(predicate::str::contains("caused by: "));
}

#[test]
fn a_short_profile_takes_the_quick_plans_other_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("short.toml");
    std::fs::write(
        &profile,
        "activations = [\"tanh\"]\nsizes = [\"1k\"]\nmin_time = \"5ms\"\n",
    )
    .expect("write profile");
    let output = actprof()
        .args(["bench", "--format", "csv", "--profile"])
        .arg(&profile)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let rows = parse_csv(&output.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["activation"], "tanh");
    assert_eq!(rows[0]["elements"], "1024");
    // The quick plan's seed and thread count.
    assert_eq!(rows[0]["seed"], "24301");
    assert_eq!(rows[0]["threads"], "1");
}

#[test]
fn help_explains_options_with_units() {
    let output = actprof().args(["bench", "--help"]).output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--min-time",
        "ms",
        "elements",
        "k = 1024",
        "--format",
        "--out",
        "--profile",
    ] {
        assert!(help.contains(needle), "`{needle}` missing from:\n{help}");
    }
    actprof()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("bench"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_prints_the_finished_cells() {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::{Command as Process, Stdio};

    // 7 activations × 3 sizes at ≥ 0.3 s per cell: several seconds if not interrupted.
    let mut child = Process::new(assert_cmd::cargo::cargo_bin!("actprof"))
        .args([
            "bench",
            "--sizes",
            "1k,2k,3k",
            "--min-time",
            "0.3s",
            "--warmup",
            "1ms",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut seen = String::new();
    // The plan line is printed once the Ctrl-C handler is installed.
    while !seen.contains("plan: ") {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("readable stderr") == 0 {
            panic!("bench ended before its plan line:\n{seen}");
        }
        seen.push_str(&line);
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    let status = Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());

    let output = child.wait_with_output().expect("bench exits");
    stderr.read_to_string(&mut seen).expect("readable stderr");
    assert_eq!(output.status.code(), Some(130), "{seen}");
    let finished: usize = seen
        .split("interrupted: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `interrupted: N of 21 cells` line in:\n{seen}"));
    assert!(finished < 21, "{seen}");
    // The table has its header and one line per finished cell.
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(table.lines().count(), 1 + finished, "{table}");
}
