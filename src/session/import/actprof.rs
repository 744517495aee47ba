//! actprof's own trace CSV: `time_s,power_w` plus `current_a,voltage_v` and `energy_j`
//! when the source measures them, and `logic` (the digital inputs D0–D7 as a number
//! 0–255, bit `n` = `Dn`) when it has them (`record --out`, `import --out`, the Power
//! tab's export and a session's `trace.csv`, whose header is
//! [`TRACE_HEADER`](crate::session::journal::TRACE_HEADER)). Empty cells are what the
//! source does not measure; traces written before the `logic` column existed read as
//! they did.

use super::table::{Columns, Field, Reader, Row, for_each_row};
use super::{ImportError, ImportFormat, Output, SourceFacts, printed_step};
use crate::power::{PowerSample, Quantity};

/// Reads the rows into `out`.
pub fn read(reader: &mut Reader, out: &mut Output<'_>) -> Result<SourceFacts, ImportError> {
    let path = out.path().to_owned();
    let columns = Columns::read(reader, &path)?;
    let time = columns.require(ImportFormat::Actprof, "time_s", &path)?;
    let power = columns.require(ImportFormat::Actprof, "power_w", &path)?;
    let current = columns.find(&["current_a"]);
    let voltage = columns.find(&["voltage_v"]);
    let energy = columns.find(&["energy_j"]);
    let logic = columns.find(&["logic"]);
    let optional = |row: &Row<'_>, column: Option<usize>| match column {
        Some(index) => row.number(index).map(|field| match field {
            Field::Value(value) => Some(value),
            Field::Missing => None,
        }),
        None => Ok(None),
    };
    let logic_byte = |row: &Row<'_>| -> Result<Option<u8>, ImportError> {
        let Some(index) = logic else {
            return Ok(None);
        };
        let text = row.text(index);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u8>()
            .map(Some)
            .map_err(|_| row.error(index, "not a logic byte (0–255)"))
    };
    let (mut all_energy, mut all_electrical) = (true, true);
    for_each_row(reader, &columns, &path, |row| {
        out.row();
        let (Field::Value(t_s), Field::Value(power_w)) = (row.number(time)?, row.number(power)?)
        else {
            out.skip(row.line);
            return Ok(());
        };
        let sample = PowerSample {
            t_s,
            power_w,
            current_a: optional(row, current)?,
            voltage_v: optional(row, voltage)?,
            energy_j: optional(row, energy)?,
            logic: logic_byte(row)?,
        };
        all_energy &= sample.energy_j.is_some();
        all_electrical &= sample.current_a.is_some() && sample.voltage_v.is_some();
        if let Some(step) = printed_step(row.text(power)) {
            out.power_step(step);
        }
        out.sample(row.line, sample)
    })?;
    let (quantity, description) = if all_energy {
        (Quantity::EnergyCounter, "energy counter")
    } else if all_electrical {
        (Quantity::CurrentVoltage, "current and voltage")
    } else {
        (Quantity::Power, "power")
    };
    Ok(SourceFacts {
        quantity,
        description: description.to_owned(),
    })
}
