//! Boards running the actprof firmware (`firmware/`), over a serial port: the protocol of
//! `docs/board-protocol.md` ([`protocol`]), one conversation with a board ([`client`]),
//! what the host expects the board to compute ([`expected`]), and running a plan's cells
//! on it ([`runner`]) and the report rows of its cells ([`row`]); the QEMU board
//! ([`qemu`]) and a fault-injecting relay to it ([`relay`]).

pub mod client;
pub mod expected;
pub mod protocol;
pub mod qemu;
pub mod relay;
pub mod row;
pub mod runner;

pub use client::{BoardClient, BoardError, DEFAULT_LINE_TIMEOUT};
pub use protocol::BoardInfo;
pub use row::{BOARD_F32_ISA, BOARD_QUANT_ISA, board_row};
pub use runner::{BoardCell, BoardOutcome, SkippedCell, run_plan_on_board};

/// What the timing of a board's rows is, as the report's `timing` column and every view
/// state it: emulated boards count QEMU's virtual time, never a real chip's.
pub fn timing_label(info: &BoardInfo) -> String {
    if info.emulated {
        TIMING_QEMU.to_owned()
    } else {
        format!("board timer at {} Hz", info.timer_hz)
    }
}

/// The timing label of an emulated (QEMU) board.
pub const TIMING_QEMU: &str = "QEMU instruction count, not real-chip cycles";

/// The `target` column of a board's rows: the board and its firmware.
pub fn target_name(info: &BoardInfo) -> String {
    format!("board:{} {}", info.board, info.firmware)
}
