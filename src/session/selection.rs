//! Statistics of a stretch of a power trace that the user picked: its duration, the
//! mean, minimum, maximum and median power, and its energy, optionally above a baseline.
//!
//! The mean and the energy come from [`energy::window_energy`] (the trapezoid over the
//! piecewise-linear power curve, or the counter difference for counter sources), so they
//! agree with the energy attributed to run windows. Minimum, maximum and median are over
//! the samples inside the selection. With a baseline ("tare") of `P₀` W, the energy is
//! `E − P₀ · duration` and the powers are shown as measured.

use super::energy::{self, Attribution, EnergyError};
use crate::power::{PowerSample, Quantity};

/// The statistics of one selection.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionStats {
    /// Start of the selection in s.
    pub start_s: f64,
    /// End of the selection in s.
    pub end_s: f64,
    /// Samples inside the selection.
    pub samples: usize,
    /// Time-weighted mean power in W.
    pub mean_w: f64,
    /// Lowest sample in W.
    pub min_w: f64,
    /// Highest sample in W.
    pub max_w: f64,
    /// Median of the samples in W.
    pub median_w: f64,
    /// Energy in J, minus `tare_w × duration` when a tare is given.
    pub energy_j: f64,
    /// The baseline subtracted, in W.
    pub tare_w: Option<f64>,
}

impl SelectionStats {
    /// Length of the selection in s.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// The statistics of `[start_s, end_s]` of a trace measured as `quantity`.
pub fn selection_stats(
    samples: &[PowerSample],
    quantity: Quantity,
    start_s: f64,
    end_s: f64,
    tare_w: Option<f64>,
) -> Result<SelectionStats, EnergyError> {
    // A selection is the user's to judge: any two samples will do, and gaps are allowed.
    let rules = Attribution {
        rate_hz: f64::INFINITY,
        min_samples: 1,
        max_gap_s: f64::INFINITY,
    };
    let window = energy::window_energy(samples, quantity, start_s, end_s, &rules)?;
    let mut inside: Vec<f64> = samples
        .iter()
        .filter(|s| s.t_s >= start_s && s.t_s <= end_s)
        .map(|s| s.power_w)
        .collect();
    inside.sort_by(f64::total_cmp);
    let (Some(&min_w), Some(&max_w)) = (inside.first(), inside.last()) else {
        return Err(EnergyError::TooFewSamples {
            got: 0,
            need: 1,
            duration_s: end_s - start_s,
            rate_hz: f64::NAN,
            min_duration_s: f64::NAN,
        });
    };
    let middle = inside.len() / 2;
    let median_w = if inside.len() % 2 == 1 {
        inside[middle]
    } else {
        0.5 * (inside[middle - 1] + inside[middle])
    };
    let tare_j = tare_w.unwrap_or(0.0) * (end_s - start_s);
    Ok(SelectionStats {
        start_s,
        end_s,
        samples: inside.len(),
        mean_w: window.mean_power_w(),
        min_w,
        max_w,
        median_w,
        energy_j: window.energy_j - tare_j,
        tare_w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_selection_follows_the_definitions() {
        // 0.5 s spacing: 2 W up to 2 s, 6 W from 2.5 s.
        let samples: Vec<PowerSample> = (0..=10)
            .map(|k| {
                let t_s = f64::from(k) * 0.5;
                PowerSample::power(t_s, if t_s <= 2.0 { 2.0 } else { 6.0 })
            })
            .collect();
        let stats = selection_stats(&samples, Quantity::Power, 1.0, 4.0, None).expect("stats");
        // Samples at 1.0 … 4.0: 2, 2, 2, 6, 6, 6, 6 → median 6.
        assert_eq!(stats.samples, 7);
        assert_eq!((stats.min_w, stats.max_w, stats.median_w), (2.0, 6.0, 6.0));
        // Trapezoids: 1 s at 2 W, the 2 → 6 W ramp over 0.5 s, 1.5 s at 6 W.
        let energy_j = 2.0 * 1.0 + 0.5 * (2.0 + 6.0) * 0.5 + 6.0 * 1.5;
        assert!((stats.energy_j - energy_j).abs() < 1e-12);
        assert!((stats.mean_w - energy_j / 3.0).abs() < 1e-12);
        assert_eq!(stats.duration_s(), 3.0);

        let tared = selection_stats(&samples, Quantity::Power, 1.0, 4.0, Some(2.0)).expect("stats");
        assert!((tared.energy_j - (energy_j - 2.0 * 3.0)).abs() < 1e-12);
        assert_eq!(tared.mean_w, stats.mean_w);
    }

    #[test]
    fn a_selection_outside_the_trace_is_refused() {
        let samples = [PowerSample::power(0.0, 1.0), PowerSample::power(1.0, 1.0)];
        assert!(selection_stats(&samples, Quantity::Power, 2.0, 3.0, None).is_err());
    }
}
