//! Puts `memory.x` where cortex-m-rt's `link.x` finds it, and links with `link.x`, so no
//! `.cargo/config.toml` is needed to build.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    // The same firmware built for ARMv6-M (soft float, no DWT) runs on the M4 model too:
    // it checks the soft-float kernels end to end.
    println!("cargo:rustc-check-cfg=cfg(armv6m)");
    if env::var("TARGET").is_ok_and(|target| target.starts_with("thumbv6m")) {
        println!("cargo:rustc-cfg=armv6m");
    }
    // Only bare-metal builds link the vector table and memory map (clippy on the host and
    // `cargo metadata` never link).
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x copied to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg=-Tlink.x");
}
