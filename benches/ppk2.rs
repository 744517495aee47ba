//! Criterion benchmark of the PPK2 sample decoder (bar: 5 M samples/s on one core, 50x
//! the PPK2's 100 kS/s).
//!
//! One second of stream (100 000 words, 400 kB) with the range switching and the logic
//! inputs toggling, fed in 4 000-byte reads (what the PPK2 sends every 10 ms):
//! `ppk2/decode_1s`: the words decoded and counter-checked into a sink that only sums;
//! `ppk2/decode_average_1s`: the whole path of the source, decoded, calibrated and
//! averaged into 1 kS/s blocks.

use std::hint::black_box;
use std::time::Duration;

use actprof::power::meters::ppk2::{Averager, Calibration, Decoder, Modifiers, Sink, Word};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SAMPLES: usize = 100_000;
const READ: usize = 4_000;

fn one_second() -> Vec<u8> {
    (0..SAMPLES)
        .flat_map(|k| {
            Word {
                adc: (k * 7919 % 16_384) as u16,
                range: ((k / 5000) % 5) as u8,
                counter: (k % 64) as u8,
                logic: (k / 100) as u8,
            }
            .to_bytes()
        })
        .collect()
}

/// Sums what it gets, so the decoding cannot be optimised away.
#[derive(Default)]
struct Sum {
    adc: u64,
    lost: u64,
}

impl Sink for Sum {
    fn sample(&mut self, word: Word) {
        self.adc += u64::from(word.adc);
    }

    fn lost(&mut self, count: u32) {
        self.lost += u64::from(count);
    }
}

fn decode(c: &mut Criterion) {
    let stream = one_second();
    let calibration = Calibration::new(&Modifiers::default(), 3300);
    let mut group = c.benchmark_group("ppk2");
    group
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(SAMPLES as u64));
    group.bench_function("decode_1s", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new();
            let mut sum = Sum::default();
            for read in stream.chunks(READ) {
                decoder.feed(black_box(read), &mut sum);
            }
            black_box((sum.adc, sum.lost))
        });
    });
    group.bench_function("decode_average_1s", |b| {
        let mut out = Vec::with_capacity(2_000);
        b.iter(|| {
            let mut decoder = Decoder::new();
            let mut averager = Averager::new(calibration.clone(), 100);
            out.clear();
            for read in stream.chunks(READ) {
                decoder.feed(black_box(read), &mut averager);
                averager.drain_into(&mut out);
            }
            black_box(out.len())
        });
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
