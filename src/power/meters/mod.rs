//! Power meters on serial ports, one file (or folder) per meter, each with an emulator
//! that speaks the same bytes on a pseudo-terminal.
//!
//! Every reader follows the same rules: the port is opened exclusively; an open port is
//! not yet a connected meter, so `open` waits for a first valid reading and says which
//! step failed ([`ConnectStep`]); a corrupt frame is dropped and counted, never turned
//! into a sample; a quiet meter is asked again and, when it stays quiet, reported as
//! [`MeterError::Silent`]; a closed port is a disconnect, which the session sampler
//! retries. [`emulate`] holds what the emulators share (waveforms, faults).

pub mod emulate;
pub mod line;
pub mod polled;
pub mod ppk2;
pub mod profile;
pub mod scan;
pub mod scpi;
pub mod tc66c;
pub mod tc66c_emulator;
pub mod text;
pub mod um;
pub mod um_emulator;

use std::fmt;

use crate::serial::hex;

/// How many of the last bytes received a [`Seen`] keeps for messages.
const SEEN_TAIL: usize = 16;

/// The step of connecting to a meter that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectStep {
    /// Opening the port.
    Open,
    /// Sending the first request.
    Request,
    /// Waiting for any reply byte.
    Reply,
    /// Waiting for a reply that forms a valid frame.
    Frame,
}

impl fmt::Display for ConnectStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectStep::Open => "opening the port",
            ConnectStep::Request => "sending the first request",
            ConnectStep::Reply => "waiting for a reply (no byte came back)",
            ConnectStep::Frame => "waiting for a valid frame (bytes came, none formed one)",
        })
    }
}

/// What a reader has received from a port, for messages: counts and the last bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Bytes received.
    pub bytes: u64,
    /// Bytes skipped while looking for the start of a frame.
    pub skipped: u64,
    /// Frames dropped for a bad trailer, checksum or CRC.
    pub rejected: u64,
    /// Valid frames decoded.
    pub frames: u64,
    /// Valid frames dropped as repeats of the previous reading.
    pub duplicates: u64,
    /// The last bytes received (at most 16).
    pub tail: Vec<u8>,
}

impl Seen {
    /// Counts `bytes` as received and keeps the last of them.
    pub fn received(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        let keep = bytes.len().min(SEEN_TAIL);
        self.tail.extend_from_slice(&bytes[bytes.len() - keep..]);
        let excess = self.tail.len().saturating_sub(SEEN_TAIL);
        self.tail.drain(..excess);
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes == 0 {
            return f.write_str("received nothing");
        }
        write!(
            f,
            "received {} bytes: {} valid frames, {} dropped for a bad checksum, {} bytes \
             skipped; last bytes {}",
            self.bytes,
            self.frames,
            self.rejected,
            self.skipped,
            hex(&self.tail)
        )
    }
}

/// A meter that does not behave as its protocol says.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    /// The port opened but no valid reading came within the connect timeout.
    #[error(
        "no {meter} answered: {step} failed after {waited_s:.1} s ({seen}){}; check that \
         the meter is on, that this is its port and that the model is right: {port}",
        hint.as_ref().map(|hint| format!("; {hint}")).unwrap_or_default()
    )]
    NotConnected {
        meter: &'static str,
        step: ConnectStep,
        waited_s: f64,
        seen: Seen,
        hint: Option<String>,
        port: String,
    },

    /// A connected meter stopped answering.
    #[error(
        "the {meter} stopped answering: no valid frame for {waited_s:.1} s after {retries} \
         requests ({seen}): {port}"
    )]
    Silent {
        meter: &'static str,
        waited_s: f64,
        retries: u32,
        seen: Seen,
        port: String,
    },

    /// The meter's port went away mid-recording (cable pulled, meter switched off).
    #[error("the {meter} disconnected ({what}); before that, {seen}: {port}")]
    Disconnected {
        meter: &'static str,
        what: String,
        seen: Seen,
        port: String,
    },

    /// A frame failed its checks and was dropped (logged and counted, not fatal).
    #[error("dropped a {meter} frame at byte {offset} of the stream ({reason}): {port}")]
    BadFrame {
        meter: &'static str,
        offset: u64,
        reason: String,
        port: String,
    },
}

impl MeterError {
    /// True when reopening the meter may bring it back.
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self,
            MeterError::Silent { .. } | MeterError::Disconnected { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keeps_counts_and_the_last_sixteen_bytes() {
        let mut seen = Seen::default();
        assert_eq!(seen.to_string(), "received nothing");
        seen.received(&[1, 2, 3]);
        seen.received(&(0..20).collect::<Vec<u8>>());
        assert_eq!(seen.bytes, 23);
        assert_eq!(seen.tail, (4..20).collect::<Vec<u8>>());
        seen.received(&[0xff]);
        assert_eq!(seen.tail.len(), 16);
        assert_eq!(seen.tail.last(), Some(&0xff));
        assert!(seen.to_string().ends_with("0f 10 11 12 13 ff"), "{seen}");
    }

    #[test]
    fn a_silent_meter_is_retried_and_a_missing_one_is_not() {
        let silent = MeterError::Silent {
            meter: "UM25C",
            waited_s: 5.0,
            retries: 4,
            seen: Seen::default(),
            port: "/dev/pts/7".into(),
        };
        assert!(silent.is_disconnect());
        assert!(silent.to_string().ends_with("/dev/pts/7"), "{silent}");
        let missing = MeterError::NotConnected {
            meter: "UM25C",
            step: ConnectStep::Reply,
            waited_s: 2.0,
            seen: Seen::default(),
            hint: Some("the frames are a UM24C's".into()),
            port: "/dev/pts/7".into(),
        };
        assert!(!missing.is_disconnect());
        let message = missing.to_string();
        assert!(
            message.contains("waiting for a reply (no byte came back) failed"),
            "{message}"
        );
    }
}
