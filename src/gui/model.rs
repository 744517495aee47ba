//! What the charts show: the metric of a report row, its interval, and the grid layout of a
//! set of rows (activation × dtype series × target × sizes).

use serde::{Deserialize, Serialize};

use crate::kernels::Activation;
use crate::report::Row;
use crate::report::row::{DTYPE_F32, activation_params};
use crate::target::board::TIMING_QEMU;

/// The quantity a chart plots, each with its unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Median time per element, in ns.
    #[default]
    NsPerElement,
    /// Throughput at the median, in 10^9 elements per second.
    GelemPerS,
    /// Median time per kernel call, in ns.
    NsPerCall,
    /// Median time divided by ReLU's median at the same size (dimensionless).
    SlowdownVsRelu,
    /// Largest error of the kernel vs the f64 reference, in ULP (end to end for int8).
    MaxUlpError,
    /// Largest distance of an int8 kernel from the quantized definition, in output codes.
    MaxLsbError,
    /// Energy of one call above idle, in nJ (rows measured with a power source).
    EnergyPerCall,
    /// Energy per element above idle, in pJ.
    EnergyPerElement,
    /// Mean power of the whole source while the cell ran, in W.
    AvgPower,
}

impl Metric {
    /// Every metric in menu order.
    pub const ALL: [Metric; 9] = [
        Metric::NsPerElement,
        Metric::GelemPerS,
        Metric::NsPerCall,
        Metric::SlowdownVsRelu,
        Metric::MaxUlpError,
        Metric::MaxLsbError,
        Metric::EnergyPerCall,
        Metric::EnergyPerElement,
        Metric::AvgPower,
    ];

    /// Whether this metric needs the energy columns.
    pub fn is_energy(self) -> bool {
        matches!(
            self,
            Metric::EnergyPerCall | Metric::EnergyPerElement | Metric::AvgPower
        )
    }

    /// The metrics `rows` can show: the energy metrics only when some row has energy.
    pub fn available(rows: &[Row]) -> Vec<Metric> {
        let energy = rows.iter().any(Row::has_energy);
        Metric::ALL
            .into_iter()
            .filter(|metric| energy || !metric.is_energy())
            .collect()
    }

    /// The menu label, with the unit.
    pub fn label(self) -> &'static str {
        match self {
            Metric::NsPerElement => "Time per element (ns/element)",
            Metric::GelemPerS => "Throughput (Gelem/s)",
            Metric::NsPerCall => "Time per call (ns/call)",
            Metric::SlowdownVsRelu => "Slowdown vs ReLU (×)",
            Metric::MaxUlpError => "Max error (ULP)",
            Metric::MaxLsbError => "Max int8 error (LSB)",
            Metric::EnergyPerCall => "Energy per call (nJ/call)",
            Metric::EnergyPerElement => "Energy per element (pJ/element)",
            Metric::AvgPower => "Average power (W)",
        }
    }

    /// The unit alone, for legends and cell values.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::NsPerElement => "ns/element",
            Metric::GelemPerS => "Gelem/s",
            Metric::NsPerCall => "ns/call",
            Metric::SlowdownVsRelu => "× ReLU",
            Metric::MaxUlpError => "ULP",
            Metric::MaxLsbError => "LSB",
            Metric::EnergyPerCall => "nJ/call",
            Metric::EnergyPerElement => "pJ/element",
            Metric::AvgPower => "W",
        }
    }

    /// Whether a larger value is better (decides which end of the palette is "good").
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::GelemPerS)
    }

    /// The value of this metric for `row`; `rows` supplies ReLU's median for the slowdown.
    /// `None` when it cannot be computed (no ReLU row at that size, non-finite value, an
    /// LSB error of an f32 row).
    pub fn value(self, row: &Row, rows: &[Row]) -> Option<f64> {
        let value = match self {
            Metric::NsPerElement => row.ns_per_element,
            Metric::GelemPerS => row.gelem_per_s,
            Metric::NsPerCall => row.median_ns,
            Metric::SlowdownVsRelu => row.median_ns / relu_median_ns(row, rows)?,
            Metric::MaxUlpError => row.max_ulp_error,
            Metric::MaxLsbError => f64::from(row.max_lsb_error?),
            Metric::EnergyPerCall => row.energy_per_call_nj?,
            Metric::EnergyPerElement => row.energy_per_element_pj?,
            Metric::AvgPower => row.avg_power_w?,
        };
        value.is_finite().then_some(value)
    }

    /// The interval around [`Metric::value`] given by `bars`, as (low, high) in the metric's
    /// unit. `None` for the error metrics, which have no sampling spread.
    pub fn interval(self, row: &Row, rows: &[Row], bars: ErrorBars) -> Option<(f64, f64)> {
        let (low_ns, high_ns) = match bars {
            ErrorBars::Ci95 => (row.ci95_low_ns, row.ci95_high_ns),
            ErrorBars::P5P95 => (row.p5_ns, row.p95_ns),
        };
        let elements = row.elements as f64;
        // The energy CI is of the power readings, whichever time spread `bars` names.
        let energy_ci = || Some((row.energy_ci95_low_nj?, row.energy_ci95_high_nj?));
        let (low, high) = match self {
            Metric::NsPerElement => (low_ns / elements, high_ns / elements),
            // Throughput is the reciprocal of time, so the slow end gives the low bound.
            Metric::GelemPerS => (elements / high_ns, elements / low_ns),
            Metric::NsPerCall => (low_ns, high_ns),
            // ReLU's median is taken as exact here; its own spread is not propagated.
            Metric::SlowdownVsRelu => {
                let relu = relu_median_ns(row, rows)?;
                (low_ns / relu, high_ns / relu)
            }
            Metric::EnergyPerCall => energy_ci()?,
            // pJ per element = nJ per call × 1000 / elements.
            Metric::EnergyPerElement => {
                let (low, high) = energy_ci()?;
                (low * 1e3 / elements, high * 1e3 / elements)
            }
            Metric::MaxUlpError | Metric::MaxLsbError | Metric::AvgPower => return None,
        };
        (low.is_finite() && high.is_finite()).then_some((low, high))
    }

    /// `value` with a precision that suits the metric, and the unit.
    pub fn format(self, value: f64) -> String {
        format!("{} {}", self.format_bare(value), self.unit())
    }

    /// `value` with a precision that suits the metric, without the unit.
    pub fn format_bare(self, value: f64) -> String {
        match self {
            Metric::NsPerCall => format_ns(value),
            _ => format_number(value),
        }
    }
}

/// Which spread the error bars show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorBars {
    /// Bootstrap 95% confidence interval of the median.
    #[default]
    Ci95,
    /// 5th to 95th percentile of the samples.
    P5P95,
}

impl ErrorBars {
    /// The menu label.
    pub fn label(self) -> &'static str {
        match self {
            ErrorBars::Ci95 => "95% CI of the median",
            ErrorBars::P5P95 => "p5–p95 of the samples",
        }
    }
}

/// Linear or logarithmic value axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AxisScale {
    #[default]
    /// Values as they are.
    Linear,
    /// log10 of the values, labelled with the values.
    Log,
}

/// ReLU's median time at the same size, threads, dtype and target as `row`.
fn relu_median_ns(row: &Row, rows: &[Row]) -> Option<f64> {
    rows.iter()
        .find(|other| {
            other.activation == "relu"
                && other.elements == row.elements
                && other.threads == row.threads
                && other.dtype == row.dtype
                && other.target == row.target
        })
        .map(|relu| relu.median_ns)
        .filter(|median| *median > 0.0)
}

/// Three significant digits, switching to scientific notation outside [0.001, 100 000).
pub fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".to_owned()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.2e}")
    } else {
        let decimals = (2 - magnitude.log10().floor() as i32).clamp(0, 5) as usize;
        format!("{value:.decimals$}")
    }
}

/// The activation of a row as one label, in the form the CLI reads: `relu`,
/// `leaky_relu:alpha=0.01`, `silu` (whose implied `beta=1` is left out). An int8 row's
/// quantization keys are left out.
pub fn activation_label(row: &Row) -> String {
    activation_spec(&row.activation, &activation_params(&row.params))
}

/// A heatmap row or chart series: the activation label, with the dtype after it when it is
/// not f32 (`sigmoid (i8)`), so f32-only results read as before.
pub fn series_label(row: &Row) -> String {
    dtype_suffixed(activation_label(row), &row.dtype)
}

/// `label (dtype)`, or `label` alone for f32.
pub fn dtype_suffixed(label: String, dtype: &str) -> String {
    if dtype == DTYPE_F32 {
        label
    } else {
        format!("{label} ({dtype})")
    }
}

/// The quantization keys of an int8 row's `params` (`in_scale=…;…;out_zp=…`), empty for
/// f32 rows.
pub fn quant_params(row: &Row) -> String {
    let own = activation_params(&row.params);
    row.params
        .split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && !own.split(';').any(|o| o == *entry))
        .collect::<Vec<_>>()
        .join(";")
}

/// [`activation_label`] from a name and a parameter string.
pub fn activation_spec(name: &str, params: &str) -> String {
    match Activation::from_name_and_params(name, params) {
        Ok(activation) => activation.spec(),
        // A report from a newer actprof may name activations this build does not know.
        Err(_) if params.is_empty() => name.to_owned(),
        Err(_) => format!("{name}:{params}"),
    }
}

/// A time in ns: whole nanoseconds with space-separated thousands from 1 000 ns up, so long
/// times stay readable; shorter ones as [`format_number`].
pub fn format_ns(ns: f64) -> String {
    if !(1e3..1e15).contains(&ns) {
        return format_number(ns);
    }
    group_thousands(&format!("{:.0}", ns))
}

/// `text` with the characters the default font cannot draw spelt in ASCII: the engine's
/// layer names use `→`, shown as `->`.
pub fn displayable(text: &str) -> String {
    text.replace('→', "->")
}

/// A count with space-separated thousands: `22 604`.
pub fn format_count(count: u64) -> String {
    group_thousands(&count.to_string())
}

/// Bytes in KiB or MiB (1024-based) with three significant digits, bytes below 1 KiB.
pub fn format_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if value < KIB {
        format!("{bytes} B")
    } else if value < KIB * KIB {
        format!("{} KiB", format_number(value / KIB))
    } else {
        format!("{} MiB", format_number(value / (KIB * KIB)))
    }
}

/// `digits` with a space before every group of three from the right.
fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(digit);
    }
    grouped
}

/// A target of a set of rows: its `target` name and what its times count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GridTarget {
    /// The rows' `target` column (`local`, `board:qemu-mps2-an386 actprof-fw/0.1.0`).
    pub name: String,
    /// The rows' `timing` column (`host monotonic clock`, `QEMU instruction count, not
    /// real-chip cycles`, `board timer at 1000000 Hz`); `None` in older reports.
    pub timing: Option<String>,
}

impl GridTarget {
    /// Whether the times are an emulator's (QEMU's instruction count), not a chip's.
    pub fn is_emulated(&self) -> bool {
        self.timing.as_deref() == Some(TIMING_QEMU)
    }
}

/// A heatmap column: one tensor length on one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridColumn {
    /// Index into [`Grid::targets`].
    pub target: usize,
    /// Tensor length in elements.
    pub elements: u64,
}

/// Rows arranged as series (activation × dtype, in first-seen order) × targets (in
/// first-seen order) × sizes (ascending).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// Series labels (see [`series_label`]), one per heatmap row.
    pub activations: Vec<String>,
    /// The targets the rows come from.
    pub targets: Vec<GridTarget>,
    /// Every tensor length in elements, ascending (the Compare chart's groups).
    pub sizes: Vec<u64>,
    /// The heatmap's columns: target by target, each with the sizes measured on it,
    /// ascending. With one target these are [`Grid::sizes`].
    pub columns: Vec<GridColumn>,
}

impl Grid {
    /// The grid spanned by `rows`.
    pub fn of(rows: &[Row]) -> Self {
        let mut activations: Vec<String> = Vec::new();
        let mut targets: Vec<GridTarget> = Vec::new();
        let mut sizes: Vec<u64> = Vec::new();
        let mut columns: Vec<GridColumn> = Vec::new();
        for row in rows {
            let label = series_label(row);
            if !activations.contains(&label) {
                activations.push(label);
            }
            let target = match targets.iter().position(|t| t.name == row.target) {
                Some(index) => index,
                None => {
                    targets.push(GridTarget {
                        name: row.target.clone(),
                        timing: row.timing.clone(),
                    });
                    targets.len() - 1
                }
            };
            if !sizes.contains(&row.elements) {
                sizes.push(row.elements);
            }
            let column = GridColumn {
                target,
                elements: row.elements,
            };
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
        sizes.sort_unstable();
        columns.sort_by_key(|column| (column.target, column.elements));
        Self {
            activations,
            targets,
            sizes,
            columns,
        }
    }

    /// Whether the rows come from more than one target.
    pub fn has_several_targets(&self) -> bool {
        self.targets.len() > 1
    }

    /// The first row measured for the series `activation` (see [`series_label`]) on
    /// target number `target` at `elements`.
    pub fn cell<'r>(
        &self,
        rows: &'r [Row],
        activation: &str,
        target: usize,
        elements: u64,
    ) -> Option<&'r Row> {
        let name = &self.targets.get(target)?.name;
        rows.iter().find(|row| {
            row.elements == elements && row.target == *name && series_label(row) == activation
        })
    }

    /// A series or cell name with its target when the rows have several:
    /// `relu on board:qemu-mps2-an386 actprof-fw/0.1.0`, else `label` alone.
    pub fn on_target(&self, label: &str, target: usize) -> String {
        match self.targets.get(target) {
            Some(target) if self.has_several_targets() => format!("{label} on {}", target.name),
            _ => label.to_owned(),
        }
    }
}

/// A size as people write it: `1k` = 1024, `1M` = 1024² elements; other counts in full.
pub fn format_elements(elements: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "G"), (1 << 20, "M"), (1 << 10, "k")];
    for (unit, suffix) in UNITS {
        if elements >= unit && elements.is_multiple_of(unit) {
            return format!("{}{suffix}", elements / unit);
        }
    }
    elements.to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A row with the given identity and times; other fields are plausible constants.
    pub fn row(activation: &str, params: &str, elements: u64, median_ns: f64) -> Row {
        Row {
            activation: activation.to_owned(),
            params: params.to_owned(),
            dtype: "f32".to_owned(),
            elements,
            threads: 1,
            threads_used: Some(1),
            target: "local".to_owned(),
            samples: 10,
            iterations_per_sample: 100,
            median_ns,
            mean_ns: median_ns,
            stddev_ns: 1.0,
            mad_ns: 1.0,
            min_ns: median_ns * 0.9,
            p5_ns: median_ns * 0.95,
            p95_ns: median_ns * 1.2,
            p99_ns: median_ns * 1.3,
            ci95_low_ns: median_ns * 0.98,
            ci95_high_ns: median_ns * 1.04,
            outliers_mild: 0,
            outliers_severe: 0,
            ns_per_element: median_ns / elements as f64,
            gelem_per_s: elements as f64 / median_ns,
            max_ulp_error: 2.0,
            max_abs_error: 1e-7,
            max_lsb_error: None,
            host_cpu: "test cpu".to_owned(),
            host_os: "linux".to_owned(),
            governor: String::new(),
            kernel_isa: "scalar".to_owned(),
            seed: 1,
            actprof_version: "0.1.0".to_owned(),
            started_at_utc: "2026-01-01T00:00:00Z".to_owned(),
            power_source: None,
            avg_power_w: None,
            idle_power_w: None,
            energy_per_call_nj: None,
            energy_per_element_pj: None,
            energy_ci95_low_nj: None,
            energy_ci95_high_nj: None,
            power_samples: None,
            timing: None,
            median_cycles_per_call: None,
            model: None,
            batch: None,
            activation_share: None,
        }
    }

    #[test]
    fn slowdown_divides_by_relu_at_the_same_size() {
        let rows = vec![
            row("relu", "", 1024, 100.0),
            row("relu", "", 4096, 400.0),
            row("gelu", "", 1024, 300.0),
            row("gelu", "", 4096, 2000.0),
        ];
        assert_eq!(Metric::SlowdownVsRelu.value(&rows[2], &rows), Some(3.0));
        assert_eq!(Metric::SlowdownVsRelu.value(&rows[3], &rows), Some(5.0));
        let lonely = [row("gelu", "", 64, 1.0)];
        assert_eq!(Metric::SlowdownVsRelu.value(&lonely[0], &lonely), None);
    }

    #[test]
    fn throughput_interval_flips_the_time_interval() {
        let rows = [row("tanh", "", 1000, 100.0)];
        let (low, high) = Metric::GelemPerS
            .interval(&rows[0], &rows, ErrorBars::P5P95)
            .expect("a time metric has an interval");
        assert!((low - 1000.0 / 120.0).abs() < 1e-12);
        assert!((high - 1000.0 / 95.0).abs() < 1e-12);
        assert_eq!(
            Metric::MaxUlpError.interval(&rows[0], &rows, ErrorBars::Ci95),
            None
        );
    }

    #[test]
    fn grid_orders_activations_as_seen_and_sizes_ascending() {
        let rows = [
            row("tanh", "", 4096, 1.0),
            row("leaky_relu", "alpha=0.2", 1024, 1.0),
            row("tanh", "", 1024, 1.0),
        ];
        let grid = Grid::of(&rows);
        assert_eq!(grid.activations, ["tanh", "leaky_relu:alpha=0.2"]);
        assert!(!grid.has_several_targets());
        assert_eq!(grid.on_target("tanh", 0), "tanh");
        assert_eq!(activation_label(&row("silu", "beta=1", 4, 1.0)), "silu");
        assert_eq!(
            activation_label(&row("swish", "beta=1.5", 4, 1.0)),
            "swish:beta=1.5"
        );
        assert_eq!(grid.sizes, [1024, 4096]);
        assert!(grid.cell(&rows, "tanh", 0, 1024).is_some());
        assert!(grid.cell(&rows, "leaky_relu:alpha=0.2", 0, 4096).is_none());
    }

    #[test]
    fn columns_group_the_sizes_of_each_target() {
        let board = |activation: &str, elements: u64, median_ns: f64| Row {
            target: "board:qemu-mps2-an386 actprof-fw/0.1.0".to_owned(),
            timing: Some(TIMING_QEMU.to_owned()),
            ..row(activation, "", elements, median_ns)
        };
        let rows = [
            row("relu", "", 65_536, 3000.0),
            row("relu", "", 1024, 60.0),
            board("relu", 256, 900.0),
            board("relu", 1024, 3600.0),
            board("tanh", 1024, 90_000.0),
        ];
        let grid = Grid::of(&rows);
        assert_eq!(grid.activations, ["relu", "tanh"]);
        assert_eq!(grid.sizes, [256, 1024, 65_536]);
        let columns: Vec<(usize, u64)> = grid
            .columns
            .iter()
            .map(|column| (column.target, column.elements))
            .collect();
        assert_eq!(columns, [(0, 1024), (0, 65_536), (1, 256), (1, 1024)]);
        assert!(grid.has_several_targets());
        assert!(!grid.targets[0].is_emulated() && grid.targets[1].is_emulated());
        assert_eq!(
            grid.cell(&rows, "relu", 1, 1024).map(|r| r.median_ns),
            Some(3600.0)
        );
        assert_eq!(
            grid.cell(&rows, "relu", 0, 1024).map(|r| r.median_ns),
            Some(60.0)
        );
        assert!(grid.cell(&rows, "tanh", 0, 1024).is_none());
        assert_eq!(
            grid.on_target("tanh", 1),
            "tanh on board:qemu-mps2-an386 actprof-fw/0.1.0"
        );
        // The slowdown divides by ReLU on the same target.
        assert_eq!(Metric::SlowdownVsRelu.value(&rows[4], &rows), Some(25.0));
    }

    #[test]
    fn int8_rows_are_their_own_series_with_an_lsb_metric() {
        let mut int8 = row(
            "leaky_relu",
            "alpha=0.2;in_scale=0.0625;in_zp=0;out_scale=1;out_zp=0",
            1024,
            5.0,
        );
        int8.dtype = "i8".to_owned();
        int8.max_lsb_error = Some(1);
        let rows = [row("leaky_relu", "alpha=0.2", 1024, 9.0), int8];
        let grid = Grid::of(&rows);
        assert_eq!(
            grid.activations,
            ["leaky_relu:alpha=0.2", "leaky_relu:alpha=0.2 (i8)"]
        );
        assert_eq!(
            grid.cell(&rows, "leaky_relu:alpha=0.2 (i8)", 0, 1024)
                .map(|r| r.median_ns),
            Some(5.0)
        );
        assert_eq!(
            quant_params(&rows[1]),
            "in_scale=0.0625;in_zp=0;out_scale=1;out_zp=0"
        );
        assert_eq!(quant_params(&rows[0]), "");
        assert_eq!(Metric::MaxLsbError.value(&rows[1], &rows), Some(1.0));
        assert_eq!(Metric::MaxLsbError.value(&rows[0], &rows), None);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(1.23456), "1.23");
        assert_eq!(format_number(123.456), "123");
        assert_eq!(format_number(0.0123456), "0.0123");
        assert_eq!(format_number(1.5e7), "1.50e7");
        assert_eq!(format_ns(999.4), "999");
        assert_eq!(format_ns(1234.6), "1 235");
        assert_eq!(format_ns(147_012_345.0), "147 012 345");
        assert_eq!(format_elements(65_536), "64k");
        assert_eq!(format_elements(1000), "1000");
        assert_eq!(format_elements(16 << 20), "16M");
        assert_eq!(format_count(22_604), "22 604");
        assert_eq!(displayable("dense 64 → 12"), "dense 64 -> 12");
        assert_eq!(format_count(640), "640");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(64_000), "62.5 KiB");
        assert_eq!(format_bytes(3 << 20), "3.00 MiB");
    }
}
