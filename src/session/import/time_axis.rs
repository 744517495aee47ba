//! The trace's time axis from a file's time column: starts at 0 s, never goes back.

use serde::{Deserialize, Serialize};

use super::MAX_LISTED_JUMPS;

/// Positive sample spacings kept to estimate the typical spacing (their median).
const SPACINGS_KEPT: usize = 1001;

/// The file's time went backwards.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeJump {
    /// CSV line of the row whose time went back.
    pub line: u64,
    /// File time of the row before, in s.
    pub from_s: f64,
    /// File time of this row, in s.
    pub to_s: f64,
}

/// Places file times on the trace's axis: `t = file − first + shift`, where `shift`
/// grows at every backward jump so that the row lands one typical spacing after the last
/// sample (see the module doc of [`super`]).
#[derive(Clone, Debug, Default)]
pub struct TimeAxis {
    first_file_s: Option<f64>,
    last_file_s: f64,
    last_s: f64,
    shift_s: f64,
    spacings: Vec<f64>,
    jumps: Vec<TimeJump>,
    jump_count: u64,
}

impl TimeAxis {
    /// The trace time of a row at file time `file_s` (finite) on CSV `line`.
    pub fn place(&mut self, line: u64, file_s: f64) -> f64 {
        let Some(first) = self.first_file_s else {
            self.first_file_s = Some(file_s);
            self.last_file_s = file_s;
            self.last_s = 0.0;
            return 0.0;
        };
        let step = file_s - self.last_file_s;
        if step < 0.0 {
            self.jump_count += 1;
            if self.jumps.len() < MAX_LISTED_JUMPS {
                self.jumps.push(TimeJump {
                    line,
                    from_s: self.last_file_s,
                    to_s: file_s,
                });
            }
            tracing::debug!(
                "time goes back from {} s to {file_s} s at line {line}",
                self.last_file_s
            );
            let spacing = self.spacing_s().unwrap_or(0.0);
            self.shift_s = self.last_s + spacing - (file_s - first);
        } else if step > 0.0 && self.spacings.len() < SPACINGS_KEPT {
            self.spacings.push(step);
        }
        let t = (file_s - first + self.shift_s).max(self.last_s);
        self.last_file_s = file_s;
        self.last_s = t;
        t
    }

    /// File time of the first row placed.
    pub fn first_file_s(&self) -> Option<f64> {
        self.first_file_s
    }

    /// The median positive spacing seen so far, in s.
    pub fn spacing_s(&self) -> Option<f64> {
        if self.spacings.is_empty() {
            return None;
        }
        let mut sorted = self.spacings.clone();
        sorted.sort_by(f64::total_cmp);
        Some(sorted[sorted.len() / 2])
    }

    /// One over the typical spacing.
    pub fn rate_hz(&self) -> Option<f64> {
        self.spacing_s().map(|spacing| 1.0 / spacing)
    }

    /// How many jumps there were, and the first [`MAX_LISTED_JUMPS`].
    pub fn jumps(self) -> (u64, Vec<TimeJump>) {
        (self.jump_count, self.jumps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backward_jump_continues_one_spacing_later() {
        let mut axis = TimeAxis::default();
        let file = [5450.85, 5450.87, 5450.89, 5450.91, 3303.44, 3303.46];
        let placed: Vec<f64> = file
            .iter()
            .enumerate()
            .map(|(i, &t)| axis.place(i as u64 + 2, t))
            .collect();
        let expected = [0.0, 0.02, 0.04, 0.06, 0.08, 0.10];
        for (got, want) in placed.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{placed:?}");
        }
        assert!((axis.rate_hz().expect("rate") - 50.0).abs() < 1e-6);
        assert_eq!(axis.first_file_s(), Some(5450.85));
        let (count, jumps) = axis.jumps();
        assert_eq!(count, 1);
        assert_eq!(
            jumps,
            [TimeJump {
                line: 6,
                from_s: 5450.91,
                to_s: 3303.44
            }]
        );
    }

    #[test]
    fn equal_times_stay_equal() {
        let mut axis = TimeAxis::default();
        assert_eq!(axis.place(2, 10.0), 0.0);
        assert_eq!(axis.place(3, 10.0), 0.0);
        assert_eq!(axis.place(4, 11.0), 1.0);
        assert_eq!(axis.jumps().0, 0);
    }
}
