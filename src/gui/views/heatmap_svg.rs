//! The heatmap as an SVG document, drawn from the same data as the on-screen view (not from
//! a screenshot), so it stays sharp at any size.

use std::fmt::Write as _;

use egui::Color32;

use super::super::model::format_elements;
use super::super::theme;
use super::heatmap::HeatmapData;

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

/// The heatmap of `data` as a standalone SVG document (black text on white).
pub fn heatmap_svg(data: &HeatmapData) -> String {
    let columns = data.grid.sizes.len() as f64;
    let rows = data.grid.activations.len() as f64;
    let width = LABEL_WIDTH + CELL_WIDTH * columns + 10.0;
    let grid_top = TITLE_HEIGHT + HEADER_HEIGHT;
    let height = grid_top + CELL_HEIGHT * rows + LEGEND_HEIGHT;

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
    let title = format!("{} per activation and tensor length", data.metric.label());
    text(&mut svg, 4.0, 20.0, "start", Color32::BLACK, &title);
    text(
        &mut svg,
        4.0,
        TITLE_HEIGHT + 18.0,
        "start",
        Color32::GRAY,
        "activation \\ elements",
    );
    for (column, &elements) in data.grid.sizes.iter().enumerate() {
        let x = LABEL_WIDTH + CELL_WIDTH * (column as f64 + 0.5);
        let label = format_elements(elements);
        text(
            &mut svg,
            x,
            TITLE_HEIGHT + 18.0,
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
            let left = LABEL_WIDTH + CELL_WIDTH * column as f64;
            let fill = value.map_or(Color32::from_gray(235), |v| {
                theme::ramp(data.scale.fraction(v))
            });
            let _ = writeln!(
                svg,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}"/>"#,
                left + 1.0,
                top + 1.0,
                CELL_WIDTH - 2.0,
                CELL_HEIGHT - 2.0,
                hex(fill)
            );
            let shown = value.map_or_else(|| "—".to_owned(), |v| data.metric.format_bare(v));
            let (x, y) = (left + CELL_WIDTH / 2.0, top + CELL_HEIGHT / 2.0 + 5.0);
            text(&mut svg, x, y, "middle", theme::text_on(fill), &shown);
        }
    }

    legend(&mut svg, data, grid_top + CELL_HEIGHT * rows + 14.0);
    svg.push_str("</svg>\n");
    svg
}

fn legend(svg: &mut String, data: &HeatmapData, top: f64) {
    let metric = data.metric;
    let low = format!("{} (low)", metric.format(data.scale.low));
    text(svg, 4.0, top + 13.0, "start", Color32::BLACK, &low);
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
    let high = format!("{} (high)", metric.format(data.scale.high));
    text(
        svg,
        bar_left + LEGEND_WIDTH + 8.0,
        top + 13.0,
        "start",
        Color32::BLACK,
        &high,
    );
    let note = format!("Colour: {}, {}", metric.unit(), data.scale_note());
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
    fn text_is_escaped() {
        assert_eq!(escape(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
