//! Unwrapping a hardware energy counter that restarts from zero at a fixed range.
//!
//! A RAPL `energy_uj` counter counts up to `max_energy_range_uj` and restarts near zero.
//! Between two reads the true increase is `(now − previous) mod (range + 1)` plus a whole
//! number of further ranges that the reads cannot see. Whether the modulus is the range or
//! the range + 1 is not documented; the difference is 1 µJ per wrap, far below anything
//! we resolve, and we use range + 1 because the counter takes the values `0..=range`.
//!
//! Extra wraps are ruled out by polling: at a power of at most `bound_w` the counter needs
//! at least `wrap_period_s = range / bound_w` to wrap once, so two reads closer than that
//! saw at most one wrap. A read later than that is refused ([`Overrun`]), never guessed.

/// Fraction of the wrap period beyond which a poll interval earns a warning.
pub const POLL_WARNING_FRACTION: f64 = 0.25;

/// A read came so late after the previous one that the counter may have wrapped several
/// times.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Overrun {
    /// Seconds since the previous read.
    pub elapsed_s: f64,
    /// Shortest possible time between two wraps at the power bound.
    pub wrap_period_s: f64,
}

/// Turns successive raw counter reads into a total that never wraps.
#[derive(Clone, Debug)]
pub struct CounterUnwrapper {
    range_uj: u64,
    wrap_period_s: f64,
    previous_raw_uj: u64,
    previous_t_s: f64,
    total_uj: u64,
}

impl CounterUnwrapper {
    /// Starts from the raw value `raw_uj` read at `t_s`; the counter wraps after
    /// `range_uj` and the zone draws at most `bound_w`.
    pub fn new(raw_uj: u64, t_s: f64, range_uj: u64, bound_w: f64) -> CounterUnwrapper {
        CounterUnwrapper {
            range_uj,
            wrap_period_s: wrap_period_s(range_uj, bound_w),
            previous_raw_uj: raw_uj,
            previous_t_s: t_s,
            total_uj: 0,
        }
    }

    /// Shortest time in seconds between two wraps at the power bound.
    pub fn wrap_period_s(&self) -> f64 {
        self.wrap_period_s
    }

    /// Takes the raw value read at `t_s` and returns the total energy in µJ since the
    /// first read.
    pub fn advance(&mut self, raw_uj: u64, t_s: f64) -> Result<u64, Overrun> {
        let elapsed_s = t_s - self.previous_t_s;
        if elapsed_s >= self.wrap_period_s {
            return Err(Overrun {
                elapsed_s,
                wrap_period_s: self.wrap_period_s,
            });
        }
        let increase = if raw_uj >= self.previous_raw_uj {
            raw_uj - self.previous_raw_uj
        } else {
            // One wrap: up to the end of the range, past zero, then up to the new value.
            (self.range_uj - self.previous_raw_uj) + 1 + raw_uj
        };
        self.previous_raw_uj = raw_uj;
        self.previous_t_s = t_s;
        self.total_uj += increase;
        Ok(self.total_uj)
    }
}

/// Shortest time in seconds for a counter of range `range_uj` µJ to wrap at `bound_w` W.
pub fn wrap_period_s(range_uj: u64, bound_w: f64) -> f64 {
    range_uj as f64 * 1e-6 / bound_w
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range of 1 000 µJ and a 1 W bound: the counter cannot wrap faster than every
    /// 1 ms, so reads 0.1 ms apart see at most one wrap.
    fn small_counter(raw_uj: u64) -> CounterUnwrapper {
        CounterUnwrapper::new(raw_uj, 0.0, 1_000, 1.0)
    }

    #[test]
    fn increases_without_wrap_are_plain_differences() {
        let mut counter = small_counter(100);
        assert_eq!(counter.advance(150, 0.0001), Ok(50));
        assert_eq!(counter.advance(400, 0.0002), Ok(300));
    }

    #[test]
    fn one_wrap_counts_through_the_top_of_the_range() {
        let mut counter = small_counter(900);
        // 900 → 1000 is 100 µJ, 1000 → 0 is 1 µJ, 0 → 20 is 20 µJ.
        assert_eq!(counter.advance(20, 0.0001), Ok(121));
    }

    #[test]
    fn several_wraps_across_a_session_accumulate() {
        let mut counter = small_counter(0);
        let reads = [600, 200, 800, 400, 0, 999, 5];
        let mut t_s = 0.0;
        let mut last = 0;
        for raw in reads {
            t_s += 0.0001;
            last = counter.advance(raw, t_s).expect("reads are fast enough");
        }
        // The counter passed its top three times (600→200, 800→400, 999→5) and 400→0
        // once more: total = last raw + 4 wraps × (range + 1).
        assert_eq!(last, 5 + 4 * 1_001);
    }

    #[test]
    fn a_read_later_than_the_wrap_period_is_refused() {
        let mut counter = small_counter(0);
        let late = counter.advance(10, 0.0015);
        assert_eq!(
            late,
            Err(Overrun {
                elapsed_s: 0.0015,
                wrap_period_s: 0.001
            })
        );
    }

    #[test]
    fn the_wrap_period_follows_from_range_and_bound() {
        // 262 143 328 850 µJ at 500 W: 524.29 s.
        let period = wrap_period_s(262_143_328_850, 500.0);
        assert!((period - 524.286_657_7).abs() < 1e-6, "{period}");
    }
}
