//! Ordinary stores into outputs that start 0, 16 or 32 bytes past a cache line.
//!
//! A slice from the allocator may start anywhere on a 16-byte grid; if the kernel then
//! stores whole vectors from the slice start, some of them straddle two cache lines. Both
//! vector drivers therefore peel the elements up to the output's first 64-byte boundary
//! (the AVX-512 driver with a masked block, `kernels::streaming` on AVX2 for ReLU and
//! Leaky ReLU). This bench times ReLU and Leaky ReLU with cached stores on every path the
//! CPU has, at 64K (in L2) and 1M elements, for the three offsets in one run.
//! Filter by name, e.g. `cargo bench --bench alignment -- avx2`.

use std::hint::black_box;
use std::time::Duration;

use actprof::kernels::{Activation, Isa, Stores, apply_with_stores};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 2] = [1 << 16, 1 << 20];

/// Bytes past a 64-byte boundary where the output starts.
const OFFSETS: [usize; 3] = [0, 16, 32];

fn alignment(c: &mut Criterion) {
    let activations = [Activation::Relu, Activation::LeakyRelu { alpha: 0.01 }];
    for (isa, activation) in Isa::available()
        .into_iter()
        .flat_map(|isa| activations.map(|activation| (isa, activation)))
    {
        let mut group = c.benchmark_group(format!("{}/{isa}", activation.name()));
        group
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500))
            .sample_size(30);
        for len in SIZES {
            let input: Vec<f32> = (0..len)
                .map(|i| ((i % 2001) as f32 - 1000.0) / 100.0)
                .collect();
            // 16 spare elements: room to start the output at any 4-byte offset in a line.
            let mut backing = vec![0.0_f32; len + 16];
            group.throughput(Throughput::Elements(len as u64));
            for offset in OFFSETS {
                let skip = (0..16)
                    .find(|&k| backing[k..].as_ptr() as usize % 64 == offset)
                    .expect("f32 slices are 4-byte aligned");
                let output = &mut backing[skip..skip + len];
                let id = BenchmarkId::new(format!("cached-{offset}B-past-line"), len);
                group.bench_with_input(id, &input, |b, input| {
                    b.iter(|| {
                        apply_with_stores(
                            isa,
                            Stores::Cached,
                            activation,
                            black_box(input),
                            output,
                        );
                        black_box(&output);
                    });
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, alignment);
criterion_main!(benches);
