//! End to end: the actprof firmware in QEMU (`actprof emulate board`) ↔ a real pty ↔
//! `actprof bench --target board:PTY`.
//!
//! Needs `qemu-system-arm` and the `thumbv7em-none-eabihf` Rust target (`.ci/run`
//! installs both); the firmware is built from `firmware/` by the first test that needs it.
//! What is checked comes from outside the code under test: the board's output checksums
//! must equal the host's reference (the bench fails otherwise), QEMU's instruction
//! counting (`-icount shift=0`) must give the same counts on two launches, and the
//! faults are injected by the relay in front of the real firmware.

mod meters_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use actprof::report::{self, Row};
use meters_support::{Emulator, binary};

const QEMU_TIMING: &str = "QEMU instruction count, not real-chip cycles";

/// Every activation of the default set, by name.
const ALL: &str = "relu,leaky_relu,sigmoid,tanh,gelu,gelu_tanh,silu";

/// Builds the QEMU board's firmware once per test process and returns the ELF.
fn firmware() -> &'static Path {
    static ELF: OnceLock<PathBuf> = OnceLock::new();
    ELF.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware");
        let status = Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "--release", "--locked", "-p", "actprof-fw-mps2"])
            .args(["--target", "thumbv7em-none-eabihf", "--target-dir"])
            .arg(root.join("target"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building the firmware failed (`rustup target add thumbv7em-none-eabihf`?)"
        );
        root.join("target/thumbv7em-none-eabihf/release/actprof-fw-mps2")
    })
}

/// One QEMU board at a time: each spins a core, and several at once on a small machine
/// turn timing into a test of the scheduler.
fn one_board_at_a_time() -> MutexGuard<'static, ()> {
    static BOARD: Mutex<()> = Mutex::new(());
    // A test that failed while holding it leaves nothing behind to protect.
    BOARD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running `actprof emulate board` (killed on drop; QEMU dies with it), holding the
/// turn of [`one_board_at_a_time`] until then.
struct Board {
    emulator: Emulator,
    _turn: MutexGuard<'static, ()>,
}

impl Board {
    fn start(faults: &str) -> Board {
        let turn = one_board_at_a_time();
        let firmware = firmware().to_str().expect("a UTF-8 path");
        let emulator = Emulator::spawn(&["board", "--firmware", firmware, "--fault", faults]);
        Board {
            emulator,
            _turn: turn,
        }
    }

    /// The pty the emulator printed.
    fn port(&self) -> &str {
        &self.emulator.port
    }
}

/// `actprof bench --target board:PORT` with short cells, writing the report to `out`.
fn bench(port: &str, out: &Path, extra: &[&str]) -> Output {
    let min_time: &[&str] = if extra.contains(&"--min-time") {
        &[]
    } else {
        &["--min-time", "20ms"]
    };
    // A loaded machine can stall every process for seconds; only the test of a silent
    // board waits less.
    let timeout: &[&str] = if extra.contains(&"--board-timeout") {
        &[]
    } else {
        &["--board-timeout", "30s"]
    };
    Command::new(binary())
        .args(["bench", "--target", &format!("board:{port}")])
        .args(min_time)
        .args(timeout)
        .args(["--warmup", "1ms", "--min-samples", "5"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .env_remove("RUST_LOG")
        .output()
        .expect("bench runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn rows(path: &Path) -> Vec<Row> {
    report::read_file(path).expect("the report reads back")
}

#[test]
fn every_activation_runs_on_the_qemu_board_in_f32_and_int8_with_verified_outputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join("first.csv");
    let second = dir.path().join("second.csv");
    let args = [
        "--activations",
        ALL,
        "--dtype",
        "f32,i8",
        "--sizes",
        "256,1000",
    ];
    for out in [&first, &second] {
        // A fresh QEMU each time: counts must repeat across launches, not only runs.
        let board = Board::start("");
        let output = bench(board.port(), out, &args);
        assert!(
            output.status.success(),
            "bench failed:\n{}",
            stderr(&output)
        );
        let text = stderr(&output);
        assert!(
            text.contains("qemu-mps2-an386") && text.contains(QEMU_TIMING),
            "{text}"
        );
    }
    let (first, second) = (rows(&first), rows(&second));
    assert_eq!(first.len(), 7 * 2 * 2, "every cell ran");
    for row in &first {
        assert!(
            row.target.starts_with("board:qemu-mps2-an386 actprof-fw/"),
            "{}",
            row.target
        );
        assert_eq!(row.timing.as_deref(), Some(QEMU_TIMING));
        if row.dtype == "i8" {
            assert_eq!(
                row.max_lsb_error,
                Some(0),
                "{} i8 equals the definition",
                row.activation
            );
        } else {
            // The firmware's portable kernels against the f64 reference, within the bounds
            // firmware/README.md states from its exhaustive sweep of the generator's inputs.
            let bound = match row.activation.as_str() {
                // Correctly rounded: at most half an ULP (ReLU is exact).
                "relu" => 0.0,
                "leaky_relu" => 0.5,
                "sigmoid" | "tanh" => 2.0,
                "silu" => 3.0,
                "gelu" => 8.0,
                "gelu_tanh" => 156.0,
                other => panic!("unexpected activation {other}"),
            };
            assert!(
                row.max_ulp_error <= bound,
                "{} {}",
                row.activation,
                row.max_ulp_error
            );
        }
        assert!(row.median_ns > 0.0 && row.samples >= 5);
        // Every run starts at the same phase of the timer (wfi on SysTick under icount):
        // all runs of a cell count the same ticks.
        assert_eq!(
            (row.min_ns, row.p99_ns),
            (row.median_ns, row.median_ns),
            "{} {}",
            row.activation,
            row.dtype
        );
    }
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(
            (a.activation.as_str(), a.dtype.as_str(), a.elements),
            (b.activation.as_str(), b.dtype.as_str(), b.elements)
        );
        assert_eq!(
            a.iterations_per_sample, b.iterations_per_sample,
            "{}",
            a.activation
        );
        assert_eq!(
            a.median_ns, b.median_ns,
            "{} {} {}: instruction counts repeat under -icount",
            a.activation, a.dtype, a.elements
        );
    }
}

#[test]
fn cells_the_board_cannot_hold_are_skipped_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.csv");
    let board = Board::start("");
    let output = bench(
        board.port(),
        &out,
        &["--activations", "relu", "--sizes", "64,1M"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("skipped relu f32 1M") && text.contains("at most"),
        "{text}"
    );
    assert_eq!(rows(&out).len(), 1);
}

#[test]
fn garbage_stale_answers_and_echo_are_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.csv");
    let board = Board::start("garbage,echo");
    let output = bench(
        board.port(),
        &out,
        &["--activations", "tanh,relu", "--sizes", "128"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("lines ignored from the board"), "{text}");
    assert_eq!(rows(&out).len(), 2);
}

/// A fault mid-run: the bench fails with `what` in its message, naming the port and the
/// command, and the cells finished before are in the report.
fn fails_mid_run(fault: &str, what: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.csv");
    let board = Board::start(fault);
    let mut args = vec![
        "--activations",
        ALL,
        "--sizes",
        "4096",
        "--min-time",
        "150ms",
    ];
    args.extend_from_slice(extra);
    let started = std::time::Instant::now();
    let output = bench(board.port(), &out, &args);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(what), "expected `{what}` in:\n{text}");
    assert!(text.contains(board.port()), "the port is named:\n{text}");
    assert!(
        text.contains("run kernel="),
        "the command is named:\n{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    assert!(started.elapsed().as_secs() < 60, "no hang");
    let kept = rows(&out);
    assert!(
        !kept.is_empty() && kept.len() < 7,
        "finished cells kept: {}",
        kept.len()
    );
}

#[test]
fn a_board_reset_mid_run_fails_the_command_and_keeps_finished_cells() {
    fails_mid_run("reset-after=100ms", "reset while running", &[]);
}

#[test]
fn a_board_that_stops_answering_times_out() {
    fails_mid_run(
        "silent-after=100ms",
        "no answer from the board",
        &["--board-timeout", "1s"],
    );
}

#[test]
fn killing_qemu_mid_run_is_a_disconnect() {
    fails_mid_run("kill-after=100ms", "disconnected", &[]);
}

#[test]
fn a_port_without_a_board_is_refused_after_hello_retries() {
    // A port with something else on it: a SCPI supply answers in its own language only.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.csv");
    let meter = meters_support::Emulator::spawn(&["scpi"]);
    let output = bench(
        &meter.port,
        &out,
        &[
            "--activations",
            "relu",
            "--sizes",
            "64",
            "--board-timeout",
            "3s",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("no answer from the board") && text.contains("hello"),
        "{text}"
    );
}

#[test]
fn emulate_board_says_what_is_missing() {
    let output = Command::new(binary())
        .args(["emulate", "board", "--firmware", "/nonexistent/fw.elf"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/nonexistent/fw.elf"),
        "{}",
        stderr(&output)
    );

    let output = Command::new(binary())
        .args(["emulate", "board", "--firmware"])
        .arg(firmware())
        .env("PATH", "/nonexistent")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("qemu-system-arm is not installed"), "{text}");
}

#[test]
fn a_plan_the_board_cannot_run_at_all_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.csv");
    let board = Board::start("");
    let output = bench(
        board.port(),
        &out,
        &["--activations", "relu", "--sizes", "1M"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no cell of the plan could run"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn ctrl_c_during_the_last_cell_ends_as_interrupted_with_the_cell_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.csv");
    let board = Board::start("");
    // One cell of about 2 s of board time; SIGINT arrives while it runs.
    let child = Command::new(binary())
        .args(["bench", "--target", &format!("board:{}", board.port())])
        .args([
            "--activations",
            "gelu",
            "--sizes",
            "16k",
            "--min-time",
            "2s",
        ])
        .args(["--board-timeout", "30s", "--out"])
        .arg(&out)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bench starts");
    std::thread::sleep(std::time::Duration::from_millis(800));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().expect("bench ends");
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{text}");
    assert!(text.contains("after the current cell"), "{text}");
    assert_eq!(rows(&out).len(), 1, "the cell the board finished is kept");
}

#[test]
fn emulate_board_refuses_the_flags_of_other_emulators() {
    for flags in [
        &["--waveform", "const:1W"][..],
        &["--inference-time", "2ms"][..],
        &["--model", "kws01"][..],
    ] {
        let output = Command::new(binary())
            .args(["emulate", "board"])
            .args(flags)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains("does not apply"),
            "{}",
            stderr(&output)
        );
    }
    let output = Command::new(binary())
        .args(["emulate", "um25c", "--firmware", "/x.elf"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--firmware applies to"),
        "{}",
        stderr(&output)
    );
}
