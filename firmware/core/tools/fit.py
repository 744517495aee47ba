"""Fits the polynomial and rational coefficients of actprof-fw-core's f32 kernels.

Run with python3 and mpmath (`pip install mpmath`): `python3 tools/fit.py`. It prints the
coefficients, rounded to f32, highest degree first, as `src/kernels/*.rs` holds them.

- exp:  q(r) = (e^r - 1 - r) / r^2 on |r| <= ln2/2 (+ slack), Chebyshev fit of degree 4.
- tanh: q(s) = (tanh(sqrt s) - sqrt s) / s^1.5 on s in [0, 0.55^2], Chebyshev, degree 4.
- GELU: R(u) = Q(u) e^(u^2/2) (Q the normal upper tail) on u in [0, 14], rational 4/5 fitted
  for relative error by Sanathanan-Koerner iteration of weighted linear least squares.
"""

import struct

import mpmath as mp

mp.mp.dps = 30


def f32(value):
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def show(name, coefficients, error):
    print(f"{name} (fit error {mp.nstr(error, 3)})")
    for c in coefficients:
        print(f"    {f32(c):.9e},")


def exp_q(r):
    if abs(r) < mp.mpf("1e-12"):
        return mp.mpf(1) / 2 + r / 6
    return (mp.exp(r) - 1 - r) / r**2


def tanh_q(s):
    if s < mp.mpf("1e-24"):
        return -mp.mpf(1) / 3
    x = mp.sqrt(s)
    return (mp.tanh(x) - x) / x**3


def mills(u):
    return mp.erfc(u / mp.sqrt(2)) / 2 * mp.exp(u * u / 2)


def rational_fit(f, m, k, upper, points=300, iterations=12):
    """N of degree m over D of degree k with D(0) = 1, minimising the relative error."""
    xs = [upper * (1 - mp.cos(mp.pi * (i + 0.5) / points)) / 2 for i in range(points)]
    ys = [f(x) for x in xs]
    previous_d = [mp.mpf(1)] * points
    for _ in range(iterations):
        a = mp.matrix(points, m + 1 + k)
        b = mp.matrix(points, 1)
        for i, (x, y) in enumerate(zip(xs, ys)):
            weight = 1 / (y * previous_d[i])
            for j in range(m + 1):
                a[i, j] = weight * x**j
            for j in range(1, k + 1):
                a[i, m + j] = -weight * y * x**j
            b[i] = weight * y
        solution = mp.qr_solve(a, b)[0]
        n = [solution[j] for j in range(m + 1)]
        d = [mp.mpf(1)] + [solution[m + j] for j in range(1, k + 1)]
        previous_d = [mp.polyval(d[::-1], x) for x in xs]
    error = max(
        abs(mp.polyval(n[::-1], x) / mp.polyval(d[::-1], x) / f(x) - 1)
        for x in mp.linspace(0, upper, 2000)
    )
    return n[::-1], d[::-1], error


def main():
    half_ln2 = mp.log(2) / 2 + mp.mpf("0.0005")
    coefficients, error = mp.chebyfit(exp_q, [-half_ln2, half_ln2], 5, error=True)
    show("EXP_Q", coefficients, error * half_ln2**2)
    coefficients, error = mp.chebyfit(tanh_q, [0, mp.mpf("0.55") ** 2], 5, error=True)
    show("TANH_Q", coefficients, error)
    numerator, denominator, error = rational_fit(mills, 4, 5, mp.mpf(14))
    show("MILLS_N", numerator, error)
    show("MILLS_D", denominator, error)


if __name__ == "__main__":
    main()
