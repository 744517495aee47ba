//! SCPI instruments (bench supplies, DMMs) polled over a serial port.
//!
//! # Protocol
//!
//! SCPI commands are ASCII lines ending in `\n` (most instruments also accept `\r\n`);
//! keywords are case-insensitive and have a short form (the upper-case part of
//! `MEASure:CURRent?`). `*IDN?` answers four comma-separated fields, manufacturer, model,
//! serial (or `0`) and firmware, e.g. `ARRAY,3662A,0,1.3-1.0-1.5`. `MEAS:CURR?` and
//! `MEAS:VOLT?` answer one number in A or V, plain (`0.012345`) or scientific
//! (`1.2345E-02`), and a newline. `VOLT?` / `CURR?` without `MEAS` return the setpoint,
//! not the measurement, so they are not the defaults. (Array 366x manual pp. 35–46,
//! TDK-Lambda Genesys manual §2.2; see `protocols.md` §6.1.)
//!
//! This file holds the pure protocol: commands as bytes, number and `*IDN?` parsing,
//! and SCPI header matching (long and short forms) for the emulator; replies are framed
//! by [`LineFramer`]. [`source`] is the polled power source and [`emulator`] a bench
//! supply on a pseudo-terminal.

use std::fmt;

pub use super::text::{Framed, LineFramer};

pub mod emulator;
pub mod source;

/// Longest reply line accepted, in bytes, newline excluded. `*IDN?` replies are well
/// under 100 bytes and a number under 30; anything longer is not a reply.
pub const MAX_LINE_LEN: usize = 256;

/// Identification query.
pub const IDN_QUERY: &str = "*IDN?";

/// Default current query (answer in A).
pub const DEFAULT_CURRENT_QUERY: &str = "MEAS:CURR?";

/// Default voltage query (answer in V).
pub const DEFAULT_VOLTAGE_QUERY: &str = "MEAS:VOLT?";

/// Manufacturer field by which actprof's emulator identifies itself in `*IDN?`.
pub const EMULATOR_MANUFACTURER: &str = "EMU";

/// SCPI's "overflow" value (9.9E37, and 9.91E37 for "not a number"): an instrument that
/// is over range answers it instead of a reading (SCPI-99 vol. 1 §7.2.1.5).
pub const SCPI_OVERFLOW: f64 = 9.9e37;

/// How a command line ends on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`, the SCPI default.
    #[default]
    Lf,
    /// `\r\n`, for instruments that want it.
    CrLf,
}

impl LineEnding {
    /// The terminator bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }
}

/// A command as it goes on the wire: the text and the line ending.
pub fn encode_command(command: &str, ending: LineEnding) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(command.len() + 2);
    bytes.extend_from_slice(command.trim().as_bytes());
    bytes.extend_from_slice(ending.bytes());
    bytes
}

/// Why a reply could not be read as what was asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The reply is not ASCII text.
    #[error("reply is not ASCII text ({len} bytes, first non-ASCII at byte {at})")]
    NotText { len: usize, at: usize },

    /// The reply is not a number.
    #[error("reply `{text}` is not a number (expected e.g. `0.0123` or `1.23E-02`)")]
    NotANumber { text: String },

    /// The instrument answered SCPI's overflow value: the input is over range.
    #[error("reply `{text}` is the SCPI overflow value: the input is over range")]
    Overflow { text: String },

    /// `*IDN?` did not answer four comma-separated fields.
    #[error(
        "`*IDN?` reply `{text}` has {fields} fields; expected manufacturer,model,serial,firmware"
    )]
    BadIdentity { text: String, fields: usize },
}

/// The reply line as text: printable ASCII (and tabs) only, trimmed.
pub fn reply_text(line: &[u8]) -> Result<&str, ReplyError> {
    if let Some(at) = line
        .iter()
        .position(|&b| !(b == b'\t' || (0x20..0x7f).contains(&b)))
    {
        return Err(ReplyError::NotText {
            len: line.len(),
            at,
        });
    }
    // Only ASCII is left, so this cannot fail.
    let text = std::str::from_utf8(line).map_err(|err| ReplyError::NotText {
        len: line.len(),
        at: err.valid_up_to(),
    })?;
    Ok(text.trim())
}

/// A SCPI numeric reply: `[+-]digits[.digits][E[+-]digits]` (also `.5`, `5.`), with
/// surrounding blanks. `inf`, `nan`, units and anything else are refused, and so is
/// SCPI's overflow value.
pub fn parse_number(line: &[u8]) -> Result<f64, ReplyError> {
    let text = reply_text(line)?;
    let not_a_number = || ReplyError::NotANumber {
        text: shorten(text),
    };
    if !is_scpi_number(text) {
        return Err(not_a_number());
    }
    let value: f64 = text.parse().map_err(|_| not_a_number())?;
    if !value.is_finite() || value.abs() >= SCPI_OVERFLOW {
        return Err(ReplyError::Overflow {
            text: shorten(text),
        });
    }
    Ok(value)
}

/// Whether `text` is a decimal number in SCPI's NR1/NR2/NR3 forms.
fn is_scpi_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        at += 1;
    }
    let int_digits = count_digits(&bytes[at..]);
    at += int_digits;
    let mut frac_digits = 0;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        frac_digits = count_digits(&bytes[at..]);
        at += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exp_digits = count_digits(&bytes[at..]);
        if exp_digits == 0 || exp_digits > 3 {
            return false;
        }
        at += exp_digits;
    }
    at == bytes.len()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// At most 40 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    if text.len() <= 40 {
        text.to_owned()
    } else {
        let cut = (0..=40)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    }
}

/// The `*IDN?` reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Manufacturer, e.g. `ARRAY`; `EMU` for actprof's emulator.
    pub manufacturer: String,
    /// Model, e.g. `3662A`.
    pub model: String,
    /// Serial number, `0` when the instrument has none.
    pub serial: String,
    /// Firmware version.
    pub firmware: String,
}

impl Identity {
    /// Whether this is actprof's emulator.
    pub fn is_emulator(&self) -> bool {
        self.manufacturer
            .eq_ignore_ascii_case(EMULATOR_MANUFACTURER)
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.manufacturer, self.model)?;
        if !self.serial.is_empty() && self.serial != "0" {
            write!(f, " (serial {})", self.serial)?;
        }
        write!(f, ", firmware {}", self.firmware)
    }
}

/// Parses a `*IDN?` reply: four comma-separated fields, blanks trimmed; a firmware field
/// that itself holds commas keeps them. The manufacturer and model must not be empty.
pub fn parse_identity(line: &[u8]) -> Result<Identity, ReplyError> {
    let text = reply_text(line)?;
    let bad = |fields: usize| ReplyError::BadIdentity {
        text: shorten(text),
        fields,
    };
    let fields: Vec<&str> = text.splitn(4, ',').map(str::trim).collect();
    let [manufacturer, model, serial, firmware] = fields[..] else {
        return Err(bad(fields.len()));
    };
    if manufacturer.is_empty() || model.is_empty() {
        return Err(bad(fields.len()));
    }
    Ok(Identity {
        manufacturer: manufacturer.to_owned(),
        model: model.to_owned(),
        serial: serial.to_owned(),
        firmware: firmware.to_owned(),
    })
}

/// Whether the command `header` (e.g. `meas:curr:dc?`) matches the SCPI `pattern` (e.g.
/// `MEASure:CURRent[:DC]?`): each node in its short form (the upper-case part) or long
/// form, case-insensitively, optional `[...]` nodes present or not, a leading `:`
/// allowed. Arguments after a blank in `header` are ignored.
pub fn header_matches(pattern: &str, header: &str) -> bool {
    let header = header.trim();
    let header = header.split_whitespace().next().unwrap_or("");
    let header = header.strip_prefix(':').unwrap_or(header);
    let (pattern, wants_query) = match pattern.strip_suffix('?') {
        Some(rest) => (rest, true),
        None => (pattern, false),
    };
    let (header, is_query) = match header.strip_suffix('?') {
        Some(rest) => (rest, true),
        None => (header, false),
    };
    if wants_query != is_query {
        return false;
    }
    let nodes = pattern_nodes(pattern);
    let given: Vec<&str> = if header.is_empty() {
        Vec::new()
    } else {
        header.split(':').collect()
    };
    match_nodes(&nodes, &given)
}

/// A node of a pattern: its long form (short form = its upper-case letters and digits
/// from the start) and whether it may be left out.
struct Node<'a> {
    long: &'a str,
    optional: bool,
}

fn pattern_nodes(pattern: &str) -> Vec<Node<'_>> {
    let mut nodes = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').unwrap_or(inner.len());
            let node = inner[..end].trim_matches(':');
            nodes.push(Node {
                long: node,
                optional: true,
            });
            rest = inner.get(end + 1..).unwrap_or("");
        } else {
            let rest_trimmed = rest.trim_start_matches(':');
            let end = rest_trimmed.find([':', '[']).unwrap_or(rest_trimmed.len());
            nodes.push(Node {
                long: &rest_trimmed[..end],
                optional: false,
            });
            rest = &rest_trimmed[end..];
        }
    }
    nodes.retain(|node| !node.long.is_empty());
    nodes
}

fn match_nodes(nodes: &[Node<'_>], given: &[&str]) -> bool {
    match (nodes.first(), given.first()) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some(node), None) => node.optional && match_nodes(&nodes[1..], given),
        (Some(node), Some(word)) => {
            (node_matches(node.long, word) && match_nodes(&nodes[1..], &given[1..]))
                || (node.optional && match_nodes(&nodes[1..], given))
        }
    }
}

/// Short form = the leading upper-case letters and digits of the long form (`CURRent` →
/// `CURR`, `*IDN` → `*IDN`).
fn node_matches(long: &str, word: &str) -> bool {
    let short_len = long.bytes().take_while(|b| !b.is_ascii_lowercase()).count();
    let short = &long[..short_len];
    word.eq_ignore_ascii_case(short) || word.eq_ignore_ascii_case(long)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn commands_end_in_the_chosen_terminator() {
        assert_eq!(encode_command("*IDN?", LineEnding::Lf), b"*IDN?\n");
        assert_eq!(
            encode_command(" MEAS:CURR? ", LineEnding::CrLf),
            b"MEAS:CURR?\r\n"
        );
    }

    #[test]
    fn numbers_in_plain_and_scientific_notation() {
        let cases: [(&[u8], f64); 9] = [
            (b"0.012345", 0.012345),
            (b"1.2345E-02", 0.012345),
            (b"1.2345e-02", 0.012345),
            (b"+3.300000", 3.3),
            (b"-0.5", -0.5),
            (b"  12  ", 12.0),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"+1.000000E+00", 1.0),
        ];
        for (text, expected) in cases {
            let value = parse_number(text).expect("a number");
            assert!((value - expected).abs() < 1e-15, "{text:?}: {value}");
        }
    }

    #[test]
    fn non_numbers_are_refused_by_kind() {
        for text in [
            &b""[..],
            b"inf",
            b"NaN",
            b"0x10",
            b"1.2.3",
            b"1e",
            b"1e+",
            b"3.3V",
            b"E5",
            b"+-1",
            b"1,2",
            b"-",
            b".",
            b"1e1000",
        ] {
            let err = parse_number(text).expect_err("refused");
            assert!(matches!(err, ReplyError::NotANumber { .. }), "{text:?}");
        }
        assert!(matches!(
            parse_number(b"9.9E37"),
            Err(ReplyError::Overflow { .. })
        ));
        assert!(matches!(
            parse_number(b"-9.91E+37"),
            Err(ReplyError::Overflow { .. })
        ));
        assert!(matches!(
            parse_number(b"0.1\xff"),
            Err(ReplyError::NotText { len: 4, at: 3 })
        ));
    }

    #[test]
    fn identities_parse_into_their_four_fields() {
        let array = parse_identity(b"ARRAY,3662A,0,1.3-1.0-1.5").expect("parses");
        assert_eq!(array.manufacturer, "ARRAY");
        assert_eq!(array.model, "3662A");
        assert_eq!(array.serial, "0");
        assert_eq!(array.firmware, "1.3-1.0-1.5");
        assert!(!array.is_emulator());
        assert_eq!(array.to_string(), "ARRAY 3662A, firmware 1.3-1.0-1.5");

        let emulator = parse_identity(b"EMU,PSU-1,0,1.0").expect("parses");
        assert!(emulator.is_emulator());

        let spaced = parse_identity(b" Keysight , E36313A , MY123 , 2.1,rev B ").expect("ok");
        assert_eq!(spaced.serial, "MY123");
        assert_eq!(spaced.firmware, "2.1,rev B");
        assert_eq!(
            spaced.to_string(),
            "Keysight E36313A (serial MY123), firmware 2.1,rev B"
        );

        for bad in [&b"EMU,PSU-1,0"[..], b"", b",PSU,0,1", b"EMU,,0,1"] {
            assert!(
                matches!(parse_identity(bad), Err(ReplyError::BadIdentity { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn headers_match_in_short_and_long_forms() {
        let curr = "MEASure:CURRent[:DC]?";
        for header in [
            "MEAS:CURR?",
            "meas:curr?",
            "MEASURE:CURRENT?",
            "Meas:Current:DC?",
            ":MEAS:CURR:DC?",
            "MEAS:CURR? CH1",
        ] {
            assert!(header_matches(curr, header), "{header}");
        }
        for header in [
            "MEAS:CURR",
            "MEAS:VOLT?",
            "MEA:CURR?",
            "MEAS:CURRE?",
            "MEAS:CURR:AC?",
            "CURR?",
            "",
        ] {
            assert!(!header_matches(curr, header), "{header}");
        }
        assert!(header_matches("*IDN?", "*idn?"));
        assert!(!header_matches("*IDN?", "*IDN"));
        assert!(header_matches("[SOURce:]VOLTage?", "VOLT?"));
        assert!(header_matches("[SOURce:]VOLTage?", "sour:volt?"));
    }

    /// A number as instruments print it and the value the text stands for.
    fn printed_number() -> impl Strategy<Value = (String, f64)> {
        (
            any::<bool>(),
            -1_000_000i64..1_000_000,
            0u32..7,
            any::<bool>(),
        )
            .prop_map(|(scientific, mantissa, decimals, upper)| {
                let value = mantissa as f64 / 10f64.powi(decimals as i32);
                let text = match (scientific, upper) {
                    (true, true) => format!("{value:.6E}"),
                    (true, false) => format!("{value:.4e}"),
                    (false, _) => format!("{value:.prec$}", prec = decimals as usize),
                };
                let expected = text.parse::<f64>().expect("std parses it");
                (text, expected)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 60_000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_replies_never_panic_and_numbers_are_finite(
            bytes in prop::collection::vec(any::<u8>(), 0..300),
            crafted in prop::collection::vec(
                prop::sample::select(b"0123456789+-.eE,\r\n EMU*IDN".to_vec()), 0..80),
        ) {
            let mut framer = LineFramer::new(MAX_LINE_LEN);
            for input in [&bytes, &crafted] {
                for framed in framer.push(input) {
                    if let Framed::Line(line) = framed {
                        prop_assert!(line.len() <= MAX_LINE_LEN);
                        if let Ok(value) = parse_number(&line) {
                            prop_assert!(value.is_finite() && value.abs() < SCPI_OVERFLOW);
                        }
                        let _ = parse_identity(&line);
                        let text = String::from_utf8_lossy(&line);
                        let _ = header_matches("MEASure:CURRent[:DC]?", &text);
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 50_000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn numbers_read_exactly_and_corrupt_ones_never(
            (text, expected) in printed_number(),
            at in any::<usize>(),
            stray in prop_oneof![
                prop::sample::select(b"xV,;:#*A".to_vec()),
                0x80u8..=0xff,
                0u8..0x08,
            ],
        ) {
            prop_assert_eq!(parse_number(text.as_bytes()), Ok(expected));
            let mut corrupt = text.clone().into_bytes();
            corrupt.insert(at % (corrupt.len() + 1), stray);
            prop_assert!(parse_number(&corrupt).is_err(), "{:?}", corrupt);
            if text.contains(['.', 'e', 'E']) {
                // A second dot, or a dot after an exponent, is never a number.
                let doubled = format!("{text}.5");
                prop_assert!(parse_number(doubled.as_bytes()).is_err(), "{}", doubled);
            }
        }
    }
}
