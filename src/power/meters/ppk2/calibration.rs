//! Per-range calibration and the current formula (protocols.md §3.3, §3.4).
//!
//! With `r` the range of a sample, its ADC value `adc` (14 bits) and VDD in mV:
//!
//! ```text
//! x = (adc · 4 − O[r]) · (1.8 / 163840) / R[r]
//! I = UG[r] · ( x · (GS[r] · x + GI[r]) + S[r] · (VDD_mV / 1000) + I[r] )   in A
//! ```
//!
//! (Nordic's `getAdcResult` in pc-nrfconnect-ppk.) The `S` term needs the VDD actually
//! set, so a [`Calibration`] is built for one VDD; with no VDD the currents are wrong.

/// Number of current ranges the PPK2 switches between.
pub const RANGES: usize = 5;

/// ADC volts per count of `adc · 4` (1.8 V reference over 163840 steps).
pub const ADC_VOLTS_PER_STEP: f64 = 1.8 / 163_840.0;

/// Calibration values of the five ranges as the metadata gives them (§3.3).
#[derive(Clone, Debug, PartialEq)]
pub struct Modifiers {
    /// Shunt resistances in Ω.
    pub r: [f64; RANGES],
    /// Quadratic gain.
    pub gs: [f64; RANGES],
    /// Linear gain.
    pub gi: [f64; RANGES],
    /// ADC offset in `adc · 4` counts.
    pub o: [f64; RANGES],
    /// VDD-proportional offset in A per V.
    pub s: [f64; RANGES],
    /// Constant offset in A.
    pub i: [f64; RANGES],
    /// User gain.
    pub ug: [f64; RANGES],
}

/// Shunt resistances used when the metadata gives none (Nordic, IRNAS and ppk2-rs agree).
pub const DEFAULT_R: [f64; RANGES] = [1031.64, 101.65, 10.15, 0.94, 0.043];

impl Default for Modifiers {
    /// The defaults of §3.3: R = [`DEFAULT_R`], GS = GI = UG = 1, O = S = I = 0.
    fn default() -> Modifiers {
        Modifiers {
            r: DEFAULT_R,
            gs: [1.0; RANGES],
            gi: [1.0; RANGES],
            o: [0.0; RANGES],
            s: [0.0; RANGES],
            i: [0.0; RANGES],
            ug: [1.0; RANGES],
        }
    }
}

/// The current formula of one range, folded for one VDD:
/// `I = a · x² + b · x + c` with `x = adc · slope + intercept`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RangeFormula {
    slope: f64,
    intercept: f64,
    a: f64,
    b: f64,
    c: f64,
}

/// The current formula of all five ranges at one VDD.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    ranges: [RangeFormula; RANGES],
    vdd_mv: u16,
}

impl Calibration {
    /// The formula for `modifiers` with VDD at `vdd_mv`.
    pub fn new(modifiers: &Modifiers, vdd_mv: u16) -> Calibration {
        let vdd_v = f64::from(vdd_mv) / 1000.0;
        let ranges = std::array::from_fn(|r| {
            let per_count = ADC_VOLTS_PER_STEP / modifiers.r[r];
            let ug = modifiers.ug[r];
            RangeFormula {
                slope: 4.0 * per_count,
                intercept: -modifiers.o[r] * per_count,
                a: ug * modifiers.gs[r],
                b: ug * modifiers.gi[r],
                c: ug * (modifiers.s[r] * vdd_v + modifiers.i[r]),
            }
        });
        Calibration { ranges, vdd_mv }
    }

    /// The VDD this formula was built for, in mV.
    pub fn vdd_mv(&self) -> u16 {
        self.vdd_mv
    }

    /// Current in A of a sample with ADC value `adc` in range `range` (clamped to 0–4).
    #[inline]
    pub fn current_a(&self, adc: u16, range: u8) -> f64 {
        let formula = &self.ranges[usize::from(range).min(RANGES - 1)];
        let x = f64::from(adc) * formula.slope + formula.intercept;
        (formula.a * x + formula.b) * x + formula.c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_those_of_the_protocol_notes() {
        let m = Modifiers::default();
        assert_eq!(m.r, [1031.64, 101.65, 10.15, 0.94, 0.043]);
        assert_eq!((m.gs, m.gi, m.ug), ([1.0; 5], [1.0; 5], [1.0; 5]));
        assert_eq!((m.o, m.s, m.i), ([0.0; 5], [0.0; 5], [0.0; 5]));
    }

    #[test]
    fn every_modifier_enters_the_formula() {
        let m = Modifiers {
            r: [10.0; 5],
            gs: [2.0; 5],
            gi: [3.0; 5],
            o: [40.0; 5],
            s: [0.5; 5],
            i: [0.25; 5],
            ug: [1.5; 5],
        };
        // By hand: x = (100·4 − 40) · 1.8/163840 / 10 = 360 · 1.0986328125e-6 = 3.955078125e-4;
        // I = 1.5 · (x · (2x + 3) + 0.5 · 3.3 + 0.25).
        let x = 3.955_078_125e-4;
        let expected = 1.5 * (x * (2.0 * x + 3.0) + 0.5 * 3.3 + 0.25);
        let got = Calibration::new(&m, 3300).current_a(100, 1);
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    }

    #[test]
    fn ranges_past_four_use_range_four() {
        let cal = Calibration::new(&Modifiers::default(), 3300);
        assert_eq!(cal.current_a(200, 7), cal.current_a(200, 4));
        assert_eq!(cal.current_a(200, 5), cal.current_a(200, 4));
    }
}
