//! The emulated PPK2's state machine, without I/O: commands in, bytes out
//! (protocols.md §3.5). `emulator` drives it over a pseudo-terminal.

use super::calibration::{ADC_VOLTS_PER_STEP, Modifiers, RANGES};
use super::command::{PowerMode, opcode};
use super::decoder::{COUNTER_MODULUS, Word};

/// The metadata the emulator sends: the real unit's calibration of protocols.md §3.3.
/// The notes show S1–S3 and I1–I3 only as `...`; the emulator gives 0, the default.
pub const EMULATOR_MODIFIERS: Modifiers = Modifiers {
    r: [1003.3506, 101.5865, 10.3027, 0.9636, 0.0564],
    gs: [0.0, 112.789, 18.0115, 2.4217, 0.0729],
    gi: [1.0, 0.9695, 0.9609, 0.9519, 0.9582],
    o: [112.942, 75.4627, 64.602, 50.4983, 87.2177],
    s: [0.000000048, 0.0, 0.0, 0.0, 0.002940743],
    i: [-0.000000104, 0.0, 0.0, 0.0, -0.009388455],
    ug: [1.0; RANGES],
};

/// The emulator's tag in its metadata, before `END`.
pub const EMULATOR_TAG: &str = "EMU: actprof";

/// VDD of a PPK2 that was never told one, in mV (the real unit's metadata shows 3000).
pub const POWER_ON_VDD_MV: u16 = 3000;

/// Highest ADC value (14 bits).
pub const ADC_MAX: u16 = 0x3FFF;

/// ADC value up to which the emulator stays in a range before it switches to the next,
/// less sensitive one (about 90 % of full scale).
pub const RANGE_SWITCH_ADC: u16 = 14_750;

/// What the host asked for, in the order it asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `GetMetadata`: send [`Device::metadata_text`].
    Metadata,
    /// `AverageStart`: start streaming.
    Start,
    /// `AverageStop`: stop streaming.
    Stop,
    /// `Reset`.
    Reset,
}

/// The emulated device.
#[derive(Clone, Debug)]
pub struct Device {
    mode: PowerMode,
    vdd_mv: u16,
    dut_on: bool,
    streaming: bool,
    counter: u8,
    /// An incomplete command (opcode and the arguments so far).
    partial: Vec<u8>,
}

impl Default for Device {
    fn default() -> Device {
        Device::new()
    }
}

impl Device {
    /// A device just plugged in: source meter, 3000 mV, DUT off, not streaming.
    pub fn new() -> Device {
        Device {
            mode: PowerMode::Source,
            vdd_mv: POWER_ON_VDD_MV,
            dut_on: false,
            streaming: false,
            counter: 0,
            partial: Vec::new(),
        }
    }

    /// Meter mode last set.
    pub fn mode(&self) -> PowerMode {
        self.mode
    }

    /// VDD last set, in mV.
    pub fn vdd_mv(&self) -> u16 {
        self.vdd_mv
    }

    /// Whether the DUT is powered.
    pub fn dut_on(&self) -> bool {
        self.dut_on
    }

    /// Whether samples are streaming.
    pub fn streaming(&self) -> bool {
        self.streaming
    }

    /// Takes command bytes (commands may be split across calls); what the host asked for.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<Request> {
        let mut requests = Vec::new();
        for &byte in bytes {
            self.partial.push(byte);
            let opcode = self.partial[0];
            if self.partial.len() < 1 + argument_len(opcode) {
                continue;
            }
            let args = std::mem::take(&mut self.partial);
            if let Some(request) = self.apply(opcode, &args[1..]) {
                requests.push(request);
            }
        }
        requests
    }

    fn apply(&mut self, opcode: u8, args: &[u8]) -> Option<Request> {
        match (opcode, args) {
            (opcode::GET_METADATA, _) => Some(Request::Metadata),
            (opcode::AVERAGE_START, _) => {
                self.streaming = true;
                Some(Request::Start)
            }
            (opcode::AVERAGE_STOP, _) => {
                self.streaming = false;
                Some(Request::Stop)
            }
            (opcode::RESET, _) => {
                *self = Device::new();
                Some(Request::Reset)
            }
            (opcode::SET_POWER_MODE, [1]) => {
                self.mode = PowerMode::Ampere;
                None
            }
            (opcode::SET_POWER_MODE, [2]) => {
                self.mode = PowerMode::Source;
                None
            }
            (opcode::REGULATOR_SET, [hi, lo]) => {
                // The firmware's range; out-of-range requests are ignored.
                let mv = u16::from_be_bytes([*hi, *lo]);
                if (800..=5000).contains(&mv) {
                    self.vdd_mv = mv;
                }
                None
            }
            (opcode::DEVICE_RUNNING_SET, [on]) => {
                self.dut_on = *on != 0;
                None
            }
            _ => None,
        }
    }

    /// The reply to `GetMetadata`, ending `END\n`.
    pub fn metadata_text(&self) -> String {
        let m = &EMULATOR_MODIFIERS;
        let mut text = String::from("Calibrated: 0\n");
        let tables: [(&str, &[f64; RANGES]); 4] =
            [("R", &m.r), ("GS", &m.gs), ("GI", &m.gi), ("O", &m.o)];
        for (name, values) in tables {
            for (range, value) in values.iter().enumerate() {
                text.push_str(&format!("{name}{range}: {value:.4}\n"));
            }
        }
        text.push_str(&format!(
            "VDD: {}\nHW: 9173\nmode: {}\n",
            self.vdd_mv,
            self.mode.byte()
        ));
        for (name, values) in [("S", &m.s), ("I", &m.i)] {
            for (range, value) in values.iter().enumerate() {
                text.push_str(&format!("{name}{range}: {value:.9}\n"));
            }
        }
        for (range, value) in m.ug.iter().enumerate() {
            text.push_str(&format!("UG{range}: {value:.2}\n"));
        }
        text.push_str("IA: 56\n");
        text.push_str(EMULATOR_TAG);
        text.push_str("\nEND\n");
        text
    }

    /// The next sample word for a DUT drawing `current_a`, logic inputs `logic`.
    pub fn next_word(&mut self, current_a: f64, logic: u8) -> Word {
        let current_a = if self.dut_on || self.mode == PowerMode::Ampere {
            current_a
        } else {
            0.0
        };
        let (adc, range) = adc_for_current(&EMULATOR_MODIFIERS, self.vdd_mv, current_a);
        let word = Word {
            adc,
            range,
            counter: self.counter,
            logic,
        };
        self.counter = (self.counter + 1) % COUNTER_MODULUS;
        word
    }

    /// Skips `n` counter values, as if `n` samples were lost on the way.
    pub fn skip(&mut self, n: u8) {
        self.counter = ((u16::from(self.counter) + u16::from(n)) % 64) as u8;
    }
}

/// Bytes of arguments after each opcode (protocols.md §3.2); unknown opcodes take none.
fn argument_len(opcode: u8) -> usize {
    match opcode {
        opcode::DEVICE_RUNNING_SET | opcode::SET_POWER_MODE => 1,
        opcode::REGULATOR_SET => 2,
        // SetUserGains: range byte and a float32.
        0x25 => 5,
        _ => 0,
    }
}

/// The ADC value and range a PPK2 calibrated with `modifiers` reports for `current_a`:
/// the most sensitive range whose ADC value stays under [`RANGE_SWITCH_ADC`], with the
/// current formula of `calibration` solved for the ADC value and rounded.
pub fn adc_for_current(modifiers: &Modifiers, vdd_mv: u16, current_a: f64) -> (u16, u8) {
    let vdd_v = f64::from(vdd_mv) / 1000.0;
    let mut last = (ADC_MAX, (RANGES - 1) as u8);
    for r in 0..RANGES {
        // I / UG − (S · VDD + I) = GS · x² + GI · x, solved for x ≥ its vertex.
        let target = current_a / modifiers.ug[r] - (modifiers.s[r] * vdd_v + modifiers.i[r]);
        let (gs, gi) = (modifiers.gs[r], modifiers.gi[r]);
        let x = if gs.abs() < 1e-12 {
            target / gi
        } else {
            let discriminant = (gi * gi + 4.0 * gs * target).max(0.0);
            (-gi + discriminant.sqrt()) / (2.0 * gs)
        };
        let adc4 = x * modifiers.r[r] / ADC_VOLTS_PER_STEP + modifiers.o[r];
        let adc = (adc4 / 4.0).round().clamp(0.0, f64::from(ADC_MAX)) as u16;
        last = (adc, r as u8);
        if adc <= RANGE_SWITCH_ADC {
            return last;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::super::calibration::Calibration;
    use super::super::metadata::MetadataReader;
    use super::*;

    #[test]
    fn commands_set_the_state_even_split_byte_by_byte() {
        let mut device = Device::new();
        let bytes = [
            0x19, 0x11, 0x01, 0x0D, 0x0C, 0xE4, 0x0C, 0x01, 0x06, 0x07, 0x20,
        ];
        let mut requests = Vec::new();
        for byte in bytes {
            if byte == 0x06 {
                assert_eq!(
                    (device.mode(), device.vdd_mv(), device.dut_on()),
                    (PowerMode::Ampere, 3300, true)
                );
            }
            requests.extend(device.receive(&[byte]));
        }
        assert_eq!(
            requests,
            [
                Request::Metadata,
                Request::Start,
                Request::Stop,
                Request::Reset
            ]
        );
        assert_eq!(device.vdd_mv(), POWER_ON_VDD_MV, "reset");
    }

    #[test]
    fn the_metadata_reads_back_as_the_emulators_calibration() {
        let device = Device::new();
        let text = device.metadata_text();
        assert!(text.ends_with("EMU: actprof\nEND\n"), "{text}");
        let meta = MetadataReader::new()
            .push(text.as_bytes())
            .expect("fits")
            .expect("complete");
        assert_eq!(meta.modifiers, EMULATOR_MODIFIERS);
        assert_eq!(meta.emulator.as_deref(), Some("actprof"));
        assert_eq!((meta.vdd_mv, meta.mode), (Some(3000), Some(2)));
        assert!(meta.defaulted.is_empty(), "{:?}", meta.defaulted);
    }

    #[test]
    fn currents_round_trip_within_one_adc_step() {
        for vdd_mv in [800, 3300, 5000] {
            let cal = Calibration::new(&EMULATOR_MODIFIERS, vdd_mv);
            for current_a in [2e-6, 50e-6, 1e-3, 4.3e-3, 0.1, 0.25, 0.9] {
                let (adc, range) = adc_for_current(&EMULATOR_MODIFIERS, vdd_mv, current_a);
                let got = cal.current_a(adc, range);
                let step = cal.current_a(adc + 1, range) - cal.current_a(adc, range);
                assert!(
                    (got - current_a).abs() <= step.abs() * 0.5 + 1e-15,
                    "{current_a} A at {vdd_mv} mV: range {range} adc {adc} gives {got}"
                );
            }
        }
    }

    #[test]
    fn counters_wrap_and_skip_mod_64() {
        let mut device = Device::new();
        let counters: Vec<u8> = (0..70).map(|_| device.next_word(0.0, 0).counter).collect();
        assert_eq!(counters[63..], [63, 0, 1, 2, 3, 4, 5]);
        device.skip(10);
        assert_eq!(device.next_word(0.0, 0).counter, 16);
    }
}
