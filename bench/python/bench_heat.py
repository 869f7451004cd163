"""One periodic heat step on the same grids with libberg, numpy.fft, scipy.fft
(workers 1 and 2) and scipy.ndimage.gaussian_filter(mode='wrap'); prints the
median time of interleaved runs and each ratio to libberg (> 1: libberg is
faster). Run:

  BERG_LIBRARY=build/lib/libberg.so PYTHONPATH=python \
      /usr/bin/python3 bench/python/bench_heat.py [repeats]

gaussian_filter is a truncated real-space convolution (truncate=4 sigma),
not the same operator; it is timed at the same sigma = sqrt(2 t) / h.
"libberg FD" is berg.Heat(space, fd=True) (the finite-difference
semigroup, a different operator too): its kernel is compact at every t, so
at short times it takes the direct path (issue 18).
"""
import sys
import time

import numpy as np
import scipy.fft
import scipy.ndimage

import berg


def symbol(shape, t):
    """exp(-t |k|^2) on the rfftn half spectrum of the unit box."""
    ks = [2 * np.pi * np.fft.fftfreq(n, d=1.0 / n) for n in shape[:-1]]
    ks.append(2 * np.pi * np.fft.rfftfreq(shape[-1], d=1.0 / shape[-1]))
    grids = np.meshgrid(*ks, indexing="ij", sparse=True)
    return np.exp(-t * sum(k * k for k in grids))


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    # t: the highest mode decays by e^{-6.9} (sigma ~ 1.2 cells), and for 1-D
    # 2^20 also sigma = 8 cells, where a real-space filter needs more taps
    cases = [("1-D 2^20", (1 << 20,), None), ("1-D 2^20 s=8", (1 << 20,), 8.0),
             ("2-D 1024^2", (1024, 1024), None), ("3-D 128^3", (128, 128, 128), None),
             ("1-D 4096", (4096,), None)]
    for name, shape, sig_cells in cases:
        t = 6.9 / (np.pi * max(shape)) ** 2
        if sig_cells is not None:
            t = 0.5 * (sig_cells / max(shape)) ** 2
        s = berg.Space(shape, 0.0, 1.0)
        heat = berg.Heat(s)
        heat_fd = berg.Heat(s, fd=True)
        p = np.random.default_rng(0).random(shape)
        out = np.empty(shape)
        sym = symbol(shape, t)
        sigma = np.sqrt(2 * t) * np.array(shape)  # in cells
        fns = {
            "libberg": lambda: heat.apply(p, t, out=out),
            "libberg FD": lambda: heat_fd.apply(p, t, out=out),
            "numpy.fft": lambda: np.fft.irfftn(np.fft.rfftn(p) * sym, s=shape),
            "scipy.fft w1": lambda: scipy.fft.irfftn(scipy.fft.rfftn(p, workers=1) * sym,
                                                     s=shape, workers=1),
            "scipy.fft w2": lambda: scipy.fft.irfftn(scipy.fft.rfftn(p, workers=2) * sym,
                                                     s=shape, workers=2),
            "gaussian_filter": lambda: scipy.ndimage.gaussian_filter(p, sigma, mode="wrap",
                                                                     output=out),
        }
        ref = np.fft.irfftn(np.fft.rfftn(p) * sym, s=shape)
        err = np.max(np.abs(heat.apply(p, t) - ref))
        calls = max(1, int(0.05 / max(1e-7, _once(fns["libberg"]))))
        times = {k: [] for k in fns}
        for _ in range(repeats):
            for k, f in fns.items():
                t0 = time.perf_counter()
                for _ in range(calls):
                    f()
                times[k].append((time.perf_counter() - t0) / calls)
        med = {k: float(np.median(v)) for k, v in times.items()}
        line = f"{name:12s} libberg {1e3 * med['libberg']:9.3f} ms"
        for k in fns:
            if k != "libberg":
                line += f" | {k} {1e3 * med[k]:9.3f} ms x{med[k] / med['libberg']:.2f}"
        print(line + f" | max |libberg - numpy| {err:.1e}", flush=True)


def _once(f):
    f()
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
