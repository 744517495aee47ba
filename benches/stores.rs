//! Ordinary against non-temporal stores, to place `kernels::STREAMING_MIN_ELEMENTS`.
//!
//! ReLU (memory-bound) and sigmoid (compute-bound at small sizes) on the dispatched path,
//! one thread, from 1M to 16M elements, once with `Stores::Cached` and once with
//! `Stores::Streaming` in the same run. Streaming pays off once input and output no longer
//! fit in the last-level cache; below that it forces data out that the next call reads.
//! Filter by name, e.g. `cargo bench --bench stores -- relu`.

use std::hint::black_box;
use std::time::Duration;

use actprof::kernels::{Activation, Isa, Stores, apply_with_stores};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 4] = [1 << 20, 1 << 21, 1 << 22, 1 << 24];

fn stores(c: &mut Criterion) {
    let isa = Isa::detect();
    for activation in [Activation::Relu, Activation::Sigmoid] {
        let mut group = c.benchmark_group(format!("{}/{isa}", activation.name()));
        group
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500))
            .sample_size(20);
        for len in SIZES {
            let input: Vec<f32> = (0..len)
                .map(|i| ((i % 2001) as f32 - 1000.0) / 100.0)
                .collect();
            let mut output = vec![0.0_f32; len];
            group.throughput(Throughput::Elements(len as u64));
            for (name, kind) in [("cached", Stores::Cached), ("streaming", Stores::Streaming)] {
                group.bench_with_input(BenchmarkId::new(name, len), &input, |b, input| {
                    b.iter(|| {
                        apply_with_stores(isa, kind, activation, black_box(input), &mut output);
                        black_box(&output);
                    });
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, stores);
criterion_main!(benches);
