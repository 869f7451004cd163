"""Wasserstein distances and convolutional Sinkhorn: libberg against POT on the
same machine and the same inputs. Prints median times of
interleaved runs, the ratio POT / libberg (> 1: libberg is faster) and the
difference of the results. Run:

  BERG_LIBRARY=build/lib/libberg.so PYTHONPATH=python \\
      /usr/bin/python3 bench/python/bench_transport.py [repeats]

Cases
  1. exact W2 on 2^20 cells: berg.w2_distance_1d vs ot.wasserstein_1d on the
     cell centres weighted by the cell masses (POT reads point masses, libberg
     piecewise-constant cells: the values differ by O(h), both are printed).
  2. convolutional barycenter of two 256^2 images, fixed iteration count:
     berg.Sinkhorn(...).barycenter (FFT heat kernel on 1 and 2 threads; and the
     log domain) vs
     ot.bregman.convolutional_barycenter2d, with POT's grid linspace(0, 1, n)
     reproduced as the cell centres of a Neumann box. The two start from
     different initial scalings, so the difference printed is at the given
     iteration count and shrinks as both converge.
  3. a 3-D 128^3 Sinkhorn divergence (POT has no convolutional divergence and
     its dense cost matrix would need 2^21 x 2^21 entries): its time alone.
"""
import sys
import time
import warnings

import numpy as np

import berg

try:
    import ot
except ImportError:  # pragma: no cover
    ot = None


def timeit(fns, repeats):
    times = {k: [] for k in fns}
    for r in range(repeats):
        order = list(fns) if r % 2 == 0 else list(fns)[::-1]
        for k in order:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


def case_1d(repeats):
    n = 1 << 20
    s = berg.Space((n,), 0.0, 1.0, bc="neumann")
    x = s.coordinates(0)
    rng = np.random.default_rng(0)
    p = rng.random(n) * np.exp(-0.5 * ((x - 0.4) / 0.1) ** 2)
    q = rng.random(n) * np.exp(-0.5 * ((x - 0.6) / 0.15) ** 2)
    a, b = p / p.sum(), q / q.sum()
    res = {}
    fns = {"libberg": lambda: res.__setitem__("berg", berg.w2_distance_1d(s, p, q)),
           "POT": lambda: res.__setitem__("pot", np.sqrt(ot.wasserstein_1d(x, x, a, b, p=2)))}
    t = timeit(fns, repeats)
    print(f"W2 1-D 2^20 cells          libberg {1e3 * t['libberg']:9.2f} ms   POT "
          f"{1e3 * t['POT']:9.2f} ms   POT/libberg {t['POT'] / t['libberg']:6.1f}   "
          f"W2 {res['berg']:.8f} (cells) vs {res['pot']:.8f} (atoms)")


def images(n):
    h = 1.0 / (n - 1)
    s = berg.Space((n, n), -h / 2, 1 + h / 2, bc="neumann")
    X, Y = s.grid()
    A = np.zeros((2, n, n))
    A[0] = ((X - 0.42) ** 2 + (Y - 0.45) ** 2 < 0.08 ** 2).astype(float)
    A[1] = ((np.abs(X - 0.58) < 0.07) & (np.abs(Y - 0.56) < 0.05)).astype(float)
    A /= A.sum(axis=(1, 2), keepdims=True)
    return s, A


def case_barycenter(repeats, iters=100):
    n = 256
    s, A = images(n)
    w = np.array([0.4, 0.6])
    for reg, modes in ((0.02, (False,)), (0.004, (True,))):
        res = {}
        fns = {}
        for log_domain in modes:
            # POT's dense products run on every OpenBLAS thread (2 here):
            # libberg is timed on 1 thread and, in the FFT mode, on 2
            for threads in ((1,) if log_domain else (1, 2)):
                sk = berg.Sinkhorn(s, reg, log_domain=log_domain, max_iterations=iters,
                                   tolerance=0, threads=threads)
                key = "libberg log" if log_domain else f"libberg {threads}T"
                fns[key] = (lambda sk=sk, key=key:
                            res.__setitem__(key, sk.barycenter(A, w) * s.cell_weight))

        def pot_run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                b = ot.bregman.convolutional_barycenter2d(A, reg, weights=w, numItermax=iters,
                                                          stopThr=0.0)
            res["POT"] = b / b.sum()
        fns["POT"] = pot_run
        t = timeit(fns, repeats)
        for key in fns:
            if key == "POT":
                continue
            diff = np.max(np.abs(res[key] - res["POT"])) / res["POT"].max()
            print(f"barycenter 256^2 reg {reg:<6} {iters} it  {key:11s} {1e3 * t[key]:9.1f} ms   "
                  f"POT {1e3 * t['POT']:9.1f} ms   POT/libberg {t['POT'] / t[key]:6.1f}   "
                  f"max|diff|/max {diff:.2e}")


def case_3d():
    n = 128
    s = berg.Space((n, n, n), 0.0, 1.0, bc="neumann")
    X, Y, Z = s.grid()
    r1 = np.sqrt((X - 0.4) ** 2 + (Y - 0.45) ** 2 + (Z - 0.5) ** 2)
    r2 = np.sqrt((X - 0.6) ** 2 + (Y - 0.55) ** 2 + (Z - 0.5) ** 2)
    p = np.where(r1 < 0.15, np.cos(np.pi * r1 / 0.3) ** 2, 0.0)
    q = np.where(r2 < 0.15, np.cos(np.pi * r2 / 0.3) ** 2, 0.0)
    sk = berg.Sinkhorn(s, 0.01, tolerance=1e-6)
    t0 = time.perf_counter()
    d = sk.divergence(p, q)
    t = time.perf_counter() - t0
    err, it = sk.report
    shift2 = 0.2 ** 2 + 0.1 ** 2
    print(f"Sinkhorn divergence 3-D 128^3 eps 0.01  libberg {t:7.2f} s  ({it} iterations over "
          f"3 solves, marginal error {err:.1e}); S = {d:.6f}, |shift|^2 = {shift2:.6f}")


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if ot is None:
        print("POT (python3-pot) is not installed: comparisons skipped")
    else:
        case_1d(repeats)
        case_barycenter(max(3, repeats // 2))
    case_3d()


if __name__ == "__main__":
    main()
