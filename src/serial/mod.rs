//! Serial transport shared by boards and meters: the [`Link`] trait, an exclusive serial
//! port ([`open_port`]), a pseudo-terminal pair for emulators ([`pty::open_pty`]) and port
//! discovery ([`ports`]).
//!
//! A [`Link`] reads with a timeout and tells a quiet port (`Ok(0)`) from a gone one
//! ([`SerialError::Disconnected`]), so no reader can spin on a closed port.

pub mod ports;
pub mod pty;

use std::io::{self, Read as _, Write as _};
use std::time::Duration;

use serialport::{ClearBuffer, SerialPort as _, TTYPort};

pub use pty::{PtyHold, open_pty};

/// Timeout of one write: a port that takes longer to accept bytes is stuck.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A byte pipe to a device: a serial port, a Bluetooth RFCOMM tty, or a pty end.
pub trait Link: Send {
    /// The port's path, for messages (e.g. `/dev/pts/3`).
    fn name(&self) -> &str;

    /// Writes all of `bytes` (waits at most [`WRITE_TIMEOUT`]).
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), SerialError>;

    /// Waits up to `timeout` for bytes; returns how many were read, `Ok(0)` = timed out
    /// with nothing. A closed or hung-up port (POLLHUP, EOF, broken pipe, EIO) is
    /// [`SerialError::Disconnected`], never `Ok(0)`.
    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, SerialError>;

    /// Drops whatever is buffered in the input direction.
    fn discard_input(&mut self) -> Result<(), SerialError>;

    /// Whether [`Link::write_all`] also waits until the bytes have left (on by default).
    /// On a real port that is the UART sending them; on either end of a pty it is the
    /// other side *reading* them, which a relay between two ptys must not wait for.
    fn set_write_drain(&mut self, drain: bool) {
        let _ = drain;
    }
}

/// Why a serial port could not be opened, read or written. Messages end with the port.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    /// The port does not exist.
    #[error(
        "no such serial port (unplugged? for Bluetooth meters bind it first with \
         `rfcomm bind`; `actprof ports` lists the ports here): {port}"
    )]
    NotFound { port: String },

    /// This user may not open the port.
    #[error(
        "permission denied opening the serial port (add yourself to the `dialout` group, \
         then log in again): {port}"
    )]
    NotPermitted { port: String },

    /// Another program holds the port open exclusively.
    #[error("the serial port is in use by another program (close it and retry): {port}")]
    Busy { port: String },

    /// Any other failure to open or configure the port.
    #[error("cannot open the serial port ({reason}): {port}")]
    Open { port: String, reason: String },

    /// The port went away: cable pulled, meter switched off, or the other end closed.
    #[error("the serial port disconnected ({what}): {port}")]
    Disconnected { port: String, what: String },

    /// A read, write or flush failed for another reason.
    #[error("cannot {action} the serial port: {port}")]
    Io {
        action: &'static str,
        port: String,
        #[source]
        source: io::Error,
    },

    /// No pseudo-terminal could be created.
    #[error("cannot create a pseudo-terminal ({reason})")]
    Pty { reason: String },

    /// The system's port list could not be read.
    #[error("cannot list the serial ports ({reason})")]
    List { reason: String },
}

impl SerialError {
    /// True when the port is gone (as opposed to quiet, busy or misconfigured).
    pub fn is_disconnect(&self) -> bool {
        matches!(self, SerialError::Disconnected { .. })
    }
}

/// Opens the serial port at `path` at `baud` (8N1, no flow control), exclusively: a
/// second program (or a second actprof) cannot open it meanwhile.
pub fn open_port(path: &str, baud: u32) -> Result<Box<dyn Link>, SerialError> {
    let mut port = serialport::new(path, baud)
        .timeout(Duration::from_millis(100))
        .open_native()
        .map_err(|err| open_error(path, &err))?;
    port.set_exclusive(true)
        .map_err(|err| open_error(path, &err))?;
    let mut link = PortLink::new(path.to_owned(), port);
    link.discard_input()?;
    tracing::debug!("opened serial port {path} at {baud} baud");
    Ok(Box::new(link))
}

fn open_error(path: &str, err: &serialport::Error) -> SerialError {
    let port = path.to_owned();
    match err.kind() {
        serialport::ErrorKind::NoDevice => {
            if std::path::Path::new(path).exists() {
                SerialError::Busy { port }
            } else {
                SerialError::NotFound { port }
            }
        }
        serialport::ErrorKind::Io(io::ErrorKind::NotFound) => SerialError::NotFound { port },
        serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied) => {
            SerialError::NotPermitted { port }
        }
        serialport::ErrorKind::Io(io::ErrorKind::ResourceBusy) => SerialError::Busy { port },
        _ if err.description.contains("Device or resource busy") => SerialError::Busy { port },
        _ => SerialError::Open {
            port,
            reason: err.description.clone(),
        },
    }
}

/// A [`Link`] over a serialport [`TTYPort`] (a real port or either end of a pty).
pub(crate) struct PortLink {
    name: String,
    port: TTYPort,
    timeout: Duration,
    /// Wait for written bytes to leave (tcdrain) before `write_all` returns.
    drain: bool,
}

impl PortLink {
    pub(crate) fn new(name: String, port: TTYPort) -> PortLink {
        PortLink {
            name,
            port,
            timeout: Duration::ZERO,
            drain: true,
        }
    }

    fn disconnected(&self, what: impl Into<String>) -> SerialError {
        SerialError::Disconnected {
            port: self.name.clone(),
            what: what.into(),
        }
    }

    fn io_error(&self, action: &'static str, err: io::Error) -> SerialError {
        if is_hang_up(&err) {
            return self.disconnected(err.to_string());
        }
        SerialError::Io {
            action,
            port: self.name.clone(),
            source: err,
        }
    }
}

impl Drop for PortLink {
    fn drop(&mut self) {
        // TIOCEXCL outlives this handle while another one is open (an emulator's hold on
        // its pty), so clear it, or the next open would be refused as busy.
        let _ = self.port.set_exclusive(false);
    }
}

/// True for the errors a hung-up tty gives: POLLHUP (serialport says broken pipe), EIO
/// (a pty whose other end closed), ENXIO / ENODEV (a USB device unplugged).
fn is_hang_up(err: &io::Error) -> bool {
    const EIO: i32 = 5;
    const ENXIO: i32 = 6;
    const ENODEV: i32 = 19;
    matches!(
        err.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
    ) || matches!(err.raw_os_error(), Some(EIO | ENXIO | ENODEV))
        || err.to_string().contains("Input/output error")
}

impl Link for PortLink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), SerialError> {
        if self.timeout != WRITE_TIMEOUT {
            self.port
                .set_timeout(WRITE_TIMEOUT)
                .map_err(|err| self.io_error("configure", err.into()))?;
            self.timeout = WRITE_TIMEOUT;
        }
        let drain = self.drain;
        self.port
            .write_all(bytes)
            .and_then(|()| if drain { self.port.flush() } else { Ok(()) })
            .map_err(|err| match err.kind() {
                io::ErrorKind::TimedOut => self.disconnected("a write timed out"),
                _ => self.io_error("write to", err),
            })
    }

    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, SerialError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.timeout != timeout {
            self.port
                .set_timeout(timeout)
                .map_err(|err| self.io_error("configure", err.into()))?;
            self.timeout = timeout;
        }
        match self.port.read(buf) {
            // A tty read that returns nothing after poll said "readable" is end of file.
            Ok(0) => Err(self.disconnected("end of file")),
            Ok(count) => Ok(count),
            Err(err) if matches!(err.kind(), io::ErrorKind::TimedOut) => Ok(0),
            Err(err) if matches!(err.kind(), io::ErrorKind::Interrupted) => Ok(0),
            Err(err) => Err(self.io_error("read from", err)),
        }
    }

    fn set_write_drain(&mut self, drain: bool) {
        self.drain = drain;
    }

    fn discard_input(&mut self) -> Result<(), SerialError> {
        let Err(err) = self.port.clear(ClearBuffer::Input) else {
            return Ok(());
        };
        // serialport drops the errno of a failed tcflush (a hung-up pty's EIO comes back
        // as a bare "I/O error"), so let a read tell a hang-up apart, as it does for
        // reads; what it takes was to be discarded anyway.
        let mut scratch = [0u8; 64];
        match self.read_some(&mut scratch, Duration::ZERO) {
            Err(hung_up) if hung_up.is_disconnect() => Err(hung_up),
            _ => Err(self.io_error("flush", err.into())),
        }
    }
}

/// Formats bytes as spaced lowercase hex for TRACE logs and messages.
pub fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 3);
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 {
            text.push(' ');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn hex_is_spaced_lowercase() {
        assert_eq!(hex(&[0x09, 0xc9, 0xff]), "09 c9 ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn a_missing_port_is_named() {
        let err = open_port("/dev/actprof-no-such-port", 9600)
            .err()
            .expect("refused");
        assert!(matches!(err, SerialError::NotFound { .. }), "{err:?}");
        assert!(
            err.to_string().ends_with("/dev/actprof-no-such-port"),
            "{err}"
        );
    }

    #[test]
    fn bytes_cross_a_pty_both_ways() {
        let (mut master, _hold, slave_path) = open_pty().expect("pty");
        let mut client = open_port(&slave_path, 9600).expect("opens the slave");
        assert_eq!(client.name(), slave_path);

        client.write_all(b"getva").expect("client writes");
        let mut got = Vec::new();
        let mut buf = [0u8; 16];
        let deadline = Instant::now() + Duration::from_secs(2);
        while got.len() < 5 && Instant::now() < deadline {
            let count = master
                .read_some(&mut buf, Duration::from_millis(100))
                .expect("master reads");
            got.extend_from_slice(&buf[..count]);
        }
        assert_eq!(got, b"getva");

        master
            .write_all(&[0xf0, 0x00, 0xff])
            .expect("master writes");
        let mut got = Vec::new();
        while got.len() < 3 && Instant::now() < deadline {
            let count = client
                .read_some(&mut buf, Duration::from_millis(100))
                .expect("client reads");
            got.extend_from_slice(&buf[..count]);
        }
        assert_eq!(got, [0xf0, 0x00, 0xff]);
    }

    #[test]
    fn a_quiet_port_times_out_with_nothing() {
        let (_master, _hold, slave_path) = open_pty().expect("pty");
        let mut client = open_port(&slave_path, 9600).expect("opens");
        let started = Instant::now();
        let count = client
            .read_some(&mut [0u8; 8], Duration::from_millis(50))
            .expect("quiet is not an error");
        assert_eq!(count, 0);
        assert!(started.elapsed() >= Duration::from_millis(40));
    }

    #[test]
    fn a_closed_pty_is_a_disconnect_not_a_quiet_port() {
        let (master, hold, slave_path) = open_pty().expect("pty");
        let mut client = open_port(&slave_path, 9600).expect("opens");
        drop(master);
        drop(hold);
        let started = Instant::now();
        let err = client
            .read_some(&mut [0u8; 8], Duration::from_millis(500))
            .expect_err("hung up");
        assert!(err.is_disconnect(), "{err:?}");
        assert!(err.to_string().ends_with(&slave_path), "{err}");
        // Every later read says the same at once, so a reader cannot spin on it.
        let again = client.read_some(&mut [0u8; 8], Duration::from_millis(500));
        assert!(again.is_err_and(|err| err.is_disconnect()));
        assert!(started.elapsed() < Duration::from_millis(900));
    }

    #[test]
    fn discarding_input_on_a_hung_up_pty_is_a_disconnect() {
        // The reader's end: the emulator (the master) went away.
        let (master, hold, slave_path) = open_pty().expect("pty");
        let mut client = open_port(&slave_path, 9600).expect("opens");
        drop(master);
        drop(hold);
        let err = client.discard_input().expect_err("hung up");
        assert!(err.is_disconnect(), "{err:?}");
        assert!(err.to_string().ends_with(&slave_path), "{err}");

        // The emulator's end, once every handle on the slave side was closed: Linux
        // flushes a master whose slave hung up without complaint, and never with an I/O
        // error; the next read says it is a disconnect.
        let (mut master, hold, slave_path) = open_pty().expect("pty");
        let client = open_port(&slave_path, 9600).expect("opens");
        drop(client);
        drop(hold);
        if let Err(err) = master.discard_input() {
            assert!(err.is_disconnect(), "{err:?}");
        }
        let read = master.read_some(&mut [0u8; 8], Duration::from_millis(100));
        assert!(read.is_err_and(|err| err.is_disconnect()));
    }

    #[test]
    fn a_port_is_exclusive_while_open_and_free_again_after() {
        let (_master, _hold, slave_path) = open_pty().expect("pty");
        let first = open_port(&slave_path, 9600).expect("opens");
        let err = open_port(&slave_path, 9600)
            .err()
            .expect("second open refused");
        assert!(matches!(err, SerialError::Busy { .. }), "{err:?}");
        assert!(
            err.to_string().contains("in use by another program"),
            "{err}"
        );
        drop(first);
        open_port(&slave_path, 9600).expect("opens again after the first closed");
    }
}
