"""Fokker-Planck flows, spectral propagator, particles and lattice fields
against scipy (expm of an independently assembled generator, scipy.stats
closed forms and Kolmogorov-Smirnov tests)."""
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

import berg


def bernoulli(x):
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    m = np.abs(x) > 1e-12
    out[m] = x[m] / np.expm1(x[m])
    return out


def sg_matrix_1d(V, h, D=1.0, bc="neumann"):
    """Scharfetter-Gummel generator assembled densely in numpy."""
    n = len(V)
    L = np.zeros((n, n))
    pairs = [(i, i + 1) for i in range(n - 1)]
    if bc == "periodic" and n > 2:
        pairs.append((n - 1, 0))
    for i, j in pairs:
        rij = D / h**2 * bernoulli(V[j] - V[i])  # i -> j
        rji = D / h**2 * bernoulli(V[i] - V[j])
        L[j, i] += rij
        L[i, i] -= rij
        L[i, j] += rji
        L[j, j] -= rji
    return L


@pytest.mark.parametrize("bc", ["neumann", "periodic"])
def test_generator_and_evolution_vs_scipy_expm(bc):
    n = 80
    sp = berg.Space((n,), -2.5, 2.5, bc=bc)
    x = sp.coordinates(0)
    h = sp.spacing[0]
    V = (x**2 - 1) ** 2 + 0.3 * x
    fp = berg.FokkerPlanck(sp, V)
    L = sg_matrix_1d(V, h, bc=bc)
    cols = np.array([fp.generator(e) for e in np.eye(n)]).T
    np.testing.assert_allclose(cols, L, rtol=1e-12, atol=1e-12 * np.abs(L).max())
    p = np.exp(-((x - 1.0) ** 2) / 0.1)
    p /= sp.integrate(p)
    spec = fp.spectral()
    for t in (0.01, 0.2, 2.0):
        ref = scipy.linalg.expm(t * L) @ p
        got = fp.evolve(p, t)
        assert np.abs(got - ref).sum() * h < 2e-8
        assert np.abs(spec.evolve(p, t) - ref).sum() * h < 1e-10
    q = fp.stationary()
    qref = np.exp(-(V - V.min()))
    np.testing.assert_allclose(q, qref / (qref.sum() * h), rtol=1e-13)
    lam = spec.eigenvalues()
    ev = np.sort(np.linalg.eigvals(L).real)[::-1]
    np.testing.assert_allclose(lam[:5], ev[:5], rtol=1e-9, atol=1e-10)


def test_two_d_vs_expm():
    sp = berg.Space((9, 7), [-2, -1.5], [2, 1.5], bc=["periodic", "dirichlet"],
                    metric=[[1.5, 0], [0, 0.5]])
    X, Y = sp.grid()
    V = X**2 / 2 + X * Y + Y**2
    fp = berg.FokkerPlanck(sp, V)
    N = X.size
    L = np.array([fp.generator(e.reshape(sp.shape)).ravel() for e in np.eye(N)]).T
    p = np.exp(-((X - 0.5) ** 2 + Y**2))
    for t in (0.05, 0.5):
        ref = (scipy.linalg.expm(t * L) @ p.ravel()).reshape(sp.shape)
        mass = sp.integrate(ref)
        assert np.abs(fp.evolve(p, t) - ref).sum() * sp.cell_weight < 1e-8 * mass
        assert np.abs(fp.spectral().evolve(p, t) - ref).max() < 1e-11


def test_ou_closed_form_and_tolerance():
    sp = berg.Space((2000,), -6, 6, bc="neumann")
    x = sp.coordinates(0)
    fp = berg.FokkerPlanck(sp, 0.5 * x**2)
    p0 = scipy.stats.norm.pdf(x, 1.0, 0.5)
    t = 0.5
    pt = scipy.stats.norm.pdf(x, np.exp(-t), np.sqrt(1 - 0.75 * np.exp(-2 * t)))
    err = np.abs(fp.evolve(p0, t) - pt).sum() * sp.spacing[0]
    assert err < 0.1 * sp.spacing[0] ** 2  # second order in space, constant ~0.08
    fp.tolerance = 1e-4
    coarse = fp.evolve(p0, t)
    steps_coarse = fp.last_steps[0]
    fp.tolerance = 1e-10
    fine = fp.evolve(p0, t)
    assert np.abs(coarse - fine).sum() * sp.spacing[0] < 1e-4
    assert fp.last_steps[0] > steps_coarse
    with pytest.raises(berg.DomainError):
        fp.tolerance = 2.0


def test_fourier_ou_2d_coupled_metric_closed_form():
    """2-D Ornstein-Uhlenbeck with a coupled anisotropic metric on a periodic
    box: the covariance solves the Lyapunov equation, in closed form
    S(t) = e^{-Bt} (S0 - A^{-1}) e^{-B^T t} + A^{-1}, B = g^{-1} A."""
    g = np.array([[1.4, -0.5], [-0.5, 2.0]])
    gi = np.linalg.inv(g)
    A = np.array([[1.0, 0.6], [0.6, 2.0]])
    B = gi @ A
    sp = berg.Space((96, 96), -8, 8, bc="periodic", metric=g)
    X, Y = sp.grid()
    V = 0.5 * (A[0, 0] * X**2 + 2 * A[0, 1] * X * Y + A[1, 1] * Y**2)
    fp = berg.FokkerPlanck(sp, V, discretization="fourier")
    m0, S0 = np.array([1.0, -0.5]), np.array([[0.3, 0.1], [0.1, 0.2]])
    pts = np.stack([X, Y], axis=-1)
    vol = np.sqrt(np.linalg.det(g))  # densities w.r.t. the Riemannian volume
    p0 = scipy.stats.multivariate_normal(m0, S0).pdf(pts) / vol
    Ainv = np.linalg.inv(A)
    for t in (0.3, 1.5):
        E = scipy.linalg.expm(-B * t)
        St = E @ (S0 - Ainv) @ E.T + Ainv
        pt = scipy.stats.multivariate_normal(E @ m0, St).pdf(pts) / vol
        got = fp.evolve(p0, t)
        err = np.abs(got - pt).sum() * sp.cell_weight
        assert err < 1e-8, (t, err)  # the issue asks 1e-6; measured ~2.5e-10
        assert got.min() >= 0
        assert abs(sp.integrate(got) - sp.integrate(p0)) < 1e-13 * sp.integrate(p0)


def fourier_matrix_1d(V, L):
    """The Fourier generator assembled densely with numpy's FFT: with
    r = e^{-V/2}, L = R (D2 - diag(D2 r / r)) R^{-1}, D2 the spectral second
    derivative of a periodic grid."""
    n = len(V)
    k = 2 * np.pi * np.fft.fftfreq(n, d=L / n)
    D2 = np.real(np.fft.ifft(-(k**2)[:, None] * np.fft.fft(np.eye(n), axis=0), axis=0))
    r = np.exp(-(V - V.min()) / 2)
    U = (D2 @ r) / r
    return np.diag(r) @ (D2 - np.diag(U)) @ np.diag(1 / r)


def test_fourier_generator_vs_numpy_fft_and_expm():
    n, L = 48, 2 * np.pi
    sp = berg.Space((n,), 0, L, bc="periodic")
    x = sp.coordinates(0)
    V = 1.3 * np.cos(x) + 0.4 * np.sin(2 * x)
    fp = berg.FokkerPlanck(sp, V, discretization="fourier", estimate=True)
    Lm = fourier_matrix_1d(V, L)
    G = np.array([fp.generator(e) for e in np.eye(n)]).T
    assert np.abs(G - Lm).max() < 1e-13 * np.abs(Lm).max()
    p = np.exp(np.sin(x - 1.0) - V)
    for t in (0.1, 1.0):
        ref = scipy.linalg.expm(t * Lm) @ p
        assert np.abs(fp.evolve(p, t) - ref).sum() * sp.spacing[0] < 1e-8 * sp.integrate(p)
        assert np.abs(fp.spectral().evolve(p, t) - ref).max() < 1e-12 * p.max()
    q = fp.stationary()
    assert np.abs(fp.generator(q)).max() < 5e-13 * q.max()


def test_fourier_refusals():
    sp = berg.Space((64,), -8, 8, bc="periodic")
    x = sp.coordinates(0)
    with pytest.raises(berg.DomainError, match="not resolved"):
        berg.FokkerPlanck(sp, 0.3 * x, discretization="fourier")
    with pytest.raises(berg.UnsupportedError, match="periodic"):
        berg.FokkerPlanck(berg.Space((64,), -8, 8, bc="neumann"), 0.5 * x**2,
                          discretization="fourier")
    with pytest.raises(ValueError):
        berg.FokkerPlanck(sp, 0.5 * x**2, discretization="spectral")
    fp = berg.FokkerPlanck(sp, 0.5 * x**2, discretization="fourier")
    box = ((x > -1) & (x < 1)).astype(float)
    with pytest.raises(berg.DomainError, match="not resolved"):
        fp.evolve(box, 0.1)


@pytest.mark.parametrize("discretization", ["finite_volume", "fourier"])
def test_one_handle_from_many_threads(discretization):
    """One handle evolved from 8 threads at once gives the serial result bit
    for bit (ctypes releases the GIL during the call)."""
    from concurrent.futures import ThreadPoolExecutor

    sp = berg.Space((64, 48), -8, 8, bc="periodic")
    x, y = np.meshgrid(sp.coordinates(0), sp.coordinates(1), indexing="ij")
    fp = berg.FokkerPlanck(sp, 0.5 * x**2 + 0.5 * y**2, discretization=discretization,
                           estimate=True)
    p = np.exp(-((x - 1) ** 2 + y**2) / 2)
    serial = fp.evolve(p, 0.4)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: fp.evolve(p, 0.4), range(16)))
    for r in results:
        assert np.array_equal(r, serial)
    spec = berg.FokkerPlanck(berg.Space((32,), -5, 5, bc="neumann"),
                             0.5 * berg.Space((32,), -5, 5).coordinates(0) ** 2).spectral()
    q = np.ones(32)
    ref = spec.evolve(q, 0.3)
    with ThreadPoolExecutor(8) as pool:
        assert all(np.array_equal(r, ref)
                   for r in pool.map(lambda _: spec.evolve(q, 0.3), range(16)))


def test_wegner_morris_velocity():
    sp = berg.Space((400,), -5, 5, bc="neumann")
    x = sp.coordinates(0)
    fp = berg.FokkerPlanck(sp, 0.5 * x**2)
    p = scipy.stats.norm.pdf(x, 0.3, 0.8)
    psi = fp.velocity(p)[0]
    np.testing.assert_allclose(psi[1:-1], -(x - (x - 0.3) / 0.64)[1:-1], rtol=0, atol=1e-9)
    sigma = fp.scheme(p)
    assert abs(sigma.mean()) < 1e-12


def test_bad_input():
    sp = berg.Space((10,), 0, 1, bc="neumann")
    V = np.zeros(10)
    V[4] = np.nan
    with pytest.raises(berg.NonFiniteError, match=r"V\[4\]"):
        berg.FokkerPlanck(sp, V)
    fp = berg.FokkerPlanck(sp, np.zeros(10))
    with pytest.raises(berg.TimeError):
        fp.evolve(np.ones(10), -1.0)
    p = np.ones(10)
    p[2] = -1
    with pytest.raises(berg.NegativeDensityError):
        fp.evolve(p, 1.0)
    g2 = berg.Space((4, 4), 0, 1, metric=[[2, 0.5], [0.5, 1]])
    with pytest.raises(berg.UnsupportedError):
        berg.FokkerPlanck(g2, np.zeros((4, 4)))
    ps = berg.Particles(1, seed=1)
    with pytest.raises(berg.SizeError):
        ps.ou(np.zeros(0), 1.0, [[1.0]])

    def bad(x):
        raise RuntimeError("boom")

    x = np.zeros(5)
    with pytest.raises(berg.CallbackError) as info:
        ps.euler(x, 0.1, 3, bad)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert np.all(x == 0)


def test_particles_exact_ou_ks():
    ps = berg.Particles(1, seed=42)
    x = np.full(20000, 2.0)
    a, t = 1.3, 0.4
    ps.ou(x, t, [[a]])
    mean = 2.0 * np.exp(-a * t)
    sd = np.sqrt(-np.expm1(-2 * a * t) / a)
    assert scipy.stats.kstest(x, scipy.stats.norm(mean, sd).cdf).pvalue > 1e-3
    # the test has power: a wrong variance is rejected
    assert scipy.stats.kstest(x, scipy.stats.norm(mean, 1.1 * sd).cdf).pvalue < 1e-3


def test_particles_euler_vs_fokker_planck_ks():
    sp = berg.Space((800,), -3, 3, bc="neumann")
    xg = sp.coordinates(0)
    h = sp.spacing[0]
    fp = berg.FokkerPlanck(sp, (xg**2 - 1) ** 2)
    i0 = 450
    p0 = np.zeros(800)
    p0[i0] = 1 / h
    pt = fp.evolve(p0, 0.5)
    cdf_grid = np.concatenate([[0.0], np.cumsum(pt) * h])
    edges = np.concatenate([[xg[0] - h / 2], xg + h / 2])
    ps = berg.Particles(1, seed=7)
    x = np.full(1000, xg[i0])  # one Python callback per particle step: keep it small
    ps.euler(x, 5e-3, 100, lambda y: 4 * y * (y * y - 1))
    res = scipy.stats.kstest(x, lambda v: np.interp(v, edges, cdf_grid))
    assert res.pvalue > 1e-3
    hist, outside = berg.particle_histogram(sp, x)
    assert outside == 0
    assert abs(sp.integrate(hist) - 1) < 1e-12


def test_langevin_free_field():
    n, m2, dt = 16, 1.0, 0.05
    sp = berg.Space((n,), 0, n)
    lf = berg.Langevin(sp, lambda k: np.exp(-(k @ k) / 4), seed=3)

    def grad(phi):
        return -(np.roll(phi, 1) - 2 * phi + np.roll(phi, -1)) + m2 * phi

    phi = np.zeros(n)
    lf.step(phi, dt, 300, grad)
    acc = 0.0
    S = 3000
    for _ in range(S):
        lf.step(phi, dt, 1, grad)
        acc += np.mean(phi * phi)
    k = 2 * np.pi * np.fft.fftfreq(n)
    K = 4 * np.sin(k / 2) ** 2 + m2
    a = dt * np.exp(-k * k / 4) * K
    g0 = np.mean(1 / (K * (1 - a / 2)))
    assert abs(acc / S - g0) < 0.08 * g0
    with pytest.raises(berg.UnsupportedError):
        berg.Langevin(berg.Space((n,), 0, n, bc="neumann"), lambda k: 1.0)
    a1 = berg.Langevin.regulator(sp, "exponential", 2.0, seed=4)
    a2 = berg.Langevin(sp, lambda k: np.exp(-(k @ k) / 4), seed=4)
    f1, f2 = np.zeros(n), np.zeros(n)
    a1.step(f1, dt, 10, grad)
    a2.step(f2, dt, 10, grad)
    np.testing.assert_allclose(f1, f2, rtol=0, atol=1e-12)
    with pytest.raises(berg.DomainError):
        berg.Langevin.regulator(sp, "litim", -1.0)


def _guarded_grad(g, limit=10):
    """g with a call budget: a count that wrapped to 2^64 - 1 in C then fails
    with CallbackError after `limit` calls instead of running for hours."""
    calls = []

    def grad(x):
        calls.append(1)
        if len(calls) > limit:
            raise RuntimeError("callback budget exhausted: the count reached C wrapped")
        return g(x)

    return grad, calls


def test_negative_counts_are_refused_before_c():
    ps = berg.Particles(1, seed=1)
    x = np.zeros(3)
    grad, calls = _guarded_grad(lambda y: y)
    for bad in (-1, 2.5, "3"):
        with pytest.raises(ValueError, match="nsteps"):
            ps.euler(x, 0.1, bad, grad)
    sp = berg.Space((8,), 0, 8)
    lf = berg.Langevin(sp, lambda k: 1.0, seed=1)
    phi = np.zeros(8)
    for bad in (-1, 1.0):
        with pytest.raises(ValueError, match="nsteps"):
            lf.step(phi, 0.01, bad, grad)
    assert not calls and np.all(x == 0) and np.all(phi == 0)
    ps.euler(x, 0.1, np.int64(2), grad)  # numpy integers are counts
    assert len(calls) == 2 * x.size
    fp = berg.FokkerPlanck(berg.Space((6,), 0, 1, bc="neumann"), np.zeros(6))
    with pytest.raises(ValueError, match="k must be"):
        fp.spectral().mode(-1)


def test_in_place_arrays_must_be_writeable():
    sp = berg.Space((16,), 0, 16)
    lf = berg.Langevin(sp, lambda k: 1.0, seed=1)
    ro = np.frombuffer(bytes(128))  # 16 read-only zeros
    with pytest.raises(ValueError, match="phi .*writeable"):
        lf.step(ro, 0.01, 1, lambda f: f + 1)
    assert not ro.any()
    with pytest.raises(ValueError, match="phi"):
        lf.step(np.zeros(16)[::-1], 0.01, 1, lambda f: f + 1)  # not C-contiguous
    with pytest.raises(ValueError, match="phi"):
        lf.step([0.0] * 16, 0.01, 1, lambda f: f + 1)  # a copy would not be updated
    ps = berg.Particles(1, seed=1)
    for x in (np.frombuffer(bytes(128)), [0.0] * 16, np.zeros(16, dtype=np.float32)):
        with pytest.raises(ValueError, match="x .*writeable"):
            ps.euler(x, 0.1, 1, lambda y: y)
        with pytest.raises(ValueError, match="x .*writeable"):
            ps.ou(x, 0.1, [[1.0]])
    assert not ro.any()


def test_langevin_regulator_names():
    sp = berg.Space((8,), 0, 8)
    with pytest.raises(ValueError, match="litim_dot"):
        berg.Langevin.regulator(sp, "nope", 1.0)
