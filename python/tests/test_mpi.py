"""berg.mpi (libberg_mpi through mpi4py; issue 16) against the serial berg
API on the same global grid. Run by the `mpi-python` meson test under
``mpirun -np 2``; in the serial `python` suite (no mpirun) it runs on one
rank when libberg_mpi can be loaded, and is skipped when it cannot (no
BERG_MPI_LIBRARY and no libberg_mpi.so.1 beside libberg or on the loader's
path) or when mpi4py is missing."""
import ctypes
import os

import numpy as np
import pytest

import berg


def _mpi_library_available():
    if os.environ.get("BERG_MPI_LIBRARY"):
        return True
    beside = os.path.join(os.path.dirname(os.path.abspath(berg._lib.library_path)),
                          "libberg_mpi.so.1")
    if os.path.exists(beside):
        return True
    try:
        ctypes.CDLL("libberg_mpi.so.1")
        return True
    except OSError:
        return False


if not _mpi_library_available():
    pytest.skip("libberg_mpi is not built or not found (set BERG_MPI_LIBRARY)",
                allow_module_level=True)
MPI = pytest.importorskip("mpi4py.MPI")
import berg.mpi as bm  # noqa: E402

COMM = MPI.COMM_WORLD
RANK, SIZE = COMM.Get_rank(), COMM.Get_size()


def _space(shape=(10, 12), lower=(0.0, -1.0), upper=(2 * np.pi, 2.0)):
    return berg.Space(shape, lower, upper)


def test_local_blocks_tile_the_grid():
    sp = bm.Space(_space((5, 6)), COMM)
    assert sp.nranks == SIZE and sp.rank == RANK
    block = -(-5 // SIZE)
    assert sp.offset == min(RANK * block, 5) or sp.rows == 0
    assert sp.local_shape == (sp.rows, 6)
    rows = COMM.allgather(sp.rows)
    assert sum(rows) == 5
    g = np.arange(30.0).reshape(5, 6)
    view = sp.local(g)
    assert view.shape == sp.local_shape and (sp.rows == 0 or np.shares_memory(view, g))
    back = sp.gather(view)
    if RANK == 0:
        assert np.array_equal(back, g)


def test_reductions_match_serial():
    s = _space()
    sp = bm.Space(s, COMM)
    x = np.linspace(0, 1, s.size).reshape(s.shape)
    p = np.exp(-3 * (x - 0.4) ** 2)
    p /= s.integrate(p)
    loc = sp.local(p)
    assert sp.integrate(loc) == pytest.approx(s.integrate(p), rel=1e-14)
    assert sp.entropy(loc) == pytest.approx(-np.sum(p * np.log(p)) * s.cell_weight, rel=1e-12)
    assert np.allclose(sp.mean(loc), s.mean(p), rtol=1e-13, atol=1e-15)
    assert np.allclose(sp.covariance(loc), s.covariance(p), rtol=1e-12, atol=1e-15)


def test_heat_and_multiplier_match_serial():
    s = _space()
    sp = bm.Space(s, COMM)
    rng = np.random.default_rng(4)
    f = rng.standard_normal(s.shape)
    got = sp.gather(bm.Heat(sp, estimate=True).apply(sp.local(f), 0.05))
    sym = lambda k: 1.0 / (1.0 + k @ k)  # noqa: E731
    got_m = sp.gather(bm.Multiplier(sp, sym, estimate=True).apply(sp.local(f)))
    if RANK == 0:
        want = berg.Heat(s, estimate=True).apply(f, 0.05)
        assert np.max(np.abs(got - want)) <= 1e-13 * np.max(np.abs(want))
        want_m = berg.Multiplier(s, sym, estimate=True).apply(f)
        assert np.max(np.abs(got_m - want_m)) <= 1e-13 * np.max(np.abs(want_m))


def test_random_field_is_the_serial_algorithm_on_the_counter_noise():
    """T^{-1} sqrt(C) T (z / sqrt(w)) with z = noise_normals at the global
    sites, whatever the rank count; the spectrum is invariant under the
    Nyquist sign flips, so the serial multiplier tabulates exactly sqrt(C)"""
    s = _space((9, 12))
    sp = bm.Space(s, COMM)
    spectrum = lambda k: 1.0 / (1.0 + 0.5 * k @ k)  # noqa: E731
    field = sp.gather(bm.RandomField(sp, spectrum, estimate=True).sample(21, 4))
    if RANK == 0:
        z = bm.noise_normals(21, 4, 0, s.size).reshape(s.shape) / np.sqrt(s.cell_weight)
        want = berg.Multiplier(s, lambda k: np.sqrt(spectrum(k)), estimate=True).apply(z)
        assert np.max(np.abs(field - want)) <= 1e-13 * np.max(np.abs(want))


def test_noise_normals_are_standard():
    z = bm.noise_normals(5, 1, 10**12, 200000)
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    from scipy import stats
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_langevin_one_step_is_the_serial_algebra():
    s = berg.Space((8, 6), 0.0, (8.0, 6.0))
    sp = bm.Space(s, COMM)
    reg = lambda k: np.exp(-(k @ k) / 4.0)  # noqa: E731
    rng = np.random.default_rng(7)
    phi0 = rng.standard_normal(s.shape)
    grad = lambda f: 0.5 * f + 0.1 * f ** 3  # noqa: E731
    dt = 0.05
    phi = sp.local(phi0).copy()
    bm.Langevin(sp, reg, seed=9).step(phi, dt, 1, grad)
    got = sp.gather(phi)
    if RANK == 0:
        drift = berg.Multiplier(s, reg, estimate=True).apply(grad(phi0))
        z = bm.noise_normals(9, 0, 0, s.size).reshape(s.shape)
        noise = berg.Multiplier(s, lambda k: np.sqrt(reg(k)), estimate=True).apply(z)
        want = phi0 - dt * drift + np.sqrt(2 * dt) * noise
        assert np.max(np.abs(got - want)) <= 1e-13 * np.max(np.abs(want))


def test_langevin_callback_failure_is_every_ranks_failure():
    s = berg.Space((8, 6), 0.0, (8.0, 6.0))
    sp = bm.Space(s, COMM)
    lf = bm.Langevin.regulator(sp, "exponential", 2.0, seed=1)
    phi = np.zeros(sp.local_shape)

    def grad(f):
        if RANK == SIZE - 1:
            raise RuntimeError("no gradient here")
        return f
    with pytest.raises(berg.CallbackError):
        lf.step(phi, 0.1, 2, grad)
    assert np.all(phi == 0.0)


def test_fokker_planck_matches_serial():
    s = berg.Space((24, 16), (0.0, -1.0), (2 * np.pi, 2.0))
    sp = bm.Space(s, COMM)
    x, y = np.meshgrid((np.arange(24) + 0.5) * 2 * np.pi / 24,
                       -1 + (np.arange(16) + 0.5) * 3 / 16, indexing="ij")
    V = np.cos(x) + 0.5 * np.cos(2 * np.pi * y / 3)
    p = np.exp(-V / 2) * (1 + 0.5 * np.sin(x) * np.cos(2 * np.pi * y / 3))
    p /= s.integrate(p)
    fp = bm.FokkerPlanck(sp, sp.local(V), estimate=True)
    got = sp.gather(fp.evolve(sp.local(p), 0.3))
    if RANK == 0:
        want = berg.FokkerPlanck(s, V, discretization="fourier", estimate=True).evolve(p, 0.3)
        assert np.max(np.abs(got - want)) <= 1e-13 * np.max(want)


def test_refusals_are_collective():
    s = berg.Space((8, 8), 0.0, 1.0, bc=("periodic", "neumann"))
    sp = bm.Space(s, COMM)
    with pytest.raises(berg.UnsupportedError, match="periodic"):
        bm.Langevin.regulator(sp, "litim", 1.0)
    with pytest.raises(berg.UnsupportedError):
        bm.FokkerPlanck(sp, np.zeros(sp.local_shape))
    sp2 = bm.Space(_space((8, 8)), COMM)
    p = np.ones(sp2.local_shape)
    if RANK == SIZE - 1 and p.size:
        p.flat[0] = -1.0
    fp = bm.FokkerPlanck(sp2, np.zeros(sp2.local_shape), estimate=True)
    with pytest.raises(berg.NegativeDensityError, match="rank" if SIZE > 1 else "negative"):
        fp.evolve(p, 0.1)


def test_docstring_examples_run():
    """The Examples of berg.mpi (collective: every rank runs them in order)."""
    import doctest
    result = doctest.testmod(bm, extraglobs={"berg": berg, "np": np}, report=False)
    assert result.attempted > 30 and result.failed == 0
