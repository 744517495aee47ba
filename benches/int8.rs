//! Criterion benchmarks of the quantized (int8 / uint8) activation kernels.
//!
//! - `int8_table/<activation>/<n>`: the table kernel of each activation on i8 with the
//!   default quantization (ReLU included, although its default is `max`), on the fastest
//!   instruction set, at 1K, 64K, 1M and 16M elements;
//! - `int8_max/relu/<n>`: ReLU as `max(q, zp)` on the fastest instruction set;
//! - `int8_isa/<path>/<n>`: the table (sigmoid), max and fixed-point (Leaky ReLU) kernels on
//!   every available instruction set at 64K and 1M;
//! - `int8_scalar/<activation>/65536`: each table kernel on the scalar path;
//! - `u8_table/sigmoid/65536`: the u8 table kernel.
//!
//! Throughput is in elements (one byte in, one byte out each). Inputs are pseudo-random bytes.

use std::hint::black_box;
use std::time::Duration;

use actprof::kernels::Activation;
use actprof::kernels::int8::{QuantDType, QuantIsa, QuantMethod, QuantizedKernel, default_quant};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 4] = [1 << 10, 1 << 16, 1 << 20, 1 << 24];

/// Deterministic pseudo-random bytes (xorshift), so every run sees the same input.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[5]
        })
        .collect()
}

fn kernel(act: Activation, dtype: QuantDType, method: QuantMethod) -> QuantizedKernel {
    // ReLU's default output parameters equal its input ones, so `max` applies to it.
    let (input, output) = default_quant(act, dtype);
    QuantizedKernel::with_method(act, dtype, input, output, method)
        .expect("default quantization is valid")
}

fn bench_kernel(c: &mut Criterion, group: &str, name: &str, kernel: &QuantizedKernel, n: usize) {
    let input = random_bytes(n);
    let mut output = vec![0u8; n];
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new(name, n), &input, |b, input| {
        b.iter(|| {
            kernel
                .apply_bytes(black_box(input), black_box(&mut output))
                .expect("same lengths")
        });
    });
    g.finish();
}

fn table_kernels(c: &mut Criterion) {
    for act in Activation::DEFAULT_SET {
        let k = kernel(act, QuantDType::I8, QuantMethod::Table);
        for n in SIZES {
            bench_kernel(c, "int8_table", act.name(), &k, n);
        }
    }
    let relu = kernel(Activation::Relu, QuantDType::I8, QuantMethod::Max);
    for n in SIZES {
        bench_kernel(c, "int8_max", "relu", &relu, n);
    }
}

fn paths(c: &mut Criterion) {
    let leaky = Activation::DEFAULT_SET[1];
    let cases = [
        (
            "table",
            kernel(Activation::Sigmoid, QuantDType::I8, QuantMethod::Table),
        ),
        (
            "max",
            kernel(Activation::Relu, QuantDType::I8, QuantMethod::Max),
        ),
        (
            "fixed_point",
            kernel(leaky, QuantDType::I8, QuantMethod::FixedPoint),
        ),
    ];
    for isa in QuantIsa::available() {
        for (method, k) in &cases {
            let k = k.clone().on_isa(isa).expect("listed as available");
            for n in [1 << 16, 1 << 20] {
                bench_kernel(c, "int8_isa", &format!("{method}_{isa}"), &k, n);
            }
        }
    }
    for act in Activation::DEFAULT_SET {
        let k = kernel(act, QuantDType::I8, QuantMethod::Table);
        let k = k.on_isa(QuantIsa::Scalar).expect("scalar runs anywhere");
        bench_kernel(c, "int8_scalar", act.name(), &k, 1 << 16);
    }
    let u8_sigmoid = kernel(Activation::Sigmoid, QuantDType::U8, QuantMethod::Table);
    bench_kernel(c, "u8_table", "sigmoid", &u8_sigmoid, 1 << 16);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = table_kernels, paths
}
criterion_main!(benches);
