//! MLPerf Tiny / EEMBC EnergyRunner devices under test: the serial protocol of the
//! reference firmware (`mlcommons/tiny` `benchmark/api/`), a host session over a
//! [`Link`](crate::serial::Link), MLPerf Tiny's latency scoring, and an emulated DUT for
//! tests.
//!
//! Data flows [`protocol`] (lines ⇄ typed messages, commands → bytes) → [`client`] (one
//! DUT session: flush, identify, download, infer) → [`latency`] (calibration and the timed
//! windows) → [`score`] (median throughput, latency per inference). [`model`] holds what
//! the host must know of each benchmark model; [`emulator`] is the fake DUT that
//! `actprof emulate mlperf-dut` runs on a pseudo-terminal.

pub mod client;
pub mod emulator;
pub mod error;
pub mod latency;
pub mod model;
pub mod protocol;
pub mod score;

#[cfg(test)]
mod testing;

pub use client::{ClientConfig, DutClient, DutError, DutErrorKind, DutInfo, Inference};
pub use latency::{LatencyEvent, LatencyOutcome, LatencyPlan, run_latency};
pub use model::{Element, MODELS, Model};
pub use protocol::TimestampMode;
pub use score::{Score, WindowResult};
