//! The command line as clap types: every subcommand's arguments, with units in the help.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::harness::plan::{parse_duration, parse_size};
use crate::kernels::int8::DType;
use crate::power::SourceSpec;
use crate::target::TargetSpec;

/// Measure how fast and how accurate neural-network activation functions are on this CPU.
///
/// Without a subcommand actprof opens the desktop app (when built with the `gui` feature).
#[derive(Debug, Parser)]
#[command(name = "actprof", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The headless commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time activation kernels over a plan of tensor sizes and print per-call statistics.
    Bench(Box<BenchArgs>),
    /// Evaluate one activation at the given inputs and print `input output` lines.
    Eval(EvalArgs),
    /// Measure the error of the fast kernels against the exact f64 reference.
    Accuracy(AccuracyArgs),
    /// Compare two CSV reports cell by cell and flag changes beyond the noise.
    Compare(CompareArgs),
    /// Record a power source (RAPL, battery, a USB meter) for a while and write its trace.
    Record(crate::cli::record::RecordArgs),
    /// Read a power recording from the PPK2 app, the Joulescope UI or rd-usb and write
    /// it as an actprof trace.
    Import(crate::cli::import::ImportArgs),
    /// Emulate a USB power meter, the QEMU board or an MLPerf Tiny DUT on a pseudo-terminal
    /// (prints the port path first).
    Emulate(crate::cli::emulate::EmulateArgs),
    /// List the serial ports and the meters recognised on them.
    Ports(crate::cli::ports::PortsArgs),
    /// Time whole inferences of the small-model zoo (MLPerf Tiny shapes) per activation,
    /// with the share of time spent in activation layers; `--summary` lists the layers.
    Models(crate::cli::models::ModelsArgs),
    /// Train mlp-small on two spirals per activation and learning rate, and record loss,
    /// accuracy and dead units per epoch (the dying-ReLU experiment).
    TrainDemo(crate::cli::train_demo::TrainDemoArgs),
}

/// `actprof bench`: flags override the profile; without either the quick plan runs
/// (`profiles/quick-local.toml`).
#[derive(Clone, Debug, Default, Args)]
pub struct BenchArgs {
    /// Activations to time, comma-separated; parameters as `name:key=value`, e.g.
    /// `relu,leaky_relu:alpha=0.2,gelu,swish:beta=1.5`. Names: relu, leaky_relu, sigmoid,
    /// tanh, gelu, gelu_tanh, silu, swish. [default: all seven of the quick plan]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub activations: Vec<String>,

    /// Tensor lengths in elements, comma-separated; k = 1024, M = 1024² (e.g.
    /// `1k,64k,1M,16M` or `1000,4096`). [default: 1k,64k,1M,16M]
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = size_arg)]
    pub sizes: Vec<usize>,

    /// Element types to time, comma-separated: f32 (the float kernels), i8 and u8 (the
    /// quantized kernels, with each activation's default quantization: input step 1/16
    /// over [-8, 8); the report's params column lists it). [default: f32]
    #[arg(long = "dtype", value_delimiter = ',', value_name = "LIST", value_parser = dtype_arg)]
    pub dtypes: Vec<DType>,

    /// Threads that share each kernel call, each on a contiguous chunk (1 = this thread
    /// only). [default: 1]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Minimum measuring time per cell, after warm-up; a number and a unit (ns, us, ms, s),
    /// e.g. `0.5s` or `200ms`. [default: 0.2s]
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub min_time: Option<Duration>,

    /// Warm-up time per cell before sampling, e.g. `0.1s` or `50ms`. [default: 0.1s]
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub warmup: Option<Duration>,

    /// Minimum number of timed samples per cell (at least 2). [default: 10]
    #[arg(long, value_name = "N")]
    pub min_samples: Option<usize>,

    /// Seed of the random input data (uniform in [-8, 8]) and of the bootstrap.
    /// [default: 24301]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Run plan to start from: a TOML profile such as `profiles/full-sweep.toml`.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// What to print on standard output: an aligned table, CSV report rows, or JSON rows.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write the CSV report (one row per cell, units in the column names) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Record a power source during the run and attribute energy per call: `rapl`,
    /// `rapl:ZONE`, `battery`, or a USB meter (`um24c:PORT`, `um25c:PORT`, `um34c:PORT`,
    /// `tc66c:PORT`, `ppk2:PORT`, `scpi:PORT`, `ina:PORT`). An idle baseline is measured
    /// first and every cell runs for at least 22 samples of the source. Overrides the
    /// profile's `power` key.
    /// The environment variables ACTPROF_POWERCAP_ROOT and ACTPROF_POWER_SUPPLY_ROOT point
    /// `rapl` and `battery` at other sysfs trees (for tests and containers).
    #[arg(long = "power", value_name = "SOURCE", value_parser = power_arg)]
    pub power: Option<SourceSpec>,

    /// Time between two reads of the power source, e.g. `50ms`. [default: 50ms]
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub power_interval: Option<Duration>,

    /// Shortest idle baseline before the plan, e.g. `2s` (lengthened to 22 samples of a
    /// slow source). [default: 2s]
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub idle: Option<Duration>,

    /// Where the cells run: `local` (this CPU), `board:PORT[@BAUD]` (a board running the
    /// actprof firmware, which times itself; see docs/board-protocol.md) or
    /// `mlperf-dut:PORT[@BAUD]` (an MLPerf Tiny / EnergyRunner device under test, whose
    /// latency per inference is scored as MLPerf Tiny does). Baud defaults to 115200.
    #[arg(long, value_name = "TARGET", value_parser = target_arg, default_value = "local")]
    pub target: TargetSpec,

    /// board: longest wait for each line of the board's answer (a timed run, or
    /// the end of a command), e.g. `2s`. A longer silence is an error naming the port and
    /// the command. [default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = positive_duration_arg,
          help_heading = "Board")]
    pub board_timeout: Option<Duration>,

    /// mlperf-dut: timed windows (`download; infer N W` each); the score is their median
    /// throughput. [default: 5, as MLPerf Tiny]
    #[arg(long, value_name = "N", help_heading = "MLPerf Tiny DUT")]
    pub windows: Option<usize>,

    /// mlperf-dut: shortest window, e.g. `500ms`: a first calibration window picks the
    /// inferences per window so each lasts at least this. Below 10s the score is not
    /// MLPerf Tiny compliant and the output says so. [default: 10s]
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = duration_arg,
        conflicts_with = "inferences",
        help_heading = "MLPerf Tiny DUT"
    )]
    pub window: Option<Duration>,

    /// mlperf-dut: timed inferences per window (infer's N), instead of calibrating.
    #[arg(long, value_name = "N", help_heading = "MLPerf Tiny DUT")]
    pub inferences: Option<u32>,

    /// mlperf-dut: warm-up inferences before each window's timed ones (infer's W).
    /// [default: the MLCommons runner's: ic01 5, kws01 10, vww01 5, ad01 10]
    #[arg(long, value_name = "N", help_heading = "MLPerf Tiny DUT")]
    pub warmup_inferences: Option<u32>,

    /// mlperf-dut: longest wait for each reply line, e.g. `5s`. [default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = duration_arg,
          help_heading = "MLPerf Tiny DUT")]
    pub line_timeout: Option<Duration>,

    /// mlperf-dut: longest wait for each line of infer's reply; the whole timed window
    /// passes between two of them. [default: 30s, or twice --window plus 10s if longer]
    #[arg(long, value_name = "DURATION", value_parser = duration_arg,
          help_heading = "MLPerf Tiny DUT")]
    pub infer_timeout: Option<Duration>,
}

fn positive_duration_arg(text: &str) -> Result<Duration, String> {
    let duration = duration_arg(text)?;
    if duration.is_zero() {
        return Err("must be longer than 0 (e.g. 5s)".to_owned());
    }
    Ok(duration)
}

fn target_arg(text: &str) -> Result<TargetSpec, String> {
    text.parse()
        .map_err(|err: crate::target::TargetSpecError| err.to_string())
}

fn power_arg(text: &str) -> Result<SourceSpec, String> {
    text.parse()
        .map_err(|err: crate::power::PowerError| err.to_string())
}

/// Output format of `bench` on standard output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns with units in the headers.
    #[default]
    Table,
    /// The CSV report, exactly as `--out` writes it.
    Csv,
    /// The report rows as a JSON array of objects.
    Json,
}

/// Which implementation `eval` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Impl {
    /// The f32 kernel that `bench` times.
    Fast,
    /// The exact f64 reference, rounded to f32.
    Reference,
}

/// `actprof eval`.
#[derive(Clone, Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct EvalArgs {
    /// Activation name, optionally with parameters (`leaky_relu:alpha=0.2`).
    pub activation: String,

    /// Negative-side slope of leaky_relu (dimensionless). [default: 0.01]
    #[arg(long, value_name = "A")]
    pub alpha: Option<f32>,

    /// Slope inside swish's sigmoid, `x·sigmoid(beta·x)` (dimensionless). [default: 1]
    #[arg(long, value_name = "B")]
    pub beta: Option<f32>,

    /// Implementation to evaluate (f32 only; i8/u8 run the quantized kernel).
    #[arg(long = "impl", value_enum, default_value_t = Impl::Fast)]
    pub implementation: Impl,

    /// Kernel variant of the fast implementation (f32), one that this CPU can run.
    /// [default: the best one, as `bench` uses]
    #[arg(long, value_enum, value_name = "ISA")]
    pub isa: Option<IsaChoice>,

    /// Element type: f32, or i8/u8 for the quantized kernel, which reads integer codes and
    /// prints `q_in q_out` lines.
    #[arg(long, value_name = "DTYPE", value_parser = dtype_arg, default_value = "f32")]
    pub dtype: DType,

    /// i8/u8: real units per input code step (> 0). [default: the activation's default
    /// quantization, 0.0625]
    #[arg(long, value_name = "S")]
    pub in_scale: Option<f32>,

    /// i8/u8: the input code that stands for 0. [default: 0 for i8, 128 for u8]
    #[arg(long, value_name = "Z")]
    pub in_zero_point: Option<i32>,

    /// i8/u8: real units per output code step (> 0). [default: the activation's default
    /// quantization, e.g. 0.00390625 for sigmoid]
    #[arg(long, value_name = "S")]
    pub out_scale: Option<f32>,

    /// i8/u8: the output code that stands for 0. [default: the activation's default
    /// quantization, e.g. -128 for sigmoid in i8]
    #[arg(long, value_name = "Z")]
    pub out_zero_point: Option<i32>,

    /// Input values: f32 numbers (negative numbers, `nan`, `inf`, `-inf` allowed), or
    /// integer codes for i8/u8; also after `--`.
    #[arg(value_name = "VALUES", allow_hyphen_values = true)]
    pub values: Vec<String>,
}

/// Which kernel variants `accuracy` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IsaChoice {
    /// The portable scalar kernels.
    Scalar,
    /// NEON kernels (aarch64).
    Neon,
    /// AVX2 + FMA kernels.
    Avx2,
    /// AVX-512 kernels.
    Avx512,
    /// Every variant this CPU can run.
    All,
}

/// `actprof accuracy`.
#[derive(Clone, Debug, Args)]
pub struct AccuracyArgs {
    /// Activations to check, comma-separated, as for `bench`. [default: all seven]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub activations: Vec<String>,

    /// Check every f32 bit pattern (2³² inputs; minutes per activation).
    #[arg(long)]
    pub exhaustive: bool,

    /// Number of test inputs when not exhaustive, spread over the f32 range (at least 1000).
    /// [default: 4000000]
    #[arg(long, value_name = "N", conflicts_with = "exhaustive")]
    pub points: Option<u64>,

    /// Threads that share the sweep. [default: all logical CPUs]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Kernel variants to check (for i8/u8: avx512 means AVX-512 VBMI).
    #[arg(long, value_enum, default_value_t = IsaChoice::All)]
    pub isa: IsaChoice,

    /// Element type: f32 sweeps the float kernels; i8 or u8 checks the quantized kernels on
    /// all 256 input codes, in output codes (LSB) and in real units.
    #[arg(long, value_name = "DTYPE", value_parser = dtype_arg, default_value = "f32")]
    pub dtype: DType,
}

/// `actprof compare`.
#[derive(Clone, Debug, Args)]
pub struct CompareArgs {
    /// The baseline CSV report.
    #[arg(value_name = "BASE.csv")]
    pub base: PathBuf,

    /// The CSV report to judge against the baseline.
    #[arg(value_name = "NEW.csv")]
    pub new: PathBuf,

    /// Relative change of the median below which a difference counts as noise, in percent
    /// (e.g. `2%`).
    #[arg(long, value_name = "PERCENT", default_value = "2%")]
    pub noise: String,
}

fn size_arg(text: &str) -> Result<usize, String> {
    match parse_size(text) {
        Ok(0) => Err("a tensor needs at least 1 element".to_owned()),
        Ok(size) => Ok(size),
        Err(err) => Err(err.to_string()),
    }
}

fn dtype_arg(text: &str) -> Result<DType, String> {
    text.parse()
        .map_err(|err: crate::kernels::int8::QuantError| err.to_string())
}

fn duration_arg(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bench_flags_parse_with_units() {
        let cli = Cli::try_parse_from([
            "actprof",
            "bench",
            "--sizes",
            "1k,4096",
            "--min-time",
            "20ms",
            "--warmup",
            "0.5s",
            "--activations",
            "relu,leaky_relu:alpha=0.2",
            "--format",
            "csv",
        ])
        .expect("parses");
        let Some(Command::Bench(args)) = cli.command else {
            panic!("bench expected")
        };
        assert_eq!(args.sizes, [1024, 4096]);
        assert_eq!(args.min_time, Some(Duration::from_millis(20)));
        assert_eq!(args.warmup, Some(Duration::from_millis(500)));
        assert_eq!(args.activations, ["relu", "leaky_relu:alpha=0.2"]);
        assert_eq!(args.format, Format::Csv);
    }

    #[test]
    fn eval_takes_negative_values_with_and_without_double_dash() {
        for argv in [
            &["actprof", "eval", "relu", "-1.5", "2", "-inf"][..],
            &["actprof", "eval", "relu", "--", "-1.5", "2", "-inf"][..],
        ] {
            let cli = Cli::try_parse_from(argv).expect("parses");
            let Some(Command::Eval(args)) = cli.command else {
                panic!("eval expected")
            };
            assert_eq!(args.values, ["-1.5", "2", "-inf"]);
        }
    }

    #[test]
    fn compare_noise_defaults_to_two_percent() {
        let cli = Cli::try_parse_from(["actprof", "compare", "a.csv", "b.csv"]).expect("parses");
        let Some(Command::Compare(args)) = cli.command else {
            panic!("compare expected")
        };
        assert_eq!(args.noise, "2%");
        assert_eq!(args.base, PathBuf::from("a.csv"));
    }
}
