//! The nRF Connect Power Profiler app's CSV export (PPK2, and the PPK before it).
//!
//! # Format
//!
//! From the app's source (`NordicSemiconductor/pc-nrfconnect-ppk`,
//! `src/actions/exportChartAction.ts`, and the older `exportChartAction.js`): the header
//! is the selected subset of `Timestamp(ms)`, `Current(uA)`, `D0-D7` and
//! `D0,D1,D2,D3,D4,D5,D6,D7`, joined by commas; each row holds the sample time in ms
//! (the sample index times 10 µs, divided by 1000, printed as a JavaScript number), the
//! current in µA with three decimals (`toFixed(3)`), and the digital channels as
//! characters `-`, `0`, `1` or `X`. Rows whose current is NaN are left out by the app.
//! For example:
//!
//! ```text
//! Timestamp(ms),Current(uA),D0-D7,D0,D1,D2,D3,D4,D5,D6,D7
//! 0,231.446,00000000,0,0,0,0,0,0,0,0
//! 0.01,229.841,00000000,0,0,0,0,0,0,0,0
//! ```
//!
//! The export has no voltage: power is the current times the supply voltage the caller
//! gives (the VDD set in the app in source-meter mode, or the DUT's supply in
//! ampere-meter mode). The digital channels are read from the per-channel columns
//! `D0` … `D7` into [`PowerSample::logic`] (bit `n` = `Dn`) when all eight are in the
//! header; a row where any of them is not `0` or `1` (`-` or `X`: not sampled) has no
//! logic value. The packed `D0-D7` column is not read.

use super::table::{Columns, Field, Reader, Row, for_each_row};
use super::{ImportError, ImportFormat, ImportOptions, Output, SourceFacts, printed_step};
use crate::power::{PowerSample, Quantity};

/// The app's per-channel digital columns, D0 first.
const LOGIC_COLUMNS: [&str; 8] = ["D0", "D1", "D2", "D3", "D4", "D5", "D6", "D7"];

/// The digital inputs of a row, bit `n` from the `n`-th of `channels`; `None` unless
/// every channel reads `0` or `1`.
fn logic(row: &Row<'_>, channels: &[usize]) -> Option<u8> {
    channels
        .iter()
        .enumerate()
        .try_fold(0u8, |bits, (bit, &index)| match row.text(index).trim() {
            "0" => Some(bits),
            "1" => Some(bits | 1 << bit),
            _ => None,
        })
}

/// Reads the rows into `out`.
pub fn read(
    reader: &mut Reader,
    options: &ImportOptions,
    out: &mut Output<'_>,
) -> Result<SourceFacts, ImportError> {
    let path = out.path().to_owned();
    let columns = Columns::read(reader, &path)?;
    let time = columns.require(ImportFormat::Ppk2, "Timestamp(ms)", &path)?;
    let current = columns.require(ImportFormat::Ppk2, "Current(uA)", &path)?;
    let voltage_v = options
        .voltage_v
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| ImportError::NeedsVoltage {
            format: ImportFormat::Ppk2,
            path: path.clone(),
        })?;
    let channels: Option<Vec<usize>> = LOGIC_COLUMNS
        .iter()
        .map(|name| columns.find(&[name]))
        .collect();
    for_each_row(reader, &columns, &path, |row| {
        out.row();
        let (Field::Value(t_ms), Field::Value(current_ua)) =
            (row.number(time)?, row.number(current)?)
        else {
            out.skip(row.line);
            return Ok(());
        };
        if let Some(step) = printed_step(row.text(current)) {
            out.power_step(step * 1e-6 * voltage_v);
        }
        let current_a = current_ua * 1e-6;
        out.sample(
            row.line,
            PowerSample {
                t_s: t_ms / 1000.0,
                power_w: current_a * voltage_v,
                current_a: Some(current_a),
                voltage_v: Some(voltage_v),
                energy_j: None,
                logic: channels
                    .as_deref()
                    .and_then(|channels| logic(row, channels)),
            },
        )
    })?;
    Ok(SourceFacts {
        quantity: Quantity::CurrentVoltage,
        description: format!("PPK2 current; power = current × {voltage_v} V (given)"),
    })
}
