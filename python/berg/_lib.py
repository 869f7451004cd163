"""Loading libberg through ctypes, status -> exception mapping, array helpers.

The library is found, in order, at
  1. the path in the environment variable BERG_LIBRARY (the only way to load
     a build tree's library, and the only way a sanitizer build is loaded),
  2. the library installed with this package: the file named in the
     berg/_install.py that `meson install` or the wheel writes (inside the
     package for a wheel, in the prefix's libdir for `meson install`),
  3. the system's libberg.so.1, through the dynamic loader's search path.
No folder is searched by pattern. The first candidate that exists is loaded
(a candidate that exists but fails to load is an ImportError, not a reason
to try the next one). The loaded file is `library_path` (berg.library_path).
Its berg_version_number() must have the major version this package was
written for and be at least the minor version.
"""
import ctypes
import operator
import os

import numpy as np

#: the library version this package was written for (MAJOR*10000+MINOR*100+PATCH)
WRITTEN_FOR = 10100

c_double_p = ctypes.POINTER(ctypes.c_double)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_int_p = ctypes.POINTER(ctypes.c_int)


SONAME = "libberg.so.1"
_SANITIZER_RUNTIMES = (b"libasan.so", b"libtsan.so", b"libubsan.so", b"libmsan.so", b"liblsan.so")


def _candidates():
    """(path, how) pairs in the loader's order; see the module docstring."""
    env = os.environ.get("BERG_LIBRARY")
    if env:
        yield env, "BERG_LIBRARY"
        return
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from . import _install  # written at install time; absent in the source tree
    except ImportError:
        _install = None
    if _install is not None:
        yield os.path.normpath(os.path.join(here, _install.LIBRARY)), "installed with the package"
    yield SONAME, "the system's dynamic loader"


def _sanitizers(path):
    """The sanitizer runtimes the ELF file at path needs (an ASan, TSan or
    UBSan build names them); empty for a normal build."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    return [rt.decode() for rt in _SANITIZER_RUNTIMES if rt in data]


def _runtime_missing(runtimes):
    """The runtimes among `runtimes` that must come first in the process
    (ASan, TSan) but are not loaded (not preloaded with LD_PRELOAD)."""
    probe = {"libasan.so": "__asan_init", "libtsan.so": "__tsan_init"}
    try:
        process = ctypes.CDLL(None)
    except OSError:
        return []
    return [rt for rt in runtimes if rt in probe and not hasattr(process, probe[rt])]


def _loaded_path(cdll):
    """The file the dynamic loader mapped for cdll (dladdr of one of its
    functions), or None when that cannot be asked."""
    class _DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
    try:
        dladdr = ctypes.CDLL(None).dladdr
    except (OSError, AttributeError):
        return None
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    dladdr.restype = ctypes.c_int
    info = _DlInfo()
    if not dladdr(ctypes.cast(cdll.berg_version_number, ctypes.c_void_p), ctypes.byref(info)):
        return None
    return os.path.realpath(info.dli_fname.decode()) if info.dli_fname else None


def _load():
    tried = []
    for path, how in _candidates():
        is_file = os.path.sep in path
        if is_file and not os.path.exists(path):
            if how == "BERG_LIBRARY":
                raise ImportError(f"BERG_LIBRARY={path}: no such file")
            tried.append(f"{path} ({how}): no such file")
            continue
        runtimes = _sanitizers(path) if is_file else []
        if runtimes and how != "BERG_LIBRARY":
            raise ImportError(f"{path} ({how}) is a sanitizer build; it is loaded only when "
                              "named by BERG_LIBRARY (with the sanitizer runtime preloaded)")
        missing = _runtime_missing(runtimes)
        if missing:
            raise ImportError(f"BERG_LIBRARY={path} is a sanitizer build: preload its runtime "
                              f"(LD_PRELOAD=$(gcc -print-file-name={missing[0]})) to load it")
        try:
            cdll = ctypes.CDLL(path)
        except OSError as exc:
            if is_file:
                raise ImportError(f"libberg at {path} ({how}) could not be loaded: {exc}") from exc
            tried.append(f"{path} ({how}): {exc}")
            continue
        return cdll, _loaded_path(cdll) or (os.path.abspath(path) if is_file else path)
    raise ImportError("libberg could not be loaded; install it (libberg.so.1) or set "
                      "BERG_LIBRARY to the path of libberg.so.1. Tried:\n  " + "\n  ".join(tried))


#: lib: the loaded libberg (ctypes.CDLL); library_path: the file it was
#: loaded from (absolute, symbolic links resolved)
lib, library_path = _load()
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
    """A libberg call failed: the base class of every libberg exception.

    Each ``berg_status`` of the C library is one subclass; the subclasses
    also derive from the matching Python built-in (``ValueError`` for bad
    arguments, ``MemoryError``, ``OSError``, ``RuntimeError``), so
    ``except ValueError`` catches refused inputs.

    Parameters
    ----------
    detail : str
        The library's ``berg_last_error()`` message, naming the function and
        the argument.
    status : int, optional
        The ``berg_status`` value (default: the class's ``status``).

    Attributes
    ----------
    status : int
        The ``berg_status`` value.
    detail : str
        The message.

    Raises
    ------
    BergError
        Raised by libberg calls, never by its constructor.

    Examples
    --------
    >>> try:
    ...     berg.Space((0,), 0.0, 1.0)
    ... except berg.BergError as exc:
    ...     print(type(exc).__name__, exc.status, exc.detail)
    SizeError 2 berg_space_create: n[0] = 0; every axis needs at least one cell
    """

    status = None

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status


class NullError(BergError, ValueError):
    """BERG_ERR_NULL: a required pointer argument was NULL (a closed handle).

    Examples
    --------
    >>> issubclass(berg.NullError, ValueError)
    True
    """
    status = 1


class SizeError(BergError, ValueError):
    """BERG_ERR_SIZE: a count, rank or dimension is zero or too large.

    Examples
    --------
    >>> berg.Space((0,), 0.0, 1.0)
    Traceback (most recent call last):
    ...
    berg._lib.SizeError: berg_space_create: n[0] = 0; every axis needs at least one cell
    """
    status = 2


class NonFiniteError(BergError, ValueError):
    """BERG_ERR_NONFINITE: an input (or a callback's output) is NaN or infinite.

    Examples
    --------
    >>> berg.Space((2,), 0.0, 1.0).integrate([np.nan, 0.0])
    Traceback (most recent call last):
    ...
    berg._lib.NonFiniteError: berg_space_integrate: f[0] = nan is not finite
    """
    status = 3


class NegativeDensityError(BergError, ValueError):
    """BERG_ERR_NEGATIVE: a density or measure has a negative value.

    Examples
    --------
    >>> berg.entropy(berg.Space((2,), 0.0, 1.0), [-1.0, 3.0])
    Traceback (most recent call last):
    ...
    berg._lib.NegativeDensityError: berg_entropy: density p has a negative value -1 at index 0
    """
    status = 4


class MassError(BergError, ValueError):
    """BERG_ERR_MASS: a "density" is not normalized, or a "measure" has no positive finite mass.

    Examples
    --------
    >>> berg.entropy(berg.Space((2,), 0.0, 1.0), [3.0, 3.0])
    Traceback (most recent call last):
    ...
    berg._lib.MassError: berg_entropy: density p has mass 3; it must be normalized to 1 ...
    """
    status = 5


class TimeError(BergError, ValueError):
    """BERG_ERR_TIME: a time or step is negative or not finite.

    Examples
    --------
    >>> berg.Heat(berg.Space((4,), 0.0, 1.0), estimate=True).apply(np.ones(4), -1.0)
    Traceback (most recent call last):
    ...
    berg._lib.TimeError: berg_heat_apply: t = -1 must be finite and >= 0
    """
    status = 6


class NotSPDError(BergError, ValueError):
    """BERG_ERR_NOT_SPD: a matrix that must be symmetric positive definite is not.

    Examples
    --------
    >>> berg.Space((4, 4), 0.0, 1.0, metric=[[1, 2], [2, 1]])
    Traceback (most recent call last):
    ...
    berg._lib.NotSPDError: berg_space_create: metric is not positive definite: ...
    """
    status = 7


class MismatchError(BergError, ValueError):
    """BERG_ERR_MISMATCH: two arguments that must agree (spaces, shapes, dimensions) do not.

    Examples
    --------
    >>> issubclass(berg.MismatchError, ValueError)
    True
    """
    status = 8


class DomainError(BergError, ValueError):
    """BERG_ERR_DOMAIN: a parameter is outside its domain (bounds, flags, tolerances).

    Examples
    --------
    >>> berg.Space((4,), 1.0, 0.0)
    Traceback (most recent call last):
    ...
    berg._lib.DomainError: berg_space_create: upper[0] = 0 is not greater than lower[0] = 1
    """
    status = 9


class UnsupportedError(BergError, ValueError):
    """BERG_ERR_UNSUPPORTED: a valid combination libberg does not implement.

    Examples
    --------
    >>> berg.Space((4, 4), 0.0, 1.0, bc="neumann", metric=[[1, 0.1], [0.1, 1]])
    Traceback (most recent call last):
    ...
    berg._lib.UnsupportedError: berg_space_create: metric[0][1] = 0.1 couples axis 0, ...
    """
    status = 10


class OutOfMemoryError(BergError, MemoryError):
    """BERG_ERR_NOMEM: an allocation failed; nothing the caller owns was changed.

    Examples
    --------
    >>> issubclass(berg.OutOfMemoryError, MemoryError)
    True
    """
    status = 11


class CallbackError(BergError, RuntimeError):
    """BERG_ERR_CALLBACK: a Python callback raised or returned non-zero; the Python exception is chained as ``__cause__``.

    Examples
    --------
    >>> berg.Multiplier(berg.Space((4,), 0.0, 1.0), lambda k: 1 / 0, estimate=True)
    Traceback (most recent call last):
    ...
    berg._lib.CallbackError: berg_multiplier_create_ex: symbol returned -1 at k = (0)
    """
    status = 12


class ConvergenceError(BergError, RuntimeError):
    """BERG_ERR_CONVERGENCE: an iteration did not reach its tolerance within its iteration limit.

    Examples
    --------
    >>> issubclass(berg.ConvergenceError, RuntimeError)
    True
    """
    status = 13


class ParseError(BergError, ValueError):
    """BERG_ERR_PARSE: text (FFTW wisdom) could not be parsed.

    Examples
    --------
    >>> berg.wisdom_import("not wisdom")
    Traceback (most recent call last):
    ...
    berg._lib.ParseError: berg_wisdom_import_string: the string is not FFTW wisdom ...
    """
    status = 14


class BergIOError(BergError, OSError):
    """BERG_ERR_IO: a file could not be opened, read or written.

    Examples
    --------
    >>> berg.wisdom_import_file("/nonexistent/wisdom")
    Traceback (most recent call last):
    ...
    berg._lib.BergIOError: berg_wisdom_import_file: cannot open "/nonexistent/wisdom" for reading: ...
    """
    status = 15


class NotTangentError(BergError, ValueError):
    """BERG_ERR_NOT_TANGENT: a tangent vector does not integrate to zero (eq 13).

    Examples
    --------
    >>> issubclass(berg.NotTangentError, ValueError)
    True
    """
    status = 16


class OutOfRangeError(BergError, ValueError):
    """BERG_ERR_RANGE: an index is out of range.

    Examples
    --------
    >>> berg.fisher_wick(np.eye(2), [0, 5])
    Traceback (most recent call last):
    ...
    berg._lib.OutOfRangeError: berg_fisher_wick: idx[1] = 5 is not below dim = 2
    """
    status = 17


class InternalError(BergError, RuntimeError):
    """BERG_ERR_INTERNAL: a libberg bug or a failure of a library it calls (FFTW, LAPACK).

    Examples
    --------
    >>> issubclass(berg.InternalError, RuntimeError)
    True
    """
    status = 18


class CancelledError(BergError, RuntimeError):
    """A progress callback stopped the call (BERG_ERR_CANCELLED); the outputs
    and the handle are as they were before the call.

    Examples
    --------
    >>> issubclass(berg.CancelledError, berg.BergError)
    True
    """
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
        if status != 0 and isinstance(err, KeyboardInterrupt):
            raise err  # Ctrl-C inside a callback: stop, as Python would
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


lib.berg_set_threads.restype = ctypes.c_int
lib.berg_set_threads.argtypes = [ctypes.c_size_t]
lib.berg_threads.restype = ctypes.c_size_t
lib.berg_threads.argtypes = []


def set_threads(nthreads: int) -> None:
    """Set the library-wide number of threads libberg's calls may use.

    The default is 1. A handle's own setting (its ``set_threads`` method,
    where it has one) overrides this one; 0 there follows it. OpenBLAS keeps
    its own count (``OPENBLAS_NUM_THREADS``), except that while libberg's
    threads themselves call BLAS it is held at one thread and restored.

    Parameters
    ----------
    nthreads : int
        1 to 1024.

    Raises
    ------
    DomainError
        ``nthreads`` is 0 or above 1024 (the setting is unchanged).

    Examples
    --------
    >>> berg.set_threads(2); berg.threads()
    2
    >>> berg.set_threads(1)
    """
    if isinstance(nthreads, bool) or not isinstance(nthreads, int) or nthreads < 0:
        raise DomainError(f"set_threads: nthreads must be a non-negative int, not {nthreads!r}")
    check(lib.berg_set_threads(nthreads))


def threads() -> int:
    """The library-wide number of threads (see :func:`set_threads`).

    Returns
    -------
    int
        The setting, 1 unless changed.

    Raises
    ------
    None
        It cannot fail.

    Examples
    --------
    >>> berg.threads() >= 1
    True
    """
    return int(lib.berg_threads())
