//! Facts about the machine a run was measured on.

use serde::{Deserialize, Serialize};

/// Host facts recorded with every run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub cpu_model: String,
    pub physical_cores: Option<usize>,
    pub logical_cores: usize,
    pub base_mhz: Option<u64>,
    pub current_mhz: Option<u64>,
    pub os: String,
    pub kernel: String,
    pub memory_bytes: u64,
    /// cpufreq scaling governor, when the kernel exposes one.
    pub governor: Option<String>,
    /// Hypervisor name when running in a virtual machine.
    pub virtualization: Option<String>,
    pub actprof_version: String,
    pub rustc_version: String,
    /// Instruction set the f32 kernels dispatched to (e.g. `avx512`, `avx2+fma`, `scalar`).
    pub kernel_isa: String,
    /// Warnings that make timings less trustworthy (frequency scaling on, VM, ...).
    pub warnings: Vec<String>,
}
