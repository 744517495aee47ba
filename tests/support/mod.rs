//! Test fixtures shared by end-to-end tests: a written powercap tree standing in for RAPL.
//! Everything measured from it is a fixture, not a measurement of this machine.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A powercap tree with one package zone whose µJ counter a thread raises at a constant
/// power until dropped.
pub struct FakeRapl {
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    writer: Option<thread::JoinHandle<()>>,
}

impl FakeRapl {
    /// Starts the counter rising at `power_w` W (= µJ per µs).
    pub fn start(power_w: u64) -> FakeRapl {
        let dir = tempfile::tempdir().expect("temp dir");
        let zone = dir.path().join("intel-rapl:0");
        fs::create_dir_all(&zone).expect("zone");
        fs::write(zone.join("name"), "package-0\n").expect("name");
        fs::write(zone.join("max_energy_range_uj"), "262143328850\n").expect("range");
        fs::write(zone.join("energy_uj"), "1000\n").expect("energy");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let writer = thread::spawn(move || {
            let start = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let energy_uj = 1000 + power_w * start.elapsed().as_micros() as u64;
                // Write beside and rename, so a reader never sees a half-written number.
                let temporary = zone.join("energy_uj.tmp");
                fs::write(&temporary, format!("{energy_uj}\n")).expect("write counter");
                fs::rename(&temporary, zone.join("energy_uj")).expect("rename counter");
                thread::sleep(Duration::from_millis(1));
            }
        });
        FakeRapl {
            dir,
            stop,
            writer: Some(writer),
        }
    }

    /// The root to pass as `ACTPROF_POWERCAP_ROOT`.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for FakeRapl {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}
