import ctypes

import pytest

import berg
from berg import _lib


def test_every_status_has_an_exception_class():
    count = _lib.fn("berg_status_count", [], ctypes.c_int)()
    assert count == 19
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
