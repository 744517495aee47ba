//! Test support: the emulated DUT on a real pty, served by a thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::emulator::{self, DutEmulatorOptions};
use crate::serial::{Link, SerialError, open_port, open_pty};

/// The emulator serving a pty on a thread, stopped when dropped.
pub struct EmulatedPort {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), SerialError>>>,
}

impl EmulatedPort {
    /// Starts the emulator with `options`; the returned link was opened before it started,
    /// so it sees the boot banner.
    pub fn start(options: DutEmulatorOptions) -> (EmulatedPort, Box<dyn Link>) {
        let (mut master, hold, path) = open_pty().expect("a pty");
        let client = open_port(&path, 115_200).expect("the slave opens");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("emulated-dut".to_owned())
            .spawn(move || {
                let outcome = emulator::run(master.as_mut(), &options, &flag);
                drop(master);
                drop(hold);
                outcome
            })
            .expect("the emulator thread starts");
        let port = EmulatedPort {
            stop,
            thread: Some(thread),
        };
        (port, client)
    }

    /// Whether the emulator has ended (e.g. after its disconnect fault).
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for EmulatedPort {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads bytes from `link` until `done` holds for what was read or `timeout` passes.
pub fn read_until(link: &mut dyn Link, timeout: Duration, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !done(&got) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        match link.read_some(&mut buf, deadline - now) {
            Ok(count) => got.extend_from_slice(&buf[..count]),
            Err(_) => break,
        }
    }
    got
}

/// Whether `bytes` end with a complete `m-ready` line.
pub fn ends_ready(bytes: &[u8]) -> bool {
    bytes.ends_with(b"m-ready\r\n") || bytes.ends_with(b"m-ready\n")
}
