//! The report row of one model × activation cell of `actprof models` (and the app's
//! Models tab): a kernel row's columns, with `model`, `batch` and `activation_share`.

use super::row::{Row, TARGET_LOCAL};
use crate::harness::{CellResult, CellSpec, HostFacts};
use crate::kernels::Isa;
use crate::kernels::accuracy::quick_check;
use crate::models::measure::InferenceResult;

/// The report row of a timed cell: the kernel row's schema with the model columns.
pub fn row(result: &InferenceResult, host: &HostFacts, started_at_utc: &str, seed: u64) -> Row {
    let activation = result.cell.activation;
    let (max_ulp_error, max_abs_error) = quick_check(activation, Isa::detect());
    let cell = CellResult {
        spec: CellSpec::f32(activation, result.elements(), 1),
        iterations_per_sample: result.iterations_per_sample,
        threads_used: 1,
        summary: result.timing,
        max_ulp_error,
        max_abs_error,
        max_lsb_error: None,
        seed,
        span: None,
    };
    let mut row = Row::from_cell(&cell, host, started_at_utc, TARGET_LOCAL);
    row.model = Some(result.summary.name.clone());
    row.batch = Some(result.cell.batch as u64);
    row.activation_share = Some(result.activation_share);
    row
}
