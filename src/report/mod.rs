//! CSV reports: one tidy row per measured cell, written, read back and compared.

pub mod compare;
pub mod csv;
pub mod dut;
pub mod epochs;
pub mod model_row;
pub mod row;

pub use compare::{
    CellKey, CompareError, CompareReport, Comparison, Verdict, compare, parse_noise,
};
pub use csv::{ReportError, read_file, read_rows, write_file, write_rows};
pub use epochs::{EpochRow, read_epochs_file, write_epochs_file};
pub use row::{COLUMNS, Row};
