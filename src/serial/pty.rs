//! Pseudo-terminal pairs: an emulator speaks on the master end, and readers open the
//! slave path exactly like a real serial port.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;

use serialport::{SerialPort as _, TTYPort};

use super::{Link, PortLink, SerialError};

/// Keeps the slave end of a pty open while it lives.
///
/// Without it the master sees a hang-up (POLLHUP) until a client opens the slave, and
/// again whenever a client closes it; holding the slave keeps the master usable across
/// clients, the way a real device outlives its host's connections.
///
/// It is a plain file handle, not a serial port: it takes no lock, so a client can still
/// open the slave exclusively.
pub struct PtyHold {
    _slave: File,
}

/// Creates a pty pair: the master as a [`Link`], the hold on the slave, and the slave's
/// path (e.g. `/dev/pts/3`) for clients to open.
pub fn open_pty() -> Result<(Box<dyn Link>, PtyHold, String), SerialError> {
    let (master, slave) = TTYPort::pair().map_err(|err| SerialError::Pty {
        reason: err.description.clone(),
    })?;
    let slave_path = slave.name().ok_or_else(|| SerialError::Pty {
        reason: "the slave end has no path".to_owned(),
    })?;
    // serialport's slave handle holds an exclusive flock and TIOCEXCL, which would lock
    // clients out. Hold the slave through a lock-free handle instead (the raw mode that
    // `pair` set stays with the tty while any handle is open), then drop serialport's.
    let hold = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&slave_path)
        .map_err(|err| SerialError::Pty {
            reason: format!("cannot hold {slave_path} open: {err}"),
        })?;
    let mut slave = slave;
    slave.set_exclusive(false).map_err(|err| SerialError::Pty {
        reason: err.description.clone(),
    })?;
    drop(slave);
    let name = format!("pty master of {slave_path}");
    tracing::debug!("created a pty; clients open {slave_path}");
    let link = PortLink::new(name, master);
    Ok((Box::new(link), PtyHold { _slave: hold }, slave_path))
}
