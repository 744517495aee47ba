//! The desktop app (eframe + egui_plot).
//!
//! [`run`] opens the window. Everything shown comes from the engine: runs go through the
//! harness (kernels) or `models` (inferences and training, see [`jobs`]) on the [`worker`]
//! thread, reports through `report::csv`, curves through `kernels`. This module only
//! displays and edits state.

pub mod app;
pub mod dialogs;
pub mod jobs;
pub mod model;
pub mod panels;
pub mod png;
pub mod power_events;
pub mod recovery;
pub mod state;
pub mod theme;
pub mod trace;
pub mod views;
pub mod worker;

pub use app::ActprofApp;
pub use state::UiState;

/// The window title and the name eframe stores state under.
pub const APP_NAME: &str = "actprof";

/// Opens the desktop window and returns when it is closed.
pub fn run() -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title(APP_NAME)
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([900.0, 560.0]),
        persist_window: true,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        APP_NAME,
        options,
        Box::new(|cc| Ok(Box::new(ActprofApp::new(cc)))),
    )
    .map_err(|error| anyhow::anyhow!("the desktop window failed: {error}"))
}
