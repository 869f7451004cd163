import numpy as np
import pytest

import berg


def test_version():
    major, minor, patch = (int(x) for x in berg.version.split("."))
    assert major == 1
    assert berg.version_number == major * 10000 + minor * 100 + patch
    assert berg.version_number == berg._lib.constant("BERG_VERSION_NUMBER")


def test_queries_and_integrals():
    s = berg.Space((30, 20), [-3, 0], [3, 2], bc=["neumann", "periodic"],
                   metric=[[1.5, 0], [0, 1]])
    assert s.shape == (30, 20) and s.ndim == 2 and s.size == 600
    assert s.boundaries == ("neumann", "periodic")
    np.testing.assert_allclose(s.spacing, [0.2, 0.1])
    assert s.cell_weight == pytest.approx(np.sqrt(1.5) * 0.02, rel=1e-15)
    x = s.coordinates(0)
    np.testing.assert_allclose(x, np.linspace(-3, 3, 31)[:-1] + 0.1, rtol=0, atol=1e-15)
    X, Y = s.grid()
    f = np.exp(-X**2) * np.cos(np.pi * Y) ** 2
    # compare with numpy's own midpoint sum
    want = np.sqrt(1.5) * f.sum() * 0.2 * 0.1
    assert s.integrate(f) == pytest.approx(want, rel=1e-14)
    p, mass = s.normalize(f)
    assert mass == pytest.approx(want, rel=1e-14)
    assert s.integrate(p) == pytest.approx(1.0, rel=1e-14)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(s.shape), rng.standard_normal(s.shape)
    assert s.inner_l2(a, b) == pytest.approx(s.cell_weight * np.sum(a * b), rel=1e-12)
    assert abs(s.integrate(s.project_tangent(a))) < 1e-13


def test_moments_against_numpy():
    s = berg.Space((40, 50), [-4, -5], [4, 5])
    X, Y = s.grid()
    rng = np.random.default_rng(2)
    p = rng.random(s.shape)
    m, c = s.moments(p)
    w = p / p.sum()
    mx, my = (w * X).sum(), (w * Y).sum()
    np.testing.assert_allclose(m, [mx, my], rtol=1e-13, atol=1e-14)
    cov = np.cov(np.stack([X.ravel(), Y.ravel()]), aweights=p.ravel(), bias=True)
    np.testing.assert_allclose(c, cov, rtol=1e-12, atol=1e-14)


def test_errors_carry_detail():
    with pytest.raises(berg.DomainError, match="upper\\[0\\]"):
        berg.Space((8,), 1.0, 0.0)
    with pytest.raises(berg.NotSPDError):
        berg.Space((8, 8), 0, 1, metric=[[1, 2], [2, 1]])
    with pytest.raises(berg.UnsupportedError, match="not periodic"):
        berg.Space((8, 8), 0, 1, bc="neumann", metric=[[1, 0.1], [0.1, 1]])
    with pytest.raises(berg.SizeError):
        berg.Space((2**31, 2**31), 0, 1)
    s = berg.Space((8,), 0, 1)
    p = np.ones(8)
    p[5] = -1
    with pytest.raises(berg.NegativeDensityError, match="index 5") as e:
        s.normalize(p)
    assert e.value.status == 4 and isinstance(e.value, ValueError)
    with pytest.raises(berg.MassError):
        s.normalize(np.zeros(8))
    p[5] = np.nan
    with pytest.raises(berg.NonFiniteError, match="f\\[5\\]"):
        s.integrate(p)
    with pytest.raises(ValueError, match="shape"):
        s.integrate(np.ones(9))


def test_no_copy_for_contiguous_input():
    s = berg.Space((16,), 0, 1)
    f = np.ones(16)
    assert berg._lib.as_array(f, s.shape) is f


def test_clip_roundoff_after_heat():
    s = berg.Space((256, 256), -8, 8, bc="neumann")
    X, Y = s.grid()
    p, _ = s.normalize(np.exp(-(X - 1) ** 2 - Y ** 2 / 4))
    q = berg.Heat(s).apply(p, 0.25)
    q, removed = s.clip_roundoff(q)
    assert q.min() >= 0 and removed < 1e-14
    # Gaussian with covariance diag(1/2, 2) spreads by 2t = 0.5 per axis; the
    # y axis (variance 2.5, walls at 5 sigma) loses ~5e-6 to the reflecting walls
    c = s.covariance(q)
    assert abs(c[0, 0] - 1.0) < 1e-9 and abs(c[0, 1]) < 1e-12
    assert 0 < 2.5 - c[1, 1] < 1e-5
    bad = q.copy()
    bad[3, 4] = -1e-3
    with pytest.raises(berg.NegativeDensityError, match="index"):
        s.clip_roundoff(bad)


def test_scalar_queries_and_histogram():
    s = berg.Space((2, 4), [0, 0], [2, 1], bc=["periodic", "neumann"],
                   metric=[[4.0, 0], [0, 1.0]])
    assert s.volume_factor == pytest.approx(2.0, rel=1e-15)
    assert s.cell_weight == pytest.approx(2.0 * 1.0 * 0.25, rel=1e-15)
    assert s.volume == pytest.approx(4.0, rel=1e-15)
    x = np.array([[0.5, 0.1], [2.5, 0.1], [-0.5, 0.9], [1.5, 1.5], [1.2, 0.3]])
    hist, outside = s.histogram(x)
    assert outside == 1 and hist.shape == (2, 4)
    assert hist[0, 0] == pytest.approx(2 / (5 * s.cell_weight), rel=1e-15)
    assert hist[1, 3] == pytest.approx(1 / (5 * s.cell_weight), rel=1e-15)
    assert s.integrate(hist) == pytest.approx(0.8, rel=1e-14)
    with pytest.raises(ValueError, match="multiple of ndim"):
        s.histogram(np.ones(3))
    x[1, 1] = np.nan
    with pytest.raises(berg.NonFiniteError, match="berg_space_histogram"):
        s.histogram(x)


def test_boundary_constants_from_the_library():
    assert berg.PERIODIC == berg._lib.constant("BERG_PERIODIC")
    assert berg.NEUMANN == berg._lib.constant("BERG_NEUMANN")
    assert berg.DIRICHLET == berg._lib.constant("BERG_DIRICHLET")
