//! Import tests on the fixtures in `tests/fixtures/import/`; expected values are worked
//! out by hand from the rows.

use std::path::PathBuf;

use super::*;
use crate::csv_dialect::resaved_by_spreadsheet;
use crate::session::energy::{Attribution, window_energy};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn whole_energy(samples: &[PowerSample], quantity: Quantity) -> f64 {
    let rules = Attribution {
        rate_hz: f64::INFINITY,
        min_samples: 2,
        max_gap_s: f64::INFINITY,
    };
    let (first, last) = (samples[0].t_s, samples[samples.len() - 1].t_s);
    window_energy(samples, quantity, first, last, &rules)
        .expect("energy")
        .energy_j
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-9)
}

#[test]
fn headers_tell_the_formats_apart() {
    let cases = [
        (
            "#time,current,voltage,power,charge,energy",
            ImportFormat::Joulescope,
        ),
        ("Timestamp(ms),Current(uA),D0-D7", ImportFormat::Ppk2),
        ("Current(uA)", ImportFormat::Ppk2),
        (
            "Time,Voltage (V),Current (A),Power (W)",
            ImportFormat::RdUsb,
        ),
        (
            "time_s,power_w,current_a,voltage_v,energy_j",
            ImportFormat::Actprof,
        ),
    ];
    for (header, format) in cases {
        assert_eq!(detect_header(header), Some(format), "{header}");
    }
    assert_eq!(detect_header("t,P"), None);
    for name in ["ppk2", "joulescope", "rd-usb", "actprof"] {
        assert_eq!(name.parse::<ImportFormat>().expect("known").name(), name);
    }
    for file in ["ppk2.csv", "joulescope.csv", "rd-usb.csv", "rd-usb-old.csv"] {
        assert!(detect(&fixture(file)).is_ok(), "{file}");
    }
}

#[test]
fn a_ppk2_export_gives_current_times_the_given_voltage() {
    let options = ImportOptions {
        voltage_v: Some(3.0),
        max_samples: None,
    };
    let (samples, summary) = read_trace(&fixture("ppk2.csv"), None, &options).expect("reads");
    assert_eq!(summary.format, ImportFormat::Ppk2);
    assert_eq!(summary.rows, 10);
    assert_eq!(samples.len(), 10);
    // 10 µs apart: 100 kS/s.
    assert!(
        close(summary.info.rate_hz, 100_000.0),
        "{}",
        summary.info.rate_hz
    );
    assert!(close(samples[1].t_s, 10e-6));
    // 1000 µA × 3 V = 3 mW, then 3000 µA × 3 V = 9 mW.
    assert!(close(samples[0].power_w, 3e-3));
    assert!(close(samples[9].power_w, 9e-3));
    assert_eq!(samples[0].voltage_v, Some(3.0));
    // Trapezoid: 10 µs × (4 × 3 + 6 + 4 × 9) mW = 5.4e-7 J.
    assert!(close(whole_energy(&samples, summary.info.quantity), 5.4e-7));
    // Printed with three decimals of µA: 1 nA × 3 V.
    assert!(
        matches!(summary.info.resolution, Resolution::PowerW(step) if close(step, 3e-9)),
        "{:?}",
        summary.info.resolution
    );
    assert!(!summary.info.coarse);
    assert_eq!(summary.info.clock_offset_s, Some(-0.0));
}

#[test]
fn a_ppk2_export_without_a_voltage_is_refused_saying_why() {
    let err =
        read_trace(&fixture("ppk2.csv"), None, &ImportOptions::default()).expect_err("refused");
    let message = err.to_string();
    assert!(message.contains("--voltage"), "{message}");
    assert!(message.ends_with("ppk2.csv"), "{message}");
}

#[test]
fn a_bad_field_names_the_line_column_and_file() {
    let options = ImportOptions {
        voltage_v: Some(3.3),
        max_samples: None,
    };
    let err = read_trace(&fixture("ppk2-bad.csv"), None, &options).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.starts_with("line 3, column 2 (`Current(uA)`): not a number, found `10x0.000`"),
        "{message}"
    );
    assert!(message.ends_with("ppk2-bad.csv"), "{message}");
}

#[test]
fn a_bad_field_names_the_editors_line_whatever_the_line_endings_and_blank_lines() {
    // Windows tools end lines in CR LF, classic Mac OS in a lone CR, and hand-edited files
    // carry blank lines; the line named is still the one an editor shows.
    let text = std::fs::read_to_string(fixture("ppk2-bad.csv")).expect("fixture");
    let lines: Vec<&str> = text.lines().collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ImportOptions {
        voltage_v: Some(3.3),
        max_samples: None,
    };
    for ending in ["\n", "\r\n", "\r"] {
        // The bad row (line 3 of the fixture) moves to line 6 after three blank lines.
        let mut edited = vec![lines[0], "", lines[1], "", ""];
        edited.extend(&lines[2..]);
        for (text, line) in [(lines.join(ending), 3), (edited.join(ending), 6)] {
            let path = dir.path().join("ppk2-bad-edited.csv");
            std::fs::write(&path, text).expect("write");
            let err = read_trace(&path, None, &options).expect_err("refused");
            let message = err.to_string();
            let expected = format!("line {line}, column 2 (`Current(uA)`): not a number");
            assert!(message.starts_with(&expected), "{ending:?}: {message}");
        }
    }
}

#[test]
fn a_trace_resaved_by_a_spreadsheet_in_any_locale_imports_the_same() {
    // A European spreadsheet saves `;` between fields and decimal commas; copied out of one,
    // data is tab-separated. Every format reads them back to the same samples.
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ImportOptions {
        voltage_v: Some(3.3),
        max_samples: None,
    };
    for file in ["ppk2.csv", "joulescope.csv", "rd-usb.csv"] {
        let original = read_trace(&fixture(file), None, &options).expect("reads");
        let text = std::fs::read_to_string(fixture(file)).expect("fixture");
        for (delimiter, decimal_comma) in [(b';', true), (b'\t', true), (b'\t', false)] {
            let path = dir.path().join(file);
            let resaved = resaved_by_spreadsheet(&text, delimiter, decimal_comma);
            std::fs::write(&path, resaved).expect("write");
            let (samples, summary) = read_trace(&path, None, &options).expect("reads resaved");
            let dialect = char::from(delimiter);
            assert_eq!(summary.format, original.1.format, "{file} {dialect:?}");
            assert_eq!(samples, original.0, "{file} {dialect:?} {decimal_comma}");
        }
    }
}

#[test]
fn joulescope_prefers_its_energy_column_over_nan_and_a_time_jump() {
    let (samples, summary) =
        read_trace(&fixture("joulescope.csv"), None, &ImportOptions::default()).expect("reads");
    assert_eq!(summary.format, ImportFormat::Joulescope);
    assert_eq!(summary.info.quantity, Quantity::EnergyCounter);
    assert_eq!(summary.rows, 7);
    assert_eq!((summary.skipped, summary.first_skipped_line), (1, Some(5)));
    assert_eq!(summary.time_jump_count, 1);
    assert_eq!(
        summary.time_jumps,
        [TimeJump {
            line: 7,
            from_s: 2.0,
            to_s: 0.5
        }]
    );
    let times: Vec<f64> = samples.iter().map(|s| s.t_s).collect();
    // After the jump the rows continue one median spacing (0.5 s) after 2.0 s.
    assert_eq!(times, [0.0, 0.5, 1.0, 2.0, 2.5, 3.0]);
    // The file's own integral: 5.95057 J over the whole file, NaN row or not.
    assert!(close(
        whole_energy(&samples, summary.info.quantity),
        5.95057
    ));
    assert!(close(samples[1].power_w, 1.90114));
    assert_eq!(samples[1].current_a, Some(0.400691));
    // 2 Hz statistics cannot resolve single runs.
    assert!(summary.info.coarse);
    assert!(close(summary.info.rate_hz, 2.0));
    assert!(matches!(summary.info.resolution, Resolution::PowerW(step) if close(step, 1e-5)));
}

#[test]
fn rd_usb_exports_read_the_same_with_or_without_unix_time() {
    for file in ["rd-usb.csv", "rd-usb-old.csv"] {
        let (samples, summary) =
            read_trace(&fixture(file), None, &ImportOptions::default()).expect(file);
        assert_eq!(summary.format, ImportFormat::RdUsb, "{file}");
        let times: Vec<f64> = samples.iter().map(|s| s.t_s).collect();
        assert_eq!(times, [0.0, 1.0, 2.0, 3.0], "{file}");
        assert_eq!(samples[2].current_a, Some(1.0));
        assert_eq!(samples[2].voltage_v, Some(5.0));
        // Trapezoid over 2.5, 2.5, 5, 5 W at 1 s: 2.5 + 3.75 + 5 = 11.25 J.
        assert!(close(whole_energy(&samples, summary.info.quantity), 11.25));
        assert!(summary.info.coarse);
        assert!(matches!(summary.info.resolution, Resolution::PowerW(s) if close(s, 1e-3)));
    }
}

#[test]
fn an_actprof_trace_reads_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trace.csv");
    std::fs::write(
        &path,
        "time_s,power_w,current_a,voltage_v,energy_j\n10,1.5,0.3,5,\n10.5,2.5,0.5,5,\n",
    )
    .expect("write");
    let (samples, summary) = read_trace(&path, None, &ImportOptions::default()).expect("reads");
    assert_eq!(summary.info.quantity, Quantity::CurrentVoltage);
    assert_eq!(summary.info.clock_offset_s, Some(-10.0));
    assert_eq!(samples[1].t_s, 0.5);
    assert_eq!(samples[1].energy_j, None);
    assert!(close(whole_energy(&samples, summary.info.quantity), 1.0));
}

#[test]
fn an_actprof_trace_keeps_its_logic_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trace.csv");
    std::fs::write(
        &path,
        "time_s,power_w,current_a,voltage_v,energy_j,power_source,logic\n\
         0,0.33,0.1,3.3,,ppk2:/dev/x,1\n0.001,0.33,0.1,3.3,,ppk2:/dev/x,\n",
    )
    .expect("write");
    let (samples, _) = read_trace(&path, None, &ImportOptions::default()).expect("reads");
    assert_eq!(samples[0].logic, Some(1));
    assert_eq!(samples[1].logic, None);
}

#[test]
fn a_ppk2_export_reads_its_digital_channels_d0_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ppk2.csv");
    // The app's header and its channel characters (`0`, `1`, `-` or `X`).
    std::fs::write(
        &path,
        "Timestamp(ms),Current(uA),D0-D7,D0,D1,D2,D3,D4,D5,D6,D7\n\
         0,10.000,10000001,1,0,0,0,0,0,0,1\n\
         0.01,10.000,01000000,0,1,0,0,0,0,0,0\n\
         0.02,10.000,X0000000,X,0,0,0,0,0,0,0\n",
    )
    .expect("write");
    let options = ImportOptions {
        voltage_v: Some(3.0),
        max_samples: None,
    };
    let (samples, _) = read_trace(&path, None, &options).expect("reads");
    let logic: Vec<Option<u8>> = samples.iter().map(|sample| sample.logic).collect();
    assert_eq!(logic, [Some(0b1000_0001), Some(0b0000_0010), None]);
    // The fixture's D0 column: low in the first five rows, high in the last five.
    let (samples, _) = read_trace(&fixture("ppk2.csv"), None, &options).expect("reads");
    let logic: Vec<Option<u8>> = samples.iter().map(|sample| sample.logic).collect();
    assert_eq!(logic, [[Some(0); 5], [Some(1); 5]].concat());
}

#[test]
fn a_sample_limit_refuses_a_longer_file() {
    let options = ImportOptions {
        voltage_v: Some(1.0),
        max_samples: Some(4),
    };
    let err = read_trace(&fixture("ppk2.csv"), None, &options).expect_err("refused");
    assert!(
        matches!(err, ImportError::TooLong { limit: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn missing_columns_and_unknown_headers_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("odd.csv");
    std::fs::write(&path, "Timestamp(ms),Voltage(mV)\n0,3300\n").expect("write");
    let err = read_trace(&path, None, &ImportOptions::default()).expect_err("refused");
    assert!(err.to_string().contains("no `Current(uA)` column"), "{err}");

    std::fs::write(&path, "when,what\n0,1\n").expect("write");
    let err = read_trace(&path, None, &ImportOptions::default()).expect_err("refused");
    assert!(err.to_string().contains("`when,what`"), "{err}");

    std::fs::write(&path, "#time,current,voltage,power,charge,energy\n").expect("write");
    let err = read_trace(&path, None, &ImportOptions::default()).expect_err("refused");
    assert!(matches!(err, ImportError::Empty { rows: 0, .. }), "{err:?}");
}

#[test]
fn printed_steps_follow_the_digits() {
    for (text, step) in [
        ("0.0408671", 1e-7),
        ("12", 1.0),
        ("4.5e-3", 1e-4),
        ("2.500", 1e-3),
    ] {
        assert!(close(printed_step(text).expect(text), step), "{text}");
    }
    assert_eq!(printed_step("1e"), None);
}

#[test]
fn samples_stream_out_as_rows_are_read() {
    // The sink sees each sample before the next row is read: failing at the third stops
    // the import there, naming the file.
    let options = ImportOptions {
        voltage_v: Some(3.0),
        max_samples: None,
    };
    let mut seen = 0;
    let err = import(&fixture("ppk2.csv"), None, &options, &mut |_| {
        seen += 1;
        if seen == 3 {
            Err(std::io::Error::other("disk full"))
        } else {
            Ok(())
        }
    })
    .expect_err("stopped");
    assert_eq!(seen, 3);
    assert!(matches!(err, ImportError::Write { .. }), "{err:?}");
    assert!(err.to_string().ends_with("ppk2.csv"), "{err}");
}
