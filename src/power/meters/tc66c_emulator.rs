//! An RDTech TC66C on the master end of a pty (protocols.md §2.7).
//!
//! On the five ASCII bytes `getva` it replies (after the reply delay, default
//! [`DEFAULT_REPLY_DELAY`]) with a 192-byte frame of the waveform's current reading,
//! sealed with per-block CRCs and AES-256-ECB encrypted with the published key; the
//! `pac3` block carries [`TC66C_EMULATOR_MARK`]. On `gtrec` it streams
//! [`RECORDS`] 8-byte records (u32 LE voltage ×0.1 mV, current ×10 µA) and goes quiet.
//!
//! Faults, on a fixed rhythm so tests know what to expect (the bytes come from the seeded
//! generator): `garbage` puts 1–3 random bytes before every second frame; `short-reads`
//! writes in chunks of 1–40 bytes with 2–15 ms pauses; `drop-samples` leaves every fourth
//! request unanswered; `bad-checksum` spoils one block's CRC in every third frame;
//! `silent-after=D` and `disconnect-after=D` as for every emulator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::emulate::{EmulatorOptions, Reading, write_fragmented};
use super::tc66c::{
    TC66C_BLOCK_TAGS, TC66C_EMULATOR_MARK, TC66C_EMULATOR_MARK_OFFSET, TC66C_FRAME_LEN,
    TC66C_RECORDS_REQUEST, TC66C_REQUEST, TC66C_SCALES, encrypt, seal,
};
use crate::serial::{Link, SerialError};

/// Delay between a request and its reply unless the options say otherwise.
pub const DEFAULT_REPLY_DELAY: Duration = Duration::from_millis(30);

/// Records sent for `gtrec`.
pub const RECORDS: usize = 16;

const IDLE_WAIT: Duration = Duration::from_millis(10);

/// The plaintext of one frame for `reading`, with `mwh` accumulated in group 0.
pub fn plaintext(reading: &Reading, mah: f64, mwh: f64) -> [u8; TC66C_FRAME_LEN] {
    let mut plain = [0u8; TC66C_FRAME_LEN];
    let put = |plain: &mut [u8; TC66C_FRAME_LEN], offset: usize, value: f64| {
        let raw = value.round().clamp(0.0, f64::from(u32::MAX)) as u32;
        plain[offset..offset + 4].copy_from_slice(&raw.to_le_bytes());
    };
    for (index, tag) in TC66C_BLOCK_TAGS.iter().enumerate() {
        plain[64 * index..64 * index + 4].copy_from_slice(*tag);
    }
    plain[4..8].copy_from_slice(b"TC66");
    plain[8..12].copy_from_slice(b"1.14");
    put(&mut plain, 12, 1.0);
    put(&mut plain, 48, reading.voltage_v / TC66C_SCALES.voltage_v);
    put(&mut plain, 52, reading.current_a / TC66C_SCALES.current_a);
    put(&mut plain, 56, reading.power_w / TC66C_SCALES.power_w);
    let ohms = if reading.current_a > 0.0 {
        (reading.voltage_v / reading.current_a).min(999_999.0)
    } else {
        999_999.0
    };
    put(&mut plain, 68, ohms * 10.0);
    put(&mut plain, 72, mah);
    put(&mut plain, 76, mwh);
    put(&mut plain, 92, 25.0);
    let mark = TC66C_EMULATOR_MARK_OFFSET;
    plain[mark..mark + 16].copy_from_slice(TC66C_EMULATOR_MARK);
    seal(&mut plain);
    plain
}

/// Emulates a TC66C on `link` until `stop` or a disconnect fault.
pub fn run(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    let started = Instant::now();
    let delay = options.reply_delay.unwrap_or(DEFAULT_REPLY_DELAY);
    let faults = &options.faults;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut heard: Vec<u8> = Vec::new();
    let mut due: Vec<(Instant, bool)> = Vec::new();
    let (mut mah, mut mwh, mut last_t) = (0.0, 0.0, 0.0);
    let (mut requests, mut frames) = (0u64, 0u64);
    let mut buf = [0u8; 64];
    while !stop.load(Ordering::Acquire) {
        let elapsed = started.elapsed();
        if faults.disconnect_due(elapsed) {
            return Ok(());
        }
        let count = link.read_some(&mut buf, IDLE_WAIT)?;
        heard.extend_from_slice(&buf[..count]);
        // Commands have no terminator: match them anywhere in what was heard.
        while let Some((at, records)) = find_command(&heard) {
            heard.drain(..at + 5);
            due.push((Instant::now() + delay, records));
        }
        let keep_from = heard.len().saturating_sub(4);
        heard.drain(..keep_from);

        let now = Instant::now();
        while due.first().is_some_and(|(at, _)| *at <= now) {
            let (_, records) = due.remove(0);
            let silent = faults.silent_after.is_some_and(|after| elapsed >= after);
            requests += 1;
            if silent || (faults.drop_samples && requests % 4 == 0) {
                continue;
            }
            let t_s = started.elapsed().as_secs_f64();
            let reading = options.waveform.at(t_s);
            if records {
                write_records(link, &options.waveform, t_s)?;
                continue;
            }
            let hours = (t_s - last_t) / 3600.0;
            mah += reading.current_a * 1e3 * hours;
            mwh += reading.power_w * 1e3 * hours;
            last_t = t_s;
            let mut frame = plaintext(&reading, mah, mwh);
            frames += 1;
            if faults.bad_checksum && frames % 3 == 0 {
                let block = rng.random_range(0..3);
                frame[64 * block + 60] ^= 0x5a;
            }
            encrypt(&mut frame);
            let mut bytes = Vec::with_capacity(TC66C_FRAME_LEN + 3);
            if faults.garbage && frames % 2 == 0 {
                let junk = rng.random_range(1..=3);
                bytes.extend((0..junk).map(|_| rng.random::<u8>()));
            }
            bytes.extend_from_slice(&frame);
            write_fragmented(link, &bytes, faults.short_reads, &mut rng)?;
        }
    }
    Ok(())
}

/// The position of the first `getva` (false) or `gtrec` (true) in `heard`.
fn find_command(heard: &[u8]) -> Option<(usize, bool)> {
    heard.windows(5).enumerate().find_map(|(at, window)| {
        if window == TC66C_REQUEST {
            Some((at, false))
        } else if window == TC66C_RECORDS_REQUEST {
            Some((at, true))
        } else {
            None
        }
    })
}

fn write_records(
    link: &mut dyn Link,
    waveform: &super::emulate::Waveform,
    t_s: f64,
) -> Result<(), SerialError> {
    let mut bytes = Vec::with_capacity(8 * RECORDS);
    for index in 0..RECORDS {
        let reading = waveform.at((t_s - index as f64).max(0.0));
        let volts = (reading.voltage_v / TC66C_SCALES.voltage_v).round() as u32;
        let amps = (reading.current_a / TC66C_SCALES.current_a).round() as u32;
        bytes.extend_from_slice(&volts.to_le_bytes());
        bytes.extend_from_slice(&amps.to_le_bytes());
    }
    link.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::meters::tc66c::{decode_plain, decrypt};

    #[test]
    fn the_emulators_frame_decodes_with_its_mark() {
        let mut frame = plaintext(&Reading::from_power(0.5, 5.0), 3.0, 15.0);
        encrypt(&mut frame);
        decrypt(&mut frame);
        let decoded = decode_plain(&frame, &TC66C_SCALES).expect("valid");
        assert!((decoded.voltage_v - 5.0).abs() < 1e-9);
        assert!((decoded.current_a - 0.1).abs() < 1e-9);
        assert!((decoded.power_w - 0.5).abs() < 1e-9);
        assert_eq!(decoded.group0, (3, 15));
        assert!(decoded.emulated);
    }

    #[test]
    fn commands_are_found_without_a_terminator() {
        assert_eq!(find_command(b"xxgetva"), Some((2, false)));
        assert_eq!(find_command(b"gtrecgetva"), Some((0, true)));
        assert_eq!(find_command(b"getv"), None);
    }
}
