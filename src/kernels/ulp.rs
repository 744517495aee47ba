//! Error of an f32 result in units in the last place (ULP) of the exact value.
//!
//! The ULP at an exact value v is the spacing of f32 numbers around |v|: `2^(e−23)` for
//! |v| in `[2^e, 2^(e+1))` with e ≥ −126, and `2^-149` for everything below the normal
//! range (the subnormal spacing). Above f32::MAX the spacing of the top binade (2^104)
//! is used.

/// The smallest positive normal f32, as f64.
pub const F32_MIN_NORMAL: f64 = 1.175_494_350_822_287_5e-38;

/// The spacing of f32 numbers at the exact value `exact` (finite).
pub fn f32_ulp_at(exact: f64) -> f64 {
    let biased = ((exact.abs().to_bits() >> 52) & 0x7ff) as i32;
    let exponent = (biased - 1023).clamp(-126, 127);
    2f64.powi(exponent - 23)
}

/// `|got − exact|` in f32 ULPs at `exact`.
///
/// NaN against NaN is 0; NaN against a number, a number against NaN, or any mismatch
/// involving an infinity is `f64::INFINITY`.
pub fn ulp_error(got: f32, exact: f64) -> f64 {
    let got = f64::from(got);
    if got.is_nan() || exact.is_nan() {
        return if got.is_nan() && exact.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if got.is_infinite() || exact.is_infinite() {
        // An exact value beyond the f32 range correctly rounds to the infinity of its sign.
        return if got == exact || (exact as f32) == got as f32 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    (got - exact).abs() / f32_ulp_at(exact)
}

/// `|got − exact|` as a number, with the same NaN and infinity rules as [`ulp_error`].
pub fn abs_error(got: f32, exact: f64) -> f64 {
    let got = f64::from(got);
    if got.is_nan() || exact.is_nan() {
        return if got.is_nan() && exact.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if got.is_infinite() || exact.is_infinite() {
        // As for ULPs: an exact value beyond the f32 range whose correctly rounded f32 is
        // the infinity returned is no error.
        return if got == exact || (exact as f32) == got as f32 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    (got - exact).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ulp_above_one_is_two_to_the_minus_23() {
        let next = f32::from_bits(1.0_f32.to_bits() + 1);
        assert_eq!(ulp_error(next, 1.0), 1.0);
        // Just below 1 the spacing is 2^-24, but the exact value 1.0 sets the unit.
        let prev = f32::from_bits(1.0_f32.to_bits() - 1);
        assert_eq!(ulp_error(prev, 1.0), 0.5);
    }

    #[test]
    fn half_an_ulp_from_a_midpoint() {
        // 1 + 2^-24 lies halfway between 1 and its successor.
        assert_eq!(ulp_error(1.0, 1.0 + 2f64.powi(-24)), 0.5);
        // 3.0 has spacing 2^-22; an exact value 3 + 2^-23 is half an ULP from 3.0.
        assert_eq!(ulp_error(3.0, 3.0 + 2f64.powi(-23)), 0.5);
    }

    #[test]
    fn subnormals_use_the_smallest_spacing() {
        let tiny = f32::from_bits(3); // 3·2^-149
        assert_eq!(ulp_error(tiny, 2f64.powi(-149)), 2.0);
        assert_eq!(ulp_error(0.0, 2f64.powi(-150)), 0.5);
        assert_eq!(f32_ulp_at(1e-40), 2f64.powi(-149));
        assert_eq!(f32_ulp_at(-1e-40), 2f64.powi(-149));
        // The smallest normal has the same spacing as the subnormals.
        assert_eq!(f32_ulp_at(F32_MIN_NORMAL), 2f64.powi(-149));
    }

    #[test]
    fn negative_values_measure_like_positive_ones() {
        let next = f32::from_bits((-2.0_f32).to_bits() + 2);
        assert_eq!(ulp_error(next, -2.0), 2.0);
    }

    #[test]
    fn nan_and_infinity_rules() {
        assert_eq!(ulp_error(f32::NAN, f64::NAN), 0.0);
        assert_eq!(ulp_error(f32::NAN, 1.0), f64::INFINITY);
        assert_eq!(ulp_error(1.0, f64::NAN), f64::INFINITY);
        assert_eq!(ulp_error(f32::INFINITY, f64::INFINITY), 0.0);
        assert_eq!(ulp_error(f32::NEG_INFINITY, f64::INFINITY), f64::INFINITY);
        assert_eq!(ulp_error(f32::MAX, f64::INFINITY), f64::INFINITY);
        assert_eq!(ulp_error(f32::INFINITY, 1.0), f64::INFINITY);
        // 2^128 is beyond f32::MAX + ULP/2, so +inf is its correctly rounded value.
        assert_eq!(ulp_error(f32::INFINITY, 2f64.powi(128)), 0.0);
        assert_eq!(ulp_error(f32::NEG_INFINITY, 2f64.powi(128)), f64::INFINITY);
        assert_eq!(abs_error(f32::NAN, 0.0), f64::INFINITY);
        assert_eq!(abs_error(0.5, 0.25), 0.25);
        // Leaky ReLU with alpha = 2 at −f32::MAX: the exact −2·f32::MAX rounds to −inf.
        let exact = -2.0 * f64::from(f32::MAX);
        assert_eq!(abs_error(f32::NEG_INFINITY, exact), 0.0);
        assert_eq!(abs_error(f32::INFINITY, exact), f64::INFINITY);
        assert_eq!(abs_error(f32::MIN, exact), f64::from(f32::MAX));
    }

    #[test]
    fn values_beyond_f32_max_use_the_top_spacing() {
        assert_eq!(f32_ulp_at(1e39), 2f64.powi(104));
        assert_eq!(f32_ulp_at(f64::from(f32::MAX)), 2f64.powi(104));
    }
}
