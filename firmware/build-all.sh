#!/usr/bin/env bash
# Builds and checks all of firmware/: what CI runs. Run from anywhere; needs the rustup
# targets thumbv7em-none-eabihf, thumbv6m-none-eabi and riscv32imc-unknown-none-elf.
set -euo pipefail
cd "$(dirname "$0")"

echo "== fmt"
cargo fmt --all --check

echo "== actprof-fw-core: tests on the host"
cargo test -p actprof-fw-core
cargo clippy -p actprof-fw-core --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -q -p actprof-fw-core --no-deps

echo "== actprof-fw-mps2 (QEMU mps2-an386), and its soft-float ARMv6-M build"
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    cargo build --release -p actprof-fw-mps2 --target "$target"
    cargo clippy --release -p actprof-fw-mps2 --target "$target" -- -D warnings
done

for target in thumbv6m-none-eabi riscv32imc-unknown-none-elf thumbv7em-none-eabihf; do
    echo "== actprof-fw-check and actprof-fw-core for $target"
    cargo build --release -p actprof-fw-check --target "$target"
    cargo clippy --release -p actprof-fw-check -p actprof-fw-core --target "$target" \
        -- -D warnings
done

echo "== QEMU: every kernel and dtype against the host's checksums"
if command -v qemu-system-arm >/dev/null; then
    tools/qemu-check.sh
    N=1024 tools/qemu-check.sh target/thumbv6m-none-eabi/release/actprof-fw-mps2
else
    echo "skipped: no qemu-system-arm"
fi

echo "== firmware OK"
