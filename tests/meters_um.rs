//! End to end over real pseudo-terminals: `actprof emulate um24c|um25c|um34c` ↔
//! `actprof record --power umXXc:PORT` ↔ the session journal, with the values checked
//! against the frame scales of protocols.md §2.3 (UM25C: 1 mV, 0.1 mA, 1 mW per LSB;
//! UM24C and UM34C: 10 mV, 1 mA, 1 mW), and the faults of §2.7 injected. Then the
//! property tests: the stream decoder fed 100k random and mutated byte streams.

mod meters_support;

use std::time::Instant;

use proptest::prelude::*;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

use actprof::power::meters::polled::Rejected;
use actprof::power::meters::um::{Model, UmDecoder, UmFrame};
use meters_support::{
    Emulator, profile_with, read_trace, record_logged, stderr, stdout, the_session,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// 123.4 mA at 5.062 V (0.6246508 W), as every UM model quantises it.
const LOAD: &str = "const:123.4mA@5.062V";

#[test]
fn um25c_readings_have_the_fine_scales_and_are_labelled_emulated() {
    let emulator = Emulator::spawn(&["um25c", "--waveform", LOAD]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let spec = format!("um25c:{}", emulator.port);
    let output = record_logged(data.path(), &spec, "2s", &out, "warn");
    assert!(output.status.success(), "{}", stderr(&output));

    let rows = read_trace(&out);
    // Polls are paced at 2 a second and repeats dropped: 2 s gives 3–5 readings.
    assert!((3..=5).contains(&rows.len()), "{rows:?}");
    for row in &rows {
        // Raw 5062 × 1 mV, 1234 × 0.1 mA, 625 × 1 mW.
        assert!(close(row.voltage_v, 5.062), "{row:?}");
        assert!(close(row.current_a, 0.1234), "{row:?}");
        assert!(close(row.power_w, 0.625), "{row:?}");
        assert_eq!(row.source, format!("{spec} (emulated)"));
    }
    let summary = stdout(&output);
    assert!(
        summary.starts_with("source:     EMULATED RDTech UM25C on /dev/pts/"),
        "{summary}"
    );

    let session = the_session(data.path());
    assert!(session.meta.sources[0].description.starts_with("EMULATED"));
    assert_eq!(session.samples.len(), rows.len());
    // The selected group's accumulated energy rides along as the counter (mWh × 3.6 J).
    assert!(session.samples.iter().all(|s| s.energy_j.is_some()));
}

#[test]
fn um24c_and_um34c_readings_have_the_coarse_scales() {
    for kind in ["um24c", "um34c"] {
        let emulator = Emulator::spawn(&[kind, "--waveform", LOAD]);
        let data = tempfile::tempdir().expect("temp dir");
        let out = data.path().join("trace.csv");
        let output = record_logged(
            data.path(),
            &format!("{kind}:{}", emulator.port),
            "1.2s",
            &out,
            "warn",
        );
        assert!(output.status.success(), "{kind}: {}", stderr(&output));
        let rows = read_trace(&out);
        assert!(rows.len() >= 2, "{kind}: {rows:?}");
        for row in &rows {
            // Raw 506 × 10 mV, 123 × 1 mA, 625 × 1 mW.
            assert!(close(row.voltage_v, 5.06), "{kind}: {row:?}");
            assert!(close(row.current_a, 0.123), "{kind}: {row:?}");
            assert!(close(row.power_w, 0.625), "{kind}: {row:?}");
        }
    }
}

#[test]
fn garbage_cut_frames_and_bad_checksums_never_give_a_wrong_sample() {
    for kind in ["um25c", "um34c"] {
        let emulator = Emulator::spawn(&[
            kind,
            "--waveform",
            "square:lo=0.1W,hi=0.5W,period=1s",
            "--fault",
            "garbage,short-reads,bad-checksum",
        ]);
        let data = tempfile::tempdir().expect("temp dir");
        let out = data.path().join("trace.csv");
        let spec = format!("{kind}:{}", emulator.port);
        let output = record_logged(data.path(), &spec, "3s", &out, "actprof=debug");
        let log = stderr(&output);
        assert!(output.status.success(), "{kind}: {log}");
        let rows = read_trace(&out);
        assert!(rows.len() >= 3, "{kind}: {rows:?}");
        for row in &rows {
            // 0.1 W or 0.5 W at 5 V: 20 mA or 100 mA, nothing in between.
            let low = close(row.power_w, 0.1) && close(row.current_a, 0.02);
            let high = close(row.power_w, 0.5) && close(row.current_a, 0.1);
            assert!(low || high, "{kind}: {row:?}");
            assert!(close(row.voltage_v, 5.0), "{kind}: {row:?}");
        }
        // Every third frame is spoiled: the reader says so, with the byte offset and port.
        let model = kind.to_uppercase();
        let dropped = format!("dropped a {model} frame at byte ");
        assert!(log.contains(&dropped), "{kind}: {log}");
        assert!(log.contains(&emulator.port), "{kind}: {log}");
    }
}

#[test]
fn a_silent_meter_is_reported_with_its_port_and_what_was_seen() {
    let data = tempfile::tempdir().expect("temp dir");
    let profile = profile_with(
        data.path(),
        "um25c.toml",
        &[
            ("silence_timeout_ms", "1200"),
            ("connect_timeout_ms", "600"),
            ("settle_ms", "0"),
        ],
    );
    let emulator = Emulator::spawn(&["um25c", "--fault", "silent-after=1s"]);
    let out = data.path().join("trace.csv");
    let spec = format!("um25c:{}?profile={}", emulator.port, profile.display());
    let output = record_logged(data.path(), &spec, "3s", &out, "warn");
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("the UM25C stopped answering: no valid frame for"),
        "{log}"
    );
    assert!(
        log.contains("bytes: ") && log.contains(&emulator.port),
        "{log}"
    );
    assert!(log.contains("; they are kept in"), "{log}");
    let session = the_session(data.path());
    assert!(
        !session.samples.is_empty(),
        "the samples before the silence are kept"
    );
    assert!(session.samples.iter().all(|s| close(s.power_w, 0.5)));
}

#[test]
fn a_pulled_cable_reconnects_into_the_same_session_with_the_gap_marked() {
    let data = tempfile::tempdir().expect("temp dir");
    let link = data.path().join("meter");
    let link_text = link.to_str().expect("utf-8");
    let mut emulator = Emulator::spawn(&[
        "um25c",
        "--fault",
        "disconnect-after=1.2s,replug",
        "--link",
        link_text,
    ]);
    let out = data.path().join("trace.csv");
    let output = record_logged(
        data.path(),
        &format!("um25c:{link_text}"),
        "3.5s",
        &out,
        "warn",
    );
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert_ne!(
        emulator.next_port(),
        emulator.port,
        "it came back on a new pty"
    );
    assert!(
        log.contains("the UM25C disconnected (") && log.contains("; before that, received "),
        "{log}"
    );
    assert!(log.contains(link_text), "the message names the port: {log}");
    assert!(log.contains("reconnected; no samples from"), "{log}");
    assert!(stdout(&output).contains("reconnect:  disconnected, no sample from"));

    let session = the_session(data.path());
    assert_eq!(session.meta.gaps.len(), 1, "{:?}", session.meta.gaps);
    let gap = session.meta.gaps[0];
    let before = session
        .samples
        .iter()
        .filter(|s| s.t_s <= gap.start_s)
        .count();
    let after = session.samples.iter().filter(|s| s.t_s > gap.end_s).count();
    assert!(
        before >= 1 && after >= 1,
        "{before} before, {after} after {gap:?}"
    );
    assert!(
        session
            .samples
            .iter()
            .all(|s| s.t_s <= gap.start_s || s.t_s > gap.end_s)
    );
    assert_eq!(session.samples.len(), read_trace(&out).len());
}

#[test]
fn a_closed_port_ends_the_recording_naming_it_and_keeps_the_samples() {
    let emulator = Emulator::spawn(&["um25c", "--fault", "disconnect-after=1s"]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let started = Instant::now();
    let output = record_logged(
        data.path(),
        &format!("um25c:{}", emulator.port),
        "2.5s",
        &out,
        "warn",
    );
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        started.elapsed().as_secs_f64() < 6.0,
        "no hang on a closed port"
    );
    assert!(
        log.contains("the UM25C disconnected (") && log.contains("; before that, received "),
        "{log}"
    );
    assert!(log.contains(&emulator.port), "{log}");
    assert!(log.contains("; they are kept in"), "{log}");
    assert!(!the_session(data.path()).samples.is_empty());
}

#[test]
fn the_wrong_model_is_named_in_the_error() {
    let emulator = Emulator::spawn(&["um24c"]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let output = record_logged(
        data.path(),
        &format!("um25c:{}", emulator.port),
        "1s",
        &out,
        "warn",
    );
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("no UM25C answered: waiting for a valid frame (bytes came, none formed one)"),
        "{log}"
    );
    assert!(
        log.contains("the port sends UM24C frames: use `um24c:PORT`"),
        "{log}"
    );
}

#[test]
fn a_meter_that_never_answers_is_told_from_one_that_answers_garbage() {
    let data = tempfile::tempdir().expect("temp dir");
    let profile = profile_with(data.path(), "um25c.toml", &[("connect_timeout_ms", "600")]);
    let emulator = Emulator::spawn(&["um25c", "--fault", "silent-after=0s"]);
    let out = data.path().join("trace.csv");
    let spec = format!("um25c:{}?profile={}", emulator.port, profile.display());
    let output = record_logged(data.path(), &spec, "1s", &out, "warn");
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("waiting for a reply (no byte came back) failed"),
        "{log}"
    );
    assert!(log.contains("(received nothing)"), "{log}");
}

// ---- Property tests: the stream decoder against an oracle written from §2.3–§2.4. ----

const UM34C_SUM: [usize; 32] = [
    1, 3, 7, 9, 15, 17, 19, 23, 31, 39, 41, 45, 49, 53, 55, 57, 59, 63, 67, 69, 73, 79, 83, 89, 97,
    99, 109, 111, 113, 119, 121, 127,
];

/// (model, ID, V per LSB, A per LSB, checksummed)
fn facts(model: Model) -> (u16, f64, f64, bool) {
    match model {
        Model::Um24c => (0x0963, 0.01, 0.001, false),
        Model::Um25c => (0x09c9, 0.001, 0.0001, false),
        Model::Um34c => (0x0d4c, 0.01, 0.001, true),
    }
}

/// A frame with raw voltage, current and power, per the documented layout.
fn frame(model: Model, raw_v: u16, raw_i: u16, raw_p: u32) -> Vec<u8> {
    let (id, _, _, summed) = facts(model);
    let mut bytes = vec![0u8; 130];
    bytes[0..2].copy_from_slice(&id.to_be_bytes());
    bytes[2..4].copy_from_slice(&raw_v.to_be_bytes());
    bytes[4..6].copy_from_slice(&raw_i.to_be_bytes());
    bytes[6..10].copy_from_slice(&raw_p.to_be_bytes());
    if summed {
        bytes[128] = 0x80;
        bytes[129] = UM34C_SUM.iter().fold(0, |acc, &i| acc ^ bytes[i]);
    } else {
        bytes[128] = 0xff;
        bytes[129] = 0xf1;
    }
    bytes
}

/// The documented integrity check of a 130-byte window.
fn passes_check(model: Model, window: &[u8]) -> bool {
    let (id, _, _, summed) = facts(model);
    if window.len() < 130 || window[0..2] != id.to_be_bytes() {
        return false;
    }
    if summed {
        window[129] == UM34C_SUM.iter().fold(0, |acc, &i| acc ^ window[i])
    } else {
        window[128..130] == [0xff, 0xf1]
    }
}

/// (V, A, W) of a window at the documented scales.
fn fields(model: Model, window: &[u8]) -> (f64, f64, f64) {
    let (_, volt, amp, _) = facts(model);
    let v = f64::from(u16::from_be_bytes([window[2], window[3]])) * volt;
    let i = f64::from(u16::from_be_bytes([window[4], window[5]])) * amp;
    let p = f64::from(u32::from_be_bytes([
        window[6], window[7], window[8], window[9],
    ])) * 0.001;
    (v, i, p)
}

/// Decodes `stream` in random chunks.
fn decode(model: Model, stream: &[u8], rng: &mut ChaCha8Rng) -> Vec<UmFrame> {
    let mut decoder = UmDecoder::new(model, model.scales());
    let (mut frames, mut rejected): (Vec<UmFrame>, Vec<Rejected>) = (Vec::new(), Vec::new());
    let mut rest = stream;
    while !rest.is_empty() {
        let take = rng.random_range(1..=200).min(rest.len());
        decoder.push_frames(&rest[..take], &mut frames, &mut rejected);
        rest = &rest[take..];
    }
    frames
}

/// Every decoded frame is, in order, a window of the stream that passes the documented
/// check, with the documented field values.
fn only_checked_windows(model: Model, stream: &[u8], frames: &[UmFrame]) -> Result<(), String> {
    let mut at = 0;
    for frame in frames {
        let found = (at..stream.len().saturating_sub(129)).find(|&start| {
            let window = &stream[start..start + 130];
            let (v, i, p) = fields(model, window);
            passes_check(model, window)
                && close(v, frame.voltage_v)
                && close(i, frame.current_a)
                && close(p, frame.power_w)
        });
        match found {
            Some(start) => at = start + 130,
            None => return Err(format!("{frame:?} is no checked window after byte {at}")),
        }
    }
    Ok(())
}

fn any_model() -> impl Strategy<Value = Model> {
    prop_oneof![Just(Model::Um24c), Just(Model::Um25c), Just(Model::Um34c)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 50_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random bytes, sometimes seeded with model IDs and trailers: no panic, and nothing
    /// decoded that is not a checked window.
    #[test]
    fn random_streams_give_no_unchecked_frame(seed: u64, model in any_model()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let len = rng.random_range(0..400);
        let (id, _, _, _) = facts(model);
        let mut stream = vec![0u8; len];
        rng.fill_bytes(&mut stream);
        // Sprinkle the bytes a frame starts and ends with, so false starts are common.
        for _ in 0..rng.random_range(0..8) {
            if stream.len() > 2 {
                let at = rng.random_range(0..stream.len() - 1);
                let pair = if rng.random_bool(0.5) { id.to_be_bytes() } else { [0xff, 0xf1] };
                stream[at..at + 2].copy_from_slice(&pair);
            }
        }
        let frames = decode(model, &stream, &mut rng);
        prop_assert!(only_checked_windows(model, &stream, &frames).is_ok());
    }

    /// Valid frames with garbage between them, some bytes overwritten: every decoded
    /// frame is a checked window, and every frame no overwrite touched is decoded.
    #[test]
    fn mutated_streams_lose_only_spoilt_frames(seed: u64, model in any_model()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (_, volt, amp, _) = facts(model);
        let mut stream = Vec::new();
        let mut starts = Vec::new();
        for _ in 0..rng.random_range(1..5) {
            // Garbage without 0xFF cannot hold a false UM24C/UM25C trailer.
            let mut garbage = vec![0u8; rng.random_range(0..40)];
            rng.fill_bytes(&mut garbage);
            stream.extend(garbage.iter().map(|&byte| byte.min(0xfe)));
            let raw_v = rng.random_range(0..(20.0 / volt) as u16);
            let raw_i = rng.random_range(0..(5.0 / amp) as u16);
            let watts = f64::from(raw_v) * volt * f64::from(raw_i) * amp;
            starts.push(stream.len());
            stream.extend(frame(model, raw_v, raw_i, (watts / 0.001).round() as u32));
        }
        let mut spoilt = vec![false; stream.len()];
        for _ in 0..rng.random_range(0..4) {
            let at = rng.random_range(0..stream.len());
            let byte = rng.random::<u8>();
            if stream[at] != byte {
                stream[at] = byte;
                spoilt[at] = true;
            }
        }
        let frames = decode(model, &stream, &mut rng);
        prop_assert!(only_checked_windows(model, &stream, &frames).is_ok());
        let intact: Vec<(f64, f64, f64)> = starts
            .iter()
            .filter(|&&start| !spoilt[start..start + 130].iter().any(|&s| s))
            .map(|&start| fields(model, &stream[start..start + 130]))
            .collect();
        for wanted in &intact {
            prop_assert!(
                frames.iter().any(|f| close(f.voltage_v, wanted.0)
                    && close(f.current_a, wanted.1)
                    && close(f.power_w, wanted.2)),
                "intact frame {wanted:?} not decoded: {frames:?}"
            );
        }
        prop_assert!(frames.len() >= intact.len());
    }
}
