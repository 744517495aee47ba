//! int8 and uint8 activations as 256-entry lookup tables.
//!
//! A table maps every input byte to the output byte of the exact definition
//! `clamp(round(f(in_scale · (q − in_zp)) / out_scale) + out_zp, qmin, qmax)`, evaluated in
//! f64 with `libm` and rounded half away from zero. It is built once per request, untimed;
//! the timed kernel is the table lookup. actprof's exact quantized reference is defined the
//! same way and in the same forms (see `reference`), so the checksums match.

use crate::kernels::Kernel;

/// The storage of a quantized code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QDType {
    /// Signed 8-bit codes, −128 to 127, stored in two's complement.
    I8,
    /// Unsigned 8-bit codes, 0 to 255.
    U8,
}

impl QDType {
    /// The protocol's name: `i8` or `u8`.
    pub fn name(self) -> &'static str {
        match self {
            QDType::I8 => "i8",
            QDType::U8 => "u8",
        }
    }

    /// The dtype called `name`, if any.
    pub fn from_name(name: &str) -> Option<QDType> {
        match name {
            "i8" => Some(QDType::I8),
            "u8" => Some(QDType::U8),
            _ => None,
        }
    }

    /// The smallest code.
    pub fn qmin(self) -> i32 {
        match self {
            QDType::I8 => -128,
            QDType::U8 => 0,
        }
    }

    /// The largest code.
    pub fn qmax(self) -> i32 {
        match self {
            QDType::I8 => 127,
            QDType::U8 => 255,
        }
    }

    /// The code a stored byte holds.
    pub fn decode(self, byte: u8) -> i32 {
        match self {
            QDType::I8 => i32::from(byte as i8),
            QDType::U8 => i32::from(byte),
        }
    }

    /// The byte that stores `code` (assumed within `qmin..=qmax`; only the low 8 bits count).
    pub fn encode(self, code: i32) -> u8 {
        code as u8
    }
}

/// The quantization of a kernel's input and output: `real = scale · (code − zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    /// Real units per input code step (finite, > 0).
    pub in_scale: f32,
    /// The input code of real 0.
    pub in_zp: i32,
    /// Real units per output code step (finite, > 0).
    pub out_scale: f32,
    /// The output code of real 0.
    pub out_zp: i32,
}

/// `√(2/π)` in f64, as actprof's reference has it.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

/// The cubic coefficient of the tanh-form GELU.
const GELU_TANH_CUBIC: f64 = 0.044_715;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// The f64 function, in the same forms as actprof's `kernels::reference`.
fn reference(kernel: Kernel, p: f64, x: f64) -> f64 {
    match kernel {
        Kernel::Relu => {
            if x > 0.0 {
                x
            } else {
                0.0
            }
        }
        Kernel::LeakyRelu => {
            if x > 0.0 {
                x
            } else {
                p * x
            }
        }
        Kernel::Sigmoid => sigmoid(x),
        Kernel::Tanh => libm::tanh(x),
        Kernel::Gelu => x * (0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)),
        Kernel::GeluTanh => {
            let z = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
            x * sigmoid(2.0 * z)
        }
        Kernel::Swish => {
            if p == 0.0 {
                0.5 * x
            } else {
                x * sigmoid(p * x)
            }
        }
    }
}

/// The output code of input code `code` under the definition (see the module doc).
fn output_code(kernel: Kernel, p: f32, dtype: QDType, q: &Quant, code: i32) -> i32 {
    let x = f64::from(q.in_scale) * f64::from(code - q.in_zp);
    let y = reference(kernel, f64::from(p), x);
    let steps = libm::round(y / f64::from(q.out_scale)) + f64::from(q.out_zp);
    // Clamping in f64 saturates infinities too; the cast of the clamped value is exact.
    let lo = f64::from(dtype.qmin());
    let hi = f64::from(dtype.qmax());
    let clamped = if steps < lo {
        lo
    } else if steps > hi {
        hi
    } else {
        steps
    };
    clamped as i32
}

/// The table of `kernel` (parameter `p`) for `dtype` and `q`: entry `b` is the output byte
/// for input byte `b`.
pub fn build_table(kernel: Kernel, p: f32, dtype: QDType, q: &Quant) -> [u8; 256] {
    let mut table = [0; 256];
    for (byte, entry) in (0..=u8::MAX).zip(table.iter_mut()) {
        *entry = dtype.encode(output_code(kernel, p, dtype, q, dtype.decode(byte)));
    }
    table
}

/// Looks every input byte up in `table`; the shorter slice sets the count.
pub fn apply_table(table: &[u8; 256], input: &[u8], output: &mut [u8]) {
    for (out, &byte) in output.iter_mut().zip(input) {
        *out = table[usize::from(byte)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quant(dtype: QDType, out_scale: f32, out_span_below_zero: i32) -> Quant {
        Quant {
            in_scale: 1.0 / 16.0,
            in_zp: dtype.qmin() + 128,
            out_scale,
            out_zp: dtype.qmin() + out_span_below_zero,
        }
    }

    #[test]
    fn relu_table_with_equal_quantization_is_max_with_the_zero_point() {
        for dtype in [QDType::I8, QDType::U8] {
            let q = quant(dtype, 1.0 / 16.0, 128);
            let table = build_table(Kernel::Relu, 0.0, dtype, &q);
            for byte in 0..=255_u8 {
                let code = dtype.decode(byte);
                assert_eq!(dtype.decode(table[usize::from(byte)]), code.max(q.in_zp));
            }
        }
    }

    #[test]
    fn sigmoid_and_tanh_tables_hit_known_codes() {
        // sigmoid(0) = 0.5 → 128 steps of 1/256 above −128: code 0.
        let q = quant(QDType::I8, 1.0 / 256.0, 0);
        let table = build_table(Kernel::Sigmoid, 0.0, QDType::I8, &q);
        assert_eq!(table[0], 0);
        // sigmoid(7.9375) = 0.99964 → 255.9 steps → 128 → clamped to 127.
        assert_eq!(table[127] as i8, 127);
        // tanh(−8) = −0.99999977 → −128.0 steps: code −128.
        let q = quant(QDType::I8, 1.0 / 128.0, 128);
        let table = build_table(Kernel::Tanh, 0.0, QDType::I8, &q);
        assert_eq!(table[0x80] as i8, -128);
        // tanh(1/16) = 0.0624187 → 7.9896 steps → 8.
        assert_eq!(table[1], 8);
    }

    #[test]
    fn halves_round_away_from_zero() {
        // Identity-like leaky ReLU with alpha 1: x = code/16, output step 1/8, so odd codes
        // land on halves: 1/16 → 0.5 step → 1, −1/16 → −0.5 → −1.
        let q = Quant {
            in_scale: 1.0 / 16.0,
            in_zp: 0,
            out_scale: 1.0 / 8.0,
            out_zp: 0,
        };
        let table = build_table(Kernel::LeakyRelu, 1.0, QDType::I8, &q);
        assert_eq!(table[1] as i8, 1);
        assert_eq!(table[0xFF] as i8, -1);
        assert_eq!(table[3] as i8, 2);
    }

    #[test]
    fn tables_match_the_same_definition_with_std_functions() {
        // actprof's host reference calls std's exp and tanh; a libm result one ulp away could
        // only change a code at an exact rounding tie. Check the default quantizations.
        let std_reference = |kernel: Kernel, p: f64, x: f64| -> f64 {
            let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
            match kernel {
                Kernel::Sigmoid => sigmoid(x),
                Kernel::Tanh => x.tanh(),
                Kernel::GeluTanh => {
                    let z = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
                    x * sigmoid(2.0 * z)
                }
                Kernel::Swish => x * sigmoid(p * x),
                _ => reference(kernel, p, x),
            }
        };
        for kernel in Kernel::ALL {
            for dtype in [QDType::I8, QDType::U8] {
                let q = quant(dtype, 1.0 / 30.0, 15);
                let p = kernel.default_param();
                let table = build_table(kernel, p, dtype, &q);
                for byte in 0..=255_u8 {
                    let x = f64::from(q.in_scale) * f64::from(dtype.decode(byte) - q.in_zp);
                    let y = std_reference(kernel, f64::from(p), x);
                    let code = ((y / f64::from(q.out_scale)).round() + f64::from(q.out_zp))
                        .clamp(f64::from(dtype.qmin()), f64::from(dtype.qmax()));
                    assert_eq!(table[usize::from(byte)], dtype.encode(code as i32));
                }
            }
        }
    }

    #[test]
    fn apply_table_looks_up_each_byte() {
        let mut table = [0_u8; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            *entry = (255 - i) as u8;
        }
        let mut out = [0_u8; 3];
        apply_table(&table, &[0, 7, 255], &mut out);
        assert_eq!(out, [255, 248, 0]);
    }

    #[test]
    fn dtype_names_round_trip() {
        for dtype in [QDType::I8, QDType::U8] {
            assert_eq!(QDType::from_name(dtype.name()), Some(dtype));
        }
        assert_eq!(QDType::from_name("f32"), None);
    }
}
