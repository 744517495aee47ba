//! Parsing the arguments of a `run` request.

use super::error::{ErrorCode, Refusal};
use crate::kernels::Kernel;
use crate::quant::{QDType, Quant};

/// The most timed runs one request may ask for.
pub const MAX_RUNS: u32 = 10_000;

/// The most back-to-back calls in one timed run.
pub const MAX_BATCH: u32 = 10_000;

/// The most untimed warm-up calls.
pub const MAX_WARMUP: u32 = 1_000;

/// The element type of a run, with the quantization of the byte types.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum DType {
    F32,
    Quantized(QDType, Quant),
}

/// A validated `run` request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RunRequest {
    pub(crate) kernel: Kernel,
    pub(crate) dtype: DType,
    pub(crate) n: usize,
    pub(crate) runs: u32,
    pub(crate) warmup: u32,
    pub(crate) batch: u32,
    pub(crate) seed: u32,
    pub(crate) p: f32,
}

/// The keys of a `run` request, in the order the protocol lists them.
const KEYS: [&str; 12] = [
    "kernel",
    "dtype",
    "n",
    "runs",
    "warmup",
    "batch",
    "seed",
    "p",
    "in_scale",
    "in_zp",
    "out_scale",
    "out_zp",
];

const KERNEL: usize = 0;
const DTYPE: usize = 1;
const N: usize = 2;
const RUNS: usize = 3;
const WARMUP: usize = 4;
const BATCH: usize = 5;
const SEED: usize = 6;
const P: usize = 7;
const IN_SCALE: usize = 8;
const IN_ZP: usize = 9;
const OUT_SCALE: usize = 10;
const OUT_ZP: usize = 11;

/// The longest piece of a request quoted back in an error answer.
const QUOTE_MAX: usize = 32;

/// At most [`QUOTE_MAX`] bytes of `s` (ASCII, so any cut is a character boundary).
fn quote(s: &str) -> &str {
    s.get(..QUOTE_MAX).unwrap_or(s)
}

type Values<'a> = [Option<&'a str>; KEYS.len()];

/// Parses and checks the `key=value` tokens of a `run` request for a board holding
/// `max_elements` elements.
pub(crate) fn parse_run<'a>(
    args: impl Iterator<Item = &'a str>,
    max_elements: usize,
) -> Result<RunRequest, Refusal<'a>> {
    let values = collect(args)?;
    let kernel_name = required(&values, KERNEL)?;
    let kernel = Kernel::from_name(kernel_name).ok_or(Refusal::new(
        ErrorCode::UnknownKernel,
        "no kernel",
        quote(kernel_name),
    ))?;
    let dtype_name = required(&values, DTYPE)?;
    let quantized = match dtype_name {
        "f32" => None,
        other => Some(QDType::from_name(other).ok_or(Refusal::new(
            ErrorCode::UnsupportedDtype,
            "no dtype",
            quote(other),
        ))?),
    };
    let n = count(&values, N, 1, max_elements)?;
    let runs = count(&values, RUNS, 1, MAX_RUNS as usize)? as u32;
    let warmup = count(&values, WARMUP, 0, MAX_WARMUP as usize)? as u32;
    let batch = count(&values, BATCH, 1, MAX_BATCH as usize)? as u32;
    let seed = decimal(required(&values, SEED)?).ok_or(bad_value(SEED))?;
    let p = match values[P] {
        Some(text) => f32_bits(text).ok_or(bad_value(P))?,
        None => kernel.default_param(),
    };
    let dtype = match quantized {
        None => {
            if let Some(key) = (IN_SCALE..=OUT_ZP).find(|&k| values[k].is_some()) {
                return Err(Refusal::new(
                    ErrorCode::BadArgument,
                    "dtype=f32 takes no",
                    KEYS[key],
                ));
            }
            DType::F32
        }
        Some(q) => DType::Quantized(q, quant(&values, q)?),
    };
    Ok(RunRequest {
        kernel,
        dtype,
        n,
        runs,
        warmup,
        batch,
        seed,
        p,
    })
}

/// Sorts the tokens by key, refusing malformed, unknown and repeated keys.
fn collect<'a>(args: impl Iterator<Item = &'a str>) -> Result<Values<'a>, Refusal<'a>> {
    let mut values: Values<'a> = [None; KEYS.len()];
    for token in args {
        let Some((key, value)) = token.split_once('=') else {
            return Err(Refusal::new(
                ErrorCode::BadArgument,
                "not key=value:",
                quote(token),
            ));
        };
        let Some(index) = KEYS.iter().position(|&k| k == key) else {
            return Err(Refusal::new(
                ErrorCode::BadArgument,
                "unknown key",
                quote(key),
            ));
        };
        if values[index].is_some() {
            return Err(Refusal::new(
                ErrorCode::BadArgument,
                "repeated key",
                KEYS[index],
            ));
        }
        values[index] = Some(value);
    }
    Ok(values)
}

fn required<'a>(values: &Values<'a>, key: usize) -> Result<&'a str, Refusal<'a>> {
    values[key].ok_or(Refusal::new(
        ErrorCode::BadArgument,
        "missing key",
        KEYS[key],
    ))
}

fn bad_value(key: usize) -> Refusal<'static> {
    Refusal::new(ErrorCode::BadArgument, "bad value of", KEYS[key])
}

/// A count in `min..=max`: below `min` is a bad argument, above `max` is too large.
fn count<'a>(
    values: &Values<'a>,
    key: usize,
    min: usize,
    max: usize,
) -> Result<usize, Refusal<'a>> {
    let value = decimal(required(values, key)?).ok_or(bad_value(key))? as usize;
    if value < min {
        return Err(Refusal::new(
            ErrorCode::BadArgument,
            "too small:",
            KEYS[key],
        ));
    }
    if value > max {
        return Err(Refusal::new(
            ErrorCode::TooLarge,
            "above the limit:",
            KEYS[key],
        ));
    }
    Ok(value)
}

fn quant<'a>(values: &Values<'a>, dtype: QDType) -> Result<Quant, Refusal<'a>> {
    let scale = |key| -> Result<f32, Refusal<'a>> {
        let scale = f32_bits(required(values, key)?).ok_or(bad_value(key))?;
        if scale.is_finite() && scale > 0.0 {
            Ok(scale)
        } else {
            Err(Refusal::new(
                ErrorCode::BadArgument,
                "not finite and > 0:",
                KEYS[key],
            ))
        }
    };
    let zero_point = |key| -> Result<i32, Refusal<'a>> {
        let zp = signed_decimal(required(values, key)?).ok_or(bad_value(key))?;
        if (dtype.qmin()..=dtype.qmax()).contains(&zp) {
            Ok(zp)
        } else {
            Err(Refusal::new(
                ErrorCode::BadArgument,
                "not a code of the dtype:",
                KEYS[key],
            ))
        }
    };
    Ok(Quant {
        in_scale: scale(IN_SCALE)?,
        in_zp: zero_point(IN_ZP)?,
        out_scale: scale(OUT_SCALE)?,
        out_zp: zero_point(OUT_ZP)?,
    })
}

/// A decimal u32: digits only (no sign), at least one.
pub(crate) fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A decimal i32 with an optional leading `-`.
fn signed_decimal(text: &str) -> Option<i32> {
    match text.strip_prefix('-') {
        Some(digits) => i32::try_from(-i64::from(decimal(digits)?)).ok(),
        None => i32::try_from(decimal(text)?).ok(),
    }
}

/// An f32 written as the 8 hex digits of its bit pattern (either case).
fn f32_bits(text: &str) -> Option<f32> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok().map(f32::from_bits)
}
