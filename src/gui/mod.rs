//! The desktop app (eframe + egui_plot).

/// Opens the desktop window and returns when it is closed.
pub fn run() -> anyhow::Result<()> {
    // TODO(gui): the window arrives with the GUI work; until then say so plainly.
    anyhow::bail!("the desktop app is not built yet; use a subcommand (see --help)")
}
