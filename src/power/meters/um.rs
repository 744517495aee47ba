//! RDTech UM24C, UM25C and UM34C USB meters (Bluetooth SPP serial).
//!
//! Protocol (shared reference protocols.md §2.2–§2.4): the host sends `0xF0`; the meter
//! answers with a 130-byte frame of big-endian unsigned fields, starting with the model
//! ID. Scales depend on the model (the UM25C has 10x finer voltage and current; the
//! shipped profiles hold them). UM24C and UM25C frames end with `FF F1`; a UM34C frame
//! ends with `0x80` and an XOR checksum over 32 listed bytes. The decoder slides one byte
//! at a time until the expected model ID starts a frame that passes its check, so
//! garbage and shifted frames cost only the bytes they spoil.
//!
//! A frame that passes the trailer or checksum is also checked for consistency: the
//! data group is 0–9 and the power matches voltage × current within their rounding (the
//! meter computes one from the others [UNCONFIRMED on hardware; both real example frames
//! in §2.5 agree to 0.1 mW]). The UM24C/UM25C trailer covers no payload byte, so this is
//! what catches most corrupted payloads.
//!
//! The actprof emulator marks its frames with [`UM_EMULATOR_MARK`] in the charging-mode
//! field (offset 100), which real meters fill with 0–8 or 65535 only.

use std::time::Duration;

use super::polled::{self, Decoded, Protocol, Rejected};
use super::profile::{MeterProfile, Scales};
use super::scan::{FrameScanner, Probe};
use crate::power::{PowerError, PowerSource, SourceKind, SourceSpec};

/// Length of a UM frame in bytes.
pub const UM_FRAME_LEN: usize = 130;

/// The request for one frame.
pub const UM_REQUEST: u8 = 0xF0;

/// First of the ten "select data group" bytes (UM25C/UM34C): `0xA0 + group`.
pub const UM_SELECT_GROUP: u8 = 0xA0;

/// Trailer of UM24C and UM25C frames (offsets 128–129).
pub const UM_TRAILER: [u8; 2] = [0xFF, 0xF1];

/// Byte 128 of the UM34C frame in the real dump (meaning unknown).
pub const UM34C_BYTE_128: u8 = 0x80;

/// Offsets whose XOR is the UM34C checksum at offset 129 (libsigrok `poll_csum_um34c`).
pub const UM34C_CHECKSUM_OFFSETS: [usize; 32] = [
    1, 3, 7, 9, 15, 17, 19, 23, 31, 39, 41, 45, 49, 53, 55, 57, 59, 63, 67, 69, 73, 79, 83, 89, 97,
    99, 109, 111, 113, 119, 121, 127,
];

/// Charging-mode value (offset 100) that marks a frame as the actprof emulator's: ASCII
/// `EM`. Real meters use 0–8, and 65535 for unknown.
pub const UM_EMULATOR_MARK: u16 = 0x454D;

/// Offset of the charging-mode field.
pub const CHARGING_MODE_OFFSET: usize = 100;

/// Time to leave the meter after a control byte before the next one (rdserialtool).
const CONTROL_PAUSE: Duration = Duration::from_millis(500);

/// Options a UM spec takes.
const OPTIONS: [&str; 3] = ["group", "baud", "profile"];

/// A UM meter model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// UM24C, model ID 0x0963.
    Um24c,
    /// UM25C, model ID 0x09C9.
    Um25c,
    /// UM34C, model ID 0x0D4C.
    Um34c,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 3] = [Model::Um24c, Model::Um25c, Model::Um34c];

    /// The model ID at offset 0.
    pub fn id(self) -> u16 {
        match self {
            Model::Um24c => 0x0963,
            Model::Um25c => 0x09C9,
            Model::Um34c => 0x0D4C,
        }
    }

    /// The model with ID `id`.
    pub fn from_id(id: u16) -> Option<Model> {
        Model::ALL.into_iter().find(|model| model.id() == id)
    }

    /// The model a source kind names.
    pub fn of_kind(kind: SourceKind) -> Option<Model> {
        match kind {
            SourceKind::Um24c => Some(Model::Um24c),
            SourceKind::Um25c => Some(Model::Um25c),
            SourceKind::Um34c => Some(Model::Um34c),
            _ => None,
        }
    }

    /// Its name, e.g. `UM25C`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Um24c => "UM24C",
            Model::Um25c => "UM25C",
            Model::Um34c => "UM34C",
        }
    }

    /// Its spec kind name, e.g. `um25c`.
    pub fn kind_name(self) -> &'static str {
        match self {
            Model::Um24c => "um24c",
            Model::Um25c => "um25c",
            Model::Um34c => "um34c",
        }
    }

    /// Its shipped profile.
    pub fn profile_file(self) -> &'static str {
        match self {
            Model::Um24c => "um24c.toml",
            Model::Um25c => "um25c.toml",
            Model::Um34c => "um34c.toml",
        }
    }

    /// The documented scales (protocols.md §2.3), as in the shipped profiles.
    pub fn scales(self) -> Scales {
        match self {
            Model::Um25c => Scales {
                voltage_v: 0.001,
                current_a: 0.0001,
                power_w: 0.001,
            },
            Model::Um24c | Model::Um34c => Scales {
                voltage_v: 0.01,
                current_a: 0.001,
                power_w: 0.001,
            },
        }
    }

    /// True when its frames end in a checksum rather than the fixed trailer.
    pub fn has_checksum(self) -> bool {
        self == Model::Um34c
    }
}

/// A decoded UM frame (the fields a power reading needs, plus identification).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UmFrame {
    /// The model that sent it.
    pub model: Model,
    /// Bus voltage in V.
    pub voltage_v: f64,
    /// Current in A.
    pub current_a: f64,
    /// Power in W.
    pub power_w: f64,
    /// Temperature in °C.
    pub temperature_c: u16,
    /// Selected data group, 0–9.
    pub group: u8,
    /// Accumulated charge of the selected group in mAh.
    pub group_mah: u32,
    /// Accumulated energy of the selected group in mWh.
    pub group_mwh: u32,
    /// Charging-mode field (offset 100).
    pub charging_mode: u16,
    /// Load resistance in Ω.
    pub load_ohm: f64,
}

impl UmFrame {
    /// True when the frame carries the emulator's mark.
    pub fn is_emulated(&self) -> bool {
        self.charging_mode == UM_EMULATOR_MARK
    }
}

/// Why a 130-byte window is not a valid frame.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than a frame.
    #[error("{got} bytes, a frame has 130")]
    Short { got: usize },
    /// The model ID is not the expected one.
    #[error("model ID {found:04x}, expected {expected:04x}")]
    Model { found: u16, expected: u16 },
    /// UM24C/UM25C trailer wrong.
    #[error("trailer {:02x} {:02x}, expected ff f1", found[0], found[1])]
    Trailer { found: [u8; 2] },
    /// UM34C checksum wrong.
    #[error("checksum {found:02x}, the bytes give {computed:02x}")]
    Checksum { found: u8, computed: u8 },
    /// Data group out of range.
    #[error("data group {group}, expected 0-9")]
    Group { group: u16 },
    /// Power does not match voltage × current.
    #[error("power {power_w} W does not match {voltage_v} V × {current_a} A")]
    Inconsistent {
        power_w: f64,
        voltage_v: f64,
        current_a: f64,
    },
}

fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_be_bytes([bytes[offset], bytes[offset + 1]])
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

/// The UM34C checksum of a frame: XOR of the bytes at [`UM34C_CHECKSUM_OFFSETS`].
pub fn um34c_checksum(frame: &[u8]) -> u8 {
    UM34C_CHECKSUM_OFFSETS.iter().fold(0, |acc, &offset| {
        acc ^ frame.get(offset).copied().unwrap_or(0)
    })
}

/// Decodes and checks one frame of `model` with `scales`.
pub fn decode_frame(model: Model, scales: &Scales, frame: &[u8]) -> Result<UmFrame, FrameError> {
    if frame.len() < UM_FRAME_LEN {
        return Err(FrameError::Short { got: frame.len() });
    }
    let frame = &frame[..UM_FRAME_LEN];
    let id = u16_at(frame, 0);
    if id != model.id() {
        return Err(FrameError::Model {
            found: id,
            expected: model.id(),
        });
    }
    if model.has_checksum() {
        let computed = um34c_checksum(frame);
        if frame[129] != computed {
            return Err(FrameError::Checksum {
                found: frame[129],
                computed,
            });
        }
    } else if frame[128..130] != UM_TRAILER {
        return Err(FrameError::Trailer {
            found: [frame[128], frame[129]],
        });
    }
    let group = u16_at(frame, 14);
    if group > 9 {
        return Err(FrameError::Group { group });
    }
    let voltage_v = f64::from(u16_at(frame, 2)) * scales.voltage_v;
    let current_a = f64::from(u16_at(frame, 4)) * scales.current_a;
    let power_w = f64::from(u32_at(frame, 6)) * scales.power_w;
    if !consistent(voltage_v, current_a, power_w, scales) {
        return Err(FrameError::Inconsistent {
            power_w,
            voltage_v,
            current_a,
        });
    }
    let group_offset = 16 + 8 * usize::from(group);
    Ok(UmFrame {
        model,
        voltage_v,
        current_a,
        power_w,
        temperature_c: u16_at(frame, 10),
        group: group as u8,
        group_mah: u32_at(frame, group_offset),
        group_mwh: u32_at(frame, group_offset + 4),
        charging_mode: u16_at(frame, CHARGING_MODE_OFFSET),
        load_ohm: f64::from(u32_at(frame, 122)) * 0.1,
    })
}

/// True when `power_w` is voltage × current within the rounding of all three fields
/// (twice the worst case, plus 2 % for the meter's own arithmetic).
pub fn consistent(voltage_v: f64, current_a: f64, power_w: f64, scales: &Scales) -> bool {
    let (dv, di, dp) = (
        scales.voltage_v / 2.0,
        scales.current_a / 2.0,
        scales.power_w / 2.0,
    );
    let rounding = voltage_v * di + current_a * dv + dv * di + dp;
    (power_w - voltage_v * current_a).abs() <= 2.0 * rounding + 0.02 * power_w
}

/// Stream decoder for one model: finds frames in any chunking of the byte stream.
#[derive(Clone, Debug)]
pub struct UmDecoder {
    model: Model,
    scales: Scales,
    scanner: FrameScanner,
    other_model: Option<Model>,
}

impl UmDecoder {
    /// A decoder for `model`'s frames with `scales`.
    pub fn new(model: Model, scales: Scales) -> UmDecoder {
        UmDecoder {
            model,
            scales,
            scanner: FrameScanner::with_capacity(2 * UM_FRAME_LEN),
            other_model: None,
        }
    }

    /// Feeds bytes; returns the frames completed, and the rejected ones with offsets.
    pub fn push_frames(
        &mut self,
        bytes: &[u8],
        frames: &mut Vec<UmFrame>,
        rejected: &mut Vec<Rejected>,
    ) {
        let (model, scales) = (self.model, &self.scales);
        let expected = model.id().to_be_bytes();
        let other_seen = &mut self.other_model;
        let probe = |window: &[u8]| {
            if window.len() < 2 {
                return Probe::Wait;
            }
            if window[..2] == expected {
                return Probe::Start;
            }
            match other_model(model, window) {
                // Another model's ID with too few bytes to tell: wait for more.
                OtherModel::Undecided => Probe::Wait,
                OtherModel::Valid(other) => {
                    *other_seen = Some(other);
                    Probe::Skip
                }
                OtherModel::No => Probe::Skip,
            }
        };
        let decode = |frame: &[u8]| decode_frame(model, scales, frame);
        self.scanner
            .push(bytes, UM_FRAME_LEN, probe, decode, frames, rejected);
    }

    /// The other model whose valid frames were seen, if any.
    pub fn other_model(&self) -> Option<Model> {
        self.other_model
    }

    /// Bytes skipped while looking for frames.
    pub fn skipped(&self) -> u64 {
        self.scanner.skipped()
    }

    /// Drops a partial frame.
    pub fn reset(&mut self) {
        self.scanner.reset();
    }
}

/// What a window that does not start with the expected model ID holds.
enum OtherModel {
    /// Another model's ID, too few bytes yet to tell whether a valid frame follows.
    Undecided,
    /// A valid frame of another model.
    Valid(Model),
    /// Not a frame of any model.
    No,
}

fn other_model(expected: Model, window: &[u8]) -> OtherModel {
    let Some(other) = Model::from_id(u16_at(window, 0)).filter(|other| *other != expected) else {
        return OtherModel::No;
    };
    if window.len() < UM_FRAME_LEN {
        return OtherModel::Undecided;
    }
    match decode_frame(other, &other.scales(), window) {
        Ok(_) => OtherModel::Valid(other),
        Err(_) => OtherModel::No,
    }
}

/// The UM protocol for the polled source.
struct UmProtocol {
    decoder: UmDecoder,
    frames: Vec<UmFrame>,
}

impl Protocol for UmProtocol {
    fn meter(&self) -> &'static str {
        self.decoder.model.name()
    }

    fn request(&self) -> &[u8] {
        &[UM_REQUEST]
    }

    fn push(&mut self, bytes: &[u8], out: &mut Vec<Decoded>, rejected: &mut Vec<Rejected>) {
        self.decoder.push_frames(bytes, &mut self.frames, rejected);
        for frame in self.frames.drain(..) {
            out.push(Decoded {
                voltage_v: frame.voltage_v,
                current_a: frame.current_a,
                power_w: frame.power_w,
                // 1 mWh = 3.6 J.
                energy_j: Some(f64::from(frame.group_mwh) * 3.6),
                emulated: frame.is_emulated(),
                fingerprint: polled::fingerprint(&frame_key(&frame)),
            });
        }
    }

    fn skipped(&self) -> u64 {
        self.decoder.skipped()
    }

    fn reset(&mut self) {
        self.decoder.reset();
    }

    fn hint(&self) -> Option<String> {
        let other = self.decoder.other_model()?;
        Some(format!(
            "the port sends {} frames: use `{}:PORT`",
            other.name(),
            other.kind_name()
        ))
    }
}

/// What makes two frames the same reading.
fn frame_key(frame: &UmFrame) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    for value in [
        frame.voltage_v,
        frame.current_a,
        frame.power_w,
        frame.load_ohm,
    ] {
        key.extend_from_slice(&value.to_le_bytes());
    }
    key.extend_from_slice(&frame.group_mah.to_le_bytes());
    key.extend_from_slice(&frame.group_mwh.to_le_bytes());
    key.extend_from_slice(&frame.temperature_c.to_le_bytes());
    key
}

/// Opens a UM meter: `um24c:PORT`, `um25c:PORT` or `um34c:PORT`, with options
/// `group=N` (select data group N, 0–9, for the accumulated mAh/mWh; UM25C/UM34C),
/// `baud=N` and `profile=FILE`.
pub fn open(
    spec: &SourceSpec,
    poll_interval: Duration,
) -> Result<Box<dyn PowerSource>, PowerError> {
    let model = Model::of_kind(spec.kind).ok_or_else(|| PowerError::BadSpec {
        spec: spec.to_string(),
        reason: "not a UM meter".to_owned(),
    })?;
    let profile = MeterProfile::for_spec(spec, model.profile_file(), &OPTIONS)?;
    let group: Option<u8> = spec.parsed_option("group", &OPTIONS)?;
    let bad = |reason: String| PowerError::BadSpec {
        spec: spec.to_string(),
        reason,
    };
    if let Some(group) = group {
        if group > 9 {
            return Err(bad(format!("data group {group} does not exist (0-9)")));
        }
        if model == Model::Um24c {
            return Err(bad(
                "the UM24C cannot select a data group by command (it only steps to the next); \
                 select it on the meter and drop `group=`"
                    .to_owned(),
            ));
        }
    }
    let baud = spec
        .parsed_option("baud", &OPTIONS)?
        .unwrap_or(profile.baud);
    let scales = profile.scales.unwrap_or_else(|| model.scales());
    let protocol = UmProtocol {
        decoder: UmDecoder::new(model, scales),
        frames: Vec::new(),
    };
    let settings = profile.poll_settings(baud, poll_interval);
    let rate_hz = 1.0 / settings.request_interval.as_secs_f64();
    let mut meter = polled::connect(spec, protocol, settings, |port| {
        format!(
            "RDTech {} on {port} (V, I, P at {rate_hz:.1} Hz, {} mV / {} mA / 1 mW steps)",
            model.name(),
            scales.voltage_v * 1e3,
            scales.current_a * 1e3
        )
    })?;
    if let Some(group) = group {
        std::thread::sleep(CONTROL_PAUSE);
        meter.send_control(&[UM_SELECT_GROUP + group])?;
        std::thread::sleep(CONTROL_PAUSE);
    }
    Ok(Box::new(meter))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// protocols.md §2.5: UM25C, 5.062 V, 0.1146 A, 0.580 W.
    fn um25c_example() -> Vec<u8> {
        let mut frame = vec![0u8; 130];
        let head = [
            0x09, 0xc9, 0x13, 0xc6, 0x04, 0x7a, 0x00, 0x00, 0x02, 0x44, 0x00, 0x19, 0x00, 0x4e,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
        ];
        frame[..head.len()].copy_from_slice(&head);
        let tail = [
            0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00,
            0x01, 0xb9, 0x00, 0x01, 0xff, 0xf1,
        ];
        frame[96..].copy_from_slice(&tail);
        frame
    }

    /// protocols.md §2.5: the real UM34C dump (5.01 V, 0.142 A, 0.711 W, group 1).
    fn um34c_dump() -> Vec<u8> {
        let mut frame = vec![0u8; 130];
        let head = [
            0x0d, 0x4c, 0x01, 0xf5, 0x00, 0x8e, 0x00, 0x00, 0x02, 0xc7, 0x00, 0x1b, 0x00, 0x51,
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
            0x00, 0x00, 0x00, 0x27,
        ];
        frame[..head.len()].copy_from_slice(&head);
        let tail = [
            0x00, 0x02, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x25,
            0x00, 0x13, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00,
            0x01, 0x60, 0x00, 0x00, 0x80, 0x68,
        ];
        frame[96..].copy_from_slice(&tail);
        frame
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_um25c_example_decodes_at_its_fine_scales() {
        let frame =
            decode_frame(Model::Um25c, &Model::Um25c.scales(), &um25c_example()).expect("valid");
        assert!(close(frame.voltage_v, 5.062), "{frame:?}");
        assert!(close(frame.current_a, 0.1146), "{frame:?}");
        assert!(close(frame.power_w, 0.580), "{frame:?}");
        assert_eq!(frame.temperature_c, 25);
        assert_eq!((frame.group, frame.group_mah, frame.group_mwh), (0, 1, 9));
        assert!(close(frame.load_ohm, 44.1));
        assert_eq!(frame.charging_mode, 7);
        assert!(!frame.is_emulated());
    }

    #[test]
    fn the_real_um34c_dump_passes_its_checksum() {
        let dump = um34c_dump();
        assert_eq!(um34c_checksum(&dump), 0x68);
        let frame = decode_frame(Model::Um34c, &Model::Um34c.scales(), &dump).expect("valid");
        assert!(close(frame.voltage_v, 5.01), "{frame:?}");
        assert!(close(frame.current_a, 0.142), "{frame:?}");
        assert!(close(frame.power_w, 0.711), "{frame:?}");
        assert_eq!((frame.temperature_c, frame.group), (27, 1));
        // Group 1's record sits at offset 24: 7 mAh, 39 mWh.
        assert_eq!((frame.group_mah, frame.group_mwh), (7, 0x27));
        assert!(close(frame.load_ohm, 35.2));
    }

    #[test]
    fn a_wrong_trailer_or_checksum_or_model_is_rejected() {
        let mut bad_trailer = um25c_example();
        bad_trailer[129] = 0xf2;
        let err =
            decode_frame(Model::Um25c, &Model::Um25c.scales(), &bad_trailer).expect_err("trailer");
        assert_eq!(err.to_string(), "trailer ff f2, expected ff f1");

        let mut bad_sum = um34c_dump();
        bad_sum[3] ^= 0x01;
        let err = decode_frame(Model::Um34c, &Model::Um34c.scales(), &bad_sum).expect_err("sum");
        assert!(
            matches!(err, FrameError::Checksum { found: 0x68, .. }),
            "{err:?}"
        );

        let err = decode_frame(Model::Um24c, &Model::Um24c.scales(), &um25c_example())
            .expect_err("model");
        assert_eq!(err.to_string(), "model ID 09c9, expected 0963");
    }

    #[test]
    fn a_payload_that_does_not_add_up_is_rejected() {
        let mut frame = um25c_example();
        frame[2] = 0x23; // 9.030 V instead of 5.062 V, trailer still right.
        let err =
            decode_frame(Model::Um25c, &Model::Um25c.scales(), &frame).expect_err("inconsistent");
        assert!(matches!(err, FrameError::Inconsistent { .. }), "{err:?}");
        let mut group = um25c_example();
        group[15] = 10;
        let err = decode_frame(Model::Um25c, &Model::Um25c.scales(), &group).expect_err("g");
        assert_eq!(err, FrameError::Group { group: 10 });
    }

    #[test]
    fn the_stream_decoder_slides_past_garbage_and_cut_frames() {
        let example = um25c_example();
        let mut stream = vec![0x13, 0x09, 0xc9, 0x00];
        stream.extend_from_slice(&example[..70]); // a frame cut in the middle
        stream.extend_from_slice(&example);
        stream.extend_from_slice(&[0xff, 0xf1, 0x09]);
        stream.extend_from_slice(&example);
        let mut decoder = UmDecoder::new(Model::Um25c, Model::Um25c.scales());
        let (mut frames, mut rejected) = (Vec::new(), Vec::new());
        // Byte by byte, like the slowest RFCOMM link.
        for byte in &stream {
            decoder.push_frames(std::slice::from_ref(byte), &mut frames, &mut rejected);
        }
        assert_eq!(frames.len(), 2, "{rejected:?}");
        assert!(frames.iter().all(|f| close(f.voltage_v, 5.062)));
        assert!(!rejected.is_empty());
        assert_eq!(rejected[0].offset, 1, "the false start at byte 1");
        assert_eq!(decoder.skipped() as usize, stream.len() - 2 * 130);
    }

    #[test]
    fn another_models_frames_give_a_hint() {
        let mut protocol = UmProtocol {
            decoder: UmDecoder::new(Model::Um24c, Model::Um24c.scales()),
            frames: Vec::new(),
        };
        let (mut out, mut rejected) = (Vec::new(), Vec::new());
        protocol.push(&um25c_example(), &mut out, &mut rejected);
        assert!(out.is_empty());
        let hint = protocol.hint().expect("hint");
        assert!(hint.contains("UM25C frames: use `um25c:PORT`"), "{hint}");
    }

    #[test]
    fn power_consistency_allows_the_rounding_of_each_scale() {
        let fine = Model::Um25c.scales();
        assert!(consistent(5.062, 0.1146, 0.580, &fine));
        assert!(!consistent(5.062, 0.1146, 0.620, &fine));
        let coarse = Model::Um24c.scales();
        assert!(consistent(5.01, 0.142, 0.711, &coarse));
        assert!(consistent(5.0, 0.0, 0.0, &coarse));
        assert!(!consistent(5.0, 1.0, 4.0, &coarse));
    }

    #[test]
    fn the_group_option_selects_the_group_on_the_meter() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        use crate::power::meters::emulate::EmulatorOptions;
        use crate::power::meters::um_emulator;
        use crate::serial::{open_port, open_pty};

        let (mut master, _hold, port) = open_pty().expect("pty");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let emulator = std::thread::spawn(move || {
            let options = EmulatorOptions::default();
            um_emulator::run_um25c(master.as_mut(), &options, &flag)
        });

        let spec: SourceSpec = format!("um25c:{port}?group=3").parse().expect("spec");
        let meter = open(&spec, Duration::from_millis(100)).expect("opens");
        assert!(
            meter
                .info()
                .description
                .starts_with("EMULATED RDTech UM25C")
        );
        drop(meter);

        // Ask the meter ourselves: its frames now report group 3 (offset 14).
        let mut link = open_port(&port, 9600).expect("reopens");
        link.write_all(&[UM_REQUEST]).expect("poll");
        let mut frame = Vec::new();
        let mut buf = [0u8; 256];
        while frame.len() < UM_FRAME_LEN {
            let count = link
                .read_some(&mut buf, Duration::from_secs(2))
                .expect("reads");
            assert!(count > 0, "the emulator answers");
            frame.extend_from_slice(&buf[..count]);
        }
        let decoded = decode_frame(Model::Um25c, &Model::Um25c.scales(), &frame).expect("ok");
        assert_eq!(decoded.group, 3);
        stop.store(true, Ordering::Release);
        emulator.join().expect("joins").expect("runs cleanly");
    }

    #[test]
    fn group_options_the_meter_cannot_take_are_refused() {
        for (text, reason) in [
            ("um25c:/dev/null?group=10", "data group 10 does not exist"),
            (
                "um24c:/dev/null?group=2",
                "the UM24C cannot select a data group",
            ),
            ("um25c:/dev/null?colour=red", "no option `colour`"),
        ] {
            let spec: SourceSpec = text.parse().expect(text);
            let message = open(&spec, Duration::from_millis(100))
                .err()
                .expect(text)
                .to_string();
            assert!(message.contains(reason), "{text}: {message}");
        }
    }
}
