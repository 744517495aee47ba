//! Where a plan runs: this CPU, a board running the actprof firmware, or an MLPerf Tiny
//! device under test, each named by a [`TargetSpec`] such as `board:/dev/ttyACM0@115200`.

pub mod board;
pub mod mlperf;

use std::fmt;
use std::str::FromStr;

/// Baud rate of a board or DUT port when the spec names none.
pub const DEFAULT_BAUD: u32 = 115_200;

/// A target as the CLI, profiles and the GUI name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TargetSpec {
    /// This CPU (`local`).
    #[default]
    Local,
    /// A board running the actprof firmware (`board:PORT[@BAUD]`).
    Board(PortSpec),
    /// An MLPerf Tiny / EnergyRunner device under test (`mlperf-dut:PORT[@BAUD]`). Without
    /// `@BAUD` the reader tries 115200 and then 9600.
    MlperfDut(PortSpec),
}

/// A serial port and, if given, its baud rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    /// The port's path, e.g. `/dev/ttyACM0`.
    pub port: String,
    /// The baud rate after `@`, if the spec gave one.
    pub baud: Option<u32>,
}

impl PortSpec {
    /// The baud rate to open the port at: the given one or [`DEFAULT_BAUD`].
    pub fn baud_or_default(&self) -> u32 {
        self.baud.unwrap_or(DEFAULT_BAUD)
    }
}

/// Why a target spec was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetSpecError {
    /// The kind before `:` is not known.
    #[error("unknown target `{0}` (expected local, board:PORT[@BAUD] or mlperf-dut:PORT[@BAUD])")]
    UnknownKind(String),
    /// `board:` or `mlperf-dut:` without a port.
    #[error("target `{0}` names no serial port (e.g. `{0}/dev/ttyACM0`)")]
    MissingPort(String),
    /// The text after `@` is not a baud rate.
    #[error("bad baud rate `{baud}` in target `{spec}` (a whole number of bits per second)")]
    BadBaud { spec: String, baud: String },
}

impl FromStr for TargetSpec {
    type Err = TargetSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text == "local" {
            return Ok(TargetSpec::Local);
        }
        let Some((kind, rest)) = text.split_once(':') else {
            return Err(TargetSpecError::UnknownKind(text.to_owned()));
        };
        let make: fn(PortSpec) -> TargetSpec = match kind {
            "board" => TargetSpec::Board,
            "mlperf-dut" => TargetSpec::MlperfDut,
            _ => return Err(TargetSpecError::UnknownKind(kind.to_owned())),
        };
        let (port, baud) = match rest.rsplit_once('@') {
            Some((port, baud)) => {
                let parsed = baud.parse::<u32>().ok().filter(|&b| b > 0).ok_or_else(|| {
                    TargetSpecError::BadBaud {
                        spec: text.to_owned(),
                        baud: baud.to_owned(),
                    }
                })?;
                (port, Some(parsed))
            }
            None => (rest, None),
        };
        if port.is_empty() {
            return Err(TargetSpecError::MissingPort(format!("{kind}:")));
        }
        Ok(make(PortSpec {
            port: port.to_owned(),
            baud,
        }))
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, spec) = match self {
            TargetSpec::Local => return f.write_str("local"),
            TargetSpec::Board(spec) => ("board", spec),
            TargetSpec::MlperfDut(spec) => ("mlperf-dut", spec),
        };
        write!(f, "{kind}:{}", spec.port)?;
        if let Some(baud) = spec.baud {
            write!(f, "@{baud}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(port: &str, baud: Option<u32>) -> PortSpec {
        PortSpec {
            port: port.to_owned(),
            baud,
        }
    }

    #[test]
    fn specs_parse_and_print_back() {
        let cases = [
            ("local", TargetSpec::Local),
            (
                "board:/dev/ttyACM0",
                TargetSpec::Board(port("/dev/ttyACM0", None)),
            ),
            (
                "board:/dev/pts/3@9600",
                TargetSpec::Board(port("/dev/pts/3", Some(9600))),
            ),
            (
                "mlperf-dut:COM4@115200",
                TargetSpec::MlperfDut(port("COM4", Some(115_200))),
            ),
        ];
        for (text, want) in cases {
            let got: TargetSpec = text.parse().expect(text);
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn bad_specs_name_what_is_wrong() {
        assert_eq!(
            "gpu:0".parse::<TargetSpec>(),
            Err(TargetSpecError::UnknownKind("gpu".to_owned()))
        );
        assert_eq!(
            "board:".parse::<TargetSpec>(),
            Err(TargetSpecError::MissingPort("board:".to_owned()))
        );
        for baud in ["fast", "0", "-1", ""] {
            let err = format!("board:/dev/ttyS0@{baud}")
                .parse::<TargetSpec>()
                .expect_err("a bad baud rate is refused");
            assert!(
                matches!(err, TargetSpecError::BadBaud { .. }),
                "{baud}: {err}"
            );
        }
    }
}
