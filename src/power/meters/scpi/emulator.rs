//! A bench supply answering SCPI on the master side of a pty: `actprof emulate scpi`.
//!
//! Commands end in `\n` or `\r\n` and match in short or long form, any case
//! ([`header_matches`]). `*IDN?` answers [`IDENTITY`] (manufacturer `EMU`, which labels
//! the reader's source emulated); `MEASure:CURRent[:DC]?`, `MEASure:VOLTage[:DC]?` and
//! `MEASure:POWer[:DC]?` answer the waveform's value now, in A, V and W. Current replies
//! alternate between plain (`0.100000`) and scientific notation (`1.000000E-01`), so a
//! reader meets both. Anything else gets no reply, as on an instrument that queues an
//! error instead.
//!
//! Faults (`--fault`):
//! - `garbage`: every 5th reply starts with bytes ≥ 0x80, and every 7th is followed by a
//!   line of them;
//! - `short-reads`: replies are written in pieces with 3 ms pauses;
//! - `drop-samples`: every 10th measurement query gets no reply;
//! - `bad-checksum`: every 11th measurement reply has a letter in place of a digit;
//! - `silent-after=D`: no replies after D;
//! - `disconnect-after=D`: the port is closed after D;
//! - `--reply-delay D`: each reply waits D.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{LineFramer, MAX_LINE_LEN, header_matches, reply_text};
use crate::power::meters::emulate::EmulatorOptions;
use crate::power::meters::text::Framed;
use crate::serial::{Link, SerialError};

/// The emulator's `*IDN?` reply.
pub const IDENTITY: &str = "EMU,PSU-1,0,1.0";

/// What a command asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// `*IDN?`.
    Identity,
    /// Measured current in A.
    Current,
    /// Measured voltage in V.
    Voltage,
    /// Measured power in W.
    Power,
}

/// The query a command line is, if the emulator knows it.
pub fn classify(command: &str) -> Option<Query> {
    [
        ("*IDN?", Query::Identity),
        ("MEASure:CURRent[:DC]?", Query::Current),
        ("MEASure:VOLTage[:DC]?", Query::Voltage),
        ("MEASure:POWer[:DC]?", Query::Power),
    ]
    .into_iter()
    .find(|(pattern, _)| header_matches(pattern, command))
    .map(|(_, query)| query)
}

/// Runs the emulated supply until `stop` is set or a disconnect fault fires.
pub fn run(
    link: &mut dyn Link,
    options: &EmulatorOptions,
    stop: &AtomicBool,
) -> Result<(), SerialError> {
    let faults = &options.faults;
    let started = Instant::now();
    let mut framer = LineFramer::new(MAX_LINE_LEN);
    let mut buf = [0u8; 512];
    let mut replies: u64 = 0;
    let mut measurements: u64 = 0;
    let mut currents: u64 = 0;
    while !stop.load(Ordering::Acquire) {
        let elapsed = started.elapsed();
        if faults.disconnect_due(elapsed) {
            return Ok(());
        }
        let count = link.read_some(&mut buf, Duration::from_millis(20))?;
        for framed in framer.push(&buf[..count]) {
            let Framed::Line(line) = framed else {
                continue;
            };
            let Ok(command) = reply_text(&line) else {
                continue;
            };
            let Some(query) = classify(command) else {
                tracing::debug!("no reply to unknown command `{command}`");
                continue;
            };
            if faults
                .silent_after
                .is_some_and(|after| started.elapsed() >= after)
            {
                continue;
            }
            let reading = options.waveform.at(started.elapsed().as_secs_f64());
            let mut text = match query {
                Query::Identity => IDENTITY.to_owned(),
                Query::Current => {
                    currents += 1;
                    if currents.is_multiple_of(2) {
                        format!("{:.6E}", reading.current_a)
                    } else {
                        format!("{:.6}", reading.current_a)
                    }
                }
                Query::Voltage => format!("{:.6}", reading.voltage_v),
                Query::Power => format!("{:.6}", reading.power_w),
            };
            if query != Query::Identity {
                measurements += 1;
                if faults.drop_samples && measurements.is_multiple_of(10) {
                    continue;
                }
                if faults.bad_checksum && measurements.is_multiple_of(11) {
                    text = text.replacen('0', "O", 1);
                }
            }
            replies += 1;
            let mut reply = Vec::new();
            if faults.garbage && replies.is_multiple_of(5) {
                reply.extend_from_slice(&[0xaa, 0xd5, 0xfe]);
            }
            reply.extend_from_slice(text.as_bytes());
            reply.push(b'\n');
            if faults.garbage && replies.is_multiple_of(7) {
                reply.extend_from_slice(&[0x9c, 0xe1, 0x80, 0xb3, b'\n']);
            }
            if let Some(delay) = options.reply_delay {
                std::thread::sleep(delay);
            }
            write_reply(link, &reply, faults.short_reads)?;
        }
    }
    Ok(())
}

fn write_reply(link: &mut dyn Link, reply: &[u8], short: bool) -> Result<(), SerialError> {
    if !short {
        return link.write_all(reply);
    }
    for piece in reply.chunks(reply.len().div_ceil(3).max(1)) {
        link.write_all(piece)?;
        std::thread::sleep(Duration::from_millis(3));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_in_any_documented_form() {
        assert_eq!(classify("*IDN?"), Some(Query::Identity));
        assert_eq!(classify("meas:curr?"), Some(Query::Current));
        assert_eq!(classify("MEASure:CURRent:DC?"), Some(Query::Current));
        assert_eq!(classify("MEAS:VOLT?"), Some(Query::Voltage));
        assert_eq!(classify("MEAS:POW?"), Some(Query::Power));
        assert_eq!(classify("VOLT?"), None);
        assert_eq!(classify("SYST:ERR?"), None);
    }
}
