"""progress= and Ctrl-C on the long calls: Sinkhorn solves, Fokker-Planck
evolve, the spectral decomposition, the W2-metric solves and Bayes observe.

Each call reports a start (fraction 0) and an end (fraction 1) and fractions
in between that never decrease; a progress callable that returns True stops
the call with CancelledError and nothing is written; an exception raised by
the callable comes out of the call; SIGINT sent to the process during a long
solve raises KeyboardInterrupt promptly."""
import io
import math
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import berg
from berg import _lib


class Recorder:
    def __init__(self, stop_at=None):
        self.calls = []
        self.stop_at = stop_at  # stop when this predicate of the call list is true

    def __call__(self, fraction, iteration, error):
        self.calls.append((fraction, iteration, error))
        return bool(self.stop_at and self.stop_at(self.calls))

    def check_complete(self):
        assert len(self.calls) >= 2
        fr = [f for f, _, _ in self.calls]
        assert fr[0] == 0.0 and self.calls[0][1] == 0 and fr[-1] == 1.0
        assert all(0.0 <= f <= 1.0 for f in fr)
        assert all(a <= b for a, b in zip(fr, fr[1:]))
        its = [i for _, i, _ in self.calls]
        assert all(a <= b for a, b in zip(its, its[1:]))


def first(calls):
    return len(calls) == 1


def last(calls):
    return calls[-1][0] == 1.0


def bumps(sp):
    x = sp.coordinates(0)
    p = np.where(abs(x - 0.35) < 0.12, (0.5 * (1 + np.cos(np.pi * (x - 0.35) / 0.12))) ** 2, 0.0)
    q = np.where(abs(x - 0.6) < 0.15, (0.5 * (1 + np.cos(np.pi * (x - 0.6) / 0.15))) ** 2, 0.0)
    return p, q


def test_cancelled_status_is_pinned():
    assert _lib.constant("BERG_ERR_CANCELLED") == 19
    assert berg.CancelledError.status == 19
    assert issubclass(berg.CancelledError, berg.BergError)


@pytest.mark.parametrize("log_domain", [False, True])
def test_sinkhorn_progress_and_stop(log_domain):
    sp = berg.Space((200,), 0.0, 1.0, bc="neumann")
    p, q = bumps(sp)
    sk = berg.Sinkhorn(sp, 1e-2, log_domain=log_domain)
    c0 = sk.cost(p, q)
    err0, it0 = sk.report
    rec = Recorder()
    assert sk.cost(p, q, progress=rec) == c0          # same bits with a callback
    rec.check_complete()
    assert rec.calls[-1][1] == it0 and math.isnan(rec.calls[0][2])
    for stop in (first, last):
        with pytest.raises(berg.CancelledError, match="berg_sinkhorn_solve"):
            sk.solve(p, q, progress=Recorder(stop))
        assert sk.report == (err0, it0)                # the report of the last finished solve
    out = np.full(200, -7.0)
    with pytest.raises(berg.CancelledError, match="berg_sinkhorn_barycenter"):
        sk.barycenter([p, q], out=out, progress=Recorder(first))
    assert np.all(out == -7.0)
    # the instance default, overridden per call
    sk.progress = Recorder(first)
    with pytest.raises(berg.CancelledError):
        sk.divergence(p, q)
    assert sk.divergence(p, q, progress=False) >= 0.0


def test_progress_exception_comes_out():
    sp = berg.Space((200,), 0.0, 1.0, bc="neumann")
    p, q = bumps(sp)
    sk = berg.Sinkhorn(sp, 1e-2)

    def boom(fraction, iteration, error):
        raise ZeroDivisionError("from the progress callable")
    with pytest.raises(ZeroDivisionError, match="progress callable"):
        sk.cost(p, q, progress=boom)
    with pytest.raises(TypeError, match="progress"):
        sk.cost(p, q, progress="yes")
    assert sk.cost(p, q) > 0                           # the handle still works


def test_progress_true_bar_and_plain_line(monkeypatch, capsys):
    sp = berg.Space((200,), 0.0, 1.0, bc="neumann")
    p, q = bumps(sp)
    sk = berg.Sinkhorn(sp, 1e-2)
    c0 = sk.cost(p, q)
    try:
        import tqdm  # noqa: F401
        have_tqdm = True
    except ImportError:
        have_tqdm = False
    if have_tqdm:
        assert sk.cost(p, q, progress=True) == c0
        assert "Sinkhorn cost" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tqdm", None)   # import tqdm now fails
    assert sk.cost(p, q, progress=True) == c0
    err = capsys.readouterr().err
    assert "Sinkhorn cost: 100.0%" in err and err.endswith("\n")


@pytest.mark.parametrize("discretization", ["finite_volume", "fourier"])
def test_fokker_planck_evolve(discretization):
    periodic = discretization == "fourier"
    sp = berg.Space((48, 48), -4.0, 4.0, bc="periodic" if periodic else "neumann")
    x, y = np.meshgrid(sp.coordinates(0), sp.coordinates(1), indexing="ij")
    V = (2 * np.cos(np.pi * x / 4) + np.cos(np.pi * y / 4)) if periodic else (x**2 + y**2) / 2
    fp = berg.FokkerPlanck(sp, V, discretization, estimate=True)
    p0 = np.exp(-((x - 1) ** 2 + (y + 0.5) ** 2) / 0.6)
    ref = fp.evolve(p0, 2.0)
    rec = Recorder()
    assert np.array_equal(fp.evolve(p0, 2.0, progress=rec), ref)
    rec.check_complete()
    assert rec.calls[-1][1] == sum(fp.last_steps)
    for stop in (first, last):
        out = np.full(sp.shape, -3.0)
        with pytest.raises(berg.CancelledError, match="berg_fp_evolve"):
            fp.evolve(p0, 2.0, out=out, progress=Recorder(stop))
        assert np.all(out == -3.0)


def test_fp_spectral_creation():
    sp = berg.Space((100,), -4.0, 4.0, bc="neumann")
    x = sp.coordinates(0)
    fp = berg.FokkerPlanck(sp, x**2 / 2)
    rec = Recorder()
    spec = berg.FPSpectral(fp, progress=rec)
    assert [(f, i) for f, i, _ in rec.calls] == [(0.0, 0), (1.0, 1)]
    assert np.array_equal(spec.eigenvalues(), berg.FPSpectral(fp).eigenvalues())
    for stop in (first, last):
        with pytest.raises(berg.CancelledError, match="berg_fp_spectral_create_progress"):
            berg.FPSpectral(fp, progress=Recorder(stop))


def test_w2_metric_solves():
    sp = berg.Space((64, 64), -3.0, 3.0, bc="neumann")
    x, y = np.meshgrid(sp.coordinates(0), sp.coordinates(1), indexing="ij")
    p, _ = sp.normalize(np.exp(-((x + 0.5) ** 2 + y**2) / 0.8))
    q, _ = sp.normalize(np.exp(-((x - 0.7) ** 2 + (y - 0.4) ** 2) / 0.6))
    m = berg.W2Metric(sp, p, regularization=1e-3)
    ref = m.potential(q - p)
    its = m.iterations, m.residual
    rec = Recorder()
    assert np.array_equal(m.potential(q - p, progress=rec), ref)
    rec.check_complete()
    assert rec.calls[-1][1] == its[0]
    out = np.full(sp.shape, 5.0)
    m.iterations, m.residual = -1, -1.0
    for stop in (first, last):
        with pytest.raises(berg.CancelledError, match="berg_w2_metric_potential"):
            m.potential(q - p, out=out, progress=Recorder(stop))
        assert np.all(out == 5.0) and (m.iterations, m.residual) == (-1, -1.0)
    with pytest.raises(berg.CancelledError, match="berg_w2_metric_inner"):
        m.inner(q - p, q - p, progress=Recorder(first))


def test_bayes_observe():
    U = berg.Space((81,), -2.0, 2.0, "neumann")
    Y = berg.Space((64,), -8.0, 8.0, "neumann")
    b = berg.Bayes(U, np.ones(81), Y).set_location(lambda u: u, noise_space=Y,
                                                    noise=np.exp(-Y.coordinates(0) ** 2 / 2))
    rng = np.random.default_rng(3)
    data = 0.3 + rng.standard_normal(5000)
    b.observe(data[:10])
    before, T = b.posterior(), b.count
    for stop in (first, last):
        with pytest.raises(berg.CancelledError, match="berg_bayes_observe"):
            b.observe(data, progress=Recorder(stop))
        assert np.array_equal(b.posterior(), before) and b.count == T
    rec = Recorder()
    b.observe(data, progress=rec)
    rec.check_complete()
    assert rec.calls[-1][1] == 5000 and b.count == T + 5000


def test_ctrl_c_stops_a_long_sinkhorn_solve():
    """SIGINT from a timer thread during a solve that would run for hours
    (tolerance 0, 10^9 iterations): KeyboardInterrupt arrives promptly. The
    issue asks for 0.2 s; the bound here is 1 s for a loaded machine, and the
    measured latency is printed."""
    sp = berg.Space((256, 256), 0.0, 1.0, bc="periodic")
    x, y = np.meshgrid(sp.coordinates(0), sp.coordinates(1), indexing="ij")
    p = np.exp(-((x - 0.3) ** 2 + (y - 0.4) ** 2) / 0.01)
    q = np.exp(-((x - 0.6) ** 2 + (y - 0.5) ** 2) / 0.02)
    sk = berg.Sinkhorn(sp, 0.05, tolerance=0.0, max_iterations=10**9)
    sent = []

    def interrupt():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(0.5, interrupt)
    t0 = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sk.cost(p, q)
        arrived = time.perf_counter()
    finally:
        timer.cancel()
    assert sent, "the solve ended before the signal was sent"
    latency = arrived - sent[0]
    print(f"\nCtrl-C latency: {latency * 1e3:.1f} ms (solve ran {arrived - t0:.2f} s)")
    assert latency < 1.0
    # the handle is usable afterwards
    sk.tolerance, sk.max_iterations = 1e-9, 10000
    assert sk.cost(p, q) > 0
