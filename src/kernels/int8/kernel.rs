//! A quantized activation kernel, built once per (activation, dtype, parameters, method)
//! and applied to many tensors.

use std::fmt;
use std::str::FromStr;

use super::dtype::{QuantDType, QuantElement};
use super::error::{QuantError, Side};
use super::fixed_point::FixedPointLeaky;
use super::isa::QuantIsa;
use super::params::{QuantParams, format_quant};
use super::reference::build_table;
use super::{lut, relu};
use crate::kernels::activation::Activation;

/// How a quantized kernel computes its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantMethod {
    /// `max(q, zp)`: ReLU with identical input and output parameters. Exact.
    Max,
    /// A 256-entry table of the definition, built from the f64 reference. Exact (0 LSB).
    Table,
    /// Integer multipliers chosen by the sign of `q − zp_in` (Leaky ReLU and ReLU only).
    /// At most 1 LSB from the definition.
    FixedPoint,
}

impl QuantMethod {
    /// Every method.
    pub const ALL: [QuantMethod; 3] = [
        QuantMethod::Max,
        QuantMethod::Table,
        QuantMethod::FixedPoint,
    ];

    /// The stable name: `max`, `table` or `fixed_point`.
    pub fn name(self) -> &'static str {
        match self {
            QuantMethod::Max => "max",
            QuantMethod::Table => "table",
            QuantMethod::FixedPoint => "fixed_point",
        }
    }

    /// The method used when none is asked for: `max` for ReLU with identical input and
    /// output parameters, `table` otherwise.
    pub fn default_for(activation: Activation, input: QuantParams, output: QuantParams) -> Self {
        if activation == Activation::Relu && input.same_mapping(&output) {
            QuantMethod::Max
        } else {
            QuantMethod::Table
        }
    }
}

impl fmt::Display for QuantMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuantMethod {
    type Err = QuantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        QuantMethod::ALL
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| QuantError::UnknownMethod(s.to_owned()))
    }
}

/// What the kernel runs: its precomputed state per method.
#[derive(Clone, Debug)]
enum Engine {
    Max { floor: u8 },
    Table(Box<[u8; 256]>),
    FixedPoint(FixedPointLeaky),
}

/// A quantized activation kernel: validated parameters, precomputed table or multipliers,
/// and the instruction set it runs on.
#[derive(Clone, Debug)]
pub struct QuantizedKernel {
    activation: Activation,
    dtype: QuantDType,
    input: QuantParams,
    output: QuantParams,
    method: QuantMethod,
    isa: QuantIsa,
    engine: Engine,
}

impl QuantizedKernel {
    /// Builds the kernel with the default method ([`QuantMethod::default_for`]) on the
    /// fastest instruction set of this CPU.
    pub fn new(
        activation: Activation,
        dtype: QuantDType,
        input: QuantParams,
        output: QuantParams,
    ) -> Result<Self, QuantError> {
        let method = QuantMethod::default_for(activation, input, output);
        QuantizedKernel::with_method(activation, dtype, input, output, method)
    }

    /// Builds the kernel with `method` on the fastest instruction set of this CPU.
    ///
    /// Refuses invalid parameters, a non-finite alpha or beta, `max` unless the activation is
    /// ReLU with identical input and output parameters, and `fixed_point` for anything but ReLU
    /// and Leaky ReLU.
    pub fn with_method(
        activation: Activation,
        dtype: QuantDType,
        input: QuantParams,
        output: QuantParams,
        method: QuantMethod,
    ) -> Result<Self, QuantError> {
        input.validate(dtype, Side::Input)?;
        output.validate(dtype, Side::Output)?;
        let parameter = match activation {
            Activation::LeakyRelu { alpha } => alpha,
            Activation::Swish { beta } => beta,
            _ => 0.0,
        };
        if !parameter.is_finite() {
            return Err(QuantError::NonFiniteParameter(activation.spec()));
        }
        let not_applicable = |reason| QuantError::MethodNotApplicable {
            method: method.name(),
            activation: activation.spec(),
            reason,
        };
        let engine = match (method, activation) {
            (QuantMethod::Max, Activation::Relu) if input.same_mapping(&output) => Engine::Max {
                floor: dtype.encode(input.zero_point),
            },
            (QuantMethod::Max, _) => {
                return Err(not_applicable(
                    "it needs ReLU with identical input and output scale and zero point",
                ));
            }
            (QuantMethod::Table, _) => {
                Engine::Table(Box::new(build_table(activation, input, output, dtype)))
            }
            (QuantMethod::FixedPoint, Activation::Relu) => {
                Engine::FixedPoint(FixedPointLeaky::new(0.0, input, output, dtype))
            }
            (QuantMethod::FixedPoint, Activation::LeakyRelu { alpha }) => {
                Engine::FixedPoint(FixedPointLeaky::new(alpha, input, output, dtype))
            }
            (QuantMethod::FixedPoint, _) => {
                return Err(not_applicable("it only computes ReLU and Leaky ReLU"));
            }
        };
        let isa = QuantIsa::detect();
        tracing::debug!(
            activation = %activation,
            %dtype,
            quant = %format_quant(input, output),
            %method,
            %isa,
            "built quantized kernel"
        );
        Ok(QuantizedKernel {
            activation,
            dtype,
            input,
            output,
            method,
            isa,
            engine,
        })
    }

    /// The same kernel on another instruction set, refused if this CPU lacks it.
    pub fn on_isa(mut self, isa: QuantIsa) -> Result<Self, QuantError> {
        if !isa.is_available() {
            return Err(QuantError::IsaUnavailable(isa));
        }
        self.isa = isa;
        Ok(self)
    }

    /// The activation computed.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The element type read and written.
    pub fn dtype(&self) -> QuantDType {
        self.dtype
    }

    /// The input tensor's parameters.
    pub fn input(&self) -> QuantParams {
        self.input
    }

    /// The output tensor's parameters.
    pub fn output(&self) -> QuantParams {
        self.output
    }

    /// How the outputs are computed.
    pub fn method(&self) -> QuantMethod {
        self.method
    }

    /// The instruction set used.
    pub fn isa(&self) -> QuantIsa {
        self.isa
    }

    /// The lookup table (input byte → output byte) when the method is `table`.
    pub fn table(&self) -> Option<&[u8; 256]> {
        match &self.engine {
            Engine::Table(table) => Some(table),
            _ => None,
        }
    }

    /// Computes `output[i] = kernel(input[i])`; the element type must be the kernel's dtype
    /// and the lengths equal.
    pub fn apply<T: QuantElement>(&self, input: &[T], output: &mut [T]) -> Result<(), QuantError> {
        self.check_dtype::<T>()?;
        self.apply_bytes(as_bytes(input), as_bytes_mut(output))
    }

    /// Computes `data[i] = kernel(data[i])` in place; the element type must be the kernel's.
    pub fn apply_in_place<T: QuantElement>(&self, data: &mut [T]) -> Result<(), QuantError> {
        self.check_dtype::<T>()?;
        let bytes = as_bytes_mut(data);
        // SAFETY: source and destination are the same valid range of `bytes.len()` bytes.
        unsafe { self.run(bytes.as_ptr(), bytes.as_mut_ptr(), bytes.len()) };
        Ok(())
    }

    /// Like [`QuantizedKernel::apply`] on raw bytes, read and written as the kernel's dtype
    /// stores its codes (two's complement for i8).
    pub fn apply_bytes(&self, input: &[u8], output: &mut [u8]) -> Result<(), QuantError> {
        if input.len() != output.len() {
            return Err(QuantError::LengthMismatch {
                input: input.len(),
                output: output.len(),
            });
        }
        // SAFETY: both slices hold `input.len()` bytes, and a shared and a mutable borrow
        // cannot overlap.
        unsafe { self.run(input.as_ptr(), output.as_mut_ptr(), input.len()) };
        Ok(())
    }

    /// The output code for one input code (saturated to the dtype's codes first), computed
    /// by the same arithmetic as the bulk path.
    pub fn eval_code(&self, q_in: i32) -> i32 {
        let byte = [self.dtype.encode(q_in)];
        let mut out = [0];
        // SAFETY: one readable byte and one writable byte, disjoint.
        unsafe { self.run(byte.as_ptr(), out.as_mut_ptr(), 1) };
        self.dtype.decode(out[0])
    }

    fn check_dtype<T: QuantElement>(&self) -> Result<(), QuantError> {
        if T::DTYPE == self.dtype {
            Ok(())
        } else {
            Err(QuantError::DTypeMismatch {
                kernel: self.dtype,
                data: T::DTYPE,
            })
        }
    }

    /// # Safety
    /// `src` must be valid for reading and `dst` for writing `len` bytes, the two ranges
    /// identical or disjoint.
    unsafe fn run(&self, src: *const u8, dst: *mut u8, len: usize) {
        // SAFETY: the caller guarantees the ranges; `self.isa` was checked available when it
        // was chosen (`detect` or `on_isa`).
        unsafe {
            match &self.engine {
                Engine::Max { floor } => {
                    relu::max_floor(*floor, self.dtype, src, dst, len, self.isa)
                }
                Engine::Table(table) => lut::lookup(table, src, dst, len, self.isa),
                Engine::FixedPoint(leaky) => leaky.run(self.dtype, src, dst, len, self.isa),
            }
        }
    }
}

fn as_bytes<T: QuantElement>(data: &[T]) -> &[u8] {
    // SAFETY: `QuantElement` is sealed to i8 and u8, which have the size and alignment of u8
    // and no invalid bit patterns; the view borrows `data` for its lifetime.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), data.len()) }
}

fn as_bytes_mut<T: QuantElement>(data: &mut [T]) -> &mut [u8] {
    // SAFETY: as `as_bytes`; every byte written is a valid i8 or u8.
    unsafe { std::slice::from_raw_parts_mut(data.as_mut_ptr().cast(), data.len()) }
}
