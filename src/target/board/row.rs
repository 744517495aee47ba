//! The report row of a board cell: the local row's columns, with the board and firmware as
//! the `target`, the firmware's kernels as the `kernel_isa`, what the ticks count as the
//! `timing`, and the median cycles per call when the board has a cycle counter.

use super::protocol::BoardInfo;
use super::runner::BoardCell;
use super::{target_name, timing_label};
use crate::harness::HostFacts;
use crate::report::Row;

/// The `kernel_isa` of a board's f32 rows: the firmware's portable kernels.
pub const BOARD_F32_ISA: &str = "fw-core scalar";

/// The `kernel_isa` of a board's i8/u8 rows: the firmware's 256-entry tables.
pub const BOARD_QUANT_ISA: &str = "fw-core table";

/// The report row of `cell`, measured on the board `info` describes, in the run that
/// started at `started` (RFC 3339, UTC). `host` is the machine that drove the board.
pub fn board_row(cell: &BoardCell, info: &BoardInfo, host: &HostFacts, started: &str) -> Row {
    let mut row = Row::from_cell(&cell.result, host, started, &target_name(info));
    row.kernel_isa = if cell.result.spec.quant.is_some() {
        BOARD_QUANT_ISA
    } else {
        BOARD_F32_ISA
    }
    .to_owned();
    row.timing = Some(timing_label(info));
    row.median_cycles_per_call = cell.median_cycles;
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::stats::{Sample, Summary};
    use crate::harness::{CellResult, CellSpec};
    use crate::kernels::Activation;
    use crate::target::board::TIMING_QEMU;

    fn info(emulated: bool) -> BoardInfo {
        BoardInfo {
            proto: 1,
            firmware: "actprof-fw/0.1.0".to_owned(),
            board: "qemu-mps2-an386".to_owned(),
            timer_hz: 1_000_000_000,
            emulated,
            cycles: false,
        }
    }

    fn cell(median_cycles: Option<f64>) -> BoardCell {
        let sample = Sample::new(vec![2000.0, 2010.0, 1990.0]).expect("a valid sample");
        BoardCell {
            result: CellResult {
                spec: CellSpec::f32(Activation::Tanh, 256, 1),
                iterations_per_sample: 4,
                threads_used: 1,
                summary: Summary::from_sample(&sample, 7),
                max_ulp_error: 1.5,
                max_abs_error: 1e-7,
                max_lsb_error: None,
                seed: 7,
                span: None,
            },
            median_cycles,
        }
    }

    #[test]
    fn rows_name_the_board_its_timing_and_the_firmware_kernels() {
        let host = HostFacts::default();
        let row = board_row(&cell(None), &info(true), &host, "2026-12-04T10:00:00Z");
        assert_eq!(row.target, "board:qemu-mps2-an386 actprof-fw/0.1.0");
        assert_eq!(row.timing.as_deref(), Some(TIMING_QEMU));
        assert_eq!(row.kernel_isa, BOARD_F32_ISA);
        assert_eq!(row.median_ns, 2000.0);
        assert_eq!(row.median_cycles_per_call, None);

        let real = board_row(&cell(Some(1234.5)), &info(false), &host, "");
        assert_eq!(real.timing.as_deref(), Some("board timer at 1000000000 Hz"));
        assert_eq!(real.median_cycles_per_call, Some(1234.5));
    }
}
