//! `actprof bench --target board:PORT[@BAUD]`: the plan's cells on a board running the
//! actprof firmware, which times itself (`docs/board-protocol.md`).
//!
//! The board is identified first (a port that does not answer `hello` is an error before
//! anything runs). Cells it cannot run are listed as skipped, with the reason, on standard
//! error; the finished cells are printed and written like local ones, with `target`
//! naming the board and firmware and `timing` saying what the ticks count. A board that
//! resets, stops answering or goes away mid-run ends the run with an error naming the port
//! and the last command; the cells finished before it are still printed and written.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::bail;

use super::args::{BenchArgs, Format};
use super::bench::{finish, install_ctrl_c_after, plan_of, print_results};
use super::progress::Progress;
use crate::harness::HostFacts;
use crate::report::Row;
use crate::serial::open_port;
use crate::target::PortSpec;
use crate::target::board::{
    BoardClient, DEFAULT_LINE_TIMEOUT, board_row, run_plan_on_board, timing_label,
};

/// Runs `actprof bench --target board:…`.
pub fn run(args: &BenchArgs, port: &PortSpec) -> anyhow::Result<ExitCode> {
    let plan = plan_of(args)?;
    if plan.power.is_some() {
        bail!(
            "--power cannot be combined with a board target yet: record the board's supply \
             with `actprof record --power …` while the bench runs"
        );
    }
    let link = open_port(&port.port, port.baud_or_default())?;
    let timeout = args.board_timeout.unwrap_or(DEFAULT_LINE_TIMEOUT);
    let mut client = BoardClient::connect(link, &port.port, timeout)?;
    eprint!("{}", board_summary(&client));

    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c_after(&cancel, "the current cell (the board finishes it first)");
    let host = HostFacts::collect();
    let started_at_utc = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut progress = Progress::new();
    let outcome = run_plan_on_board(&mut client, &plan, &cancel, &mut |event| {
        progress.on_event(&event);
    });
    progress.finish();

    let info = client.info().clone();
    let rows: Vec<Row> = outcome
        .cells
        .iter()
        .map(|cell| board_row(cell, &info, &host, &started_at_utc))
        .collect();
    let results: Vec<_> = outcome.cells.iter().map(|c| c.result.clone()).collect();
    if !results.is_empty() {
        if args.format == Format::Table {
            // The table's "ns" are whatever the board's timer counts: say which.
            println!("times: {}", timing_label(&info));
        }
        print_results(args.format, &results, &rows)?;
    }
    if !outcome.skipped.is_empty() {
        // Each was named, with its reason, in a warning as the run went.
        eprintln!("{} cell(s) skipped (reasons above)", outcome.skipped.len());
    }
    let skipped = client.skipped();
    if skipped != Default::default() {
        eprintln!(
            "lines ignored from the board: {} over-long, {} garbage, {} echoes, {} stale",
            skipped.overlong, skipped.garbage, skipped.echoes, skipped.stale
        );
    }
    if let Some(err) = outcome.error {
        if let Some(path) = &args.out {
            crate::report::write_file(path, &rows)?;
            eprintln!(
                "report written to {} ({} finished cells)",
                path.display(),
                rows.len()
            );
        }
        return Err(anyhow::Error::new(err).context(format!(
            "the board run stopped after {} finished cell(s)",
            rows.len()
        )));
    }
    if rows.is_empty() && !outcome.cancelled {
        bail!(
            "no cell of the plan could run on the board ({} skipped, reasons above)",
            outcome.skipped.len()
        );
    }
    let code = finish(args, &plan, &rows, rows.len(), outcome.cancelled)?;
    if outcome.mismatches > 0 {
        bail!(
            "{} cell(s) failed the output check: the board's results do not match the host's \
             reference (see above)",
            outcome.mismatches
        );
    }
    Ok(code)
}

/// What is known of the board before the run, for standard error.
fn board_summary(client: &BoardClient) -> String {
    let (info, caps, port) = (client.info(), client.caps(), client.port());
    format!(
        "board: {} ({}) on {port}, protocol {}\n\
         timing: {} (timer {} Hz{})\n\
         board kernels: {}; dtypes {}; at most {} elements\n",
        info.board,
        info.firmware,
        info.proto,
        timing_label(info),
        info.timer_hz,
        if info.cycles { ", cycle counter" } else { "" },
        caps.kernels.join(","),
        caps.dtypes.join(","),
        caps.max_elements,
    )
}
