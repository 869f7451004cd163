"""Information functionals, cumulants and the W2 metric against scipy."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import scipy.stats as st

import berg


def gaussian(space, mean, cov):
    X = np.stack(space.grid(), axis=-1)
    d = X - np.asarray(mean)
    P = np.linalg.inv(np.atleast_2d(cov))
    p = np.exp(-0.5 * np.einsum("...a,ab,...b->...", d, P, d))
    return space.normalize(p)[0]


def test_entropy_and_kl_against_scipy():
    s = berg.Space((500,), -14.0, 14.0, metric=[[2.5]])
    p = gaussian(s, [0.4], [[1.3]])
    q = gaussian(s, [-0.2], [[2.2]])
    w = s.cell_weight
    # the grid quantities equal scipy's discrete entropy/KL of the cell probabilities
    assert berg.entropy(s, p) == pytest.approx(st.entropy(p * w) + np.log(w), rel=1e-13)
    assert berg.kl_divergence(s, p, q) == pytest.approx(st.entropy(p * w, q * w), rel=1e-12)
    # and the continuum closed form (density w.r.t. Vol = sqrt(g) dx)
    assert berg.entropy(s, p) == pytest.approx(
        st.norm(0.4, np.sqrt(1.3)).entropy() + 0.5 * np.log(2.5), rel=1e-12)
    assert berg.cross_entropy(s, p, q) == pytest.approx(
        berg.entropy(s, p) + berg.kl_divergence(s, p, q), rel=1e-13)
    q0 = q.copy()
    q0[:250] = 0
    q0, _ = s.normalize(q0)
    assert berg.kl_divergence(s, p, q0) == np.inf


def test_multivariate_entropy():
    g = np.array([[1.5, 0.0], [0.0, 0.6]])
    s = berg.Space((90, 100), [-12, -12], [12, 12], metric=g)
    cov = np.array([[1.4, 0.5], [0.5, 1.1]])
    p = gaussian(s, [0.3, -0.4], cov)
    want = st.multivariate_normal([0, 0], cov).entropy() + 0.5 * np.log(np.linalg.det(g))
    assert berg.entropy(s, p) == pytest.approx(want, rel=1e-11)


def test_free_energy_identity():
    s = berg.Space((200,), -6, 6, bc="neumann")
    (x,) = s.grid()
    V = 0.5 * x**2 + 0.3 * np.sin(2 * x)
    Z = s.integrate(np.exp(-V))
    q = np.exp(-V) / Z
    p = gaussian(s, [1.0], [[0.7]])
    assert berg.free_energy(s, p, V) + np.log(Z) == pytest.approx(
        berg.kl_divergence(s, p, q), rel=1e-12)


def test_cumulants_against_scipy_gamma():
    a, scale = 3.0, 0.8
    s = berg.Space((8000,), 0.0, 60.0, bc="neumann")
    (x,) = s.grid()
    p, _ = s.normalize(st.gamma(a, scale=scale).pdf(x))
    k = berg.cumulants(s, p, 4)
    mean, var, skew, kurt = st.gamma(a, scale=scale).stats(moments="mvsk")
    np.testing.assert_allclose(k[1:], [mean, var, skew * var**1.5, kurt * var**2], rtol=1e-9)


def test_moments_of_random_density_against_numpy():
    rng = np.random.default_rng(3)
    s = berg.Space((30, 20), [-2, 0], [3, 5])
    p, _ = s.normalize(rng.random(s.shape))
    X, Y = s.grid()
    w = p * s.cell_weight
    m = berg.moments(s, p, 4)
    assert m[2, 1] == pytest.approx(np.sum(w * X**2 * Y), rel=1e-12)
    assert m[0, 4] == pytest.approx(np.sum(w * Y**4), rel=1e-12)
    assert m[3, 2] == 0.0  # beyond the order
    c = berg.central_moments(s, p, 4)
    mx, my = np.sum(w * X), np.sum(w * Y)
    dx, dy = X - mx, Y - my
    assert c[2, 2] == pytest.approx(np.sum(w * dx**2 * dy**2), rel=1e-11)
    k = berg.cumulants(s, p, 4)
    # 1-D: kappa_3 = mu_3, kappa_4 = mu_4 - 3 mu_2^2; mixed kappa_22 formula
    mu = lambda i, j: np.sum(w * dx**i * dy**j)  # noqa: E731
    assert k[3, 0] == pytest.approx(mu(3, 0), rel=1e-10)
    assert k[0, 4] == pytest.approx(mu(0, 4) - 3 * mu(0, 2) ** 2, rel=1e-10)
    k22 = mu(2, 2) - mu(2, 0) * mu(0, 2) - 2 * mu(1, 1) ** 2
    assert k[2, 2] == pytest.approx(k22, rel=1e-9, abs=1e-13)
    k21 = mu(2, 1)
    assert k[2, 1] == pytest.approx(k21, rel=1e-10, abs=1e-14)
    # kappa_1 is the mean of the marginal
    np.testing.assert_allclose(k[1, 0], mx, rtol=1e-13)


def assemble(s, p):
    """The W2 operator div(theta(p) g^-1 grad) assembled independently."""
    n = s.shape
    N = s.size
    idx = np.arange(N).reshape(n)
    ginv = s.inverse_metric
    h = s.spacing
    rows, cols, vals = [], [], []
    for a in range(s.ndim):
        lo = idx
        hi = np.roll(idx, -1, axis=a)
        plo, phi = p.ravel()[lo], p.ravel()[hi]
        with np.errstate(divide="ignore", invalid="ignore"):
            th = np.where(np.isclose(plo, phi, rtol=0, atol=0), plo,
                          (phi - plo) / (np.log(phi) - np.log(plo)))
        if s.boundaries[a] != "periodic":
            sl = [slice(None)] * s.ndim
            sl[a] = slice(0, n[a] - 1)
            lo, hi, th = lo[tuple(sl)], hi[tuple(sl)], th[tuple(sl)]
        c = ginv[a, a] / h[a] ** 2 * th.ravel()
        lo, hi = lo.ravel(), hi.ravel()
        rows += [lo, lo, hi, hi]
        cols += [lo, hi, hi, lo]
        vals += [-c, c, -c, c]
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(N, N))


def test_w2_potential_against_sparse_solve():
    s = berg.Space((24, 18), [-3, -2], [3, 2], bc=["neumann", "periodic"],
                   metric=[[1.2, 0], [0, 0.7]])
    X, Y = s.grid()
    p, _ = s.normalize(np.exp(-0.5 * X**2 + 0.4 * np.cos(np.pi * Y)))
    rng = np.random.default_rng(0)
    eta = s.project_tangent(rng.standard_normal(s.shape))
    m = berg.W2Metric(s, p, flags=berg._lib.constant("BERG_PLAN_ESTIMATE"))
    eh = m.potential(eta)
    assert m.residual <= 1e-10 and 0 < m.iterations < 60
    L = assemble(s, p)
    # fix the gauge: replace one equation by the zero-mean condition
    A = L.tolil()
    A[0, :] = np.ones(s.size)
    b = eta.ravel().copy()
    b[0] = 0.0
    ref = spla.spsolve(A.tocsr(), b)
    np.testing.assert_allclose(eh.ravel(), ref, rtol=0, atol=1e-8 * np.abs(ref).max())
    np.testing.assert_allclose((L @ eh.ravel()), eta.ravel(), atol=1e-9 * np.abs(eta).max())
    # G_W2 = -integral eta1 eta_hat2, symmetric, positive
    eta2 = s.project_tangent(rng.standard_normal(s.shape))
    G12, G21 = m.inner(eta, eta2), m.inner(eta2, eta)
    assert G12 == pytest.approx(G21, rel=1e-8)
    assert m.inner(eta, eta) > 0
    # grad_W2 S = discrete Laplacian (eq 19)
    lap = berg.discrete_laplacian(s, p)
    gw = berg.w2_gradient(s, p, berg.entropy_derivative(s, p))
    np.testing.assert_allclose(gw, lap, atol=1e-12 * np.abs(lap).max())
    np.testing.assert_allclose(-(L @ berg.entropy_derivative(s, p).ravel()), gw.ravel(),
                               atol=1e-10 * np.abs(lap).max())


def test_errors():
    s = berg.Space((16,), 0, 1)
    p = np.ones(16)
    with pytest.raises(berg.MassError, match="normalize"):
        berg.entropy(s, 0.5 * p)
    bad = p.copy()
    bad[3] = -1
    with pytest.raises(berg.NegativeDensityError, match="index 3"):
        berg.entropy(s, bad)
    m = berg.W2Metric(s, s.normalize(1.5 + np.sin(np.linspace(0, 6, 16)))[0])
    with pytest.raises(berg.NotTangentError):
        m.potential(np.linspace(0, 1, 16))
    m.set_max_iterations(1)
    m.set_tolerance(1e-14)
    x = np.linspace(-1, 1, 16) ** 3
    with pytest.raises(berg.ConvergenceError, match="residual"):
        m.potential(x - x.mean())
    assert m.iterations == 1 and m.residual > 1e-14
    with pytest.raises(berg.DomainError):
        berg.cumulants(s, p, 0)
    # the library's own order check, behind the binding's pre-check
    out = np.empty(18)
    for name, f in (("moments", berg.metric._moments), ("central_moments", berg.metric._central),
                    ("cumulants", berg.metric._cumulants)):
        for order in (0, 17):
            with pytest.raises(berg.DomainError, match=f"berg_{name}: order = {order} "):
                berg._lib.check(f(s.handle, order, berg._lib.ptr(p), berg._lib.ptr(out)))
    with pytest.raises(ValueError, match="max_iterations"):
        m.set_max_iterations(-1)
    with pytest.raises(berg.DomainError, match="berg_w2_metric_set_max_iterations"):
        m.set_max_iterations(0)
    g = berg.Space((4, 4), 0, 1, metric=[[1, 0.2], [0.2, 1]])
    with pytest.raises(berg.UnsupportedError, match="axes 0 and 1"):
        berg.density_fisher_information(g, np.ones((4, 4)) / g.cell_weight / 16)
    # flags of another creator are refused by name
    with pytest.raises(berg.DomainError, match="BERG_SYMBOL_FD"):
        berg.W2Metric(s, s.normalize(np.ones(16))[0], flags=berg._lib.constant("BERG_SYMBOL_FD"))


def test_fisher_information_of_a_gaussian():
    # the density Fisher information of N(mu, sigma^2) with metric g is 1/(g sigma^2),
    # exactly on the grid; the 0.x name is the same function
    s = berg.Space((400,), -12.0, 12.0, metric=[[4.0]])
    p = gaussian(s, [0.3], [[1.7]])
    assert berg.density_fisher_information(s, p) == pytest.approx(1 / (4.0 * 1.7), rel=1e-12)
    assert berg.fisher_information(s, p) == berg.density_fisher_information(s, p)
    d = berg.density_fisher_information_derivative(s, p)
    assert d.shape == p.shape and np.all(np.isfinite(d))


def test_w2_metric_from_threads():
    # one W2Metric solved from several threads at once gives the serial answers
    from concurrent.futures import ThreadPoolExecutor
    s = berg.Space((40, 32), [-3, -2], [3, 2], bc=["neumann", "periodic"])
    X, Y = s.grid()
    p, _ = s.normalize(np.exp(-0.5 * X**2 + 0.3 * np.sin(Y)))
    rng = np.random.default_rng(5)
    etas = [s.project_tangent(rng.standard_normal(s.shape)) for _ in range(8)]
    m = berg.W2Metric(s, p, flags=berg._lib.constant("BERG_PLAN_ESTIMATE"))
    serial = [m.potential(e) for e in etas]
    with ThreadPoolExecutor(max_workers=8) as ex:
        threaded = list(ex.map(m.potential, etas))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
