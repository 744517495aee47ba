//! End to end over real pseudo-terminals: `actprof emulate tc66c` ↔
//! `actprof record --power tc66c:PORT` ↔ the session journal, with the values checked
//! against the scales of protocols.md §2.6 (0.1 mV, 10 µA, 0.1 mW per LSB) and faults
//! injected. Then the property tests: the decoder fed 100k random and mutated streams,
//! checked against an oracle that decrypts with the published key itself.

mod meters_support;

use aes::Aes256;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt as _, BlockEncrypt as _, KeyInit as _};
use proptest::prelude::*;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

use actprof::power::meters::polled::Rejected;
use actprof::power::meters::tc66c::{TC66C_SCALES, Tc66Decoder, Tc66Frame};
use meters_support::{Emulator, read_trace, record_logged, stderr, stdout, the_session};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn readings_have_the_documented_scales_and_are_labelled_emulated() {
    let emulator = Emulator::spawn(&["tc66c", "--waveform", "const:123.4mA@5.062V"]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let spec = format!("tc66c:{}", emulator.port);
    let output = record_logged(data.path(), &spec, "1.6s", &out, "warn");
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = read_trace(&out);
    assert!((3..=5).contains(&rows.len()), "{rows:?}");
    for row in &rows {
        // Raw 50620 × 0.1 mV, 12340 × 10 µA, 6247 × 0.1 mW (0.6246508 W rounded).
        assert!(close(row.voltage_v, 5.062), "{row:?}");
        assert!(close(row.current_a, 0.1234), "{row:?}");
        assert!(close(row.power_w, 0.6247), "{row:?}");
        assert_eq!(row.source, format!("{spec} (emulated)"));
    }
    assert!(stdout(&output).starts_with("source:     EMULATED RDTech TC66C on /dev/pts/"));
    assert!(
        the_session(data.path()).meta.sources[0]
            .description
            .starts_with("EMULATED")
    );
}

#[test]
fn garbage_cut_frames_and_bad_crcs_never_give_a_wrong_sample() {
    let emulator = Emulator::spawn(&[
        "tc66c",
        "--waveform",
        "square:lo=0.1W,hi=0.5W,period=1s",
        "--fault",
        "garbage,short-reads,bad-checksum,drop-samples",
    ]);
    let data = tempfile::tempdir().expect("temp dir");
    let out = data.path().join("trace.csv");
    let output = record_logged(
        data.path(),
        &format!("tc66c:{}", emulator.port),
        "3s",
        &out,
        "actprof=debug",
    );
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    let rows = read_trace(&out);
    assert!(rows.len() >= 2, "{rows:?}");
    for row in &rows {
        let low = close(row.power_w, 0.1) && close(row.current_a, 0.02);
        let high = close(row.power_w, 0.5) && close(row.current_a, 0.1);
        assert!((low || high) && close(row.voltage_v, 5.0), "{row:?}");
    }
    assert!(log.contains("dropped a TC66C frame at byte "), "{log}");
    assert!(log.contains("CRC"), "{log}");
    assert!(
        log.contains("no reply within 1.0 s, asking again"),
        "dropped replies: {log}"
    );
}

#[test]
fn a_pulled_cable_reconnects_into_the_same_session() {
    let data = tempfile::tempdir().expect("temp dir");
    let link = data.path().join("tc66c");
    let link_text = link.to_str().expect("utf-8");
    let _emulator = Emulator::spawn(&[
        "tc66c",
        "--fault",
        "disconnect-after=1s,replug",
        "--link",
        link_text,
    ]);
    let out = data.path().join("trace.csv");
    let output = record_logged(
        data.path(),
        &format!("tc66c:{link_text}"),
        "3s",
        &out,
        "warn",
    );
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains("the TC66C disconnected (") && log.contains(link_text),
        "{log}"
    );
    let session = the_session(data.path());
    assert_eq!(session.meta.gaps.len(), 1);
    let gap = session.meta.gaps[0];
    assert!(session.samples.iter().any(|s| s.t_s <= gap.start_s));
    assert!(session.samples.iter().any(|s| s.t_s > gap.end_s));
}

// ---- Property tests against an oracle written from §2.6 with the crates directly. ----

const KEY: [u8; 32] = [
    0x58, 0x21, 0xfa, 0x56, 0x01, 0xb2, 0xf0, 0x26, 0x87, 0xff, 0x12, 0x04, 0x62, 0x2a, 0x4f, 0xb0,
    0x86, 0xf4, 0x02, 0x60, 0x81, 0x6f, 0x9a, 0x0b, 0xa7, 0xf1, 0x06, 0x61, 0x9a, 0xb8, 0x72, 0x88,
];

const MODBUS: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);

fn cipher() -> Aes256 {
    Aes256::new(GenericArray::from_slice(&KEY))
}

/// An encrypted frame with raw voltage, current and power.
fn frame(cipher: &Aes256, raw: [u32; 3]) -> Vec<u8> {
    let mut plain = vec![0u8; 192];
    for (block, tag) in [b"pac1", b"pac2", b"pac3"].iter().enumerate() {
        plain[64 * block..64 * block + 4].copy_from_slice(*tag);
    }
    for (index, value) in raw.iter().enumerate() {
        plain[48 + 4 * index..52 + 4 * index].copy_from_slice(&value.to_le_bytes());
    }
    for block in plain.chunks_exact_mut(64) {
        let crc = u32::from(MODBUS.checksum(&block[..60]));
        block[60..64].copy_from_slice(&crc.to_le_bytes());
    }
    for block in plain.chunks_exact_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    plain
}

/// The (V, A, W) of a 192-byte window if it decrypts to three tagged blocks with good
/// CRCs, else `None`.
fn checked(cipher: &Aes256, window: &[u8]) -> Option<(f64, f64, f64)> {
    let mut plain = window.to_vec();
    let mut first = GenericArray::clone_from_slice(&plain[..16]);
    cipher.decrypt_block(&mut first);
    if &first[..4] != b"pac1" {
        return None;
    }
    for block in plain.chunks_exact_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    for (index, block) in plain.chunks_exact(64).enumerate() {
        let tag = [b"pac1", b"pac2", b"pac3"][index];
        let crc = u32::from_le_bytes([block[60], block[61], block[62], block[63]]);
        if &block[..4] != tag || crc != u32::from(MODBUS.checksum(&block[..60])) {
            return None;
        }
    }
    let raw = |at: usize| {
        f64::from(u32::from_le_bytes([
            plain[at],
            plain[at + 1],
            plain[at + 2],
            plain[at + 3],
        ]))
    };
    Some((raw(48) * 1e-4, raw(52) * 1e-5, raw(56) * 1e-4))
}

fn decode(stream: &[u8], chunk: usize) -> Vec<Tc66Frame> {
    let mut decoder = Tc66Decoder::new(TC66C_SCALES);
    let (mut frames, mut rejected): (Vec<Tc66Frame>, Vec<Rejected>) = (Vec::new(), Vec::new());
    for piece in stream.chunks(chunk.max(1)) {
        decoder.push_frames(piece, &mut frames, &mut rejected);
    }
    frames
}

fn same(frame: &Tc66Frame, fields: (f64, f64, f64)) -> bool {
    close(frame.voltage_v, fields.0)
        && close(frame.current_a, fields.1)
        && close(frame.power_w, fields.2)
}

/// Every decoded frame is, in order, a window that passes the oracle, with its values.
fn only_checked_windows(cipher: &Aes256, stream: &[u8], frames: &[Tc66Frame]) -> bool {
    let mut at = 0;
    for frame in frames {
        let found = (at..stream.len().saturating_sub(191)).find(|&start| {
            checked(cipher, &stream[start..start + 192]).is_some_and(|f| same(frame, f))
        });
        match found {
            Some(start) => at = start + 192,
            None => return false,
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 50_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random bytes: no panic, nothing decoded that the oracle does not pass.
    #[test]
    fn random_streams_give_no_unchecked_frame(seed: u64, chunk in 1usize..300) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stream = vec![0u8; (seed % 500) as usize];
        rand::Rng::fill_bytes(&mut rng, &mut stream);
        let frames = decode(&stream, chunk);
        prop_assert!(only_checked_windows(&cipher(), &stream, &frames));
    }

    /// Valid frames among garbage, some bytes overwritten: nothing unchecked is decoded,
    /// and every frame no overwrite touched is.
    #[test]
    fn mutated_streams_lose_only_spoilt_frames(
        parts in prop::collection::vec((0usize..30, any::<[u32; 3]>()), 1..4),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        chunk in 1usize..250,
    ) {
        let cipher = cipher();
        let mut stream = Vec::new();
        let mut starts = Vec::new();
        for (garbage, raw) in &parts {
            stream.extend((0..*garbage).map(|i| (i as u8).wrapping_mul(37)));
            starts.push(stream.len());
            stream.extend(frame(&cipher, *raw));
        }
        let mut spoilt = vec![false; stream.len()];
        for (index, byte) in &flips {
            let at = index.index(stream.len());
            if stream[at] != *byte {
                stream[at] = *byte;
                spoilt[at] = true;
            }
        }
        let frames = decode(&stream, chunk);
        prop_assert!(only_checked_windows(&cipher, &stream, &frames));
        for &start in &starts {
            if spoilt[start..start + 192].iter().any(|&s| s) {
                continue;
            }
            let wanted = checked(&cipher, &stream[start..start + 192]).expect("intact is valid");
            prop_assert!(frames.iter().any(|f| same(f, wanted)), "lost an intact frame");
        }
    }
}
