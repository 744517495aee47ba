//! actprof: how fast and how frugal are neural-network activation functions?
//!
//! Data flows top to bottom: `kernels` (the functions and their exact reference) and
//! `models` (small networks built on them) → `harness` (timing and statistics of a plan
//! of cells) → `report` (CSV rows, reading them back, comparing two reports) → `cli`
//! (headless commands) and `gui` (the desktop app). The engine modules never import the
//! GUI.

pub mod cli;
pub mod csv_dialect;
pub mod csv_lines;
pub mod harness;
pub mod kernels;
pub mod models;
pub mod power;
pub mod report;
pub mod serial;
pub mod session;
pub mod target;
pub mod toml_error;

#[cfg(feature = "gui")]
pub mod gui;
