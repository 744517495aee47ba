//! rd-usb's CSV export (a web app that logs RDTech UM24C/UM25C/UM34C/TC66C meters).
//!
//! # Format
//!
//! From rd-usb's source (`kolinger/rd-usb`, `webapp/index.py` writes the export with
//! Python's `csv.writer`, header from `utils/formatting.py` `export_fields` /
//! `field_names`): the header is
//!
//! ```text
//! Time,Voltage (V),Current (A),Power (W),Temperature (°C),Data+ (V),Data- (V),
//! Resistance (Ω),Accumulated current (mAh),Accumulated power (mWh),
//! Accumulated time (seconds),Run time,Run time (seconds),Unix time,
//! Zerod accumulated current (mAh),Zerod accumulated power (mWh),
//! Zerod accumulated time (seconds)
//! ```
//!
//! (one line in the file; older versions write fewer columns). `Time` is local time as
//! `YYYY-MM-DD HH:mm:ss`, `Unix time` the stored timestamp in s; voltage, current and power
//! are the meter's readings in V, A and W. The meter answers about 1–3 times a second, so
//! the trace is coarse.
//!
//! Time comes from `Unix time` when the column is there (finer, no daylight-saving
//! steps), otherwise from `Time`. Power is the `Power (W)` column, else voltage × current.
//! The accumulated mWh counter is not used: its 1 mWh (3.6 J) step is far coarser than
//! integrating power.

use chrono::NaiveDateTime;

use super::table::{Columns, Field, Reader, Row, for_each_row};
use super::{ImportError, ImportFormat, Output, SourceFacts, printed_step};
use crate::power::{PowerSample, Quantity};

/// rd-usb's `Time` column format (pendulum's `YYYY-MM-DD HH:mm:ss`).
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// How a row's time is read.
#[derive(Clone, Copy)]
enum TimeColumn {
    Unix(usize),
    Local(usize),
}

/// Reads the rows into `out`.
pub fn read(reader: &mut Reader, out: &mut Output<'_>) -> Result<SourceFacts, ImportError> {
    let path = out.path().to_owned();
    let columns = Columns::read(reader, &path)?;
    let time = match columns.find(&["Unix time"]) {
        Some(index) => TimeColumn::Unix(index),
        None => TimeColumn::Local(columns.require(ImportFormat::RdUsb, "Time", &path)?),
    };
    let voltage = columns.require(ImportFormat::RdUsb, "Voltage (V)", &path)?;
    let current = columns.require(ImportFormat::RdUsb, "Current (A)", &path)?;
    let power = columns.find(&["Power (W)"]);
    for_each_row(reader, &columns, &path, |row| {
        out.row();
        let (Some(t_s), Field::Value(voltage_v), Field::Value(current_a)) = (
            row_time(row, time)?,
            row.number(voltage)?,
            row.number(current)?,
        ) else {
            out.skip(row.line);
            return Ok(());
        };
        let power_w = match power.map(|index| row.number(index)).transpose()? {
            Some(Field::Value(power_w)) => power_w,
            Some(Field::Missing) => {
                out.skip(row.line);
                return Ok(());
            }
            None => voltage_v * current_a,
        };
        if let Some(step) = power.and_then(|index| printed_step(row.text(index))) {
            out.power_step(step);
        }
        out.sample(
            row.line,
            PowerSample {
                t_s,
                power_w,
                current_a: Some(current_a),
                voltage_v: Some(voltage_v),
                energy_j: None,
                logic: None,
            },
        )
    })?;
    Ok(SourceFacts {
        quantity: Quantity::CurrentVoltage,
        description: "RDTech meter voltage and current via rd-usb".to_owned(),
    })
}

/// The row's time in s, `None` when empty.
fn row_time(row: &Row<'_>, time: TimeColumn) -> Result<Option<f64>, ImportError> {
    match time {
        TimeColumn::Unix(index) => Ok(match row.number(index)? {
            Field::Value(t_s) => Some(t_s),
            Field::Missing => None,
        }),
        TimeColumn::Local(index) => {
            let text = row.text(index);
            if text.is_empty() {
                return Ok(None);
            }
            let parsed = NaiveDateTime::parse_from_str(text, TIME_FORMAT)
                .map_err(|_| row.error(index, "not a time like `2024-01-31 13:45:00`"))?;
            // Only differences matter; the local zone cancels out.
            Ok(Some(parsed.and_utc().timestamp() as f64))
        }
    }
}
