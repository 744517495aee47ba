//! The Joulescope UI's statistics CSV ("Record statistics", the multimeter view).
//!
//! # Format
//!
//! The first line is `#time,current,voltage,power,charge,energy` (a leading `#`, no
//! spaces, no units); the units are s, A, V, W, C and J. Each row holds the time with as
//! many decimals as the statistics rate needs and five `%g` values; time, charge and
//! energy are relative to the first row, current, voltage and power are means over the
//! statistics interval (2 Hz by default, up to 100 Hz). Dropped samples are NaN. For
//! example, at 2 Hz: `0.0,0.399422,4.74572,1.89553,0,0` then
//! `0.5,0.400691,4.74479,1.90114,0.200345,0.950568`. (`protocols.md` §4.2, from the
//! Joulescope UI's recorder and a user script.)
//!
//! The file's `energy` column is the instrument's own integral over every sample it
//! took, finer than any integral of the averaged rows, so when it is there the trace is
//! an energy-counter trace: the energy of a window is the difference of the counter at
//! its ends, and a skipped NaN row cannot corrupt it. Without the column, power is
//! integrated as for any power source. Time that falls back (pyjoulescope_ui#291) is
//! flagged and re-placed as the module doc of [`super`] says; the energy column, which
//! keeps counting, stays valid across it.

use super::table::{Columns, Field, Reader, for_each_row};
use super::{ImportError, ImportFormat, Output, SourceFacts, printed_step};
use crate::power::{PowerSample, Quantity};

/// Reads the rows into `out`.
pub fn read(reader: &mut Reader, out: &mut Output<'_>) -> Result<SourceFacts, ImportError> {
    let path = out.path().to_owned();
    let columns = Columns::read(reader, &path)?;
    let time = columns.require(ImportFormat::Joulescope, "time", &path)?;
    let current = columns.find(&["current"]);
    let voltage = columns.find(&["voltage"]);
    let power = columns.find(&["power"]);
    let energy = columns.find(&["energy"]);
    if power.is_none() && (current.is_none() || voltage.is_none()) {
        return Err(columns.missing(ImportFormat::Joulescope, "power", &path));
    }
    let optional = |row: &super::table::Row<'_>, column: Option<usize>| match column {
        Some(index) => row.number(index).map(|field| match field {
            Field::Value(value) => Some(value),
            Field::Missing => None,
        }),
        None => Ok(None),
    };
    for_each_row(reader, &columns, &path, |row| {
        out.row();
        let Field::Value(t_s) = row.number(time)? else {
            out.skip(row.line);
            return Ok(());
        };
        let current_a = optional(row, current)?;
        let voltage_v = optional(row, voltage)?;
        let energy_j = optional(row, energy)?;
        let power_w = match (optional(row, power)?, current_a, voltage_v) {
            (Some(power_w), _, _) => Some(power_w),
            (None, Some(i), Some(v)) => Some(i * v),
            _ => None,
        };
        let (Some(power_w), true) = (power_w, energy.is_none() || energy_j.is_some()) else {
            out.skip(row.line);
            return Ok(());
        };
        if let Some(step) = power.and_then(|index| printed_step(row.text(index))) {
            out.power_step(step);
        }
        out.sample(
            row.line,
            PowerSample {
                t_s,
                power_w,
                current_a,
                voltage_v,
                energy_j,
                logic: None,
            },
        )
    })?;
    let (quantity, description) = match (energy, current, voltage) {
        (Some(_), _, _) => (
            Quantity::EnergyCounter,
            "the file's energy column (J since its first row), power averaged per row",
        ),
        (None, Some(_), Some(_)) => (Quantity::CurrentVoltage, "current and voltage per row"),
        _ => (Quantity::Power, "power averaged per row"),
    };
    Ok(SourceFacts {
        quantity,
        description: description.to_owned(),
    })
}
