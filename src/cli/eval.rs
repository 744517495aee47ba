//! `actprof eval`: one activation at a few inputs, printed exactly.
//!
//! Each line is `input output`, both with the fewest digits that read back as the same f32
//! (so pasting a printed number back gives the same bits). Magnitudes in [1e-5, 1e16) are
//! written as plain decimals (`0.5`, `1`, `-2.25`), others in exponent form (`3.8e-44`,
//! `3.4028235e38`) so subnormals stay readable; `-0` keeps its sign, and special values
//! print as `NaN`, `inf` and `-inf`. With `--dtype i8|u8` the quantized kernel runs
//! instead ([`super::eval_q`]).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{EvalArgs, Impl, IsaChoice};
use crate::kernels::{self, Activation, Isa, reference};

/// Runs `actprof eval` and prints one `input output` line per value.
pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(dtype) = args.dtype.quantized() {
        return super::eval_q::run(args, dtype);
    }
    super::eval_q::refuse_quant_flags(args)?;
    let activation = activation_of(args)?;
    let isa = isa_of(args)?;
    let inputs = parse_values(&args.values)?;
    let outputs = evaluate(activation, args.implementation, isa, &inputs);

    let mut stdout = io::stdout().lock();
    for (input, output) in inputs.iter().zip(&outputs) {
        writeln!(stdout, "{} {}", shortest(*input), shortest(*output))
            .context("cannot write to standard output")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `x` with the fewest digits that parse back to the same f32 (see the module doc).
pub fn shortest(x: f32) -> String {
    let magnitude = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-5..1e16).contains(&magnitude) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The activation named by the positional argument, with `--alpha` / `--beta` applied.
///
/// The name may carry its own parameters (`leaky_relu:alpha=0.2`); giving the same
/// parameter there and as a flag is refused rather than silently picking one.
pub fn activation_of(args: &EvalArgs) -> anyhow::Result<Activation> {
    let (name, spec_params) = args
        .activation
        .split_once(':')
        .unwrap_or((&args.activation, ""));
    let mut params: Vec<String> = spec_params
        .split(';')
        .filter(|pair| !pair.trim().is_empty())
        .map(str::to_owned)
        .collect();
    for (key, value) in [("alpha", args.alpha), ("beta", args.beta)] {
        let Some(value) = value else { continue };
        let already = params
            .iter()
            .any(|pair| pair.split('=').next().map(str::trim) == Some(key));
        if already {
            bail!(
                "{key} is given twice: in `{}` and as --{key}",
                args.activation
            );
        }
        params.push(format!("{key}={value}"));
    }

    Activation::from_name_and_params(name, &params.join(";"))
        .with_context(|| format!("cannot evaluate `{}`", args.activation))
}

/// Parses the inputs as f32 (`nan`, `inf`, `-inf` and subnormals such as `1e-45` included).
pub fn parse_values(values: &[String]) -> anyhow::Result<Vec<f32>> {
    if values.is_empty() {
        bail!("no input values given: pass one or more numbers, e.g. `-- -1 0 1`");
    }
    values
        .iter()
        .enumerate()
        .map(|(index, text)| {
            text.trim().parse::<f32>().map_err(|_| {
                anyhow::anyhow!(
                    "input {} of {}, `{text}`, is not a number \
                     (expected e.g. -1.5, 2e-3, nan, inf)",
                    index + 1,
                    values.len()
                )
            })
        })
        .collect()
}

/// The kernel variant `--isa` names (the dispatched one by default); `all`, a variant this
/// CPU lacks, and `--isa` with the reference are refused.
fn isa_of(args: &EvalArgs) -> anyhow::Result<Isa> {
    let Some(choice) = args.isa else {
        return Ok(Isa::detect());
    };
    if args.implementation == Impl::Reference {
        bail!("--isa picks a fast kernel: it does not apply to --impl reference");
    }
    if choice == IsaChoice::All {
        bail!("eval runs one kernel: pick --isa scalar, neon, avx2 or avx512");
    }
    let isas = super::accuracy::isas_of(choice)?;
    Ok(isas[0])
}

/// The activation of every input with the chosen implementation (the fast one on `isa`).
pub fn evaluate(
    activation: Activation,
    implementation: Impl,
    isa: Isa,
    inputs: &[f32],
) -> Vec<f32> {
    match implementation {
        Impl::Fast => {
            let mut outputs = vec![0.0; inputs.len()];
            kernels::apply_with(isa, activation, inputs, &mut outputs);
            outputs
        }
        Impl::Reference => inputs
            .iter()
            .map(|&x| reference::eval_f32(activation, x))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::int8::DType;

    fn args(activation: &str, alpha: Option<f32>, beta: Option<f32>) -> EvalArgs {
        EvalArgs {
            activation: activation.to_owned(),
            alpha,
            beta,
            implementation: Impl::Reference,
            isa: None,
            dtype: DType::F32,
            in_scale: None,
            in_zero_point: None,
            out_scale: None,
            out_zero_point: None,
            values: Vec::new(),
        }
    }

    #[test]
    fn flags_set_the_parameters() {
        let leaky = activation_of(&args("leaky_relu", Some(0.2), None)).expect("valid");
        assert_eq!(leaky, Activation::LeakyRelu { alpha: 0.2 });
        let swish = activation_of(&args("swish", None, Some(1.5))).expect("valid");
        assert_eq!(swish, Activation::Swish { beta: 1.5 });
        let spec = activation_of(&args("leaky_relu:alpha=0.3", None, None)).expect("valid");
        assert_eq!(spec, Activation::LeakyRelu { alpha: 0.3 });
    }

    #[test]
    fn conflicting_or_misplaced_parameters_are_refused() {
        let twice = activation_of(&args("leaky_relu:alpha=0.3", Some(0.2), None));
        assert!(format!("{:#}", twice.expect_err("twice")).contains("alpha is given twice"));
        let misplaced = activation_of(&args("relu", Some(0.2), None)).expect_err("relu");
        assert!(format!("{misplaced:#}").contains("relu takes no parameter alpha"));
        let unknown = activation_of(&args("elu", None, None)).expect_err("unknown");
        assert!(format!("{unknown:#}").contains("unknown activation `elu`"));
    }

    #[test]
    fn values_parse_specials_and_name_a_bad_one() {
        let texts: Vec<String> = ["-0", "nan", "inf", "-inf", "1e-45"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let values = parse_values(&texts).expect("all parse");
        assert!(values[0] == 0.0 && values[0].is_sign_negative());
        assert!(values[1].is_nan());
        assert_eq!(&values[2..4], [f32::INFINITY, f32::NEG_INFINITY]);
        // 1e-45 rounds to the smallest subnormal, 2^-149.
        assert_eq!(values[4], f32::from_bits(1));

        let texts: Vec<String> = ["1", "2", "x3"].iter().map(|s| (*s).to_owned()).collect();
        let error = parse_values(&texts).expect_err("x3");
        assert_eq!(
            error.to_string(),
            "input 3 of 3, `x3`, is not a number (expected e.g. -1.5, 2e-3, nan, inf)"
        );
        assert!(parse_values(&[]).is_err());
    }

    #[test]
    fn numbers_print_shortest_and_read_back_exactly() {
        let cases = [
            (0.5, "0.5"),
            (1.0, "1"),
            (-0.0, "-0"),
            (1e-5, "0.00001"),
            (9.5e-6, "9.5e-6"),
            (f32::from_bits(27), "3.8e-44"),
            (f32::from_bits(1), "1e-45"),
            (f32::MAX, "3.4028235e38"),
            (1e15, "1000000000000000"),
            (f32::NEG_INFINITY, "-inf"),
            (f32::NAN, "NaN"),
        ];
        for (x, text) in cases {
            assert_eq!(shortest(x), text);
            let back: f32 = text.parse().expect("printed numbers parse");
            assert!(back.to_bits() == x.to_bits() || x.is_nan(), "{text}");
        }
    }

    #[test]
    fn fast_and_reference_agree_on_exact_cases() {
        // ReLU is exact in f32: max(x, 0), with relu(-0) = +0 and NaN kept.
        let inputs = [-2.0, -0.0, 0.0, 3.5, f32::NAN];
        for implementation in [Impl::Fast, Impl::Reference] {
            for isa in Isa::available() {
                let out = evaluate(Activation::Relu, implementation, isa, &inputs);
                assert_eq!(out[0].to_bits(), 0.0f32.to_bits());
                assert_eq!(out[1].to_bits(), 0.0f32.to_bits());
                assert_eq!(out[3], 3.5);
                assert!(out[4].is_nan());
            }
        }
    }

    #[test]
    fn isa_choices_are_checked() {
        let mut fast = args("relu", None, None);
        fast.implementation = Impl::Fast;
        assert_eq!(isa_of(&fast).expect("the default"), Isa::detect());
        fast.isa = Some(IsaChoice::Scalar);
        assert_eq!(isa_of(&fast).expect("scalar runs everywhere"), Isa::Scalar);
        fast.isa = Some(IsaChoice::All);
        assert!(isa_of(&fast).is_err());
        let mut reference = args("relu", None, None);
        reference.isa = Some(IsaChoice::Scalar);
        let error = isa_of(&reference).expect_err("no ISA for the reference");
        assert!(error.to_string().contains("--impl reference"), "{error}");
    }
}
