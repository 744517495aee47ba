//! The heatmap as an SVG document, drawn from the same data as the on-screen view (not from
//! a screenshot), so it stays sharp at any size. Several targets get the view's layout: a
//! header per target over its sizes, and a legend line per target's colour scale.

use std::fmt::Write as _;

use egui::Color32;

use super::super::model::format_elements;
use super::super::theme;
use super::heatmap::{ColourScale, HeatmapData};

/// Layout in SVG user units (px).
const LABEL_WIDTH: f64 = 190.0;
const CELL_WIDTH: f64 = 110.0;
const CELL_HEIGHT: f64 = 34.0;
const TITLE_HEIGHT: f64 = 30.0;
const HEADER_HEIGHT: f64 = 28.0;
const LEGEND_HEIGHT: f64 = 46.0;
/// Slices of the legend's gradient bar.
const LEGEND_STEPS: usize = 32;
const LEGEND_WIDTH: f64 = 240.0;
/// Height of the per-target header (name over timing), with several targets.
const TARGET_HEADER_HEIGHT: f64 = 40.0;
/// Space between two targets' column groups.
const GROUP_GAP: f64 = 12.0;
/// Width of one character of the 13 px sans-serif text, roughly, for sizing headers.
const CHAR_WIDTH: f64 = 7.0;
/// Height of each target's legend line after the first.
const LEGEND_LINE: f64 = 24.0;

/// The heatmap of `data` as a standalone SVG document (black text on white).
pub fn heatmap_svg(data: &HeatmapData) -> String {
    let grid = &data.grid;
    let several = grid.has_several_targets();
    let rows = grid.activations.len() as f64;
    let lefts = column_lefts(data);
    let right = lefts
        .last()
        .map_or(LABEL_WIDTH, |(left, width)| left + width);
    let width = right + 10.0;
    let target_header = if several { TARGET_HEADER_HEIGHT } else { 0.0 };
    let sizes_top = TITLE_HEIGHT + target_header;
    let grid_top = sizes_top + HEADER_HEIGHT;
    let legend_lines = if several {
        grid.targets.len() as f64
    } else {
        0.0
    };
    let height = grid_top + CELL_HEIGHT * rows + LEGEND_HEIGHT + LEGEND_LINE * legend_lines;

    let mut svg = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        svg,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}""#,
            r#" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
        ),
        width = width,
        height = height,
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let per = if several {
        "activation, target"
    } else {
        "activation"
    };
    let title = format!("{} per {per} and tensor length", data.metric.label());
    text(&mut svg, 4.0, 20.0, "start", Color32::BLACK, &title);
    if several {
        target_headers(&mut svg, data, &lefts);
    }
    text(
        &mut svg,
        4.0,
        sizes_top + 18.0,
        "start",
        Color32::GRAY,
        "activation \\ elements",
    );
    for (column, grid_column) in grid.columns.iter().enumerate() {
        let (left, cell_width) = lefts[column];
        let label = format_elements(grid_column.elements);
        let x = left + cell_width / 2.0;
        text(
            &mut svg,
            x,
            sizes_top + 18.0,
            "middle",
            Color32::BLACK,
            &label,
        );
    }

    for (row, activation) in data.grid.activations.iter().enumerate() {
        let top = grid_top + CELL_HEIGHT * row as f64;
        text(
            &mut svg,
            4.0,
            top + CELL_HEIGHT / 2.0 + 5.0,
            "start",
            Color32::BLACK,
            activation,
        );
        for (column, value) in data.values[row].iter().enumerate() {
            let (left, cell_width) = lefts[column];
            let fill = value.map_or(Color32::from_gray(235), |v| data.colour(column, v));
            let _ = writeln!(
                svg,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}"/>"#,
                left + 1.0,
                top + 1.0,
                cell_width - 2.0,
                CELL_HEIGHT - 2.0,
                hex(fill)
            );
            let shown = value.map_or_else(|| "—".to_owned(), |v| data.metric.format_bare(v));
            let (x, y) = (left + cell_width / 2.0, top + CELL_HEIGHT / 2.0 + 5.0);
            text(&mut svg, x, y, "middle", theme::text_on(fill), &shown);
        }
    }

    let legend_top = grid_top + CELL_HEIGHT * rows + 14.0;
    if several {
        let note = data.targets_note();
        text(
            &mut svg,
            4.0,
            legend_top + 13.0,
            "start",
            Color32::DARK_GRAY,
            &note,
        );
        for (index, (target, scale)) in grid.targets.iter().zip(&data.scales).enumerate() {
            let top = legend_top + LEGEND_LINE * (index as f64 + 1.0);
            let name = match &target.timing {
                Some(timing) if target.is_emulated() => format!("{} ({timing})", target.name),
                _ => target.name.clone(),
            };
            match scale {
                Some(scale) => legend(&mut svg, data, scale, top, Some(&name)),
                None => text(&mut svg, 4.0, top + 13.0, "start", Color32::BLACK, &name),
            }
        }
    } else if let Some(scale) = data.scales.first().and_then(Option::as_ref) {
        legend(&mut svg, data, scale, legend_top, None);
    }
    svg.push_str("</svg>\n");
    svg
}

/// Left edge and width of each column: targets' groups apart, each widened until its
/// header fits.
fn column_lefts(data: &HeatmapData) -> Vec<(f64, f64)> {
    let grid = &data.grid;
    let several = grid.has_several_targets();
    let mut lefts = Vec::with_capacity(grid.columns.len());
    let mut x = LABEL_WIDTH;
    for (index, target) in grid.targets.iter().enumerate() {
        if index > 0 {
            x += GROUP_GAP;
        }
        let count = grid.columns.iter().filter(|c| c.target == index).count();
        let header = target
            .name
            .len()
            .max(target.timing.as_ref().map_or(0, String::len));
        let needed = if several {
            header as f64 * CHAR_WIDTH + 12.0
        } else {
            0.0
        };
        let width = CELL_WIDTH.max(needed / count.max(1) as f64);
        for _ in 0..count {
            lefts.push((x, width));
            x += width;
        }
    }
    lefts
}

/// Each target's name over its timing, centred on its columns, with a rule below.
fn target_headers(svg: &mut String, data: &HeatmapData, lefts: &[(f64, f64)]) {
    let grid = &data.grid;
    for (index, target) in grid.targets.iter().enumerate() {
        let spans: Vec<(f64, f64)> = grid
            .columns
            .iter()
            .zip(lefts)
            .filter(|(column, _)| column.target == index)
            .map(|(_, &span)| span)
            .collect();
        let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
            continue;
        };
        let (start, end) = (first.0, last.0 + last.1);
        let centre = (start + end) / 2.0;
        let top = TITLE_HEIGHT;
        text(
            svg,
            centre,
            top + 14.0,
            "middle",
            Color32::BLACK,
            &target.name,
        );
        if let Some(timing) = &target.timing {
            let colour = if target.is_emulated() {
                Color32::from_rgb(150, 80, 0)
            } else {
                Color32::DARK_GRAY
            };
            text(svg, centre, top + 30.0, "middle", colour, timing);
        }
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#999999"/>"##,
            start + 1.0,
            end - 1.0,
            y = top + TARGET_HEADER_HEIGHT - 3.0,
        );
    }
}

/// One colour scale: low end, gradient, high end and what the colours mean; `name` (a
/// target) goes first when there are several.
fn legend(svg: &mut String, data: &HeatmapData, scale: &ColourScale, top: f64, name: Option<&str>) {
    let metric = data.metric;
    let low = format!("{} (low)", metric.format(scale.low));
    match name {
        Some(name) => {
            let low = format!("{name}: {low}");
            text(
                svg,
                LABEL_WIDTH - 8.0,
                top + 13.0,
                "end",
                Color32::BLACK,
                &low,
            );
        }
        None => text(svg, 4.0, top + 13.0, "start", Color32::BLACK, &low),
    }
    let bar_left = LABEL_WIDTH;
    let step = LEGEND_WIDTH / LEGEND_STEPS as f64;
    for i in 0..LEGEND_STEPS {
        let colour = theme::ramp(i as f64 / (LEGEND_STEPS - 1) as f64);
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{top}" width="{}" height="16" fill="{}"/>"#,
            bar_left + step * i as f64,
            step + 0.5,
            hex(colour)
        );
    }
    let high = format!("{} (high)", metric.format(scale.high));
    let note = data.scale_note(scale);
    if name.is_some() {
        let high = format!("{high}, {note}");
        text(
            svg,
            bar_left + LEGEND_WIDTH + 8.0,
            top + 13.0,
            "start",
            Color32::BLACK,
            &high,
        );
        return;
    }
    text(
        svg,
        bar_left + LEGEND_WIDTH + 8.0,
        top + 13.0,
        "start",
        Color32::BLACK,
        &high,
    );
    let note = format!("Colour: {}, {note}", metric.unit());
    text(svg, 4.0, top + 32.0, "start", Color32::DARK_GRAY, &note);
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, colour: Color32, content: &str) {
    let _ = writeln!(
        svg,
        r#"<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{}">{}</text>"#,
        hex(colour),
        escape(content)
    );
}

fn hex(colour: Color32) -> String {
    let [r, g, b, _] = colour.to_array();
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Escapes the characters XML gives meaning to.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::super::model::Metric;
    use super::super::super::model::tests::row;
    use super::*;

    #[test]
    fn one_rect_and_value_per_cell_with_units() {
        let rows = [
            row("relu", "", 1024, 100.0),
            row("relu", "", 4096, 400.0),
            row("gelu", "", 1024, 300.0),
        ];
        let data = HeatmapData::of(&rows, Metric::NsPerCall).expect("values");
        let svg = heatmap_svg(&data);

        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        // 2 × 2 cells + white background + legend slices.
        assert_eq!(svg.matches("<rect ").count(), 4 + 1 + LEGEND_STEPS);
        // Lowest value at the ramp's low end, highest at its high end.
        assert!(svg.contains(&format!(r#"fill="{}"/>"#, hex(theme::ramp(0.0)))));
        assert!(svg.contains(&format!(r#"fill="{}"/>"#, hex(theme::ramp(1.0)))));
        assert!(svg.contains(">100</text>") && svg.contains(">400</text>"));
        assert!(svg.contains(">—</text>"), "gelu at 4k was not measured");
        assert!(svg.contains("100 ns/call (low)") && svg.contains("400 ns/call (high)"));
        assert!(svg.contains(">activation \\ elements</text>"));
    }

    #[test]
    fn several_targets_get_a_header_and_a_legend_line_each() {
        let board = |activation: &str, median_ns: f64| crate::report::Row {
            target: "board:qemu-mps2-an386 actprof-fw/0.1.0".to_owned(),
            timing: Some(crate::target::board::TIMING_QEMU.to_owned()),
            ..row(activation, "", 256, median_ns)
        };
        let rows = [
            row("relu", "", 1024, 60.0),
            row("gelu", "", 1024, 600.0),
            board("relu", 20_000.0),
            board("gelu", 900_000.0),
        ];
        let data = HeatmapData::of(&rows, Metric::NsPerCall).expect("values");
        let svg = heatmap_svg(&data);
        assert!(svg.contains(">local</text>"));
        assert!(svg.contains(">board:qemu-mps2-an386 actprof-fw/0.1.0</text>"));
        assert!(svg.contains(">QEMU instruction count, not real-chip cycles</text>"));
        // 4 cells + background + one gradient per target.
        assert_eq!(svg.matches("<rect ").count(), 4 + 1 + 2 * LEGEND_STEPS);
        // Each target's fastest cell is at the low end of its own scale.
        assert_eq!(
            svg.matches(&format!(r#"fill="{}"/>"#, hex(theme::ramp(0.0))))
                .count(),
            4
        );
        assert!(svg.contains("60.0 ns/call (low)") && svg.contains("20 000 ns/call (low)"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
