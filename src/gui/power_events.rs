//! How the app takes in the power side of a run and reopened sessions.

use std::path::Path;

use super::app::ActprofApp;
use super::state::Tab;
use super::worker::PowerUpdate;
use crate::session::Journal;
use crate::session::import::{self, ImportOptions};

/// Most samples the Power tab imports: about 1.3 GB of samples, and an hour and a half
/// of a PPK2 at 100 kS/s would be far more. Longer files go through `actprof import`.
pub const MAX_IMPORTED_SAMPLES: u64 = 20_000_000;

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
                // This run's rows were added per finished cell, in the order of the
                // results, after the rows of other targets.
                let first_row = self.run.as_ref().map_or(0, |run| run.first_row);
                let rows = self.rows.iter_mut().skip(first_row);
                for (row, energy) in rows.zip(&energies) {
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

    /// Reads a recording (detected by its header) or, for a folder, a session into the
    /// Power tab. A bad file leaves the trace on display as it was.
    pub fn open_trace(&mut self, path: &Path) {
        if path.is_dir() {
            self.open_session(path);
            return;
        }
        let typed = self.power.import_voltage.trim();
        let voltage_v = if typed.is_empty() {
            None
        } else {
            match typed.parse::<f64>() {
                Ok(volts) if volts.is_finite() && volts > 0.0 => Some(volts),
                _ => {
                    self.power.error =
                        Some(format!("supply voltage `{typed}` is not a number of volts"));
                    return;
                }
            }
        };
        let options = ImportOptions {
            voltage_v,
            max_samples: Some(MAX_IMPORTED_SAMPLES),
        };
        match import::read_trace(path, None, &options) {
            Ok((samples, summary)) => {
                tracing::info!("imported {} samples from {}", samples.len(), path.display());
                self.power.load_import(&samples, &summary);
                self.power.error = None;
                self.state.tab = Tab::Power;
            }
            Err(err) => self.power.error = Some(format!("cannot open the trace: {err}")),
        }
    }
}
