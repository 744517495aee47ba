//! Output files that a command writes when it ends, checked before it starts: a report
//! path in a folder that does not exist should fail in a second, not after a long run.

use std::fs::{self, OpenOptions};
use std::path::Path;

use anyhow::Context as _;

/// Checks that `path` can be written: its folder exists and the file can be created or
/// opened for writing. Nothing is left behind: an existing file is opened for appending
/// and left unchanged, and a file created by the check is removed again.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    let existed = path.exists();
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot write the output file {}", path.display()))?;
    if !existed && let Err(err) = fs::remove_file(path) {
        tracing::warn!(
            "could not remove the empty {} left by the check: {err}",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_or_a_folder_is_refused_and_a_new_file_is_not_left() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("no/such/dir/r.csv");
        let err = check_writable(&missing).expect_err("missing folder");
        assert!(format!("{err:#}").contains("no/such/dir/r.csv"), "{err:#}");
        assert!(
            check_writable(dir.path()).is_err(),
            "a folder is not a file"
        );

        let new = dir.path().join("r.csv");
        check_writable(&new).expect("writable");
        assert!(!new.exists(), "the check leaves nothing behind");

        fs::write(&new, "kept").expect("write");
        check_writable(&new).expect("writable");
        assert_eq!(fs::read_to_string(&new).expect("read"), "kept");
    }
}
