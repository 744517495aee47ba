//! Min/max decimation of a 10M-sample trace to 1200 pixel columns: the cost of redrawing
//! the Power tab's trace after a zoom or pan (bar: under 5 ms).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use actprof::session::decimate::Envelope;

const SAMPLES: usize = 10_000_000;
const COLUMNS: usize = 1200;

fn trace() -> Envelope {
    // 10 kHz for 1000 s of a wavy power with a slow drift; the values only need variety.
    let times: Vec<f64> = (0..SAMPLES).map(|i| i as f64 * 1e-4).collect();
    let values: Vec<f64> = times
        .iter()
        .map(|t| 10.0 + (t * 3.0).sin() + 0.001 * t)
        .collect();
    Envelope::from_points(&times, &values).expect("times increase")
}

fn decimate(c: &mut Criterion) {
    let envelope = trace();
    let (start, end) = envelope.time_span().expect("samples");
    c.bench_function("decimate 10M to 1200 columns, whole trace", |b| {
        b.iter(|| black_box(envelope.decimate(black_box(start), black_box(end), COLUMNS)));
    });
    let (zoom_start, zoom_end) = (start + 0.3 * (end - start), start + 0.35 * (end - start));
    c.bench_function("decimate 10M to 1200 columns, 5% window", |b| {
        b.iter(|| black_box(envelope.decimate(zoom_start, zoom_end, COLUMNS)));
    });
    c.bench_function("build the envelope of 10M samples", |b| {
        b.iter_with_large_drop(trace);
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = decimate
}
criterion_main!(benches);
