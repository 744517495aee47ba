//! Nordic Power Profiler Kit II (PPK2) over its USB CDC ACM port (protocols.md §3).
//!
//! The pure parts: [`command`] (host → PPK2 bytes), [`metadata`] (the calibration text
//! read until `END`), [`calibration`] (the current formula per range), [`decoder`] (the
//! 4-byte sample words, the counter and lost data) and [`average`] (calibrated currents
//! averaged into blocks for the session).

pub mod average;
pub mod calibration;
pub mod command;
pub mod decoder;
pub mod device;
pub mod metadata;

#[cfg(test)]
mod proptests;

pub use average::{Averaged, Averager};
pub use calibration::{Calibration, Modifiers};
pub use command::{Command, PowerMode, VddMv};
pub use decoder::{DecodeStats, Decoder, SAMPLE_RATE_HZ, Sink, Word};
pub use metadata::{Metadata, MetadataError, MetadataReader};
