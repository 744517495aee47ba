//! Saving part of a viewport screenshot as a PNG file.

use std::path::Path;

use egui::{ColorImage, Rect};

/// Crops `screenshot` to `region` (in points; `pixels_per_point` converts) and writes it as
/// PNG to `path`. The error names the file.
pub fn save_region(
    screenshot: &ColorImage,
    region: Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<(), String> {
    let [width, height] = screenshot.size;
    let to_pixel = |points: f32, limit: usize| {
        ((points * pixels_per_point).round().max(0.0) as usize).min(limit)
    };
    let (left, right) = (to_pixel(region.min.x, width), to_pixel(region.max.x, width));
    let (top, bottom) = (
        to_pixel(region.min.y, height),
        to_pixel(region.max.y, height),
    );
    if right <= left || bottom <= top {
        return Err(format!(
            "the chart is not on screen; nothing saved ({})",
            path.display()
        ));
    }

    let mut rgba = Vec::with_capacity((right - left) * (bottom - top) * 4);
    for y in top..bottom {
        for pixel in &screenshot.pixels[y * width + left..y * width + right] {
            rgba.extend_from_slice(&pixel.to_srgba_unmultiplied());
        }
    }
    let cropped = image::RgbaImage::from_raw((right - left) as u32, (bottom - top) as u32, rgba)
        .ok_or_else(|| {
            format!(
                "screenshot size mismatch; nothing saved ({})",
                path.display()
            )
        })?;
    cropped
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|error| format!("cannot write the PNG: {error} ({})", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_the_requested_region_only() {
        let mut screenshot = ColorImage::filled([4, 3], egui::Color32::BLACK);
        screenshot.pixels[4 + 1] = egui::Color32::RED;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chart.png");
        let region = Rect::from_min_max(egui::pos2(0.5, 0.5), egui::pos2(1.5, 1.0));

        save_region(&screenshot, region, 2.0, &path).expect("saved");

        let saved = image::open(&path).expect("readable").to_rgba8();
        assert_eq!(saved.dimensions(), (2, 1));
        assert_eq!(saved.get_pixel(0, 0).0, [255, 0, 0, 255]);
        assert_eq!(saved.get_pixel(1, 0).0, [0, 0, 0, 255]);
    }
}
