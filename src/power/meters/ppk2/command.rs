//! Host → PPK2 commands: raw bytes, no framing, no acknowledgements (protocols.md §3.2).

/// One command the reader sends, turned into bytes by [`Command::encode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `0x19`: asks for the metadata text, which ends with `END\n`.
    GetMetadata,
    /// `0x11 m`: ampere meter (`m = 1`) or source meter (`m = 2`).
    SetPowerMode(PowerMode),
    /// `0x0D hi lo`: the regulator's output (VDD) in mV, big-endian.
    RegulatorSet(VddMv),
    /// `0x0C p`: DUT power on (`p = 1`) or off (`p = 0`).
    DeviceRunningSet(bool),
    /// `0x06`: starts the continuous 100 kS/s sample stream.
    AverageStart,
    /// `0x07`: stops the sample stream.
    AverageStop,
    /// `0x20`: resets the device.
    Reset,
}

/// Command bytes (protocols.md §3.2, from Nordic's `constants.ts`).
pub mod opcode {
    /// Starts streaming.
    pub const AVERAGE_START: u8 = 0x06;
    /// Stops streaming.
    pub const AVERAGE_STOP: u8 = 0x07;
    /// DUT power switch; one argument byte.
    pub const DEVICE_RUNNING_SET: u8 = 0x0C;
    /// VDD in mV; two argument bytes, big-endian.
    pub const REGULATOR_SET: u8 = 0x0D;
    /// Ampere or source meter; one argument byte.
    pub const SET_POWER_MODE: u8 = 0x11;
    /// Metadata request.
    pub const GET_METADATA: u8 = 0x19;
    /// Reset.
    pub const RESET: u8 = 0x20;
}

/// How the PPK2 is wired to the device under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerMode {
    /// The PPK2 measures the current of an externally supplied circuit (mode byte 1).
    Ampere,
    /// The PPK2 supplies VDD itself and measures the current it delivers (mode byte 2).
    Source,
}

impl PowerMode {
    /// The argument byte of `SetPowerMode`, also the `mode:` value in the metadata.
    pub fn byte(self) -> u8 {
        match self {
            PowerMode::Ampere => 1,
            PowerMode::Source => 2,
        }
    }
}

/// Lowest VDD the regulator accepts, in mV (protocols.md §3.2).
pub const VDD_MIN_MV: u16 = 800;

/// Highest VDD the regulator accepts, in mV (protocols.md §3.2).
pub const VDD_MAX_MV: u16 = 5000;

/// A VDD the regulator accepts: 800–5000 mV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VddMv(u16);

impl VddMv {
    /// `mv` when it lies in 800–5000, else `None`.
    pub fn new(mv: u16) -> Option<VddMv> {
        (VDD_MIN_MV..=VDD_MAX_MV).contains(&mv).then_some(VddMv(mv))
    }

    /// The value in mV.
    pub fn mv(self) -> u16 {
        self.0
    }

    /// The value in V.
    pub fn volts(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl Command {
    /// The bytes on the wire (1 to 3).
    pub fn encode(self) -> Vec<u8> {
        match self {
            Command::GetMetadata => vec![opcode::GET_METADATA],
            Command::SetPowerMode(mode) => vec![opcode::SET_POWER_MODE, mode.byte()],
            Command::RegulatorSet(vdd) => {
                let [hi, lo] = vdd.mv().to_be_bytes();
                vec![opcode::REGULATOR_SET, hi, lo]
            }
            Command::DeviceRunningSet(on) => vec![opcode::DEVICE_RUNNING_SET, u8::from(on)],
            Command::AverageStart => vec![opcode::AVERAGE_START],
            Command::AverageStop => vec![opcode::AVERAGE_STOP],
            Command::Reset => vec![opcode::RESET],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_encode_as_documented() {
        let vdd = |mv| VddMv::new(mv).expect("in range");
        assert_eq!(Command::GetMetadata.encode(), [0x19]);
        assert_eq!(
            Command::SetPowerMode(PowerMode::Ampere).encode(),
            [0x11, 0x01]
        );
        assert_eq!(
            Command::SetPowerMode(PowerMode::Source).encode(),
            [0x11, 0x02]
        );
        // The two examples of protocols.md §3.2.
        assert_eq!(
            Command::RegulatorSet(vdd(3300)).encode(),
            [0x0D, 0x0C, 0xE4]
        );
        assert_eq!(Command::RegulatorSet(vdd(800)).encode(), [0x0D, 0x03, 0x20]);
        assert_eq!(
            Command::RegulatorSet(vdd(5000)).encode(),
            [0x0D, 0x13, 0x88]
        );
        assert_eq!(Command::DeviceRunningSet(true).encode(), [0x0C, 0x01]);
        assert_eq!(Command::DeviceRunningSet(false).encode(), [0x0C, 0x00]);
        assert_eq!(Command::AverageStart.encode(), [0x06]);
        assert_eq!(Command::AverageStop.encode(), [0x07]);
        assert_eq!(Command::Reset.encode(), [0x20]);
    }

    #[test]
    fn vdd_outside_the_regulator_range_is_refused() {
        assert_eq!(VddMv::new(799), None);
        assert_eq!(VddMv::new(5001), None);
        assert_eq!(VddMv::new(800).map(VddMv::mv), Some(800));
        assert_eq!(VddMv::new(5000).map(VddMv::volts), Some(5.0));
    }

    #[test]
    fn irnas_encoding_is_the_big_endian_value() {
        // IRNAS sends `3 + (mV − 800 + 32) // 256, (mV − 800 + 32) % 256` (protocols.md §3.2).
        for mv in VDD_MIN_MV..=VDD_MAX_MV {
            let offset = u32::from(mv) - 800 + 32;
            let irnas = [0x0D, (3 + offset / 256) as u8, (offset % 256) as u8];
            let ours = Command::RegulatorSet(VddMv::new(mv).expect("in range")).encode();
            assert_eq!(ours, irnas, "{mv} mV");
        }
    }
}
