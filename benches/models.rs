//! Criterion benchmarks of the model zoo: kws-dscnn inference at batch 1 on one core for
//! ReLU, Leaky ReLU and GELU, each layer's median time (printed, from the same profiled pass
//! `actprof models --layers` uses), and im2col vs direct loop on the kws-dscnn layer
//! shapes, which chose the convolution defaults in `src/models/conv.rs` and
//! `src/models/depthwise.rs`.
//!
//! `cargo bench --bench models`; filter by name, e.g. `-- conv-method`.

use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use actprof::kernels::{Activation, GeluApproximation};
use actprof::models::conv::{Conv2d, ConvMethod};
use actprof::models::depthwise::DepthwiseConv2d;
use actprof::models::init::Init;
use actprof::models::measure::{self, Cell, Settings};
use actprof::models::window::Padding;
use actprof::models::{ModelKind, ModelSpec, Shape};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const SEED: u64 = 24301;

fn activations() -> [Activation; 3] {
    [
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.01 },
        Activation::Gelu {
            approximation: GeluApproximation::Erf,
        },
    ]
}

fn kws_inference(c: &mut Criterion) {
    let mut group = c.benchmark_group("kws-dscnn/batch-1");
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for activation in activations() {
        let model = ModelSpec::new(ModelKind::KwsDscnn)
            .build(activation, SEED)
            .expect("the zoo builds");
        let input = measure::inputs(&model, 1, SEED);
        group.bench_with_input(
            BenchmarkId::from_parameter(activation.name()),
            &input,
            |b, input| b.iter(|| model.infer(black_box(input))),
        );
    }
    group.finish();
}

/// Prints each layer's median time of one kws-dscnn inference per activation.
fn kws_layers(_: &mut Criterion) {
    let settings = Settings {
        warmup: Duration::from_millis(200),
        min_time: Duration::from_millis(500),
        min_samples: 10,
        seed: SEED,
    };
    for activation in activations() {
        let cell = Cell {
            spec: ModelSpec::new(ModelKind::KwsDscnn),
            activation,
            batch: 1,
        };
        let Ok(Some(result)) =
            measure::measure(&cell, &settings, &AtomicBool::new(false), &mut |_| {})
        else {
            eprintln!("kws-dscnn × {activation}: not measured");
            continue;
        };
        println!(
            "kws-dscnn × {activation}, batch 1: median {:.2} µs per inference, activation \
             share {:.1} %; median per layer over {} profiled inferences:",
            result.timing.median_ns / 1e3,
            100.0 * result.activation_share,
            result.profiled_inferences
        );
        for (step, row) in result.steps.iter().zip(&result.summary.rows) {
            println!(
                "  {:>2}  {:<28} {:<8} {:>9.3} µs",
                step.index,
                step.layer,
                row.output.to_string(),
                step.median_ns / 1e3
            );
        }
    }
}

/// im2col + SGEMM against the direct loop on the kws-dscnn convolution shapes.
fn conv_methods(c: &mut Criterion) {
    let mut init = Init::new(SEED);
    let input_map = Shape::new(49, 10, 1);
    let map = Shape::new(25, 5, 64);
    let layers = [
        (
            "conv-10x4-s2",
            Conv2d::new(input_map, (10, 4), (2, 2), Padding::Same, 64, &mut init),
        ),
        (
            "pointwise-1x1",
            Conv2d::new(map, (1, 1), (1, 1), Padding::Same, 64, &mut init),
        ),
    ];
    let mut group = c.benchmark_group("conv-method");
    group
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300));
    for (name, conv) in layers {
        let mut conv = conv.expect("the kws shapes fit");
        let input = measure_input(&mut init, conv.window.input.len());
        for method in [ConvMethod::Im2col, ConvMethod::Direct] {
            conv.method = method;
            group.bench_function(BenchmarkId::new(name, format!("{method:?}")), |b| {
                b.iter(|| conv.forward(black_box(&input)));
            });
        }
    }
    let mut depthwise = DepthwiseConv2d::new(map, (3, 3), (1, 1), Padding::Same, &mut init)
        .expect("the kws shape fits");
    let input = measure_input(&mut init, map.len());
    for method in [ConvMethod::Im2col, ConvMethod::Direct] {
        depthwise.method = method;
        group.bench_function(
            BenchmarkId::new("depthwise-3x3", format!("{method:?}")),
            |b| {
                b.iter(|| depthwise.forward(black_box(&input)));
            },
        );
    }
    group.finish();
}

fn measure_input(init: &mut Init, len: usize) -> ndarray::Array2<f32> {
    let values: Vec<f32> = (0..len).map(|_| init.uniform(-1.0, 1.0)).collect();
    actprof::models::buffer::matrix(values, 1, len)
}

criterion_group!(benches, kws_inference, kws_layers, conv_methods);
criterion_main!(benches);
