//! A PPK2 on the master end of a pty (protocols.md §3.5), driven by [`Device`].
//!
//! On `GetMetadata` it sends the real unit's calibration (see [`super::device`]) plus the
//! line `EMU: actprof`, in two writes 20 ms apart. Mode, VDD and DUT power are taken
//! silently. After `AverageStart`, every 10 ms it writes the 1 000 samples of the 10 ms
//! just past (paced on absolute deadlines, so the rate is exactly 100 kS/s on average):
//! the DUT draws the waveform's current (`const:100mA@3.3V`; for a power waveform, its
//! power over its voltage, 5 V unless given), encoded into the most sensitive range with
//! the emulator's calibration. Logic input D0 is high during the second half of every
//! 10 ms block. `AverageStop` stops the stream, `Reset` resets the state.
//!
//! Faults: `short-reads` writes the stream in pieces of 1, 2, 3 and 4093 bytes in turn;
//! `drop-samples` leaves 10 samples out every 100 ms (their counter values are skipped,
//! as when the USB link loses data); `garbage` inserts one stray byte every second
//! (misaligning the stream); `bad-checksum` (the PPK2 has no checksum) flips a counter
//! bit of one sample every second; `silent-after=D` stops streaming after D;
//! `disconnect-after=D` closes the port after D.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::decoder::SAMPLE_LEN;
use super::device::{Device, Request};
use crate::power::meters::emulate::EmulatorOptions;
use crate::serial::{Link, SerialError};

/// Samples written per block.
pub const SAMPLES_PER_BLOCK: usize = 1000;

/// Time between two blocks.
pub const BLOCK_PERIOD: Duration = Duration::from_millis(10);

/// Pause between the two halves of the metadata.
pub const METADATA_GAP: Duration = Duration::from_millis(20);

/// With `drop-samples`: samples left out every [`DROP_EVERY_BLOCKS`] blocks.
pub const DROPPED_SAMPLES: usize = 10;

/// With `drop-samples`: blocks between two drops (100 ms).
pub const DROP_EVERY_BLOCKS: u64 = 10;

/// With `garbage` or `bad-checksum`: blocks between two faults (1 s).
pub const FAULT_EVERY_BLOCKS: u64 = 100;

/// Piece sizes of the stream with `short-reads` (protocols.md §3.5).
pub const SHORT_WRITES: [usize; 4] = [1, 2, 3, 4093];

/// Blocks written at once at most when the emulator fell behind.
const MAX_CATCH_UP_BLOCKS: u64 = 50;

/// Emulates a PPK2 on `link` until `stop` or a disconnect fault.
pub fn run(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    let started = Instant::now();
    let faults = &options.faults;
    let mut device = Device::new();
    let mut stream: Option<Stream> = None;
    let mut writer = Writer {
        short: faults.short_reads,
        next_piece: 0,
    };
    let mut buf = [0u8; 256];
    while !stop.load(Ordering::Acquire) {
        let elapsed = started.elapsed();
        if faults.disconnect_due(elapsed) {
            return Ok(());
        }
        let wait = stream
            .as_ref()
            .map_or(BLOCK_PERIOD, |s| {
                s.next_due().saturating_duration_since(Instant::now())
            })
            .min(BLOCK_PERIOD);
        let count = link.read_some(&mut buf, wait)?;
        for request in device.receive(&buf[..count]) {
            match request {
                Request::Metadata => send_metadata(link, &device)?,
                Request::Start => stream = Some(Stream::new(Instant::now())),
                Request::Stop | Request::Reset => stream = None,
            }
        }
        let silent = faults.silent_after.is_some_and(|after| elapsed >= after);
        if let Some(stream) = stream.as_mut().filter(|_| !silent) {
            let bytes = stream.due_bytes(&mut device, options, Instant::now());
            if !bytes.is_empty() {
                writer.write(link, &bytes)?;
            }
        }
    }
    Ok(())
}

/// Writes the metadata text in two halves, [`METADATA_GAP`] apart.
fn send_metadata(link: &mut dyn Link, device: &Device) -> Result<(), SerialError> {
    let text = device.metadata_text();
    let (first, second) = text.as_bytes().split_at(text.len() / 2);
    link.write_all(first)?;
    std::thread::sleep(METADATA_GAP);
    link.write_all(second)
}

/// The sample stream since the last `AverageStart`.
struct Stream {
    started: Instant,
    /// Blocks written so far.
    blocks: u64,
}

impl Stream {
    fn new(started: Instant) -> Stream {
        Stream { started, blocks: 0 }
    }

    /// When the next block is due: at the end of the 10 ms it covers.
    fn next_due(&self) -> Instant {
        self.started + BLOCK_PERIOD * (self.blocks + 1) as u32
    }

    /// The bytes of every block due by `now` (at most [`MAX_CATCH_UP_BLOCKS`]).
    fn due_bytes(
        &mut self,
        device: &mut Device,
        options: &EmulatorOptions,
        now: Instant,
    ) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut written = 0;
        while self.next_due() <= now && written < MAX_CATCH_UP_BLOCKS {
            self.block(device, options, &mut bytes);
            self.blocks += 1;
            written += 1;
        }
        bytes
    }

    fn block(&self, device: &mut Device, options: &EmulatorOptions, bytes: &mut Vec<u8>) {
        let faults = &options.faults;
        let block = self.blocks;
        let dropping = faults.drop_samples && block % DROP_EVERY_BLOCKS == DROP_EVERY_BLOCKS - 1;
        let stray = faults.garbage && block % FAULT_EVERY_BLOCKS == FAULT_EVERY_BLOCKS / 2;
        let corrupt = faults.bad_checksum && block % FAULT_EVERY_BLOCKS == FAULT_EVERY_BLOCKS / 4;
        let block_start_s = block as f64 * BLOCK_PERIOD.as_secs_f64();
        bytes.reserve(SAMPLES_PER_BLOCK * SAMPLE_LEN + 1);
        for k in 0..SAMPLES_PER_BLOCK {
            if dropping && (400..400 + DROPPED_SAMPLES).contains(&k) {
                device.skip(1);
                continue;
            }
            let t_s = block_start_s + k as f64 / super::decoder::SAMPLE_RATE_HZ as f64;
            let reading = options.waveform.at(t_s);
            let logic = u8::from(k >= SAMPLES_PER_BLOCK / 2);
            let mut word = device.next_word(reading.current_a, logic).to_bytes();
            if corrupt && k == 600 {
                word[2] ^= 0x10;
            }
            bytes.extend_from_slice(&word);
            if stray && k == 300 {
                bytes.push(0xA5);
            }
        }
    }
}

/// Writes the stream whole, or in the pieces of [`SHORT_WRITES`] in turn.
struct Writer {
    short: bool,
    next_piece: usize,
}

impl Writer {
    fn write(&mut self, link: &mut dyn Link, bytes: &[u8]) -> Result<(), SerialError> {
        if !self.short {
            return link.write_all(bytes);
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let size = SHORT_WRITES[self.next_piece % SHORT_WRITES.len()].min(rest.len());
            self.next_piece += 1;
            link.write_all(&rest[..size])?;
            rest = &rest[size..];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::decoder::{Decoder, Sink, Word};
    use super::*;
    use crate::power::meters::emulate::Faults;

    #[derive(Default)]
    struct Count {
        samples: u64,
        logic_high: u64,
    }

    impl Sink for Count {
        fn sample(&mut self, word: Word) {
            self.samples += 1;
            self.logic_high += u64::from(word.logic & 1);
        }

        fn lost(&mut self, _count: u32) {}
    }

    fn options(faults: &str) -> EmulatorOptions {
        EmulatorOptions {
            waveform: "const:100mA@3.3V".parse().expect("waveform"),
            faults: faults.parse::<Faults>().expect("faults"),
            ..EmulatorOptions::default()
        }
    }

    fn blocks(faults: &str, n: u64) -> (Vec<u8>, Decoder, Count) {
        let options = options(faults);
        let mut device = Device::new();
        device.receive(&[0x0C, 0x01, 0x06]);
        let start = Instant::now();
        let mut stream = Stream::new(start);
        let mut bytes = Vec::new();
        loop {
            // At most MAX_CATCH_UP_BLOCKS per call.
            let due = stream.due_bytes(&mut device, &options, start + BLOCK_PERIOD * n as u32);
            if due.is_empty() {
                break;
            }
            bytes.extend(due);
        }
        let mut decoder = Decoder::new();
        let mut count = Count::default();
        decoder.feed(&bytes, &mut count);
        (bytes, decoder, count)
    }

    #[test]
    fn blocks_hold_a_thousand_samples_each() {
        let (bytes, decoder, count) = blocks("", 20);
        assert_eq!(bytes.len(), 20 * 4000);
        assert_eq!(count.samples, 20_000);
        assert_eq!(count.logic_high, 10_000);
        assert_eq!(decoder.stats().lost, 0);
    }

    #[test]
    fn dropped_samples_are_ten_every_hundred_ms() {
        let (bytes, decoder, _) = blocks("drop-samples", 20);
        assert_eq!(bytes.len(), 20 * 4000 - 2 * 10 * 4);
        assert_eq!(decoder.stats().lost, 20);
    }

    #[test]
    fn a_stray_byte_comes_once_a_second() {
        let (bytes, decoder, _) = blocks("garbage", 100);
        assert_eq!(bytes.len(), 100 * 4000 + 1);
        let stats = decoder.stats();
        assert_eq!(stats.realignments, 1, "{stats:?}");
    }
}
