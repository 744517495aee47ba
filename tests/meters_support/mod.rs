//! What the meter end-to-end tests share: `actprof emulate KIND` as a child process on a
//! real pty, `actprof record` against it, and readers for what the recording wrote (the
//! trace CSV and the session journal).

// Each test crate uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;

use actprof::session::{Journal, RecordedSession};

/// The binary under test, copied once per test process: the build directory is shared,
/// and a copy cannot be replaced by another build while the tests run.
///
/// The copy lives in cargo's per-target scratch folder under a name of this test binary's
/// own, so each run replaces the last one's instead of leaving a copy behind in /tmp. It is
/// written under a temporary name and renamed into place, which is atomic even while an
/// earlier copy is still running.
pub fn binary() -> &'static Path {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        let test = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
            // `board_qemu-becf8343347a31e2`: the hash changes with every build.
            .map(|stem| match stem.rsplit_once('-') {
                Some((name, _)) => name.to_owned(),
                None => stem,
            })
            .unwrap_or_else(|| "tests".to_owned());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("actprof-for-{test}"));
        let partial = dir.join(format!("actprof-for-{test}.{}", std::process::id()));
        std::fs::copy(env!("CARGO_BIN_EXE_actprof"), &partial).expect("copy the binary");
        std::fs::rename(&partial, &path).expect("move the copy into place");
        let ours = Command::new(&path)
            .args(["import", "--help"])
            .output()
            .is_ok_and(|output| output.status.success());
        assert!(
            ours,
            "{} is another checkout's build (the build directory is shared): build again",
            env!("CARGO_BIN_EXE_actprof")
        );
        path
    })
}

/// `actprof` with the session journal in `data_home` and no inherited log filter.
pub fn actprof(data_home: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .env_remove("RUST_LOG")
        .env("XDG_DATA_HOME", data_home);
    command
}

/// A running `actprof emulate`, killed when dropped.
pub struct Emulator {
    child: Child,
    /// Kept open: the emulator prints a new path on every replug.
    stdout: BufReader<ChildStdout>,
    /// The pty's slave path, as the emulator printed it.
    pub port: String,
}

impl Emulator {
    /// Starts `actprof emulate ARGS...` and waits for its port path.
    pub fn spawn(args: &[&str]) -> Emulator {
        let mut child = Command::new(binary())
            .arg("emulate")
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut port = String::new();
        stdout
            .read_line(&mut port)
            .expect("the emulator prints its port");
        let port = port.trim().to_owned();
        assert!(port.starts_with("/dev/"), "port `{port}`");
        Emulator {
            child,
            stdout,
            port,
        }
    }

    /// Starts `actprof emulate KIND --waveform WAVEFORM --fault FAULTS`.
    pub fn start(kind: &str, waveform: &str, faults: &str) -> Emulator {
        Emulator::start_with(kind, waveform, faults, &[])
    }

    /// Like [`start`](Emulator::start), with more arguments (e.g. `--link PATH`).
    pub fn start_with(kind: &str, waveform: &str, faults: &str, more: &[&str]) -> Emulator {
        let mut args = vec![kind, "--waveform", waveform, "--fault", faults];
        args.extend_from_slice(more);
        Emulator::spawn(&args)
    }

    /// The next port line (after a replug).
    pub fn next_port(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("another port line");
        line.trim().to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `actprof record --power SPEC --duration D --interval 50ms --out trace.csv` in `dir`.
pub fn record(dir: &Path, spec: &str, duration: &str) -> (Output, PathBuf) {
    let out = dir.join("trace.csv");
    let output = actprof(dir)
        .args(["record", "--power", spec, "--duration", duration])
        .args(["--interval", "50ms", "--out"])
        .arg(&out)
        .output()
        .expect("record runs");
    (output, out)
}

/// `actprof record --power SPEC --duration D --out OUT` (the default interval), with
/// sessions under `data` and `RUST_LOG=log`.
pub fn record_logged(data: &Path, spec: &str, duration: &str, out: &Path, log: &str) -> Output {
    actprof(data)
        .args(["record", "--power", spec, "--duration", duration, "--out"])
        .arg(out)
        .env("RUST_LOG", log)
        .output()
        .expect("record runs")
}

/// The only session under `data`, read back.
pub fn the_session(data: &Path) -> RecordedSession {
    let sessions = data.join("actprof/sessions");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&sessions)
        .expect("sessions folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "one session: {dirs:?}");
    Journal::read(&dirs[0]).expect("the session reads back")
}

/// The session folder named in a failure message ("they are kept in DIR").
pub fn kept_session(stderr: &str) -> Option<PathBuf> {
    let rest = stderr.split("they are kept in ").nth(1)?;
    Some(PathBuf::from(rest.lines().next()?.trim()))
}

/// One row of the trace CSV `record --out` writes for a current-and-voltage meter.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub t_s: f64,
    pub power_w: f64,
    pub current_a: f64,
    pub voltage_v: f64,
    /// The `power_source` column: the spec, with ` (emulated)` for an emulator.
    pub source: String,
    /// The `logic` column (D0–D7, bit `n` = `Dn`), for a meter with digital inputs.
    pub logic: Option<u8>,
}

/// Reads a `time_s,power_w,current_a,voltage_v,power_source[,logic]` trace.
pub fn read_trace(path: &Path) -> Vec<Row> {
    const HEADER: &str = "time_s,power_w,current_a,voltage_v,power_source";
    let text = std::fs::read_to_string(path).expect("the trace is written");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let has_logic = match header.strip_prefix(HEADER) {
        Some("") => false,
        Some(",logic") => true,
        _ => panic!("header `{header}`"),
    };
    lines
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            let logic = has_logic.then(|| fields.pop().expect("a logic cell"));
            let number = |index: usize| -> f64 { fields[index].parse().expect("a number") };
            Row {
                t_s: number(0),
                power_w: number(1),
                current_a: number(2),
                voltage_v: number(3),
                source: fields[4..].join(","),
                logic: logic.map(|text| text.parse().expect("a logic byte")),
            }
        })
        .collect()
}

/// Whether every row names `spec` as its source and says it is emulated.
pub fn all_labelled_emulated(rows: &[Row], spec: &str) -> bool {
    let label = format!("{spec} (emulated)");
    rows.iter().all(|row| row.source == label)
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Text of standard output and standard error.
pub fn texts(output: &Output) -> (String, String) {
    (stdout(output), stderr(output))
}

/// Whether `a` and `b` agree to 1e-9 relative.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

/// Writes a copy of shipped profile `file` with `replace` applied (key = value lines).
pub fn profile_with(dir: &Path, file: &str, replace: &[(&str, &str)]) -> PathBuf {
    let text = std::fs::read_to_string(Path::new("profiles/meters").join(file)).expect("profile");
    let mut out = String::new();
    for line in text.lines() {
        let key = line.split('=').next().unwrap_or_default().trim();
        match replace.iter().find(|(name, _)| *name == key) {
            Some((name, value)) => out.push_str(&format!("{name} = {value}\n")),
            None => out.push_str(&format!("{line}\n")),
        }
    }
    let path = dir.join(file);
    std::fs::write(&path, out).expect("write profile");
    path
}
