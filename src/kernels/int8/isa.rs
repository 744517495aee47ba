//! Which instruction set a quantized kernel runs on, detected at run time.
//!
//! This is a separate choice from the f32 kernels' [`crate::kernels::Isa`]: the table lookup
//! needs AVX-512 VBMI (`vpermt2b`) on top of AVX-512 F/BW, and its AVX2 form needs no FMA,
//! so a CPU can run one family's wide path and not the other's. Both choices are reported
//! in the host facts (`kernel_isa` and `quant_isa`).

use std::fmt;
use std::str::FromStr;

use super::error::QuantError;

/// The instruction set a quantized kernel uses. Every one gives identical bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantIsa {
    /// Plain Rust, one element at a time: runs anywhere.
    Scalar,
    /// AVX2: `vpshufb` table lookups over 16-byte sub-tables, 32 bytes per step.
    Avx2,
    /// AVX-512 F + BW + VBMI: `vpermt2b` over the whole table, 64 bytes per step.
    Avx512Vbmi,
}

impl QuantIsa {
    /// Every instruction set, slowest first.
    pub const ALL: [QuantIsa; 3] = [QuantIsa::Scalar, QuantIsa::Avx2, QuantIsa::Avx512Vbmi];

    /// The stable name: `scalar`, `avx2` or `avx512vbmi`.
    pub fn name(self) -> &'static str {
        match self {
            QuantIsa::Scalar => "scalar",
            QuantIsa::Avx2 => "avx2",
            QuantIsa::Avx512Vbmi => "avx512vbmi",
        }
    }

    /// Whether this CPU can run the instruction set.
    pub fn is_available(self) -> bool {
        match self {
            QuantIsa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            QuantIsa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            QuantIsa::Avx512Vbmi => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vbmi")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The instruction sets this CPU can run, slowest first.
    pub fn available() -> Vec<QuantIsa> {
        QuantIsa::ALL
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// The fastest instruction set this CPU can run.
    pub fn detect() -> QuantIsa {
        QuantIsa::available().pop().unwrap_or(QuantIsa::Scalar)
    }
}

impl fmt::Display for QuantIsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuantIsa {
    type Err = QuantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        QuantIsa::ALL
            .into_iter()
            .find(|isa| isa.name() == s.trim())
            .ok_or_else(|| QuantError::UnknownIsa(s.to_owned()))
    }
}
