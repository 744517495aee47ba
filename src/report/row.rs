//! One CSV row per measured cell. Units are in the column names.

use serde::{Deserialize, Serialize};

use crate::harness::{CellResult, HostFacts};
use crate::kernels::int8::format_quant;
use crate::session::CellEnergy;

/// The element type of every f32 kernel's row.
pub const DTYPE_F32: &str = "f32";

/// The quantization keys an i8/u8 row appends to its `params` (see [`format_quant`]).
pub const QUANT_KEYS: [&str; 4] = ["in_scale", "in_zp", "out_scale", "out_zp"];

/// Columns a report may lack because older actprof versions did not write them; reading
/// such a report leaves the field empty.
pub const OPTIONAL_COLUMNS: [&str; 15] = [
    "threads_used",
    "max_lsb_error",
    "timing",
    "median_cycles_per_call",
    "power_source",
    "avg_power_w",
    "idle_power_w",
    "energy_per_call_nj",
    "energy_per_element_pj",
    "energy_ci95_low_nj",
    "energy_ci95_high_nj",
    "power_samples",
    "model",
    "batch",
    "activation_share",
];

/// The energy columns, empty in rows measured without a power source.
pub const ENERGY_COLUMNS: [&str; 8] = [
    "power_source",
    "avg_power_w",
    "idle_power_w",
    "energy_per_call_nj",
    "energy_per_element_pj",
    "energy_ci95_low_nj",
    "energy_ci95_high_nj",
    "power_samples",
];

/// The CSV columns in order, as the header line names them.
pub const COLUMNS: [&str; 46] = [
    "activation",
    "params",
    "dtype",
    "elements",
    "threads",
    "threads_used",
    "target",
    "samples",
    "iterations_per_sample",
    "median_ns",
    "mean_ns",
    "stddev_ns",
    "mad_ns",
    "min_ns",
    "p5_ns",
    "p95_ns",
    "p99_ns",
    "ci95_low_ns",
    "ci95_high_ns",
    "outliers_mild",
    "outliers_severe",
    "ns_per_element",
    "gelem_per_s",
    "max_ulp_error",
    "max_abs_error",
    "max_lsb_error",
    "host_cpu",
    "host_os",
    "governor",
    "kernel_isa",
    "seed",
    "actprof_version",
    "started_at_utc",
    "power_source",
    "avg_power_w",
    "idle_power_w",
    "energy_per_call_nj",
    "energy_per_element_pj",
    "energy_ci95_low_nj",
    "energy_ci95_high_nj",
    "power_samples",
    "timing",
    "median_cycles_per_call",
    "model",
    "batch",
    "activation_share",
];

/// The `target` column of cells measured on this CPU.
pub const TARGET_LOCAL: &str = "local";

/// What a local row's `timing` column says: the times come from the host's clock.
pub const TIMING_HOST: &str = "host monotonic clock";

/// A report row. Field order is the CSV column order ([`COLUMNS`]); units are in the names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Stable activation name (`relu`, `leaky_relu`, ...).
    pub activation: String,
    /// Parameters as `alpha=0.01`, empty when none. i8/u8 rows append their quantization,
    /// `in_scale=0.0625;in_zp=0;out_scale=0.00390625;out_zp=-128` (after the activation's
    /// own, `;`-separated).
    pub params: String,
    /// Element type: `f32`, `i8` or `u8`.
    pub dtype: String,
    /// Tensor length of each kernel call, in elements.
    pub elements: u64,
    /// Threads asked to share each kernel call.
    pub threads: u32,
    /// Threads each call ran on: `threads`, or fewer where the tensor is too small to give
    /// every thread its minimum share. Empty when read from a report written before the
    /// column existed.
    pub threads_used: Option<u32>,
    /// Where it ran (`local` for this CPU).
    pub target: String,
    /// Timed samples taken.
    pub samples: u64,
    /// Back-to-back kernel calls per timed sample.
    pub iterations_per_sample: u64,
    /// Median time of one kernel call over the samples, in nanoseconds.
    pub median_ns: f64,
    /// Mean time per call, in nanoseconds.
    pub mean_ns: f64,
    /// Standard deviation of the per-call times, in nanoseconds.
    pub stddev_ns: f64,
    /// Median absolute deviation × 1.4826, in nanoseconds.
    pub mad_ns: f64,
    /// Fastest sample's time per call, in nanoseconds.
    pub min_ns: f64,
    /// 5th percentile of the per-call times, in nanoseconds.
    pub p5_ns: f64,
    /// 95th percentile, in nanoseconds.
    pub p95_ns: f64,
    /// 99th percentile, in nanoseconds.
    pub p99_ns: f64,
    /// Lower end of the bootstrap 95% confidence interval of the median, in nanoseconds.
    pub ci95_low_ns: f64,
    /// Upper end of that interval, in nanoseconds.
    pub ci95_high_ns: f64,
    /// Samples beyond the 1.5 IQR Tukey fences but within 3 IQR.
    pub outliers_mild: u64,
    /// Samples beyond the 3 IQR fences.
    pub outliers_severe: u64,
    /// `median_ns / elements`.
    pub ns_per_element: f64,
    /// Throughput at the median, in 10^9 elements per second (`elements / median_ns`).
    pub gelem_per_s: f64,
    /// Largest error of the kernel against the f64 reference, in f32 ULPs. For i8/u8 rows
    /// the end-to-end error of the dequantized output, over all 256 input codes.
    pub max_ulp_error: f64,
    /// Largest absolute error against the f64 reference, in the activation's units. For
    /// i8/u8 rows the end-to-end real error over all 256 input codes.
    pub max_abs_error: f64,
    /// i8/u8 rows: largest distance from the quantized definition over all 256 input
    /// codes, in output codes (LSB). Empty for f32 rows.
    pub max_lsb_error: Option<u32>,
    /// CPU model name.
    pub host_cpu: String,
    /// Operating system and kernel version.
    pub host_os: String,
    /// cpufreq scaling governor; empty when the OS exposes none.
    pub governor: String,
    /// Instruction set the kernels ran on (`scalar`, `avx2+fma`, `avx512`; for i8/u8 rows
    /// the quantized kernels' `scalar`, `avx2` or `avx512vbmi`).
    pub kernel_isa: String,
    /// Seed of the input data.
    pub seed: u64,
    /// Version of actprof that measured the row.
    pub actprof_version: String,
    /// When the run started, RFC 3339 in UTC.
    pub started_at_utc: String,
    /// Power source recorded during the run (`rapl`, `rapl:package-0`, `battery`); empty
    /// when none was, and then every energy column is empty.
    pub power_source: Option<String>,
    /// Time-weighted mean power over the cell's run window, in W (whole source, not just
    /// the kernel).
    pub avg_power_w: Option<f64>,
    /// Mean power of the idle baseline measured before the plan, in W.
    pub idle_power_w: Option<f64>,
    /// Energy of one kernel call above idle, in nJ:
    /// `(∫P dt over the window − idle_power_w × window) / calls`.
    pub energy_per_call_nj: Option<f64>,
    /// `energy_per_call_nj` per element, in pJ.
    pub energy_per_element_pj: Option<f64>,
    /// Lower end of the 95 % confidence interval of `energy_per_call_nj` (power-reading
    /// noise of the run and idle windows), in nJ.
    pub energy_ci95_low_nj: Option<f64>,
    /// Upper end of that interval, in nJ.
    pub energy_ci95_high_nj: Option<f64>,
    /// Power samples inside the cell's run window.
    pub power_samples: Option<u64>,
    /// What measured the times: [`TIMING_HOST`] for this CPU, the board's timer, or
    /// "QEMU instruction count, not real-chip cycles" for an emulated board. Empty in
    /// reports of actprof versions before boards.
    pub timing: Option<String>,
    /// Median cycles per call from a board's cycle counter; empty without one.
    pub median_cycles_per_call: Option<f64>,
    /// Rows of `actprof models`: the model a call ran (`kws-dscnn`, …); one call is one
    /// inference of `batch` inputs. Empty for kernel rows.
    pub model: Option<String>,
    /// Inputs per inference of a model row (`elements` is then the input elements of one
    /// input × `batch`); empty for kernel rows.
    pub batch: Option<u64>,
    /// Model rows: the share of an inference's time spent in its activation layers, in
    /// [0, 1], from a separate per-layer profiled pass; empty for kernel rows.
    pub activation_share: Option<f64>,
}

impl Row {
    /// The row of one measured cell.
    ///
    /// `started_at_utc` is when the run began (RFC 3339), `target` where it ran (`local`).
    /// `host_os` joins the OS name and kernel version; an unknown governor is written empty.
    /// i8/u8 rows carry their quantization in `params` and, as `kernel_isa`, the
    /// instruction set this CPU runs the quantized kernels on (`HostFacts::quant_isa`).
    pub fn from_cell(
        cell: &CellResult,
        host: &HostFacts,
        started_at_utc: &str,
        target: &str,
    ) -> Row {
        let summary = &cell.summary;
        let mut params = cell.spec.activation.params();
        let mut kernel_isa = host.kernel_isa.clone();
        if let Some(quant) = cell.spec.quant {
            let quant = format_quant(quant.input, quant.output);
            params = if params.is_empty() {
                quant
            } else {
                format!("{params};{quant}")
            };
            kernel_isa = host.quant_isa.clone();
        }
        Row {
            activation: cell.spec.activation.name().to_owned(),
            params,
            dtype: cell.spec.dtype.name().to_owned(),
            elements: cell.spec.elements as u64,
            threads: u32::try_from(cell.spec.threads).unwrap_or(u32::MAX),
            threads_used: Some(u32::try_from(cell.threads_used).unwrap_or(u32::MAX)),
            target: target.to_owned(),
            samples: summary.samples as u64,
            iterations_per_sample: cell.iterations_per_sample,
            median_ns: summary.median_ns,
            mean_ns: summary.mean_ns,
            stddev_ns: summary.stddev_ns,
            mad_ns: summary.mad_ns,
            min_ns: summary.min_ns,
            p5_ns: summary.p5_ns,
            p95_ns: summary.p95_ns,
            p99_ns: summary.p99_ns,
            ci95_low_ns: summary.ci95_low_ns,
            ci95_high_ns: summary.ci95_high_ns,
            outliers_mild: summary.outliers_mild as u64,
            outliers_severe: summary.outliers_severe as u64,
            ns_per_element: cell.ns_per_element(),
            gelem_per_s: cell.gelem_per_s(),
            max_ulp_error: cell.max_ulp_error,
            max_abs_error: cell.max_abs_error,
            max_lsb_error: cell.max_lsb_error,
            host_cpu: host.cpu_model.clone(),
            host_os: join_nonempty(&host.os, &host.kernel),
            governor: host.governor.clone().unwrap_or_default(),
            kernel_isa,
            seed: cell.seed,
            actprof_version: host.actprof_version.clone(),
            started_at_utc: started_at_utc.to_owned(),
            power_source: None,
            avg_power_w: None,
            idle_power_w: None,
            energy_per_call_nj: None,
            energy_per_element_pj: None,
            energy_ci95_low_nj: None,
            energy_ci95_high_nj: None,
            power_samples: None,
            timing: Some(TIMING_HOST.to_owned()),
            median_cycles_per_call: None,
            model: None,
            batch: None,
            activation_share: None,
        }
    }

    /// The row with the energy columns filled from `energy`.
    pub fn with_energy(mut self, energy: &CellEnergy) -> Row {
        let per_call = &energy.per_call;
        let per_call_nj = per_call.per_call_j * 1e9;
        let ci_nj = per_call.per_call_ci95_j * 1e9;
        self.power_source = Some(energy.source.clone());
        self.avg_power_w = Some(energy.avg_power_w);
        self.idle_power_w = Some(energy.idle_power_w);
        self.energy_per_call_nj = Some(per_call_nj);
        self.energy_per_element_pj = per_call.per_element_j.map(|j| j * 1e12);
        self.energy_ci95_low_nj = Some(per_call_nj - ci_nj);
        self.energy_ci95_high_nj = Some(per_call_nj + ci_nj);
        self.power_samples = Some(energy.samples as u64);
        self
    }

    /// True when the row carries an attributed energy.
    pub fn has_energy(&self) -> bool {
        self.energy_per_call_nj.is_some()
    }
}

/// The activation's own parameters in a row's `params`, without the quantization keys:
/// `alpha=0.01;in_scale=0.0625;…` gives `alpha=0.01`.
pub fn activation_params(params: &str) -> String {
    params
        .split(';')
        .map(str::trim)
        .filter(|entry| {
            let key = entry.split('=').next().unwrap_or("").trim();
            !entry.is_empty() && !QUANT_KEYS.contains(&key)
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `a b`, or just the one that is not empty.
fn join_nonempty(a: &str, b: &str) -> String {
    match (a.trim(), b.trim()) {
        ("", b) => b.to_owned(),
        (a, "") => a.to_owned(),
        (a, b) => format!("{a} {b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{CellSpec, Summary};
    use crate::kernels::Activation;
    use crate::kernels::int8::DType;
    use crate::session::energy::CallEnergy;

    fn cell() -> CellResult {
        CellResult {
            spec: CellSpec::f32(Activation::LeakyRelu { alpha: 0.2 }, 1000, 2),
            iterations_per_sample: 64,
            threads_used: 1,
            summary: Summary {
                samples: 50,
                min_ns: 400.0,
                median_ns: 500.0,
                mean_ns: 510.0,
                stddev_ns: 12.5,
                mad_ns: 9.0,
                p5_ns: 420.0,
                p95_ns: 600.0,
                p99_ns: 650.0,
                ci95_low_ns: 495.0,
                ci95_high_ns: 505.0,
                outliers_mild: 3,
                outliers_severe: 1,
            },
            max_ulp_error: 0.0,
            max_abs_error: 0.0,
            max_lsb_error: None,
            seed: 7,
            span: None,
        }
    }

    #[test]
    fn from_cell_fills_every_column_from_its_source() {
        let host = HostFacts {
            cpu_model: "Test CPU".to_owned(),
            os: "Linux".to_owned(),
            kernel: "6.1.0".to_owned(),
            governor: None,
            kernel_isa: "avx2+fma".to_owned(),
            actprof_version: "0.1.0".to_owned(),
            ..HostFacts::default()
        };
        let row = Row::from_cell(&cell(), &host, "2026-01-02T03:04:05Z", "local");

        assert_eq!(row.activation, "leaky_relu");
        assert_eq!(row.params, "alpha=0.2");
        assert_eq!(row.dtype, "f32");
        assert_eq!((row.elements, row.threads, row.samples), (1000, 2, 50));
        assert_eq!(row.target, "local");
        assert_eq!(row.iterations_per_sample, 64);
        assert_eq!((row.ci95_low_ns, row.ci95_high_ns), (495.0, 505.0));
        assert_eq!((row.outliers_mild, row.outliers_severe), (3, 1));
        // 500 ns for 1000 elements: 0.5 ns each, 2 elements per ns.
        assert_eq!(row.ns_per_element, 0.5);
        assert_eq!(row.gelem_per_s, 2.0);
        assert_eq!(row.host_os, "Linux 6.1.0");
        assert_eq!(row.governor, "");
        assert_eq!(row.kernel_isa, "avx2+fma");
        assert_eq!(row.seed, 7);
        assert_eq!(row.started_at_utc, "2026-01-02T03:04:05Z");
        assert_eq!(row.max_lsb_error, None);
    }

    #[test]
    fn int8_rows_carry_dtype_quantization_and_lsb_error() {
        let mut cell = cell();
        cell.spec = CellSpec::new(Activation::LeakyRelu { alpha: 0.01 }, DType::I8, 1000, 1);
        cell.max_lsb_error = Some(1);
        let host = HostFacts {
            kernel_isa: "avx2+fma".to_owned(),
            ..HostFacts::default()
        };
        let row = Row::from_cell(&cell, &host, "", "local");
        assert_eq!(row.dtype, "i8");
        // Leaky ReLU's default i8 quantization keeps the input mapping: step 1/16, zp 0.
        assert_eq!(
            row.params,
            "alpha=0.01;in_scale=0.0625;in_zp=0;out_scale=0.0625;out_zp=0"
        );
        assert_eq!(row.max_lsb_error, Some(1));
        assert_eq!(activation_params(&row.params), "alpha=0.01");
        assert_eq!(
            activation_params("in_scale=1;in_zp=0;out_scale=1;out_zp=0"),
            ""
        );
    }

    #[test]
    fn columns_match_the_serialized_field_order() {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let host = HostFacts::default();
        writer
            .serialize(Row::from_cell(&cell(), &host, "", "local"))
            .expect("row serializes");
        let bytes = writer.into_inner().expect("in-memory writer flushes");
        let text = String::from_utf8(bytes).expect("csv is UTF-8");
        let header = text.lines().next().expect("header line");
        assert_eq!(header, COLUMNS.join(","));
    }

    #[test]
    fn energy_columns_are_empty_without_a_source_and_scaled_with_one() {
        let host = HostFacts::default();
        let plain = Row::from_cell(&cell(), &host, "", "local");
        assert!(!plain.has_energy());
        assert_eq!(plain.power_source, None);

        let energy = CellEnergy {
            source: "rapl".to_owned(),
            avg_power_w: 12.0,
            idle_power_w: 4.0,
            samples: 25,
            per_call: CallEnergy {
                net_energy_j: 0.5,
                per_call_j: 2.5e-6,
                per_call_ci95_j: 1e-7,
                per_element_j: Some(2.5e-9),
                per_element_ci95_j: Some(1e-10),
                gaps: Vec::new(),
            },
        };
        let row = plain.with_energy(&energy);
        assert_eq!(row.power_source.as_deref(), Some("rapl"));
        // 2.5 µJ = 2500 nJ per call; 2.5 nJ = 2500 pJ per element; ±100 nJ.
        let close = |a: Option<f64>, b: f64| (a.expect("filled") - b).abs() < 1e-6;
        assert!(close(row.energy_per_call_nj, 2500.0));
        assert!(close(row.energy_per_element_pj, 2500.0));
        assert!(close(row.energy_ci95_low_nj, 2400.0));
        assert!(close(row.energy_ci95_high_nj, 2600.0));
        assert_eq!((row.avg_power_w, row.idle_power_w), (Some(12.0), Some(4.0)));
        assert_eq!(row.power_samples, Some(25));
    }

    #[test]
    fn host_os_skips_missing_parts() {
        assert_eq!(join_nonempty("Linux", ""), "Linux");
        assert_eq!(join_nonempty("", "6.1"), "6.1");
        assert_eq!(join_nonempty("", ""), "");
    }
}
