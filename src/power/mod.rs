//! Power sources: where the watts and joules of a session come from.
//!
//! A [`PowerSource`] is opened from a [`SourceSpec`] (`rapl`, `rapl:package-0`, `battery`),
//! started, polled by a sampler thread for timestamped [`PowerSample`]s on the session
//! clock, and stopped. One backend per file: [`rapl`] (Linux powercap energy counters) and
//! [`battery`] (the laptop battery's discharge, coarse). A source that cannot measure says
//! so with a [`PowerError`] naming it and why; there is no estimate to fall back on.

pub mod battery;
pub mod counter;
pub mod error;
pub mod meters;
pub mod rapl;
pub mod source;
pub mod sysfs;

pub use error::PowerError;
pub use source::{
    Clock, EMULATED_PREFIX, PowerSample, PowerSource, Quantity, Resolution, SourceInfo, SourceKind,
    SourceSpec, open,
};
