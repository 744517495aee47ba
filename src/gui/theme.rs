//! Every colour the app draws with, for dark and light mode.
//!
//! Charts take their colours from here so both modes stay readable; egui's own widgets
//! follow the system theme through eframe's theme preference.

use egui::{Color32, Context, ThemePreference};

use super::state::ThemeChoice;

/// A perceptually uniform sequential ramp (viridis stops), low to high.
const RAMP: [Color32; 6] = [
    Color32::from_rgb(68, 1, 84),
    Color32::from_rgb(65, 68, 135),
    Color32::from_rgb(42, 120, 142),
    Color32::from_rgb(34, 168, 132),
    Color32::from_rgb(122, 209, 81),
    Color32::from_rgb(253, 231, 37),
];

/// Categorical colours for series (Okabe–Ito, distinguishable with colour-vision deficiency).
const SERIES: [Color32; 8] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(240, 228, 66),
    Color32::from_rgb(150, 150, 150),
];

/// Sets egui's theme preference from the user's choice.
pub fn apply(ctx: &Context, choice: ThemeChoice) {
    let preference = match choice {
        ThemeChoice::System => ThemePreference::System,
        ThemeChoice::Light => ThemePreference::Light,
        ThemeChoice::Dark => ThemePreference::Dark,
    };
    ctx.set_theme(preference);
}

/// The colour of `fraction` in [0, 1] on the sequential ramp (clamped; NaN gives the low end).
pub fn ramp(fraction: f64) -> Color32 {
    let fraction = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    let scaled = fraction * (RAMP.len() - 1) as f64;
    let index = (scaled.floor() as usize).min(RAMP.len() - 2);
    let t = (scaled - index as f64) as f32;
    RAMP[index].lerp_to_gamma(RAMP[index + 1], t)
}

/// Black or white, whichever reads better on `background`.
pub fn text_on(background: Color32) -> Color32 {
    let [r, g, b, _] = background.to_array();
    // Rec. 601 luma is enough to pick between two extremes.
    let luma = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
    if luma > 140.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// The colour of series number `index`.
pub fn series(index: usize) -> Color32 {
    SERIES[index % SERIES.len()]
}

/// The colour of series `index` on target number `target` of several: the series colour
/// for the first target, lighter (darker in dark mode) for each further one, so one
/// activation keeps its hue across targets.
pub fn series_shade(index: usize, target: usize, dark_mode: bool) -> Color32 {
    let towards = if dark_mode {
        Color32::BLACK
    } else {
        Color32::WHITE
    };
    let amount = (0.4 * target as f32).min(0.7);
    series(index).lerp_to_gamma(towards, amount)
}

/// The colour of series `index` drawn as its int8 kernel: the series colour moved halfway
/// towards the text colour, so the staircase stands out on the f32 curve beneath it.
pub fn series_quantized(index: usize, dark_mode: bool) -> Color32 {
    let towards = if dark_mode {
        Color32::WHITE
    } else {
        Color32::BLACK
    };
    series(index).lerp_to_gamma(towards, 0.5)
}

/// Green for "faster", tuned per mode.
pub fn faster(dark_mode: bool) -> Color32 {
    if dark_mode {
        Color32::from_rgb(90, 200, 120)
    } else {
        Color32::from_rgb(0, 130, 60)
    }
}

/// Red for "slower", tuned per mode.
pub fn slower(dark_mode: bool) -> Color32 {
    if dark_mode {
        Color32::from_rgb(240, 110, 100)
    } else {
        Color32::from_rgb(190, 30, 30)
    }
}

/// Neutral for "no change".
pub fn unchanged(dark_mode: bool) -> Color32 {
    if dark_mode {
        Color32::from_gray(170)
    } else {
        Color32::from_gray(90)
    }
}

/// Errors shown in place.
pub fn error(dark_mode: bool) -> Color32 {
    slower(dark_mode)
}

/// Warnings (frequency scaling, virtual machine).
pub fn warning(dark_mode: bool) -> Color32 {
    if dark_mode {
        Color32::from_rgb(240, 190, 80)
    } else {
        Color32::from_rgb(160, 100, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_ends_are_the_first_and_last_stops() {
        assert_eq!(ramp(0.0), RAMP[0]);
        assert_eq!(ramp(1.0), RAMP[RAMP.len() - 1]);
        assert_eq!(ramp(-3.0), RAMP[0]);
        assert_eq!(ramp(f64::NAN), RAMP[0]);
    }

    #[test]
    fn text_contrasts_with_the_ramp_ends() {
        assert_eq!(text_on(RAMP[0]), Color32::WHITE);
        assert_eq!(text_on(RAMP[RAMP.len() - 1]), Color32::BLACK);
    }
}
