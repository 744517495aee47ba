//! Quantization parameters (scale and zero point) and their report form.
//!
//! A report writes the parameters of a kernel's input and output as one string,
//! `in_scale=0.0625;in_zp=0;out_scale=0.00390625;out_zp=-128`: scales in Rust's shortest
//! round-trip form of the f32 (so reading gives back the same bits), zero points as integers.
//! [`format_quant`] writes it and [`parse_quant`] reads it back.

use serde::{Deserialize, Serialize};

use super::dtype::QuantDType;
use super::error::{QuantError, Side};

/// How real values map to codes: `real = scale · (code − zero_point)`.
///
/// Valid (see [`QuantParams::validate`]) when the scale is finite and greater than 0 and the
/// zero point is a code of the dtype. The scale is an f32 as in TFLite; the reference
/// converts it to f64 exactly.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantParams {
    /// Real units per code step.
    pub scale: f32,
    /// The code that stands for real 0.
    pub zero_point: i32,
}

impl QuantParams {
    /// Builds parameters and checks them for `dtype` (named as `side` in errors).
    pub fn new(
        scale: f32,
        zero_point: i32,
        dtype: QuantDType,
        side: Side,
    ) -> Result<Self, QuantError> {
        let params = QuantParams { scale, zero_point };
        params.validate(dtype, side)?;
        Ok(params)
    }

    /// Refuses a scale that is not finite and > 0, or a zero point outside `dtype`'s codes.
    pub fn validate(&self, dtype: QuantDType, side: Side) -> Result<(), QuantError> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(QuantError::BadScale {
                side,
                scale: self.scale,
            });
        }
        if !(dtype.qmin()..=dtype.qmax()).contains(&self.zero_point) {
            return Err(QuantError::ZeroPointOutOfRange {
                side,
                zero_point: self.zero_point,
                dtype,
            });
        }
        Ok(())
    }

    /// The real value `scale · (code − zero_point)` of a code, in f64 (exact).
    pub fn dequantize(&self, code: i32) -> f64 {
        f64::from(self.scale) * f64::from(code - self.zero_point)
    }

    /// Whether two parameter sets are the same mapping (same scale bits, same zero point).
    pub fn same_mapping(&self, other: &QuantParams) -> bool {
        self.scale.to_bits() == other.scale.to_bits() && self.zero_point == other.zero_point
    }
}

/// The report form of a kernel's input and output parameters:
/// `in_scale=…;in_zp=…;out_scale=…;out_zp=…`.
pub fn format_quant(input: QuantParams, output: QuantParams) -> String {
    format!(
        "in_scale={};in_zp={};out_scale={};out_zp={}",
        input.scale, input.zero_point, output.scale, output.zero_point
    )
}

/// Reads the form [`format_quant`] writes (keys in any order, spaces around entries
/// allowed) and validates both parameter sets for `dtype`.
pub fn parse_quant(
    text: &str,
    dtype: QuantDType,
) -> Result<(QuantParams, QuantParams), QuantError> {
    const KEYS: [&str; 4] = ["in_scale", "in_zp", "out_scale", "out_zp"];
    let mut values: [Option<&str>; 4] = [None; 4];
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (key, value) = entry
            .split_once('=')
            .ok_or_else(|| QuantError::BadEntry(entry.to_owned()))?;
        let key = key.trim();
        let slot = KEYS
            .iter()
            .position(|k| *k == key)
            .ok_or_else(|| QuantError::UnknownKey(key.to_owned()))?;
        if values[slot].replace(value.trim()).is_some() {
            return Err(QuantError::DuplicateKey(key.to_owned()));
        }
    }
    let value = |slot: usize| values[slot].ok_or(QuantError::MissingKey(KEYS[slot]));
    let input = QuantParams {
        scale: parse_scale(KEYS[0], value(0)?)?,
        zero_point: parse_zero_point(KEYS[1], value(1)?)?,
    };
    let output = QuantParams {
        scale: parse_scale(KEYS[2], value(2)?)?,
        zero_point: parse_zero_point(KEYS[3], value(3)?)?,
    };
    input.validate(dtype, Side::Input)?;
    output.validate(dtype, Side::Output)?;
    Ok((input, output))
}

fn parse_scale(key: &str, value: &str) -> Result<f32, QuantError> {
    value.parse().map_err(|_| QuantError::BadValue {
        key: key.to_owned(),
        value: value.to_owned(),
        expected: "a number such as 0.0625",
    })
}

fn parse_zero_point(key: &str, value: &str) -> Result<i32, QuantError> {
    value.parse().map_err(|_| QuantError::BadValue {
        key: key.to_owned(),
        value: value.to_owned(),
        expected: "an integer such as -128",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_form_is_the_documented_one_and_round_trips() {
        let input = QuantParams {
            scale: 0.0625,
            zero_point: 0,
        };
        let output = QuantParams {
            scale: 1.0 / 256.0,
            zero_point: -128,
        };
        let text = format_quant(input, output);
        assert_eq!(
            text,
            "in_scale=0.0625;in_zp=0;out_scale=0.00390625;out_zp=-128"
        );
        assert_eq!(
            parse_quant(&text, QuantDType::I8).expect("own form"),
            (input, output)
        );

        let odd = QuantParams {
            scale: 1.0 / 30.0,
            zero_point: 15,
        };
        let text = format_quant(odd, odd);
        let (back, _) = parse_quant(&text, QuantDType::U8).expect("own form");
        assert_eq!(back.scale.to_bits(), odd.scale.to_bits());
    }

    #[test]
    fn keys_may_come_in_any_order_with_spaces() {
        let text = " out_zp=3 ; in_zp = -2;out_scale=0.5; in_scale=0.25 ";
        let (input, output) = parse_quant(text, QuantDType::I8).expect("valid");
        assert_eq!(
            input,
            QuantParams {
                scale: 0.25,
                zero_point: -2
            }
        );
        assert_eq!(
            output,
            QuantParams {
                scale: 0.5,
                zero_point: 3
            }
        );
    }

    #[test]
    fn invalid_parameters_are_refused_with_a_message_naming_them() {
        let cases = [
            ("in_scale=0;in_zp=0;out_scale=1;out_zp=0", "input scale 0"),
            (
                "in_scale=1;in_zp=0;out_scale=-1;out_zp=0",
                "output scale -1",
            ),
            (
                "in_scale=NaN;in_zp=0;out_scale=1;out_zp=0",
                "input scale NaN",
            ),
            (
                "in_scale=inf;in_zp=0;out_scale=1;out_zp=0",
                "input scale inf",
            ),
            (
                "in_scale=1;in_zp=128;out_scale=1;out_zp=0",
                "input zero point 128",
            ),
            (
                "in_scale=1;in_zp=0;out_scale=1;out_zp=-129",
                "output zero point -129",
            ),
            ("in_scale=1;in_zp=0;out_scale=1", "`out_zp` is missing"),
            (
                "in_scale=1;in_zp=0;in_zp=0;out_scale=1;out_zp=0",
                "`in_zp` is given twice",
            ),
            (
                "in_scale=1;in_zp=0;out_scale=1;out_zp=0;gain=2",
                "unknown quantization key `gain`",
            ),
            (
                "in_scale=1;in_zp=0.5;out_scale=1;out_zp=0",
                "`in_zp` has bad value `0.5`",
            ),
            (
                "in_scale=x;in_zp=0;out_scale=1;out_zp=0",
                "`in_scale` has bad value `x`",
            ),
            (
                "in_scale=1;in_zp;out_scale=1;out_zp=0",
                "bad quantization entry `in_zp`",
            ),
        ];
        for (text, message) in cases {
            let err = parse_quant(text, QuantDType::I8).expect_err(text);
            assert!(err.to_string().contains(message), "{text}: {err}");
        }
        let err = parse_quant("in_scale=1;in_zp=-1;out_scale=1;out_zp=0", QuantDType::U8)
            .expect_err("u8 codes start at 0");
        assert!(
            err.to_string().contains("outside the u8 range 0..=255"),
            "{err}"
        );
    }

    #[test]
    fn dequantize_follows_scale_times_offset() {
        let p = QuantParams {
            scale: 0.0625,
            zero_point: 128,
        };
        assert_eq!(p.dequantize(128), 0.0);
        assert_eq!(p.dequantize(0), -8.0);
        assert_eq!(p.dequantize(255), 7.9375);
    }
}
