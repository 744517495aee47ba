#!/usr/bin/env bash
# Boots the mps2-an386 ELF in QEMU (icount shift=0) twice, runs every kernel for f32, i8 and
# u8, and checks that each checksum equals the host's (core/examples/checksum.rs) and that
# both launches counted the same ticks, give or take one (a tick is 40 instructions, and the
# phase at which a run starts within its first tick can differ by the few instructions of
# the firmware's wait loop). Prints ticks and QEMU instructions per element.
# Usage: tools/qemu-check.sh [ELF] (default: the release build); N=elements (default 4096).
set -euo pipefail
cd "$(dirname "$0")/.."
elf=${1:-target/thumbv7em-none-eabihf/release/actprof-fw-mps2}
n=${N:-4096}
requests=()
id=0
for kernel in relu leaky_relu sigmoid tanh gelu gelu_tanh swish; do
    for dtype in f32 i8 u8; do
        id=$((id + 1))
        quant=""
        [ "$dtype" = i8 ] && quant=" in_scale=3d800000 in_zp=0 out_scale=3c000000 out_zp=0"
        [ "$dtype" = u8 ] && quant=" in_scale=3d800000 in_zp=128 out_scale=3c000000 out_zp=128"
        request="$id run kernel=$kernel dtype=$dtype n=$n runs=3 warmup=1 batch=1 seed=$id"
        requests+=("$request$quant")
    done
done
first=$(mktemp)
second=$(mktemp)
trap 'rm -f "$first" "$second"' EXIT
python3 tools/qemu_talk.py "$elf" "${requests[@]}" >"$first"
python3 tools/qemu_talk.py "$elf" "${requests[@]}" >"$second"
cargo build -q -p actprof-fw-core --example checksum
failures=0
exact=0
for request in "${requests[@]}"; do
    id=${request%% *}
    # shellcheck disable=SC2086 # the request's words are the example's arguments
    expected=$(target/debug/examples/checksum $request)
    got=$(grep "^$id ok" "$first" | grep -o 'checksum=[0-9a-f]*' || true)
    ticks=$(grep "^$id run" "$first" | sed 's/.*ticks=//' | tr '\n' ' ')
    ticks_again=$(grep "^$id run" "$second" | sed 's/.*ticks=//' | tr '\n' ' ')
    first_ticks=${ticks%% *}
    per_element=$(awk "BEGIN { printf \"%.1f\", $first_ticks * 40 / $n }")
    status=ok
    [ "$got" = "$expected" ] || status="CHECKSUM MISMATCH (host $expected)"
    if [ "$ticks" = "$ticks_again" ]; then
        exact=$((exact + 1))
    elif ! awk -v a="$ticks" -v b="$ticks_again" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= n; i++) if (x[i] - y[i] > 1 || y[i] - x[i] > 1) exit 1
    }'; then
        status="$status TICKS DIFFER ($ticks_again)"
    else
        status="$status (other launch: $ticks_again)"
    fi
    case "$status" in ok | "ok (other launch:"*) ;; *) failures=$((failures + 1)) ;; esac
    words=($request)
    echo "${words[2]#kernel=} ${words[3]#dtype=}: ticks $ticks($per_element instructions/element)" \
        "$got $status"
done
grep -q '^# QEMU exit status 0' "$first"
if [ "$failures" -ne 0 ]; then
    echo "qemu-check: $failures failed"
    exit 1
fi
echo "qemu-check: ${#requests[@]} requests match the host's checksums; ticks identical on two" \
    "launches for $exact, within one tick for the rest"
