#!/usr/bin/env python3
"""Refits the piecewise polynomial tables of src/kernels/avx512/ (GELU tail, tanh).

Pieces are fixed fractions of the binades of 1 + t: quarters for tanh (k = 0..15 covers
[0, 0.25), [0.25, 0.5), ..., [1, 1.5), ..., [13, 15)), eighths for GELU (k = 0..31 covers
[0, 0.125), ..., [1, 1.25), ..., [14, 15)). Per piece, a polynomial in w = t - c_k
(degree 6 for tanh, 5 for GELU) is fitted by
weighted least squares with Lawson reweighting (close to minimax) on relative error, then
its coefficients are rounded to f32 one at a time, the remaining ones refitted after each.
The centre c_k is the f32 near the piece's middle where f(c_k) is closest to an f32, so the
constant coefficient is nearly exact.

  gelu: U(t) = t·Phi(-t)·exp(t²/2) on all 32 pieces (piece 0 centred at 0 with no
        constant term, so that U keeps full relative accuracy for tiny t)
  tanh: one table set: tanh(y)/y - 1 on pieces 0..3 (y < 1; fitted as tanh(y)/y, then 1
        taken off the constant coefficient exactly; piece 0 centred at 0, so that
        tanh(y) = y + y·P(y) keeps full relative accuracy for tiny y) and tanh(y) - 1 on
        pieces 4..13 (fitted as g = 1 - tanh(y) on relative error, then negated; piece 13
        up to 9.1)

  exp16: the 2^(j/16) table as f32 pairs (hi, lo) and the degree-3 polynomials
         e^r - 1 on |r| <= ln2/32 (logistic gate) and e^(-r/2) - 1 on |r| <= ln2/16
         (GELU), each as r·(c1 + c2·r + c3·r²)

Needs numpy and mpmath (e.g. the venv that runs the peer benchmark). Prints Rust constants
and the worst relative error of each piece.

Usage: python3 benches/fit_tables.py gelu|tanh|exp16
"""

import sys

import mpmath
import numpy as np

mpmath.mp.dps = 40


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


def fit_piece(f, lo, hi, degree, fixed_centre=None):
    c = centre(f, lo, hi) if fixed_centre is None else fixed_centre
    n = 200
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (i + 0.5) / n) for i in range(n)]
    w = np.array([x - c for x in nodes])
    y = np.array([float(f(x)) for x in nodes])
    vander = np.vander(w, degree + 1, increasing=True)
    a = vander / y[:, None]
    coef = np.linalg.lstsq(a, np.ones(n), rcond=None)[0]
    weights = np.ones(n)
    for _ in range(30):
        weights = weights * np.abs(a @ coef - 1) + 1e-300
        weights /= weights.sum()
        root = np.sqrt(weights)
        coef = np.linalg.lstsq(a * root[:, None], root, rcond=None)[0]
    rounded = []
    for j in range(degree + 1):
        rounded.append(f32(coef[j]))
        if j < degree:
            residual = 1 - (vander[:, : j + 1] @ np.array(rounded)) / y
            rest = np.linalg.lstsq(vander[:, j + 1 :] / y[:, None], residual, rcond=None)[0]
            coef = np.concatenate([np.array(rounded), rest])
    grid = np.linspace(lo, hi, 2000)
    exact = np.array([float(f(x)) for x in grid])
    approx = np.vander(grid - c, degree + 1, increasing=True) @ np.array(rounded)
    return c, rounded, float(np.max(np.abs(approx / exact - 1)))


def fit_expm1(scale, bound):
    """c1, c2, c3 of e^(scale·r) - 1 = r·(c1 + c2·r + c3·r²) on |r| <= bound, near minimax
    on absolute error, rounded to f32 one at a time with the rest refitted."""
    n = 400
    r = np.array([bound * np.cos(np.pi * (i + 0.5) / n) for i in range(n)])
    exact = lambda v: float(mpmath.expm1(scale * mpmath.mpf(v)))
    y = np.array([exact(v) for v in r])
    vander = np.stack([r, r**2, r**3], axis=1)
    coef = np.linalg.lstsq(vander, y, rcond=None)[0]
    weights = np.ones(n)
    for _ in range(30):
        weights = weights * np.abs(vander @ coef - y) + 1e-300
        weights /= weights.sum()
        root = np.sqrt(weights)
        coef = np.linalg.lstsq(vander * root[:, None], y * root, rcond=None)[0]
    rounded = []
    for j in range(3):
        rounded.append(f32(coef[j]))
        if j < 2:
            rest = np.linalg.lstsq(vander[:, j + 1 :], y - vander[:, : j + 1] @ rounded,
                                   rcond=None)[0]
            coef = np.concatenate([np.array(rounded), rest])
    grid = np.linspace(-bound, bound, 4001)
    approx = np.stack([grid, grid**2, grid**3], axis=1) @ np.array(rounded)
    worst = np.max(np.abs(approx - np.array([exact(v) for v in grid])))
    return rounded, worst


def exp16():
    """The table and polynomials of the exponentials 2^(j/16)·e^r (logistic gate) and
    2^(j/16)·e^(-r/2) (GELU, r in units of 2·ln 2)."""
    hi = [f32(mpmath.mpf(2) ** (mpmath.mpf(j) / 16)) for j in range(16)]
    lo = [f32(mpmath.mpf(2) ** (mpmath.mpf(j) / 16) - hi[j]) for j in range(16)]
    table = lambda values: "[" + ", ".join(str(np.float32(v)) for v in values) + "]"
    print(f"const EXP16_HI: [f32; 16] = {table(hi)};")
    print(f"const EXP16_LO: [f32; 16] = {table(lo)};")
    # The reduced argument can exceed ln2/32 by the rounding of the argument times log2(e).
    bound = float(mpmath.log(2)) / 32 * 1.01
    for name, scale, reach in (("EXPM1_Q", 1, bound), ("EXPM1_HALF_Q", -0.5, 2 * bound)):
        rounded, worst = fit_expm1(scale, reach)
        print(f"// |r| <= {reach:.6f}: absolute error 2^{np.log2(worst):.1f}")
        print(f"const {name}: [f32; 3] = {table(rounded)};")


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "gelu"
    if which not in ("gelu", "tanh", "exp16"):
        sys.exit(__doc__)
    if which == "exp16":
        exp16()
        return
    r = lambda t: mpmath.erfc(mpmath.mpf(t) / mpmath.sqrt(2)) / 2 * mpmath.exp(
        mpmath.mpf(t) ** 2 / 2
    )
    if which == "gelu":
        f = lambda t: mpmath.mpf(t) * r(t)
        used, split, degree = range(32), 8, 5
    else:
        g = lambda y: 1 - mpmath.tanh(mpmath.mpf(y))
        near = lambda y: mpmath.tanh(mpmath.mpf(y)) / mpmath.mpf(y) if y != 0 else mpmath.mpf(1)
        used, split, degree = range(0, 14), 4, 6
    rows = []
    count = 4 * split
    for k in range(count):
        e, m = divmod(k, split)
        lo, hi = 2**e * (1 + m / split) - 1, 2**e * (1 + (m + 1) / split) - 1
        if k not in used:
            rows.append((0.0, [0.0] * (degree + 1)))
            continue
        if which == "gelu":
            if k == 0:
                # U(t) = t·R(t): R to one degree less from 0, shifted up one power.
                c, coef, err = fit_piece(r, lo, hi, degree - 1, 0.0)
                coef = [0.0] + coef
            else:
                c, coef, err = fit_piece(f, lo, hi, degree)
        elif k < 4:
            c, coef, err = fit_piece(near, lo, hi, degree, 0.0 if k == 0 else None)
            coef = [coef[0] - 1] + coef[1:]
        else:
            c, coef, err = fit_piece(g, lo, 9.1 if k == 13 else hi, degree)
            coef = [-v for v in coef]
        print(f"// piece {k:2} [{lo}, {hi}): relative error 2^{np.log2(err):.1f}")
        rows.append((c, coef))
    name = {"gelu": "TAIL", "tanh": "TANH"}[which]

    def table(values):
        return "[" + ", ".join(str(np.float32(v)) for v in values) + "]"

    print(f"const {name}_CENTRE: [f32; {count}] = {table(r[0] for r in rows)};")
    for j in range(degree + 1):
        print(f"const {name}_C{j}: [f32; {count}] = {table(r[1][j] for r in rows)};")


if __name__ == "__main__":
    main()
