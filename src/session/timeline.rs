//! The session clock and the timeline of run windows and power samples on it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::power::{Clock, PowerSample};

/// The one clock of a session: seconds since it started, on the host monotonic clock.
#[derive(Clone, Copy, Debug)]
pub struct SessionClock {
    start: Instant,
}

impl SessionClock {
    /// A clock whose zero is now.
    pub fn start_now() -> SessionClock {
        SessionClock {
            start: Instant::now(),
        }
    }

    /// The instant of time zero.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Seconds from time zero to `instant` (negative before it).
    pub fn seconds_at(&self, instant: Instant) -> f64 {
        match instant.checked_duration_since(self.start) {
            Some(after) => after.as_secs_f64(),
            None => -self.start.duration_since(instant).as_secs_f64(),
        }
    }

    /// Time elapsed since time zero.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Clock for SessionClock {
    fn now_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

/// A stretch of the session during which one cell ran, or the machine idled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunWindow {
    /// What ran, e.g. `gelu × 1M` or `idle`.
    pub label: String,
    /// Start in seconds since the session started.
    pub start_s: f64,
    /// End in seconds since the session started.
    pub end_s: f64,
    /// Kernel calls made in the window (0 for idle).
    pub calls: u64,
    /// Elements processed in the window (0 for idle).
    pub elements: u64,
}

impl RunWindow {
    /// Length of the window in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// Everything that happened in a session, in time order.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// The session clock.
    pub clock: SessionClock,
    /// Run windows in the order they ended.
    pub windows: Vec<RunWindow>,
    /// Power samples in time order.
    pub samples: Vec<PowerSample>,
}

impl Timeline {
    /// An empty timeline on `clock`.
    pub fn new(clock: SessionClock) -> Timeline {
        Timeline {
            clock,
            windows: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// Adds samples, which must not go back in time; the first that does is returned as
    /// the error and nothing after it is added.
    pub fn push_samples(&mut self, samples: &[PowerSample]) -> Result<(), PowerSample> {
        for sample in samples {
            if self
                .samples
                .last()
                .is_some_and(|last| sample.t_s < last.t_s)
            {
                return Err(*sample);
            }
            self.samples.push(*sample);
        }
        Ok(())
    }

    /// Adds a finished run window.
    pub fn push_window(&mut self, window: RunWindow) {
        self.windows.push(window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_going_back_in_time_are_refused() {
        let mut timeline = Timeline::new(SessionClock::start_now());
        let samples = [PowerSample::power(1.0, 5.0), PowerSample::power(2.0, 5.0)];
        timeline.push_samples(&samples).expect("in order");
        let late = PowerSample::power(1.5, 5.0);
        assert_eq!(timeline.push_samples(&[late]), Err(late));
        assert_eq!(timeline.samples.len(), 2);
    }

    #[test]
    fn instants_map_to_seconds_on_either_side_of_time_zero() {
        let clock = SessionClock::start_now();
        let later = clock.start() + Duration::from_millis(1500);
        assert_eq!(clock.seconds_at(later), 1.5);
        if let Some(earlier) = clock.start().checked_sub(Duration::from_millis(250)) {
            assert_eq!(clock.seconds_at(earlier), -0.25);
        }
    }
}
