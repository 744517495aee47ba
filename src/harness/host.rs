//! Facts about the machine a run was measured on.
//!
//! Collected from `sysinfo` and, on Linux, from `/proc/cpuinfo` and sysfs (cpufreq and
//! DMI). The proc and sys roots are parameters ([`HostRoots`]) so tests can point them at
//! a temporary tree.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The `rustc --version` actprof was built with (captured by `build.rs`).
pub const RUSTC_VERSION: &str = env!("ACTPROF_RUSTC_VERSION");

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
    /// Instruction set the int8 kernels dispatched to (`avx512vbmi`, `avx2`, `scalar`).
    pub quant_isa: String,
    /// Warnings that make timings less trustworthy (frequency scaling on, VM, ...).
    pub warnings: Vec<String>,
}

/// Where the kernel's proc and sys file systems are mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRoots {
    pub proc: PathBuf,
    pub sys: PathBuf,
}

impl Default for HostRoots {
    fn default() -> Self {
        HostRoots {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }
}

impl HostFacts {
    /// Collects the facts of this machine.
    pub fn collect() -> HostFacts {
        HostFacts::collect_from(&HostRoots::default(), cpuid_hypervisor())
    }

    /// Collects the facts with proc/sys under `roots`; `cpuid_hypervisor` is the vendor
    /// signature from CPUID leaf 0x4000_0000, when the CPU reports one.
    pub fn collect_from(roots: &HostRoots, cpuid_hypervisor: Option<String>) -> HostFacts {
        let cpuinfo = fs::read_to_string(roots.proc.join("cpuinfo")).unwrap_or_default();
        let cpu0 = roots.sys.join("devices/system/cpu/cpu0/cpufreq");
        let system = sysinfo::System::new_with_specifics(
            sysinfo::RefreshKind::nothing()
                .with_memory(sysinfo::MemoryRefreshKind::nothing().with_ram())
                .with_cpu(sysinfo::CpuRefreshKind::nothing().with_frequency()),
        )
        .ok();
        let governor = governor(&roots.sys);
        let virtualization = virtualization(&cpuinfo, &roots.sys, cpuid_hypervisor);
        let mut facts = HostFacts {
            cpu_model: cpuinfo_field(&cpuinfo, "model name")
                .or_else(|| {
                    system
                        .as_ref()?
                        .cpus()
                        .first()
                        .map(|c| c.brand().to_owned())
                })
                .unwrap_or_else(|| "unknown CPU".to_owned()),
            physical_cores: sysinfo::System::physical_core_count().ok(),
            logical_cores: std::thread::available_parallelism().map_or(1, usize::from),
            base_mhz: read_khz(&cpu0.join("base_frequency"))
                .or_else(|| read_khz(&cpu0.join("cpuinfo_max_freq")))
                .or_else(|| cpuinfo_mhz(&cpuinfo)),
            current_mhz: read_khz(&cpu0.join("scaling_cur_freq"))
                .or_else(|| cpuinfo_mhz(&cpuinfo))
                .or_else(|| system.as_ref()?.cpus().first().map(sysinfo::Cpu::frequency)),
            os: sysinfo::System::long_os_version()
                .unwrap_or_else(|_| std::env::consts::OS.to_owned()),
            kernel: sysinfo::System::kernel_version().unwrap_or_default(),
            memory_bytes: system.as_ref().map_or(0, sysinfo::System::total_memory),
            governor,
            virtualization,
            actprof_version: env!("CARGO_PKG_VERSION").to_owned(),
            rustc_version: RUSTC_VERSION.to_owned(),
            kernel_isa: crate::kernels::dispatched_isa().name().to_owned(),
            quant_isa: crate::kernels::int8::QuantIsa::detect().name().to_owned(),
            warnings: Vec::new(),
        };
        facts.warnings = facts.timing_warnings();
        facts
    }

    /// Why timings on this host may be less trustworthy.
    fn timing_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(governor) = &self.governor
            && governor != "performance"
        {
            warnings.push(format!(
                "CPU frequency scaling is enabled (governor `{governor}`): timings may drift \
                 with the clock; select the `performance` governor for stable numbers"
            ));
        }
        if let Some(hypervisor) = &self.virtualization {
            warnings.push(format!(
                "running in a virtual machine ({hypervisor}): its CPUs are shared with the \
                 host and other guests, so timings can be noisy and slower than bare metal"
            ));
        }
        warnings
    }
}

/// The value of the first `key : value` line of `/proc/cpuinfo`.
fn cpuinfo_field(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}

/// `cpu MHz` of the first processor, rounded to whole MHz.
fn cpuinfo_mhz(cpuinfo: &str) -> Option<u64> {
    let mhz: f64 = cpuinfo_field(cpuinfo, "cpu MHz")?.parse().ok()?;
    (mhz.is_finite() && mhz > 0.0).then(|| mhz.round() as u64)
}

/// A cpufreq file (kHz) in MHz.
fn read_khz(path: &Path) -> Option<u64> {
    let khz: u64 = fs::read_to_string(path).ok()?.trim().parse().ok()?;
    (khz > 0).then_some(khz / 1000)
}

/// The scaling governors of all CPUs, comma-joined when they differ.
fn governor(sys: &Path) -> Option<String> {
    let cpus = fs::read_dir(sys.join("devices/system/cpu")).ok()?;
    let governors: BTreeSet<String> = cpus
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.strip_prefix("cpu")
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter_map(|entry| fs::read_to_string(entry.path().join("cpufreq/scaling_governor")).ok())
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    (!governors.is_empty()).then(|| governors.into_iter().collect::<Vec<_>>().join(","))
}

/// The hypervisor's name, when the CPU or the firmware says we run in a VM.
fn virtualization(cpuinfo: &str, sys: &Path, cpuid_hypervisor: Option<String>) -> Option<String> {
    let flagged = cpuinfo_field(cpuinfo, "flags")
        .is_some_and(|flags| flags.split_whitespace().any(|f| f == "hypervisor"));
    let dmi = |file: &str| {
        let text = fs::read_to_string(sys.join("class/dmi/id").join(file)).ok()?;
        known_hypervisor(&text)
    };
    let named = cpuid_hypervisor
        .as_deref()
        .and_then(known_hypervisor)
        .or_else(|| dmi("sys_vendor"))
        .or_else(|| dmi("product_name"));
    match (named, flagged) {
        (Some(name), _) => Some(name.to_owned()),
        (None, true) => Some("unknown hypervisor".to_owned()),
        (None, false) => None,
    }
}

/// Maps a CPUID signature or DMI vendor/product string to a hypervisor name.
fn known_hypervisor(text: &str) -> Option<&'static str> {
    let text = text.trim().to_ascii_lowercase();
    [
        ("kvm", "KVM"),
        ("qemu", "QEMU"),
        ("microsoft", "Hyper-V"),
        ("vmware", "VMware"),
        ("xen", "Xen"),
        ("virtualbox", "VirtualBox"),
        ("vbox", "VirtualBox"),
        ("amazon ec2", "Amazon EC2"),
        ("google compute engine", "Google Compute Engine"),
        ("tcgtcg", "QEMU (TCG)"),
        ("acrn", "ACRN"),
        ("bhyve", "bhyve"),
    ]
    .iter()
    .find(|(needle, _)| text.contains(needle))
    .map(|&(_, name)| name)
}

/// The 12-byte hypervisor vendor signature of CPUID leaf 0x4000_0000 (e.g. `KVMKVMKVM`).
#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor() -> Option<String> {
    use std::arch::x86_64::__cpuid;

    // Leaf 1, ECX bit 31: "running under a hypervisor"; only then is leaf 0x4000_0000
    // defined.
    if __cpuid(1).ecx & (1 << 31) == 0 {
        return None;
    }
    let leaf = __cpuid(0x4000_0000);
    let bytes: Vec<u8> = [leaf.ebx, leaf.ecx, leaf.edx]
        .iter()
        .flat_map(|r| r.to_le_bytes())
        .filter(|&b| b != 0)
        .collect();
    String::from_utf8(bytes).ok()
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_hypervisor() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    fn tree(cpuinfo: &str) -> (tempfile::TempDir, HostRoots) {
        let dir = tempfile::tempdir().expect("tempdir");
        let roots = HostRoots {
            proc: dir.path().join("proc"),
            sys: dir.path().join("sys"),
        };
        write(&roots.proc, "cpuinfo", cpuinfo);
        fs::create_dir_all(roots.sys.join("devices/system/cpu")).expect("mkdir");
        (dir, roots)
    }

    const BARE_METAL: &str = "processor\t: 0\nmodel name\t: Test CPU 9000\n\
                              cpu MHz\t\t: 2400.400\nflags\t\t: fpu sse avx2\n";

    #[test]
    fn powersave_governor_warns_and_sysfs_frequencies_win() {
        let (_dir, roots) = tree(BARE_METAL);
        for cpu in ["cpu0", "cpu1"] {
            write(
                &roots.sys,
                &format!("devices/system/cpu/{cpu}/cpufreq/scaling_governor"),
                "powersave\n",
            );
        }
        write(
            &roots.sys,
            "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
            "3500000\n",
        );
        write(
            &roots.sys,
            "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq",
            "1200000\n",
        );
        let facts = HostFacts::collect_from(&roots, None);
        assert_eq!(facts.cpu_model, "Test CPU 9000");
        assert_eq!(facts.governor.as_deref(), Some("powersave"));
        assert_eq!(facts.base_mhz, Some(3500));
        assert_eq!(facts.current_mhz, Some(1200));
        assert_eq!(facts.virtualization, None);
        assert_eq!(facts.warnings.len(), 1);
        assert!(
            facts.warnings[0].contains("frequency scaling"),
            "{:?}",
            facts.warnings
        );
    }

    #[test]
    fn performance_governor_on_bare_metal_gives_no_warning() {
        let (_dir, roots) = tree(BARE_METAL);
        write(
            &roots.sys,
            "devices/system/cpu/cpu0/cpufreq/scaling_governor",
            "performance\n",
        );
        write(
            &roots.sys,
            "devices/system/cpu/cpu0/cpufreq/base_frequency",
            "2100000\n",
        );
        let facts = HostFacts::collect_from(&roots, None);
        assert_eq!(facts.governor.as_deref(), Some("performance"));
        assert_eq!(facts.base_mhz, Some(2100));
        assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
    }

    #[test]
    fn mixed_governors_are_all_listed() {
        let (_dir, roots) = tree(BARE_METAL);
        write(
            &roots.sys,
            "devices/system/cpu/cpu0/cpufreq/scaling_governor",
            "performance\n",
        );
        write(
            &roots.sys,
            "devices/system/cpu/cpu1/cpufreq/scaling_governor",
            "schedutil\n",
        );
        let facts = HostFacts::collect_from(&roots, None);
        assert_eq!(facts.governor.as_deref(), Some("performance,schedutil"));
        assert_eq!(facts.warnings.len(), 1);
    }

    #[test]
    fn virtual_machines_are_named_from_cpuid_or_dmi() {
        let vm_cpuinfo = "model name\t: AMD EPYC\ncpu MHz\t\t: 2596.128\n\
                          flags\t\t: fpu hypervisor avx2\n";
        let (_dir, roots) = tree(vm_cpuinfo);
        let facts = HostFacts::collect_from(&roots, Some("KVMKVMKVM".to_owned()));
        assert_eq!(facts.virtualization.as_deref(), Some("KVM"));
        assert_eq!(facts.governor, None);
        // No cpufreq: both frequencies come from /proc/cpuinfo's `cpu MHz`.
        assert_eq!(
            (facts.base_mhz, facts.current_mhz),
            (Some(2596), Some(2596))
        );
        assert_eq!(facts.warnings.len(), 1);
        assert!(
            facts.warnings[0].contains("virtual machine (KVM)"),
            "{:?}",
            facts.warnings
        );

        write(&roots.sys, "class/dmi/id/sys_vendor", "QEMU\n");
        let facts = HostFacts::collect_from(&roots, None);
        assert_eq!(facts.virtualization.as_deref(), Some("QEMU"));

        fs::remove_file(roots.sys.join("class/dmi/id/sys_vendor")).expect("rm");
        let facts = HostFacts::collect_from(&roots, None);
        assert_eq!(facts.virtualization.as_deref(), Some("unknown hypervisor"));
    }

    #[test]
    fn collect_on_this_machine_fills_the_basics() {
        let facts = HostFacts::collect();
        assert!(!facts.cpu_model.is_empty());
        assert!(facts.logical_cores >= 1);
        assert_eq!(facts.actprof_version, env!("CARGO_PKG_VERSION"));
        assert!(
            facts.rustc_version.starts_with("rustc "),
            "{}",
            facts.rustc_version
        );
    }
}
