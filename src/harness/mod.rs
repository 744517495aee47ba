//! The timing harness: what to run (a [`Plan`] of cells), how it is timed, and the
//! statistics of each cell.

pub mod events;
pub mod host;
pub mod plan;
pub mod quantized;
pub mod runner;
pub mod stats;

pub use events::{CellResult, Event, MeasuredSpan};
pub use host::HostFacts;
pub use plan::{CellSpec, Plan};
pub use runner::{RunOutcome, run_plan};
pub use stats::{Sample, Summary};
