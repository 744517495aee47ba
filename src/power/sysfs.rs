//! Reading small sysfs attribute files, with the error mapping every backend shares.
//!
//! Reads go through the [`SysfsReader`] trait so tests can inject the errors a real
//! kernel gives (tests run as root, where file modes do not stop reads).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::PowerError;

/// Reads one sysfs attribute file as text.
pub trait SysfsReader: Send {
    /// The file's whole contents.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl SysfsReader for RealFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }
}

/// Maps an I/O error on `path` to a [`PowerError`]: `permission denied` gets the RAPL
/// advice, anything else is a plain read error.
pub fn read_error(path: &Path, err: io::Error) -> PowerError {
    match err.kind() {
        io::ErrorKind::PermissionDenied => PowerError::NotPermitted {
            path: path.to_owned(),
        },
        _ => PowerError::Read {
            path: path.to_owned(),
            source: err,
        },
    }
}

/// Reads a file holding one trimmed line of text.
pub fn read_text(reader: &dyn SysfsReader, path: &Path) -> Result<String, PowerError> {
    reader
        .read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|err| read_error(path, err))
}

/// Reads a file holding one unsigned decimal integer.
pub fn read_u64(reader: &dyn SysfsReader, path: &Path) -> Result<u64, PowerError> {
    let text = read_text(reader, path)?;
    text.parse().map_err(|_| PowerError::Parse {
        expected: "an unsigned integer",
        text,
        path: PathBuf::from(path),
    })
}

/// Reads a file holding one signed decimal integer (power-supply currents may be negative).
pub fn read_i64(reader: &dyn SysfsReader, path: &Path) -> Result<i64, PowerError> {
    let text = read_text(reader, path)?;
    text.parse().map_err(|_| PowerError::Parse {
        expected: "an integer",
        text,
        path: PathBuf::from(path),
    })
}
