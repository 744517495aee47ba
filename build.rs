//! Records the compiler version so reports say which rustc built the kernels.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(
            || "rustc (version unknown)".to_owned(),
            |v| v.trim().to_owned(),
        );
    println!("cargo:rustc-env=ACTPROF_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
