"""berg.FokkerPlanck.evolve against scipy's sparse-matrix exponential
(scipy.sparse.linalg.expm_multiply) applied to the same Scharfetter-Gummel
generator, assembled here from the library's own L (columns of
FokkerPlanck.generator), and against a dense scipy.linalg.expm where it fits.
The Fourier discretization (discretization="fourier") is compared with
scipy.linalg.expm of its dense generator (assembled from the columns of
FokkerPlanck.generator) times p: a periodic 1-D and a 2-D case with a
coupled metric.
Prints the median time of interleaved runs, the L1 difference to the
reference and the ratio (> 1: libberg is faster). Run:

  BERG_LIBRARY=build/lib/libberg.so PYTHONPATH=python \
      /usr/bin/python3 bench/python/bench_fp.py [repeats]
"""
import sys
import time

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

import berg


def sparse_generator(fp, shape):
    """L as a sparse matrix: the stencil has 2d+1 entries per column, so
    2d+1 probe vectors with disjoint supports recover it exactly."""
    n = int(np.prod(shape))
    d = len(shape)
    periodic = [b == "periodic" for b in fp.space.boundaries]
    rows, cols, vals = [], [], []
    idx = np.arange(n).reshape(shape)
    # colour (sum_a (a+1) i_a) mod (2d+1): a cell and its 2d in-grid
    # neighbours all get distinct colours (across a periodic wrap only when
    # 2d+1 divides the axis length; the assertion below catches the rest)
    colour = sum((a + 1) * np.indices(shape)[a] for a in range(d)) % (2 * d + 1)
    for c in range(2 * d + 1):
        probe = (colour == c).astype(float)
        out = fp.generator(probe).ravel()
        nz = np.nonzero(out)[0]
        # each output entry belongs to the unique probed neighbour (or itself)
        for i in nz:
            ii = np.unravel_index(i, shape)
            cand = {idx[ii]}
            for a in range(d):
                for s in (-1, 1):
                    jj = list(ii)
                    jj[a] += s
                    if periodic[a]:
                        jj[a] %= shape[a]
                    elif not 0 <= jj[a] < shape[a]:
                        continue  # no neighbour across a Neumann/Dirichlet wall
                    cand.add(idx[tuple(jj)])
            src = [j for j in cand if probe.ravel()[j] == 1.0]
            assert len(src) == 1, f"entry {ii} has {len(src)} probed sources"
            rows.append(i)
            cols.append(src[0])
            vals.append(out[i])
    return scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))


def median_time(f, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cases = [((2048,), 0.5), ((96, 96), 0.4)]
    for shape, t in cases:
        sp = berg.Space(shape, -5, 5, bc="neumann")
        grids = sp.grid()
        V = 0.5 * sum((a + 1) * g * g for a, g in enumerate(grids))
        p0 = np.exp(-sum((g - 0.7) ** 2 / 0.3 for g in grids))
        p0 /= sp.integrate(p0)
        fp = berg.FokkerPlanck(sp, V)
        L = sparse_generator(fp, shape)
        ref = scipy.sparse.linalg.expm_multiply(t * L, p0.ravel())
        got = fp.evolve(p0, t).ravel()
        l1 = np.abs(got - ref).sum() * sp.cell_weight
        tb = median_time(lambda: fp.evolve(p0, t), repeats)
        ts = median_time(lambda: scipy.sparse.linalg.expm_multiply(t * L, p0.ravel()), repeats)
        print(f"fp evolve {shape} t={t}: libberg {1e3 * tb:9.2f} ms  scipy expm_multiply "
              f"{1e3 * ts:9.2f} ms  ratio {ts / tb:6.2f}  L1 difference {l1:.2e}")

    for shape, L, t in [((256,), 9.0, 0.5), ((44, 44), 6.5, 0.4)]:
        metric = None if len(shape) == 1 else [[1.0, 0.4], [0.4, 1.5]]
        sp = berg.Space(shape, -L, L, bc="periodic", metric=metric)
        grids = sp.grid()
        V = 0.5 * sum((a + 1) * g * g for a, g in enumerate(grids))
        p0 = np.exp(-sum((g - 0.7) ** 2 / 1.2 for g in grids))  # decays like e^{-V/2}
        p0 /= sp.integrate(p0)
        fp = berg.FokkerPlanck(sp, V, discretization="fourier")
        n = p0.size
        G = np.array([fp.generator(e.reshape(shape)).ravel() for e in np.eye(n)]).T
        ref = scipy.linalg.expm(t * G) @ p0.ravel()
        got = fp.evolve(p0, t).ravel()
        l1 = np.abs(got - ref).sum() * sp.cell_weight
        tb = median_time(lambda: fp.evolve(p0, t), repeats)
        ts = median_time(lambda: scipy.linalg.expm(t * G) @ p0.ravel(), repeats)
        print(f"fourier evolve {shape} t={t}: libberg {1e3 * tb:9.2f} ms  scipy dense expm "
              f"{1e3 * ts:9.2f} ms  ratio {ts / tb:6.2f}  L1 difference {l1:.2e}")


if __name__ == "__main__":
    main()
