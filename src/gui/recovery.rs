//! After an unclean exit: find the last session whose journal has no end time, and offer
//! to reopen its trace in the Power tab.

use std::path::{Path, PathBuf};

use super::app::{Action, ActprofApp};
use crate::session::Journal;

/// The newest session folder under `root` whose `session.json` has no end time (the app
/// or the run was killed before it finished). Folders are named by their UTC start time,
/// so the newest sorts last. Unreadable folders are skipped.
pub fn last_unclean_session(root: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    let newest = dirs.pop()?;
    match Journal::read(&newest) {
        Ok(session) if session.meta.ended_at.is_none() => Some(newest),
        Ok(_) => None,
        Err(err) => {
            tracing::debug!("cannot read the last session: {err}");
            None
        }
    }
}

/// The dismissible notice offering to reopen the last session.
pub fn recovery_ui(ui: &mut egui::Ui, app: &ActprofApp, actions: &mut Vec<Action>) {
    let Some(dir) = &app.recovery else {
        return;
    };
    ui.horizontal(|ui| {
        ui.label(format!(
            "The last session did not end cleanly; its journal is kept in {}",
            dir.display()
        ));
        if ui.button("Open last session").clicked() {
            actions.push(Action::OpenSession(dir.clone()));
        }
        if ui.button("Dismiss").clicked() {
            actions.push(Action::DismissRecovery);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::HostFacts;
    use crate::session::SessionMeta;

    fn meta() -> SessionMeta {
        SessionMeta {
            command: vec!["test".into()],
            plan: None,
            host: HostFacts::default(),
            sources: Vec::new(),
            actprof_version: "0".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            ended_at: None,
            gaps: Vec::new(),
        }
    }

    #[test]
    fn only_an_unfinished_newest_session_is_offered() {
        let root = tempfile::tempdir().expect("temp dir");
        assert_eq!(last_unclean_session(root.path()), None);

        let older = root.path().join("2026-01-01T00-00-00.000Z");
        let journal = Journal::create(&older, meta()).expect("journal");
        journal.finish().expect("finished");
        assert_eq!(last_unclean_session(root.path()), None);

        let newer = root.path().join("2026-01-02T00-00-00.000Z");
        // Dropped without `finish`: what a kill leaves.
        drop(Journal::create(&newer, meta()).expect("journal"));
        assert_eq!(last_unclean_session(root.path()), Some(newer));
    }
}
