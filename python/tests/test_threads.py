"""libberg's own threads (issue 18): the per-instance ``set_threads`` of
FokkerPlanck, Bayes, FisherAccumulator and W2Metric and the library-wide
``berg.set_threads``. Every threaded result equals the one-thread result
(bitwise where each value is computed by one thread, to 1e-14 relative at
most), and the Fisher sums also equal numpy's ``X.T @ X / N``."""
import numpy as np
import pytest

import berg


@pytest.fixture(autouse=True)
def one_thread_after():
    yield
    berg.set_threads(1)


def test_setters_refuse_bad_counts():
    acc = berg.FisherAccumulator(2)
    for bad in (-1, 1025, 2.0, True):
        with pytest.raises((berg.DomainError, ValueError)):
            acc.set_threads(bad)
    acc.set_threads(0)
    acc.set_threads(1024)


def test_fisher_from_scores_threads_equal_serial_and_numpy():
    X = np.random.default_rng(3).standard_normal((300000, 7)) * np.arange(1, 8) + 0.2
    berg.set_threads(1)
    I1 = berg.fisher_from_scores(X)
    berg.set_threads(2)
    I2 = berg.fisher_from_scores(X)
    berg.set_threads(3)
    I3 = berg.fisher_from_scores(X)
    np.testing.assert_array_equal(I2, I1)
    np.testing.assert_array_equal(I3, I1)
    ref = X.T @ X / X.shape[0]
    assert np.max(np.abs(I1 - ref)) <= 1e-13 * np.max(np.abs(ref))


def test_accumulator_threads_equal_serial():
    X = np.random.default_rng(4).standard_normal((250000, 5))
    a1, a3 = berg.FisherAccumulator(5), berg.FisherAccumulator(5)
    a1.set_threads(1)
    a3.set_threads(3)
    for lo, hi in ((0, 70000), (70000, 250000)):
        a1.add(X[lo:hi])
        a3.add(X[lo:hi])
    (I1, se1), (I3, se3) = a1.result(), a3.result()
    np.testing.assert_array_equal(I3, I1)
    np.testing.assert_array_equal(se3, se1)
    ref = X.T @ X / X.shape[0]
    assert np.max(np.abs(I1 - ref)) <= 1e-13 * np.max(np.abs(ref))


def test_bayes_threads_equal_serial():
    U = berg.Space((20000,), -4.0, 4.0, "neumann")
    Y = berg.Space((120,), -6.0, 6.0, "neumann")
    N = berg.Space((301,), -3.0, 3.0, "neumann")
    xn = N.coordinates(0)
    noise = np.exp(-0.5 * xn ** 2 / 0.25)
    prior = np.exp(-0.5 * U.coordinates(0) ** 2)
    y = 0.4 + np.random.default_rng(5).uniform(-0.5, 0.5, 30)
    out = []
    for nt in (1, 4):
        b = berg.Bayes(U, prior, Y)
        b.set_location(lambda u: u, noise_space=N, noise=noise)
        b.set_threads(nt)
        b.observe(y)
        out.append((b.log_posterior(), b.predictive()))
    np.testing.assert_array_equal(out[1][0], out[0][0])
    p1, p4 = out[0][1], out[1][1]
    assert np.max(np.abs(p4 - p1)) <= 1e-14 * np.max(np.abs(p1))


def test_w2_metric_threads_equal_serial():
    sp = berg.Space((256, 256), 0.0, 1.0, ("periodic", "neumann"))
    x = sp.coordinates(0)[:, None]
    z = sp.coordinates(1)[None, :]
    p, _ = sp.normalize(1.0 + 0.5 * np.sin(2 * np.pi * x) * np.cos(3 * z))
    eta = np.cos(2 * np.pi * x) + (z - 0.5) + 0 * x
    eta = eta - eta.mean()
    m = berg.W2Metric(sp, p)
    m.set_threads(1)
    h1 = m.potential(eta)
    m.set_threads(4)
    h4 = m.potential(eta)
    np.testing.assert_array_equal(np.asarray(h4), np.asarray(h1))


def test_fokker_planck_threads_equal_serial():
    sp = berg.Space((320, 320), -3.0, 3.0, ("periodic", "neumann"))
    x = sp.coordinates(0)[:, None]
    z = sp.coordinates(1)[None, :]
    V = 0.5 * (z ** 2 - 1) ** 2 + 0.3 * np.sin(x) + 0 * x
    p0 = np.exp(-2 * (x - 0.5) ** 2 - 3 * (z + 0.7) ** 2)
    fp = berg.FokkerPlanck(sp, V)
    fp.set_threads(1)
    q1 = fp.evolve(p0, 0.05)
    fp.set_threads(3)
    q3 = fp.evolve(p0, 0.05)
    np.testing.assert_array_equal(q3, q1)
