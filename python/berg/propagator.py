"""Heat semigroup, Fourier multipliers, regulators, Gaussian random fields,
the information of a heat channel and FFTW wisdom: the bindings of
include/berg/heat.h.

    heat = Heat(space)                 # e^{t Delta_g}, spectral (FFTW)
    q = heat(p, t)                     # or heat.apply(p, t, out=...)
    qs = heat.apply_times(p, [0.1, 0.2, 0.4])   # one forward transform
    m = Multiplier(space, lambda k: k @ k)      # symbol c(k), evaluated once
    m.apply(f); m.exp_apply(f, t); m.random_field(seed=1)
    heat.channel_information(p, t)     # I(X_0; X_t) of the heat channel

Handles are immutable after creation: one Heat or Multiplier may be applied
from several threads at once (see docs/propagator.md).
"""
from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _lib
from ._lib import c_double_p, check, fn, ptr
from .space import Space

__all__ = ["Heat", "Multiplier", "regulator_value", "wisdom_export", "wisdom_import",
           "wisdom_export_file", "wisdom_import_file", "PLAN_ESTIMATE", "SYMBOL_FD",
           "HEAT_DIRECT", "HEAT_SPECTRAL",
           "REGULATOR_SHARP", "REGULATOR_EXPONENTIAL", "REGULATOR_LITIM",
           "REGULATOR_EXPONENTIAL_DOT", "REGULATOR_LITIM_DOT"]

PLAN_ESTIMATE = _lib.constant("BERG_PLAN_ESTIMATE")
SYMBOL_FD = _lib.constant("BERG_SYMBOL_FD")
HEAT_DIRECT = _lib.constant("BERG_HEAT_DIRECT")
HEAT_SPECTRAL = _lib.constant("BERG_HEAT_SPECTRAL")
REGULATOR_SHARP = _lib.constant("BERG_REGULATOR_SHARP")
REGULATOR_EXPONENTIAL = _lib.constant("BERG_REGULATOR_EXPONENTIAL")
REGULATOR_LITIM = _lib.constant("BERG_REGULATOR_LITIM")
REGULATOR_EXPONENTIAL_DOT = _lib.constant("BERG_REGULATOR_EXPONENTIAL_DOT")
REGULATOR_LITIM_DOT = _lib.constant("BERG_REGULATOR_LITIM_DOT")
_REG_NAMES = {"sharp": REGULATOR_SHARP, "exponential": REGULATOR_EXPONENTIAL,
              "litim": REGULATOR_LITIM, "exponential_dot": REGULATOR_EXPONENTIAL_DOT,
              "litim_dot": REGULATOR_LITIM_DOT}

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_SYMBOL = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)

_heat_create = fn("berg_heat_create_ex", [ctypes.POINTER(_vp), _vp, _sz, _sz, ctypes.c_uint])
_heat_apply = fn("berg_heat_apply", [_vp, ctypes.c_double, c_double_p, c_double_p])
_heat_apply_batch = fn("berg_heat_apply_batch", [_vp, ctypes.c_double, _sz, c_double_p,
                                                 c_double_p])
_heat_apply_times = fn("berg_heat_apply_times", [_vp, _sz, c_double_p, c_double_p, c_double_p])
_heat_destroy = fn("berg_heat_destroy", [_vp], None)
_heat_info = fn("berg_heat_channel_information", [_vp, ctypes.c_double, c_double_p,
                                                  ctypes.POINTER(ctypes.c_double)])

_mult_create = fn("berg_multiplier_create_ex", [ctypes.POINTER(_vp), _vp, _sz, ctypes.c_uint,
                                                _SYMBOL, _vp])
_mult_radial = fn("berg_multiplier_create_radial", [ctypes.POINTER(_vp), _vp, _sz, c_double_p,
                                                    c_double_p, ctypes.c_uint])
_mult_regulator = fn("berg_multiplier_create_regulator", [ctypes.POINTER(_vp), _vp, ctypes.c_int,
                                                          ctypes.c_double, ctypes.c_uint])
_mult_apply = fn("berg_multiplier_apply", [_vp, c_double_p, c_double_p])
_mult_exp_apply = fn("berg_multiplier_exp_apply", [_vp, ctypes.c_double, c_double_p, c_double_p])
_mult_field = fn("berg_multiplier_random_field", [_vp, ctypes.c_ulonglong, ctypes.c_ulonglong,
                                                  c_double_p])
_mult_destroy = fn("berg_multiplier_destroy", [_vp], None)
_reg_value = fn("berg_regulator_value", [ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                         c_double_p])

_w_export = fn("berg_wisdom_export_string", [ctypes.POINTER(_vp)])
_w_import = fn("berg_wisdom_import_string", [ctypes.c_char_p])
_w_export_file = fn("berg_wisdom_export_file", [ctypes.c_char_p])
_w_import_file = fn("berg_wisdom_import_file", [ctypes.c_char_p])
_free = fn("berg_free", [_vp], None)


_PATHS = {"auto": 0, "direct": HEAT_DIRECT, "spectral": HEAT_SPECTRAL}


def _flags(estimate, fd, path="auto"):
    if path not in _PATHS:
        raise ValueError(f"path must be 'auto', 'direct' or 'spectral', not {path!r}")
    return (PLAN_ESTIMATE if estimate else 0) | (SYMBOL_FD if fd else 0) | _PATHS[path]


def _space_arg(space):
    if not hasattr(space, "handle"):
        raise TypeError("space must be a berg.Space")
    return space.handle


class Heat(_lib.Handle):
    """The heat semigroup ``e^{t Delta_g}`` on a Space (``d/dt p = g^{ab} d_a d_b p``).

    Each grid mode is multiplied by the exact continuum symbol
    ``exp(-t k.g^-1 k)`` (FFT, DCT or DST by boundary kind), or with
    ``fd=True`` by the exact semigroup of the second-order finite-difference
    Laplacian (positivity preserving). A point mass spreads to covariance
    ``2 t g^-1`` (eq 15-16, 32-36). The handle is immutable after creation:
    one Heat may be applied from several threads at once.

    Parameters
    ----------
    space : Space
        The grid.
    batch : int, optional
        Arrays per call (one FFTW plan transforms them together); arrays then
        have shape ``(batch,) + space.shape``. Default 1.
    threads : int, optional
        FFTW threads of this handle (default 1).
    estimate : bool, optional
        FFTW_ESTIMATE planning (fast creation) instead of FFTW_MEASURE.
    fd : bool, optional
        Use the finite-difference symbol instead of the continuum one.
    path : str, optional
        ``'auto'`` (default): at each ``t`` the faster of the spectral path
        and the direct one (separable convolution with the exact discrete
        kernel, diagonal metrics, when the kernel is compact), by a
        crossover measured once per handle; ``'direct'``: the direct path
        wherever the kernel is compact; ``'spectral'``: always FFTs. The
        paths agree to 1e-14 of the maximum.

    Raises
    ------
    TypeError
        ``space`` is not a Space.
    ValueError
        ``batch`` or ``threads`` is negative or not an integer, or ``path``
        is not one of the three names.
    SizeError
        ``batch`` or ``threads`` is zero.

    Examples
    --------
    >>> sp = berg.Space((64,), -5.0, 5.0)
    >>> x = sp.coordinates(0)
    >>> p = np.exp(-x ** 2 / 2); p /= sp.integrate(p)
    >>> heat = berg.Heat(sp, estimate=True)
    >>> q = heat(p, 0.5)              # variance 1 + 2 t = 2
    >>> round(float(sp.covariance(q)[0, 0]), 2)
    2.0
    """

    _destroy = _heat_destroy

    def __init__(self, space: Space, batch: int = 1, threads: int = 1, estimate: bool = False,
                 fd: bool = False, path: str = "auto") -> None:
        self.space = space  # keeps the Space alive for .shape queries
        batch = _lib.size_t(batch, "batch")
        h = _vp()
        check(_heat_create(ctypes.byref(h), _space_arg(space), batch,
                           _lib.size_t(threads, "threads"), _flags(estimate, fd, path)))
        self._h = h
        self.batch = batch
        self.shape = tuple(space.shape) if self.batch == 1 else (self.batch,) + tuple(space.shape)

    def apply(self, p: ArrayLike, t: float, out: np.ndarray | None = None) -> np.ndarray:
        """``e^{t Delta_g} p``: the heat flow of a state for a time ``t``.

        Parameters
        ----------
        p : array_like
            A "state": any finite values (the flow is linear), shape
            ``self.shape`` or flat.
        t : float
            The time, finite and >= 0.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result; may be ``p``
            itself (in place).

        Returns
        -------
        numpy.ndarray
            The result (``out`` when given), in the shape of ``p``.

        Raises
        ------
        TimeError
            ``t`` is negative or not finite.
        NonFiniteError
            ``p`` has a NaN or infinite value.
        TypeError
            ``p`` or ``out`` is complex.
        ValueError
            ``p`` or ``out`` has the wrong shape, or ``out`` is not a writeable
            C-contiguous float64 array.

        Examples
        --------
        >>> sp = berg.Space((32,), 0.0, 1.0)
        >>> heat = berg.Heat(sp, estimate=True)
        >>> f = np.cos(2 * np.pi * sp.coordinates(0))
        >>> np.allclose(heat.apply(f, 0.01), np.exp(-0.01 * (2 * np.pi) ** 2) * f)
        True
        """
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        if self.batch == 1:
            check(_heat_apply(self._h, float(t), ptr(p), ptr(out)))
        else:
            check(_heat_apply_batch(self._h, float(t), self.batch, ptr(p), ptr(out)))
        return out

    __call__ = apply

    def apply_times(self, p: ArrayLike, times: ArrayLike,
                    out: np.ndarray | None = None) -> np.ndarray:
        """``e^{t_j Delta_g} p`` for every ``t_j``, from one forward transform.

        Parameters
        ----------
        p : array_like
            A "state" (any finite values), shape ``self.shape``.
        times : array_like
            1-D sequence of times, each finite and >= 0.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array of shape
            ``(len(times),) + self.shape``.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(times),) + self.shape``; row ``j`` is ``apply(p, t_j)``.

        Raises
        ------
        TimeError
            A time is negative or not finite.
        ValueError
            ``times`` is not 1-D, or ``p`` / ``out`` has the wrong shape.
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((32,), 0.0, 1.0)
        >>> heat = berg.Heat(sp, estimate=True)
        >>> f = np.cos(2 * np.pi * sp.coordinates(0))
        >>> qs = heat.apply_times(f, [0.0, 0.01])
        >>> qs.shape, np.allclose(qs[1], heat.apply(f, 0.01))
        ((2, 32), True)
        """
        p = _lib.as_array(p, self.shape, "p")
        ts = np.atleast_1d(_lib.as_array(times, name="times"))
        if ts.ndim != 1:
            raise ValueError("times must be a 1-D sequence")
        out = _lib.out_array(out, (ts.size,) + self.shape)
        check(_heat_apply_times(self._h, ts.size, ptr(ts), ptr(p), ptr(out)))
        return out

    def channel_information(self, p: ArrayLike, t: float) -> float:
        """The mutual information ``I(X_0; X_t)`` of the heat channel, in nats.

        ``X_0 ~ p`` and ``X_t`` is ``X_0`` diffused by this handle's
        ``e^{t Delta_g}`` (its ``fd`` flag applies).

        Parameters
        ----------
        p : array_like
            A "density": finite, >= 0, normalized to 1 within
            ``density_mass_tolerance()``.
        t : float
            The time, finite and > 0.

        Returns
        -------
        float
            ``I(X_0; X_t) >= 0``.

        Raises
        ------
        MassError
            ``p`` is not normalized.
        NegativeDensityError
            ``p`` has a negative value.
        TimeError
            ``t`` is negative or not finite.
        UnsupportedError
            The handle has ``batch > 1`` or a Dirichlet axis.

        Examples
        --------
        >>> sp = berg.Space((64,), -5.0, 5.0)
        >>> x = sp.coordinates(0)
        >>> p = np.exp(-x ** 2 / 2); p /= sp.integrate(p)
        >>> heat = berg.Heat(sp, estimate=True)
        >>> heat.channel_information(p, 0.5) > heat.channel_information(p, 2.0) > 0
        True
        """
        p = _lib.as_array(p, self.shape, "p")
        v = ctypes.c_double()
        check(_heat_info(self._h, float(t), ptr(p), ctypes.byref(v)))
        return v.value


class _Symbol(_lib.Callback):
    """A Python symbol f(k) -> float as a C berg_symbol_fn (see _lib.Callback)."""

    def __init__(self, f):
        def body(ndim, k, c, _ud):
            c[0] = float(f(np.ctypeslib.as_array(k, shape=(ndim,)).copy()))

        super().__init__(_SYMBOL, body)


class Multiplier(_lib.Handle):
    """A Fourier multiplier with symbol ``c(k)`` on a Space.

    ``symbol(k)`` is evaluated once per grid mode at creation. It must be
    even (``c(-k) = c(k)``), e.g. any function of ``|k|_g``.
    :meth:`radial` and :meth:`regulator` build the common ones. The handle is
    immutable after creation (safe to apply from several threads).

    Parameters
    ----------
    space : Space
        The grid.
    symbol : callable
        ``symbol(k) -> float`` with ``k`` the wave vector of one mode (numpy
        array of length ``space.ndim``).
    threads : int, optional
        FFTW threads of this handle (default 1).
    estimate : bool, optional
        FFTW_ESTIMATE planning instead of FFTW_MEASURE.
    fd : bool, optional
        Evaluate the symbol at the finite-difference wave numbers.
    path : str, optional
        For :meth:`exp_apply` when the symbol is a multiple of the heat
        symbol (``D |k|_g^2``, or its finite-difference form with ``fd``, on
        a diagonal metric): ``'auto'``, ``'direct'`` or ``'spectral'`` as in
        :class:`Heat`. Other symbols always use FFTs.

    Raises
    ------
    TypeError
        ``symbol`` is not callable or ``space`` is not a Space.
    ValueError
        ``path`` is not one of the three names.
    CallbackError
        ``symbol`` raised (the exception is chained).
    NonFiniteError
        ``symbol`` returned a NaN or infinite value.

    Examples
    --------
    >>> sp = berg.Space((32,), 0.0, 1.0)
    >>> lap = berg.Multiplier(sp, lambda k: float(k @ k), estimate=True)
    >>> f = np.sin(2 * np.pi * sp.coordinates(0))
    >>> np.allclose(lap(f), (2 * np.pi) ** 2 * f)
    True
    """

    _destroy = _mult_destroy

    def __init__(self, space: Space, symbol: Callable[[np.ndarray], float], threads: int = 1,
                 estimate: bool = False, fd: bool = False, path: str = "auto",
                 _handle: ctypes.c_void_p | None = None) -> None:
        self.space = space
        self.shape = tuple(space.shape)
        if _handle is not None:
            self._h = _handle
            return
        if not callable(symbol):
            raise TypeError("symbol must be callable: symbol(k) -> float")
        cb = _Symbol(symbol)
        h = _vp()
        cb.check(_mult_create(ctypes.byref(h), _space_arg(space), _lib.size_t(threads, "threads"),
                              _flags(estimate, fd, path), cb.c_fn, None))
        self._h = h

    @classmethod
    def radial(cls, space: Space, kp: ArrayLike, cp: ArrayLike, estimate: bool = False,
               fd: bool = False) -> Multiplier:
        """A multiplier whose symbol ``c(|k|_g)`` is interpolated from a table.

        Linear interpolation in ``(kp, cp)``, constant beyond the ends.

        Parameters
        ----------
        space : Space
            The grid.
        kp : array_like
            Increasing ``|k|`` values of the table.
        cp : array_like
            The symbol at ``kp`` (same length).
        estimate : bool, optional
            FFTW_ESTIMATE planning instead of FFTW_MEASURE.
        fd : bool, optional
            Evaluate at the finite-difference wave numbers.

        Returns
        -------
        Multiplier
            The new handle.

        Raises
        ------
        ValueError
            ``kp`` and ``cp`` differ in length.
        DomainError
            ``kp`` is not increasing.
        NonFiniteError
            A table value is NaN or infinite.

        Examples
        --------
        >>> sp = berg.Space((32,), 0.0, 1.0)
        >>> m = berg.Multiplier.radial(sp, [0.0, 100.0], [0.0, 100.0], estimate=True)
        >>> f = np.cos(2 * np.pi * sp.coordinates(0))
        >>> np.allclose(m(f), 2 * np.pi * f)
        True
        """
        kp = _lib.as_array(kp, name="kp").ravel()
        cp = _lib.as_array(cp, name="cp").ravel()
        if kp.size != cp.size:
            raise ValueError(f"kp has {kp.size} entries, cp has {cp.size}")
        h = _vp()
        check(_mult_radial(ctypes.byref(h), _space_arg(space), kp.size, ptr(kp), ptr(cp),
                           _flags(estimate, fd)))
        return cls(space, None, _handle=h)

    @classmethod
    def regulator(cls, space: Space, kind: str | int, lam: float, estimate: bool = False,
                  fd: bool = False) -> Multiplier:
        """A built-in Wegner-Morris regulator of ``|k|_g`` at scale ``lam``.

        Parameters
        ----------
        space : Space
            The grid.
        kind : str or int
            ``'sharp'``, ``'exponential'``, ``'litim'``, ``'exponential_dot'``,
            ``'litim_dot'`` (or the ``REGULATOR_*`` value).
        lam : float
            The scale, finite and > 0.
        estimate : bool, optional
            FFTW_ESTIMATE planning instead of FFTW_MEASURE.
        fd : bool, optional
            Evaluate at the finite-difference wave numbers.

        Returns
        -------
        Multiplier
            The new handle.

        Raises
        ------
        ValueError
            ``kind`` is an unknown name.
        DomainError
            ``lam`` is not finite and > 0, or ``kind`` an unknown value.

        Examples
        --------
        >>> sp = berg.Space((32,), 0.0, 1.0)
        >>> reg = berg.Multiplier.regulator(sp, "sharp", 1000.0, estimate=True)
        >>> f = np.cos(2 * np.pi * sp.coordinates(0))
        >>> np.allclose(reg(f), f)     # every mode is below the scale
        True
        """
        h = _vp()
        check(_mult_regulator(ctypes.byref(h), _space_arg(space), _reg_kind(kind), float(lam),
                              _flags(estimate, fd)))
        return cls(space, None, _handle=h)

    def apply(self, f: ArrayLike, out: np.ndarray | None = None) -> np.ndarray:
        """``c(k)`` applied mode by mode to ``f``.

        Parameters
        ----------
        f : array_like
            A "state" (any finite values), shape ``space.shape`` or flat.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result (may be ``f``).

        Returns
        -------
        numpy.ndarray
            The result, in the shape of ``f``.

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinite value.
        TypeError
            ``f`` or ``out`` is complex.
        ValueError
            ``f`` or ``out`` has the wrong shape.

        Examples
        --------
        >>> sp = berg.Space((16,), 0.0, 1.0)
        >>> two = berg.Multiplier(sp, lambda k: 2.0, estimate=True)
        >>> two.apply(np.ones(16))[:3]
        array([2., 2., 2.])
        """
        out = _lib.out_array(out, self.shape, like=f)
        f = _lib.as_array(f, self.shape, "f")
        check(_mult_apply(self._h, ptr(f), ptr(out)))
        return out

    __call__ = apply

    def exp_apply(self, f: ArrayLike, t: float, out: np.ndarray | None = None) -> np.ndarray:
        """``e^{-t c(k)}`` applied mode by mode to ``f`` (``c >= 0`` on every mode).

        Parameters
        ----------
        f : array_like
            A "state" (any finite values), shape ``space.shape`` or flat.
        t : float
            The time, finite and >= 0.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result (may be ``f``).

        Returns
        -------
        numpy.ndarray
            The result, in the shape of ``f``.

        Raises
        ------
        TimeError
            ``t`` is negative or not finite.
        DomainError
            The symbol is negative on some mode.
        NonFiniteError
            ``f`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((32,), 0.0, 1.0)
        >>> lap = berg.Multiplier(sp, lambda k: float(k @ k), estimate=True)
        >>> f = np.cos(2 * np.pi * sp.coordinates(0))
        >>> np.allclose(lap.exp_apply(f, 0.01), berg.Heat(sp, estimate=True)(f, 0.01))
        True
        """
        out = _lib.out_array(out, self.shape, like=f)
        f = _lib.as_array(f, self.shape, "f")
        check(_mult_exp_apply(self._h, float(t), ptr(f), ptr(out)))
        return out

    def random_field(self, seed: int, stream: int = 0, out: np.ndarray | None = None) -> np.ndarray:
        """A Gaussian random field with spectrum ``c(k)`` (``c >= 0``).

        Reproducible from ``(seed, stream)`` on every platform; different streams
        are independent (xoshiro256** seeded by splitmix64).

        Parameters
        ----------
        seed : int
            The generator's seed (0 <= seed < 2**64).
        stream : int, optional
            The stream (default 0).
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array of shape ``space.shape``.

        Returns
        -------
        numpy.ndarray
            The field, shape ``space.shape``.

        Raises
        ------
        DomainError
            The symbol is negative on some mode.
        ValueError
            ``out`` has the wrong shape or type.

        Examples
        --------
        >>> sp = berg.Space((32,), 0.0, 1.0)
        >>> m = berg.Multiplier.regulator(sp, "exponential", 10.0, estimate=True)
        >>> a, b = m.random_field(seed=1), m.random_field(seed=1)
        >>> a.shape, bool((a == b).all())
        ((32,), True)
        """
        out = _lib.out_array(out, self.shape)
        check(_mult_field(self._h, int(seed), int(stream), ptr(out)))
        return out


def _reg_kind(kind):
    if isinstance(kind, str):
        try:
            return _REG_NAMES[kind.lower()]
        except KeyError:
            raise ValueError(f"unknown regulator {kind!r}; use one of {sorted(_REG_NAMES)}")
    return int(kind)


def regulator_value(kind: str | int, lam: float, k: float) -> float:
    """The value of a built-in regulator at ``|k| = k``.

    Parameters
    ----------
    kind : str or int
        ``'sharp'``, ``'exponential'``, ``'litim'``, ``'exponential_dot'``,
        ``'litim_dot'`` (or the ``REGULATOR_*`` value).
    lam : float
        The scale, finite and > 0.
    k : float
        The wave number, finite and >= 0.

    Returns
    -------
    float
        The regulator's value.

    Raises
    ------
    ValueError
        ``kind`` is an unknown name.
    DomainError
        ``lam`` or ``k`` is out of its domain.

    Examples
    --------
    >>> berg.regulator_value("sharp", 1.0, 0.5), berg.regulator_value("litim", 1.0, 0.5)
    (1.0, 0.75)
    """
    v = ctypes.c_double()
    check(_reg_value(_reg_kind(kind), float(lam), float(k), ctypes.byref(v)))
    return v.value


def wisdom_export() -> str:
    """FFTW's accumulated wisdom as a string (to save and reuse MEASURE plans).

    Returns
    -------
    str
        The wisdom text.

    Raises
    ------
    OutOfMemoryError
        The string could not be allocated.

    Examples
    --------
    >>> berg.wisdom_export().startswith("(fftw-3")
    True
    """
    p = _vp()
    check(_w_export(ctypes.byref(p)))
    try:
        return ctypes.string_at(p.value).decode()
    finally:
        _free(p)


def wisdom_import(wisdom: str | bytes) -> None:
    """Add FFTW wisdom from a string (as made by :func:`wisdom_export`).

    Parameters
    ----------
    wisdom : str or bytes
        The wisdom text.

    Raises
    ------
    ParseError
        The text is not FFTW wisdom of this FFTW version and precision.

    Examples
    --------
    >>> berg.wisdom_import(berg.wisdom_export())
    """
    check(_w_import(wisdom.encode() if isinstance(wisdom, str) else bytes(wisdom)))


def wisdom_export_file(path: str | os.PathLike) -> None:
    """Write FFTW's accumulated wisdom to a file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced).

    Raises
    ------
    BergIOError
        The file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     berg.wisdom_export_file(os.path.join(folder, "wisdom"))
    ...     berg.wisdom_import_file(os.path.join(folder, "wisdom"))
    """
    check(_w_export_file(str(path).encode()))


def wisdom_import_file(path: str | os.PathLike) -> None:
    """Add FFTW wisdom from a file written by :func:`wisdom_export_file`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Raises
    ------
    BergIOError
        The file cannot be opened or read.
    ParseError
        The file is not FFTW wisdom.

    Examples
    --------
    >>> berg.wisdom_import_file("/nonexistent/wisdom")
    Traceback (most recent call last):
    ...
    berg._lib.BergIOError: berg_wisdom_import_file: cannot open ...
    """
    check(_w_import_file(str(path).encode()))
