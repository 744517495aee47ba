//! How the app takes in the power side of a run and reopened sessions.

use std::path::Path;

use super::app::ActprofApp;
use super::state::Tab;
use super::worker::PowerUpdate;
use crate::session::Journal;

impl ActprofApp {
    /// Applies one power update from the worker.
    pub fn on_power_update(&mut self, update: PowerUpdate) {
        match update {
            PowerUpdate::Started { info, .. } => self.power.start_run(*info),
            PowerUpdate::Samples(samples) => self.power.push_samples(&samples),
            PowerUpdate::Window(window) => self.power.windows.push(window),
            PowerUpdate::Energies {
                energies,
                idle,
                journal_dir,
            } => {
                self.power.idle = Some(idle);
                // Rows were added per finished cell, in the order of the results.
                for (row, energy) in self.rows.iter_mut().zip(&energies) {
                    if let Some(energy) = energy {
                        *row = row.clone().with_energy(energy);
                    }
                }
                tracing::info!("session journalled in {}", journal_dir.display());
            }
            PowerUpdate::Failed(message) => {
                self.messages.run_warnings.push(message.clone());
                self.power.error = Some(message);
            }
        }
    }

    /// Reads the session in `dir` into the Power tab and shows it.
    pub fn open_session(&mut self, dir: &Path) {
        match Journal::read(dir) {
            Ok(session) => {
                self.power.load_session(session);
                self.power.error = None;
                self.recovery = None;
                self.state.tab = Tab::Power;
            }
            Err(err) => self.power.error = Some(format!("cannot open the session: {err}")),
        }
    }
}
