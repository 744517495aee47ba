//! `actprof compare`: two reports side by side, cell by cell.
//!
//! Prints a table of the cells both reports measured, lists the cells only one of them
//! has, and ends with a summary line. The verdict method is documented in
//! [`crate::report::compare`]. Exit code 0 when nothing got slower, 1 when any cell
//! regressed or an input could not be read.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::CompareArgs;
use super::table::{self, Align};
use crate::report::{self, CompareReport, Comparison, Row};

/// Runs `actprof compare` and prints its table and summary.
pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let noise = report::parse_noise(&args.noise)?;
    let base = read(&args.base)?;
    let new = read(&args.new)?;
    let base_name = args.base.display().to_string();
    let new_name = args.new.display().to_string();

    let comparison = report::compare(&base, &new, noise)
        .with_context(|| format!("cannot compare {base_name} with {new_name}"))?;
    if comparison.comparisons.is_empty() {
        bail!(
            "the two reports share no cell, so there is nothing to compare \
             ({base_name}, {new_name})"
        );
    }

    let text = render(&comparison, &base_name, &new_name);
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write to standard output")?;

    if comparison.any_regression() {
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<Row>> {
    Ok(report::read_file(path)?)
}

/// The table, the unmatched cells and the summary line, as printed.
pub fn render(report: &CompareReport, base_name: &str, new_name: &str) -> String {
    let header = [
        ("activation", Align::Left),
        ("params", Align::Left),
        ("dtype", Align::Left),
        ("elements", Align::Right),
        ("threads", Align::Right),
        ("base median ns", Align::Right),
        ("new median ns", Align::Right),
        ("change", Align::Right),
        ("verdict", Align::Left),
    ];
    let rows: Vec<Vec<String>> = report.comparisons.iter().map(table_row).collect();
    let mut text = table::render(&header, &rows);

    for (keys, name) in [
        (&report.only_in_base, base_name),
        (&report.only_in_new, new_name),
    ] {
        if keys.is_empty() {
            continue;
        }
        let _ = writeln!(text, "\nonly in {name}:");
        for key in keys {
            let _ = writeln!(text, "  {key}");
        }
    }

    let _ = writeln!(
        text,
        "\n{} cell{} compared (noise threshold {}%): {} faster, {} slower, {} no change; \
         {} only in {base_name}, {} only in {new_name}",
        report.comparisons.len(),
        if report.comparisons.len() == 1 {
            ""
        } else {
            "s"
        },
        trimmed(report.noise * 100.0),
        report.count(report::Verdict::Faster),
        report.count(report::Verdict::Slower),
        report.count(report::Verdict::NoChange),
        report.only_in_base.len(),
        report.only_in_new.len(),
    );
    text
}

fn table_row(comparison: &Comparison) -> Vec<String> {
    let key = &comparison.key;
    vec![
        key.activation.clone(),
        if key.params.is_empty() {
            "-".to_owned()
        } else {
            key.params.clone()
        },
        key.dtype.clone(),
        key.elements.to_string(),
        key.threads.to_string(),
        nanoseconds(comparison.base_median_ns),
        nanoseconds(comparison.new_median_ns),
        format!("{:+.1}%", comparison.change_pct),
        comparison.verdict.label().to_owned(),
    ]
}

/// A time with at least three significant digits, enough to judge a 1% change.
fn nanoseconds(ns: f64) -> String {
    table::significant(ns, 3)
}

/// `x` with at most two decimals and no trailing zeros (2 → `2`, 2.5 → `2.5`).
fn trimmed(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CellKey, Verdict};

    fn key(activation: &str, params: &str, elements: u64) -> CellKey {
        CellKey {
            activation: activation.to_owned(),
            params: params.to_owned(),
            dtype: "f32".to_owned(),
            elements,
            threads: 1,
            target: "local".to_owned(),
        }
    }

    fn comparison(key: CellKey, base: f64, new: f64, verdict: Verdict) -> Comparison {
        Comparison {
            key,
            base_median_ns: base,
            new_median_ns: new,
            ratio: new / base,
            change_pct: (new / base - 1.0) * 100.0,
            intervals_overlap: false,
            verdict,
        }
    }

    #[test]
    fn render_lays_out_table_unmatched_cells_and_summary() {
        let report = CompareReport {
            comparisons: vec![
                comparison(key("relu", "", 1024), 250.0, 125.0, Verdict::Faster),
                comparison(
                    key("leaky_relu", "alpha=0.2", 65536),
                    8.5,
                    9.35,
                    Verdict::Slower,
                ),
            ],
            only_in_base: vec![key("tanh", "", 1024)],
            only_in_new: Vec::new(),
            noise: 0.025,
        };

        let text = render(&report, "a.csv", "b.csv");

        let expected = "\
activation  params     dtype  elements  threads  base median ns  new median ns  change  verdict
relu        -          f32        1024        1             250            125  -50.0%  faster
leaky_relu  alpha=0.2  f32       65536        1            8.50           9.35  +10.0%  slower

only in a.csv:
  tanh f32 × 1024, 1 thread, local

2 cells compared (noise threshold 2.5%): 1 faster, 1 slower, 0 no change; 1 only in a.csv, \
0 only in b.csv
";
        assert_eq!(text, expected);
    }

    #[test]
    fn times_keep_three_significant_digits() {
        assert_eq!(nanoseconds(1234.56), "1235");
        assert_eq!(nanoseconds(12.345), "12.3");
        assert_eq!(nanoseconds(1.2345), "1.23");
        assert_eq!(nanoseconds(0.5), "0.500");
        assert_eq!(trimmed(2.0), "2");
        assert_eq!(trimmed(7.000000000000001), "7");
        assert_eq!(trimmed(0.5), "0.5");
    }
}
