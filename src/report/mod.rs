//! CSV reports: one tidy row per measured cell, written and read back.

pub mod row;

pub use row::Row;
