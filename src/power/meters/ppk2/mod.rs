//! Nordic Power Profiler Kit II (PPK2) over its USB CDC ACM port (protocols.md §3).
//!
//! The pure parts: [`command`] (host → PPK2 bytes), [`metadata`] (the calibration text
//! read until `END`), [`calibration`] (the current formula per range), [`decoder`] (the
//! 4-byte sample words, the counter and lost data) and [`average`] (calibrated currents
//! averaged into blocks for the session). Then [`source`] (the [`crate::power::PowerSource`]
//! on a serial port), [`device`] (the emulated PPK2's state, no I/O) and [`emulator`]
//! (that device on a pty, for `actprof emulate ppk2`).

pub mod average;
pub mod calibration;
pub mod command;
pub mod decoder;
pub mod device;
pub mod emulator;
pub mod metadata;
pub mod source;

#[cfg(test)]
mod proptests;

pub use average::{Averaged, Averager};
pub use calibration::{Calibration, Modifiers};
pub use command::{Command, PowerMode, VddMv};
pub use decoder::{DecodeStats, Decoder, SAMPLE_RATE_HZ, Sink, Word};
pub use metadata::{Metadata, MetadataError, MetadataReader};
pub use source::{Ppk2Source, Settings, open};
