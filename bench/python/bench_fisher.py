"""berg.fisher_from_scores against numpy's X.T @ X / N on the same BLAS.

Run: BERG_LIBRARY=build/lib/libberg.so PYTHONPATH=python /usr/bin/python3 bench/python/bench_fisher.py
(append "threads" for the 10^6 x 64 table at 1 and 2 libberg threads alone).
Prints which BLAS library numpy and libberg have loaded (from /proc/self/maps),
then per size the median times, the ratio (< 1: libberg faster) and GFLOP/s.
"""
import os
import time

import numpy as np

import berg


def loaded_blas():
    """Shared objects with blas in their name mapped into this process."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower():
                    libs.add(os.path.realpath(path))
    except OSError:
        return ["(unknown: no /proc/self/maps)"]
    return sorted(libs)


def median_pair(fa, fb, samples=41):
    fa(), fb()
    ta, tb = [], []
    for s in range(samples):
        for f, t in ((fa, ta), (fb, tb)) if s % 2 == 0 else ((fb, tb), (fa, ta)):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return float(np.median(ta)), float(np.median(tb))


def location_rules_table():
    """Relative error of four rules for the location Fisher information on
    the same grids (the measurement behind berg_fisher_location's choice)."""
    from scipy import stats

    def plain_sqrt(p, h):      # interface differences of sqrt(p), midpoint
        r = np.sqrt(p)
        return 4 * np.sum(np.diff(r) ** 2) / h

    def central_log(p, h):     # grad ln p where p > 0, central differences
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.log(p)
            g = (lp[2:] - lp[:-2]) / (2 * h)
            t = np.where(p[1:-1] > 0, p[1:-1] * g * g, 0.0)
        return h * np.nansum(t)

    def central_p(p, h):       # (p')^2 / p where p > 0, central differences
        g = (p[2:] - p[:-2]) / (2 * h)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(p[1:-1] > 0, g * g / p[1:-1], 0.0)
        return h * np.sum(t)

    cases = [("Gaussian s=0.7", lambda x: stats.norm.pdf(x, scale=0.7), 1 / 0.49, 10),
             ("logistic s=0.5", lambda x: stats.logistic.pdf(x, scale=0.5), 1 / 0.75, 20),
             ("Laplace b=0.5, kink on a vertex", lambda x: stats.laplace.pdf(x, scale=0.5), 4, 12),
             ("Laplace b=0.5, kink 0.3h off", None, 4, 12),
             ("Cauchy g=1 on [-2000, 2000]", lambda x: stats.cauchy.pdf(x), None, 2000)]
    print("\nlocation Fisher information, relative error by rule and cells n:")
    print(f"{'density':34} {'n':>6} {'libberg':>10} {'sqrt-diff':>10} {'ln p':>10} {'dp^2/p':>10}")
    for name, pdf, want, L in cases:
        for n in (500, 2000, 8000) if "Cauchy" not in name else (40000, 160000):
            s = berg.Space((n,), -L, L, bc="neumann")
            x = s.coordinates(0)
            h = 2 * L / n
            if pdf is None:
                p = stats.laplace.pdf(x - 0.3 * h, scale=0.5)
            else:
                p = pdf(x)
            p = p / (p.sum() * h)
            w = want
            if w is None:   # truncated, renormalised Cauchy
                w = 0.5 / (stats.cauchy.cdf(L) - stats.cauchy.cdf(-L))
            errs = [berg.fisher_location(s, p)[0, 0], plain_sqrt(p, h), central_log(p, h),
                    central_p(p, h)]
            print(f"{name:34} {n:>6} " + " ".join(f"{e / w - 1:>10.2e}" for e in errs))


def main():
    x = np.random.default_rng(0).standard_normal((64, 8))
    _ = x.T @ x  # make numpy load its BLAS
    berg.fisher_from_scores(x)
    print("BLAS libraries loaded by numpy and libberg:")
    for lib in loaded_blas():
        print("   ", lib)
    print("OPENBLAS_NUM_THREADS =", os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
          " OPENBLAS_CORETYPE =", os.environ.get("OPENBLAS_CORETYPE", "(unset)"))
    for n, d in [(200000, 4), (100000, 16), (20000, 64), (4000, 256)]:
        X = np.random.default_rng(1).standard_normal((n, d))
        tb, tn = median_pair(lambda: berg.fisher_from_scores(X), lambda: X.T @ X / n)
        flops = n * d * (d + 1)
        print(f"from_scores {n:>7} x {d:<4} libberg {1e3 * tb:9.3f} ms   numpy X.T@X/N "
              f"{1e3 * tn:9.3f} ms   ratio {tb / tn:.3f}   "
              f"({flops / tb * 1e-9:.2f} vs {flops / tn * 1e-9:.2f} GFLOP/s, syrk flop count)")


def threads_table(samples=11):
    """Issue 18: N = 10^6, d = 64 at 1 and 2 libberg threads against numpy's
    X.T @ X / N at OpenBLAS's default thread count (libberg holds OpenBLAS at
    one thread only while its own threads run)."""
    n, d = 1000000, 64
    X = np.random.default_rng(2).standard_normal((n, d))
    print(f"\nfrom_scores {n} x {d}, OPENBLAS_NUM_THREADS =",
          os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"))
    ref = X.T @ X / n
    for t in (1, 2):
        berg.set_threads(t)
        I = berg.fisher_from_scores(X)
        tb, tn = median_pair(lambda: berg.fisher_from_scores(X), lambda: X.T @ X / n, samples)
        err = np.max(np.abs(I - ref)) / np.max(np.abs(ref))
        # process CPU time over wall time of 5 calls: about t when the
        # machine had t free cores, about 1 when the other jobs held them
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(5):
            berg.fisher_from_scores(X)
        load = (time.process_time() - c0) / (time.perf_counter() - w0)
        print(f"  {t} libberg thread{'s' if t > 1 else ' '}: libberg {1e3 * tb:8.1f} ms   "
              f"numpy {1e3 * tn:8.1f} ms   libberg is {tn / tb:.2f}x numpy   "
              f"(max |I - numpy| / max |I| = {err:.1e}; libberg CPU/wall {load:.2f})")
    berg.set_threads(1)


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["threads"]:  # the 10^6 x 64 thread table alone
        threads_table()
        sys.exit(0)
    main()
    threads_table()
    location_rules_table()
