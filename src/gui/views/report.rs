//! The Report view: every row of the results in a sortable table, CSV export and open.

use std::cmp::Ordering;

use crate::report::Row;

use super::super::app::{Action, ActprofApp};
use super::super::dialogs::{Purpose, file_button};
use super::super::model::{activation_label, format_ns, format_number, quant_params};
use super::super::theme;
use super::no_results_ui;

/// A table column: header (with unit) and how to show and order rows by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Activation and parameters.
    Activation,
    /// Element type (`f32`, `i8`, `u8`).
    DType,
    /// Tensor length in elements.
    Elements,
    /// Threads per kernel call.
    Threads,
    /// Where it ran (`local`, a board and its firmware).
    Target,
    /// What measured the times (the host's clock, a board's timer, QEMU's instruction
    /// count).
    Timing,
    /// Median time per call.
    Median,
    /// Median cycles per call, from a board's cycle counter.
    Cycles,
    /// Bootstrap 95% confidence interval of the median.
    Ci95,
    /// Median absolute deviation (× 1.4826).
    Mad,
    /// 5th percentile of the per-call times.
    P5,
    /// 95th percentile of the per-call times.
    P95,
    /// Median time per element.
    NsPerElement,
    /// Throughput at the median.
    GelemPerS,
    /// Largest error vs the f64 reference.
    MaxUlp,
    /// Largest distance of an int8 kernel from the quantized definition.
    MaxLsb,
    /// Tukey outliers, mild and severe.
    Outliers,
    /// Timed samples.
    Samples,
}

impl Column {
    /// Every column in display order.
    pub const ALL: [Column; 18] = [
        Column::Activation,
        Column::DType,
        Column::Elements,
        Column::Threads,
        Column::Target,
        Column::Timing,
        Column::Median,
        Column::Cycles,
        Column::Ci95,
        Column::Mad,
        Column::P5,
        Column::P95,
        Column::NsPerElement,
        Column::GelemPerS,
        Column::MaxUlp,
        Column::MaxLsb,
        Column::Outliers,
        Column::Samples,
    ];

    /// The header, with the unit.
    pub fn header(self) -> &'static str {
        match self {
            Column::Activation => "Activation",
            Column::DType => "Dtype",
            Column::Elements => "Elements",
            Column::Threads => "Threads",
            Column::Target => "Target",
            Column::Timing => "Timing",
            Column::Median => "Median (ns)",
            Column::Cycles => "Median (cycles)",
            Column::Ci95 => "95% CI (ns)",
            Column::Mad => "MAD (ns)",
            Column::P5 => "p5 (ns)",
            Column::P95 => "p95 (ns)",
            Column::NsPerElement => "ns/element",
            Column::GelemPerS => "Gelem/s",
            Column::MaxUlp => "Max error (ULP)",
            Column::MaxLsb => "Max error (LSB)",
            Column::Outliers => "Outliers (mild/severe)",
            Column::Samples => "Samples",
        }
    }

    /// The columns of a table of `rows`: every one, except cycles when no row has them.
    pub fn shown(rows: &[Row]) -> Vec<Column> {
        let cycles = rows.iter().any(|row| row.median_cycles_per_call.is_some());
        Column::ALL
            .into_iter()
            .filter(|&column| cycles || column != Column::Cycles)
            .collect()
    }

    fn text(self, row: &Row) -> String {
        match self {
            Column::Activation => activation_label(row),
            Column::DType => {
                let quant = quant_params(row);
                if quant.is_empty() {
                    row.dtype.clone()
                } else {
                    format!("{} ({})", row.dtype, quant.replace(';', " "))
                }
            }
            Column::Elements => row.elements.to_string(),
            Column::Threads => row.threads.to_string(),
            Column::Target => row.target.clone(),
            Column::Timing => row.timing.clone().unwrap_or_default(),
            Column::Median => format_ns(row.median_ns),
            Column::Cycles => row
                .median_cycles_per_call
                .map_or_else(String::new, format_number),
            Column::Ci95 => {
                format!(
                    "{} – {}",
                    format_ns(row.ci95_low_ns),
                    format_ns(row.ci95_high_ns)
                )
            }
            Column::Mad => format_ns(row.mad_ns),
            Column::P5 => format_ns(row.p5_ns),
            Column::P95 => format_ns(row.p95_ns),
            Column::NsPerElement => format_number(row.ns_per_element),
            Column::GelemPerS => format_number(row.gelem_per_s),
            Column::MaxUlp => format_number(row.max_ulp_error),
            Column::MaxLsb => row
                .max_lsb_error
                .map_or_else(String::new, |lsb| lsb.to_string()),
            Column::Outliers => format!("{}/{}", row.outliers_mild, row.outliers_severe),
            Column::Samples => row.samples.to_string(),
        }
    }

    fn order(self, a: &Row, b: &Row) -> Ordering {
        let by = |f: fn(&Row) -> f64| f(a).total_cmp(&f(b));
        match self {
            Column::Activation => activation_label(a).cmp(&activation_label(b)),
            Column::DType => a.dtype.cmp(&b.dtype),
            Column::Elements => a.elements.cmp(&b.elements),
            Column::Threads => a.threads.cmp(&b.threads),
            Column::Target => a.target.cmp(&b.target),
            Column::Timing => a.timing.cmp(&b.timing),
            Column::Median => by(|row| row.median_ns),
            Column::Cycles => {
                let cycles = |row: &Row| row.median_cycles_per_call.unwrap_or(f64::NEG_INFINITY);
                cycles(a).total_cmp(&cycles(b))
            }
            Column::Ci95 => by(|row| row.ci95_low_ns),
            Column::Mad => by(|row| row.mad_ns),
            Column::P5 => by(|row| row.p5_ns),
            Column::P95 => by(|row| row.p95_ns),
            Column::NsPerElement => by(|row| row.ns_per_element),
            Column::GelemPerS => by(|row| row.gelem_per_s),
            Column::MaxUlp => by(|row| row.max_ulp_error),
            Column::MaxLsb => a.max_lsb_error.cmp(&b.max_lsb_error),
            Column::Outliers => {
                (a.outliers_mild + a.outliers_severe).cmp(&(b.outliers_mild + b.outliers_severe))
            }
            Column::Samples => a.samples.cmp(&b.samples),
        }
    }
}

/// The column the table is sorted by; `None` keeps the measured order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SortOrder {
    /// The sort column; `None` keeps the measured order.
    pub column: Option<Column>,
    /// Largest first instead of smallest first.
    pub descending: bool,
}

impl SortOrder {
    /// Clicking a header sorts by it; clicking it again reverses the order.
    pub fn click(&mut self, column: Column) {
        if self.column == Some(column) {
            self.descending = !self.descending;
        } else {
            *self = SortOrder {
                column: Some(column),
                descending: false,
            };
        }
    }

    /// Indices of `rows` in this order (stable, so ties keep the measured order).
    pub fn indices(&self, rows: &[Row]) -> Vec<usize> {
        let mut indices: Vec<usize> = (0..rows.len()).collect();
        if let Some(column) = self.column {
            indices.sort_by(|&a, &b| {
                let order = column.order(&rows[a], &rows[b]);
                if self.descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        indices
    }
}

/// The Report tab.
pub fn report_ui(ui: &mut egui::Ui, app: &mut ActprofApp, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    let path = &mut app.state.csv_path;
    let exported = file_button(ui, &mut app.dialogs, "Export CSV", Purpose::ExportCsv, path);
    let opened = file_button(ui, &mut app.dialogs, "Open CSV", Purpose::OpenCsv, path);
    actions.extend(
        exported
            .or(opened)
            .map(|(purpose, path)| Action::Chosen(purpose, path)),
    );
    ui.weak("Ctrl+S exports, Ctrl+O opens. Click a header to sort.");
    if let Some(error) = &app.messages.report_error {
        ui.colored_label(theme::error(dark), error);
    }
    if let Some(notice) = &app.messages.report_notice {
        ui.label(notice);
    }
    if let Some(notice) = &app.dialogs.fallback_notice {
        ui.colored_label(theme::warning(dark), notice);
    }
    ui.separator();

    if app.rows.is_empty() {
        no_results_ui(ui, app);
        return;
    }
    let order = app.sort.indices(&app.rows);
    let columns = Column::shown(&app.rows);
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("report-table")
            .striped(true)
            .num_columns(columns.len())
            .show(ui, |ui| {
                for &column in &columns {
                    let arrow = match app.sort {
                        SortOrder {
                            column: Some(c),
                            descending: false,
                        } if c == column => " (asc)",
                        SortOrder {
                            column: Some(c),
                            descending: true,
                        } if c == column => " (desc)",
                        _ => "",
                    };
                    if ui.button(format!("{}{arrow}", column.header())).clicked() {
                        app.sort.click(column);
                    }
                }
                ui.end_row();
                for index in order {
                    for &column in &columns {
                        let text = column.text(&app.rows[index]);
                        let words = [
                            Column::Activation,
                            Column::DType,
                            Column::Target,
                            Column::Timing,
                        ];
                        if words.contains(&column) {
                            ui.label(text);
                        } else {
                            // Numbers line up on their last digit.
                            let layout = egui::Layout::right_to_left(egui::Align::Center);
                            ui.with_layout(layout, |ui| ui.label(text));
                        }
                    }
                    ui.end_row();
                }
            });
    });
}

#[cfg(test)]
mod tests {
    use super::super::super::model::tests::row;
    use super::*;

    #[test]
    fn second_click_reverses_the_order() {
        let rows = [
            row("tanh", "", 4, 30.0),
            row("relu", "", 4, 10.0),
            row("gelu", "", 4, 20.0),
        ];
        let mut sort = SortOrder::default();
        assert_eq!(sort.indices(&rows), [0, 1, 2]);
        sort.click(Column::Median);
        assert_eq!(sort.indices(&rows), [1, 2, 0]);
        sort.click(Column::Median);
        assert_eq!(sort.indices(&rows), [0, 2, 1]);
        sort.click(Column::Activation);
        assert_eq!(sort.indices(&rows), [2, 1, 0]);
    }

    #[test]
    fn cycles_are_a_column_only_when_a_row_has_them() {
        let mut rows = vec![row("relu", "", 4, 10.0)];
        let shown = Column::shown(&rows);
        assert!(shown.contains(&Column::Target) && shown.contains(&Column::Timing));
        assert!(!shown.contains(&Column::Cycles));
        rows[0].median_cycles_per_call = Some(1234.0);
        assert!(Column::shown(&rows).contains(&Column::Cycles));
        assert_eq!(Column::Cycles.text(&rows[0]), "1234");
    }
}
