"""Wasserstein distances and entropic transport against POT and scipy."""
import math
import sys

import numpy as np
import pytest
import scipy.linalg

import berg

ot = pytest.importorskip("ot")


def _cells_as_atoms(x, h, p, m=200):
    """m equal atoms per cell at sub-cell midpoints: POT's empirical measures
    approach the piecewise-constant reading as m grows (error O(h/m))."""
    off = (np.arange(m) + 0.5) / m - 0.5
    xs = (x[:, None] + h * off[None, :]).ravel()
    ws = np.repeat(p / p.sum() / m, m)
    return xs, ws


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_w1d_against_pot(seed):
    rng = np.random.default_rng(seed)
    n = 120
    s = berg.Space((n,), -2.0, 3.0, bc="neumann")
    x, h = s.coordinates(0), s.spacing[0]
    p = rng.random(n) * (rng.random(n) < 0.7)
    q = rng.random(n) ** 3
    xp, wp = _cells_as_atoms(x, h, p)
    xq, wq = _cells_as_atoms(x, h, q)
    for order in (1.0, 2.0, 3.0):
        mine = berg.wp_distance_1d(s, p, q, order)
        pot = ot.wasserstein_1d(xp, xq, wp, wq, p=order) ** (1.0 / order)
        # the sub-cell atoms are the piecewise-constant densities up to a
        # bias O(h/m) ~ 2e-4 h: agreement to 1e-6 relative
        assert mine == pytest.approx(pot, rel=1e-6), order
    assert berg.w2_distance_1d(s, p, q) == pytest.approx(berg.wp_distance_1d(s, p, q, 2), rel=1e-14)


def test_w1d_closed_forms_and_interpolation():
    s = berg.Space((1500,), -9.0, 9.0, bc="neumann")
    x, h = s.coordinates(0), s.spacing[0]
    from scipy.special import erf
    edges = np.append(x - h / 2, x[-1] + h / 2)

    def cells(m, sd):
        c = 0.5 * (1 + erf((edges - m) / (sd * np.sqrt(2))))
        return np.diff(c) / h

    p, q = cells(-1.0, 0.6), cells(1.5, 1.1)
    # read as piecewise constant, each cell adds h^2/12 to the variance
    sd1, sd2 = np.sqrt(0.6**2 + h**2 / 12), np.sqrt(1.1**2 + h**2 / 12)
    assert berg.w2_distance_1d(s, p, q) == pytest.approx(np.hypot(2.5, sd2 - sd1), rel=1e-6)
    mid = berg.w2_interpolate_1d(s, p, q, 0.4)
    m, c = s.moments(mid)
    # the interpolant of two Gaussians is the Gaussian with interpolated mean and sd
    assert m[0] == pytest.approx(-1.0 + 0.4 * 2.5, abs=1e-7)  # measured 2.7e-9
    assert np.sqrt(c[0, 0]) == pytest.approx(sd1 * 0.6 + sd2 * 0.4, rel=1e-4)
    assert berg.w2_distance_1d(s, p, mid) == pytest.approx(0.4 * np.hypot(2.5, sd2 - sd1),
                                                           rel=1e-5)  # measured 2.6e-6


def _bures_direct(m1, S1, m2, S2):
    r1 = scipy.linalg.sqrtm(S1)
    cross = scipy.linalg.sqrtm(r1 @ S2 @ r1)
    val = np.sum((m1 - m2) ** 2) + np.trace(S1) + np.trace(S2) - 2 * np.trace(cross).real
    return np.sqrt(max(val, 0.0))


@pytest.mark.parametrize("d", range(1, 9))
def test_bures_against_scipy(d):
    rng = np.random.default_rng(10 + d)
    mats = []
    for _ in range(3):
        a = rng.standard_normal((d, d))
        mats.append(a @ a.T + 0.1 * np.eye(d))
    ms = [rng.standard_normal(d) for _ in range(3)]
    w = berg.w2_gaussian(ms[0], mats[0], ms[1], mats[1])
    assert w == pytest.approx(_bures_direct(ms[0], mats[0], ms[1], mats[1]), rel=1e-9)
    assert berg.w2_gaussian(ms[1], mats[1], ms[0], mats[0]) == pytest.approx(w, rel=1e-12)
    assert berg.w2_gaussian(ms[0], mats[0], ms[0], mats[0]) < 1e-13 * np.sqrt(np.trace(mats[0]))
    w02 = berg.w2_gaussian(ms[0], mats[0], ms[2], mats[2])
    w21 = berg.w2_gaussian(ms[2], mats[2], ms[1], mats[1])
    assert w <= w02 + w21 + 1e-12


def test_bures_bad_input():
    with pytest.raises(berg.NotSPDError):
        berg.w2_gaussian([0, 0], [[1, 2], [2, 1]], [0, 0], np.eye(2))
    with pytest.raises(berg.NonFiniteError):
        berg.w2_gaussian([0, np.nan], np.eye(2), [0, 0], np.eye(2))


def _neumann_log_kernel(x, lo, hi, eps):
    """log of the Neumann image-sum kernel sum_images exp(-(x - y')^2 / eps) on one axis"""
    L = hi - lo
    X, Y = np.meshgrid(x, x, indexing="ij")
    terms = []
    for m in range(-3, 4):
        terms.append(-(X - (Y + 2 * m * L)) ** 2 / eps)
        terms.append(-(X - (2 * lo - Y + 2 * m * L)) ** 2 / eps)
    return scipy.special.logsumexp(np.array(terms), axis=0)


@pytest.mark.parametrize("log_domain", [False, True])
def test_sinkhorn_against_pot_2d(log_domain):
    import scipy.special  # noqa: F401
    n, eps = 14, 0.05
    s = berg.Space((n, n), 0.0, 1.0, bc="neumann")
    X, Y = s.grid()
    rng = np.random.default_rng(4)
    p = np.exp(-((X - 0.35) ** 2 + (Y - 0.4) ** 2) / 0.02) + 0.2 * rng.random(s.shape)
    q = np.exp(-((X - 0.65) ** 2 + (Y - 0.6) ** 2) / 0.03) + 0.2 * rng.random(s.shape)
    sk = berg.Sinkhorn(s, eps, log_domain=log_domain, tolerance=1e-12)
    cost = sk.cost(p, q)
    # POT on the same discrete problem: cost matrix of the image-sum kernel
    x = s.coordinates(0)
    lk = _neumann_log_kernel(x, 0.0, 1.0, eps)
    LK = (lk[:, None, :, None] + lk[None, :, None, :]).reshape(n * n, n * n)
    M = -eps * LK
    a, b = (p / p.sum()).ravel(), (q / q.sum()).ravel()
    G = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", numItermax=100000, stopThr=1e-13)
    pot = np.sum(G * M) + eps * np.sum(G * np.log(G / np.outer(a, b)))
    assert cost == pytest.approx(pot, rel=1e-8)
    # the plan from our potentials equals POT's
    c2, f, g = sk.solve(p, q)
    plan = np.outer(a, b) * np.exp((f.ravel()[:, None] + g.ravel()[None, :] + LK * eps) / eps)
    assert np.max(np.abs(plan - G)) < 1e-9 * G.max()
    err, iters = sk.report
    assert err <= 1e-12 and iters > 0


def test_sinkhorn_limit_and_divergence_1d():
    s = berg.Space((150,), 0.0, 1.0, bc="neumann")
    x = s.coordinates(0)
    p = np.exp(-0.5 * ((x - 0.3) / 0.05) ** 2)
    q = np.exp(-0.5 * ((x - 0.65) / 0.08) ** 2)
    W = berg.w2_distance_1d(s, p, q) ** 2
    errs = []
    for eps in (1e-2, 1e-3, 3e-4):
        sk = berg.Sinkhorn(s, eps, log_domain=True)
        errs.append(abs(sk.cost(p, q) - W))
        d = sk.divergence(p, q)
        assert d >= 0
        assert sk.divergence(p, p) == 0.0
    assert errs[0] > errs[1] > errs[2]
    assert d == pytest.approx(W, rel=1e-4)


def test_sinkhorn_nonconvergence_and_bad_input():
    s = berg.Space((32,), 0.0, 1.0, bc="neumann")
    x = s.coordinates(0)
    p, q = 1 + x, 2 - x
    sk = berg.Sinkhorn(s, 0.01, max_iterations=2, tolerance=1e-14)
    with pytest.raises(berg.ConvergenceError, match="marginal error"):
        sk.cost(p, q)
    err, iters = sk.report
    assert iters == 2 and err > 1e-14
    with pytest.raises(berg.DomainError):
        berg.Sinkhorn(s, 0.0)
    with pytest.raises(berg.UnsupportedError):
        berg.Sinkhorn(berg.Space((8,), 0, 1, bc="dirichlet"), 0.1)
    sk = berg.Sinkhorn(s, 0.01)
    bad = p.copy()
    bad[3] = -1
    with pytest.raises(berg.NegativeDensityError, match="index 3"):
        sk.divergence(bad, q)
    with pytest.raises(berg.MassError):
        sk.cost(np.zeros(32), q)


def test_barycenter_against_pot():
    n = 48
    h = 1.0 / (n - 1)  # POT's grid is linspace(0, 1, n): cell centres of this space
    s = berg.Space((n, n), -h / 2, 1 + h / 2, bc="neumann")
    X, Y = s.grid()
    A = np.zeros((2, n, n))
    A[0] = ((X - 0.35) ** 2 + (Y - 0.4) ** 2 < 0.12 ** 2).astype(float)
    A[1] = ((np.abs(X - 0.62) < 0.12) & (np.abs(Y - 0.6) < 0.08)).astype(float)
    A /= A.sum(axis=(1, 2), keepdims=True)
    w = np.array([0.3, 0.7])
    # log domain at a small reg: the walls are then >= 0.23 = 3 sqrt(reg)
    # from the supports, so the reflected images weigh < e^{-35}
    reg = 0.006
    pot = ot.bregman.convolutional_barycenter2d(A, reg, weights=w, numItermax=5000,
                                                stopThr=1e-11)
    pot = pot / pot.sum()
    sk = berg.Sinkhorn(s, reg, log_domain=True, tolerance=1e-10)
    mine = sk.barycenter(A, w) * s.cell_weight
    assert np.max(np.abs(mine - pot)) < 1e-8 * pot.max()
    # the FFT (scaling) mode needs reg large enough for the kernel to resolve
    # the whole layout; there it agrees with the log domain (same image-sum
    # kernel; POT's kernel has no images, which at this reg differ by 1e-4)
    reg = 0.02
    a = berg.Sinkhorn(s, reg, tolerance=1e-10).barycenter(A, w)
    b = berg.Sinkhorn(s, reg, log_domain=True, tolerance=1e-10).barycenter(A, w)
    assert np.max(np.abs(a - b)) < 1e-5 * b.max()  # FFT round-off in the far tails
    pot = ot.bregman.convolutional_barycenter2d(A, reg, weights=w, numItermax=5000,
                                                stopThr=1e-11)
    assert np.max(np.abs(a * s.cell_weight - pot / pot.sum())) < 1e-3 * pot.max()


def test_sinkhorn_threads_same_result():
    s = berg.Space((96, 64), 0.0, 1.0, bc=["neumann", "periodic"])
    X, Y = s.grid()
    p, _ = s.normalize(np.exp(-((X - 0.4) ** 2 + (Y - 0.5) ** 2) / 0.01))
    q, _ = s.normalize(np.exp(-((X - 0.6) ** 2 + (Y - 0.3) ** 2) / 0.02))
    # threaded plans may round differently; the solves (stopped at the
    # default 1e-9, well above the ~3e-11 rounding floor) agree to 1e-8
    one = berg.Sinkhorn(s, 0.02)
    two = berg.Sinkhorn(s, 0.02, threads=2)
    assert two.divergence(p, q) == pytest.approx(one.divergence(p, q), rel=1e-8)
    with pytest.raises(berg.DomainError, match="nthreads"):
        berg.Sinkhorn(s, 0.02, threads=0)
    with pytest.raises(berg.UnsupportedError, match="log-domain"):
        berg.Sinkhorn(s, 0.02, log_domain=True, threads=2)


def _bump(x, c, r):
    """compactly supported: the scaling mode resolves its kernel over it"""
    return np.maximum(0.0, 1.0 - ((x - c) / r) ** 2) ** 2


def test_sinkhorn_flags_and_epsilon():
    s = berg.Space((64,), 0.0, 1.0, bc="neumann")
    sk = berg.Sinkhorn(s, 0.02, plan_estimate=True)
    assert sk.eps == 0.02
    assert not sk.log_domain
    x = s.coordinates(0)
    p, q = _bump(x, 0.4, 0.12), _bump(x, 0.6, 0.15)
    assert sk.cost(p, q) == pytest.approx(berg.Sinkhorn(s, 0.02).cost(p, q), rel=1e-9)
    with pytest.raises(berg.DomainError, match="berg_sinkhorn_report"):
        berg.Sinkhorn(s, 0.02).report  # no solve of this thread yet


def test_sinkhorn_one_instance_many_threads():
    from concurrent.futures import ThreadPoolExecutor
    s = berg.Space((96,), 0.0, 1.0, bc="neumann")
    x = s.coordinates(0)
    pairs = [(_bump(x, 0.3 + 0.02 * k, 0.1), _bump(x, 0.6, 0.12)) for k in range(8)]
    for log_domain in (False, True):
        sk = berg.Sinkhorn(s, 0.02, log_domain=log_domain)
        serial = [sk.divergence(p, q) for p, q in pairs]
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = list(pool.map(lambda pq: sk.divergence(*pq), pairs))
        assert threaded == serial


def test_extreme_values_right_or_refused():
    # issue 13: subnormal measures and huge orders are computed, a cost
    # beyond the double range and an unresolvable log-domain eps are refused
    s = berg.Space((64,), 0.0, 1.0, bc="neumann")
    p = np.ones(64)
    q = np.where(np.arange(64) < 10, 1.0, 0.0)
    a = 10 / 64
    for r in (1000.0, 1e6, 1e300):
        want = (1 - a) * math.exp(-math.log1p(r) / r)
        assert berg.wp_distance_1d(s, p, q, r) == pytest.approx(want, rel=1e-12)
    tiny = 5e-324  # the smallest subnormal
    assert berg.w2_distance_1d(s, tiny * p, tiny * q) == pytest.approx(
        berg.w2_distance_1d(s, p, q), rel=1e-13)
    x = s.coordinates(0)
    f, g = _bump(x, 0.4, 0.12), _bump(x, 0.6, 0.15)
    with pytest.raises(berg.DomainError, match="eps"):
        berg.Sinkhorn(s, sys.float_info.max).cost(f, g)
    with pytest.raises(berg.DomainError, match="eps"):
        berg.Sinkhorn(s, 1e-300, log_domain=True).cost(f, g)
