//! Meter profiles: `profiles/meters/*.toml`, one per meter model, with the serial and
//! timing settings (and scales, and SCPI commands) a reader uses.
//!
//! The shipped profiles are built into the binary, so a reader works from any folder;
//! `?profile=FILE` in a source spec reads another one instead (for a meter whose firmware
//! differs). Every field is in the file; none is guessed in code.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::polled::PollSettings;
use crate::power::{PowerError, SourceKind, SourceSpec};
use crate::toml_error::TomlErrorAt;

/// The shipped profiles, by file name.
pub const SHIPPED: [(&str, &str); 8] = [
    (
        "um24c.toml",
        include_str!("../../../profiles/meters/um24c.toml"),
    ),
    (
        "um25c.toml",
        include_str!("../../../profiles/meters/um25c.toml"),
    ),
    (
        "um34c.toml",
        include_str!("../../../profiles/meters/um34c.toml"),
    ),
    (
        "tc66c.toml",
        include_str!("../../../profiles/meters/tc66c.toml"),
    ),
    (
        "ppk2.toml",
        include_str!("../../../profiles/meters/ppk2.toml"),
    ),
    (
        "scpi.toml",
        include_str!("../../../profiles/meters/scpi.toml"),
    ),
    (
        "ina219.toml",
        include_str!("../../../profiles/meters/ina219.toml"),
    ),
    (
        "ina226.toml",
        include_str!("../../../profiles/meters/ina226.toml"),
    ),
];

/// One meter profile.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterProfile {
    /// The source kind it is for, e.g. `um25c`.
    pub meter: String,
    /// One line for people.
    pub description: String,
    /// Baud rate the port is opened at.
    pub baud: u32,
    /// Shortest time between two requests, in ms.
    pub poll_interval_ms: u64,
    /// How long to wait for a reply before asking again, in ms.
    pub reply_timeout_ms: u64,
    /// How long without a valid frame before the meter counts as gone, in ms.
    pub silence_timeout_ms: u64,
    /// How long opening waits for the first valid reading, in ms.
    pub connect_timeout_ms: u64,
    /// Pause after opening the port before the first request, in ms.
    #[serde(default)]
    pub settle_ms: u64,
    /// The meter's own update period (identical frames within it are repeats), in ms.
    #[serde(default)]
    pub update_period_ms: u64,
    /// Units per LSB of the raw fields, where the protocol's scales apply.
    #[serde(default)]
    pub scales: Option<Scales>,
    /// SCPI commands, for `scpi`.
    #[serde(default)]
    pub scpi: Option<ScpiCommands>,
}

/// Units per LSB of a meter's raw voltage, current and power fields.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scales {
    /// V per LSB.
    pub voltage_v: f64,
    /// A per LSB.
    pub current_a: f64,
    /// W per LSB.
    pub power_w: f64,
}

/// The commands an SCPI instrument is asked.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScpiCommands {
    /// Identification query.
    pub identify: String,
    /// Current query (reply in A).
    pub current: String,
    /// Voltage query (reply in V).
    pub voltage: String,
    /// Line terminator of commands and replies.
    pub terminator: String,
}

impl MeterProfile {
    /// Parses a profile from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<MeterProfile, PowerError> {
        let profile: MeterProfile = toml::from_str(text).map_err(|err| {
            let at = TomlErrorAt::locate(text, &err);
            PowerError::BadSpec {
                spec: origin.to_owned(),
                reason: format!(
                    "invalid meter profile: line {}, column {}: {}",
                    at.line, at.column, at.message
                ),
            }
        })?;
        profile.check(origin)?;
        Ok(profile)
    }

    fn check(&self, origin: &str) -> Result<(), PowerError> {
        let bad = |reason: &str| PowerError::BadSpec {
            spec: origin.to_owned(),
            reason: format!("invalid meter profile: {reason}"),
        };
        if SourceKind::from_name(&self.meter).is_none_or(|kind| !kind.is_serial_meter()) {
            return Err(bad(&format!(
                "`meter = \"{}\"` is not a meter kind",
                self.meter
            )));
        }
        if self.baud == 0 || self.poll_interval_ms == 0 || self.reply_timeout_ms == 0 {
            return Err(bad(
                "baud, poll_interval_ms and reply_timeout_ms must be > 0",
            ));
        }
        if let Some(scales) = &self.scales {
            let all = [scales.voltage_v, scales.current_a, scales.power_w];
            if all.iter().any(|scale| !(scale.is_finite() && *scale > 0.0)) {
                return Err(bad("scales must be finite and > 0"));
            }
        }
        Ok(())
    }

    /// The shipped profile named `file`.
    pub fn shipped(file: &str) -> Result<MeterProfile, PowerError> {
        let text = SHIPPED
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| *text)
            .ok_or_else(|| PowerError::BadSpec {
                spec: file.to_owned(),
                reason: "no such shipped meter profile".to_owned(),
            })?;
        MeterProfile::parse(text, &format!("profiles/meters/{file}"))
    }

    /// The profile for `spec`: `?profile=FILE` if given, else the shipped `default_file`.
    /// `known` lists the spec's other options (for refusing unknown ones).
    pub fn for_spec(
        spec: &SourceSpec,
        default_file: &str,
        known: &[&str],
    ) -> Result<MeterProfile, PowerError> {
        let profile = match spec.option("profile", known)? {
            Some(path) => {
                let text = std::fs::read_to_string(Path::new(path)).map_err(|err| {
                    PowerError::BadSpec {
                        spec: spec.to_string(),
                        reason: format!("cannot read the meter profile {path}: {err}"),
                    }
                })?;
                MeterProfile::parse(&text, path)?
            }
            None => MeterProfile::shipped(default_file)?,
        };
        if SourceKind::from_name(&profile.meter) != Some(spec.kind) {
            return Err(PowerError::BadSpec {
                spec: spec.to_string(),
                reason: format!(
                    "the meter profile is for `{}`, not `{}`",
                    profile.meter,
                    spec.kind.name()
                ),
            });
        }
        Ok(profile)
    }

    /// The timing of a polled reader; `poll_interval` (the user's) only slows it down.
    pub fn poll_settings(&self, baud: u32, poll_interval: Duration) -> PollSettings {
        let ms = Duration::from_millis;
        PollSettings {
            baud,
            settle: ms(self.settle_ms),
            request_interval: ms(self.poll_interval_ms).max(poll_interval),
            reply_timeout: ms(self.reply_timeout_ms),
            silence_timeout: ms(self.silence_timeout_ms),
            connect_timeout: ms(self.connect_timeout_ms),
            update_period: ms(self.update_period_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_profile_names_its_line_column_and_key() {
        let (_, text) = SHIPPED
            .iter()
            .find(|(file, _)| *file == "scpi.toml")
            .expect("shipped");
        let broken = text.replacen("baud = 9600", "baud = \"fast\"", 1);
        assert_ne!(&broken, text, "the shipped profile sets baud = 9600");
        let line = broken
            .lines()
            .position(|l| l.starts_with("baud ="))
            .expect("baud line")
            + 1;
        let err = MeterProfile::parse(&broken, "my-scpi.toml").expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("my-scpi.toml"), "{text}");
        assert!(
            text.contains(&format!("line {line}, column 8: key `baud`")),
            "{text}"
        );
    }

    #[test]
    fn every_shipped_profile_parses_and_names_its_meter() {
        let on_disk: Vec<String> = std::fs::read_dir("profiles/meters")
            .expect("profiles/meters")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        assert_eq!(
            on_disk.len(),
            SHIPPED.len(),
            "every file is built in: {on_disk:?}"
        );
        for (file, text) in SHIPPED {
            assert!(on_disk.iter().any(|name| name == file), "{file} on disk");
            let profile = MeterProfile::parse(text, file).expect(file);
            let stem = file.trim_end_matches(".toml");
            assert!(
                stem.starts_with(&profile.meter),
                "{file}: meter {}",
                profile.meter
            );
        }
    }

    #[test]
    fn um_scales_are_the_documented_ones() {
        // protocols.md §2.3: UM24C/UM34C 0.01 V, 1 mA; UM25C 1 mV, 0.1 mA; all 1 mW.
        let um25c = MeterProfile::shipped("um25c.toml").expect("um25c");
        let scales = um25c.scales.expect("scales");
        assert_eq!(
            (scales.voltage_v, scales.current_a, scales.power_w),
            (0.001, 0.0001, 0.001)
        );
        for file in ["um24c.toml", "um34c.toml"] {
            let scales = MeterProfile::shipped(file)
                .expect(file)
                .scales
                .expect("scales");
            assert_eq!(
                (scales.voltage_v, scales.current_a, scales.power_w),
                (0.01, 0.001, 0.001)
            );
        }
        assert_eq!(um25c.baud, 9600);
        assert_eq!(
            MeterProfile::shipped("tc66c.toml").expect("tc66c").baud,
            115_200
        );
    }

    #[test]
    fn a_broken_profile_is_refused_with_the_reason() {
        let text = "meter = \"um25c\"\ndescription = \"x\"\nbaud = 0\npoll_interval_ms = 1\n\
                    reply_timeout_ms = 1\nsilence_timeout_ms = 1\nconnect_timeout_ms = 1\n";
        let message = MeterProfile::parse(text, "mine.toml")
            .expect_err("baud 0")
            .to_string();
        assert!(message.contains("must be > 0"), "{message}");
        let unknown = format!(
            "{}colour = \"red\"\n",
            text.replace("baud = 0", "baud = 9600")
        );
        let message = MeterProfile::parse(&unknown, "mine.toml")
            .expect_err("key")
            .to_string();
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn a_profile_for_another_meter_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tc.toml");
        std::fs::write(&path, SHIPPED[3].1).expect("write");
        let spec: SourceSpec = format!("um25c:/dev/null?profile={}", path.display())
            .parse()
            .expect("spec");
        let message = MeterProfile::for_spec(&spec, "um25c.toml", &["profile"])
            .expect_err("wrong meter")
            .to_string();
        assert!(message.contains("is for `tc66c`, not `um25c`"), "{message}");
    }
}
