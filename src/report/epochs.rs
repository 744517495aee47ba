//! The per-epoch CSV of `actprof train-demo`: one row per activation × learning rate ×
//! epoch, in the same tidy format as the reports (header first, `,` separated, `.`
//! decimals, `\n` line ends, shortest round-trip numbers), so `pandas.read_csv` reads it
//! as-is.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::csv::{ReportError, malformed};
use crate::csv_lines::LineIndex;
use crate::models::train::TrainRun;

/// The columns of the per-epoch CSV, in order.
pub const EPOCH_COLUMNS: [&str; 8] = [
    "activation",
    "params",
    "lr",
    "epoch",
    "loss",
    "accuracy",
    "dead_fraction",
    "seed",
];

/// The state of one training run after one epoch (epoch 0: before training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// Stable activation name (`relu`, `leaky_relu`, ...).
    pub activation: String,
    /// The activation's parameters (`alpha=0.01`), empty when none.
    pub params: String,
    /// Learning rate of the SGD updates.
    pub lr: f32,
    pub epoch: u32,
    /// Mean softmax cross-entropy over the training set, in nats.
    pub loss: f64,
    /// Share of training points classified correctly, in [0, 1].
    pub accuracy: f64,
    /// Share of hidden units that are dead, in [0, 1] (`models::train`).
    pub dead_fraction: f64,
    /// Seed of the data, the weights and the shuffling.
    pub seed: u64,
}

/// Writes the header and `rows` as CSV to `writer`; `path` names it in errors.
pub fn write_epochs<W: Write>(writer: W, rows: &[EpochRow], path: &str) -> Result<(), ReportError> {
    let write_error = |error: ::csv::Error| ReportError::Write {
        path: path.to_owned(),
        source: io::Error::other(error),
    };
    let mut csv_writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(writer);
    if rows.is_empty() {
        csv_writer
            .write_record(EPOCH_COLUMNS)
            .map_err(write_error)?;
    }
    for row in rows {
        csv_writer.serialize(row).map_err(write_error)?;
    }
    csv_writer.flush().map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Writes `rows` to a new file at `path`, replacing any file there.
pub fn write_epochs_file(path: &Path, rows: &[EpochRow]) -> Result<(), ReportError> {
    let name = path.display().to_string();
    let file = File::create(path).map_err(|source| ReportError::Write {
        path: name.clone(),
        source,
    })?;
    write_epochs(BufWriter::new(file), rows, &name)
}

/// Reads a per-epoch CSV back (by column name; the row and line of a bad record named).
pub fn read_epochs_file(path: &Path) -> Result<Vec<EpochRow>, ReportError> {
    let name = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| ReportError::Read {
        path: name.clone(),
        source,
    })?;
    let mut lines = LineIndex::new(&text);
    let mut reader = ::csv::Reader::from_reader(text.as_slice());
    let mut rows = Vec::new();
    for (index, record) in reader.deserialize().enumerate() {
        let row: EpochRow =
            record.map_err(|error| malformed(&name, index as u64 + 1, &mut lines, &error))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Every epoch of every run as CSV rows.
pub fn epoch_rows(runs: &[TrainRun], seed: u64) -> Vec<EpochRow> {
    runs.iter()
        .flat_map(|run| {
            run.records.iter().map(move |record| EpochRow {
                activation: run.activation.name().to_owned(),
                params: run.activation.params(),
                lr: run.learning_rate,
                epoch: u32::try_from(record.epoch).unwrap_or(u32::MAX),
                loss: record.loss,
                accuracy: record.accuracy,
                dead_fraction: record.dead_fraction,
                seed,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> EpochRow {
        EpochRow {
            activation: "leaky_relu".to_owned(),
            params: "alpha=0.01".to_owned(),
            lr: 0.5,
            epoch: 3,
            loss: 0.25,
            accuracy: 0.875,
            dead_fraction: 0.0,
            seed: 7,
        }
    }

    #[test]
    fn header_and_one_row_are_pinned() {
        let mut bytes = Vec::new();
        write_epochs(&mut bytes, &[row()], "memory").expect("writes");
        assert_eq!(
            String::from_utf8(bytes).expect("utf-8"),
            "activation,params,lr,epoch,loss,accuracy,dead_fraction,seed\n\
             leaky_relu,alpha=0.01,0.5,3,0.25,0.875,0.0,7\n"
        );
        let mut empty = Vec::new();
        write_epochs(&mut empty, &[], "memory").expect("writes");
        assert_eq!(empty, format!("{}\n", EPOCH_COLUMNS.join(",")).as_bytes());
    }

    #[test]
    fn files_round_trip_and_bad_rows_are_located() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("epochs.csv");
        write_epochs_file(&path, &[row(), row()]).expect("writes");
        assert_eq!(read_epochs_file(&path).expect("reads"), [row(), row()]);

        std::fs::write(
            &path,
            "activation,params,lr,epoch,loss,accuracy,dead_fraction,seed\nrelu,,x,0,1,1,0,1\n",
        )
        .expect("writes");
        let error = read_epochs_file(&path).expect_err("lr is not a number");
        assert!(error.to_string().contains("row 1 (line 2)"), "{error}");
    }
}
