#!/usr/bin/env python3
"""How actprof's kernels compare with numpy, torch and memory bandwidth on this machine.

Runs, back to back on the same machine, writing everything to DIR (--out-dir):
  1. actprof, three plans (f32 runs use the default activations relu, leaky_relu, sigmoid,
     tanh, gelu, gelu_tanh, silu):
       `actprof bench --sizes 64k,1M,16M --format csv --out DIR/actprof.csv`     (1 thread, f32)
       `actprof bench --sizes 1M --threads 2 --format csv --out DIR/actprof-t2.csv`
       `actprof bench --dtype i8 --sizes 64k --format csv --out DIR/actprof-i8.csv`
  2. the shared peer baseline `peers.py perf bandwidth` with PEERS_SIZES=65536,1048576,16777216
     and PEERS_THREADS=1 (numpy + torch, one thread, the same sizes; plus copy/read/write of
     256 MiB), which writes DIR/peers.csv and DIR/bandwidth.csv.
Then prints, as aligned text, and writes as markdown to DIR/ratios.md:
  - the kernel_isa value(s) seen in actprof.csv;
  - table 1, single thread at 64K and 1M: actprof's Gelem/s, the best single-thread peer
    (peers.py's `gelu_erf` is actprof's `gelu`), the ratio (above 1: actprof is faster) and
    whether it meets the activation's bar (PEER_BARS);
  - table 2, single thread at 16M against the copy bandwidth ceiling: the fastest median
    single-thread copy of bandwidth.csv, in GB/s counting read + write, over 8 bytes per f32
    element (4 read + 4 written); each activation's share of it, against a 90% bar, with the
    best peer at 16M for context;
  - table 3, two threads at 1M against actprof's single thread: the speedup, against a 1.8x
    bar for the transcendental activations (relu and leaky_relu have no bar);
  - table 4, int8 at 64K: Gelem/s and kernel_isa, against a 20 Gelem/s bar.

Build the release binary first: `cargo build --release`. Only the standard library is
used here; the peer script itself needs a Python with numpy and torch (`--python`).

Usage:
  python3 benches/peer_ratio.py [--actprof BIN] [--peers PEERS_PY] [--python PY]
                                [--out-dir DIR] [--skip-actprof]
                                [--peers-csv CSV] [--bandwidth-csv CSV]
--skip-actprof reuses DIR/actprof.csv, actprof-t2.csv and actprof-i8.csv (needs --out-dir);
--peers-csv and --bandwidth-csv reuse existing peer files (the peer script then runs only the
mode still missing, or not at all). Re-print a finished run with all three.
Environment defaults: ACTPROF_BIN, PEERS_PY, PEERS_PYTHON.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {"64k": 65536, "1M": 1048576, "16M": 16777216}
SIZE_LABELS = {n: label for label, n in SIZES.items()}

# CSV file in DIR -> the `actprof bench` arguments that produce it (besides --format/--out).
ACTPROF_RUNS = {
    "actprof.csv": ["--sizes", ",".join(SIZES)],
    "actprof-t2.csv": ["--sizes", "1M", "--threads", "2"],
    "actprof-i8.csv": ["--dtype", "i8", "--sizes", "64k"],
}

# peers.py names GELU (erf) `gelu_erf`; actprof's report calls it `gelu`.
PEER_NAMES = {"gelu_erf": "gelu"}

# Variables the peer script must run without (its docstring runs it under `env -u`).
UNSET_FOR_PEERS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# Bars: actprof / best single-thread peer, per activation (table 1).
PEER_BARS = {"relu": 1.1, "leaky_relu": 1.1, "sigmoid": 2.5, "tanh": 1.8, "gelu": 1.7,
             "gelu_tanh": 4.0, "silu": 2.3}
CEILING_SHARE_BAR = 90.0  # % of the copy ceiling at 16M (table 2)
TWO_THREAD_BAR = 1.8  # 2-thread / 1-thread speedup at 1M, transcendental only (table 3)
TRANSCENDENTAL = ("sigmoid", "tanh", "gelu", "gelu_tanh", "silu")
INT8_BAR = 20.0  # Gelem/s at 64K (table 4)
COPY_BYTES_PER_ELEMENT = 8  # an f32 element read (4 bytes) and written (4 bytes)

# Columns aligned left; the others hold numbers and are aligned right.
TEXT_COLUMNS = ("activation", "peer impl", "kernel_isa", "meets")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--actprof",
        default=os.environ.get("ACTPROF_BIN", os.path.join(REPO, "target/release/actprof")),
        help="actprof binary (default: $ACTPROF_BIN or target/release/actprof)",
    )
    parser.add_argument(
        "--peers",
        default=os.environ.get(
            "PEERS_PY", os.path.join(REPO, "..", "shared", "bench", "peers.py")
        ),
        help="peer baseline script (default: $PEERS_PY or ../shared/bench/peers.py)",
    )
    parser.add_argument(
        "--python",
        default=os.environ.get("PEERS_PYTHON", "python3"),
        help="Python with numpy and torch for the peer script (default: $PEERS_PYTHON "
        "or python3)",
    )
    parser.add_argument("--out-dir", help="where the CSVs and ratios.md go (default: a new "
                        "temp dir)")
    parser.add_argument("--skip-actprof", action="store_true",
                        help="reuse DIR/actprof*.csv instead of running actprof")
    parser.add_argument(
        "--peers-csv", help="reuse this peers.csv instead of running the peer script's perf"
    )
    parser.add_argument(
        "--bandwidth-csv",
        help="reuse this bandwidth.csv instead of running the peer script's bandwidth",
    )
    args = parser.parse_args()
    if args.skip_actprof and not args.out_dir:
        parser.error("--skip-actprof needs --out-dir (the directory holding actprof*.csv)")
    needs_peers = not (args.peers_csv and args.bandwidth_csv)
    if needs_peers and not os.path.isfile(args.peers):
        # Checked before the actprof runs, which take a minute.
        parser.error(f"the peer script {args.peers} does not exist: pass --peers "
                     "PATH/shared/bench/peers.py (or set PEERS_PY), or reuse earlier peer "
                     "results with --peers-csv and --bandwidth-csv")
    if not os.path.isfile(args.actprof) and not args.skip_actprof:
        parser.error(f"the actprof binary {args.actprof} does not exist: build it with "
                     "`cargo build --release` or pass --actprof BIN")
    return args


def run_actprof(binary, out_dir):
    """Runs the three actprof plans; returns {file name: path}."""
    paths = {}
    for name, plan in ACTPROF_RUNS.items():
        paths[name] = os.path.join(out_dir, name)
        command = [binary, "bench", *plan, "--format", "csv", "--out", paths[name]]
        print("running:", " ".join(command), file=sys.stderr, flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return paths


def existing_actprof(out_dir):
    """{file name: path} of the actprof CSVs a previous run left in out_dir."""
    paths = {name: os.path.join(out_dir, name) for name in ACTPROF_RUNS}
    missing = [path for path in paths.values() if not os.path.isfile(path)]
    if missing:
        sys.exit(f"--skip-actprof: missing {', '.join(missing)}")
    return paths


def run_peers(python, script, out_dir, modes):
    env = dict(os.environ)
    for name in UNSET_FOR_PEERS:
        env.pop(name, None)
    env["PEERS_SIZES"] = ",".join(str(n) for n in SIZES.values())
    env["PEERS_THREADS"] = "1"
    env["PEERS_OUT"] = out_dir
    command = [python, script, *modes]
    print("running:", " ".join(command), file=sys.stderr, flush=True)
    # The peer script reports each cell as it goes: pass that on as progress.
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)


def peer_csvs(args, out_dir):
    """(peers.csv, bandwidth.csv): the ones given, the others made by the peer script."""
    given = {"perf": args.peers_csv, "bandwidth": args.bandwidth_csv}
    modes = [mode for mode, path in given.items() if not path]
    if modes:
        run_peers(args.python, args.peers, out_dir, modes)
    return (args.peers_csv or os.path.join(out_dir, "peers.csv"),
            args.bandwidth_csv or os.path.join(out_dir, "bandwidth.csv"))


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def cells(rows, threads, dtype="f32"):
    """(activation, elements) -> row of actprof's cells at this thread count and dtype,
    in the report's order (per size, the activations)."""
    return {(row["activation"], int(row["elements"])): row for row in rows
            if row["threads"] == str(threads) and row["dtype"] == dtype}


def gelem(row):
    return float(row["gelem_per_s"]) if row else None


def best_peers_by_cell(rows):
    """(activation, elements) -> (Gelem/s, implementation) of the fastest 1-thread peer."""
    best = {}
    for row in rows:
        if row["threads"] != "1":
            continue
        name = PEER_NAMES.get(row["activation"], row["activation"])
        key = (name, int(row["elements"]))
        value = float(row["gelem_per_s"])
        if key not in best or value > best[key][0]:
            best[key] = (value, row["impl"])
    return best


def copy_ceiling(rows):
    """(Gelem/s, test, GB/s) of the fastest single-thread copy (median), or None."""
    copies = [row for row in rows if row["threads"] == "1" and "copy" in row["test"]]
    if not copies:
        return None
    best = max(copies, key=lambda row: float(row["gb_per_s"]))
    gb_per_s = float(best["gb_per_s"])
    return gb_per_s / COPY_BYTES_PER_ELEMENT, best["test"], gb_per_s


def fmt(value, spec="{:.3f}"):
    return "-" if value is None else spec.format(value)


def ratio_of(a, b):
    return a / b if a is not None and b else None


def meets(value, bar):
    if value is None or bar is None:
        return "-"
    return "yes" if value >= bar else "no"


class Table:
    def __init__(self, title, header, notes=()):
        self.title, self.header, self.notes, self.rows = title, header, list(notes), []

    def add(self, *row):
        self.rows.append(row)

    def _right(self, i):
        return self.header[i] not in TEXT_COLUMNS

    def text(self):
        widths = [max(len(c) for c in column) for column in zip(self.header, *self.rows)]
        lines = [self.title, *self.notes]
        for row in [self.header, *self.rows]:
            padded = [c.rjust(w) if self._right(i) else c.ljust(w)
                      for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(padded).rstrip())
        return "\n".join(lines)

    def markdown(self):
        rule = ["---:" if self._right(i) else "---" for i in range(len(self.header))]
        rows = [self.header, rule, *self.rows]
        notes = [f"{note}\n" for note in self.notes]
        return "\n".join([f"## {self.title}\n", *notes, *(f"| {' | '.join(r)} |" for r in rows)])


def peer_table(ours, peers):
    table = Table("single thread vs best peer, 64K and 1M",
                  ("activation", "elements", "actprof Gelem/s", "best peer Gelem/s",
                   "peer impl", "ratio", "bar", "meets"))
    for (act, n), row in ours.items():
        if n not in (SIZES["64k"], SIZES["1M"]):
            continue
        peer, impl = peers.get((act, n), (None, "-"))
        ratio, bar = ratio_of(gelem(row), peer), PEER_BARS.get(act)
        table.add(act, SIZE_LABELS[n], fmt(gelem(row)), fmt(peer), impl,
                  fmt(ratio, "{:.2f}x"), fmt(bar, "{:.1f}x"), meets(ratio, bar))
    return table


def ceiling_note(ceiling):
    if ceiling is None:
        return "ceiling: no single-thread copy test in bandwidth.csv"
    value, test, gb_per_s = ceiling
    return (f"ceiling: {test}, 1 thread, median {gb_per_s:.2f} GB/s / "
            f"{COPY_BYTES_PER_ELEMENT} B per f32 element (4 read + 4 written) "
            f"= {value:.3f} Gelem/s")


def ceiling_table(ours, peers, ceiling):
    table = Table("16M vs copy bandwidth ceiling",
                  ("activation", "actprof Gelem/s", "best peer Gelem/s", "peer impl",
                   "share of ceiling", "bar", "meets"), [ceiling_note(ceiling)])
    for (act, n), row in ours.items():
        if n != SIZES["16M"]:
            continue
        peer, impl = peers.get((act, n), (None, "-"))
        share = ratio_of(gelem(row), ceiling and ceiling[0])
        share = None if share is None else 100 * share
        table.add(act, fmt(gelem(row)), fmt(peer), impl, fmt(share, "{:.1f}%"),
                  f"{CEILING_SHARE_BAR:.0f}%", meets(share, CEILING_SHARE_BAR))
    return table


def threads_table(ours, ours_t2):
    table = Table("two threads at 1M vs our single thread",
                  ("activation", "t1 Gelem/s", "t2 Gelem/s", "speedup", "bar", "meets"))
    for (act, n), row in ours.items():
        if n != SIZES["1M"]:
            continue
        speedup = ratio_of(gelem(ours_t2.get((act, n))), gelem(row))
        bar = TWO_THREAD_BAR if act in TRANSCENDENTAL else None
        table.add(act, fmt(gelem(row)), fmt(gelem(ours_t2.get((act, n)))),
                  fmt(speedup, "{:.2f}x"), fmt(bar, "{:.1f}x"), meets(speedup, bar))
    return table


def int8_table(ours_i8):
    table = Table("int8 at 64K", ("activation", "Gelem/s", "kernel_isa", "bar", "meets"))
    for (act, n), row in ours_i8.items():
        if n == SIZES["64k"]:
            table.add(act, fmt(gelem(row)), row["kernel_isa"], f"{INT8_BAR:.0f}",
                      meets(gelem(row), INT8_BAR))
    return table


def isa_line(rows):
    isas = dict.fromkeys(row["kernel_isa"] for row in rows)  # distinct, in order
    return f"actprof kernel_isa (actprof.csv): {', '.join(isas) or '-'}"


def build_report(paths, peers_csv, bandwidth_csv):
    """(header line, tables) from the CSVs."""
    rows = read_rows(paths["actprof.csv"])
    ours = cells(rows, threads=1)
    peers = best_peers_by_cell(read_rows(peers_csv))
    ceiling = copy_ceiling(read_rows(bandwidth_csv))
    tables = [
        peer_table(ours, peers),
        ceiling_table(ours, peers, ceiling),
        threads_table(ours, cells(read_rows(paths["actprof-t2.csv"]), threads=2)),
        int8_table(cells(read_rows(paths["actprof-i8.csv"]), threads=1, dtype="i8")),
    ]
    return isa_line(rows), tables


def write_markdown(path, header, tables):
    with open(path, "w") as f:
        f.write("\n\n".join([header, *(table.markdown() for table in tables)]) + "\n")


def main():
    args = parse_args()
    out_dir = args.out_dir or tempfile.mkdtemp(prefix="actprof-peers-")
    if args.skip_actprof:
        paths = existing_actprof(out_dir)
    else:
        os.makedirs(out_dir, exist_ok=True)
        paths = run_actprof(args.actprof, out_dir)
    peers_csv, bandwidth_csv = peer_csvs(args, out_dir)
    header, tables = build_report(paths, peers_csv, bandwidth_csv)
    markdown = os.path.join(out_dir, "ratios.md")
    write_markdown(markdown, header, tables)
    print(f"results: {', '.join(paths.values())}, {peers_csv}, {bandwidth_csv}; "
          f"tables: {markdown}", file=sys.stderr)
    print("\n\n".join([header, *(table.text() for table in tables)]))


if __name__ == "__main__":
    main()
