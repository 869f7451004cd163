import ctypes
import gc

import numpy as np
import pytest

import berg
from berg import _lib


def test_every_status_has_an_exception_class():
    count = _lib.fn("berg_status_count", [], ctypes.c_int)()
    assert count == 20
    for status in range(1, count):
        cls = _lib._EXCEPTIONS[status]
        assert issubclass(cls, berg.BergError)
        assert cls.status == status
        with pytest.raises(cls) as e:
            _lib.check(status)
        assert e.value.status == status and str(e.value)


def test_library_version_matches_package():
    assert berg.version_number // 10000 == _lib.WRITTEN_FOR // 10000
    assert berg.version_number >= _lib.WRITTEN_FOR
    assert berg.__version__ == berg.version


def test_aligned_allocation_roundtrip():
    alloc = _lib.fn("berg_alloc", [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t,
                                   ctypes.c_size_t])
    free = _lib.fn("berg_free", [ctypes.c_void_p], None)
    align = _lib.fn("berg_alignment", [], ctypes.c_size_t)()
    p = ctypes.c_void_p()
    _lib.check(alloc(ctypes.byref(p), 100, 8))
    assert p.value % align == 0
    free(p)
    with pytest.raises(berg.SizeError, match="berg_alloc"):
        _lib.check(alloc(ctypes.byref(p), 0, 8))


def test_size_t_refuses_what_ctypes_would_wrap():
    assert _lib.size_t(0) == 0 and _lib.size_t(7) == 7
    assert _lib.size_t(np.int64(5)) == 5 and type(_lib.size_t(np.uint8(5))) is int
    assert _lib.size_t(2**64 - 1) == 2**64 - 1
    for bad in (-1, -2**63, 2**64, 2.0, 2.5, "3", None):
        with pytest.raises(ValueError, match="nsteps"):
            _lib.size_t(bad, "nsteps")


def test_every_size_t_argument_is_checked():
    s = berg.Space((8,), -1, 1, bc="neumann")
    p = np.full(8, 0.5)
    cases = [
        (lambda n: berg.Space((8, n), 0, 1), "shape"),
        (lambda n: berg.Heat(s, batch=n), "batch"),
        (lambda n: berg.FisherAccumulator(n), "dim"),
        (lambda n: berg.fisher_jacobian([0.0], n, G=lambda u: u), "dy"),
        (lambda n: berg.fisher_wick(np.eye(2), [0, n]), "idx"),
        (lambda n: berg.W2Metric(s, p, max_iterations=n), "max_iterations"),
        (lambda n: berg.Sinkhorn(s, 0.1, max_iterations=n), "max_iterations"),
    ]
    for make, name in cases:
        for bad in (-1, 1.5):
            with pytest.raises(ValueError, match=name):
                make(bad)
    U = berg.Space((8,), -1, 1, bc="neumann")
    b = berg.Bayes(U, np.ones(8), s).set_location(lambda u: u, logp0=lambda y: -y @ y)
    b.observe([0.1])
    b.set_truth(p)
    for bad in (-1, 1.5):
        with pytest.raises(ValueError, match="nsteps"):
            berg.dictionary_flow(b, 0.0, 0.1, p, nsteps=bad)
        with pytest.raises(ValueError, match="nsteps"):
            berg.dictionary_discrepancy(b, 0.1, nsteps=bad)
    # 0 passes the binding and meets the library's own checks
    with pytest.raises(berg.DomainError, match="max_iterations"):
        berg.Sinkhorn(s, 0.1, max_iterations=0)
    with pytest.raises(berg.DomainError, match="max_iterations"):
        berg.W2Metric(s, p, max_iterations=0)


def test_callback_keeps_the_exception():
    seen = []

    def body(x, out):
        seen.append(x)
        if x < 0:
            raise KeyError("negative")
        out[0] = 2 * x

    cb = _lib.Callback(ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, _lib.c_double_p), body)
    y = ctypes.c_double()
    assert cb.c_fn(1.5, ctypes.byref(y)) == 0 and y.value == 3.0
    assert cb.c_fn(-1.0, ctypes.byref(y)) == -1
    with pytest.raises(berg.CallbackError) as e:
        cb.check(12)
    assert isinstance(e.value.__cause__, KeyError) and seen == [1.5, -1.0]
    assert cb.check(0) == 0  # the kept exception was consumed


def test_handles_are_destroyed_once():
    destroyed = []
    s = berg.Space((8,), 0, 8)

    class Counted(berg.Heat):
        _destroy = staticmethod(lambda h: (destroyed.append(h.value),
                                           berg.Heat._destroy(h)))

    h = Counted(s)
    value = h.handle.value
    assert value and h.handle is h._h
    h.__del__()
    assert destroyed == [value] and h.handle is None
    del h
    gc.collect()
    assert destroyed == [value]
    Counted(s)  # dropped at once
    gc.collect()
    assert len(destroyed) == 2


def test_constants_come_from_the_library():
    # flags: one table of disjoint bits, read by name (with or without BERG_)
    names = ["PLAN_ESTIMATE", "SYMBOL_FD", "FP_FOURIER", "SINKHORN_LOG_DOMAIN",
             "FISHER_ACC_NO_STDERR"]
    values = [_lib.constant("BERG_" + n) for n in names]
    assert values == [_lib.constant(n) for n in names]
    for i, a in enumerate(values):
        assert a > 0 and a & (a - 1) == 0  # one bit each
        for b in values[i + 1:]:
            assert a & b == 0
    assert _lib.constant("BERG_ERR_DOMAIN") == berg.DomainError.status
    assert _lib.constant("BERG_NEUMANN") == berg.NEUMANN
    assert _lib.constant("VERSION_MAJOR") == berg.version_number // 10000
    with pytest.raises(KeyError):
        _lib.constant("BERG_NO_SUCH_CONSTANT")
