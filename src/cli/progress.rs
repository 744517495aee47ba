//! The progress bar of a running plan, on standard error.
//!
//! indicatif draws nothing when standard error is not a terminal, so redirected runs and
//! tests get clean output; warnings are printed either way. The bar is redrawn only on
//! harness events (at most ~10 per second, between samples), never by a ticker thread
//! that would compete with the kernel being timed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::harness::Event;
use crate::harness::plan::format_size;

/// Steps of the bar per cell, so it moves within long cells.
const STEPS_PER_CELL: u64 = 100;

/// Follows the events of one run on a progress bar with an ETA.
pub struct Progress {
    bar: ProgressBar,
    total_cells: usize,
}

impl Progress {
    /// A bar on standard error (hidden when that is not a terminal).
    pub fn new() -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let template = "{spinner} [{elapsed_precise}] {bar:30} {percent:>3}% (ETA {eta}) {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        Progress {
            bar,
            total_cells: 0,
        }
    }

    /// Updates the bar for one harness event.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::Started { total_cells, .. } => {
                self.total_cells = *total_cells;
                self.bar.set_length(*total_cells as u64 * STEPS_PER_CELL);
            }
            Event::CellStarted { index, spec } => {
                self.bar.set_position(*index as u64 * STEPS_PER_CELL);
                self.bar.set_message(format!(
                    "cell {}/{}: {} × {} elements",
                    index + 1,
                    self.total_cells,
                    spec.activation,
                    format_size(spec.elements)
                ));
            }
            Event::CellProgress { index, fraction } => {
                let within = (fraction.clamp(0.0, 1.0) * STEPS_PER_CELL as f64) as u64;
                self.bar
                    .set_position(*index as u64 * STEPS_PER_CELL + within);
            }
            Event::CellFinished { index, .. } => {
                self.bar.set_position((*index as u64 + 1) * STEPS_PER_CELL);
            }
            Event::Warning(message) => {
                self.bar.suspend(|| eprintln!("warning: {message}"));
            }
            Event::Finished { .. } => self.bar.finish_and_clear(),
        }
    }

    /// Removes the bar (also when the run ended without a `Finished` event).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
