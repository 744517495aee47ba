//! What to run: activations × sizes × threads, and how long to measure each cell.
//!
//! Plans are written as TOML profiles (`profiles/*.toml`) in a form meant for people:
//!
//! ```toml
//! activations = ["relu", "leaky_relu:alpha=0.01", "gelu"]
//! dtypes = ["f32", "i8"]
//! sizes = ["1k", "64k", "1M", 4096]
//! threads = 1
//! warmup = "0.1s"
//! min_time = "200ms"
//! min_samples = 10
//! seed = 24301
//! power = "rapl"          # optional: a power source, see `power::SourceSpec`
//! ```
//!
//! Sizes are element counts, either plain integers or a number with a binary suffix:
//! `k`/`K` = 1024, `M` = 1024², `G` = 1024³ (so `64k` = 65 536, `1M` = 1 048 576).
//! Durations are a decimal number and a unit: `ns`, `us` (or `µs`), `ms`, `s`.
//! `dtypes` (optional, default `["f32"]`) names the element types: `f32` runs the float
//! kernels, `i8` and `u8` the quantized kernels with the documented default quantization
//! of each activation ([`default_quant`]).
//! [`Plan::default`] is `profiles/quick-local.toml`, embedded at build time, so the file
//! and the default cannot drift apart.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::kernels::Activation;
use crate::kernels::int8::{DType, QuantParams, default_quant};
use crate::power::SourceSpec;
use crate::toml_error::{TomlErrorAt, line_of_key};

/// The quick default profile, embedded so [`Plan::default`] is exactly this file.
pub const QUICK_LOCAL_TOML: &str = include_str!("../../profiles/quick-local.toml");

/// The long sweep profile shipped with actprof.
pub const FULL_SWEEP_TOML: &str = include_str!("../../profiles/full-sweep.toml");

/// A run plan. Profiles in `profiles/*.toml` deserialize into this.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Activations with their parameters, in report order.
    pub activations: Vec<Activation>,
    /// Element types each activation runs in, in report order (`f32` when not given).
    #[serde(default = "default_dtypes")]
    pub dtypes: Vec<DType>,
    /// Tensor lengths in elements.
    pub sizes: Vec<usize>,
    /// Worker threads per kernel call (1 = the calling thread only).
    pub threads: usize,
    /// Time-based warm-up before the samples of each cell.
    pub warmup: Duration,
    /// Minimum measuring time per cell (after warm-up).
    pub min_time: Duration,
    /// Minimum number of samples per cell.
    pub min_samples: usize,
    /// Seed of the input data generator, recorded in every report.
    pub seed: u64,
    /// Power source recorded while the plan runs (`rapl`, `rapl:ZONE`, `battery`); `None`
    /// measures time only and leaves the energy columns empty.
    #[serde(default)]
    pub power: Option<SourceSpec>,
}

/// The dtypes of a plan that names none: the float kernels only.
pub fn default_dtypes() -> Vec<DType> {
    vec![DType::F32]
}

/// One measured cell of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    /// The activation and its parameters.
    pub activation: Activation,
    /// Tensor length of each kernel call, in elements.
    pub elements: usize,
    /// Threads sharing each kernel call.
    pub threads: usize,
    /// Element type of the tensors (`f32` for cells of older plans).
    #[serde(default = "f32_dtype")]
    pub dtype: DType,
    /// The quantization of an `i8`/`u8` cell's input and output; `None` for `f32`.
    #[serde(default)]
    pub quant: Option<CellQuant>,
}

/// How an int8 cell's tensors map codes to real values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellQuant {
    /// The input tensor's scale and zero point.
    pub input: QuantParams,
    /// The output tensor's scale and zero point.
    pub output: QuantParams,
}

fn f32_dtype() -> DType {
    DType::F32
}

impl CellSpec {
    /// A cell of `activation` in `dtype`; quantized cells get the documented default
    /// quantization of the activation ([`default_quant`]).
    pub fn new(activation: Activation, dtype: DType, elements: usize, threads: usize) -> Self {
        let quant = dtype.quantized().map(|quant_dtype| {
            let (input, output) = default_quant(activation, quant_dtype);
            CellQuant { input, output }
        });
        CellSpec {
            activation,
            elements,
            threads,
            dtype,
            quant,
        }
    }

    /// An f32 cell.
    pub fn f32(activation: Activation, elements: usize, threads: usize) -> Self {
        CellSpec::new(activation, DType::F32, elements, threads)
    }
}

/// Why a plan or profile was refused.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The TOML is malformed or a value does not parse; `line` and `column` are 1-based.
    #[error("{source_name}:{line}:{column}: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The profile parsed but describes a plan that cannot run; `at` is the source and,
    /// where the profile sets the key at fault, its line (`plan.toml:3`).
    #[error("{at}: {problem}")]
    Invalid { at: String, problem: InvalidPlan },
    #[error("cannot read profile {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A plan that parses but cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPlan {
    #[error("`activations` is empty: name at least one activation")]
    NoActivations,
    #[error("`dtypes` is empty: name at least one of f32, i8, u8")]
    NoDTypes,
    #[error("`sizes` is empty: give at least one tensor length")]
    NoSizes,
    #[error("`sizes` contains 0: every tensor length must be at least 1 element")]
    ZeroSize,
    #[error("`threads` is 0: use at least 1 thread")]
    ZeroThreads,
    #[error("`min_samples` is {0}: statistics need at least 2 samples")]
    TooFewSamples(usize),
}

impl InvalidPlan {
    /// The profile key at fault.
    pub fn key(&self) -> &'static str {
        match self {
            InvalidPlan::NoActivations => "activations",
            InvalidPlan::NoDTypes => "dtypes",
            InvalidPlan::NoSizes | InvalidPlan::ZeroSize => "sizes",
            InvalidPlan::ZeroThreads => "threads",
            InvalidPlan::TooFewSamples(_) => "min_samples",
        }
    }
}

/// Why a size or duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseQuantityError {
    #[error("bad size `{0}` (expected an element count such as 1024, 1k, 64K, 1M or 16M)")]
    Size(String),
    #[error("bad duration `{0}` (expected a number and a unit: ns, us, ms or s, e.g. 0.5s)")]
    Duration(String),
}

impl Default for Plan {
    /// The quick local plan: `profiles/quick-local.toml`.
    fn default() -> Self {
        // The embedded profile is tested (`embedded_profiles_parse`); failing here is a
        // build defect, not a user error.
        Plan::from_toml_str(QUICK_LOCAL_TOML, "profiles/quick-local.toml")
            .expect("the embedded quick-local profile is valid")
    }
}

impl Plan {
    /// The shipped full sweep (`profiles/full-sweep.toml`).
    pub fn full_sweep() -> Result<Self, PlanError> {
        Plan::from_toml_str(FULL_SWEEP_TOML, "profiles/full-sweep.toml")
    }

    /// Reads and validates a TOML profile file.
    pub fn from_toml_file(path: &Path) -> Result<Self, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Plan::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and validates a TOML profile; `source_name` (usually the path) names the
    /// text in errors. Keys the profile leaves out take the quick plan's values
    /// (`profiles/quick-local.toml`).
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Self, PlanError> {
        let file: ProfileFile =
            toml::from_str(text).map_err(|err| syntax_error(text, source_name, &err))?;
        let plan = file.over(&QUICK_VALUES);
        plan.validate().map_err(|problem| PlanError::Invalid {
            at: match line_of_key(text, problem.key()) {
                Some(line) => format!("{source_name}:{line}"),
                None => source_name.to_owned(),
            },
            problem,
        })?;
        Ok(plan)
    }

    /// Writes the plan as a TOML profile that [`Plan::from_toml_str`] reads back unchanged.
    pub fn to_toml(&self) -> String {
        let list = |items: Vec<String>| {
            let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let activations = list(self.activations.iter().map(Activation::spec).collect());
        let dtypes = list(self.dtypes.iter().map(|d| d.name().to_owned()).collect());
        let sizes = list(self.sizes.iter().map(|&n| format_size(n)).collect());
        let power = self
            .power
            .as_ref()
            .map(|spec| format!("power = \"{spec}\"\n"))
            .unwrap_or_default();
        format!(
            "# actprof run plan. Sizes: k = 1024, M = 1024². Durations: ns, us, ms, s.\n\
             activations = {activations}\n\
             dtypes = {dtypes}\n\
             sizes = {sizes}\n\
             threads = {}\n\
             warmup = \"{}\"\n\
             min_time = \"{}\"\n\
             min_samples = {}\n\
             seed = {}\n\
             {power}",
            self.threads,
            format_duration(self.warmup),
            format_duration(self.min_time),
            self.min_samples,
            self.seed,
        )
    }

    /// Checks that the plan can run.
    pub fn validate(&self) -> Result<(), InvalidPlan> {
        if self.activations.is_empty() {
            return Err(InvalidPlan::NoActivations);
        }
        if self.dtypes.is_empty() {
            return Err(InvalidPlan::NoDTypes);
        }
        if self.sizes.is_empty() {
            return Err(InvalidPlan::NoSizes);
        }
        if self.sizes.contains(&0) {
            return Err(InvalidPlan::ZeroSize);
        }
        if self.threads == 0 {
            return Err(InvalidPlan::ZeroThreads);
        }
        if self.min_samples < 2 {
            return Err(InvalidPlan::TooFewSamples(self.min_samples));
        }
        Ok(())
    }

    /// The cells in run order: for each size, every activation, in every dtype (so an
    /// activation's f32 and int8 cells run back to back).
    pub fn cells(&self) -> Vec<CellSpec> {
        let mut cells = Vec::new();
        for &elements in &self.sizes {
            for &activation in &self.activations {
                for &dtype in &self.dtypes {
                    cells.push(CellSpec::new(activation, dtype, elements, self.threads));
                }
            }
        }
        cells
    }

    /// A lower bound of the run time: warm-up plus minimum measuring time per cell.
    ///
    /// Cells whose `min_samples` take longer than `min_time` run longer than this.
    pub fn estimated_duration(&self) -> Duration {
        let cells = u32::try_from(self.cells().len()).unwrap_or(u32::MAX);
        (self.warmup + self.min_time).saturating_mul(cells)
    }
}

/// Parses an element count: `1024`, `1k`, `64K`, `1M`, `16M`, `1G` (binary multiples).
pub fn parse_size(text: &str) -> Result<usize, ParseQuantityError> {
    let bad = || ParseQuantityError::Size(text.to_owned());
    let trimmed = text.trim();
    let (digits, multiplier) = match trimmed.char_indices().last() {
        Some((i, 'k' | 'K')) => (&trimmed[..i], 1usize << 10),
        Some((i, 'm' | 'M')) => (&trimmed[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&trimmed[..i], 1 << 30),
        _ => (trimmed, 1),
    };
    let count: usize = digits.trim().replace('_', "").parse().map_err(|_| bad())?;
    count.checked_mul(multiplier).ok_or_else(bad)
}

/// Writes an element count the way [`parse_size`] reads it, with the largest exact suffix.
pub fn format_size(elements: usize) -> String {
    match elements {
        0 => "0".to_owned(),
        n if n.is_multiple_of(1 << 30) => format!("{}G", n >> 30),
        n if n.is_multiple_of(1 << 20) => format!("{}M", n >> 20),
        n if n.is_multiple_of(1 << 10) => format!("{}k", n >> 10),
        n => n.to_string(),
    }
}

/// Parses a duration such as `0.5s`, `200ms`, `50us` or `800ns`.
pub fn parse_duration(text: &str) -> Result<Duration, ParseQuantityError> {
    let bad = || ParseQuantityError::Duration(text.to_owned());
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| c.is_alphabetic() || c == 'µ')
        .ok_or_else(bad)?;
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let seconds_per_unit = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => return Err(bad()),
    };
    if !value.is_finite() || value < 0.0 {
        return Err(bad());
    }
    Duration::try_from_secs_f64(value * seconds_per_unit).map_err(|_| bad())
}

/// Writes a duration the way [`parse_duration`] reads it, in the largest exact unit.
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos.is_multiple_of(1_000_000) {
        let ms = nanos / 1_000_000;
        if ms.is_multiple_of(1000) {
            return format!("{}s", ms / 1000);
        }
        if ms.is_multiple_of(100) {
            return format!("{}s", duration.as_secs_f64());
        }
        return format!("{ms}ms");
    }
    if nanos.is_multiple_of(1000) {
        return format!("{}us", nanos / 1000);
    }
    format!("{nanos}ns")
}

/// The on-disk form of a plan: strings where people write units. Every key may be left
/// out; [`Plan::from_toml_str`] takes the quick plan's value for it (`dtypes`: f32 only,
/// `power`: none).
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ProfileFile {
    activations: Option<Vec<ActivationValue>>,
    dtypes: Option<Vec<DTypeValue>>,
    sizes: Option<Vec<SizeValue>>,
    threads: Option<usize>,
    warmup: Option<DurationValue>,
    min_time: Option<DurationValue>,
    min_samples: Option<usize>,
    seed: Option<u64>,
    power: Option<SourceSpec>,
}

impl ProfileFile {
    /// The plan this file describes, with `base`'s value for every key it leaves out.
    fn over(self, base: &Plan) -> Plan {
        let Plan {
            activations,
            sizes,
            threads,
            warmup,
            min_time,
            min_samples,
            seed,
            ..
        } = base.clone();
        Plan {
            activations: self
                .activations
                .map_or(activations, |v| v.into_iter().map(|a| a.0).collect()),
            dtypes: self
                .dtypes
                .map_or_else(default_dtypes, |v| v.into_iter().map(|d| d.0).collect()),
            sizes: self
                .sizes
                .map_or(sizes, |v| v.into_iter().map(|s| s.0).collect()),
            threads: self.threads.unwrap_or(threads),
            warmup: self.warmup.map_or(warmup, |d| d.0),
            min_time: self.min_time.map_or(min_time, |d| d.0),
            min_samples: self.min_samples.unwrap_or(min_samples),
            seed: self.seed.unwrap_or(seed),
            power: self.power,
        }
    }
}

/// The quick plan's values, the defaults of every profile key, read once: the embedded
/// `quick-local.toml` sets them all (`embedded_profiles_parse` checks it), so it is read
/// over an empty base.
static QUICK_VALUES: LazyLock<Plan> = LazyLock::new(|| {
    let file: ProfileFile =
        toml::from_str(QUICK_LOCAL_TOML).expect("the embedded quick-local profile is valid TOML");
    let empty = Plan {
        activations: Vec::new(),
        dtypes: Vec::new(),
        sizes: Vec::new(),
        threads: 0,
        warmup: Duration::ZERO,
        min_time: Duration::ZERO,
        min_samples: 0,
        seed: 0,
        power: None,
    };
    file.over(&empty)
});

/// `"leaky_relu:alpha=0.01"`, parsed while deserializing so errors point at the value.
struct ActivationValue(Activation);

/// `"64k"` or `65536`.
struct SizeValue(usize);

/// `"f32"`, `"i8"` or `"u8"`.
struct DTypeValue(DType);

impl<'de> Deserialize<'de> for DTypeValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DType::from_str(&text)
            .map(DTypeValue)
            .map_err(serde::de::Error::custom)
    }
}

/// `"0.2s"`.
struct DurationValue(Duration);

impl<'de> Deserialize<'de> for ActivationValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Activation::from_str(&text)
            .map(ActivationValue)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text)
            .map(DurationValue)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor)
    }
}

struct SizeVisitor;

impl serde::de::Visitor<'_> for SizeVisitor {
    type Value = SizeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element count such as 4096 or \"64k\"")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SizeValue, E> {
        usize::try_from(v)
            .map(SizeValue)
            .map_err(|_| E::custom(ParseQuantityError::Size(v.to_string())))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SizeValue, E> {
        usize::try_from(v)
            .map(SizeValue)
            .map_err(|_| E::custom(ParseQuantityError::Size(v.to_string())))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SizeValue, E> {
        parse_size(v).map(SizeValue).map_err(E::custom)
    }
}

/// Turns a toml error into one that names the source, the 1-based line and column, and
/// the key whose value holds the error.
fn syntax_error(text: &str, source_name: &str, err: &toml::de::Error) -> PlanError {
    let at = TomlErrorAt::locate(text, err);
    PlanError::Syntax {
        source_name: source_name.to_owned(),
        line: at.line,
        column: at.column,
        message: at.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_profiles_parse() {
        let quick = Plan::from_toml_str(QUICK_LOCAL_TOML, "quick").expect("quick parses");
        assert_eq!(quick.activations, Activation::DEFAULT_SET.to_vec());
        assert_eq!(quick.sizes, [1024, 65_536, 1_048_576, 16_777_216]);
        assert_eq!(quick.threads, 1);
        assert_eq!(quick.warmup, Duration::from_millis(100));
        assert_eq!(quick.min_samples, 10);
        assert_eq!(Plan::default(), quick);

        let full = Plan::full_sweep().expect("full sweep parses");
        assert_eq!(full.sizes.len(), 8);
        assert_eq!(full.sizes[1], 4096);
        assert_eq!(full.activations, Activation::DEFAULT_SET.to_vec());
    }

    #[test]
    fn the_board_profile_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/boards/mcu.toml");
        let board = Plan::from_toml_file(&path).expect("the board profile parses");
        assert_eq!(board.sizes, [64, 256, 1024, 4096]);
        assert_eq!(board.dtypes, [DType::F32, DType::I8]);
        assert_eq!(board.activations, Activation::DEFAULT_SET.to_vec());
    }

    #[test]
    fn sizes_use_binary_multiples() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("64K"), Ok(65_536));
        assert_eq!(parse_size("1M"), Ok(1_048_576));
        assert_eq!(parse_size("16M"), Ok(16_777_216));
        assert_eq!(parse_size("1G"), Ok(1_073_741_824));
        assert!(parse_size("1.5k").is_err());
        assert!(parse_size("k").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("12q").is_err());
        assert_eq!(format_size(65_536), "64k");
        assert_eq!(format_size(3 << 20), "3M");
        assert_eq!(format_size(1000), "1000");
    }

    #[test]
    fn durations_take_decimal_numbers_and_units() {
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("50us"), Ok(Duration::from_micros(50)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("2 s"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("NaNs").is_err());
        assert_eq!(format_duration(Duration::from_millis(200)), "0.2s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_micros(30)), "30us");
    }

    #[test]
    fn the_power_key_names_a_source_and_bad_ones_say_where() {
        let text = format!("{QUICK_LOCAL_TOML}power = \"rapl:package-0\"\n");
        let plan = Plan::from_toml_str(&text, "p.toml").expect("parses");
        let spec = plan.power.as_ref().expect("a source");
        assert_eq!(spec.to_string(), "rapl:package-0");
        assert_eq!(
            Plan::from_toml_str(&plan.to_toml(), "saved").expect("reads"),
            plan
        );
        assert_eq!(Plan::default().power, None);

        let bad = format!("{QUICK_LOCAL_TOML}power = \"um99x\"\n");
        let message = Plan::from_toml_str(&bad, "p.toml")
            .expect_err("unknown kind")
            .to_string();
        assert!(message.starts_with("p.toml:"), "{message}");
        assert!(
            message.contains("unknown power source kind `um99x`"),
            "{message}"
        );

        let portless = format!("{QUICK_LOCAL_TOML}power = \"ppk2\"\n");
        let message = Plan::from_toml_str(&portless, "p.toml")
            .expect_err("a meter needs its port")
            .to_string();
        assert!(message.contains("`ppk2` needs a serial port"), "{message}");
    }

    #[test]
    fn to_toml_round_trips() {
        let mut plan = Plan::default();
        plan.activations.push(Activation::LeakyRelu { alpha: 0.2 });
        plan.activations.push(Activation::Swish { beta: 1.702 });
        plan.sizes.push(1000);
        plan.threads = 2;
        plan.min_time = Duration::from_micros(1500);
        let text = plan.to_toml();
        assert_eq!(
            Plan::from_toml_str(&text, "saved").expect("saved plan parses"),
            plan
        );
    }

    #[test]
    fn dtypes_default_to_f32_and_int8_cells_carry_the_default_quantization() {
        assert_eq!(Plan::default().dtypes, [DType::F32]);
        let text =
            QUICK_LOCAL_TOML.replace("threads = 1", "threads = 1\ndtypes = [\"f32\", \"i8\"]");
        let plan = Plan::from_toml_str(&text, "int8.toml").expect("dtypes parse");
        assert_eq!(plan.dtypes, [DType::F32, DType::I8]);
        assert_eq!(
            Plan::from_toml_str(&plan.to_toml(), "saved").expect("parses"),
            plan
        );

        // Per size and activation, every dtype in turn.
        let cells = plan.cells();
        assert_eq!(cells.len(), 4 * 7 * 2);
        assert_eq!((cells[0].dtype, cells[1].dtype), (DType::F32, DType::I8));
        assert_eq!(cells[0].activation, cells[1].activation);
        assert_eq!(cells[0].quant, None);
        // Sigmoid in i8: input step 1/16 around 0, output step 1/256 from code -128 (the
        // documented TFLite-style choice).
        let sigmoid = cells
            .iter()
            .find(|c| c.activation == Activation::Sigmoid && c.dtype == DType::I8)
            .and_then(|c| c.quant)
            .expect("an i8 sigmoid cell with quantization");
        assert_eq!((sigmoid.input.scale, sigmoid.input.zero_point), (0.0625, 0));
        assert_eq!(
            (sigmoid.output.scale, sigmoid.output.zero_point),
            (1.0 / 256.0, -128)
        );

        let bad = QUICK_LOCAL_TOML.replace("threads = 1", "threads = 1\ndtypes = [\"int8\"]");
        let err = Plan::from_toml_str(&bad, "bad.toml").expect_err("int8 is not a dtype name");
        assert!(err.to_string().contains("bad.toml:"), "{err}");
        assert!(err.to_string().contains("int8"), "{err}");
        let empty = QUICK_LOCAL_TOML.replace("threads = 1", "threads = 1\ndtypes = []");
        let err = Plan::from_toml_str(&empty, "empty.toml").expect_err("no dtypes refused");
        assert!(err.to_string().contains("dtypes"), "{err}");
    }

    #[test]
    fn malformed_profiles_name_source_line_column_and_key() {
        let text = "activations = [\"relu\"]\nsizes = [\"1k\", \"12q\"]\nthreads = 1\n\
                    warmup = \"1ms\"\nmin_time = \"1ms\"\nmin_samples = 3\nseed = 1\n";
        let err = Plan::from_toml_str(text, "my.toml").expect_err("bad size refused");
        let PlanError::Syntax {
            source_name,
            line,
            column,
            message,
        } = &err
        else {
            panic!("expected a syntax error, got {err:?}");
        };
        assert_eq!(source_name, "my.toml");
        assert_eq!(*line, 2);
        // The offending value `"12q"` starts at column 16 of `sizes = ["1k", "12q"]`.
        assert_eq!(*column, 16);
        assert!(message.contains("sizes"), "{message}");
        assert!(message.contains("12q"), "{message}");

        let broken = "activations = [\"relu\"\nthreads = 1\n";
        let err = Plan::from_toml_str(broken, "broken.toml").expect_err("syntax refused");
        assert!(err.to_string().starts_with("broken.toml:"), "{err}");

        let unknown = QUICK_LOCAL_TOML.replace("threads", "thread");
        let err = Plan::from_toml_str(&unknown, "typo.toml").expect_err("unknown key refused");
        assert!(err.to_string().contains("thread"), "{err}");
    }

    #[test]
    fn invalid_plans_are_refused() {
        let zero_threads = QUICK_LOCAL_TOML.replace("threads = 1", "threads = 0");
        let err = Plan::from_toml_str(&zero_threads, "t.toml").expect_err("0 threads refused");
        assert!(matches!(
            err,
            PlanError::Invalid {
                problem: InvalidPlan::ZeroThreads,
                ..
            }
        ));
        // The error names the line that sets the key.
        let line = QUICK_LOCAL_TOML
            .lines()
            .position(|l| l.starts_with("threads ="))
            .expect("threads line")
            + 1;
        assert!(
            err.to_string()
                .starts_with(&format!("t.toml:{line}: `threads` is 0")),
            "{err}"
        );
        let err = Plan::from_toml_str("sizes = [\"1k\", 0]\n", "z.toml").expect_err("0 size");
        assert!(
            err.to_string().starts_with("z.toml:1: `sizes` contains 0"),
            "{err}"
        );

        let plan = Plan {
            min_samples: 1,
            ..Plan::default()
        };
        assert_eq!(plan.validate(), Err(InvalidPlan::TooFewSamples(1)));
        let mut plan = Plan::default();
        plan.sizes.push(0);
        assert_eq!(plan.validate(), Err(InvalidPlan::ZeroSize));
        plan = Plan::default();
        plan.activations.clear();
        assert_eq!(plan.validate(), Err(InvalidPlan::NoActivations));
    }

    #[test]
    fn keys_left_out_take_the_quick_plans_values() {
        let plan = Plan::from_toml_str("activations = [\"tanh\"]\nsizes = [\"4k\"]\n", "s.toml")
            .expect("a short profile is a plan");
        let quick = Plan::default();
        assert_eq!(plan.activations, [Activation::Tanh]);
        assert_eq!(plan.sizes, [4096]);
        assert_eq!(plan.threads, quick.threads);
        assert_eq!(plan.warmup, quick.warmup);
        assert_eq!(plan.min_time, quick.min_time);
        assert_eq!(plan.min_samples, quick.min_samples);
        assert_eq!(plan.seed, quick.seed);
        assert_eq!(plan.dtypes, [DType::F32]);
        assert_eq!(plan.power, None);
        assert_eq!(Plan::from_toml_str("", "empty.toml").expect("empty"), quick);
    }

    #[test]
    fn cells_and_estimate_follow_the_plan() {
        let plan = Plan::default();
        let cells = plan.cells();
        assert_eq!(cells.len(), 7 * 4);
        assert_eq!(cells[0].elements, 1024);
        assert_eq!(cells[7].elements, 65_536);
        // 28 cells × (0.1 s warm-up + 0.2 s measuring).
        assert_eq!(plan.estimated_duration(), Duration::from_millis(28 * 300));
    }
}
