//! End-to-end tests of the SCPI reader: `actprof emulate scpi` on a real pty, read by
//! `actprof record --power scpi:PORT`. Expected values come from the emulator's documented
//! replies: `*IDN?` → `EMU,PSU-1,0,1.0`, `MEAS:CURR?` and `MEAS:VOLT?` → the waveform's
//! current and voltage with six decimals (current alternately in scientific notation).

mod meters_support;

use actprof::session::Journal;
use meters_support::{
    Emulator, all_labelled_emulated, close, kept_session, read_trace, record, texts,
};

#[test]
fn current_and_voltage_are_read_and_multiplied() {
    let emulator = Emulator::start("scpi", "const:100mA@3.3V", "");
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("scpi:{}", emulator.port);
    let (output, trace) = record(dir.path(), &spec, "2s");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("source:     EMULATED SCPI EMU PSU-1, firmware 1.0"),
        "{stdout}"
    );
    let rows = read_trace(&trace);
    assert!(all_labelled_emulated(&rows, &spec), "{:?}", rows.first());
    // One poll every 50 ms for 2 s.
    assert!(rows.len() >= 25, "{} rows", rows.len());
    for row in &rows {
        // `0.100000` and `1.000000E-01` both read as 0.1 A.
        assert_eq!(row.current_a, 0.1, "{row:?}");
        assert_eq!(row.voltage_v, 3.3, "{row:?}");
        assert!(close(row.power_w, 0.33), "{row:?}");
    }
    assert!(rows.windows(2).all(|w| w[1].t_s > w[0].t_s));
}

#[test]
fn corrupt_replies_never_become_samples() {
    let emulator = Emulator::start(
        "scpi",
        "square:lo=0.1W,hi=0.5W,period=1s",
        "garbage,short-reads,drop-samples,bad-checksum",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("scpi:{}?timeout=100ms", emulator.port);
    let (output, trace) = record(dir.path(), &spec, "3s");
    assert!(output.status.success(), "{:?}", texts(&output));
    let rows = read_trace(&trace);
    assert!(rows.len() >= 8, "{} rows", rows.len());
    for row in &rows {
        // 0.1 W or 0.5 W at 5 V: 20 mA or 100 mA, nothing in between and nothing else.
        let low = close(row.current_a, 0.02) && close(row.power_w, 0.1);
        let high = close(row.current_a, 0.1) && close(row.power_w, 0.5);
        assert!(low || high, "{row:?}");
        assert_eq!(row.voltage_v, 5.0);
    }
}

#[test]
fn commands_and_line_ending_are_configurable() {
    let emulator = Emulator::start("scpi", "const:250mA@12V", "");
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!(
        "scpi:{}?curr=MEASure:CURRent:DC?&volt=meas:volt:dc?&eol=crlf",
        emulator.port
    );
    let (output, trace) = record(dir.path(), &spec, "1s");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("`MEASure:CURRent:DC?` × `meas:volt:dc?`"),
        "{stdout}"
    );
    let rows = read_trace(&trace);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|row| row.current_a == 0.25 && row.voltage_v == 12.0)
    );
}

#[test]
fn a_query_the_instrument_does_not_know_fails_at_the_first_reading() {
    let emulator = Emulator::start("scpi", "const:0.5W", "");
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("scpi:{}?curr=READ?&timeout=200ms", emulator.port);
    let (output, _) = record(dir.path(), &spec, "1s");
    let (_, stderr) = texts(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("no SCPI instrument answered"), "{stderr}");
    assert!(stderr.contains("waiting for a valid frame"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
}

#[test]
fn a_pulled_cable_names_the_port_and_keeps_the_samples() {
    let emulator = Emulator::start("scpi", "const:0.5W", "disconnect-after=1500ms");
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, _) = record(dir.path(), &format!("scpi:{}", emulator.port), "4s");
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
    assert!(!kept.samples.is_empty());
    assert!(kept.samples.iter().all(|s| close(s.power_w, 0.5)));
}

#[test]
fn an_instrument_that_falls_silent_is_reported() {
    let emulator = Emulator::start("scpi", "const:0.5W", "silent-after=1s");
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("scpi:{}?timeout=100ms", emulator.port);
    let (output, _) = record(dir.path(), &spec, "6s");
    let (stdout, stderr) = texts(&output);
    if output.status.success() {
        assert!(stdout.contains("gap:"), "{stdout}");
        return;
    }
    assert!(stderr.contains("stopped answering"), "{stderr}");
    assert!(stderr.contains(&emulator.port), "{stderr}");
}

#[test]
fn a_replugged_scpi_resumes_into_the_same_session_with_the_gap_marked() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Like a udev by-id name: the link follows the emulator to its new pty.
    let link = dir.path().join("tty-scpi");
    let link_text = link.display().to_string();
    let _emulator = Emulator::start_with(
        "scpi",
        "const:0.5W",
        "disconnect-after=1500ms,replug",
        &["--link", &link_text],
    );
    let (output, trace) = record(dir.path(), &format!("scpi:{link_text}"), "4s");
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
