#!/usr/bin/env python3
"""Counts the instructions per element in the hot loop of each explicit AVX-512 kernel.

Disassembles `target/release/actprof` (objdump), finds every instance of
`actprof::kernels::avx512::run` (one per kernel), takes its longest backward-jumping loop
(the two-blocks-per-step loop, 32 elements per iteration) and classifies the instructions:
FMA-pipe ops (multiply, FMA, scalef, rcp14: on Zen 4 these share two 256-bit pipes, one
zmm op per cycle), other vector ops, loads and stores. The kernel is named from its
instruction mix (see `name_of`). On Zen 4 the loop needs at least `FMA-pipe ops` cycles
(one zmm FMA-class op per cycle) and at least `(FMA-pipe + other vector ops) / 2` cycles
(four 256-bit pipes, two zmm ops per cycle); the script prints both bounds in elements per
cycle, and a third for Intel cores with AVX-512 (two zmm ops per cycle on ports 0 and 5,
permutes, mask compares and most of `vrcp14ps` on port 5 alone; see `intel_port5`). Used
for the limits analysis of kernels below their speed bar.

Usage: python3 benches/loop_ops.py [BINARY]
"""

import re
import subprocess
import sys

FMA_PIPE = re.compile(r"^v(f[n]?m(add|sub)|mul|scalef|rcp14|rsqrt14|div)")


def functions(binary):
    """(start, size) of every instance of the driver."""
    out = subprocess.run(["nm", "-C", "-S", binary], check=True, capture_output=True,
                         text=True)
    found = []
    for line in out.stdout.splitlines():
        if line.endswith("actprof::kernels::avx512::run"):
            fields = line.split()
            found.append((int(fields[0], 16), int(fields[1], 16)))
    return sorted(found)


def disassemble(binary, start, size):
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
         f"--stop-address={start + size:#x}", binary],
        check=True, capture_output=True, text=True).stdout
    lines = []
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if m:
            lines.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return lines


def longest_loop(lines):
    """The longest innermost loop: the body of a backward jump that holds no other backward
    jump (an outer loop around the tail code would otherwise count as the hot loop)."""
    loops = []
    for i, (addr, op, args) in enumerate(lines):
        if op.startswith("j"):
            m = re.match(r"([0-9a-f]+)", args)
            if m and int(m.group(1), 16) < addr:
                loops.append((int(m.group(1), 16), addr, i))
    best = []
    for target, addr, i in loops:
        if any(target <= t and a < addr for t, a, _ in loops if (t, a) != (target, addr)):
            continue
        body = [line for line in lines[:i + 1] if line[0] >= target]
        if len(body) > len(best):
            best = body
    return best


def classify(body):
    """Counts per class. Loads (moves and broadcasts from memory) use the load ports and
    register-to-register moves are eliminated at rename on Zen 4, so neither counts as a
    vector op."""
    counts = {"fma_pipe": 0, "other_vector": 0, "load": 0, "store": 0, "move": 0,
              "scalar": 0}
    mix = {}
    for _, op, args in body:
        if not op.startswith("v"):
            counts["scalar"] += 1
            continue
        mix[op] = mix.get(op, 0) + 1
        operands = [part.strip() for part in args.split(",")]
        memory_last = "(" in operands[-1]
        memory_first = "(" in operands[0]
        if op.startswith(("vmov", "vbroadcast", "vpbroadcast")):
            if memory_last and op.startswith("vmov"):
                counts["store"] += 1
            elif memory_first:
                counts["load"] += 1
            elif op.startswith("vmov"):
                counts["move"] += 1
            else:
                counts["other_vector"] += 1
        elif FMA_PIPE.match(op):
            counts["fma_pipe"] += 1
        else:
            counts["other_vector"] += 1
    return counts, mix


def intel_port5(mix):
    """(port-5-only uops, extra uops) on Intel cores with AVX-512 (Ice Lake to Sapphire
    Rapids and later): 512-bit ops issue on ports 0 and 5 only, lane permutes and compares
    into mask registers only on port 5, and `vrcp14ps` zmm is three uops, two of them on
    port 5 (0.5 per cycle measured on the Intel Xeon host, against 1.9 for FMA)."""
    port5 = 0
    extra = 0
    for op, n in mix.items():
        if op.startswith(("vperm", "vcmp", "vfpclass")):
            port5 += n
        elif op.startswith("vrcp14"):
            port5 += 2 * n
            extra += 2 * n
    return port5, extra


def name_of(mix):
    """Which kernel a loop is, from instructions only it uses."""
    has = lambda op: any(name.startswith(op) for name in mix)
    if has("vpermt2ps") or has("vpermi2ps"):
        return "gelu"
    if has("vrcp14ps"):
        # GELU-tanh's two-sum of its argument needs a min and a max; SiLU closes its gate
        # with a less-than compare; sigmoid has neither.
        if has("vminps"):
            return "gelu_tanh"
        return "silu" if has("vcmplt_oqps") else "sigmoid"
    if has("vpermps") or has("vpermd"):
        return "tanh"
    if has("vcmpnle_uqps"):
        return "relu"
    if has("vmulps"):
        return "leaky_relu"
    return "?"


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/actprof"
    for start, size in functions(binary):
        body = longest_loop(disassemble(binary, start, size))
        counts, mix = classify(body)
        stores = max(counts["store"], 1)
        per = 16 * stores
        vector = counts["fma_pipe"] + counts["other_vector"]
        fma_bound = per / max(counts["fma_pipe"], 1)
        issue_bound = per / max(vector / 2, 1)
        print(f"{name_of(mix)} (run@{start:#x}): {len(body)} instructions per {per} elements; "
              + ", ".join(f"{k} {v} ({v / per:.2f}/elem)" for k, v in counts.items()))
        print(f"   bounds: FMA pipes {fma_bound:.2f} elem/cycle, vector issue "
              f"{issue_bound:.2f} elem/cycle")
        port5, uops = intel_port5(mix)
        intel_bound = per / max(port5, (vector + uops) / 2, 1)
        print(f"   Intel (ports 0 and 5): {port5} port-5-only ops, {vector + uops} vector "
              f"uops, bound {intel_bound:.2f} elem/cycle")
        print("   mix:", " ".join(f"{op}×{n}" for op, n in sorted(mix.items())))


if __name__ == "__main__":
    main()
