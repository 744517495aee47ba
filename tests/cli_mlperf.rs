//! End-to-end tests of the MLPerf Tiny DUT target: `actprof emulate mlperf-dut` on a real
//! pty, measured by `actprof bench --target mlperf-dut:PORT`. Expected latencies come
//! from the emulator's configured inference time (`--inference-time`), which it reports
//! exactly between its two `m-lap-us` stamps; windows are 100 ms and timeouts 1 s so the
//! whole file runs in seconds.

mod meters_support;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use meters_support::{Emulator, binary, texts};

/// The emulator's time per inference in these tests, ms.
const INFERENCE_MS: f64 = 2.0;

/// The longest any run here may take before it counts as hung.
const HANG: Duration = Duration::from_secs(30);

/// `actprof emulate mlperf-dut --inference-time 2ms` with `more` arguments.
fn emulator(more: &[&str]) -> Emulator {
    let mut args = vec!["mlperf-dut", "--inference-time", "2ms"];
    args.extend_from_slice(more);
    Emulator::spawn(&args)
}

/// `actprof bench --target mlperf-dut:PORT` with short windows and timeouts, writing
/// `dut.csv` in `dir`; killed (and failed) if it runs longer than [`HANG`].
fn bench(dir: &Path, port: &str, more: &[&str]) -> Output {
    let mut command = Command::new(binary());
    command
        .env_remove("RUST_LOG")
        .args(["bench", "--target", &format!("mlperf-dut:{port}")])
        .args([
            "--window",
            "100ms",
            "--line-timeout",
            "1s",
            "--infer-timeout",
            "1s",
        ])
        .arg("--out")
        .arg(dir.join("dut.csv"))
        .args(more);
    run_bounded(command)
}

fn run_bounded(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bench starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > HANG {
            let _ = child.kill();
            panic!("the run hung for {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The DUT CSV as one map (column → value) per row.
fn read_csv(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("dut.csv")).expect("the CSV is written");
    let header = reader.headers().expect("a header").clone();
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
        .unwrap_or_else(|_| panic!("{column} = {:?}", row[column]))
}

/// Within 1% of `want`.
fn near(value: f64, want: f64) -> bool {
    (value - want).abs() <= 0.01 * want
}

/// Checks a finished run: 5 windows and a score at the emulator's inference time.
fn check_clean(dir: &Path, output: &Output, port: &str) {
    let (stdout, stderr) = texts(output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let rows = read_csv(dir);
    assert_eq!(rows.len(), 6, "5 windows and the score: {rows:?}");
    for (index, row) in rows[..5].iter().enumerate() {
        assert_eq!(row["kind"], "window");
        assert_eq!(row["window"], (index + 1).to_string());
        assert_eq!(row["target"], format!("mlperf-dut:{port} (emulated)"));
        assert_eq!(row["model"], "ic01");
        assert_eq!(row["dut_name"], "dut-[emu]");
        let inferences = number(row, "inferences");
        // The emulator reports N · 2 ms between its stamps.
        assert_eq!(number(row, "elapsed_us"), inferences * INFERENCE_MS * 1e3);
        assert!(
            near(number(row, "latency_ms_per_inf"), INFERENCE_MS),
            "{row:?}"
        );
        // Each window lasts at least the 100 ms asked for.
        assert!(number(row, "elapsed_us") >= 100_000.0, "{row:?}");
    }
    let score = &rows[5];
    assert_eq!(score["kind"], "score");
    assert!(
        near(number(score, "latency_ms_per_inf"), INFERENCE_MS),
        "{score:?}"
    );
    assert!(near(
        number(score, "throughput_inf_per_s"),
        1e3 / INFERENCE_MS
    ));
    assert_eq!(
        score["deviation"],
        "windows of 0.1 s, shorter than MLPerf Tiny's 10 s"
    );
    assert!(
        stdout.contains(
            "not MLPerf Tiny compliant: windows of 0.1 s, shorter than MLPerf Tiny's 10 s"
        ),
        "{stdout}"
    );
    assert!(stderr.contains("(EMULATED)"), "{stderr}");
}

#[test]
fn a_clean_run_scores_the_emulators_inference_time() {
    let emulator = emulator(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    check_clean(dir.path(), &output, &emulator.port);
    let (stdout, stderr) = texts(&output);
    let table: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        table[0].split_whitespace().collect::<Vec<_>>(),
        [
            "target",
            "model",
            "windows",
            "inferences/window",
            "warmup",
            "median",
            "ms/inf",
            "window",
            "spread",
            "ms/inf",
            "median",
            "inf/s"
        ]
    );
    let cells: Vec<&str> = table[1].split_whitespace().collect();
    let target = format!("mlperf-dut:{}", emulator.port);
    assert_eq!(cells[..4], [target.as_str(), "(emulated)", "ic01", "5"]);
    assert_eq!(cells[5..7], ["5", "2.000"], "{stdout}");
    assert_eq!(cells[8], "500.0", "{stdout}");
    assert!(
        stderr.contains("calibration: 20 inferences in 0.04 s"),
        "{stderr}"
    );
}

#[test]
fn a_stale_half_command_is_flushed() {
    let emulator = emulator(&["--fault", "stale"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(binary());
    command
        .env("RUST_LOG", "actprof=debug")
        .args([
            "bench",
            "--target",
            &format!("mlperf-dut:{}", emulator.port),
        ])
        .args(["--window", "100ms", "--infer-timeout", "1s", "--out"])
        .arg(dir.path().join("dut.csv"));
    let output = run_bounded(command);
    check_clean(dir.path(), &output, &emulator.port);
    // The flush's lone `%` completed the stale `db 3f2a1`, which the DUT refused.
    let (_, stderr) = texts(&output);
    assert!(
        stderr.contains("Insufficent number of hex digits"),
        "{stderr}"
    );
}

#[test]
fn garbage_bytes_are_dropped_and_counted() {
    let emulator = emulator(&["--fault", "garbage"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    check_clean(dir.path(), &output, &emulator.port);
    let (_, stderr) = texts(&output);
    assert!(stderr.contains("that are not UTF-8 text"), "{stderr}");
    assert!(stderr.contains("link:   dropped"), "{stderr}");
}

#[test]
fn lf_only_endings_and_echoes_are_understood() {
    let emulator = emulator(&["--fault", "lf,echo"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    check_clean(dir.path(), &output, &emulator.port);
    let (_, stderr) = texts(&output);
    assert!(stderr.contains("echoed command(s)"), "{stderr}");
}

#[test]
fn a_timer_that_wraps_in_every_window_still_times_it() {
    let emulator = emulator(&["--fault", "wrap"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    check_clean(dir.path(), &output, &emulator.port);
}

#[test]
fn the_unprefixed_buffer_line_is_a_clear_error() {
    let emulator = emulator(&["--fault", "unprefixed"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("input buffer is too small"), "{stderr}");
    assert!(
        stderr.contains("`Supplied buffer size 3072 exceeds maximum of 1536`"),
        "{stderr}"
    );
    assert!(stderr.contains("`db load 3072%`"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
    // Connected, so the CSV exists, with no window.
    assert!(read_csv(dir.path()).is_empty());
}

#[test]
fn a_dropped_ready_times_out_and_keeps_the_finished_windows() {
    // infer #1 is the calibration, #2 and #3 the first two windows, #4 loses its m-ready.
    let emulator = emulator(&["--fault", "drop-ready=4"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stopped after 2 of 5 windows (shown above and written to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no reply within 1.0 s while waiting for the final m-ready"),
        "{stderr}"
    );
    assert!(stderr.contains("(last command sent: `infer "), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let rows = read_csv(dir.path());
    let kinds: Vec<&str> = rows.iter().map(|row| row["kind"].as_str()).collect();
    assert_eq!(kinds, ["window", "window", "score"]);
    assert!(near(number(&rows[2], "latency_ms_per_inf"), INFERENCE_MS));
    assert!(
        rows[2]["deviation"].starts_with("2 windows of the 5 asked for"),
        "{:?}",
        rows[2]
    );
    assert!(stdout.contains("2.000"), "{stdout}");
}

#[test]
fn a_slow_first_ready_is_retried() {
    // Booting takes 2.5 s, longer than one 2 s try of `name%`.
    let emulator = emulator(&["--fault", "slow-ready"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    check_clean(dir.path(), &output, &emulator.port);
}

#[test]
fn energy_mode_firmware_is_refused() {
    let emulator = emulator(&["--mode", "energy"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the DUT runs energy-mode firmware"),
        "{stderr}"
    );
    assert!(stderr.contains("performance-mode firmware"), "{stderr}");
    assert!(stderr.contains("`timestamp%`"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn a_reset_mid_run_stops_it_with_the_windows_kept() {
    // infer #3 is the second window.
    let emulator = emulator(&["--fault", "reset=3"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("the DUT reset"), "{stderr}");
    assert!(stderr.contains("m-timestamp-mode-performance"), "{stderr}");
    assert!(stderr.contains("stopped after 1 of 5 windows"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
    let rows = read_csv(dir.path());
    assert_eq!(rows.len(), 2, "one window and its score: {rows:?}");
}

#[test]
fn a_disconnect_mid_run_is_a_clear_error_without_a_hang() {
    let emulator = emulator(&["--fault", "disconnect-after=700ms"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("the DUT disconnected"), "{stderr}");
    assert!(stderr.contains("last command sent: `"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_dut_that_falls_silent_times_out() {
    let emulator = emulator(&["--fault", "silent-after=600ms"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), &emulator.port, &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("no reply within 1.0 s"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
}

#[test]
fn ctrl_c_stops_after_the_current_window() {
    let emulator = emulator(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(binary())
        .env_remove("RUST_LOG")
        .args([
            "bench",
            "--target",
            &format!("mlperf-dut:{}", emulator.port),
        ])
        .args(["--window", "300ms", "--out"])
        .arg(dir.path().join("dut.csv"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bench starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        let first_window = line.starts_with("window 1/5");
        seen.push(line);
        if first_window {
            break;
        }
    }
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) with a valid signal on our own child has no memory effects.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(130), "{seen:?} {rest:?}");
    let text = rest.join("\n");
    assert!(text.contains("stopping after the current window"), "{text}");
    assert!(text.contains("interrupted: "), "{text}");
    let rows = read_csv(dir.path());
    let windows = rows.iter().filter(|row| row["kind"] == "window").count();
    assert!((1..5).contains(&windows), "{rows:?}");
    assert_eq!(rows.last().map(|row| row["kind"].as_str()), Some("score"));
}

#[test]
fn flags_of_the_other_target_are_refused() {
    let output = run_bounded({
        let mut command = Command::new(binary());
        command.args(["bench", "--target", "mlperf-dut:/dev/null", "--sizes", "1k"]);
        command
    });
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--sizes does not apply to `--target mlperf-dut:PORT`"),
        "{stderr}"
    );

    let output = run_bounded({
        let mut command = Command::new(binary());
        command.args(["bench", "--windows", "3"]);
        command
    });
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--windows applies to `--target mlperf-dut:PORT` only"));
}

#[test]
fn a_missing_port_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = bench(dir.path(), "/dev/actprof-no-such-dut", &[]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot open the DUT's serial port"),
        "{stderr}"
    );
    assert!(stderr.contains("/dev/actprof-no-such-dut"), "{stderr}");
}
