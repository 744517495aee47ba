//! A session: one monotonic clock, the run windows measured on it, the power samples
//! recorded alongside, the crash-safe journal on disk, and the energy attributed to each
//! run.
//!
//! [`timeline`] holds the clock and what happened when; [`sampler`] polls a power source
//! on its own thread; [`journal`] writes the session to disk as it happens and reads it
//! back; [`energy`] turns samples and windows into joules per call.

pub mod decimate;
pub mod energy;
pub mod import;
pub mod journal;
pub mod powered;
pub mod sampler;
pub mod selection;
pub mod timeline;

pub use journal::{Journal, JournalError, RecordedSession, SessionMeta};
pub use powered::{CellEnergy, PoweredOutcome, PoweredPlan, SessionError, SessionEvent};
pub use sampler::{Sampler, SamplerEvent};
pub use timeline::{RunWindow, SessionClock, Timeline};
