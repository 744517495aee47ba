#!/usr/bin/env python3
"""Refits the piecewise polynomial tables of src/kernels/avx512/ (GELU tail, tanh).

Pieces are the quarter binades of 1 + t: k = 0..15 covers [0, 0.25), [0.25, 0.5), ...,
[1, 1.5), ..., [13, 15). Per piece, a degree-6 polynomial in w = t - c_k is fitted by
weighted least squares with Lawson reweighting (close to minimax) on relative error, then
its coefficients are rounded to f32 one at a time, the remaining ones refitted after each.
The centre c_k is the f32 near the piece's middle where f(c_k) is closest to an f32, so the
constant coefficient is nearly exact.

  gelu: R(t) = Phi(-t)·exp(t²/2) on all 16 pieces
  tanh: g(y) = 1 - tanh(y) on pieces 3..13 (piece 13 up to 9.1)
  tanh-near: tanh(y)/y on pieces 0..2 (y < 0.75; piece 0 centred at 0, so that
             tanh(y) = y·P(y) keeps full relative accuracy for tiny y)

Needs numpy and mpmath (e.g. the venv that runs the peer benchmark). Prints Rust constants
and the worst relative error of each piece.

Usage: python3 benches/fit_tables.py gelu|tanh|tanh-near
"""

import sys

import mpmath
import numpy as np

mpmath.mp.dps = 40
DEGREE = 6


def f32(v):
    return float(np.float32(v))


def step(c, d):
    bits = int(np.frombuffer(np.float32(c).tobytes(), dtype=np.uint32)[0]) + d
    return float(np.frombuffer(np.uint32(bits).tobytes(), dtype=np.float32)[0])


def centre(f, lo, hi):
    """The f32 near (lo + hi)/2 where f is closest to an f32 (relative)."""
    middle, best = f32((lo + hi) / 2), None
    for d in range(4000):
        for c in (step(middle, d), step(middle, -d)):
            exact = f(c)
            miss = abs(float((mpmath.mpf(f32(float(exact))) - exact) / exact))
            if best is None or miss < best[0]:
                best = (miss, c)
        if best[0] < 2**-36:
            break
    return best[1]


def fit_piece(f, lo, hi, fixed_centre=None):
    c = centre(f, lo, hi) if fixed_centre is None else fixed_centre
    n = 200
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (i + 0.5) / n) for i in range(n)]
    w = np.array([x - c for x in nodes])
    y = np.array([float(f(x)) for x in nodes])
    vander = np.vander(w, DEGREE + 1, increasing=True)
    a = vander / y[:, None]
    coef = np.linalg.lstsq(a, np.ones(n), rcond=None)[0]
    weights = np.ones(n)
    for _ in range(30):
        weights = weights * np.abs(a @ coef - 1) + 1e-300
        weights /= weights.sum()
        root = np.sqrt(weights)
        coef = np.linalg.lstsq(a * root[:, None], root, rcond=None)[0]
    rounded = []
    for j in range(DEGREE + 1):
        rounded.append(f32(coef[j]))
        if j < DEGREE:
            residual = 1 - (vander[:, : j + 1] @ np.array(rounded)) / y
            rest = np.linalg.lstsq(vander[:, j + 1 :] / y[:, None], residual, rcond=None)[0]
            coef = np.concatenate([np.array(rounded), rest])
    grid = np.linspace(lo, hi, 2000)
    exact = np.array([float(f(x)) for x in grid])
    approx = np.vander(grid - c, DEGREE + 1, increasing=True) @ np.array(rounded)
    return c, rounded, float(np.max(np.abs(approx / exact - 1)))


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "gelu"
    if which == "gelu":
        f = lambda t: mpmath.erfc(mpmath.mpf(t) / mpmath.sqrt(2)) / 2 * mpmath.exp(
            mpmath.mpf(t) ** 2 / 2
        )
        used = range(16)
    elif which == "tanh":
        f = lambda y: 1 - mpmath.tanh(mpmath.mpf(y))
        used = range(3, 14)
    else:
        f = lambda y: mpmath.tanh(mpmath.mpf(y)) / mpmath.mpf(y) if y != 0 else mpmath.mpf(1)
        used = range(0, 3)
    rows = []
    for k in range(16):
        e, m = divmod(k, 4)
        lo, hi = 2**e * (1 + m / 4) - 1, 2**e * (1 + (m + 1) / 4) - 1
        if k not in used:
            rows.append((0.0, [0.0] * (DEGREE + 1)))
            continue
        if which == "tanh":
            hi = 9.1 if k == 13 else hi
        c, coef, err = fit_piece(f, lo, hi, 0.0 if which == "tanh-near" and k == 0 else None)
        print(f"// piece {k:2} [{lo}, {hi}): relative error 2^{np.log2(err):.1f}")
        rows.append((c, coef))
    name = {"gelu": "TAIL", "tanh": "TANH", "tanh-near": "TANH_NEAR"}[which]
    def table(values):
        return "[" + ", ".join(str(np.float32(v)) for v in values) + "]"

    print(f"const {name}_CENTRE: [f32; 16] = {table(r[0] for r in rows)};")
    for j in range(DEGREE + 1):
        print(f"const {name}_C{j}: [f32; 16] = {table(r[1][j] for r in rows)};")


if __name__ == "__main__":
    main()
