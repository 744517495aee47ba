//! End-to-end tests of the int8/uint8 dtypes on the real binary: `eval`, `accuracy` and
//! `bench` with `--dtype`.
//!
//! Expected codes come from the definition of a quantized activation,
//! `q_out = clamp(round_half_away(f(s_in·(q − zp_in)) / s_out) + zp_out, qmin, qmax)`,
//! evaluated here in f64 with the scales as the f32 values the command line reads.

use std::collections::BTreeMap;

use assert_cmd::Command;
use predicates::prelude::*;

fn actprof() -> Command {
    let mut command = Command::cargo_bin("actprof").expect("the actprof binary is built");
    command.env_remove("RUST_LOG");
    command
}

/// One side of a quantized tensor: real = scale · (code − zero_point).
#[derive(Clone, Copy)]
struct Quant {
    scale: f32,
    zero_point: i32,
}

/// The definition: f at the real input, rounded half away from zero to an output code,
/// saturated to `qmin..=qmax`.
fn expected(f: impl Fn(f64) -> f64, q: i32, input: Quant, output: Quant, range: (i32, i32)) -> i32 {
    let x = f64::from(input.scale) * f64::from(q - input.zero_point);
    let steps = (f(x) / f64::from(output.scale)).round();
    let code = steps + f64::from(output.zero_point);
    code.clamp(f64::from(range.0), f64::from(range.1)) as i32
}

const I8: (i32, i32) = (-128, 127);
const U8: (i32, i32) = (0, 255);

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs `actprof eval ARGS -- CODES` and returns the `q_in q_out` pairs it printed.
fn eval_codes(args: &[&str], codes: &[i32]) -> Vec<(i32, i32)> {
    let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
    let output = actprof()
        .arg("eval")
        .args(args)
        .arg("--")
        .args(&codes)
        .output()
        .expect("actprof runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| {
            let (q_in, q_out) = line.split_once(' ').expect("`q_in q_out` lines");
            (
                q_in.parse().expect("an integer q_in"),
                q_out.parse().expect("an integer q_out"),
            )
        })
        .collect()
}

#[test]
fn eval_sigmoid_i8_with_the_documented_default_quantization() {
    // The documented default for sigmoid in i8: input step 1/16 around code 0, output step
    // 1/256 starting at code -128.
    let input = Quant {
        scale: 0.0625,
        zero_point: 0,
    };
    let output = Quant {
        scale: 1.0 / 256.0,
        zero_point: -128,
    };
    let codes = [-128, -1, 0, 1, 127];
    let printed = eval_codes(&["sigmoid", "--dtype", "i8"], &codes);
    let wanted: Vec<(i32, i32)> = codes
        .iter()
        .map(|&q| (q, expected(sigmoid, q, input, output, I8)))
        .collect();
    assert_eq!(printed, wanted);
    // sigmoid(0) = 1/2 is 128 steps above -128; sigmoid(127/16) saturates at the top.
    assert_eq!(printed[2], (0, 0));
    assert_eq!(printed[4], (127, 127));
}

#[test]
fn eval_relu_u8_with_zero_points_and_saturation() {
    let input = Quant {
        scale: 0.5,
        zero_point: 100,
    };
    let output = Quant {
        scale: 0.25,
        zero_point: 10,
    };
    let args = [
        "relu",
        "--dtype",
        "u8",
        "--in-scale",
        "0.5",
        "--in-zero-point",
        "100",
        "--out-scale",
        "0.25",
        "--out-zero-point",
        "10",
    ];
    let codes = [0, 99, 100, 101, 150, 222, 223, 255];
    let printed = eval_codes(&args, &codes);
    let wanted: Vec<(i32, i32)> = codes
        .iter()
        .map(|&q| (q, expected(|x| x.max(0.0), q, input, output, U8)))
        .collect();
    assert_eq!(printed, wanted);
    // Negative inputs give the output zero point; from 223 on the output saturates.
    assert_eq!(printed[0], (0, 10));
    assert_eq!(printed[7], (255, 255));
}

#[test]
fn eval_leaky_relu_with_alpha_and_mismatched_scales() {
    let input = Quant {
        scale: 0.1,
        zero_point: 5,
    };
    let output = Quant {
        scale: 0.07,
        zero_point: -3,
    };
    let args = [
        "leaky_relu",
        "--alpha",
        "1.5",
        "--dtype",
        "i8",
        "--in-scale",
        "0.1",
        "--in-zero-point",
        "5",
        "--out-scale",
        "0.07",
        "--out-zero-point",
        "-3",
    ];
    let codes: Vec<i32> = (-128..=127).step_by(7).chain([127]).collect();
    let alpha = f64::from(1.5_f32);
    let leaky = |x: f64| if x < 0.0 { alpha * x } else { x };
    let printed = eval_codes(&args, &codes);
    let wanted: Vec<(i32, i32)> = codes
        .iter()
        .map(|&q| (q, expected(leaky, q, input, output, I8)))
        .collect();
    assert_eq!(printed, wanted);
    // 1.5 · 0.1 · (−133) / 0.07 is far below −128: saturated.
    assert_eq!(printed[0], (-128, -128));
}

#[test]
fn eval_tanh_saturates_with_a_fine_output_scale() {
    let input = Quant {
        scale: 0.0625,
        zero_point: 0,
    };
    let output = Quant {
        scale: 0.001,
        zero_point: 0,
    };
    let codes = [-128, -3, -2, 0, 2, 3, 127];
    let printed = eval_codes(
        &[
            "tanh",
            "--dtype",
            "i8",
            "--out-scale",
            "0.001",
            "--out-zero-point",
            "0",
        ],
        &codes,
    );
    let wanted: Vec<(i32, i32)> = codes
        .iter()
        .map(|&q| (q, expected(f64::tanh, q, input, output, I8)))
        .collect();
    assert_eq!(printed, wanted);
    assert_eq!((printed[0].1, printed[6].1), (-128, 127));
}

#[test]
fn eval_refuses_bad_codes_and_parameters_naming_them() {
    actprof()
        .args(["eval", "sigmoid", "--dtype", "i8", "--", "0", "128"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "input 2 of 2, `128`, is outside the i8 codes -128..=127",
        ));
    actprof()
        .args(["eval", "relu", "--dtype", "u8", "--", "-1"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "`-1`, is outside the u8 codes 0..=255",
        ));
    actprof()
        .args(["eval", "relu", "--dtype", "i8", "--", "1.5"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "input 1 of 1, `1.5`, is not an integer code",
        ));
    actprof()
        .args([
            "eval",
            "tanh",
            "--dtype",
            "i8",
            "--out-scale",
            "0",
            "--",
            "0",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--out-scale"))
        .stderr(predicate::str::contains("output scale 0"));
    actprof()
        .args([
            "eval",
            "tanh",
            "--dtype",
            "u8",
            "--in-zero-point",
            "300",
            "--",
            "0",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "input zero point 300 is outside the u8 range",
        ));
    actprof()
        .args(["eval", "tanh", "--in-scale", "0.5", "--", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--dtype i8"));
    actprof()
        .args(["eval", "tanh", "--dtype", "int8", "--", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("int8"));
}

#[test]
fn accuracy_checks_every_int8_kernel_in_lsb_and_real_units() {
    for dtype in ["i8", "u8"] {
        let output = actprof()
            .args(["accuracy", "--dtype", dtype, "--isa", "scalar"])
            .output()
            .expect("actprof runs");
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        assert!(text.contains("max LSB"), "{text}");
        assert!(text.contains("max real error"), "{text}");
        assert!(!text.contains("FAIL"), "{text}");
        // Seven default activations, plus fixed point for ReLU and Leaky ReLU.
        let rows = text.lines().filter(|l| l.contains(" scalar ")).count();
        assert_eq!(rows, 9, "{text}");
        for line in text.lines().filter(|l| l.contains(" table ")) {
            let lsb: Vec<&str> = line.split_whitespace().collect();
            // activation, dtype, method, isa, inputs, max LSB: a table kernel is exact.
            assert_eq!((lsb[4], lsb[5]), ("256", "0"), "{line}");
        }
    }
    actprof()
        .args(["accuracy", "--dtype", "i8", "--points", "10"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--points"));
}

/// Parses a CSV report into one map (column → value) per row.
fn parse_csv(text: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text);
    let header = reader.headers().expect("a header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("a well-formed row");
            header
                .iter()
                .map(str::to_owned)
                .zip(record.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn bench_times_f32_and_int8_cells_with_their_quantization_and_lsb_error() {
    let output = actprof()
        .args([
            "bench",
            "--activations",
            "relu,sigmoid",
            "--dtype",
            "f32,i8,u8",
            "--sizes",
            "1k",
            "--min-time",
            "10ms",
            "--warmup",
            "2ms",
            "--min-samples",
            "3",
            "--format",
            "csv",
        ])
        .output()
        .expect("actprof runs");
    assert!(output.status.success(), "{output:?}");
    let rows = parse_csv(&output.stdout);
    let identity: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["activation"].as_str(), r["dtype"].as_str()))
        .collect();
    assert_eq!(
        identity,
        [
            ("relu", "f32"),
            ("relu", "i8"),
            ("relu", "u8"),
            ("sigmoid", "f32"),
            ("sigmoid", "i8"),
            ("sigmoid", "u8")
        ]
    );
    assert_eq!(rows[0]["params"], "");
    assert_eq!(rows[0]["max_lsb_error"], "");
    assert_eq!(
        rows[4]["params"],
        "in_scale=0.0625;in_zp=0;out_scale=0.00390625;out_zp=-128"
    );
    assert_eq!(
        rows[5]["params"],
        "in_scale=0.0625;in_zp=128;out_scale=0.00390625;out_zp=0"
    );
    for row in &rows[1..3].iter().chain(&rows[4..]).collect::<Vec<_>>() {
        assert_eq!(row["max_lsb_error"], "0", "{row:?}");
        let median: f64 = row["median_ns"].parse().expect("a number");
        assert!(median > 0.0);
    }
    // The i8 sigmoid's largest code, 127, stands for 255/256, below sigmoid(127/16).
    let top = sigmoid(127.0 / 16.0) - 255.0 / 256.0;
    let abs: f64 = rows[4]["max_abs_error"].parse().expect("a number");
    assert!((abs - top).abs() < 1e-9, "{abs} vs {top}");

    actprof()
        .args(["bench", "--dtype", "f32,int8", "--sizes", "1k"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("int8"));
}

#[test]
fn bench_table_shows_dtype_and_lsb_columns() {
    actprof()
        .args([
            "bench",
            "--activations",
            "tanh",
            "--dtype",
            "i8",
            "--sizes",
            "1k",
            "--min-time",
            "5ms",
            "--warmup",
            "1ms",
            "--min-samples",
            "3",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("dtype"))
        .stdout(predicate::str::contains("max err LSB"))
        .stdout(predicate::str::contains(" i8 "));
}
