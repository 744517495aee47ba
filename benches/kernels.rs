//! Criterion benchmarks of the f32 kernels (filled in by the kernels work).
fn main() {}
