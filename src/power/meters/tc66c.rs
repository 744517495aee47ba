//! RDTech TC66C USB-C meter (USB CDC serial).
//!
//! Protocol (shared reference protocols.md §2.6): the host writes ASCII `getva` (no
//! terminator) and reads 192 bytes, AES-256-ECB encrypted with a fixed published key.
//! The plaintext is three 64-byte blocks starting `pac1`, `pac2`, `pac3`; bytes 60–63 of
//! each hold a CRC-16/MODBUS of its bytes 0–59 as a little-endian u32. Fields are
//! little-endian u32: voltage ×0.1 mV at 48, current ×10 µA at 52, power ×0.1 mW at 56.
//!
//! The decoder slides one byte at a time: a candidate start must decrypt to `pac1`
//! before the whole frame is decrypted and every block's tag and CRC are checked.
//!
//! The actprof emulator writes [`TC66C_EMULATOR_MARK`] into the `pac3` block at offset
//! 132, a stretch no reader or document gives a meaning to (zero in the test vector).

use std::time::Duration;

use aes::Aes256;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt as _, BlockEncrypt as _, KeyInit as _};

use super::polled::{self, Decoded, Protocol, Rejected};
use super::profile::{MeterProfile, Scales};
use super::scan::{FrameScanner, Probe};
use crate::power::{PowerError, PowerSource, SourceSpec};

/// Length of a TC66C frame in bytes.
pub const TC66C_FRAME_LEN: usize = 192;

/// Length of one plaintext block (three per frame).
pub const TC66C_BLOCK_LEN: usize = 64;

/// The request for one frame.
pub const TC66C_REQUEST: &[u8] = b"getva";

/// The request for the stored records.
pub const TC66C_RECORDS_REQUEST: &[u8] = b"gtrec";

/// The published AES-256 key (libsigrok `AES_KEY`, rd-usb `tc.py`).
pub const TC66C_AES_KEY: [u8; 32] = [
    0x58, 0x21, 0xfa, 0x56, 0x01, 0xb2, 0xf0, 0x26, 0x87, 0xff, 0x12, 0x04, 0x62, 0x2a, 0x4f, 0xb0,
    0x86, 0xf4, 0x02, 0x60, 0x81, 0x6f, 0x9a, 0x0b, 0xa7, 0xf1, 0x06, 0x61, 0x9a, 0xb8, 0x72, 0x88,
];

/// The tags that start the three plaintext blocks.
pub const TC66C_BLOCK_TAGS: [&[u8; 4]; 3] = [b"pac1", b"pac2", b"pac3"];

/// What the actprof emulator writes at [`TC66C_EMULATOR_MARK_OFFSET`].
pub const TC66C_EMULATOR_MARK: &[u8; 16] = b"actprof emulator";

/// Offset of the emulator's mark in the plaintext (inside `pac3`).
pub const TC66C_EMULATOR_MARK_OFFSET: usize = 132;

/// CRC-16/MODBUS: init 0xFFFF, reflected polynomial 0xA001 (0x8005).
const MODBUS: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);

/// Options a TC66C spec takes.
const OPTIONS: [&str; 2] = ["baud", "profile"];

/// The documented scales (protocols.md §2.6), as in the shipped profile.
pub const TC66C_SCALES: Scales = Scales {
    voltage_v: 1e-4,
    current_a: 1e-5,
    power_w: 1e-4,
};

/// A decoded TC66C frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Tc66Frame {
    /// Model, e.g. `TC66`.
    pub model: String,
    /// Firmware version, e.g. `1.14`.
    pub firmware: String,
    /// Serial number.
    pub serial: u32,
    /// Bus voltage in V.
    pub voltage_v: f64,
    /// Current in A.
    pub current_a: f64,
    /// Power in W.
    pub power_w: f64,
    /// Load resistance in Ω.
    pub resistance_ohm: f64,
    /// Group 0 charge in mAh and energy in mWh.
    pub group0: (u32, u32),
    /// Group 1 charge in mAh and energy in mWh.
    pub group1: (u32, u32),
    /// Temperature in °C.
    pub temperature_c: i64,
    /// D+ voltage in V.
    pub dplus_v: f64,
    /// D− voltage in V.
    pub dminus_v: f64,
    /// True when the frame carries the emulator's mark.
    pub emulated: bool,
}

/// Why 192 bytes are not a valid TC66C frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than a frame.
    #[error("{got} bytes, a frame has 192")]
    Short { got: usize },
    /// A block does not start with its tag.
    #[error("block {block} starts {found:02x?}, expected `pac{}`", block + 1)]
    Tag { block: usize, found: [u8; 4] },
    /// A block's CRC does not match.
    #[error("block {} CRC {stored:08x}, the bytes give {computed:04x}", block + 1)]
    Crc {
        block: usize,
        stored: u32,
        computed: u16,
    },
}

fn cipher() -> Aes256 {
    Aes256::new(GenericArray::from_slice(&TC66C_AES_KEY))
}

/// Decrypts a whole number of 16-byte blocks in place.
pub fn decrypt(bytes: &mut [u8]) {
    let cipher = cipher();
    for block in bytes.chunks_exact_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
}

/// Encrypts a whole number of 16-byte blocks in place (for the emulator and tests).
pub fn encrypt(bytes: &mut [u8]) {
    let cipher = cipher();
    for block in bytes.chunks_exact_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
}

/// CRC-16/MODBUS of bytes 0–59 of a 64-byte block.
pub fn block_crc(block: &[u8]) -> u16 {
    MODBUS.checksum(&block[..60])
}

/// Writes each block's CRC into bytes 60–63 of a 192-byte plaintext.
pub fn seal(plain: &mut [u8; TC66C_FRAME_LEN]) {
    for block in plain.chunks_exact_mut(TC66C_BLOCK_LEN) {
        let crc = u32::from(block_crc(block));
        block[60..64].copy_from_slice(&crc.to_le_bytes());
    }
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

fn ascii_at(bytes: &[u8], offset: usize) -> String {
    bytes[offset..offset + 4]
        .iter()
        .map(|&byte| {
            if byte.is_ascii_graphic() || byte == b' ' {
                char::from(byte)
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim_end_matches(['\0', ' '])
        .to_owned()
}

/// Checks and decodes a decrypted 192-byte frame.
pub fn decode_plain(plain: &[u8], scales: &Scales) -> Result<Tc66Frame, FrameError> {
    if plain.len() < TC66C_FRAME_LEN {
        return Err(FrameError::Short { got: plain.len() });
    }
    for (index, block) in plain[..TC66C_FRAME_LEN]
        .chunks_exact(TC66C_BLOCK_LEN)
        .enumerate()
    {
        if &block[..4] != TC66C_BLOCK_TAGS[index] {
            return Err(FrameError::Tag {
                block: index,
                found: [block[0], block[1], block[2], block[3]],
            });
        }
        let stored = u32_at(block, 60);
        let computed = block_crc(block);
        if stored != u32::from(computed) {
            return Err(FrameError::Crc {
                block: index,
                stored,
                computed,
            });
        }
    }
    let sign = if u32_at(plain, 88) == 1 { -1 } else { 1 };
    let mark = TC66C_EMULATOR_MARK_OFFSET..TC66C_EMULATOR_MARK_OFFSET + 16;
    Ok(Tc66Frame {
        model: ascii_at(plain, 4),
        firmware: ascii_at(plain, 8),
        serial: u32_at(plain, 12),
        voltage_v: f64::from(u32_at(plain, 48)) * scales.voltage_v,
        current_a: f64::from(u32_at(plain, 52)) * scales.current_a,
        power_w: f64::from(u32_at(plain, 56)) * scales.power_w,
        resistance_ohm: f64::from(u32_at(plain, 68)) * 0.1,
        group0: (u32_at(plain, 72), u32_at(plain, 76)),
        group1: (u32_at(plain, 80), u32_at(plain, 84)),
        temperature_c: sign * i64::from(u32_at(plain, 92)),
        dplus_v: f64::from(u32_at(plain, 96)) * 0.01,
        dminus_v: f64::from(u32_at(plain, 100)) * 0.01,
        emulated: &plain[mark] == TC66C_EMULATOR_MARK,
    })
}

/// Stream decoder: finds encrypted frames in any chunking of the byte stream.
#[derive(Clone)]
pub struct Tc66Decoder {
    scales: Scales,
    cipher: Aes256,
    scanner: FrameScanner,
}

impl Tc66Decoder {
    /// A decoder with `scales`.
    pub fn new(scales: Scales) -> Tc66Decoder {
        Tc66Decoder {
            scales,
            cipher: cipher(),
            scanner: FrameScanner::with_capacity(2 * TC66C_FRAME_LEN),
        }
    }

    /// Feeds bytes; completed frames go to `frames`, failed ones to `rejected`.
    pub fn push_frames(
        &mut self,
        bytes: &[u8],
        frames: &mut Vec<Tc66Frame>,
        rejected: &mut Vec<Rejected>,
    ) {
        let (cipher, scales) = (&self.cipher, &self.scales);
        // A frame starts where the first 16-byte block decrypts to the `pac1` tag.
        let probe = |window: &[u8]| {
            if window.len() < 16 {
                return Probe::Wait;
            }
            let mut first = [0u8; 16];
            first.copy_from_slice(&window[..16]);
            cipher.decrypt_block(GenericArray::from_mut_slice(&mut first));
            if &first[..4] == TC66C_BLOCK_TAGS[0] {
                Probe::Start
            } else {
                Probe::Skip
            }
        };
        let decode = |frame: &[u8]| {
            let mut plain = [0u8; TC66C_FRAME_LEN];
            plain.copy_from_slice(frame);
            for block in plain.chunks_exact_mut(16) {
                cipher.decrypt_block(GenericArray::from_mut_slice(block));
            }
            decode_plain(&plain, scales)
        };
        self.scanner
            .push(bytes, TC66C_FRAME_LEN, probe, decode, frames, rejected);
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

struct Tc66Protocol {
    decoder: Tc66Decoder,
    frames: Vec<Tc66Frame>,
}

impl Protocol for Tc66Protocol {
    fn meter(&self) -> &'static str {
        "TC66C"
    }

    fn request(&self) -> &[u8] {
        TC66C_REQUEST
    }

    fn push(&mut self, bytes: &[u8], out: &mut Vec<Decoded>, rejected: &mut Vec<Rejected>) {
        self.decoder.push_frames(bytes, &mut self.frames, rejected);
        for frame in self.frames.drain(..) {
            let mut key = Vec::with_capacity(32);
            for value in [frame.voltage_v, frame.current_a, frame.power_w] {
                key.extend_from_slice(&value.to_le_bytes());
            }
            key.extend_from_slice(&frame.group0.1.to_le_bytes());
            out.push(Decoded {
                voltage_v: frame.voltage_v,
                current_a: frame.current_a,
                power_w: frame.power_w,
                // 1 mWh = 3.6 J.
                energy_j: Some(f64::from(frame.group0.1) * 3.6),
                emulated: frame.emulated,
                fingerprint: polled::fingerprint(&key),
            });
        }
    }

    fn skipped(&self) -> u64 {
        self.decoder.skipped()
    }

    fn reset(&mut self) {
        self.decoder.reset();
    }
}

/// Opens a TC66C: `tc66c:PORT`, with options `baud=N` and `profile=FILE`.
pub fn open(
    spec: &SourceSpec,
    poll_interval: Duration,
) -> Result<Box<dyn PowerSource>, PowerError> {
    let profile = MeterProfile::for_spec(spec, "tc66c.toml", &OPTIONS)?;
    let baud = spec
        .parsed_option("baud", &OPTIONS)?
        .unwrap_or(profile.baud);
    let scales = profile.scales.unwrap_or(TC66C_SCALES);
    let protocol = Tc66Protocol {
        decoder: Tc66Decoder::new(scales),
        frames: Vec::new(),
    };
    let settings = profile.poll_settings(baud, poll_interval);
    let rate_hz = 1.0 / settings.request_interval.as_secs_f64();
    let meter = polled::connect(spec, protocol, settings, |port| {
        format!(
            "RDTech TC66C on {port} (V, I, P at {rate_hz:.1} Hz, 0.1 mV / 10 µA / 0.1 mW steps)"
        )
    })?;
    Ok(Box::new(meter))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// protocols.md §2.6: the documented ciphertext test vector.
    const VECTOR: &str = "
        8e 0b b0 2f 4b 55 ca 53 ca fe a9 4d 2d 97 97 a5
        2a ca 6e c4 a4 55 4d 55 42 e8 67 4b 09 7e 25 9c
        2a ca 6e c4 a4 55 4d 55 42 e8 67 4b 09 7e 25 9c
        c5 12 4f e9 6c a8 d3 ea 16 d5 f3 4b 76 9a 31 d1
        c1 d4 5a b9 2b 2a 53 34 1d 0f e4 ea e1 f0 a7 9e
        ee 18 b7 23 30 81 0d 15 db 57 51 12 66 12 a7 77
        35 31 ae 9e ad 4e 40 0c 78 39 19 83 db 0f 88 29
        94 c4 cb 18 74 50 e1 97 a4 4d f6 f7 5f 49 42 a5
        42 31 f4 11 e5 6f 5c 20 3c 59 0b 4a 68 fd 5b 09
        2a ca 6e c4 a4 55 4d 55 42 e8 67 4b 09 7e 25 9c
        2a ca 6e c4 a4 55 4d 55 42 e8 67 4b 09 7e 25 9c
        e0 9c 40 04 c9 2d a9 48 c3 16 5e eb db 8b 9e c2";

    fn vector() -> Vec<u8> {
        VECTOR
            .split_whitespace()
            .map(|byte| u8::from_str_radix(byte, 16).expect("hex"))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_test_vector_decrypts_and_decodes_at_the_documented_scales() {
        let mut plain = vector();
        assert_eq!(plain.len(), 192);
        decrypt(&mut plain);
        // The documented block CRCs.
        assert_eq!(&plain[60..64], &[0xd4, 0x77, 0, 0]);
        assert_eq!(&plain[124..128], &[0x23, 0xae, 0, 0]);
        assert_eq!(&plain[188..192], &[0x28, 0x05, 0, 0]);
        let frame = decode_plain(&plain, &TC66C_SCALES).expect("valid");
        assert!(close(frame.voltage_v, 5.062), "{frame:?}");
        assert!(close(frame.current_a, 0.1146), "{frame:?}");
        assert!(close(frame.power_w, 0.5801), "{frame:?}");
        assert_eq!(frame.serial, 12345);
        assert_eq!(frame.firmware, "1.14");
        assert!(close(frame.resistance_ohm, 44.1));
        assert_eq!(frame.group0, (12, 61));
        assert_eq!(frame.temperature_c, 25);
        assert!(close(frame.dplus_v, 0.01));
        assert!(!frame.emulated);
    }

    #[test]
    fn re_encrypting_the_plaintext_gives_the_vector_back() {
        let mut bytes = vector();
        decrypt(&mut bytes);
        let mut plain = [0u8; TC66C_FRAME_LEN];
        plain.copy_from_slice(&bytes);
        seal(&mut plain);
        encrypt(&mut plain);
        assert_eq!(plain.to_vec(), vector());
    }

    #[test]
    fn a_flipped_byte_fails_the_crc_of_its_block() {
        let mut bytes = vector();
        bytes[100] ^= 0x01; // inside block 2's second 16 bytes
        decrypt(&mut bytes);
        let err = decode_plain(&bytes, &TC66C_SCALES).expect_err("crc");
        assert!(matches!(err, FrameError::Crc { block: 1, .. }), "{err:?}");
        assert!(err.to_string().starts_with("block 2 CRC"), "{err}");
    }

    #[test]
    fn the_stream_decoder_finds_frames_after_garbage_and_cut_frames() {
        let frame = vector();
        let mut stream = vec![0x00, 0x8e, 0x0b];
        stream.extend_from_slice(&frame[..100]);
        stream.extend_from_slice(&frame);
        stream.extend_from_slice(&[0x42; 7]);
        stream.extend_from_slice(&frame);
        let mut decoder = Tc66Decoder::new(TC66C_SCALES);
        let (mut frames, mut rejected) = (Vec::new(), Vec::new());
        for chunk in stream.chunks(13) {
            decoder.push_frames(chunk, &mut frames, &mut rejected);
        }
        assert_eq!(frames.len(), 2, "{rejected:?}");
        // The cut frame decrypts to `pac1` but fails further in.
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert_eq!(rejected[0].offset, 3);
        assert_eq!(decoder.skipped() as usize, stream.len() - 2 * 192);
    }
}
