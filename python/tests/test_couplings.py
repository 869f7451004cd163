"""Couplings against independent numpy/scipy computations: the KL projection
against scipy.optimize maximum likelihood on the grid, score matching
against numpy's least squares of the score-matching system built from
numpy gradients, the sandwich covariance against a numpy sandwich, exact
Gaussian ensembles (numpy multivariate normals of a known precision),
beta functions against numpy.gradient(edge_order=2), the flow record,
Python operators, refusals, and the module's doctests."""
import doctest

import numpy as np
import pytest
from scipy import optimize

import berg
import berg.couplings


def ring(n, length=None):
    return berg.Space((n,), 0.0, float(length if length is not None else n))


def np_ops(phi, h=1.0):
    """values, gradients and Laplacians of grad2, phi2, phi4 on a 1-D ring
    (spacing h, w = h), computed with numpy"""
    w = h
    d = (np.roll(phi, -1) - phi) / h
    vals = np.array([w * np.sum(d * d), w * np.sum(phi**2), w * np.sum(phi**4)])
    g_grad2 = 2 * w / h**2 * (2 * phi - np.roll(phi, -1) - np.roll(phi, 1))
    grads = np.array([g_grad2, 2 * w * phi, 4 * w * phi**3])
    n = phi.size
    laps = np.array([4 * w * n / h**2, 2 * w * n, 12 * w * np.sum(phi**2)])
    return vals, grads, laps


def test_basis_matches_numpy():
    rng = np.random.default_rng(3)
    lat = ring(7, 3.5)
    b = berg.Basis(lat, ["grad2", "phi2", "phi4"])
    phi = rng.normal(size=7)
    v, g, lap = np_ops(phi, 0.5)
    np.testing.assert_allclose(b.evaluate(phi)[0], v, rtol=1e-13)
    G, L = b.gradient(phi)
    np.testing.assert_allclose(G, g, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(L, lap, rtol=1e-13)


def test_score_matching_is_numpy_lstsq_and_sandwich():
    rng = np.random.default_rng(4)
    lat = ring(6)
    b = berg.Basis(lat, ["grad2", "phi2", "phi4"])
    phi = rng.normal(size=(300, 6)) * 0.8
    lam, cov = berg.couplings_score_matching(b, phi)
    G = np.array([np_ops(f)[1] for f in phi])          # (N, k, cells)
    c = np.array([np_ops(f)[2] for f in phi])          # (N, k)
    Gm = np.einsum("mix,mjx->mij", G, G)
    A, bb = Gm.mean(0), c.mean(0)
    want = np.linalg.lstsq(A, bb, rcond=None)[0]
    np.testing.assert_allclose(lam, want, rtol=1e-10)
    psi = np.linalg.solve(A, (c - Gm @ lam).T).T
    N = len(phi)
    np.testing.assert_allclose(cov, psi.T @ psi / (N * (N - 1)), rtol=1e-9)
    # batch means: nb / (nb - 1) / N^2 sum_b S_b S_b^T
    lam5, cov5 = berg.couplings_score_matching(b, phi, nbatch=5)
    Sb = np.array([p.sum(0) for p in np.array_split(psi, 5)])
    np.testing.assert_allclose(cov5, 5 / 4 / N**2 * Sb.T @ Sb, rtol=1e-9)


def test_exact_gaussian_ensemble_within_three_standard_errors():
    # S = lg L_grad2 + l2 L_phi2 on a ring of 10 sites, h = 1: a Gaussian of
    # precision K = 2 (lg (-Laplacian) + l2 I), sampled by numpy
    rng = np.random.default_rng(5)
    n, lg, l2 = 10, 0.7, 0.4
    lap = -2 * np.eye(n) + np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)
    K = 2 * (lg * -lap + l2 * np.eye(n))
    phi = rng.multivariate_normal(np.zeros(n), np.linalg.inv(K), size=3000)
    b = berg.Basis(ring(n), ["grad2", "phi2"])
    lam, cov = berg.couplings_score_matching(b, phi)
    z = (lam - [lg, l2]) / np.sqrt(np.diag(cov))
    assert np.all(np.abs(z) < 3), z


def test_kl_projection_is_scipy_maximum_likelihood():
    # a 2-site lattice, a density NOT of the family: the projection is the
    # minimiser of lambda.E_p[L] + ln sum exp(-lambda.L) (grid maximum
    # likelihood), found here by scipy BFGS
    s = berg.Space((70, 70), -3.5, 3.5, bc="neumann")
    b = berg.Basis(ring(2, 2.0), ["grad2", "phi2", "phi4"])
    x, y = np.meshgrid(s.coordinates(0), s.coordinates(1), indexing="ij")
    p = np.exp(-0.3 * (x - y) ** 2 - 0.2 * (x**2 + y**2) - 0.05 * (x**4 + y**4)
               - 0.3 * np.abs(x + y))
    Lv = b.evaluate(np.stack([x.ravel(), y.ravel()], 1))          # (n, k)
    q = (p / p.sum()).ravel()
    mp = q @ Lv

    def f(lam):
        e = -Lv @ lam
        m = e.max()
        return lam @ mp + m + np.log(np.exp(e - m).sum())

    def grad(lam):
        e = -Lv @ lam
        w = np.exp(e - e.max())
        return mp - (w / w.sum()) @ Lv

    ref = optimize.minimize(f, np.zeros(3), jac=grad, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 1000}).x
    lam = berg.couplings_kl_projection(b, s, p)
    np.testing.assert_allclose(lam, ref, rtol=1e-6, atol=1e-8)
    # on a density of the family both methods agree to 1e-6 with its couplings
    lt = np.array([0.4, 0.3, 0.08])
    pf = np.exp(-(Lv @ lt)).reshape(p.shape)
    np.testing.assert_allclose(berg.couplings_kl_projection(b, s, pf), lt, atol=1e-9)
    np.testing.assert_allclose(berg.couplings_grid_score_matching(b, s, pf), lt, atol=1e-6)


def test_beta_is_numpy_gradient_and_propagates_covariance():
    rng = np.random.default_rng(6)
    s = np.sort(rng.uniform(0, 2, 9))
    lam = np.stack([np.sin(s), np.exp(-s)], 1)
    beta, _ = berg.couplings_beta(s, lam)
    np.testing.assert_allclose(beta, -np.gradient(lam, s, axis=0, edge_order=2), rtol=1e-12,
                               atol=1e-13)
    # covariance: beta is linear in lambda, so propagate with its Jacobian
    C = rng.normal(size=(18, 18))
    C = C @ C.T
    _, bc = berg.couplings_beta(s, lam, C)
    J = np.array([berg.couplings_beta(s, e.reshape(9, 2))[0].ravel() for e in np.eye(18)]).T
    np.testing.assert_allclose(bc, J @ C @ J.T, rtol=1e-10, atol=1e-10)


def test_flow_matches_single_scales_and_recovers_beta():
    rng = np.random.default_rng(7)
    b = berg.Basis(ring(1, 1.0), ["phi2"])
    z = rng.normal(size=(4000, 1))
    flow = berg.CouplingsFlow(b, 4000)
    scales = np.linspace(0.0, 0.6, 7)
    for sc in scales:                       # lambda = e^{2 s} / 2, beta = -e^{2 s}
        flow.add(sc, z * np.exp(-sc))
    x, lam, cov, beta, bcov = flow.result()
    np.testing.assert_array_equal(x, scales)
    for i, sc in enumerate(scales):
        l1, c1 = berg.couplings_score_matching(b, z * np.exp(-sc))
        np.testing.assert_allclose(lam[i], l1, rtol=1e-14)
        np.testing.assert_allclose(cov[i, i], c1[0, 0], rtol=1e-12)
    fd, _ = berg.couplings_beta(x, 0.5 * np.exp(2 * x)[:, None])
    zb = (beta[:, 0] - fd[:, 0]) / np.sqrt(np.diag(bcov))
    assert np.all(np.abs(zb) < 3), zb
    with pytest.raises(berg.DomainError, match="log_scale"):
        flow.add(0.3, z)


def test_python_operator_and_its_errors():
    rng = np.random.default_rng(8)
    lat = ring(5)
    phi = rng.normal(size=(500, 5))

    def phi2(f):
        return np.sum(f**2), 2 * f, 2.0 * f.size

    b1 = berg.Basis(lat, ["phi2"])
    b2 = berg.Basis(lat).add(phi2)
    l1, c1 = berg.couplings_score_matching(b1, phi)
    l2, c2 = berg.couplings_score_matching(b2, phi)
    np.testing.assert_allclose(l2, l1, rtol=1e-12)

    def broken(f):
        raise RuntimeError("no")

    b3 = berg.Basis(lat, ["phi2"]).add(broken)
    with pytest.raises(berg.CallbackError, match="operator 1") as exc:
        berg.couplings_score_matching(b3, phi)
    assert isinstance(exc.value.__cause__, RuntimeError)


def test_refusals():
    lat = ring(4)
    phi = np.random.default_rng(9).normal(size=(50, 4))
    with pytest.raises(berg.NotSPDError, match="score-matching matrix A"):
        berg.couplings_score_matching(berg.Basis(lat, ["phi2", "phi2"]), phi)
    with pytest.raises(berg.SizeError, match="nbatch"):
        berg.couplings_score_matching(berg.Basis(lat, ["phi2"]), phi, nbatch=1)
    with pytest.raises(berg.UnsupportedError):
        berg.Basis(berg.Space((4,), 0.0, 4.0, bc="neumann"), ["phi2"])
    with pytest.raises(ValueError, match="unknown operator"):
        berg.Basis(lat, ["phi3"])
    s = berg.Space((8, 8), -1.0, 1.0)
    with pytest.raises(berg.MismatchError):
        berg.couplings_kl_projection(berg.Basis(lat, ["phi2"]), s, np.ones((8, 8)))
    s1 = berg.Space((8,), -1.0, 1.0, bc="neumann")
    p = np.zeros(8)
    p[0] = 1.0
    with pytest.raises((berg.ConvergenceError, berg.NotSPDError)):
        berg.couplings_kl_projection(berg.Basis(ring(1, 1.0), ["phi2"]), s1, p,
                                     max_iterations=20)


def test_doctests_of_the_module():
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    mod = berg.couplings
    ran = 0
    for t in finder.find(mod, mod.__name__, globs={"np": np, "berg": berg}):
        if t.name.startswith(mod.__name__) and t.examples:
            runner.run(t)
            ran += len(t.examples)
    assert ran > 20
    assert runner.summarize(verbose=False).failed == 0
