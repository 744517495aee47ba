//! Criterion benchmark of the session journal's trace writer.
//!
//! `journal/append_1s_at_100kHz`: appends one second's worth of samples of a 100 kHz
//! current/voltage meter (100 000 samples, in batches of 1 000 as a sampler thread would
//! hand them over) to a fresh journal on disk, flushes, and stops. The time per iteration
//! is the CPU time the journal costs per second of recording; the bar is 50 ms (5 % of
//! one core). Values carry full f64 precision, the slowest case for number formatting.

use std::hint::black_box;
use std::time::Duration;

use actprof::harness::HostFacts;
use actprof::power::{PowerSample, Quantity, Resolution, SourceInfo};
use actprof::session::{Journal, SessionMeta};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const RATE_HZ: usize = 100_000;
const BATCH: usize = 1_000;

fn one_second_of_samples() -> Vec<PowerSample> {
    (0..RATE_HZ)
        .map(|k| {
            let t_s = k as f64 / RATE_HZ as f64;
            // Irrational steps give every value all 17 significant digits.
            let current_a = 0.2 + (k as f64 * 0.618_033_988_749_894_9).fract() * 0.05;
            let voltage_v = 5.0 + (k as f64 * 0.414_213_562_373_095_1).fract() * 0.01;
            PowerSample {
                current_a: Some(current_a),
                voltage_v: Some(voltage_v),
                ..PowerSample::power(t_s, current_a * voltage_v)
            }
        })
        .collect()
}

fn meta() -> SessionMeta {
    SessionMeta {
        command: vec!["bench".to_owned()],
        plan: None,
        host: HostFacts::default(),
        sources: vec![SourceInfo {
            spec: "bench".to_owned(),
            description: "synthetic 100 kHz meter".to_owned(),
            quantity: Quantity::CurrentVoltage,
            rate_hz: RATE_HZ as f64,
            resolution: Resolution::PowerW(1e-6),
            coarse: false,
            clock_offset_s: None,
        }],
        actprof_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: "2026-01-01T00:00:00.000Z".to_owned(),
        ended_at: None,
        gaps: Vec::new(),
    }
}

fn journal(c: &mut Criterion) {
    let samples = one_second_of_samples();
    let mut group = c.benchmark_group("journal");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(RATE_HZ as u64));
    group.bench_function("append_1s_at_100kHz", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                let journal = Journal::create(dir.path(), meta()).expect("journal");
                (dir, journal)
            },
            |(dir, mut journal)| {
                for batch in samples.chunks(BATCH) {
                    journal.append_samples(black_box(batch)).expect("append");
                }
                journal.flush().expect("flush");
                (dir, journal)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, journal);
criterion_main!(benches);
