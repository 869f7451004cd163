"""Wegner-Morris schemes and the ensemble flow in ln Lambda (berg/erg.h,
issue 17), against numpy FFTs and scipy's PCHIP as independent references."""
import numpy as np
import pytest

import berg

scipy_interp = pytest.importorskip("scipy.interpolate")


def lattice(n=16, L=16.0):
    return berg.Space((n,), 0.0, L, bc="periodic")


def kgrid(n, L):
    return 2 * np.pi * np.fft.fftfreq(n, d=L / n)


def test_radial_family_against_scipy_pchip():
    sp = lattice()
    xp = np.array([0.0, 0.4, 1.0, 1.7, 2.5, 3.0])
    fp = np.array([1.0, 0.95, 0.6, 0.2, 0.02, 0.0])
    s = berg.Scheme.radial(sp, xp, fp)
    ref = scipy_interp.PchipInterpolator(xp, fp)
    dref = ref.derivative()
    for lam in (0.7, 1.3, 2.0):
        for k in (0.05, 0.5, 1.1, 2.2, 3.9):
            c, cdot = s.value(lam, [k])
            x = k / lam
            if x >= xp[-1]:
                want, dwant = fp[-1], 0.0
            else:
                want, dwant = float(ref(x)), float(dref(x))
            assert c == pytest.approx(want, abs=1e-14)
            assert cdot == pytest.approx(x * dwant, abs=1e-12)


def test_builtin_cdot_against_central_differences():
    sp = berg.Space((8, 8), 0.0, 8.0, bc="periodic", metric=[[1.0, 0.3], [0.3, 1.2]])
    for kind in ("exponential", "litim"):
        s = berg.Scheme.builtin(sp, kind, 0.5)
        for k in ([0.3, 0.1], [1.0, -0.7]):
            h = 1e-5
            c, cdot = s.value(1.9, k)
            fd = -(s.value(1.9 * np.exp(h), k, False)[0] - s.value(1.9 * np.exp(-h), k, False)[0]) / (2 * h)
            assert cdot == pytest.approx(fd, rel=1e-7, abs=1e-12)


def test_gaussian_flow_mode_variances_chi_square():
    n, L, count = 16, 16.0, 4000
    sp = lattice(n, L)
    w = L / n
    s = berg.Scheme.builtin(sp, "exponential", 0.4)
    k = kgrid(n, L)
    g0 = 1.5 / (k * k + 1.0)
    # draw the ensemble with numpy: Fourier coefficients of spectrum g0
    rng = np.random.default_rng(3)
    white = rng.standard_normal((count, n)) / np.sqrt(w)
    phi = np.ascontiguousarray(np.fft.ifft(np.fft.fft(white, axis=1) * np.sqrt(g0), axis=1).real)
    s.flow(phi, 2.5, 0.8, 5, seed=9)
    g1 = np.array([s.mode_variance(2.5, 0.8, g, [kk]) for g, kk in zip(g0, k)])
    F = np.fft.rfft(phi, axis=1)
    nh = n // 2 + 1
    stat, dof = 0.0, 0
    for j in range(nh):
        self_conj = j == 0 or j == n // 2
        var = n * g1[j] / w / (1 if self_conj else 2)
        parts = [F[:, j].real] if self_conj else [F[:, j].real, F[:, j].imag]
        for x in parts:
            stat += np.sum(x * x) / var
            dof += count
    z = (stat - dof) / np.sqrt(2 * dof)
    assert abs(z) < 4, z


def test_seed_action_against_numpy():
    n, L = 12, 6.0
    sp = lattice(n, L)
    w = L / n
    s = berg.Scheme.builtin(sp, "exponential", 0.7)
    k = kgrid(n, L)
    c = np.array([s.value(1.4, [kk], False)[0] for kk in k])
    phi = np.random.default_rng(1).standard_normal((3, n))
    vals, grad = s.seed_action(1.4, phi, gradient=True)
    F = np.fft.fft(phi, axis=1)
    ref = 0.5 * w / n * np.sum(np.abs(F) ** 2 / c, axis=1)
    gref = np.fft.ifft(F / c, axis=1).real
    np.testing.assert_allclose(vals, ref, rtol=1e-12)
    np.testing.assert_allclose(grad, gref, rtol=1e-10, atol=1e-12)


def test_transport_gaussian_against_numpy_and_score_form():
    n, L = 16, 16.0
    sp = lattice(n, L)
    s = berg.Scheme.builtin(sp, "exponential", 0.4)
    k = kgrid(n, L)

    def cov0(kk):
        return 2.0 / (kk @ kk + 1.0)

    g0 = np.array([cov0(np.array([kk])) for kk in k])
    c0 = np.array([s.value(2.0, [kk], False)[0] for kk in k])
    c1 = np.array([s.value(1.2, [kk], False)[0] for kk in k])
    g1 = c1 + (g0 - c0) * (c1 / c0) ** 2
    phi = np.random.default_rng(2).standard_normal((2, n))
    exact = np.fft.ifft(np.fft.fft(phi, axis=1) * np.sqrt(g1 / g0), axis=1).real
    a = phi.copy()
    s.transport_gaussian(a, 2.0, 1.2, cov0)
    np.testing.assert_allclose(a, exact, atol=1e-12)

    # the same map by the second-order integrator with the Gaussian score
    def score(f, lam):
        cl = np.array([s.value(lam, [kk], False)[0] for kk in k])
        gl = cl + (g0 - c0) * (cl / c0) ** 2
        return np.fft.ifft(np.fft.fft(f) / gl).real

    b = phi.copy()
    s.transport(b, 2.0, 1.2, 32, score)
    assert np.max(np.abs(b - exact)) < 1e-4


def test_callback_failure_leaves_the_ensemble_alone():
    sp = lattice(8, 8.0)
    s = berg.Scheme.builtin(sp, "exponential", 1.0)
    phi = np.random.default_rng(4).standard_normal((3, 8))
    before = phi.copy()

    def bad(f, lam):
        raise RuntimeError("boom")

    with pytest.raises(berg.CallbackError) as info:
        s.flow(phi, 2.0, 1.0, 2, seed_grad=bad)
    assert isinstance(info.value.__cause__, RuntimeError)
    np.testing.assert_array_equal(phi, before)
    with pytest.raises(berg.DomainError):
        s.flow(phi, 1.0, 2.0, 2)
    with pytest.raises(ValueError):
        s.flow(phi.astype(np.float32), 2.0, 1.0, 2)


def test_results_do_not_depend_on_threads():
    sp = berg.Space((8, 8), 0.0, 8.0, bc="periodic")
    s = berg.Scheme.builtin(sp, "litim", 0.5)
    phi = np.random.default_rng(5).standard_normal((9, 8, 8))
    a, b = phi.copy(), phi.copy()
    t0 = berg.threads()
    try:
        berg.set_threads(1)
        s.flow(a, 3.0, 1.0, 3, seed=2)
        berg.set_threads(2)
        s.flow(b, 3.0, 1.0, 3, seed=2)
    finally:
        berg.set_threads(t0)
    np.testing.assert_array_equal(a, b)
