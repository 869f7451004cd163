"""Heat propagator, multipliers, regulators, random fields and wisdom against
numpy.fft / scipy.fft / scipy.stats."""
import math

import numpy as np
import pytest
import scipy.fft
import scipy.stats

import berg


def _periodic_heat_numpy(p, t, lengths, ginv):
    """e^{t Delta_g} by numpy's complex FFT with the same modes."""
    ks = np.meshgrid(*[2 * np.pi * np.fft.fftfreq(n, d=L / n) for n, L in zip(p.shape, lengths)],
                     indexing="ij")
    d = p.ndim
    # the Nyquist mode of an even axis stands for +-k: its cross terms are
    # dropped (as libberg does)
    kc = []
    for a in range(d):
        c = ks[a].copy()
        if p.shape[a] % 2 == 0:
            idx = [slice(None)] * d
            idx[a] = p.shape[a] // 2
            c[tuple(idx)] = 0.0
        kc.append(c)
    q = sum(ginv[a, a] * ks[a] ** 2 for a in range(d))
    q = q + sum(ginv[a, b] * kc[a] * kc[b] for a in range(d) for b in range(d) if a != b)
    return np.fft.ifftn(np.fft.fftn(p) * np.exp(-t * q)).real


def test_periodic_matches_numpy_fft():
    rng = np.random.default_rng(1)
    g = np.array([[1.3, 0.4], [0.4, 0.9]])
    s = berg.Space((24, 18), (0, -1), (2, 2), metric=g)
    p = rng.random((24, 18))
    heat = berg.Heat(s)
    got = heat(p, 0.013)
    want = _periodic_heat_numpy(p, 0.013, (2, 3), np.linalg.inv(g))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("bc", ["neumann", "dirichlet"])
def test_dct_dst_match_scipy(bc):
    rng = np.random.default_rng(2)
    n, L, t = 40, 3.0, 0.02
    s = berg.Space(n, 0, L, bc=bc)
    p = rng.random(n)
    if bc == "neumann":
        k = np.pi * np.arange(n) / L
        want = scipy.fft.idct(scipy.fft.dct(p, type=2) * np.exp(-k * k * t), type=2)
    else:
        k = np.pi * (np.arange(n) + 1) / L
        want = scipy.fft.idst(scipy.fft.dst(p, type=2) * np.exp(-k * k * t), type=2)
    np.testing.assert_allclose(berg.Heat(s)(p, t), want, rtol=0, atol=1e-14)


def test_mixed_3d_matches_scipy_per_axis():
    rng = np.random.default_rng(3)
    s = berg.Space((8, 10, 6), 0, (1, 2, 1.5), bc=("dirichlet", "periodic", "neumann"),
                   metric=np.diag([2.0, 0.5, 1.0]))
    p = rng.random((8, 10, 6))
    t = 0.01
    k0 = np.pi * (np.arange(8) + 1) / 1.0
    k1 = 2 * np.pi * np.fft.fftfreq(10, d=0.2)
    k2 = np.pi * np.arange(6) / 1.5
    f = scipy.fft.dst(p, type=2, axis=0)
    f = np.fft.fft(f, axis=1)
    f = scipy.fft.dct(f.real, type=2, axis=2) + 1j * scipy.fft.dct(f.imag, type=2, axis=2)
    q = (k0[:, None, None] ** 2 / 2.0 + k1[None, :, None] ** 2 / 0.5
         + k2[None, None, :] ** 2 / 1.0)
    f = f * np.exp(-t * q)
    f = scipy.fft.idct(f.real, type=2, axis=2) + 1j * scipy.fft.idct(f.imag, type=2, axis=2)
    f = np.fft.ifft(f, axis=1).real
    want = scipy.fft.idst(f, type=2, axis=0)
    np.testing.assert_allclose(berg.Heat(s)(p, t), want, rtol=0, atol=1e-14)


def test_gaussian_spreads_with_metric():
    g = np.array([[1.5, 0.6], [0.6, 0.8]])
    s = berg.Space((80, 80), -11, 11, metric=g)
    x, y = s.grid()
    pts = np.stack([x, y], axis=-1)
    s0, t = 0.5, 0.3
    sd = math.sqrt(np.linalg.det(g))
    p0 = scipy.stats.multivariate_normal(np.zeros(2), s0 * np.eye(2)).pdf(pts) / sd
    cov = s0 * np.eye(2) + 2 * t * np.linalg.inv(g)
    want = scipy.stats.multivariate_normal(np.zeros(2), cov).pdf(pts) / sd
    got = berg.Heat(s)(p0, t)
    assert np.max(np.abs(got - want)) < 1e-12 * want.max()
    assert s.integrate(got) == pytest.approx(1.0, rel=1e-13)


def test_batch_times_and_in_place():
    rng = np.random.default_rng(4)
    s = berg.Space((16, 12), 0, 1, bc=("neumann", "periodic"))
    p = rng.random((3, 16, 12))
    single = berg.Heat(s, estimate=True)
    batch = berg.Heat(s, batch=3, estimate=True)
    got = batch(p, 0.004)
    for b in range(3):
        np.testing.assert_allclose(got[b], single(p[b], 0.004), rtol=0, atol=1e-15)
    ts = [0.0, 0.001, 0.004]
    many = single.apply_times(p[0], ts)
    assert many.shape == (3, 16, 12)
    assert np.array_equal(many[0], p[0])
    for j, t in enumerate(ts):
        assert np.array_equal(many[j], single(p[0], t))
    q = p[1].copy()
    single.apply(q, 0.002, out=q)
    assert np.array_equal(q, single(p[1], 0.002))


def test_threads_and_fd():
    rng = np.random.default_rng(5)
    s = berg.Space((32, 32), 0, 1)
    p = rng.random((32, 32))
    np.testing.assert_allclose(berg.Heat(s, threads=2)(p, 0.01), berg.Heat(s)(p, 0.01),
                               rtol=0, atol=1e-15)
    # FD symbol: the exact semigroup of the 5-point Laplacian = expm of its matrix
    s1 = berg.Space(12, 0, 1, bc="neumann")
    h = 1 / 12
    lap = (np.diag(-2 * np.ones(12)) + np.diag(np.ones(11), 1) + np.diag(np.ones(11), -1))
    lap[0, 0] = lap[-1, -1] = -1  # reflecting ghost cells
    import scipy.linalg
    p1 = rng.random(12)
    want = scipy.linalg.expm(0.003 * lap / h ** 2) @ p1
    np.testing.assert_allclose(berg.Heat(s1, fd=True)(p1, 0.003), want, rtol=0, atol=1e-14)


def test_bad_input():
    s = berg.Space(16, 0, 1)
    heat = berg.Heat(s)
    p = np.ones(16)
    for t in (-1.0, float("nan"), float("inf")):
        with pytest.raises(berg.TimeError):
            heat(p, t)
    with pytest.raises(berg.TimeError, match=r"t\[1\]"):
        heat.apply_times(p, [0.1, -1])
    with pytest.raises(berg.SizeError):
        berg.Heat(s, batch=0)
    with pytest.raises(berg.DomainError):
        berg.Heat(s, threads=0)
    with pytest.raises(ValueError):
        heat(np.ones(15), 0.1)



def test_channel_information_gaussian():
    g = np.array([[1.2, 0.3], [0.3, 0.9]])
    # the box is wide enough that the wrapped kernel and prior are Gaussian to 1e-9
    s = berg.Space((160, 160), -20, 20, metric=g)
    cov = np.array([[2.0, -0.4], [-0.4, 1.5]])
    X = np.stack(s.grid(), axis=-1) - np.array([0.2, 0.1])
    P = np.linalg.inv(cov)
    p = s.normalize(np.exp(-0.5 * np.einsum("...a,ab,...b->...", X, P, X)))[0]
    heat = berg.Heat(s, estimate=True)
    for t in (0.3, 1.0, 2.5):
        want = 0.5 * np.log(np.linalg.det(np.eye(2) + cov @ g / (2 * t)))
        assert heat.channel_information(p, t) == pytest.approx(want, rel=1e-8)
    with pytest.raises(berg.MassError):
        heat.channel_information(0.5 * p, 1.0)


def test_one_handle_many_threads():
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(9)
    s = berg.Space((48, 40), 0, 1, metric=[[1.3, 0.2], [0.2, 0.9]])
    heat = berg.Heat(s, estimate=True)
    ps = [rng.random((48, 40)) for _ in range(8)]
    ts = [0.001 * (1 + j % 3) for j in range(8)]
    want = [heat(p, t) for p, t in zip(ps, ts)]
    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda j: heat(ps[j], ts[j]), range(8)))
    for a, b in zip(want, got):
        assert np.array_equal(a, b)


def test_foreign_flag_refused():
    s = berg.Space(16, 0, 1)
    h = berg.propagator._heat_create
    out = berg.propagator._vp()
    st = h(berg.propagator.ctypes.byref(out), s.handle, 1, 1, berg._lib.constant("BERG_FP_FOURIER"))
    assert st != 0 and out.value is None


# ---- multipliers --------------------------------------------------------
def test_multiplier_symbol_and_exp():
    rng = np.random.default_rng(6)
    g = np.array([[2.0, 0.3], [0.3, 1.0]])
    s = berg.Space((20, 16), 0, (1, 2), metric=g)
    gi = np.linalg.inv(g)
    m = berg.Multiplier(s, lambda k: k @ gi @ k)
    p = rng.random((20, 16))
    np.testing.assert_allclose(m.exp_apply(p, 0.01), berg.Heat(s)(p, 0.01), rtol=0, atol=1e-15)
    # c = |k|^2 is -Delta_g: compare with numpy on a smooth function
    x, y = s.grid()
    k = np.array([2 * np.pi * 2, 2 * np.pi * 1 / 2])
    f = np.cos(k[0] * x + k[1] * y)
    np.testing.assert_allclose(m.apply(f), (k @ gi @ k) * f, rtol=0, atol=1e-12 * (k @ gi @ k))


def test_multiplier_callback_errors():
    s = berg.Space(8, 0, 1)

    def bad(k):
        raise KeyError("boom")

    with pytest.raises(berg.CallbackError) as info:
        berg.Multiplier(s, bad)
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(berg.CallbackError, match=r"symbol at k = \(0\) returned nan .*not finite"):
        berg.Multiplier(s, lambda k: float("nan"))
    neg = berg.Multiplier(s, lambda k: 1 - abs(k[0]))
    out = np.full(8, 3.5)
    with pytest.raises(berg.DomainError):
        neg.exp_apply(np.ones(8), 0.1, out=out)
    assert np.all(out == 3.5)


def test_regulators_and_radial():
    s = berg.Space((18, 12), 0, 1, bc=("periodic", "neumann"), metric=np.diag([2.0, 0.5]))
    rng = np.random.default_rng(7)
    p = rng.random((18, 12))
    lam = 15.0
    reg = berg.Multiplier.regulator(s, "exponential", lam)
    np.testing.assert_allclose(reg(p), berg.Heat(s)(p, 1 / lam ** 2), rtol=0, atol=1e-15)
    assert berg.regulator_value("litim", 2.0, 1.0) == pytest.approx(3.0, rel=1e-15)
    assert berg.regulator_value("sharp", 2.0, 2.5) == 0.0
    kp = np.linspace(0, 200, 4001)
    rad = berg.Multiplier.radial(s, kp, np.exp(-kp ** 2 / lam ** 2))
    # linear interpolation with knots 0.05 apart: error <= h^2/8 max|c''| ~ 3e-6 * 2/lam^2
    np.testing.assert_allclose(rad(p), reg(p), rtol=0, atol=1e-6)
    with pytest.raises(berg.DomainError):
        berg.Multiplier.regulator(s, "sharp", -1.0)
    with pytest.raises(berg.DomainError):
        berg.Multiplier.radial(s, [0, 1, 1], [1, 2, 3])


def _xoshiro_normals(seed, stream, n):
    """The documented generator: splitmix64 seeding of xoshiro256**, polar normals."""
    M = (1 << 64) - 1

    def splitmix(x):
        x = (x + 0x9E3779B97F4A7C15) & M
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return x, z ^ (z >> 31)

    def rotl(v, k):
        return ((v << k) | (v >> (64 - k))) & M

    x = seed ^ ((0xD1B54A32D192ED03 * (stream + 1)) & M)
    x, _ = splitmix(x)
    st = []
    for _ in range(4):
        x, z = splitmix(x)
        st.append(z)

    def nxt():
        r = (rotl((st[1] * 5) & M, 7) * 9) & M
        t = (st[1] << 17) & M
        st[2] ^= st[0]
        st[3] ^= st[1]
        st[1] ^= st[2]
        st[0] ^= st[3]
        st[2] ^= t
        st[3] = rotl(st[3], 45)
        return r

    out = []
    while len(out) < n:
        while True:
            u = 2 * (((nxt() >> 12) + 0.5) * 2.0 ** -52) - 1
            v = 2 * (((nxt() >> 12) + 0.5) * 2.0 ** -52) - 1
            ss = u * u + v * v
            if 0 < ss < 1:
                break
        f = math.sqrt(-2 * math.log(ss) / ss)
        out += [u * f, v * f]
    return np.array(out[:n])


def test_random_field_documented_generator():
    n, L, ell = 64, 8.0, 0.7
    s = berg.Space(n, 0, L)
    spec = lambda k: math.exp(-0.5 * (k[0] * ell) ** 2)  # noqa: E731
    m = berg.Multiplier(s, spec)
    got = m.random_field(seed=99, stream=3)
    assert np.array_equal(got, m.random_field(seed=99, stream=3))
    xi = _xoshiro_normals(99, 3, n) / math.sqrt(s.cell_weight)
    k = 2 * np.pi * np.fft.fftfreq(n, d=L / n)
    want = np.fft.ifft(np.fft.fft(xi) * np.sqrt(np.exp(-0.5 * (k * ell) ** 2))).real
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)


def test_wisdom_roundtrip(tmp_path):
    berg.Heat(berg.Space(64, 0, 1))
    w = berg.wisdom_export()
    assert "fftw_wisdom" in w
    berg.wisdom_import(w)
    with pytest.raises(berg.ParseError):
        berg.wisdom_import("not wisdom")
    path = tmp_path / "w.txt"
    berg.wisdom_export_file(path)
    berg.wisdom_import_file(path)
    with pytest.raises(berg.BergIOError):
        berg.wisdom_import_file(tmp_path / "missing" / "w.txt")


# ---- the direct path (issue 18) -------------------------------------------------

@pytest.mark.parametrize("bc,mode", [("periodic", "wrap"), ("neumann", "reflect")])
def test_direct_fd_matches_scipy_bessel_convolution(bc, mode):
    """The FD heat kernel per axis is e^{-2s} I_m(2s) (scipy.special.ive),
    applied with scipy.ndimage's periodic / half-sample-symmetric extension:
    an independent reference for the direct path, both axes of a 2-D grid."""
    import scipy.ndimage
    import scipy.special
    rng = np.random.default_rng(18)
    n0, n1 = 70, 53
    s = berg.Space((n0, n1), (0, 0), (n0 * 0.1, n1 * 0.2), bc=bc)
    p = rng.standard_normal((n0, n1))
    for t in (0.003, 0.02, 0.09):
        want = p
        for axis, h in ((0, 0.1), (1, 0.2)):
            sv = t / (h * h)
            m = np.arange(-40, 41)
            want = scipy.ndimage.convolve1d(want, scipy.special.ive(m, 2 * sv), axis=axis,
                                            mode=mode)
        got = berg.Heat(s, fd=True, estimate=True, path="direct")(p, t)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14 * np.abs(want).max())


@pytest.mark.parametrize("fd", [False, True])
def test_direct_equals_spectral_and_auto(fd):
    rng = np.random.default_rng(19)
    s = berg.Space((64, 45), (0, 0), (1, 0.7), bc=("dirichlet", "periodic"),
                   metric=np.diag([1.4, 0.8]))
    p = rng.standard_normal((64, 45))
    hd = berg.Heat(s, fd=fd, estimate=True, path="direct")
    hs = berg.Heat(s, fd=fd, estimate=True, path="spectral")
    ha = berg.Heat(s, fd=fd, estimate=True)
    for sigma in (0.3, 1.0, 2.0, 3.2, 4.0, 8.0, 20.0):
        t = 0.5 * (sigma / 64) ** 2
        ref = hs(p, t)
        tol = 1e-14 * np.abs(ref).max()
        np.testing.assert_allclose(hd(p, t), ref, rtol=0, atol=tol)
        np.testing.assert_allclose(ha(p, t), ref, rtol=0, atol=tol)


def test_direct_threads_bitwise_and_multiplier():
    rng = np.random.default_rng(20)
    s = berg.Space((80, 66), (0, 0), (1, 1), bc=("neumann", "dirichlet"))
    p = rng.standard_normal((80, 66))
    t = 0.5 * (2.0 / 80) ** 2
    one = berg.Heat(s, fd=True, estimate=True, path="direct")(p, t)
    two = berg.Heat(s, fd=True, threads=2, estimate=True, path="direct")(p, t)
    assert np.array_equal(one, two)
    # a multiplier with the heat symbol D |k|^2: the heat flow at D t
    m = berg.Multiplier(s, lambda k: 0.5 * float(k @ k), fd=True, estimate=True, path="direct")
    np.testing.assert_allclose(m.exp_apply(p, 2 * t), one, rtol=0,
                               atol=1e-14 * np.abs(one).max())
    with pytest.raises(ValueError):
        berg.Heat(s, path="fast")
