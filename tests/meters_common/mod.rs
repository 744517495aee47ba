//! Shared by the meter end-to-end tests: `actprof emulate` as a child process on a real
//! pty, `actprof record` against it, and readers for what the recording wrote.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use actprof::session::{Journal, RecordedSession};

/// A running `actprof emulate`, killed when dropped.
pub struct Emulator {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// The pty slave path it printed first.
    pub port: String,
}

impl Emulator {
    /// Starts `actprof emulate ARGS...` and waits for the port line.
    pub fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_actprof"))
            .arg("emulate")
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut port = String::new();
        stdout.read_line(&mut port).expect("the port line");
        let port = port.trim().to_owned();
        assert!(port.starts_with("/dev/pts/"), "first line: {port:?}");
        Emulator {
            child,
            stdout,
            port,
        }
    }

    /// The next port line (after a replug).
    pub fn next_port(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("another port line");
        line.trim().to_owned()
    }

    /// True once the emulator has exited on its own.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `actprof record --power SPEC --duration D --out OUT`, with sessions under `data`.
pub fn record(data: &Path, spec: &str, duration: &str, out: &Path, log: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actprof"))
        .args(["record", "--power", spec, "--duration", duration, "--out"])
        .arg(out)
        .env("XDG_DATA_HOME", data)
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

/// One row of `record --out`: time, power, current, voltage, power_source, and logic
/// for a source with digital inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub t_s: f64,
    pub power_w: f64,
    pub current_a: f64,
    pub voltage_v: f64,
    pub source: String,
    /// The `logic` column (D0–D7, bit `n` = `Dn`), when the trace has one.
    pub logic: Option<u8>,
}

/// Reads the trace CSV `record --out` wrote for a current-and-voltage meter.
pub fn trace_rows(path: &Path) -> Vec<Row> {
    const HEADER: &str = "time_s,power_w,current_a,voltage_v,power_source";
    let text = std::fs::read_to_string(path).expect("trace file");
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
            let number = |i: usize| fields[i].parse::<f64>().expect("a number");
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

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
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

/// Waits a little for a condition.
pub fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
