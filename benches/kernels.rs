//! Criterion benchmarks of the f32 kernels: every activation of the default set at 1K, 64K,
//! 1M and 16M elements on the dispatched path, plus every available path at 64K.
//!
//! Inputs are uniform on [−10, 10] (as in the peer measurements), outputs preallocated, one
//! thread. Filter by name, e.g. `cargo bench --bench kernels -- 65536`.

use std::hint::black_box;
use std::time::Duration;

use actprof::kernels::{self, Activation, Isa};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 4] = [1 << 10, 1 << 16, 1 << 20, 1 << 24];

/// Uniform on [−10, 10] from a fixed linear congruential sequence (inputs only need to be
/// spread out and identical from run to run).
fn inputs(len: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 * 20.0 - 10.0
        })
        .collect()
}

fn dispatched(c: &mut Criterion) {
    for activation in Activation::DEFAULT_SET {
        let mut group = c.benchmark_group(format!(
            "{}/{}",
            activation.name(),
            kernels::dispatched_isa()
        ));
        group
            .measurement_time(Duration::from_secs(1))
            .warm_up_time(Duration::from_millis(300));
        for len in SIZES {
            if len >= 1 << 24 {
                group.sample_size(10);
            }
            let input = inputs(len);
            let mut output = vec![0.0_f32; len];
            group.throughput(Throughput::Elements(len as u64));
            group.bench_with_input(BenchmarkId::from_parameter(len), &input, |b, input| {
                b.iter(|| kernels::apply(activation, black_box(input), black_box(&mut output)));
            });
        }
        group.finish();
    }
}

fn per_isa(c: &mut Criterion) {
    let len = 1 << 16;
    let input = inputs(len);
    let mut output = vec![0.0_f32; len];
    for activation in Activation::DEFAULT_SET {
        let mut group = c.benchmark_group(format!("{}/by-isa", activation.name()));
        group
            .measurement_time(Duration::from_secs(1))
            .warm_up_time(Duration::from_millis(300));
        group.throughput(Throughput::Elements(len as u64));
        for isa in Isa::available() {
            group.bench_with_input(BenchmarkId::new(isa.name(), len), &input, |b, input| {
                b.iter(|| {
                    kernels::apply_with(isa, activation, black_box(input), black_box(&mut output));
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, dispatched, per_isa);
criterion_main!(benches);
