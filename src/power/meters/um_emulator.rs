//! An RDTech UM24C/UM25C/UM34C on the master end of a pty (protocols.md §2.7).
//!
//! It ignores bytes that are not commands; on `0xF0` it waits the reply delay (default
//! [`DEFAULT_REPLY_DELAY`]) and writes a 130-byte frame with the model's scales; values
//! change at most every [`UPDATE_PERIOD`] (faster polls get the previous frame again, as
//! from the real meter). `0xA0+n` selects data group n, `0xD0+n` the brightness, `0xE0+n`
//! the screen timeout, `0xB0..=0xCE` the record threshold, `0xF1`–`0xF3` the screen, and
//! `0xF4` clears the group; none of them answers. The selected group accumulates mAh and
//! mWh from the waveform. Frames carry [`UM_EMULATOR_MARK`] in the charging-mode field.
//!
//! Faults, on a fixed rhythm so tests know what to expect (the bytes come from the seeded
//! generator): `garbage` puts 1–3 random bytes before every second frame; `short-reads`
//! writes frames in chunks of 1–40 bytes with 2–15 ms pauses; `drop-samples` leaves every
//! fourth poll unanswered; `bad-checksum` spoils the trailer (or the UM34C checksum) of
//! every third frame; `silent-after=D` stops answering after D; `disconnect-after=D` ends
//! the run after D.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::emulate::{EmulatorOptions, Reading, write_fragmented};
use super::um::{
    CHARGING_MODE_OFFSET, Model, UM_EMULATOR_MARK, UM_FRAME_LEN, UM_REQUEST, UM_SELECT_GROUP,
    UM_TRAILER, UM34C_BYTE_128, um34c_checksum,
};
use crate::serial::{Link, SerialError};

/// Delay between a poll and its frame unless the options say otherwise.
pub const DEFAULT_REPLY_DELAY: Duration = Duration::from_millis(50);

/// The real meters update their readings about twice a second (rd-usb).
pub const UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// Longest wait for a command byte before checking the clock and the stop flag.
const IDLE_WAIT: Duration = Duration::from_millis(10);

/// Emulates a UM24C.
pub fn run_um24c(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    run(Model::Um24c, link, options, stop)
}

/// Emulates a UM25C.
pub fn run_um25c(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    run(Model::Um25c, link, options, stop)
}

/// Emulates a UM34C.
pub fn run_um34c(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    run(Model::Um34c, link, options, stop)
}

/// The meter's state between polls.
#[derive(Clone, Debug)]
pub struct UmState {
    model: Model,
    group: u8,
    brightness: u8,
    screen_timeout_min: u8,
    screen: u8,
    threshold_ca: u8,
    /// Per group: mAh and mWh as fractions, rounded when written.
    groups: [(f64, f64); 10],
    reading: Reading,
    last_update_s: Option<f64>,
}

impl UmState {
    /// A meter of `model` with everything cleared.
    pub fn new(model: Model) -> UmState {
        UmState {
            model,
            group: 0,
            brightness: 4,
            screen_timeout_min: 2,
            screen: 0,
            threshold_ca: 13,
            groups: [(0.0, 0.0); 10],
            reading: Reading::from_power(0.0, 0.0),
            last_update_s: None,
        }
    }

    /// Applies one command byte other than the poll.
    pub fn command(&mut self, byte: u8) {
        match byte {
            0xA0..=0xA9 => self.group = byte - UM_SELECT_GROUP,
            0xB0..=0xCE => self.threshold_ca = byte - 0xB0,
            0xD0..=0xD5 => self.brightness = byte - 0xD0,
            0xE0..=0xE9 => self.screen_timeout_min = byte - 0xE0,
            0xF1 => self.screen = (self.screen + 1) % 6,
            0xF2 => self.screen = (self.screen + 1) % 6,
            0xF3 if self.model == Model::Um24c => self.group = (self.group + 1) % 10,
            0xF3 => self.screen = (self.screen + 5) % 6,
            0xF4 => self.groups[usize::from(self.group)] = (0.0, 0.0),
            _ => {}
        }
    }

    /// Takes a new reading at `t_s` if the update period has passed, accumulating the
    /// selected group over the time since the previous one.
    pub fn update(&mut self, t_s: f64, reading: Reading) {
        if let Some(last) = self.last_update_s {
            if t_s - last < UPDATE_PERIOD.as_secs_f64() {
                return;
            }
            let hours = (t_s - last) / 3600.0;
            let group = &mut self.groups[usize::from(self.group)];
            group.0 += self.reading.current_a * 1e3 * hours;
            group.1 += self.reading.power_w * 1e3 * hours;
        }
        self.reading = reading;
        self.last_update_s = Some(t_s);
    }

    /// The 130-byte frame of the current reading (protocols.md §2.3).
    pub fn frame(&self) -> [u8; UM_FRAME_LEN] {
        let scales = self.model.scales();
        let mut frame = [0u8; UM_FRAME_LEN];
        let put16 = |frame: &mut [u8; UM_FRAME_LEN], offset: usize, value: u16| {
            frame[offset..offset + 2].copy_from_slice(&value.to_be_bytes());
        };
        let put32 = |frame: &mut [u8; UM_FRAME_LEN], offset: usize, value: u32| {
            frame[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
        };
        let Reading {
            power_w,
            voltage_v,
            current_a,
        } = self.reading;
        put16(&mut frame, 0, self.model.id());
        put16(&mut frame, 2, raw16(voltage_v / scales.voltage_v));
        put16(&mut frame, 4, raw16(current_a / scales.current_a));
        put32(&mut frame, 6, raw32(power_w / scales.power_w));
        put16(&mut frame, 10, 25);
        put16(&mut frame, 12, 77);
        put16(&mut frame, 14, u16::from(self.group));
        for (index, (mah, mwh)) in self.groups.iter().enumerate() {
            put32(&mut frame, 16 + 8 * index, raw32(*mah));
            put32(&mut frame, 20 + 8 * index, raw32(*mwh));
        }
        put16(&mut frame, CHARGING_MODE_OFFSET, UM_EMULATOR_MARK);
        put16(&mut frame, 110, u16::from(self.threshold_ca));
        put16(&mut frame, 118, u16::from(self.screen_timeout_min));
        put16(&mut frame, 120, u16::from(self.brightness));
        let load_deci_ohm = if current_a > 0.0 {
            (voltage_v / current_a * 10.0).min(99_999.0)
        } else {
            99_999.0
        };
        put32(&mut frame, 122, raw32(load_deci_ohm));
        put16(&mut frame, 126, u16::from(self.screen));
        if self.model.has_checksum() {
            frame[128] = UM34C_BYTE_128;
            frame[129] = um34c_checksum(&frame);
        } else {
            frame[128..].copy_from_slice(&UM_TRAILER);
        }
        frame
    }
}

fn raw16(value: f64) -> u16 {
    value.round().clamp(0.0, f64::from(u16::MAX)) as u16
}

fn raw32(value: f64) -> u32 {
    value.round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// Runs a UM emulator of `model` on `link` until `stop` or a disconnect fault.
pub fn run(
    model: Model,
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    let started = Instant::now();
    let delay = options.reply_delay.unwrap_or(DEFAULT_REPLY_DELAY);
    let faults = &options.faults;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut state = UmState::new(model);
    let mut due: Vec<Instant> = Vec::new();
    let (mut polls, mut frames) = (0u64, 0u64);
    let mut buf = [0u8; 64];
    while !stop.load(Ordering::Acquire) {
        let elapsed = started.elapsed();
        if faults.disconnect_due(elapsed) {
            return Ok(());
        }
        let wait = due
            .first()
            .map_or(IDLE_WAIT, |at| at.saturating_duration_since(Instant::now()))
            .min(IDLE_WAIT);
        let count = link.read_some(&mut buf, wait)?;
        for &byte in &buf[..count] {
            if byte == UM_REQUEST {
                due.push(Instant::now() + delay);
            } else {
                state.command(byte);
            }
        }
        let now = Instant::now();
        while due.first().is_some_and(|at| *at <= now) {
            due.remove(0);
            let silent = faults.silent_after.is_some_and(|after| elapsed >= after);
            polls += 1;
            if silent || (faults.drop_samples && polls % 4 == 0) {
                continue;
            }
            frames += 1;
            let t_s = started.elapsed().as_secs_f64();
            state.update(t_s, options.waveform.at(t_s));
            let mut frame = state.frame().to_vec();
            if faults.bad_checksum && frames % 3 == 0 {
                frame[129] ^= 0x5a;
            }
            let mut bytes = Vec::with_capacity(UM_FRAME_LEN + 3);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::meters::um::decode_frame;

    #[test]
    fn frames_carry_the_documented_scales_and_the_mark() {
        // 0.5 W at 5 V: UM25C raw 5000 mV-steps... 5.000 V, 0.1000 A, 0.500 W.
        let mut state = UmState::new(Model::Um25c);
        state.update(0.0, Reading::from_power(0.5, 5.0));
        let frame = state.frame();
        assert_eq!(&frame[0..2], &[0x09, 0xc9]);
        assert_eq!(u16::from_be_bytes([frame[2], frame[3]]), 5000);
        assert_eq!(u16::from_be_bytes([frame[4], frame[5]]), 1000);
        assert_eq!(&frame[6..10], &500u32.to_be_bytes());
        assert_eq!(&frame[100..102], b"EM");
        assert_eq!(&frame[128..], &[0xff, 0xf1]);

        let mut um34c = UmState::new(Model::Um34c);
        um34c.update(0.0, Reading::from_power(0.5, 5.0));
        let frame = um34c.frame();
        assert_eq!(u16::from_be_bytes([frame[2], frame[3]]), 500);
        assert_eq!(u16::from_be_bytes([frame[4], frame[5]]), 100);
        assert_eq!(frame[128], 0x80);
        let decoded = decode_frame(Model::Um34c, &Model::Um34c.scales(), &frame).expect("ok");
        assert!(decoded.is_emulated());
    }

    #[test]
    fn readings_change_at_most_twice_a_second_and_groups_accumulate() {
        let mut state = UmState::new(Model::Um25c);
        state.update(0.0, Reading::from_power(1.0, 5.0));
        state.update(0.3, Reading::from_power(2.0, 5.0));
        assert_eq!(state.reading.power_w, 1.0, "too early for a new reading");
        state.command(0xA3);
        state.update(3600.0, Reading::from_power(2.0, 5.0));
        assert_eq!(state.reading.power_w, 2.0);
        // One hour at 1 W and 0.2 A went into group 3.
        assert_eq!(state.groups[3], (200.0, 1000.0));
        let frame = state.frame();
        assert_eq!(&frame[14..16], &[0, 3]);
        assert_eq!(&frame[40..44], &200u32.to_be_bytes());
        assert_eq!(&frame[44..48], &1000u32.to_be_bytes());
        state.command(0xF4);
        assert_eq!(state.groups[3], (0.0, 0.0));
    }
}
