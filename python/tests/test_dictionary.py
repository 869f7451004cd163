"""Tests of the dictionary bindings against scipy: normal and Student-t
posteriors and predictives by scipy quadrature, the dictionary of the normal
model, the backward flow, Petz recovery against an explicit channel matrix."""
import math
import re

import numpy as np
import pytest
from scipy import integrate, stats

import berg
from berg import Bayes, Channel, Dictionary, Space


def normal_logpdf(s):
    c = -0.5 * math.log(2 * math.pi * s * s)
    return lambda n: c - 0.5 * (n[0] / s) ** 2


def test_normal_posterior_matches_scipy():
    U = Space(201, -4.0, 6.0, "neumann")
    Y = Space(128, -10.0, 10.0, "neumann")
    b = Bayes(U, np.ones(201), Y).set_location(lambda u: u, logp0=normal_logpdf(1.5))
    y = np.array([0.4, 1.9, 1.1, 0.2, 1.6])
    b.observe(y[:2])
    b.observe(y[2:])
    assert b.count == 5
    u = U.coordinates(0)
    want = stats.norm.pdf(u, y.mean(), 1.5 / np.sqrt(5))
    want /= want.sum() * U.spacing[0]
    assert np.max(np.abs(b.posterior() - want)) < 1e-12
    assert b.map()[0] == pytest.approx(y.mean(), abs=1e-10)
    m, c = b.mean()
    # measured: mean 2.1e-13 off, variance 5.6e-12 relative
    assert m[0] == pytest.approx(y.mean(), abs=2e-12)
    assert c[0, 0] == pytest.approx(1.5 ** 2 / 5, rel=6e-11)


def test_student_predictive_matches_quadrature():
    """general log-likelihood model: predictive at a few y by scipy.integrate.quad"""
    U = Space(400, -3.0, 5.0, "neumann")
    Y = Space(64, -12.0, 14.0, "neumann")
    prior = stats.norm.pdf(U.coordinates(0), 0.5, 1.0)
    ct = math.log(stats.t.pdf(0.0, df=3))
    b = Bayes(U, prior, Y).set_loglik(lambda u, y: ct - 2.0 * math.log1p((y[0] - u[0]) ** 2 / 3))
    data = np.array([1.2, 0.7, 2.5])
    b.observe(data)
    pred = b.predictive()

    def post(u):
        return stats.norm.pdf(u, 0.5, 1.0) * np.prod(stats.t.pdf(data - u, df=3))
    Z = integrate.quad(post, -3, 5, epsabs=1e-13)[0]
    y = Y.coordinates(0)
    for j in (20, 30, 40):
        want = integrate.quad(lambda u: post(u) * stats.t.pdf(y[j] - u, df=3), -3, 5,
                              epsabs=1e-13)[0] / Z
        assert pred[j] == pytest.approx(want, rel=1e-6)


def test_failed_observation_keeps_state():
    U = Space(50, -1.0, 1.0, "neumann")
    Y = Space(50, -5.0, 5.0, "neumann")

    def bad(n):
        if n[0] > 3:
            raise RuntimeError("boom")
        return -0.5 * n[0] ** 2
    b = Bayes(U, np.ones(50), Y).set_location(lambda u: u, logp0=bad)
    b.observe(0.3)
    before = b.log_posterior()
    with pytest.raises(berg.CallbackError) as info:
        b.observe([0.1, 4.5])
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(berg.OutOfRangeError):
        b.observe(7.0)
    np.testing.assert_array_equal(before, b.log_posterior())
    assert b.count == 1


def test_normal_dictionary_and_flow():
    s = 1.2
    U = Space(200, -6.0, 8.0, "neumann")
    Y = Space(256, -10.0, 12.0, "neumann")
    b = Bayes(U, np.ones(200), Y).set_location(lambda u: u, logp0=normal_logpdf(s))
    y = Y.coordinates(0)
    b.set_truth(stats.norm.pdf(y, 1.0, s))
    d = Dictionary(b, 0.25)
    assert d.map[0] == pytest.approx(1.0, abs=1e-9)
    assert d.inverse_metric[0, 0] == pytest.approx(s ** 2, rel=1e-7)
    assert d.heat_time == pytest.approx(s ** 2 * 0.25 / 2, rel=1e-7)
    np.testing.assert_allclose(d.potential, -stats.norm.logpdf(y, d.map[0], s), rtol=1e-12)
    np.testing.assert_allclose(d.scheme(0.5), stats.norm.logpdf(y, 0.5, s)
                               - stats.norm.logpdf(y, d.map[0], s), atol=1e-11)
    # the backward flow maps the direct predictive at tau1 to the one at tau2
    b.expected(1 / 0.1)
    p1 = b.predictive()
    b.expected(1 / 0.4)
    p2 = b.predictive()
    np.testing.assert_allclose(p2, stats.norm.pdf(y, 1.0, s * np.sqrt(1.4)), atol=1e-12)
    pf = berg.dictionary_flow(b, 0.1, 0.4, p1)
    assert np.max(np.abs(pf - p2)) < 1e-11
    np.testing.assert_array_equal(b.backward_flow(0.1, 0.4, p1), pf)
    l1, kl = berg.dictionary_discrepancy(b, 0.2)
    assert l1 < 1e-10
    assert b.flow_discrepancy(0.2) == (l1, kl)
    b.expected(7.5)
    assert b.count == 7.5


def test_petz_against_channel_matrix():
    """R(rho') = diag(sigma) E^T diag(1/E sigma) rho' with E assembled column by column"""
    S = Space(64, -5.0, 5.0, "periodic")
    x = S.coordinates(0)
    h = S.spacing[0]
    ch = Channel(S, 0.2, "heat")
    E = np.column_stack([ch(np.eye(64)[k]) for k in range(64)])
    assert np.allclose(E, E.T, atol=1e-14)   # the heat channel is symmetric
    sigma = np.exp(-0.5 * (x - 1) ** 2) + 0.2 * np.exp(-2 * (x + 2) ** 2)
    sigma /= sigma.sum() * h
    rho = np.exp(-0.5 * (x + 0.5) ** 2 / 0.6)
    rho /= rho.sum() * h
    rho1 = ch(rho)
    R = ch.recover(sigma, rho1)
    want = sigma * (E.T @ (rho1 / (E @ sigma)))
    np.testing.assert_allclose(R, want, rtol=1e-10)
    D = lambda p, q: stats.entropy(p, q)   # noqa: E731  (grid-weighted KL, h cancels)
    assert D(ch(rho), ch(sigma)) <= D(rho, sigma)
    assert D(rho, sigma) - D(ch(rho), ch(sigma)) >= D(rho, R) > 0
    with pytest.raises(ValueError, match=r"'foo'.*\['fp', 'heat'\]") as e:
        Channel(S, 0.2, "foo")
    assert not isinstance(e.value, KeyError)


def test_from_erg():
    Y = Space(600, -10.0, 10.0, "neumann")
    y = Y.coordinates(0)
    p0, K = berg.dictionary_from_erg(Y, 0.5 * y ** 2 / 3.0)
    np.testing.assert_allclose(p0, stats.norm.pdf(y, 0, np.sqrt(3.0)), rtol=1e-7, atol=1e-15)
    assert K[0, 0] == pytest.approx(3.0, rel=1e-6)  # measured 2.8e-7


def test_predictive_fft_matches_scipy():
    """affine G: FFT predictive against the closed-form normal predictive"""
    U = Space(400, -4.0, 6.0, "neumann")
    Y = Space(700, -16.0, 20.0, "neumann")
    u = U.coordinates(0)
    b = Bayes(U, stats.norm.pdf(u, 0.0, 1.0), Y).set_location(lambda v: 2 * v + 0.5,
                                                               logp0=normal_logpdf(0.9))
    b.observe([1.1, 2.5])
    # posterior of u: prior N(0,1), likelihood of (y - 0.5)/2 with sd 0.45
    prec = 1 + 2 / 0.45 ** 2
    m = (2 * np.mean([0.3, 1.0]) / 0.45 ** 2) / prec
    want = stats.norm.pdf(Y.coordinates(0), 2 * m + 0.5, np.sqrt(4 / prec + 0.81))
    got = b.predictive_fft()
    assert np.max(np.abs(got - want)) < 3e-4 * want.max()
    with pytest.raises(berg.DomainError):
        Bayes(U, np.ones(400), Y).set_location(lambda v: v ** 3, logp0=normal_logpdf(1)) \
            .predictive_fft()


def test_predictive_fft_refuses_unresolved_image():
    """a data grid that does not resolve G's image of the posterior is refused"""
    U = Space(400, -4.0, 6.0, "neumann")
    Y = Space(777, -15.0, 21.0, "neumann")
    u, y = U.coordinates(0), Y.coordinates(0)
    prior = stats.norm.pdf(u, 0.3, 0.9)
    # G = 1e-300 u: the image falls between two data points (mass 0)
    b = Bayes(U, prior, Y).set_location(lambda v: 1e-300 * v, logp0=normal_logpdf(0.9))
    with pytest.raises(berg.DomainError, match=r"predictive_fft.*mass on the data grid is 0 "
                       r"instead of 1.*does not resolve.*berg_bayes_predictive \(quadrature\)"):
        b.predictive_fft()
    # the quadrature the message points to is right: p = p0
    np.testing.assert_allclose(b.predictive(), stats.norm.pdf(y, 0.0, 0.9), rtol=1e-12)
    # G = 2u + 21: the image N(21.6, 1.8^2) of the prior, 63 % of it above the
    # data box's top 21; the message's mass is the 37 % left, to the O(h^2)
    b = Bayes(U, prior, Y).set_location(lambda v: 2 * v + 21.0, logp0=normal_logpdf(0.9))
    with pytest.raises(berg.DomainError, match="outside the data box") as e:
        b.predictive_fft()
    mass = float(re.search(r"mass on the data grid is (\S+) instead of 1", str(e.value))[1])
    assert mass == pytest.approx(stats.norm.cdf(21.0, 21.6, 1.8), abs=1e-4)
