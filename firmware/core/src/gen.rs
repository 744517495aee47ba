//! The input generator of the board protocol: xorshift32 and its f32 and byte mappings.
//!
//! Host and board both run it, so the host can check a board's output from the seed alone
//! without moving the data over the serial line.

/// The state a seed of 0 starts from (xorshift32 would stay at 0 forever).
pub const ZERO_SEED_STATE: u32 = 0x9E37_79B9;

/// Marsaglia's xorshift32 (shifts 13, 17, 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xorshift32 {
    state: u32,
}

impl Xorshift32 {
    /// Starts from `seed`, or from [`ZERO_SEED_STATE`] when `seed` is 0.
    pub fn new(seed: u32) -> Self {
        let state = if seed == 0 { ZERO_SEED_STATE } else { seed };
        Xorshift32 { state }
    }

    /// Steps the state and returns the new state.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }
}

/// 2^-20, the step of the f32 inputs.
const F32_STEP: f32 = 1.0 / 1_048_576.0;

/// Fills `out` with `(r >> 8) · 2^-20 − 8` for successive states `r` from `seed`.
///
/// The values are uniform on [−8, 8) in steps of 2^-20, and every step of the computation
/// is exact in f32.
pub fn fill_f32(seed: u32, out: &mut [f32]) {
    let mut rng = Xorshift32::new(seed);
    for value in out {
        // Below 2^24, so the conversion is exact; the scaling and the shift are exact too.
        *value = (rng.next_u32() >> 8) as f32 * F32_STEP - 8.0;
    }
}

/// Fills `out` with the top byte `r >> 24` of successive states `r` from `seed`.
pub fn fill_bytes(seed: u32, out: &mut [u8]) {
    let mut rng = Xorshift32::new(seed);
    for byte in out {
        *byte = (rng.next_u32() >> 24) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_states_from_seed_1_follow_the_definition() {
        // Worked by hand: 1 ^ 1<<13 = 0x2001; >>17 adds nothing; ^ 0x2001<<5 = 0x42021.
        // Then 0x42021 ^ 0x42021<<13 = 0x84000021; ^ >>17 (0x4200) = 0x84004221;
        // ^ <<5 (0x80084420) = 0x04080601.
        let mut rng = Xorshift32::new(1);
        assert_eq!(rng.next_u32(), 0x0004_2021);
        assert_eq!(rng.next_u32(), 0x0408_0601);
    }

    #[test]
    fn seed_0_starts_from_the_golden_ratio_state() {
        let mut zero = Xorshift32::new(0);
        let mut golden = Xorshift32::new(ZERO_SEED_STATE);
        for _ in 0..100 {
            assert_eq!(zero.next_u32(), golden.next_u32());
        }
    }

    #[test]
    fn f32_inputs_are_the_exact_mapping_of_the_states() {
        let mut out = [0.0_f32; 2];
        fill_f32(1, &mut out);
        // 0x42021 >> 8 = 1056, 1056 / 2^20 = 0.001007080078125.
        assert_eq!(f64::from(out[0]), -7.998_992_919_921_875);
        // 0x04080601 >> 8 = 0x040806 = 264198.
        assert_eq!(f64::from(out[1]), 264_198.0 / 1_048_576.0 - 8.0);
    }

    #[test]
    fn f32_inputs_stay_in_range_and_on_the_grid() {
        let mut out = [0.0_f32; 100_000];
        fill_f32(12345, &mut out);
        let mut rng = Xorshift32::new(12345);
        for &x in &out {
            assert!((-8.0..8.0).contains(&x), "{x}");
            let exact = f64::from(rng.next_u32() >> 8) / 1_048_576.0 - 8.0;
            assert_eq!(f64::from(x), exact);
        }
        assert!(out.iter().any(|&x| x < -7.9) && out.iter().any(|&x| x > 7.9));
    }

    #[test]
    fn bytes_are_the_top_bytes_of_the_states() {
        let mut out = [0_u8; 3];
        fill_bytes(1, &mut out);
        let mut rng = Xorshift32::new(1);
        assert_eq!(out[0], 0x00);
        assert_eq!(out[1], 0x04);
        rng.next_u32();
        rng.next_u32();
        assert_eq!(out[2], (rng.next_u32() >> 24) as u8);
    }
}
