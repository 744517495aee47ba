//! The faults the emulated DUT injects on purpose (`--fault`, comma-separated), each a
//! way real boards and hosts have been seen to go wrong.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::harness::plan::{format_duration, parse_duration};

/// How long `slow-ready` keeps the DUT booting: past EEMBC's 2 s for `name%`.
pub const DEFAULT_SLOW_READY: Duration = Duration::from_millis(2500);

/// The fault names and what they take, for messages and `--help`.
pub const FAULT_NAMES: &str = "stale, garbage, lf, wrap, unprefixed, drop-ready[=K], \
                               slow-ready[=D], reset[=K], silent-after=D, \
                               disconnect-after=D, echo";

/// Faults of the emulated DUT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DutFaults {
    /// `stale`: a half command (`db 3f2a1`) sits in the command buffer at start, as after
    /// a host that died mid-download; only a flush with a lone `%` clears it.
    pub stale: bool,
    /// `garbage`: a 0xFF byte (never UTF-8) before about one line in four.
    pub garbage: bool,
    /// `lf`: lines end in `\n` only.
    pub lf: bool,
    /// `wrap`: the 32-bit µs timer wraps between the two stamps of every `infer`.
    pub wrap: bool,
    /// `unprefixed`: the input buffer holds half the model's input, so `db load` gets the
    /// firmware's unprefixed "Supplied buffer size … exceeds maximum of …" line.
    pub unprefixed: bool,
    /// `drop-ready=K`: the K-th `infer` (from 1) ends without its final `m-ready`.
    pub drop_ready: Option<u32>,
    /// `slow-ready=D`: booting takes D (default 2.5 s): commands before then are
    /// swallowed silently, as by a parser not yet enabled, and the boot banner with its
    /// `m-ready` comes only then.
    pub slow_ready: Option<Duration>,
    /// `reset=K`: the DUT reboots in the middle of the K-th `infer` (from 1) and prints its
    /// boot banner instead of the rest.
    pub reset: Option<u32>,
    /// `silent-after=D`: nothing is printed after D.
    pub silent_after: Option<Duration>,
    /// `disconnect-after=D`: the port is closed after D.
    pub disconnect_after: Option<Duration>,
    /// `echo`: every command comes back as a line (`name%`) before its reply.
    pub echo: bool,
}

/// A `--fault` entry that is not one of [`FAULT_NAMES`] or has a bad value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad fault `{text}` for mlperf-dut: {reason}")]
pub struct DutFaultError {
    /// The entry.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl FromStr for DutFaults {
    type Err = DutFaultError;

    fn from_str(text: &str) -> Result<DutFaults, DutFaultError> {
        let mut faults = DutFaults::default();
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let bad = |reason: String| DutFaultError {
                text: item.to_owned(),
                reason,
            };
            let duration = |value: &str| parse_duration(value).map_err(|err| bad(err.to_string()));
            let ordinal = |value: &str| match value.parse::<u32>() {
                Ok(k) if k >= 1 => Ok(k),
                _ => Err(bad("K counts infer commands from 1".to_owned())),
            };
            let (name, value) = match item.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (item, None),
            };
            match (name, value) {
                ("stale", None) => faults.stale = true,
                ("garbage", None) => faults.garbage = true,
                ("lf", None) => faults.lf = true,
                ("wrap", None) => faults.wrap = true,
                ("unprefixed", None) => faults.unprefixed = true,
                ("echo", None) => faults.echo = true,
                ("drop-ready", None) => faults.drop_ready = Some(1),
                ("drop-ready", Some(k)) => faults.drop_ready = Some(ordinal(k)?),
                ("reset", None) => faults.reset = Some(1),
                ("reset", Some(k)) => faults.reset = Some(ordinal(k)?),
                ("slow-ready", None) => faults.slow_ready = Some(DEFAULT_SLOW_READY),
                ("slow-ready", Some(d)) => faults.slow_ready = Some(duration(d)?),
                ("silent-after", Some(d)) => faults.silent_after = Some(duration(d)?),
                ("disconnect-after", Some(d)) => faults.disconnect_after = Some(duration(d)?),
                _ => return Err(bad(format!("known faults: {FAULT_NAMES}"))),
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for DutFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = [
            (self.stale, "stale"),
            (self.garbage, "garbage"),
            (self.lf, "lf"),
            (self.wrap, "wrap"),
            (self.unprefixed, "unprefixed"),
            (self.echo, "echo"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_owned())
        .collect();
        let counted = [("drop-ready", self.drop_ready), ("reset", self.reset)];
        for (name, k) in counted {
            if let Some(k) = k {
                names.push(format!("{name}={k}"));
            }
        }
        let timed = [
            ("slow-ready", self.slow_ready),
            ("silent-after", self.silent_after),
            ("disconnect-after", self.disconnect_after),
        ];
        for (name, after) in timed {
            if let Some(after) = after {
                names.push(format!("{name}={}", format_duration(after)));
            }
        }
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print_back() {
        let faults: DutFaults = "stale, garbage,lf,wrap,unprefixed,echo,drop-ready=3,\
                                 reset,slow-ready,silent-after=2s,disconnect-after=500ms"
            .parse()
            .expect("parses");
        assert!(faults.stale && faults.garbage && faults.lf && faults.wrap);
        assert!(faults.unprefixed && faults.echo);
        assert_eq!(faults.drop_ready, Some(3));
        assert_eq!(faults.reset, Some(1));
        assert_eq!(faults.slow_ready, Some(DEFAULT_SLOW_READY));
        assert_eq!(faults.silent_after, Some(Duration::from_secs(2)));
        assert_eq!(faults.disconnect_after, Some(Duration::from_millis(500)));
        let again: DutFaults = faults.to_string().parse().expect("round trip");
        assert_eq!(again, faults);
        assert_eq!("".parse::<DutFaults>(), Ok(DutFaults::default()));
    }

    #[test]
    fn bad_faults_are_refused_by_name() {
        for (text, reason) in [
            ("sparks", "known faults: stale"),
            ("drop-ready=0", "from 1"),
            ("reset=x", "from 1"),
            ("silent-after", "known faults"),
            ("slow-ready=soon", "slow-ready=soon"),
            ("echo=1", "known faults"),
        ] {
            let message = text.parse::<DutFaults>().expect_err(text).to_string();
            assert!(message.contains(reason), "{text}: {message}");
        }
    }
}
