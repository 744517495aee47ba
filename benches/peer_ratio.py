#!/usr/bin/env python3
"""How actprof's kernels compare with numpy and torch on this machine.

Runs, back to back on the same machine:
  1. `actprof bench --sizes 64k,1M --format csv --out <dir>/actprof.csv`
  2. the shared peer baseline `peers.py perf` (numpy + torch, one thread, the same sizes),
     which writes `<dir>/peers.csv`,
then prints, per activation and size, actprof's throughput, the best single-thread peer
and the ratio between them (above 1: actprof is faster).

Build the release binary first: `cargo build --release`. Only the standard library is
used here; the peer script itself needs a Python with numpy and torch (`--python`).

Usage:
  python3 benches/peer_ratio.py [--actprof BIN] [--peers PEERS_PY] [--python PY]
                                [--out-dir DIR] [--peers-csv CSV]
Environment defaults: ACTPROF_BIN, PEERS_PY, PEERS_PYTHON.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {"64k": 65536, "1M": 1048576}

# peers.py names GELU (erf) `gelu_erf`; actprof's report calls it `gelu`.
PEER_NAMES = {"gelu_erf": "gelu"}

# Variables the peer script must run without (its docstring runs it under `env -u`).
UNSET_FOR_PEERS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


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
    parser.add_argument("--out-dir", help="where both CSVs go (default: a new temp dir)")
    parser.add_argument(
        "--peers-csv", help="reuse this peers.csv instead of running the peer script"
    )
    return parser.parse_args()


def run_actprof(binary, out_dir):
    path = os.path.join(out_dir, "actprof.csv")
    command = [binary, "bench", "--sizes", ",".join(SIZES), "--format", "csv", "--out", path]
    print("running:", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return path


def run_peers(python, script, out_dir):
    env = dict(os.environ)
    for name in UNSET_FOR_PEERS:
        env.pop(name, None)
    env["PEERS_SIZES"] = ",".join(str(n) for n in SIZES.values())
    env["PEERS_THREADS"] = "1"
    env["PEERS_OUT"] = out_dir
    command = [python, script, "perf"]
    print("running:", " ".join(command), file=sys.stderr, flush=True)
    # The peer script reports each cell as it goes: pass that on as progress.
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)
    return os.path.join(out_dir, "peers.csv")


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def ours_by_cell(rows):
    """(activation, elements) -> Gelem/s of actprof's single-thread default cells."""
    cells = {}
    for row in rows:
        if row["threads"] == "1":
            cells[(row["activation"], int(row["elements"]))] = float(row["gelem_per_s"])
    return cells


def best_peers_by_cell(rows):
    """(activation, elements) -> (Gelem/s, implementation) of the fastest 1-thread peer."""
    best = {}
    for row in rows:
        if row["threads"] != "1":
            continue
        name = PEER_NAMES.get(row["activation"], row["activation"])
        key = (name, int(row["elements"]))
        gelem = float(row["gelem_per_s"])
        if key not in best or gelem > best[key][0]:
            best[key] = (gelem, row["impl"])
    return best


def print_table(ours, peers):
    header = ("activation", "elements", "actprof Gelem/s", "best peer Gelem/s", "peer",
              "ratio")
    lines = []
    # actprof's CSV order: per size, the activations in report order.
    for key in ours:
        if key not in peers:
            continue
        gelem, peer_gelem, peer = ours[key], peers[key][0], peers[key][1]
        lines.append((key[0], str(key[1]), f"{gelem:.3f}", f"{peer_gelem:.3f}", peer,
                      f"{gelem / peer_gelem:.2f}x"))
    widths = [max([len(h)] + [len(line[i]) for line in lines]) for i, h in enumerate(header)]
    for line in [header, *lines]:
        cells = [c.ljust(w) if i in (0, 4) else c.rjust(w)
                 for i, (c, w) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())


def main():
    args = parse_args()
    out_dir = args.out_dir or tempfile.mkdtemp(prefix="actprof-peers-")
    os.makedirs(out_dir, exist_ok=True)
    ours_csv = run_actprof(args.actprof, out_dir)
    peers_csv = args.peers_csv or run_peers(args.python, args.peers, out_dir)
    print(f"results: {ours_csv}, {peers_csv}", file=sys.stderr)
    print_table(ours_by_cell(read_rows(ours_csv)), best_peers_by_cell(read_rows(peers_csv)))


if __name__ == "__main__":
    main()
