//! Decoded samples turned into currents and averaged over fixed blocks of sample slots.
//!
//! A 100 kS/s stream is more than the session needs to keep (every sample would be held
//! in memory and journalled), so the PPK2 source averages blocks of `per_output` slots
//! (by default [`DEFAULT_PER_OUTPUT`], giving 1 kS/s). Blocks are aligned on the slot
//! index (slot `k` is the `k`-th 10 µs period since streaming started, lost slots
//! included), so a block holds at most `per_output` samples and never straddles a gap
//! it does not contain.
//!
//! Each block gives one [`Averaged`] value: the mean current of the samples present, the
//! mean of their slot indices (its time stamp), their number, and the OR of their logic
//! inputs (a pin reads high when it was high in any sample of the block, so a pulse
//! shorter than a block is not lost). The mean current times the block's duration is the
//! block's charge exactly, so the energy of whole blocks is kept; only where a window
//! edge cuts a block is it split by the straight-line rule of `session::energy`.
//! Blocks in which every slot was lost give nothing: the loss stays a gap on the time
//! axis.

use super::calibration::Calibration;
use super::decoder::{Sink, Word};

/// Slots averaged into one output value unless told otherwise: 100 (1 kS/s out).
pub const DEFAULT_PER_OUTPUT: u32 = 100;

/// Most slots one output value may average (100 Hz out).
pub const MAX_PER_OUTPUT: u32 = 1000;

/// The average of one block of slots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Averaged {
    /// Mean slot index of the samples in the block.
    pub slot: f64,
    /// Mean current in A.
    pub current_a: f64,
    /// Samples in the block (1 to `per_output`).
    pub samples: u32,
    /// OR of the samples' logic inputs.
    pub logic: u8,
}

/// A [`Sink`] that calibrates samples and averages them into blocks.
#[derive(Clone, Debug)]
pub struct Averager {
    calibration: Calibration,
    per_output: u64,
    /// Index of the next slot.
    slot: u64,
    /// Block of the samples being summed.
    block: u64,
    sum_a: f64,
    sum_slot: u64,
    count: u32,
    logic: u8,
    out: Vec<Averaged>,
}

impl Averager {
    /// Averages blocks of `per_output` slots (clamped to 1–[`MAX_PER_OUTPUT`]).
    pub fn new(calibration: Calibration, per_output: u32) -> Averager {
        Averager {
            calibration,
            per_output: u64::from(per_output.clamp(1, MAX_PER_OUTPUT)),
            slot: 0,
            block: 0,
            sum_a: 0.0,
            sum_slot: 0,
            count: 0,
            logic: 0,
            out: Vec::new(),
        }
    }

    /// Slots seen so far (samples and lost ones): the index of the next slot.
    pub fn slots(&self) -> u64 {
        self.slot
    }

    /// Slots averaged into one output value.
    pub fn per_output(&self) -> u32 {
        self.per_output as u32
    }

    /// Takes the finished blocks.
    pub fn take(&mut self) -> Vec<Averaged> {
        std::mem::take(&mut self.out)
    }

    /// Takes the finished blocks into `into` (kept allocations).
    pub fn drain_into(&mut self, into: &mut Vec<Averaged>) {
        into.append(&mut self.out);
    }

    /// Ends the block being summed, even if incomplete (at the end of a recording).
    pub fn finish_block(&mut self) {
        if self.count == 0 {
            return;
        }
        let count = f64::from(self.count);
        self.out.push(Averaged {
            slot: self.sum_slot as f64 / count,
            current_a: self.sum_a / count,
            samples: self.count,
            logic: self.logic,
        });
        self.sum_a = 0.0;
        self.sum_slot = 0;
        self.count = 0;
        self.logic = 0;
    }
}

impl Sink for Averager {
    #[inline]
    fn sample(&mut self, word: Word) {
        let block = self.slot / self.per_output;
        if block != self.block {
            self.finish_block();
            self.block = block;
        }
        self.sum_a += self.calibration.current_a(word.adc, word.range);
        self.sum_slot += self.slot;
        self.count += 1;
        self.logic |= word.logic;
        self.slot += 1;
    }

    fn lost(&mut self, count: u32) {
        self.slot += u64::from(count);
    }
}

#[cfg(test)]
mod tests {
    use super::super::calibration::Modifiers;
    use super::*;

    fn word(adc: u16, logic: u8) -> Word {
        Word {
            adc,
            range: 2,
            counter: 0,
            logic,
        }
    }

    fn averager(per_output: u32) -> Averager {
        Averager::new(Calibration::new(&Modifiers::default(), 3300), per_output)
    }

    #[test]
    fn blocks_average_current_slots_and_or_the_logic() {
        let mut avg = averager(4);
        let cal = Calibration::new(&Modifiers::default(), 3300);
        for (k, adc) in [100u16, 200, 300, 400, 500, 600].into_iter().enumerate() {
            avg.sample(word(adc, 1 << k));
        }
        avg.finish_block();
        let out = avg.take();
        assert_eq!(out.len(), 2);
        let mean = (100..=400)
            .step_by(100)
            .map(|adc| cal.current_a(adc, 2))
            .sum::<f64>()
            / 4.0;
        assert!((out[0].current_a - mean).abs() < 1e-15);
        assert_eq!((out[0].slot, out[0].samples, out[0].logic), (1.5, 4, 0x0F));
        assert_eq!((out[1].slot, out[1].samples, out[1].logic), (4.5, 2, 0x30));
    }

    #[test]
    fn lost_slots_leave_blocks_out_and_shift_time() {
        let mut avg = averager(10);
        for _ in 0..5 {
            avg.sample(word(100, 0));
        }
        avg.lost(30);
        for _ in 0..10 {
            avg.sample(word(100, 0));
        }
        avg.finish_block();
        let out = avg.take();
        // Slots 0–4 (block 0), 35–39 (block 3), 40–44 (block 4); blocks 1 and 2 are a gap.
        let slots: Vec<f64> = out.iter().map(|a| a.slot).collect();
        assert_eq!(slots, [2.0, 37.0, 42.0]);
        assert_eq!(avg.slots(), 45);
    }
}
