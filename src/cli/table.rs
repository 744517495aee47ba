//! Plain-text tables for the terminal: columns padded to their widest cell.

use std::fmt::Write as _;

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// The header and rows as aligned text, two spaces between columns, one line per row.
pub fn render(header: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header
        .iter()
        .map(|(name, _)| name.chars().count())
        .collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let names: Vec<String> = header.iter().map(|(name, _)| (*name).to_owned()).collect();
    let mut text = String::new();
    for row in std::iter::once(&names).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .zip(header)
            .map(|((cell, &width), &(_, align))| {
                let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
                match align {
                    Align::Left => format!("{cell}{pad}"),
                    Align::Right => format!("{pad}{cell}"),
                }
            })
            .collect();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    }
    text
}

/// `x` with `digits` significant digits (at least), never in exponent form:
/// 123456 → `123456`, 12.345 → `12.35`, 0.012345 → `0.01235`.
pub fn significant(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// An interval as `low–high`, each end to `digits` significant digits (the bootstrap
/// interval of a median is rarely symmetric about it, so no `±` half-width).
pub fn interval(low: f64, high: f64, digits: i32) -> String {
    format!("{}–{}", significant(low, digits), significant(high, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_and_aligned() {
        let header = [("name", Align::Left), ("ns", Align::Right)];
        let rows = vec![
            vec!["relu".to_owned(), "5".to_owned()],
            vec!["gelu_tanh".to_owned(), "1234".to_owned()],
        ];
        assert_eq!(
            render(&header, &rows),
            "name         ns\nrelu          5\ngelu_tanh  1234\n"
        );
    }

    #[test]
    fn intervals_show_both_ends() {
        assert_eq!(interval(2521.8, 2577.3, 4), "2522–2577");
        assert_eq!(interval(0.01234, 0.0125, 2), "0.012–0.013");
    }

    #[test]
    fn significant_digits_follow_the_magnitude() {
        assert_eq!(significant(123_456.7, 4), "123457");
        assert_eq!(significant(12.345, 4), "12.35");
        assert_eq!(significant(0.012_345, 4), "0.01235");
        assert_eq!(significant(1.0, 3), "1.00");
        assert_eq!(significant(0.0, 3), "0");
    }
}
