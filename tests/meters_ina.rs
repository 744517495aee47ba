//! End-to-end tests of the INA219/INA226 line logger: `actprof emulate ina` on a real
//! pty, read by `actprof record --power ina:PORT`. Expected values come from the line
//! format: the emulator prints `t_ms,bus_V,shunt_mV,current_mA,power_mW` with 3, 2, 2
//! and 2 decimals, one line every 50 ms, so 100 mA at 3.3 V is `…,3.300,10.00,100.00,
//! 330.00` and reads back as 0.1 A, 3.3 V and 0.33 W exactly.

mod meters_support;

use actprof::session::Journal;
use meters_support::{
    Emulator, all_labelled_emulated, close, kept_session, read_trace, record, texts,
};

/// The emulator's interval between lines, in s.
const INTERVAL_S: f64 = 0.05;

#[test]
fn readings_come_through_every_line_fault_exactly() {
    let emulator = Emulator::start(
        "ina",
        "const:100mA@3.3V",
        "partial-line,crlf,missing-field,garbage,short-reads,bad-checksum,drop-samples",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("ina:{}", emulator.port);
    let (output, trace) = record(dir.path(), &spec, "2s");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("source:     EMULATED line logger"),
        "{stdout}"
    );
    let rows = read_trace(&trace);
    assert!(all_labelled_emulated(&rows, &spec), "{:?}", rows.first());
    // 40 lines in 2 s; the faults spoil about a third of them.
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for row in &rows {
        assert_eq!(row.current_a, 0.1, "{row:?}");
        assert_eq!(row.voltage_v, 3.3, "{row:?}");
        assert_eq!(row.power_w, 0.33, "{row:?}");
    }
    let steps: Vec<f64> = rows.windows(2).map(|w| w[1].t_s - w[0].t_s).collect();
    assert!(steps.iter().all(|&step| step > 0.0), "{steps:?}");
    // Device time sets the spacing: every step is a whole number of 50 ms lines.
    for step in steps {
        let lines = (step / INTERVAL_S).round();
        assert!(
            lines >= 1.0 && (step - lines * INTERVAL_S).abs() < 0.012,
            "{step}"
        );
    }
}

#[test]
fn a_square_wave_reads_as_its_two_levels() {
    let emulator = Emulator::start("ina", "square:lo=0.1W,hi=0.5W,period=1s,v=5V", "");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, trace) = record(dir.path(), &format!("ina:{}", emulator.port), "2s");
    assert!(output.status.success(), "{:?}", texts(&output));
    let rows = read_trace(&trace);
    assert!(rows.len() >= 30, "{} rows", rows.len());
    let (mut low, mut high) = (0, 0);
    for row in &rows {
        // 0.1 W at 5 V is 20 mA (`20.00`, `100.00` mW); 0.5 W is 100 mA.
        if close(row.power_w, 0.1) && close(row.current_a, 0.02) {
            low += 1;
        } else if close(row.power_w, 0.5) && close(row.current_a, 0.1) {
            high += 1;
        } else {
            panic!("neither level: {row:?}");
        }
        assert_eq!(row.voltage_v, 5.0);
    }
    assert!(low >= 5 && high >= 5, "{low} low, {high} high");
}

#[test]
fn session_json_keeps_the_device_clock_offset_learned_after_the_start() {
    let emulator = Emulator::start("ina", "const:0.25W@5V", "");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, trace) = record(dir.path(), &format!("ina:{}", emulator.port), "1s");
    assert!(output.status.success(), "{:?}", texts(&output));
    let sessions: Vec<_> = std::fs::read_dir(dir.path().join("actprof/sessions"))
        .expect("sessions folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = Journal::read(&sessions[0]).expect("the session reads back");
    // Session time = device time + offset, device time counted from the first reading:
    // the offset is when that reading arrived, within the 1 s recorded.
    let offset_s = session.meta.sources[0]
        .clock_offset_s
        .expect("session.json has the clock offset");
    assert!(
        offset_s.is_finite() && (0.0..1.5).contains(&offset_s),
        "{offset_s}"
    );
    let first_s = read_trace(&trace)[0].t_s;
    assert!((first_s - offset_s).abs() < 0.1, "{first_s} vs {offset_s}");
}

#[test]
fn a_reset_and_a_clock_wrap_keep_time_moving_forward() {
    let emulator = Emulator::start("ina", "const:0.25W@5V", "reset-after=1200ms,wrap");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, trace) = record(dir.path(), &format!("ina:{}", emulator.port), "2500ms");
    assert!(output.status.success(), "{:?}", texts(&output));
    let rows = read_trace(&trace);
    assert!(rows.len() >= 35, "{} rows", rows.len());
    for pair in rows.windows(2) {
        let step = pair[1].t_s - pair[0].t_s;
        // The wrap (1.5 s after the emulator started) and the reset leave no hole and
        // never go back.
        assert!((0.0..0.25).contains(&step), "step {step} at {:?}", pair[0]);
    }
    assert!(rows.iter().all(|row| close(row.power_w, 0.25)));
}

#[test]
fn a_pulled_cable_names_the_port_and_keeps_the_samples() {
    let emulator = Emulator::start("ina", "const:0.5W", "disconnect-after=1500ms");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, _) = record(dir.path(), &format!("ina:{}", emulator.port), "4s");
    let (stdout, stderr) = texts(&output);
    if output.status.success() {
        // A sampler that reconnects goes on into the same session; the gap shows.
        assert!(stdout.contains("gap:"), "{stdout}");
        return;
    }
    assert!(stderr.contains(&emulator.port), "{stderr}");
    assert!(stderr.contains("disconnected"), "{stderr}");
    let session = kept_session(&stderr).expect("the session is named");
    let kept = Journal::read(&session).expect("the journal reads back");
    assert!(
        !kept.samples.is_empty(),
        "no sample kept in {}",
        session.display()
    );
    assert!(kept.samples.iter().all(|s| close(s.power_w, 0.5)));
}

#[test]
fn a_logger_that_falls_silent_is_reported() {
    let emulator = Emulator::start("ina", "const:0.5W", "silent-after=1s");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, _) = record(dir.path(), &format!("ina:{}", emulator.port), "6s");
    let (stdout, stderr) = texts(&output);
    if output.status.success() {
        assert!(stdout.contains("gap:"), "{stdout}");
        return;
    }
    assert!(stderr.contains("stopped answering"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
}

#[test]
fn a_port_without_readings_says_which_step_failed() {
    // Silent from the start: it prints its header when asked, but never a reading.
    let emulator = Emulator::start("ina", "const:0.5W", "silent-after=0s");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, _) = record(dir.path(), &format!("ina:{}", emulator.port), "2s");
    let (_, stderr) = texts(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("no line logger answered"), "{stderr}");
    assert!(
        stderr.contains("waiting for a valid frame (bytes came, none formed one)"),
        "{stderr}"
    );
    assert!(stderr.contains(&emulator.port), "{stderr}");
}

#[test]
fn a_replugged_ina_resumes_into_the_same_session_with_the_gap_marked() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Like a udev by-id name: the link follows the emulator to its new pty.
    let link = dir.path().join("tty-ina");
    let link_text = link.display().to_string();
    let _emulator = Emulator::start_with(
        "ina",
        "const:0.5W",
        "disconnect-after=1500ms,replug",
        &["--link", &link_text],
    );
    let (output, trace) = record(dir.path(), &format!("ina:{link_text}"), "4s");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("reconnect:  disconnected, no sample from"),
        "{stdout}"
    );
    let rows = read_trace(&trace);
    let (first, last) = (rows[0].t_s, rows[rows.len() - 1].t_s);
    // Samples on both sides of the first disconnect (about 1.5 s after the emulator
    // started), all of the waveform.
    assert!(first < 1.0 && last > 2.0, "from {first} s to {last} s");
    assert!(
        rows.iter().all(|row| close(row.power_w, 0.5)),
        "{:?}",
        rows.first()
    );
    let widest = rows
        .windows(2)
        .map(|w| w[1].t_s - w[0].t_s)
        .fold(0.0, f64::max);
    assert!(widest > 0.3, "no gap in the trace: widest step {widest} s");
}
