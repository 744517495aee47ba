//! The metadata text the PPK2 sends in reply to `GetMetadata` (protocols.md §3.3).
//!
//! Lines `key: value\n` ending with `END\n`, possibly spread over several reads. Keys are
//! matched case-insensitively (Nordic lower-cases them); a value of `-nan`, one that is
//! not a number, a missing key, and a shunt resistance `R` of 0 (some units ship with a
//! bad calibration, IRNAS ignores those) all keep the default of [`Modifiers::default`].
//! A line `EMU: actprof` marks actprof's emulator.

use super::calibration::{Modifiers, RANGES};

/// Most bytes of metadata accepted before `END`. A real unit sends about 500; anything
/// far longer is not a PPK2 answering `GetMetadata` (or it is streaming samples).
pub const MAX_METADATA_LEN: usize = 4096;

/// The line that ends the metadata.
pub const END_LINE: &str = "END";

/// What the metadata says.
#[derive(Clone, Debug, PartialEq)]
pub struct Metadata {
    /// The calibration of the five ranges, defaults where the text gave none.
    pub modifiers: Modifiers,
    /// `Calibrated:` (0 or 1), when given.
    pub calibrated: Option<bool>,
    /// `VDD:` in mV, when given.
    pub vdd_mv: Option<u16>,
    /// `HW:` hardware version, when given.
    pub hw: Option<u32>,
    /// `mode:` 1 ampere meter, 2 source meter, when given.
    pub mode: Option<u8>,
    /// `IA:`, when given.
    pub ia: Option<f64>,
    /// The emulator's tag (`EMU: actprof`), when present.
    pub emulator: Option<String>,
    /// Calibration keys that were missing or unusable and kept their default, e.g. `r4`.
    pub defaulted: Vec<String>,
}

/// Why the metadata could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// No `END` line within [`MAX_METADATA_LEN`] bytes.
    #[error(
        "no `END` line within the first {limit} bytes of the metadata (byte offset {limit}); \
         is this a PPK2, and was it still streaming?"
    )]
    TooLong { limit: usize },
}

/// Collects metadata text across reads until the `END` line.
#[derive(Clone, Debug, Default)]
pub struct MetadataReader {
    text: Vec<u8>,
}

impl MetadataReader {
    /// An empty reader.
    pub fn new() -> MetadataReader {
        MetadataReader::default()
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.text.len()
    }

    /// Adds `bytes`; the parsed metadata once the `END` line has arrived.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Metadata>, MetadataError> {
        let room = MAX_METADATA_LEN.saturating_sub(self.text.len());
        let had = self.text.len();
        self.text.extend_from_slice(&bytes[..bytes.len().min(room)]);
        // Only lines completed by this read can be the `END` line.
        let from = self.text[..had]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = self.text[from..]
            .split(|&b| b == b'\n')
            .scan(from, |start, line| {
                let at = *start;
                *start += line.len() + 1;
                Some((at, line))
            })
            .find(|(at, line)| {
                // A line is complete when a newline follows it.
                at + line.len() < self.text.len() && trim(line) == END_LINE.as_bytes()
            });
        match end {
            Some((at, _)) => Ok(Some(parse(&self.text[..at]))),
            None if self.text.len() >= MAX_METADATA_LEN => Err(MetadataError::TooLong {
                limit: MAX_METADATA_LEN,
            }),
            None => Ok(None),
        }
    }
}

fn trim(line: &[u8]) -> &[u8] {
    line.trim_ascii()
}

/// Parses the lines before `END`.
pub fn parse(bytes: &[u8]) -> Metadata {
    let text = String::from_utf8_lossy(bytes);
    let mut modifiers = Modifiers::default();
    let mut metadata = Metadata {
        modifiers: Modifiers::default(),
        calibrated: None,
        vdd_mv: None,
        hw: None,
        mode: None,
        ia: None,
        emulator: None,
        defaulted: Vec::new(),
    };
    let mut given = [[false; RANGES]; 7];
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        if key == "emu" {
            metadata.emulator = Some(value.to_owned());
            continue;
        }
        let number = number(value);
        match key.as_str() {
            "calibrated" => metadata.calibrated = number.map(|n| n != 0.0),
            "vdd" => metadata.vdd_mv = number.and_then(whole).and_then(|n| u16::try_from(n).ok()),
            "hw" => metadata.hw = number.and_then(whole).and_then(|n| u32::try_from(n).ok()),
            "mode" => metadata.mode = number.and_then(whole).and_then(|n| u8::try_from(n).ok()),
            "ia" => metadata.ia = number,
            _ => {
                if let Some((table, range)) = per_range(&key)
                    && let Some(value) = number
                    // A zero shunt resistance is a bad calibration, not a value.
                    && !(table == 0 && value == 0.0)
                {
                    table_of(&mut modifiers, table)[range] = value;
                    given[table][range] = true;
                }
            }
        }
    }
    for (table, name) in TABLES.iter().enumerate() {
        for (range, was_given) in given[table].iter().enumerate() {
            if !was_given {
                metadata.defaulted.push(format!("{name}{range}"));
            }
        }
    }
    metadata.modifiers = modifiers;
    metadata
}

/// Per-range tables in the order of [`table_of`].
const TABLES: [&str; 7] = ["r", "gs", "gi", "o", "s", "i", "ug"];

/// `("gs", 3)` for `gs3`: the table index and the range, for keys of the per-range tables.
fn per_range(key: &str) -> Option<(usize, usize)> {
    let digit = key.len().checked_sub(1)?;
    let (name, range) = key.split_at(digit);
    let range: usize = range.parse().ok()?;
    let table = TABLES.iter().position(|&t| t == name)?;
    (range < RANGES).then_some((table, range))
}

fn table_of(modifiers: &mut Modifiers, table: usize) -> &mut [f64; RANGES] {
    match table {
        0 => &mut modifiers.r,
        1 => &mut modifiers.gs,
        2 => &mut modifiers.gi,
        3 => &mut modifiers.o,
        4 => &mut modifiers.s,
        5 => &mut modifiers.i,
        _ => &mut modifiers.ug,
    }
}

/// A finite number, or `None` for `-nan`, `nan`, `inf` and text.
fn number(value: &str) -> Option<f64> {
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn whole(value: f64) -> Option<i64> {
    (value.fract() == 0.0 && value.abs() < 1e15).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real unit's metadata of protocols.md §3.3, one key per line. The notes show
    /// S1–S3 and I1–I3 only as `...`; they are left out here and must keep their default.
    const REAL: &str = "Calibrated: 0\nR0: 1003.3506\nR1: 101.5865\nR2: 10.3027\nR3: 0.9636\n\
        R4: 0.0564\nGS0: 0.0000\nGS1: 112.7890\nGS2: 18.0115\nGS3: 2.4217\nGS4: 0.0729\n\
        GI0: 1.0000\nGI1: 0.9695\nGI2: 0.9609\nGI3: 0.9519\nGI4: 0.9582\nO0: 112.9420\n\
        O1: 75.4627\nO2: 64.6020\nO3: 50.4983\nO4: 87.2177\nVDD: 3000\nHW: 9173\nmode: 2\n\
        S0: 0.000000048\nS4: 0.002940743\nI0: -0.000000104\nI4: -0.009388455\nUG0: 1.00\n\
        UG1: 1.00\nUG2: 1.00\nUG3: 1.00\nUG4: 1.00\nIA: 56\nEND\n";

    #[test]
    fn the_real_units_metadata_parses() {
        let meta = MetadataReader::new()
            .push(REAL.as_bytes())
            .expect("fits")
            .expect("complete");
        let m = &meta.modifiers;
        assert_eq!(m.r, [1003.3506, 101.5865, 10.3027, 0.9636, 0.0564]);
        assert_eq!(m.gs, [0.0, 112.789, 18.0115, 2.4217, 0.0729]);
        assert_eq!(m.gi, [1.0, 0.9695, 0.9609, 0.9519, 0.9582]);
        assert_eq!(m.o, [112.942, 75.4627, 64.602, 50.4983, 87.2177]);
        assert_eq!(m.s, [0.000000048, 0.0, 0.0, 0.0, 0.002940743]);
        assert_eq!(m.i, [-0.000000104, 0.0, 0.0, 0.0, -0.009388455]);
        assert_eq!(m.ug, [1.0; 5]);
        assert_eq!(meta.calibrated, Some(false));
        assert_eq!(meta.vdd_mv, Some(3000));
        assert_eq!(meta.hw, Some(9173));
        assert_eq!(meta.mode, Some(2));
        assert_eq!(meta.ia, Some(56.0));
        assert_eq!(meta.emulator, None);
        assert_eq!(meta.defaulted, ["s1", "s2", "s3", "i1", "i2", "i3"]);
    }

    #[test]
    fn metadata_arriving_in_pieces_completes_at_end() {
        // Every split point, including inside `END` and before its newline.
        for split in 0..=REAL.len() {
            let mut reader = MetadataReader::new();
            let (head, tail) = REAL.as_bytes().split_at(split);
            let first = reader.push(head).expect("fits");
            if split < REAL.len() {
                assert_eq!(first, None, "complete after {split} bytes");
                let meta = reader.push(tail).expect("fits").expect("complete");
                assert_eq!(meta.hw, Some(9173));
            } else {
                assert!(first.is_some());
            }
        }
        let mut reader = MetadataReader::new();
        let mut done = None;
        for byte in REAL.as_bytes() {
            assert!(done.is_none(), "complete before the last byte");
            done = reader.push(std::slice::from_ref(byte)).expect("fits");
        }
        assert_eq!(done.expect("complete").modifiers.r[0], 1003.3506);
    }

    #[test]
    fn nan_zero_and_missing_values_keep_the_defaults() {
        let text = "r0: 0\nR1: -nan\nGS2: nan\nGI3: x\nR4: 0.05\nug0: 2\nEMU: actprof\r\nEND\r\n";
        let meta = MetadataReader::new()
            .push(text.as_bytes())
            .expect("fits")
            .expect("complete");
        let defaults = Modifiers::default();
        assert_eq!(meta.modifiers.r[0], defaults.r[0]);
        assert_eq!(meta.modifiers.r[1], defaults.r[1]);
        assert_eq!(meta.modifiers.gs[2], 1.0);
        assert_eq!(meta.modifiers.gi[3], 1.0);
        assert_eq!(meta.modifiers.r[4], 0.05);
        assert_eq!(meta.modifiers.ug[0], 2.0);
        assert_eq!(meta.emulator.as_deref(), Some("actprof"));
        assert!(meta.defaulted.contains(&"r0".to_owned()));
        assert!(!meta.defaulted.contains(&"r4".to_owned()));
        assert_eq!(meta.vdd_mv, None);
    }

    #[test]
    fn an_end_inside_a_value_or_unterminated_is_not_the_end() {
        let mut reader = MetadataReader::new();
        assert_eq!(reader.push(b"HW: 1\nENDING: 2\nEND").expect("fits"), None);
        assert!(reader.push(b"\n").expect("fits").is_some());
    }

    #[test]
    fn endless_text_is_refused_with_its_offset() {
        let mut reader = MetadataReader::new();
        let mut result = Ok(None);
        for _ in 0..100 {
            result = reader.push(&[b'x'; 100]);
            if result.is_err() {
                break;
            }
        }
        let err = result.expect_err("too long");
        assert_eq!(err, MetadataError::TooLong { limit: 4096 });
        assert!(err.to_string().contains("byte offset 4096"), "{err}");
        assert_eq!(reader.received(), MAX_METADATA_LEN);
    }
}
