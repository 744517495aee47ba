//! Prints the checksum a board must answer for a `run` request, computed on this machine.
//!
//! ```text
//! cargo run -p actprof-fw-core --example checksum -- \
//!     run kernel=tanh dtype=f32 n=1024 runs=5 warmup=1 batch=1 seed=1
//! ```
//! Takes the request's keys (an id and the word `run` may lead; `runs`, `warmup` and
//! `batch` are ignored) with `p` and the scales as f32 bit patterns in hex, as on the wire.

use actprof_fw_core::kernels::{self, Kernel};
use actprof_fw_core::quant::{self, QDType, Quant};
use actprof_fw_core::{checksum, r#gen};

fn main() -> Result<(), String> {
    let mut kernel = None;
    let (mut dtype, mut n, mut seed, mut p) = (String::new(), 0_usize, 0_u32, None);
    let mut q = Quant {
        in_scale: 1.0,
        in_zp: 0,
        out_scale: 1.0,
        out_zp: 0,
    };
    let bits = |v: &str| {
        u32::from_str_radix(v, 16)
            .map(f32::from_bits)
            .map_err(|e| e.to_string())
    };
    let int = |v: &str| v.parse::<i64>().map_err(|e| format!("{v}: {e}"));
    for arg in std::env::args().skip(1) {
        let Some((key, value)) = arg.split_once('=') else {
            continue;
        };
        match key {
            "kernel" => kernel = Some(Kernel::from_name(value).ok_or("unknown kernel")?),
            "dtype" => dtype = value.to_string(),
            "n" => n = int(value)? as usize,
            "seed" => seed = int(value)? as u32,
            "p" => p = Some(bits(value)?),
            "in_scale" => q.in_scale = bits(value)?,
            "out_scale" => q.out_scale = bits(value)?,
            "in_zp" => q.in_zp = int(value)? as i32,
            "out_zp" => q.out_zp = int(value)? as i32,
            _ => {}
        }
    }
    let kernel = kernel.ok_or("kernel= missing")?;
    let p = p.unwrap_or(kernel.default_param());
    let sum = match QDType::from_name(&dtype) {
        Some(qd) => {
            let mut input = vec![0; n];
            r#gen::fill_bytes(seed, &mut input);
            let table = quant::build_table(kernel, p, qd, &q);
            let mut output = vec![0; n];
            quant::apply_table(&table, &input, &mut output);
            checksum::fnv1a32(&output)
        }
        None => {
            let mut input = vec![0.0; n];
            r#gen::fill_f32(seed, &mut input);
            let mut output = vec![0.0; n];
            kernels::apply(kernel, p, &input, &mut output);
            checksum::of_f32(&output)
        }
    };
    println!("checksum={sum:08x}");
    Ok(())
}
