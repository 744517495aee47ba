//! The status bar: what machine the numbers come from and what may skew them.

use super::super::app::ActprofApp;
use super::super::state::ThemeChoice;
use super::super::theme;

/// The bottom panel.
pub fn status_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        match &app.host {
            Some(host) => {
                let physical = host
                    .physical_cores
                    .map_or_else(|| "?".to_owned(), |cores| cores.to_string());
                ui.label(format!(
                    "CPU: {} | cores: {physical} physical, {} logical | kernels: f32 {}, int8 {} | \
                     governor: {} | VM: {}",
                    host.cpu_model,
                    host.logical_cores,
                    host.kernel_isa,
                    host.quant_isa,
                    host.governor.as_deref().unwrap_or("unknown"),
                    host.virtualization.as_deref().unwrap_or("none detected"),
                ));
            }
            None => {
                ui.label("Collecting host facts…");
            }
        }
        ui.separator();
        theme_ui(ui, app);
    });

    let few_cores = app
        .host
        .as_ref()
        .is_some_and(|host| host.logical_cores <= 2);
    if app.is_busy() && few_cores {
        ui.label(format!(
            "UI repaints only on progress while measuring ({} cores shared)",
            app.host.as_ref().map_or(0, |host| host.logical_cores)
        ));
    }
    if let Some(info) = app.power.info.as_ref().filter(|info| info.is_emulated()) {
        ui.colored_label(
            theme::warning(dark),
            format!(
                "Power source `{}` is EMULATED (actprof emulate), not a real meter",
                info.spec
            ),
        );
    }
    let host_warnings = app.host.iter().flat_map(|host| host.warnings.iter());
    for warning in host_warnings.chain(&app.messages.run_warnings) {
        ui.colored_label(theme::warning(dark), format!("Warning: {warning}"));
    }
}

fn theme_ui(ui: &mut egui::Ui, app: &mut ActprofApp) {
    let before = app.state.theme;
    ui.label("Theme:");
    ui.selectable_value(&mut app.state.theme, ThemeChoice::System, "System");
    ui.selectable_value(&mut app.state.theme, ThemeChoice::Light, "Light");
    ui.selectable_value(&mut app.state.theme, ThemeChoice::Dark, "Dark");
    if app.state.theme != before {
        theme::apply(ui.ctx(), app.state.theme);
    }
}
