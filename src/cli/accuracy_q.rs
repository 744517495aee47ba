//! `actprof accuracy --dtype i8|u8`: every quantized kernel on all 256 input codes.
//!
//! Each activation is checked with its default quantization ([`default_quant`]) and its
//! default method (`max` or `table`), plus `fixed_point` for ReLU and Leaky ReLU, on every
//! chosen instruction set. Two errors are reported ([`accuracy_q`]): against the quantized
//! definition in output codes (LSB), which decides PASS or FAIL, and against the real
//! function in the activation's units, which is what 8 bits cost.
//!
//! The bar: 0 LSB for `max` and `table` (they compute the definition exactly), at most
//! 1 LSB for `fixed_point` (integer multipliers round once more). Exit code 1 when any
//! kernel misses it.

use std::io::{self, Write as _};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::accuracy::activations_of;
use super::table::{self, Align};
use super::{AccuracyArgs, IsaChoice};
use crate::kernels::Activation;
use crate::kernels::int8::{
    QuantAccuracy, QuantDType, QuantIsa, QuantMethod, QuantizedKernel, accuracy_q, default_quant,
    format_quant,
};

/// The check of one kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantCheck {
    /// The activation and its parameters.
    pub activation: Activation,
    /// The dtype of input and output.
    pub dtype: QuantDType,
    /// How the kernel computes.
    pub method: QuantMethod,
    /// The instruction set it ran on.
    pub isa: QuantIsa,
    /// The quantization, as reports write it.
    pub quant: String,
    /// What the 256 inputs showed.
    pub accuracy: QuantAccuracy,
}

impl QuantCheck {
    /// Whether the kernel is within its method's bar.
    pub fn passes(&self) -> bool {
        self.accuracy.max_lsb <= lsb_bar(self.method)
    }
}

/// The largest distance from the definition a method may have, in output codes.
pub fn lsb_bar(method: QuantMethod) -> u32 {
    match method {
        QuantMethod::Max | QuantMethod::Table => 0,
        QuantMethod::FixedPoint => 1,
    }
}

/// Runs the checks and prints the table.
pub fn run(args: &AccuracyArgs, dtype: QuantDType) -> anyhow::Result<ExitCode> {
    if args.points.is_some() {
        bail!("--points does not apply to {dtype}: every one of the 256 input codes is checked");
    }
    let activations = activations_of(args)?;
    let isas = isas_of(args.isa)?;
    let checks = check_all(&activations, dtype, &isas)?;
    io::stdout()
        .lock()
        .write_all(render(&checks).as_bytes())
        .context("cannot write to standard output")?;
    if checks.iter().all(QuantCheck::passes) {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

/// Checks every activation with each applicable method on each instruction set.
pub fn check_all(
    activations: &[Activation],
    dtype: QuantDType,
    isas: &[QuantIsa],
) -> anyhow::Result<Vec<QuantCheck>> {
    let mut checks = Vec::new();
    for &activation in activations {
        let (input, output) = default_quant(activation, dtype);
        let mut methods = vec![QuantMethod::default_for(activation, input, output)];
        if matches!(activation, Activation::Relu | Activation::LeakyRelu { .. }) {
            methods.push(QuantMethod::FixedPoint);
        }
        for method in methods {
            let kernel = QuantizedKernel::with_method(activation, dtype, input, output, method)
                .with_context(|| format!("cannot build the {method} kernel of {activation}"))?;
            for &isa in isas {
                let kernel = kernel.clone().on_isa(isa)?;
                checks.push(QuantCheck {
                    activation,
                    dtype,
                    method,
                    isa,
                    quant: format_quant(input, output),
                    accuracy: accuracy_q(&kernel),
                });
            }
        }
    }
    Ok(checks)
}

/// The quantized instruction sets to check; one this CPU cannot run is an error.
fn isas_of(choice: IsaChoice) -> anyhow::Result<Vec<QuantIsa>> {
    let wanted = match choice {
        IsaChoice::All => return Ok(QuantIsa::available()),
        // The quantized kernels have no NEON form: the scalar one runs there.
        IsaChoice::Scalar | IsaChoice::Neon => QuantIsa::Scalar,
        IsaChoice::Avx2 => QuantIsa::Avx2,
        IsaChoice::Avx512 => QuantIsa::Avx512Vbmi,
    };
    if !wanted.is_available() {
        let available: Vec<&str> = QuantIsa::available()
            .into_iter()
            .map(QuantIsa::name)
            .collect();
        bail!(
            "this CPU cannot run the {} quantized kernels (available here: {})",
            wanted.name(),
            available.join(", ")
        );
    }
    Ok(vec![wanted])
}

/// The table, then the quantization each activation was checked with.
pub fn render(checks: &[QuantCheck]) -> String {
    let header = [
        ("activation", Align::Left),
        ("dtype", Align::Left),
        ("method", Align::Left),
        ("isa", Align::Left),
        ("inputs", Align::Right),
        ("max LSB", Align::Right),
        ("at q_in", Align::Right),
        ("bar LSB", Align::Right),
        ("max real error", Align::Right),
        ("mean real error", Align::Right),
        ("result", Align::Left),
    ];
    let rows: Vec<Vec<String>> = checks.iter().map(table_row).collect();
    let mut text = table::render(&header, &rows);
    text.push_str(
        "real error: |dequantized output - f(dequantized input)| in the activation's units\n",
    );
    let mut seen: Vec<String> = Vec::new();
    for check in checks {
        let label = check.activation.to_string();
        if !seen.contains(&label) {
            text.push_str(&format!("{label}: {}\n", check.quant));
            seen.push(label);
        }
    }
    text
}

fn table_row(check: &QuantCheck) -> Vec<String> {
    let accuracy = &check.accuracy;
    let inputs = check.dtype.qmax() - check.dtype.qmin() + 1;
    vec![
        check.activation.to_string(),
        check.dtype.to_string(),
        check.method.name().to_owned(),
        check.isa.name().to_owned(),
        inputs.to_string(),
        accuracy.max_lsb.to_string(),
        if accuracy.max_lsb == 0 {
            "-".to_owned()
        } else {
            accuracy.worst_q_in.to_string()
        },
        lsb_bar(check.method).to_string(),
        table::significant(accuracy.max_abs_real_error, 3),
        table::significant(accuracy.mean_abs_real_error, 3),
        if check.passes() { "PASS" } else { "FAIL" }.to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_kernel_meets_its_bar_on_every_isa() {
        for dtype in QuantDType::ALL {
            let checks = check_all(&Activation::DEFAULT_SET, dtype, &QuantIsa::available())
                .expect("default quantization builds");
            // Seven activations, ReLU and Leaky ReLU twice (fixed point too), per ISA.
            assert_eq!(checks.len(), 9 * QuantIsa::available().len());
            for check in &checks {
                assert!(check.passes(), "{check:?}");
            }
        }
    }

    #[test]
    fn the_table_names_method_bar_and_quantization() {
        let checks =
            check_all(&[Activation::Sigmoid], QuantDType::I8, &[QuantIsa::Scalar]).expect("ok");
        let text = render(&checks);
        assert!(text.contains("table"), "{text}");
        assert!(text.contains("PASS"), "{text}");
        assert!(
            text.contains("sigmoid: in_scale=0.0625;in_zp=0;out_scale=0.00390625;out_zp=-128"),
            "{text}"
        );
    }
}
