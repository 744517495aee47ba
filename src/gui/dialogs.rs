//! File dialogs: the native one (rfd through the desktop portal) when the session has one,
//! otherwise a path typed into a text field.
//!
//! The portal dialog blocks, so it runs on its own short-lived thread and the answer comes
//! back over a channel. A dialog that returns nothing almost at once did not open (no portal,
//! no zenity); the app then falls back to the text field for the rest of the session.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

/// An answer faster than this cannot have come from a person, so the dialog failed to open.
const FAILED_DIALOG_WITHIN: Duration = Duration::from_millis(300);

/// What a chosen path is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Write the results as a CSV report.
    ExportCsv,
    /// Read a CSV report as the results.
    OpenCsv,
    /// Read a CSV report to compare against.
    LoadBaseline,
    /// Read a TOML profile into the plan.
    LoadProfile,
    /// Write the plan as a TOML profile.
    SaveProfile,
    /// Save the chart on display as PNG.
    ExportPng,
    /// Save the heatmap as SVG.
    ExportSvg,
    /// Read a power trace (a foreign recording or an actprof trace) into the Power tab.
    OpenTrace,
    /// Write the training runs as the per-epoch CSV.
    ExportEpochs,
}

impl Purpose {
    fn is_save(self) -> bool {
        matches!(
            self,
            Purpose::ExportCsv
                | Purpose::SaveProfile
                | Purpose::ExportPng
                | Purpose::ExportSvg
                | Purpose::ExportEpochs
        )
    }

    fn filter(self) -> (&'static str, &'static str) {
        match self {
            Purpose::ExportCsv | Purpose::OpenCsv | Purpose::LoadBaseline => ("CSV report", "csv"),
            Purpose::LoadProfile | Purpose::SaveProfile => ("TOML profile", "toml"),
            Purpose::ExportPng => ("PNG image", "png"),
            Purpose::ExportSvg => ("SVG image", "svg"),
            Purpose::OpenTrace => ("Power trace CSV", "csv"),
            Purpose::ExportEpochs => ("Per-epoch CSV", "csv"),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Purpose::ExportCsv => "Export CSV report",
            Purpose::OpenCsv => "Open CSV report",
            Purpose::LoadBaseline => "Load baseline CSV report",
            Purpose::LoadProfile => "Load profile",
            Purpose::SaveProfile => "Save profile",
            Purpose::ExportPng => "Export chart as PNG",
            Purpose::ExportSvg => "Export heatmap as SVG",
            Purpose::OpenTrace => "Open power trace",
            Purpose::ExportEpochs => "Export training epochs as CSV",
        }
    }
}

/// The dialog in flight, if any, and whether native dialogs are usable.
pub struct Dialogs {
    native: bool,
    pending: Option<Pending>,
    /// Set when a native dialog failed and the text fields took over.
    pub fallback_notice: Option<String>,
}

struct Pending {
    purpose: Purpose,
    opened_at: Instant,
    answer: Receiver<Option<PathBuf>>,
}

impl Dialogs {
    /// Native dialogs when the session looks able to show one (a D-Bus session bus for the
    /// portal); `native = false` forces the text fields (tests, headless machines).
    pub fn new(native: bool) -> Self {
        let usable = native && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
        Self {
            native: usable,
            pending: None,
            fallback_notice: None,
        }
    }

    /// Whether paths are typed into text fields instead of picked in a dialog.
    pub fn uses_text_fields(&self) -> bool {
        !self.native
    }

    /// Whether a native dialog is open.
    pub fn is_open(&self) -> bool {
        self.pending.is_some()
    }

    /// Asks for a path. With text fields, the typed `current` path is the answer at once;
    /// with a native dialog the answer arrives later through [`Dialogs::poll`].
    pub fn request(&mut self, purpose: Purpose, current: &str) -> Option<(Purpose, PathBuf)> {
        if !self.native {
            let typed = current.trim();
            return (!typed.is_empty()).then(|| (purpose, PathBuf::from(typed)));
        }
        if self.pending.is_some() {
            return None;
        }
        let (sender, answer) = sync_channel(1);
        let dialog = build_dialog(purpose, current);
        let spawned = std::thread::Builder::new()
            .name("actprof-dialog".to_owned())
            .spawn(move || {
                let chosen = if purpose.is_save() {
                    dialog.save_file()
                } else {
                    dialog.pick_file()
                };
                // The app may have closed meanwhile; nobody is left to tell.
                let _ = sender.send(chosen);
            });
        match spawned {
            Ok(_) => {
                self.pending = Some(Pending {
                    purpose,
                    opened_at: Instant::now(),
                    answer,
                });
                None
            }
            Err(error) => {
                self.fall_back(format!("cannot start the file dialog: {error}"));
                None
            }
        }
    }

    /// The path chosen in a native dialog, once the user has answered.
    pub fn poll(&mut self) -> Option<(Purpose, PathBuf)> {
        let pending = self.pending.as_ref()?;
        let answer = match pending.answer.try_recv() {
            Ok(answer) => answer,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => None,
        };
        let pending = self.pending.take()?;
        match answer {
            Some(path) => Some((pending.purpose, path)),
            None if pending.opened_at.elapsed() < FAILED_DIALOG_WITHIN => {
                self.fall_back("the file dialog did not open (no desktop portal)".to_owned());
                None
            }
            None => None,
        }
    }

    fn fall_back(&mut self, reason: String) {
        tracing::warn!("{reason}; paths are typed from now on");
        self.native = false;
        self.fallback_notice = Some(format!("{reason}: type a path in the field instead"));
    }
}

fn build_dialog(purpose: Purpose, current: &str) -> rfd::FileDialog {
    let (filter_name, extension) = purpose.filter();
    let current = Path::new(current.trim());
    let mut dialog = rfd::FileDialog::new()
        .set_title(purpose.title())
        .add_filter(filter_name, &[extension]);
    if let Some(folder) = current.parent().filter(|folder| folder.is_dir()) {
        dialog = dialog.set_directory(folder);
    }
    if let Some(name) = current.file_name() {
        dialog = dialog.set_file_name(name.to_string_lossy());
    }
    dialog
}

/// A button that asks for a path for `purpose`, with the path field beside it when paths are
/// typed. Returns the chosen path when one is ready.
pub fn file_button(
    ui: &mut egui::Ui,
    dialogs: &mut Dialogs,
    label: &str,
    purpose: Purpose,
    path: &mut String,
) -> Option<(Purpose, PathBuf)> {
    ui.horizontal(|ui| {
        let clicked = ui.button(label).clicked();
        if dialogs.uses_text_fields() {
            let field = egui::TextEdit::singleline(path)
                .hint_text(format!("path for {label}"))
                .desired_width(ui.available_width().clamp(80.0, 320.0));
            ui.add(field)
                .on_hover_text(format!("File used by \"{label}\""));
        }
        if clicked {
            dialogs.request(purpose, path)
        } else {
            None
        }
    })
    .inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_answer_with_the_typed_path() {
        let mut dialogs = Dialogs::new(false);
        assert!(dialogs.uses_text_fields());
        let answer = dialogs.request(Purpose::OpenCsv, "  reports/a.csv ");
        assert_eq!(
            answer,
            Some((Purpose::OpenCsv, PathBuf::from("reports/a.csv")))
        );
        assert_eq!(dialogs.request(Purpose::OpenCsv, "   "), None);
    }
}
