//! Element types: the f32 of the float kernels and the two 8-bit quantized types.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::QuantError;

/// The element type of a kernel, as written in reports: `f32`, `i8` or `u8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 32-bit float, the float kernels.
    F32,
    /// Signed 8-bit quantized integer, codes −128..=127.
    I8,
    /// Unsigned 8-bit quantized integer, codes 0..=255.
    U8,
}

impl DType {
    /// Every dtype, in report order.
    pub const ALL: [DType; 3] = [DType::F32, DType::I8, DType::U8];

    /// The stable name: `f32`, `i8` or `u8`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::I8 => "i8",
            DType::U8 => "u8",
        }
    }

    /// The size of one element in bytes.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::I8 | DType::U8 => 1,
        }
    }

    /// The quantized view of this dtype, `None` for `f32`.
    pub fn quantized(self) -> Option<QuantDType> {
        match self {
            DType::F32 => None,
            DType::I8 => Some(QuantDType::I8),
            DType::U8 => Some(QuantDType::U8),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DType {
    type Err = QuantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == s.trim())
            .ok_or_else(|| QuantError::UnknownDType(s.to_owned()))
    }
}

/// An 8-bit quantized dtype: the subset of [`DType`] that has a scale and a zero point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantDType {
    /// Signed, codes −128..=127.
    I8,
    /// Unsigned, codes 0..=255.
    U8,
}

impl QuantDType {
    /// Both quantized dtypes.
    pub const ALL: [QuantDType; 2] = [QuantDType::I8, QuantDType::U8];

    /// The smallest code.
    pub fn qmin(self) -> i32 {
        match self {
            QuantDType::I8 => i32::from(i8::MIN),
            QuantDType::U8 => 0,
        }
    }

    /// The largest code.
    pub fn qmax(self) -> i32 {
        match self {
            QuantDType::I8 => i32::from(i8::MAX),
            QuantDType::U8 => i32::from(u8::MAX),
        }
    }

    /// The code a stored byte holds (`0xFF` is −1 in i8, 255 in u8).
    pub fn decode(self, byte: u8) -> i32 {
        match self {
            QuantDType::I8 => i32::from(byte.cast_signed()),
            QuantDType::U8 => i32::from(byte),
        }
    }

    /// The byte that stores `code`, saturated to the dtype's range first.
    pub fn encode(self, code: i32) -> u8 {
        let code = code.clamp(self.qmin(), self.qmax());
        // After the clamp the low byte is the two's-complement (i8) or plain (u8) code.
        code.to_le_bytes()[0]
    }

    /// Whether the codes are signed (ordered as i8) rather than unsigned.
    pub fn is_signed(self) -> bool {
        self == QuantDType::I8
    }
}

impl From<QuantDType> for DType {
    fn from(dtype: QuantDType) -> Self {
        match dtype {
            QuantDType::I8 => DType::I8,
            QuantDType::U8 => DType::U8,
        }
    }
}

impl TryFrom<DType> for QuantDType {
    type Error = QuantError;

    fn try_from(dtype: DType) -> Result<Self, Self::Error> {
        dtype.quantized().ok_or(QuantError::NotQuantized(dtype))
    }
}

impl fmt::Display for QuantDType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        DType::from(*self).fmt(f)
    }
}

impl FromStr for QuantDType {
    type Err = QuantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<DType>()?.try_into()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for u8 {}
}

/// A Rust element type a quantized kernel reads and writes: `i8` or `u8`.
///
/// Sealed: both have the size and alignment of a byte, which the kernels rely on to treat
/// any slice of them as bytes.
pub trait QuantElement: Copy + sealed::Sealed {
    /// The dtype this element type stores.
    const DTYPE: QuantDType;
}

impl QuantElement for i8 {
    const DTYPE: QuantDType = QuantDType::I8;
}

impl QuantElement for u8 {
    const DTYPE: QuantDType = QuantDType::U8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for dtype in DType::ALL {
            assert_eq!(dtype.to_string().parse::<DType>().expect("own name"), dtype);
        }
        assert_eq!(["f32", "i8", "u8"], DType::ALL.map(DType::name));
        let err = "int8".parse::<DType>().expect_err("not a dtype name");
        assert!(err.to_string().contains("`int8`"), "{err}");
        let err = "f32"
            .parse::<QuantDType>()
            .expect_err("f32 is not quantized");
        assert!(err.to_string().contains("f32"), "{err}");
    }

    #[test]
    fn codes_decode_and_encode_as_two_complement_or_plain_bytes() {
        assert_eq!(QuantDType::I8.decode(0xFF), -1);
        assert_eq!(QuantDType::I8.decode(0x80), -128);
        assert_eq!(QuantDType::U8.decode(0xFF), 255);
        assert_eq!(QuantDType::I8.encode(-1), 0xFF);
        assert_eq!(QuantDType::I8.encode(-300), 0x80);
        assert_eq!(QuantDType::U8.encode(300), 0xFF);
        assert_eq!(QuantDType::U8.encode(-5), 0);
        for dtype in QuantDType::ALL {
            for byte in 0..=255u8 {
                assert_eq!(dtype.encode(dtype.decode(byte)), byte);
            }
        }
    }
}
