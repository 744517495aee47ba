//! Where splitting a call across threads starts to pay: the multi-threaded path of
//! `kernels::parallel` forced to split (minimum 1 element per thread) against one thread,
//! 8K to 1M elements, in the same run. The smallest size where two threads win places
//! `PARALLEL_MIN_ELEMENTS` (f32) and `PARALLEL_MIN_CODES` (int8 tables).
//! Filter by name, e.g. `cargo bench --bench parallel -- sigmoid`.

use std::hint::black_box;
use std::time::Duration;

use actprof::kernels::int8::{QuantDType, QuantizedKernel, default_quant};
use actprof::kernels::parallel::Pool;
use actprof::kernels::{self, Activation};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 6] = [1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 18, 1 << 20];

fn f32_split(c: &mut Criterion) {
    let pool = Pool::new(2).expect("two threads");
    for activation in [Activation::Relu, Activation::Sigmoid, Activation::Tanh] {
        let mut group = c.benchmark_group(format!("{}/f32", activation.name()));
        group
            .measurement_time(Duration::from_secs(1))
            .warm_up_time(Duration::from_millis(300));
        for len in SIZES {
            let input: Vec<f32> = (0..len)
                .map(|i| ((i % 2001) as f32 - 1000.0) / 100.0)
                .collect();
            let mut output = vec![0.0_f32; len];
            group.throughput(Throughput::Elements(len as u64));
            group.bench_with_input(BenchmarkId::new("1-thread", len), &input, |b, input| {
                b.iter(|| kernels::apply(activation, black_box(input), &mut output));
            });
            group.bench_with_input(BenchmarkId::new("2-threads", len), &input, |b, input| {
                b.iter(|| {
                    pool.split(black_box(input), &mut output, 1, |input, output| {
                        kernels::apply(activation, input, output);
                    });
                });
            });
        }
        group.finish();
    }
}

fn int8_split(c: &mut Criterion) {
    let pool = Pool::new(2).expect("two threads");
    let (quant_in, quant_out) = default_quant(Activation::Sigmoid, QuantDType::I8);
    let kernel = QuantizedKernel::new(Activation::Sigmoid, QuantDType::I8, quant_in, quant_out)
        .expect("default quantization is valid");
    let mut group = c.benchmark_group("sigmoid/i8");
    group
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300));
    for len in [1 << 16, 1 << 18, 1 << 20, 1 << 22] {
        let input: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let mut output = vec![0_u8; len];
        group.throughput(Throughput::Elements(len as u64));
        group.bench_with_input(BenchmarkId::new("1-thread", len), &input, |b, input| {
            b.iter(|| kernel.apply_bytes(black_box(input), &mut output));
        });
        group.bench_with_input(BenchmarkId::new("2-threads", len), &input, |b, input| {
            b.iter(|| {
                pool.split(black_box(input), &mut output, 1, |input, output| {
                    let _ = kernel.apply_bytes(input, output);
                });
            });
        });
    }
    group.finish();
}

criterion_group!(benches, f32_split, int8_split);
criterion_main!(benches);
