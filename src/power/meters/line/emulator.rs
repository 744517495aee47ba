//! An INA219 logger running the sketch in `firmware/ina-logger/`, emulated on the
//! master side of a pty: `actprof emulate ina`.
//!
//! It prints `# actprof emulator` and [`EXTENDED_HEADER`], then one reading of the
//! waveform every [`INTERVAL_MS`] ms in the extended form, `t_ms,bus_V,shunt_mV,
//! current_mA,power_mW`, with the sketch's decimals (3, 2, 2, 2) and a shunt of
//! [`SHUNT_OHMS`]. Any line it receives makes it print the comment and header again.
//!
//! Faults (`--fault`):
//! - `partial-line`: the first bytes written are the tail of a reading;
//! - `crlf`: lines end in `\r\n`;
//! - `missing-field`: every 7th reading leaves out the shunt field;
//! - `garbage`: every 9th line is preceded by a line of bytes ≥ 0x80, like a baud
//!   mismatch;
//! - `short-reads`: every line is written in pieces with 2 ms pauses;
//! - `drop-samples`: every 10th reading is not printed;
//! - `bad-checksum`: every 11th reading has a letter in place of a digit;
//! - `reset-after=D`: after D, the banner `ina-logger: reset`, the comment and header,
//!   and the clock restarts at 0 (once);
//! - `wrap`: the clock starts 1.5 s before its 32-bit wrap;
//! - `silent-after=D`: nothing more is printed after D;
//! - `disconnect-after=D`: the port is closed after D.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::{CLOCK_WRAP_MS, EMULATOR_COMMENT, EXTENDED_HEADER};
use crate::power::meters::emulate::{EmulatorOptions, Reading};
use crate::serial::{Link, SerialError};

/// Time between readings, in ms (as in the sketch).
pub const INTERVAL_MS: u64 = 50;

/// Shunt resistance of the emulated breakout board, in Ω (the Adafruit INA219's R100).
pub const SHUNT_OHMS: f64 = 0.1;

/// Where the `wrap` fault starts the clock: 1.5 s before 2³² ms.
const WRAP_START_MS: u64 = CLOCK_WRAP_MS - 1500;

/// One reading in the extended form, as the sketch prints it.
pub fn format_line(t_ms: u32, reading: &Reading) -> String {
    let current_ma = reading.current_a * 1000.0;
    let shunt_mv = reading.current_a * SHUNT_OHMS * 1000.0;
    format!(
        "{t_ms},{:.3},{shunt_mv:.2},{current_ma:.2},{:.2}",
        reading.voltage_v,
        reading.power_w * 1000.0
    )
}

/// Runs the emulated logger until `stop` is set or a disconnect fault fires.
pub fn run(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    let faults = &options.faults;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let ending: &str = if faults.crlf { "\r\n" } else { "\n" };
    let started = Instant::now();
    let clock_start_ms = if faults.wrap { WRAP_START_MS } else { 0 };
    let mut epoch = started;
    let mut reset_done = false;
    let mut buf = [0u8; 256];
    let mut count: u64 = 0;

    if faults.partial_line {
        let line = format_line(123_456, &options.waveform.at(0.0));
        let tail = &line[line.len() / 2..];
        write_line(link, &format!("{tail}{ending}"), false)?;
    }
    write_header(link, ending)?;
    let mut next = started;
    while !stop.load(Ordering::Acquire) {
        let elapsed = started.elapsed();
        if faults.disconnect_due(elapsed) {
            return Ok(());
        }
        // Wait for the next tick, answering header requests meanwhile.
        let wait = next.saturating_duration_since(Instant::now());
        let got = link.read_some(&mut buf, wait.min(Duration::from_millis(20)))?;
        if buf[..got].contains(&b'\n') {
            write_header(link, ending)?;
        }
        if Instant::now() < next {
            continue;
        }
        // The device's own clock reads the tick's time, whenever this thread gets to write
        // the line: a busy host delays the bytes, not the logger's `millis()`.
        let tick = next;
        next += Duration::from_millis(INTERVAL_MS);
        if faults.silent_after.is_some_and(|after| elapsed >= after) {
            continue;
        }
        if let Some(after) = faults.reset_after
            && !reset_done
            && elapsed >= after
        {
            reset_done = true;
            epoch = Instant::now();
            write_line(link, &format!("ina-logger: reset{ending}"), false)?;
            write_header(link, ending)?;
        }
        count += 1;
        let since_epoch_ms = tick.saturating_duration_since(epoch).as_millis() as u64;
        let base = if reset_done { 0 } else { clock_start_ms };
        // `millis()` is 32 bits: the wrap is the device's, not ours to hide.
        let t_ms = ((base + since_epoch_ms) % CLOCK_WRAP_MS) as u32;
        let reading = options.waveform.at(elapsed.as_secs_f64());
        if faults.drop_samples && count.is_multiple_of(10) {
            continue;
        }
        if faults.garbage && count.is_multiple_of(9) {
            let junk: Vec<u8> = (0..rng.random_range(4..40))
                .map(|_| rng.random_range(0x80u8..=0xff))
                .chain(ending.bytes())
                .collect();
            link.write_all(&junk)?;
        }
        let mut line = format_line(t_ms, &reading);
        if faults.missing_field && count.is_multiple_of(7) {
            line = drop_shunt_field(&line);
        }
        if faults.bad_checksum && count.is_multiple_of(11) {
            line = line.replacen('.', "x", 1);
        }
        line.push_str(ending);
        write_line(link, &line, faults.short_reads)?;
    }
    Ok(())
}

fn write_header(link: &mut dyn Link, ending: &str) -> Result<(), SerialError> {
    let text = format!("# {EMULATOR_COMMENT}{ending}{EXTENDED_HEADER}{ending}");
    link.write_all(text.as_bytes())
}

/// Writes `line`, in three pieces with pauses when `short` (like a USB serial chip's
/// partial transfers).
fn write_line(link: &mut dyn Link, line: &str, short: bool) -> Result<(), SerialError> {
    if !short {
        return link.write_all(line.as_bytes());
    }
    let bytes = line.as_bytes();
    let third = bytes.len().div_ceil(3).max(1);
    for piece in bytes.chunks(third) {
        link.write_all(piece)?;
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// The line without its third field (the shunt voltage).
fn drop_shunt_field(line: &str) -> String {
    let fields: Vec<&str> = line.split(',').collect();
    fields
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != 2)
        .map(|(_, field)| *field)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::meters::line::{LineEvent, LineParser};

    #[test]
    fn lines_are_in_the_documented_extended_form() {
        let reading = Reading::from_current(0.1, 3.3);
        let line = format_line(1234, &reading);
        assert_eq!(line, "1234,3.300,10.00,100.00,330.00");
        let mut parser = LineParser::at_line_start();
        let events = parser.push(format!("{EXTENDED_HEADER}\n{line}\n").as_bytes());
        let LineEvent::Reading(parsed) = events[1] else {
            panic!("a reading: {events:?}")
        };
        assert_eq!(parsed.t_ms, 1234);
        assert_eq!(parsed.power_w, 0.33);
        assert_eq!(drop_shunt_field(&line), "1234,3.300,100.00,330.00");
    }
}
