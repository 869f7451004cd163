"""Fisher metrics against closed forms (scipy.special / scipy.stats), numpy
linear algebra and exact Gaussian moments (Gauss-Hermite quadrature)."""
import itertools
import math

import numpy as np
import pytest
from scipy import special, stats

import berg


def line(n, lo, hi, bc="neumann"):
    return berg.Space((n,), lo, hi, bc=bc)


# ---- scores --------------------------------------------------------------------
def test_from_scores_matches_numpy():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5000, 7)) @ rng.standard_normal((7, 7))
    I = berg.fisher_from_scores(X)
    np.testing.assert_allclose(I, X.T @ X / len(X), rtol=1e-12, atol=1e-13)
    assert np.array_equal(I, I.T)


def test_from_scores_bad_input():
    X = np.ones((10, 3))
    X[4, 2] = np.nan
    with pytest.raises(berg.NonFiniteError, match=r"\[4\]\[2\]"):
        berg.fisher_from_scores(X)
    with pytest.raises(berg.SizeError):
        berg.fisher_from_scores(np.empty((0, 3)))


def test_accumulator_batches_merge_and_standard_errors():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 4)) * [1, 2, 0.5, 3]
    a, b = berg.FisherAccumulator(4), berg.FisherAccumulator(4)
    for chunk in np.array_split(X[:1000], 7):
        a.add(chunk)
    b.add(X[1000:])
    a.merge(b)
    assert a.count == 3000
    I, se = a.result()
    np.testing.assert_allclose(I, X.T @ X / 3000, rtol=1e-13)
    prods = X[:, :, None] * X[:, None, :]
    np.testing.assert_allclose(se, prods.std(axis=0, ddof=1) / math.sqrt(3000), rtol=1e-9)
    # the standard error is honest: the true Fisher metric diag(1, 4, .25, 9)
    # is within 5 standard errors
    assert np.all(np.abs(np.diag(I) - [1, 4, 0.25, 9]) < 5 * np.diag(se))
    bad = X[:10].copy()
    bad[3, 1] = np.inf
    with pytest.raises(berg.NonFiniteError):
        a.add(bad)
    assert a.count == 3000
    c = berg.FisherAccumulator(4, stderr=False).add(X)
    I2, se2 = c.result()
    assert se2 is None
    np.testing.assert_allclose(I2, I, rtol=1e-13)
    with pytest.raises(berg.MismatchError):
        a.merge(c)


# ---- location families ------------------------------------------------------------
@pytest.mark.parametrize("name,pdf,want,n,L,rtol", [
    ("normal", lambda x: stats.norm.pdf(x, scale=0.8), 1 / 0.64, 2000, 10, 1e-8),
    ("laplace", lambda x: stats.laplace.pdf(x, scale=0.6), 1 / 0.36, 4000, 14, 2e-4),
    ("logistic", lambda x: stats.logistic.pdf(x, scale=0.7), 1 / (3 * 0.49), 4000, 25, 1e-8),
    ("student5", lambda x: stats.t.pdf(x, 5, scale=1.2), 6 / (8 * 1.44), 20000, 300, 1e-6),
])
def test_location_families(name, pdf, want, n, L, rtol):
    s = line(n, -L, L)
    x = s.coordinates(0)
    assert berg.fisher_location(s, pdf(x))[0, 0] == pytest.approx(want, rel=rtol)


def test_location_cauchy_truncated():
    g, L = 0.9, 300.0
    s = line(30000, -L, L)
    x = s.coordinates(0)
    mass = stats.cauchy.cdf(L, scale=g) - stats.cauchy.cdf(-L, scale=g)
    I = berg.fisher_location(s, stats.cauchy.pdf(x, scale=g))[0, 0]
    assert I == pytest.approx(1 / (2 * g * g) / mass, rel=1e-6)


def test_location_gaussian_2d_is_inverse_covariance():
    S = np.array([[1.2, -0.5], [-0.5, 0.8]])
    s = berg.Space((256, 256), [-8, -7], [8, 7])
    X, Y = s.grid()
    p = stats.multivariate_normal(mean=[0.2, -0.1], cov=S).pdf(np.stack([X, Y], -1))
    np.testing.assert_allclose(berg.fisher_location(s, p), np.linalg.inv(S), rtol=1e-5)


def test_location_is_positive_semidefinite_for_rough_densities():
    """The diagonal (interval rule with its non-negative variance terms) and
    the off-diagonal (centred differences) come from different stencils; on
    rough, sparse and under-resolved densities the matrix stays PSD."""
    rng = np.random.default_rng(5)
    for trial in range(120):
        n = tuple(int(v) for v in rng.integers(4, 30, size=3))
        bc = [str(rng.choice(["periodic", "neumann", "dirichlet"])) for _ in range(3)]
        s = berg.Space(n, [0, 0, 0], [1, 1.5, 0.7], bc=bc)
        p = rng.random(n) ** 4 if trial % 2 else (rng.random(n) < 0.3) * rng.random(n)
        p.flat[0] += 1.0
        w = np.linalg.eigvalsh(berg.fisher_location(s, p))
        assert w[0] >= -1e-12 * w[-1], (trial, n, bc, w)


def test_location_bad_density():
    s = line(50, 0, 1)
    p = np.ones(50)
    p[17] = -0.1
    with pytest.raises(berg.NegativeDensityError, match="17"):
        berg.fisher_location(s, p)
    with pytest.raises(berg.MassError):
        berg.fisher_location(s, np.zeros(50))


# ---- exponential families -----------------------------------------------------------------
def test_expfam_poisson_and_bernoulli():
    s = line(100, -0.5, 99.5)
    y = s.coordinates(0)
    lam = 7.3
    psi, mean, I, p = berg.fisher_expfam(s, y, [math.log(lam)], log_h=-special.gammaln(y + 1))
    assert psi == pytest.approx(lam, rel=1e-13)
    assert mean[0] == pytest.approx(lam, rel=1e-13)
    assert I[0, 0] == pytest.approx(lam, rel=1e-12)
    np.testing.assert_allclose(p, stats.poisson.pmf(y, lam), rtol=1e-12, atol=1e-300)
    b = line(2, -0.5, 1.5)
    pr = 0.81
    psi, mean, I, _ = berg.fisher_expfam(b, [0, 1], [special.logit(pr)])
    assert I[0, 0] == pytest.approx(pr * (1 - pr), rel=1e-14)
    assert psi == pytest.approx(-math.log1p(-pr), rel=1e-14)


def test_expfam_gamma_trigamma():
    alpha, beta = 3.5, 2.0
    s = line(60000, 0, 60)
    y = s.coordinates(0)
    q = np.stack([np.log(y), y])
    psi, mean, I, _ = berg.fisher_expfam(s, q, [alpha - 1, -beta])
    assert psi == pytest.approx(special.gammaln(alpha) - alpha * math.log(beta), rel=1e-9)
    np.testing.assert_allclose(mean, [special.digamma(alpha) - math.log(beta), alpha / beta],
                               rtol=1e-9)
    want = [[special.polygamma(1, alpha), 1 / beta], [1 / beta, alpha / beta ** 2]]
    np.testing.assert_allclose(I, want, rtol=1e-8)


def test_expfam_beta_trigamma():
    a, b = 2.5, 3.5
    s = line(40000, 0, 1)
    y = s.coordinates(0)
    q = np.stack([np.log(y), np.log1p(-y)])
    psi, mean, I, _ = berg.fisher_expfam(s, q, [a - 1, b - 1])
    assert psi == pytest.approx(special.betaln(a, b), rel=1e-9)
    t = special.polygamma(1, a + b)
    want = [[special.polygamma(1, a) - t, -t], [-t, special.polygamma(1, b) - t]]
    np.testing.assert_allclose(I, want, rtol=1e-7)


def test_expfam_consistency_mean_is_gradient_of_psi():
    s = line(3000, -12, 12)
    y = s.coordinates(0)
    q = np.stack([y, y ** 2, np.cos(y)])
    u = np.array([0.3, -0.4, 0.7])
    psi, mean, I, _ = berg.fisher_expfam(s, q, u)
    h = 1e-5
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        pp, mp, _, _ = berg.fisher_expfam(s, q, u + e)
        pm, mm, _, _ = berg.fisher_expfam(s, q, u - e)
        assert (pp - pm) / (2 * h) == pytest.approx(mean[k], rel=1e-8, abs=1e-10)
        np.testing.assert_allclose((mp - mm) / (2 * h), I[:, k], rtol=1e-7, atol=1e-9)


# ---- parametric models ------------------------------------------------------------------------
def normal_loglik(u, space):
    x = space.coordinates(0)
    return stats.norm.logpdf(x, loc=u[0], scale=u[1])


def test_model_normal_mu_sigma():
    s = line(4000, -25, 25)
    mu, sg = -0.4, 2.1
    I = berg.fisher_model(s, [mu, sg], loglik=normal_loglik)
    np.testing.assert_allclose(I, np.diag([1 / sg ** 2, 2 / sg ** 2]), rtol=1e-9, atol=1e-11)

    def score(u, space):
        x = space.coordinates(0)
        z = (x - u[0]) / u[1]
        return normal_loglik(u, space), np.stack([z / u[1], (z * z - 1) / u[1]])

    I2 = berg.fisher_model(s, [mu, sg], score=score)
    np.testing.assert_allclose(I2, np.diag([1 / sg ** 2, 2 / sg ** 2]), rtol=1e-13, atol=1e-15)


def test_model_gamma_shape_rate_trigamma():
    """Gamma(alpha, beta) in (shape, rate): I = [[psi1(alpha), -1/beta],
    [-1/beta, alpha/beta^2]] (finite differences in both parameters)."""
    s = line(60000, 0, 60)
    y = s.coordinates(0)
    a, b = 2.7, 1.3
    I = berg.fisher_model(s, [a, b], loglik=lambda u, sp: stats.gamma.logpdf(y, u[0],
                                                                              scale=1 / u[1]))
    want = [[special.polygamma(1, a), -1 / b], [-1 / b, a / b ** 2]]
    # the midpoint rule meets p ~ y^(alpha-1) ln^2 y at y = 0: error ~h^alpha
    np.testing.assert_allclose(I, want, rtol=1e-7)


def test_expfam_with_zero_base_measure_on_part_of_the_grid():
    """log_h = -inf where the family has no mass: a Poisson truncated to
    y <= 5 is the conditional distribution."""
    s = line(40, -0.5, 39.5)
    y = s.coordinates(0)
    lh = np.where(y <= 5, -special.gammaln(y + 1), -np.inf)
    lam = 2.5
    psi, mean, I, p = berg.fisher_expfam(s, y, [math.log(lam)], log_h=lh)
    pk = stats.poisson.pmf(np.arange(6), lam)
    pk /= pk.sum()
    m = (np.arange(6) * pk).sum()
    assert psi == pytest.approx(lam + math.log(stats.poisson.cdf(5, lam)), rel=1e-13)
    assert mean[0] == pytest.approx(m, rel=1e-13)
    assert I[0, 0] == pytest.approx(((np.arange(6) - m) ** 2 * pk).sum(), rel=1e-12)
    assert np.all(p[6:] == 0)


def test_model_poisson():
    s = line(80, -0.5, 79.5)
    lam = 4.4
    I = berg.fisher_model(s, [lam], loglik=lambda u, sp: stats.poisson.logpmf(
        sp.coordinates(0).round(), u[0]))
    assert I[0, 0] == pytest.approx(1 / lam, rel=1e-10)


@pytest.mark.parametrize("scale", [1e-2, 1e-3])
def test_kl_is_half_fisher_quadratic_form(scale):
    s = line(4000, -25, 25)
    u = np.array([0.5, 1.6])
    I = berg.fisher_model(s, u, loglik=normal_loglik)
    du = scale * np.array([1.0, -0.7])
    (m1, s1), (m2, s2) = u, u + du
    kl = math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    quad = 0.5 * du @ I @ du
    assert kl == pytest.approx(quad, rel=3 * scale)


def test_model_callback_exception_is_chained():
    s = line(10, 0, 1)

    def boom(u, space):
        raise KeyError("inside")

    with pytest.raises(berg.CallbackError) as info:
        berg.fisher_model(s, [1.0], loglik=boom)
    assert isinstance(info.value.__cause__, KeyError)


# ---- location model, pull-back, spectra ----------------------------------------------------------
def test_location_model_pipeline_against_numpy():
    def G(u):
        return np.array([u[0] * u[1], np.sin(u[0]), u[1] ** 3, u[0] + 2 * u[1]])

    def jac(u):
        return np.array([[u[1], u[0]], [np.cos(u[0]), 0], [0, 3 * u[1] ** 2], [1, 2]])

    u = np.array([0.7, -1.1])
    J = berg.fisher_jacobian(u, 4, G=G)
    np.testing.assert_allclose(J, jac(u), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(berg.fisher_jacobian(u, 4, jac=jac), jac(u))
    rng = np.random.default_rng(3)
    B = rng.standard_normal((4, 4))
    IN = B @ B.T + 0.5 * np.eye(4)
    I = berg.fisher_parameter_metric(J, IN)
    np.testing.assert_allclose(I, J.T @ IN @ J, rtol=1e-13)
    K = berg.fisher_pullback(J, I)
    np.testing.assert_allclose(K, J @ np.linalg.inv(I) @ J.T, rtol=1e-11, atol=1e-13)


def test_pullback_refuses_indefinite_and_singular():
    J = np.eye(3)[:, :2]
    with pytest.raises(berg.NotSPDError, match="-3"):
        berg.fisher_pullback(J, np.diag([2.0, -3.0]))
    with pytest.raises(berg.NotSPDError, match="singular"):
        berg.fisher_pullback(J, np.ones((2, 2)))


def test_inverse_eigen_condition_against_numpy():
    rng = np.random.default_rng(4)
    B = rng.standard_normal((6, 6))
    I = B @ B.T + 1e-2 * np.eye(6)
    np.testing.assert_allclose(berg.fisher_inverse(I) @ I, np.eye(6), atol=1e-10)
    w, V = berg.fisher_eigen(I)
    wn = np.linalg.eigvalsh(I)[::-1]
    np.testing.assert_allclose(w, wn, rtol=1e-12)
    np.testing.assert_allclose(V @ np.diag(w) @ V.T, I, atol=1e-12)
    assert berg.fisher_condition(I) == pytest.approx(np.linalg.cond(I), rel=1e-10)


# ---- Wick moments ------------------------------------------------------------------------------------
def exact_gaussian_moment(C, idx, nodes=8):
    """E[prod x_idx] for x ~ N(0, C) by tensor Gauss-Hermite quadrature,
    exact for polynomials of degree < 2 * nodes per axis."""
    d = C.shape[0]
    L = np.linalg.cholesky(C)
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    total = 0.0
    for combo in itertools.product(range(nodes), repeat=d):
        x = L @ z[list(combo)]
        total += np.prod(w[list(combo)]) * np.prod(x[list(idx)])
    return total


@pytest.mark.parametrize("idx", [(0, 1, 2, 2), (0,) * 6 + (1,) * 6, (0, 1, 2) * 4,
                                 (2, 2, 2, 1, 0, 0, 1, 1, 2, 0, 2, 1)])
def test_wick_against_exact_gaussian_moments(idx):
    C = np.array([[1.0, 0.3, -0.2], [0.3, 0.8, 0.25], [-0.2, 0.25, 1.4]])
    T = 3.0
    want = exact_gaussian_moment(C / T, idx)
    got = berg.fisher_wick(C, idx, T=T)
    assert got == pytest.approx(want, rel=1e-11)


def test_wick_odd_and_closed_forms():
    C = np.array([[2.0]])
    assert berg.fisher_wick(C, [0] * 7) == 0.0
    assert berg.fisher_wick(C, [0] * 12) == pytest.approx(10395 * 2.0 ** 6, rel=1e-14)
    assert berg.fisher_wick(C, []) == 1.0
    with pytest.raises(berg.OutOfRangeError):
        berg.fisher_wick(C, [0, 1])


# ---- Fisher-Rao --------------------------------------------------------------------------------------------
def test_rao_gaussian_closed_form_and_geodesic_consistency():
    d = berg.fisher_rao_gaussian(0.5, 1.2, -1.0, 0.4)
    z = ((0.5 + 1.0) ** 2 / 2 + (1.2 - 0.4) ** 2) / (2 * 1.2 * 0.4)
    assert d == pytest.approx(math.sqrt(2) * math.acosh(1 + z), rel=1e-14)
    # along sigma at fixed mu the 1-parameter family N(mu, s^2) has I = 2/s^2
    d1 = berg.fisher_rao_distance(lambda s: 2 / s ** 2, 0.7, 2.9)
    assert d1 == pytest.approx(berg.fisher_rao_gaussian(0, 0.7, 0, 2.9), rel=1e-12)


def test_rao_distance_families():
    d = berg.fisher_rao_distance(lambda p: 1 / (p * (1 - p)), 0.05, 0.7)
    assert d == pytest.approx(2 * (math.asin(math.sqrt(0.7)) - math.asin(math.sqrt(0.05))),
                              rel=1e-12)
    d = berg.fisher_rao_distance(lambda lam: 1 / lam, 0.0, 4.0)
    assert d == pytest.approx(4.0, rel=1e-13)
    with pytest.raises(berg.DomainError):
        berg.fisher_rao_distance(lambda t: -1.0, 0, 1)
    with pytest.raises(berg.CallbackError):
        berg.fisher_rao_distance(lambda t: 1 / 0, 0, 1)


def test_rao_distance_of_a_grid_model():
    """Fisher-Rao distance in the Poisson family with I(lambda) itself
    computed by quadrature and finite differences: 2 (sqrt 9 - sqrt 1)."""
    s = line(120, -0.5, 119.5)
    y = s.coordinates(0).round()

    def metric(lam):
        return berg.fisher_model(s, [lam], loglik=lambda u, sp: stats.poisson.logpmf(y, u[0]))[0, 0]

    assert berg.fisher_rao_distance(metric, 1.0, 9.0) == pytest.approx(4.0, rel=1e-10)
