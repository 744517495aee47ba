//! `actprof eval --dtype i8|u8`: the quantized kernel at a few input codes.
//!
//! Each line is `q_in q_out`, both integer codes of the dtype. The quantization of input
//! and output defaults to the activation's documented one ([`default_quant`]); each flag
//! (`--in-scale`, `--in-zero-point`, `--out-scale`, `--out-zero-point`) overrides one
//! value. The kernel is the one `bench` times (default method, fastest instruction set).

use std::io::{self, Write as _};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::EvalArgs;
use super::eval::activation_of;
use crate::kernels::int8::{QuantDType, QuantParams, QuantizedKernel, Side, default_quant};

/// Runs the quantized evaluation and prints one `q_in q_out` line per code.
pub fn run(args: &EvalArgs, dtype: QuantDType) -> anyhow::Result<ExitCode> {
    if args.isa.is_some() {
        bail!("--isa picks an f32 kernel variant; the {dtype} kernels are checked with `accuracy`");
    }
    let activation = activation_of(args)?;
    let (input, output) = quant_of(args, activation, dtype)?;
    let codes = parse_codes(&args.values, dtype)?;
    let kernel = QuantizedKernel::new(activation, dtype, input, output)
        .with_context(|| format!("cannot build the {dtype} kernel of {activation}"))?;

    let mut stdout = io::stdout().lock();
    for &q_in in &codes {
        writeln!(stdout, "{q_in} {}", kernel.eval_code(q_in))
            .context("cannot write to standard output")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses quantization flags on an f32 evaluation, where they would mean nothing.
pub fn refuse_quant_flags(args: &EvalArgs) -> anyhow::Result<()> {
    let given = [
        ("--in-scale", args.in_scale.is_some()),
        ("--in-zero-point", args.in_zero_point.is_some()),
        ("--out-scale", args.out_scale.is_some()),
        ("--out-zero-point", args.out_zero_point.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
        bail!("{flag} applies to quantized kernels only: add --dtype i8 or --dtype u8");
    }
    Ok(())
}

/// The input and output parameters: the activation's defaults with the flags applied, each
/// side validated for `dtype`.
pub fn quant_of(
    args: &EvalArgs,
    activation: crate::kernels::Activation,
    dtype: QuantDType,
) -> anyhow::Result<(QuantParams, QuantParams)> {
    let (default_in, default_out) = default_quant(activation, dtype);
    let input = QuantParams::new(
        args.in_scale.unwrap_or(default_in.scale),
        args.in_zero_point.unwrap_or(default_in.zero_point),
        dtype,
        Side::Input,
    )
    .context("bad --in-scale or --in-zero-point")?;
    let output = QuantParams::new(
        args.out_scale.unwrap_or(default_out.scale),
        args.out_zero_point.unwrap_or(default_out.zero_point),
        dtype,
        Side::Output,
    )
    .context("bad --out-scale or --out-zero-point")?;
    Ok((input, output))
}

/// Parses the inputs as integer codes of `dtype`, naming a bad one and its position.
pub fn parse_codes(values: &[String], dtype: QuantDType) -> anyhow::Result<Vec<i32>> {
    if values.is_empty() {
        bail!("no input codes given: pass one or more integers, e.g. `-- -128 0 127`");
    }
    let range = dtype.qmin()..=dtype.qmax();
    values
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let position = format!("input {} of {}, `{text}`,", index + 1, values.len());
            let code: i64 = text.trim().parse().map_err(|_| {
                anyhow::anyhow!("{position} is not an integer code (expected e.g. -128, 0, 127)")
            })?;
            i32::try_from(code)
                .ok()
                .filter(|code| range.contains(code))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{position} is outside the {dtype} codes {}..={}",
                        range.start(),
                        range.end()
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Impl;
    use crate::kernels::Activation;
    use crate::kernels::int8::DType;

    fn args(dtype: DType) -> EvalArgs {
        EvalArgs {
            activation: "sigmoid".to_owned(),
            alpha: None,
            beta: None,
            implementation: Impl::Fast,
            isa: None,
            dtype,
            in_scale: None,
            in_zero_point: None,
            out_scale: None,
            out_zero_point: None,
            values: Vec::new(),
        }
    }

    #[test]
    fn codes_are_integers_of_the_dtype() {
        let texts = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_codes(&texts(&["-128", " 0", "127"]), QuantDType::I8).expect("valid"),
            [-128, 0, 127]
        );
        let error = parse_codes(&texts(&["1", "128"]), QuantDType::I8).expect_err("128");
        assert_eq!(
            error.to_string(),
            "input 2 of 2, `128`, is outside the i8 codes -128..=127"
        );
        let error = parse_codes(&texts(&["-1"]), QuantDType::U8).expect_err("-1 in u8");
        assert!(error.to_string().contains("0..=255"), "{error}");
        let error = parse_codes(&texts(&["0.5"]), QuantDType::U8).expect_err("0.5");
        assert!(
            error.to_string().contains("is not an integer code"),
            "{error}"
        );
        assert!(parse_codes(&[], QuantDType::I8).is_err());
    }

    #[test]
    fn flags_override_the_default_quantization_one_value_at_a_time() {
        let mut with_flags = args(DType::I8);
        with_flags.out_zero_point = Some(-100);
        let (input, output) =
            quant_of(&with_flags, Activation::Sigmoid, QuantDType::I8).expect("valid");
        assert_eq!((input.scale, input.zero_point), (0.0625, 0));
        assert_eq!((output.scale, output.zero_point), (1.0 / 256.0, -100));

        with_flags.in_scale = Some(0.0);
        let error = quant_of(&with_flags, Activation::Sigmoid, QuantDType::I8).expect_err("0");
        assert!(format!("{error:#}").contains("--in-scale"), "{error:#}");
        assert!(format!("{error:#}").contains("input scale 0"), "{error:#}");

        let mut f32_args = args(DType::F32);
        f32_args.out_scale = Some(0.5);
        let error = refuse_quant_flags(&f32_args).expect_err("f32 has no scale");
        assert!(error.to_string().contains("--out-scale"), "{error}");
    }
}
