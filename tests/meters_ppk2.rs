//! End to end over real pseudo-terminals: `actprof emulate ppk2` ↔
//! `actprof record --power ppk2:PORT` (and `actprof bench --power ppk2:PORT`) ↔ the
//! session journal and the CSV report. The expected currents are worked out here from the
//! calibration of protocols.md §3.3 (the real unit's metadata, which the emulator sends)
//! and the current formula of §3.4, not taken from the code under test.

mod meters_support;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use actprof::report;
use meters_support::{Emulator, Row, read_trace, record_logged, stderr, stdout, the_session};

/// ADC volts per count of `adc · 4` (§3.4).
const ADC_STEP_V: f64 = 1.8 / 163_840.0;

/// Range 1 and 2 of the real unit's metadata (§3.3): R, GS, GI, O (S = I = 0, UG = 1).
const RANGE_1: [f64; 4] = [101.5865, 112.789, 0.9695, 75.4627];
const RANGE_2: [f64; 4] = [10.3027, 18.0115, 0.9609, 64.602];

/// The ADC value a calibrated range reports for `current_a`: the formula of §3.4 solved
/// for `x`, then for the ADC value, rounded.
fn adc_for(range: [f64; 4], current_a: f64) -> f64 {
    let [r, gs, gi, o] = range;
    let x = (-gi + (gi * gi + 4.0 * gs * current_a).sqrt()) / (2.0 * gs);
    ((x * r / ADC_STEP_V + o) / 4.0).round()
}

/// §3.4: `x = (adc · 4 − O) · 1.8 / 163840 / R`, `I = x · (GS · x + GI)` (S = I = 0).
fn current_of(range: [f64; 4], adc: f64) -> f64 {
    let [r, gs, gi, o] = range;
    let x = (adc * 4.0 - o) * ADC_STEP_V / r;
    x * (gs * x + gi)
}

/// What the PPK2 reports for a DUT drawing 100 mA: range 1 would need an ADC value of
/// about 59 600, past the 14-bit scale, so it is range 2 at ADC ≈ 12 317.
fn expected_100ma() -> f64 {
    assert!(adc_for(RANGE_1, 0.1) > 16_383.0);
    let adc = adc_for(RANGE_2, 0.1);
    let current_a = current_of(RANGE_2, adc);
    let step_a = current_of(RANGE_2, adc + 1.0) - current_a;
    assert!(
        (current_a - 0.1).abs() <= step_a / 2.0,
        "within half an ADC step"
    );
    current_a
}

fn rows_of(data: &Path, spec: &str, duration: &str, log: &str) -> (Vec<Row>, String, String) {
    let out = data.join("trace.csv");
    let output = record_logged(data, spec, duration, &out, log);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    (read_trace(&out), stdout(&output), log)
}

#[test]
fn currents_follow_the_waveform_through_the_documented_calibration() {
    let emulator = Emulator::spawn(&["ppk2", "--waveform", "const:100mA@3.3V"]);
    let data = tempfile::tempdir().expect("temp dir");
    let spec = format!("ppk2:{}?mode=source&vdd_mv=3300", emulator.port);
    let (rows, out, log) = rows_of(data.path(), &spec, "2s", "warn");
    let expected_a = expected_100ma();

    // 1 kS/s (blocks of 100 samples) for the 2 s, less the start-up.
    assert!((1600..=2000).contains(&rows.len()), "{} rows", rows.len());
    for row in &rows {
        assert!((row.current_a - expected_a).abs() < 1e-12, "{row:?}");
        assert!((row.voltage_v - 3.3).abs() < 1e-12, "{row:?}");
        assert!((row.power_w - expected_a * 3.3).abs() < 1e-12, "{row:?}");
        assert_eq!(row.source, format!("{spec} (emulated)"));
    }
    for pair in rows.windows(2) {
        let step_s = pair[1].t_s - pair[0].t_s;
        assert!((step_s - 1e-3).abs() < 1e-9, "spacing {step_s} s");
    }
    assert!(
        out.starts_with("source:     EMULATED Nordic PPK2 on /dev/pts/"),
        "{out}"
    );
    assert!(out.contains("source meter supplying 3.300 V"), "{out}");
    assert!(!log.contains("lost"), "{log}");
    let session = the_session(data.path());
    assert!(session.meta.sources[0].is_emulated());
    assert_eq!(session.samples.len(), rows.len());
    // Sample k covers offset + [k, k + 1) · 10 µs (100 kS/s, §3.4), so a 1 ms block of
    // 100 samples is stamped at its middle, 0.5 ms after its start: on the half ms.
    let offset_s = session.meta.sources[0]
        .clock_offset_s
        .expect("session.json has the PPK2's clock offset");
    let first_ms = (rows[0].t_s - offset_s) * 1e3 - 0.5;
    assert!(
        first_ms > -1e-6,
        "first sample {first_ms} ms after the offset"
    );
    assert!((first_ms - first_ms.round()).abs() < 1e-6, "{first_ms} ms");
    assert_d0_high_half_the_time(&rows);
    let journalled: Vec<Option<u8>> = session.samples.iter().map(|s| s.logic).collect();
    let written: Vec<Option<u8>> = rows.iter().map(|row| row.logic).collect();
    assert_eq!(journalled, written, "trace.csv keeps the logic inputs");
}

/// The emulator holds D0 high in the second half of every 10 ms (1000 samples) and the
/// other inputs low (bits 24–31 of each word, §3.4). A 1 ms sample averages 100 samples
/// and keeps their OR, so D0 is high in half of the samples, in runs of 5.
fn assert_d0_high_half_the_time(rows: &[Row]) {
    let logic: Vec<u8> = rows
        .iter()
        .map(|row| row.logic.expect("every PPK2 sample has its logic inputs"))
        .collect();
    assert!(
        logic.iter().all(|&bits| bits <= 1),
        "only D0 moves: {logic:?}"
    );
    let high = logic.iter().filter(|&&bits| bits == 1).count();
    let share = high as f64 / logic.len() as f64;
    assert!(
        (0.45..=0.55).contains(&share),
        "D0 high in {share} of samples"
    );
    let changes = logic.windows(2).filter(|pair| pair[0] != pair[1]).count();
    let expected = logic.len() / 5;
    assert!(
        changes.abs_diff(expected) <= 2,
        "{changes} changes of D0 in {} samples: runs of 5 expected",
        logic.len()
    );
}

#[test]
fn ampere_mode_takes_the_voltage_from_the_option() {
    let emulator = Emulator::spawn(&["ppk2", "--waveform", "const:100mA@1.8V"]);
    let data = tempfile::tempdir().expect("temp dir");
    let spec = format!("ppk2:{}?mode=ampere&vdd_mv=1800&avg=1000", emulator.port);
    let (rows, out, _) = rows_of(data.path(), &spec, "1s", "warn");
    // 100 S/s; the current does not depend on VDD in ranges whose S term is 0.
    assert!((70..=100).contains(&rows.len()), "{} rows", rows.len());
    let expected_a = expected_100ma();
    for row in &rows {
        assert!((row.current_a - expected_a).abs() < 1e-12, "{row:?}");
        assert!((row.power_w - expected_a * 1.8).abs() < 1e-12, "{row:?}");
    }
    assert!(
        out.contains("from the vdd_mv option (the voltage is not measured)"),
        "{out}"
    );
}

#[test]
fn faults_lose_no_sample_silently_and_keep_losses_as_gaps() {
    let emulator = Emulator::spawn(&[
        "ppk2",
        "--waveform",
        "const:100mA@3.3V",
        "--fault",
        "short-reads,drop-samples,garbage,bad-checksum",
    ]);
    let data = tempfile::tempdir().expect("temp dir");
    // Every sample (avg=1), so each lost one shows on the 10 µs time axis.
    let spec = format!("ppk2:{}?avg=1", emulator.port);
    let (rows, _, log) = rows_of(data.path(), &spec, "1500ms", "warn");
    let expected_a = expected_100ma();
    assert!(rows.len() > 100_000, "{} rows", rows.len());
    // A stray byte, a cut word or a corrupted counter never becomes a sample.
    for row in &rows {
        assert!((row.current_a - expected_a).abs() < 1e-12, "{row:?}");
    }
    // Every 100 ms the emulator leaves out 10 samples: a 110 µs step on the time axis.
    // Once a second a corrupted counter costs its sample: a 20 µs step.
    let steps: Vec<f64> = rows.windows(2).map(|p| p[1].t_s - p[0].t_s).collect();
    let near = |step: f64, want: f64| (step - want).abs() < 1e-9;
    let drops = steps.iter().filter(|s| near(**s, 110e-6)).count();
    let corrupt = steps.iter().filter(|s| near(**s, 20e-6)).count();
    let regular = steps.iter().filter(|s| near(**s, 10e-6)).count();
    assert!((10..=16).contains(&drops), "{drops} drops");
    assert!((1..=2).contains(&corrupt), "{corrupt} corrupted words");
    assert_eq!(regular + drops + corrupt, steps.len(), "no other spacing");
    assert!(
        log.contains("the PPK2 stream lost") && log.contains("stream byte offset"),
        "{log}"
    );
    assert!(log.contains(&emulator.port), "{log}");
}

#[test]
fn a_pulled_cable_reconnects_into_the_same_session() {
    let data = tempfile::tempdir().expect("temp dir");
    let link = data.path().join("ppk2");
    let link_text = link.to_str().expect("utf-8");
    let _emulator = Emulator::spawn(&[
        "ppk2",
        "--fault",
        "disconnect-after=1s,replug",
        "--link",
        link_text,
    ]);
    let out = data.path().join("trace.csv");
    let output = record_logged(
        data.path(),
        &format!("ppk2:{link_text}"),
        "3s",
        &out,
        "warn",
    );
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains("the serial port disconnected") && log.contains(link_text),
        "{log}"
    );
    let session = the_session(data.path());
    assert_eq!(session.meta.gaps.len(), 1, "{log}");
    let gap = session.meta.gaps[0];
    assert!(session.samples.iter().any(|s| s.t_s <= gap.start_s));
    assert!(session.samples.iter().any(|s| s.t_s > gap.end_s));
    assert!(session.samples.windows(2).all(|p| p[0].t_s < p[1].t_s));
}

#[test]
fn a_port_that_is_not_a_ppk2_fails_naming_the_step_and_port() {
    // A UM25C emulator answers nothing to GetMetadata.
    let emulator = Emulator::spawn(&["um25c"]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let output = record_logged(
        data.path(),
        &format!("ppk2:{}", emulator.port),
        "1s",
        &out,
        "warn",
    );
    let log = stderr(&output);
    assert!(!output.status.success());
    assert!(log.contains("no PPK2 answered"), "{log}");
    assert!(log.contains("GetMetadata (0x19)"), "{log}");
    assert!(log.contains(&emulator.port), "{log}");
}

#[test]
fn bench_with_the_ppk2_gives_energy_per_call_in_the_report() {
    let emulator = Emulator::spawn(&["ppk2", "--waveform", "const:100mA@3.3V"]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("report.csv");
    let spec = format!("ppk2:{}", emulator.port);
    Command::cargo_bin("actprof")
        .expect("the actprof binary is built")
        .env_remove("RUST_LOG")
        .env("XDG_DATA_HOME", data.path())
        .args([
            "bench",
            "--power",
            &spec,
            "--activations",
            "relu",
            "--sizes",
            "64k",
        ])
        .args([
            "--idle",
            "500ms",
            "--min-time",
            "100ms",
            "--warmup",
            "10ms",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("nJ/call"));
    let rows = report::read_file(&out).expect("report reads");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert!(row.has_energy(), "{row:?}");
    let source = row.power_source.as_deref().expect("power source");
    assert!(
        source.starts_with("ppk2:/dev/pts/") && source.contains("emulated"),
        "{source}"
    );
    let expected_w = expected_100ma() * 3.3;
    let avg = row.avg_power_w.expect("avg power");
    let idle = row.idle_power_w.expect("idle power");
    assert!((avg - expected_w).abs() < 1e-9, "avg {avg} W");
    assert!((idle - expected_w).abs() < 1e-9, "idle {idle} W");
    assert!(row.power_samples.expect("samples") >= 90, "{row:?}");
    // The emulated DUT draws the same current whatever the host runs, so a call costs
    // nothing above idle; the energy of one call at the gross power is the scale.
    let per_call = row.energy_per_call_nj.expect("energy per call");
    let gross_nj = expected_w * row.mean_ns;
    assert!(
        per_call.abs() < 1e-6 * gross_nj,
        "{per_call} nJ vs {gross_nj} nJ gross"
    );
}
