//! The portable core of actprof's board firmware.
//!
//! Everything a board runs except its hardware access: the protocol engine ([`app::App`]) of
//! `docs/board-protocol.md`, the f32 activation kernels ([`kernels`]), the int8/uint8 lookup
//! tables ([`quant`]), the input generator (`r#gen`) and the output checksum
//! ([`checksum`]). A board crate implements [`board::Board`] and calls [`app::App::boot`]
//! once and [`app::App::poll`] in its main loop.
//!
//! The crate is `no_std` without alloc, so it builds for any bare-metal target, and it builds
//! on the host too: actprof links it to reproduce a board's f32 results bit for bit. The f32
//! kernels use only IEEE-754 basic operations (no fused multiply-add, no libm, no f64), so
//! every core that rounds to nearest gives the same bits.
//!
//! Note that `gen` is a reserved word in edition 2024: the generator module is written
//! `r#gen` (`actprof_fw_core::r#gen::fill_f32`).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod app;
pub mod board;
pub mod checksum;
pub mod r#gen;
pub mod kernels;
pub mod quant;

/// The protocol version this firmware speaks (`proto=` in `hello` and `* boot`).
pub const PROTO_VERSION: u32 = 1;

/// The longest line in either direction, in bytes, terminator included.
///
/// A request may carry at most `MAX_LINE - 1` bytes before its `\n` (a `\r` just before the
/// `\n` is not counted).
pub const MAX_LINE: usize = 256;
