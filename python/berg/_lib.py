"""Loading libberg through ctypes, status -> exception mapping, array helpers.

The library is found, in order, at
  1. the path in the environment variable BERG_LIBRARY,
  2. a build tree next to this package (../../build*/lib/libberg.so*),
  3. the system's libberg.so.1 (ctypes.util.find_library / the loader).
Its berg_version_number() must have the major version this package was
written for and be at least the minor version.
"""
import ctypes
import ctypes.util
import glob
import operator
import os

import numpy as np

#: the library version this package was written for (MAJOR*10000+MINOR*100+PATCH)
WRITTEN_FOR = 10000

c_double_p = ctypes.POINTER(ctypes.c_double)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_int_p = ctypes.POINTER(ctypes.c_int)


def _candidates():
    env = os.environ.get("BERG_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for path in sorted(glob.glob(os.path.join(root, "build*", "lib", "libberg.so*"))):
        yield path
    found = ctypes.util.find_library("berg")
    if found:
        yield found
    yield "libberg.so.1"


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise ImportError("libberg could not be loaded; set BERG_LIBRARY to the path of "
                      "libberg.so.1. Tried:\n  " + "\n  ".join(errors))


lib = _load()
lib.berg_version_number.restype = ctypes.c_int
lib.berg_version_number.argtypes = []
lib.berg_version_string.restype = ctypes.c_char_p
lib.berg_version_string.argtypes = []
lib.berg_last_error.restype = ctypes.c_char_p
lib.berg_last_error.argtypes = []
lib.berg_status_string.restype = ctypes.c_char_p
lib.berg_status_string.argtypes = [ctypes.c_int]

lib.berg_constant_value.restype = ctypes.c_int
lib.berg_constant_value.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_longlong)]


def constant(name):
    """The value of the public C constant `name` ("BERG_PLAN_ESTIMATE" or
    "PLAN_ESTIMATE"), read from the library rather than copied."""
    v = ctypes.c_longlong()
    if lib.berg_constant_value(name.encode(), ctypes.byref(v)) != 0:
        raise KeyError(name)
    return v.value


version_number = lib.berg_version_number()
version = lib.berg_version_string().decode()
if version_number // 10000 != WRITTEN_FOR // 10000 or version_number < WRITTEN_FOR:
    raise ImportError(f"libberg {version} does not match this package (written for "
                      f"{WRITTEN_FOR // 10000}.{WRITTEN_FOR // 100 % 100}.x or later 1.x)")


# ---- errors -------------------------------------------------------------
class BergError(Exception):
    """A libberg call failed. .status is the berg_status value, .detail the
    library's berg_last_error() message."""

    status = None

    def __init__(self, detail, status=None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status


class NullError(BergError, ValueError):
    status = 1


class SizeError(BergError, ValueError):
    status = 2


class NonFiniteError(BergError, ValueError):
    status = 3


class NegativeDensityError(BergError, ValueError):
    status = 4


class MassError(BergError, ValueError):
    status = 5


class TimeError(BergError, ValueError):
    status = 6


class NotSPDError(BergError, ValueError):
    status = 7


class MismatchError(BergError, ValueError):
    status = 8


class DomainError(BergError, ValueError):
    status = 9


class UnsupportedError(BergError, ValueError):
    status = 10


class OutOfMemoryError(BergError, MemoryError):
    status = 11


class CallbackError(BergError, RuntimeError):
    status = 12


class ConvergenceError(BergError, RuntimeError):
    status = 13


class ParseError(BergError, ValueError):
    status = 14


class BergIOError(BergError, OSError):
    status = 15


class NotTangentError(BergError, ValueError):
    status = 16


class OutOfRangeError(BergError, ValueError):
    status = 17


class InternalError(BergError, RuntimeError):
    status = 18


class CancelledError(BergError, RuntimeError):
    """A progress callback stopped the call (BERG_ERR_CANCELLED); the outputs
    and the handle are as they were before the call."""
    status = 19


_EXCEPTIONS = {cls.status: cls for cls in (
    NullError, SizeError, NonFiniteError, NegativeDensityError, MassError, TimeError,
    NotSPDError, MismatchError, DomainError, UnsupportedError, OutOfMemoryError,
    CallbackError, ConvergenceError, ParseError, BergIOError, NotTangentError,
    OutOfRangeError, InternalError, CancelledError)}


def check(status):
    """Raise the exception class of a non-zero berg_status, with the detail."""
    if status != 0:
        detail = lib.berg_last_error().decode(errors="replace")
        cls = _EXCEPTIONS.get(status, BergError)
        if not detail:
            detail = lib.berg_status_string(status).decode()
        raise cls(detail, status)
    return status


class CallbackGuard:
    """Python functions as C callbacks: an exception inside one must not cross
    into C, so wrap() keeps it and returns -1 (libberg then fails with
    BERG_ERR_CALLBACK), and check() raises that error chained to the kept
    exception. One guard per C call that takes callbacks."""

    def __init__(self):
        self.error = None

    def wrap(self, f):
        def wrapper(*args):
            try:
                r = f(*args)
                return 0 if r is None else r
            except BaseException as exc:  # noqa: B902 - re-raised after the C call
                self.error = exc
                return -1
        return wrapper

    def check(self, status):
        err, self.error = self.error, None
        if status != 0 and err is not None:
            try:
                check(status)
            except BergError as exc:
                raise exc from err
        return check(status)


class Callback(CallbackGuard):
    """One Python function body(*c_args) as a C callback of the CFUNCTYPE
    ctype: .c_fn is the C function pointer (keep this object alive while C
    may call it), .check(status) as CallbackGuard.check."""

    def __init__(self, ctype, body):
        super().__init__()
        self.c_fn = ctype(self.wrap(body))


class Handle:
    """Owner of one libberg handle in self._h, passed to the class's _destroy
    (a berg_*_destroy) when the object goes away."""

    _h = None
    _destroy = None

    def __del__(self):
        h, self._h = self._h, None
        if h:
            type(self)._destroy(h)

    @property
    def handle(self):
        return self._h


def fn(name, argtypes, restype=ctypes.c_int):
    """Declare and return a libberg function."""
    f = getattr(lib, name)
    f.argtypes = argtypes
    f.restype = restype
    return f


# ---- arguments ----------------------------------------------------------
_SIZE_MAX = ctypes.c_size_t(-1).value


def size_t(n, name="count"):
    """n as a C size_t argument. ctypes.c_size_t would wrap a negative n to
    2^64 - 1 (a count that size means hours of work or a huge allocation),
    so anything but an integer in [0, SIZE_MAX] raises ValueError."""
    try:
        v = operator.index(n)
    except TypeError:
        raise ValueError(f"{name} must be a non-negative integer, not {n!r}") from None
    if not 0 <= v <= _SIZE_MAX:
        raise ValueError(f"{name} must be an integer in [0, 2^{_SIZE_MAX.bit_length()} - 1], "
                         f"not {v}")
    return v


# ---- arrays -------------------------------------------------------------
def _refuse_dtype(dtype, name):
    """TypeError naming the argument for an element type libberg cannot take
    without losing information (complex) or that is not a number."""
    if dtype.kind == "c":
        raise TypeError(f"{name} is complex ({dtype}); libberg computes with real "
                        f"float64 data and would drop the imaginary part: pass "
                        f"{name}.real or abs({name}) explicitly")
    if dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers (float64, float32, "
                        f"int or bool), not {dtype}")


def as_array(a, shape=None, name="array"):
    """Input policy of every libberg array argument.

    Parameters
    ----------
    a : array_like
        float64 is used as it is; float32, float16, integer and bool arrays
        are converted to float64 (one copy); Fortran-order and non-contiguous
        arrays are copied to C order. Nested sequences are accepted.
    shape : tuple of int, optional
        The shape libberg expects. A flat array of the same number of
        elements is accepted too (viewed in ``shape``).
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    numpy.ndarray
        A C-contiguous float64 array of ``shape`` (``a`` itself when it already
        is one: no copy).

    Raises
    ------
    TypeError
        ``a`` is complex (its imaginary part would be lost) or not numeric.
    ValueError
        ``a`` has neither ``shape`` nor the same number of elements as a flat
        array.

    Examples
    --------
    >>> import numpy as np
    >>> from berg import _lib
    >>> _lib.as_array(np.arange(4, dtype=np.int32), (2, 2), "p")
    array([[0., 1.],
           [2., 3.]])
    >>> _lib.as_array(np.ones(2, dtype=complex), (2,), "p")
    Traceback (most recent call last):
    ...
    TypeError: p is complex (complex128); libberg computes with real float64 data and would drop the imaginary part: pass p.real or abs(p) explicitly
    """
    arr = np.asarray(a)
    _refuse_dtype(arr.dtype, name)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if shape is not None and arr.shape != tuple(shape):
        if arr.size == int(np.prod(shape)) and arr.ndim == 1 and len(shape) > 1:
            arr = arr.reshape(shape)
        else:
            raise ValueError(f"{name} has shape {arr.shape}, expected {tuple(shape)}")
    return arr


def _shapes(shape, like):
    """The shapes an output may have: ``shape``, and the shape of the caller's
    input ``like`` when it holds the same number of elements (a flat input
    gives a flat output)."""
    shape = tuple(shape)
    if like is None:
        return shape, (shape,)
    ls = tuple(np.shape(like))
    if ls != shape and int(np.prod(ls, dtype=np.int64)) == int(np.prod(shape, dtype=np.int64)):
        return ls, (ls, shape)
    return shape, (shape,)


def inout_array(a, shape=None, name="out", like=None):
    """The caller's array that libberg writes into: it must be a writeable
    C-contiguous float64 numpy array (of ``shape``, or of the shape of the
    input ``like``, when given); never a copy, so the caller sees the result.
    A complex array raises TypeError, any other mismatch ValueError, both
    naming the argument."""
    if isinstance(a, np.ndarray):
        _refuse_dtype(a.dtype, name)
    allowed = None if shape is None else _shapes(shape, like)[1]
    if not (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous
            and a.flags.writeable and (allowed is None or a.shape in allowed)):
        what = "" if shape is None else f" of shape {allowed[0]}"
        raise ValueError(f"{name} must be a writeable C-contiguous float64 array{what}")
    return a


def out_array(out, shape, name="out", like=None):
    """The caller's output array (see inout_array), or a new float64 array
    when out is None: of the shape of the input ``like`` when that holds as
    many elements as ``shape`` (outputs in the input's shape), else of
    ``shape``."""
    if out is None:
        return np.empty(_shapes(shape, like)[0], dtype=np.float64)
    return inout_array(out, shape, name, like)


def ptr(arr):
    """ctypes double* into a numpy float64 array (None -> NULL)."""
    if arr is None:
        return None
    return arr.ctypes.data_as(c_double_p)
