"""berg.mpi: lattices distributed over the ranks of an mpi4py communicator
(libberg_mpi, ``berg/mpi.h``; issue 16).

Not imported by ``import berg``: ``import berg.mpi`` loads libberg_mpi
(``libberg_mpi.so.1``) from, in order, the path in the environment variable
``BERG_MPI_LIBRARY``, the folder of the loaded libberg, or the system's
dynamic loader. MPI must be initialized (``from mpi4py import MPI`` does it).

Every rank builds the same global :class:`berg.Space` and wraps it with its
communicator in a :class:`Space`; arrays are the rank's *local block*: the
rows ``[offset, offset + rows)`` of the first axis, a numpy array of shape
``(rows,) + shape[1:]`` (``rows`` may be 0). Every method is collective:
call it on every rank in the same order with the same scalars; a refusal on
one rank is raised on every rank (the message names the rank).

Examples
--------
>>> from mpi4py import MPI
>>> import berg, berg.mpi
>>> sp = berg.mpi.Space(berg.Space((8, 6), 0.0, 1.0), MPI.COMM_WORLD)
>>> sp.local_shape == (sp.rows, 6)
True
"""
from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _lib
from ._lib import c_double_p
from .propagator import _REG_NAMES, _reg_kind  # noqa: F401 - the regulator names
from .space import Space as SerialSpace

__all__ = ["Space", "Heat", "Multiplier", "RandomField", "Langevin", "FokkerPlanck",
           "noise_normals", "library_path"]

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_SYMBOL = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)
_GRAD = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)


def _load():
    env = os.environ.get("BERG_MPI_LIBRARY")
    if env:
        return ctypes.CDLL(env, mode=ctypes.RTLD_GLOBAL), env
    beside = os.path.join(os.path.dirname(os.path.abspath(_lib.library_path)),
                          "libberg_mpi.so.1")
    if os.path.exists(beside):
        return ctypes.CDLL(beside, mode=ctypes.RTLD_GLOBAL), beside
    return ctypes.CDLL("libberg_mpi.so.1", mode=ctypes.RTLD_GLOBAL), "libberg_mpi.so.1"


#: the loaded libberg_mpi (ctypes.CDLL) and the file it came from
mlib, library_path = _load()
mlib.berg_mpi_last_error.restype = ctypes.c_char_p
mlib.berg_mpi_last_error.argtypes = []


def _check(status: int) -> int:
    """Raise the exception class of a failed libberg_mpi call."""
    if status != 0:
        detail = mlib.berg_mpi_last_error().decode(errors="replace")
        if not detail:
            detail = _lib.lib.berg_status_string(status).decode()
        raise _lib._EXCEPTIONS.get(status, _lib.BergError)(detail, status)
    return status


class _Callback(_lib.Callback):
    """A Python callback of a libberg_mpi call: errors from berg_mpi_last_error()."""

    def check(self, status):
        err, self.error = self.error, None
        if status != 0 and isinstance(err, KeyboardInterrupt):
            raise err
        if status != 0 and err is not None:
            try:
                _check(status)
            except _lib.BergError as exc:
                raise exc from err
        return _check(status)


def _symbol(f):
    def body(ndim, k, c, _ud):
        c[0] = float(f(np.ctypeslib.as_array(k, shape=(ndim,)).copy()))
    return _Callback(_SYMBOL, body)


def _fn(name, argtypes, restype=ctypes.c_int):
    f = getattr(mlib, name)
    f.argtypes = argtypes
    f.restype = restype
    return f


_P = ctypes.POINTER
_dp = c_double_p
_space_create = _fn("berg_mpi_space_create_fcomm", [_P(_vp), _vp, ctypes.c_int])
_space_destroy = _fn("berg_mpi_space_destroy", [_vp], None)
_space_local = _fn("berg_mpi_space_local", [_vp, _P(_sz), _P(_sz), _P(_sz)])
_space_ranks = _fn("berg_mpi_space_ranks", [_vp, _P(_sz), _P(_sz)])
_space_integrate = _fn("berg_mpi_space_integrate", [_vp, _dp, _dp])
_space_normalize = _fn("berg_mpi_space_normalize", [_vp, _dp, _dp])
_space_mean = _fn("berg_mpi_space_mean", [_vp, _dp, _dp])
_space_cov = _fn("berg_mpi_space_covariance", [_vp, _dp, _dp])
_space_entropy = _fn("berg_mpi_space_entropy", [_vp, _dp, _dp])
_space_kl = _fn("berg_mpi_space_kl_divergence", [_vp, _dp, _dp, _dp])
_heat_create = _fn("berg_mpi_heat_create", [_P(_vp), _vp, _sz, ctypes.c_uint])
_heat_apply = _fn("berg_mpi_heat_apply", [_vp, ctypes.c_double, _dp, _dp])
_heat_apply_times = _fn("berg_mpi_heat_apply_times", [_vp, _sz, _dp, _dp, _dp])
_heat_destroy = _fn("berg_mpi_heat_destroy", [_vp], None)
_mult_create = _fn("berg_mpi_multiplier_create", [_P(_vp), _vp, ctypes.c_uint, _SYMBOL, _vp])
_mult_create_reg = _fn("berg_mpi_multiplier_create_regulator",
                       [_P(_vp), _vp, ctypes.c_int, ctypes.c_double, ctypes.c_uint])
_mult_apply = _fn("berg_mpi_multiplier_apply", [_vp, _dp, _dp])
_mult_exp_apply = _fn("berg_mpi_multiplier_exp_apply", [_vp, ctypes.c_double, _dp, _dp])
_mult_destroy = _fn("berg_mpi_multiplier_destroy", [_vp], None)
_noise = _fn("berg_mpi_noise_normals", [ctypes.c_ulonglong, ctypes.c_ulonglong,
                                        ctypes.c_ulonglong, _sz, _dp])
_field_create = _fn("berg_mpi_field_create", [_P(_vp), _vp, ctypes.c_uint, _SYMBOL, _vp])
_field_create_reg = _fn("berg_mpi_field_create_regulator",
                        [_P(_vp), _vp, ctypes.c_int, ctypes.c_double, ctypes.c_uint])
_field_sample = _fn("berg_mpi_field_sample", [_vp, ctypes.c_ulonglong, ctypes.c_ulonglong, _dp])
_field_destroy = _fn("berg_mpi_field_destroy", [_vp], None)
_lf_create = _fn("berg_mpi_langevin_create", [_P(_vp), _vp, ctypes.c_ulonglong, _SYMBOL, _vp])
_lf_create_reg = _fn("berg_mpi_langevin_create_regulator",
                     [_P(_vp), _vp, ctypes.c_int, ctypes.c_double, ctypes.c_ulonglong])
_lf_step = _fn("berg_mpi_langevin_step", [_vp, ctypes.c_double, _sz, _dp, _GRAD, _vp])
_lf_destroy = _fn("berg_mpi_langevin_destroy", [_vp], None)
_fp_create = _fn("berg_mpi_fp_create", [_P(_vp), _vp, _dp, ctypes.c_uint])
_fp_tol = _fn("berg_mpi_fp_set_tolerance", [_vp, ctypes.c_double])
_fp_evolve = _fn("berg_mpi_fp_evolve", [_vp, ctypes.c_double, _dp, _dp])
_fp_destroy = _fn("berg_mpi_fp_destroy", [_vp], None)

_PLAN_ESTIMATE = _lib.constant("BERG_PLAN_ESTIMATE")
_SYMBOL_FD = _lib.constant("BERG_SYMBOL_FD")
_FP_FOURIER = _lib.constant("BERG_FP_FOURIER")


def _flags(estimate, fd=False):
    return (_PLAN_ESTIMATE if estimate else 0) | (_SYMBOL_FD if fd else 0)


def _lptr(a):
    """The data pointer of a local block, NULL for an empty one."""
    return a.ctypes.data_as(c_double_p) if a.size else None


class Space(_lib.Handle):
    """A global :class:`berg.Space` distributed in slabs of its first axis
    over the ranks of an mpi4py communicator (collective).

    Rank ``r`` of ``P`` holds the rows ``[r b, min((r + 1) b, n0))``,
    ``b = ceil(n0 / P)`` (FFTW's default block; the last ranks may hold
    none).

    Parameters
    ----------
    space : berg.Space
        The global grid; the same on every rank.
    comm : mpi4py.MPI.Comm
        The communicator (an intracommunicator; duplicated inside).

    Raises
    ------
    DomainError
        MPI is not initialized, or the spaces differ between ranks.

    Examples
    --------
    >>> from mpi4py import MPI
    >>> sp = berg.mpi.Space(berg.Space((8, 6), 0.0, 1.0), MPI.COMM_WORLD)
    >>> sp.shape, sp.nranks == MPI.COMM_WORLD.Get_size()
    ((8, 6), True)
    """

    _destroy = _space_destroy

    def __init__(self, space: SerialSpace, comm: Any) -> None:
        h = _vp()
        _check(_space_create(ctypes.byref(h), space.handle, int(comm.py2f())))
        self._h = h
        self.global_space = space
        self.comm = comm
        rows, off, size = _sz(), _sz(), _sz()
        _check(_space_local(h, ctypes.byref(rows), ctypes.byref(off), ctypes.byref(size)))
        self._rows, self._offset, self._size = rows.value, off.value, size.value

    @property
    def shape(self) -> tuple:
        """The global shape."""
        return tuple(self.global_space.shape)

    @property
    def rows(self) -> int:
        """Rows of the first axis on this rank (possibly 0)."""
        return self._rows

    @property
    def offset(self) -> int:
        """The global index of this rank's first row."""
        return self._offset

    @property
    def size(self) -> int:
        """Values of a local block."""
        return self._size

    @property
    def rank(self) -> int:
        """This rank in the space's communicator."""
        r, n = _sz(), _sz()
        _check(_space_ranks(self._h, ctypes.byref(r), ctypes.byref(n)))
        return r.value

    @property
    def nranks(self) -> int:
        """Ranks of the space's communicator."""
        r, n = _sz(), _sz()
        _check(_space_ranks(self._h, ctypes.byref(r), ctypes.byref(n)))
        return n.value

    @property
    def local_shape(self) -> tuple:
        """``(rows,) + shape[1:]``: the shape of a local block."""
        return (self._rows,) + self.shape[1:]

    def local(self, a: ArrayLike) -> np.ndarray:
        """This rank's block of a global array, as a view when ``a`` is a
        float64 C-contiguous array (a copy otherwise).

        Parameters
        ----------
        a : array_like
            A global array of the global shape.

        Returns
        -------
        numpy.ndarray
            ``a[offset:offset + rows]``.

        Raises
        ------
        ValueError
            ``a`` does not have the global shape.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 3), 0.0, 1.0), MPI.COMM_WORLD)
        >>> g = np.arange(12.0).reshape(4, 3)
        >>> np.shares_memory(sp.local(g), g)
        True
        """
        a = np.asarray(a, dtype=np.float64)
        if a.shape != self.shape:
            raise ValueError(f"a has shape {a.shape}, not the global shape {self.shape}")
        return a[self._offset:self._offset + self._rows]

    def gather(self, a: ArrayLike, root: int = 0) -> np.ndarray | None:
        """The global array from the local blocks, on ``root`` (None on the
        other ranks), through the communicator's ``Gatherv``.

        Parameters
        ----------
        a : array_like
            This rank's local block.
        root : int, optional
            The rank that receives the global array (default 0).

        Returns
        -------
        numpy.ndarray or None
            The global array on ``root``.

        Raises
        ------
        ValueError
            ``a`` does not have the local shape.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 3), 0.0, 1.0), MPI.COMM_WORLD)
        >>> g = sp.gather(sp.local(np.arange(12.0).reshape(4, 3)))
        >>> MPI.COMM_WORLD.Get_rank() != 0 or g[3, 2] == 11.0
        True
        """
        a = self._block(a, "a")
        counts = self.comm.gather(a.size, root=root)
        out = None
        if self.comm.Get_rank() == root:
            out = np.empty(self.shape)
            self.comm.Gatherv(a, [out, counts], root=root)
        else:
            self.comm.Gatherv(a, None, root=root)
        return out

    def _block(self, a, name, writeable=False):
        if writeable:
            if not (isinstance(a, np.ndarray) and a.dtype == np.float64
                    and a.flags.c_contiguous and a.flags.writeable):
                raise ValueError(f"{name} must be a writeable C-contiguous float64 array")
        else:
            a = np.ascontiguousarray(a, dtype=np.float64)
        if a.shape != self.local_shape and a.size != self._size:
            raise ValueError(f"{name} has shape {a.shape}, not the local shape "
                             f"{self.local_shape}")
        return a

    def _scalar(self, f, *arrays):
        v = ctypes.c_double()
        _check(f(self._h, *[_lptr(x) for x in arrays], ctypes.byref(v)))
        return v.value

    def integrate(self, f: ArrayLike) -> float:
        """``sum f w`` over the global grid (collective; the same bits on every rank).

        Parameters
        ----------
        f : array_like
            The local block.

        Returns
        -------
        float
            The integral.

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinity on some rank.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 4), 0.0, 1.0), MPI.COMM_WORLD)
        >>> sp.integrate(np.ones(sp.local_shape))
        1.0
        """
        return self._scalar(_space_integrate, self._block(f, "f"))

    def normalize(self, p: np.ndarray) -> float:
        """Scale the local blocks of ``p`` in place to unit mass; returns the
        mass before (collective).

        Parameters
        ----------
        p : numpy.ndarray
            The local block (writeable C-contiguous float64), >= 0.

        Returns
        -------
        float
            The mass before scaling.

        Raises
        ------
        NegativeDensityError
            A negative value on some rank.
        MassError
            Zero total mass.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 4), 0.0, 2.0), MPI.COMM_WORLD)
        >>> sp.normalize(np.ones(sp.local_shape))
        4.0
        """
        return self._scalar(_space_normalize, self._block(p, "p", writeable=True))

    def mean(self, p: ArrayLike) -> np.ndarray:
        """The mean of a density (collective).

        Parameters
        ----------
        p : array_like
            The local block of a density.

        Returns
        -------
        numpy.ndarray
            ``ndim`` values.

        Raises
        ------
        MassError
            ``p`` is not normalized.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 4), 0.0, 1.0), MPI.COMM_WORLD)
        >>> sp.mean(np.ones(sp.local_shape))
        array([0.5, 0.5])
        """
        out = np.empty(len(self.shape))
        _check(_space_mean(self._h, _lptr(self._block(p, "p")), out.ctypes.data_as(c_double_p)))
        return out

    def covariance(self, p: ArrayLike) -> np.ndarray:
        """The covariance matrix of a density (collective).

        Parameters
        ----------
        p : array_like
            The local block of a density.

        Returns
        -------
        numpy.ndarray
            ``ndim x ndim`` values.

        Raises
        ------
        MassError
            ``p`` is not normalized.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 4), 0.0, 1.0), MPI.COMM_WORLD)
        >>> sp.covariance(np.ones(sp.local_shape)).shape
        (2, 2)
        """
        d = len(self.shape)
        out = np.empty((d, d))
        _check(_space_cov(self._h, _lptr(self._block(p, "p")), out.ctypes.data_as(c_double_p)))
        return out

    def entropy(self, p: ArrayLike) -> float:
        """``-sum p ln p w`` of a density (collective).

        Parameters
        ----------
        p : array_like
            The local block of a density.

        Returns
        -------
        float
            The entropy in nats.

        Raises
        ------
        MassError
            ``p`` is not normalized.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 4), 0.0, 1.0), MPI.COMM_WORLD)
        >>> abs(sp.entropy(np.ones(sp.local_shape))) < 1e-15
        True
        """
        return self._scalar(_space_entropy, self._block(p, "p"))

    def kl_divergence(self, p: ArrayLike, q: ArrayLike) -> float:
        """``sum p ln(p / q) w`` of two densities (collective).

        Parameters
        ----------
        p, q : array_like
            Local blocks of the two densities.

        Returns
        -------
        float
            The divergence in nats.

        Raises
        ------
        MassError
            A density is not normalized.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((4, 4), 0.0, 1.0), MPI.COMM_WORLD)
        >>> u = np.ones(sp.local_shape)
        >>> sp.kl_divergence(u, u)
        0.0
        """
        return self._scalar(_space_kl, self._block(p, "p"), self._block(q, "q"))


class Heat(_lib.Handle):
    """The heat propagator ``e^{t Delta_g}`` on a distributed space (collective).

    Parameters
    ----------
    space : Space
        The distributed space (any boundary kinds; rank >= 2).
    estimate : bool, optional
        Plan with FFTW_ESTIMATE (default False: FFTW_MEASURE).

    Raises
    ------
    UnsupportedError
        A space of rank 1.

    Examples
    --------
    >>> from mpi4py import MPI
    >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
    >>> h = berg.mpi.Heat(sp, estimate=True)
    >>> float(sp.integrate(h.apply(np.ones(sp.local_shape), 0.1)))
    1.0
    """

    _destroy = _heat_destroy

    def __init__(self, space: Space, estimate: bool = False) -> None:
        h = _vp()
        _check(_heat_create(ctypes.byref(h), space.handle, 1, _flags(estimate)))
        self._h = h
        self.space = space

    def apply(self, f: ArrayLike, t: float) -> np.ndarray:
        """``e^{t Delta_g} f`` on the local blocks (collective).

        Parameters
        ----------
        f : array_like
            The local block.
        t : float
            The time, finite and >= 0.

        Returns
        -------
        numpy.ndarray
            The new local block.

        Raises
        ------
        TimeError
            ``t`` is negative or not finite.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> berg.mpi.Heat(sp, True).apply(np.zeros(sp.local_shape), 1.0).shape == sp.local_shape
        True
        """
        f = self.space._block(f, "f")
        out = np.empty(self.space.local_shape)
        _check(_heat_apply(self._h, float(t), _lptr(f), _lptr(out)))
        return out

    def apply_times(self, f: ArrayLike, times: ArrayLike) -> np.ndarray:
        """``e^{t_j Delta_g} f`` for several times from one forward transform
        (collective).

        Parameters
        ----------
        f : array_like
            The local block.
        times : array_like
            The times, each finite and >= 0.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(times),) + local_shape``.

        Raises
        ------
        TimeError
            A negative or non-finite time.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> h = berg.mpi.Heat(sp, estimate=True)
        >>> h.apply_times(np.ones(sp.local_shape), [0.0, 0.1]).shape == (2,) + sp.local_shape
        True
        """
        f = self.space._block(f, "f")
        t = np.ascontiguousarray(times, dtype=np.float64).ravel()
        out = np.empty((t.size,) + self.space.local_shape)
        _check(_heat_apply_times(self._h, _lib.size_t(t.size, "len(times)"),
                                 t.ctypes.data_as(c_double_p), _lptr(f),
                                 out.ctypes.data_as(c_double_p) if out.size else None))
        return out


class Multiplier(_lib.Handle):
    """A Fourier multiplier with symbol ``c(k)`` on a distributed space (collective).

    Parameters
    ----------
    space : Space
        The distributed space.
    symbol : callable
        ``symbol(k) -> float`` of the wave vector (even in ``k``).
    estimate : bool, optional
        Plan with FFTW_ESTIMATE.

    Raises
    ------
    CallbackError
        ``symbol`` raised or returned a non-finite value on some rank.

    Examples
    --------
    >>> from mpi4py import MPI
    >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
    >>> m = berg.mpi.Multiplier(sp, lambda k: 2.0, estimate=True)
    >>> bool(np.allclose(m.apply(np.ones(sp.local_shape)), 2.0))
    True
    """

    _destroy = _mult_destroy

    def __init__(self, space: Space, symbol: Callable[[np.ndarray], float] | None,
                 estimate: bool = False, _handle: Any = None) -> None:
        self.space = space
        if _handle is not None:
            self._h = _handle
            return
        if not callable(symbol):
            raise TypeError("symbol must be callable: symbol(k) -> float")
        cb = _symbol(symbol)
        h = _vp()
        cb.check(_mult_create(ctypes.byref(h), space.handle, _flags(estimate), cb.c_fn, None))
        self._h = h

    @classmethod
    def regulator(cls, space: Space, kind: str | int, lam: float,
                  estimate: bool = False) -> Multiplier:
        """A multiplier whose symbol is a built-in regulator of ``|k|_g``.

        Parameters
        ----------
        space : Space
            The distributed space.
        kind : str or int
            ``'sharp'``, ``'exponential'``, ``'litim'``, ``'exponential_dot'``,
            ``'litim_dot'``.
        lam : float
            The scale, finite and > 0.
        estimate : bool, optional
            Plan with FFTW_ESTIMATE.

        Returns
        -------
        Multiplier
            The new multiplier.

        Raises
        ------
        DomainError
            A bad ``lam``.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> m = berg.mpi.Multiplier.regulator(sp, "exponential", 3.0, True)
        >>> m.apply(np.ones(sp.local_shape)).shape == sp.local_shape
        True
        """
        h = _vp()
        _check(_mult_create_reg(ctypes.byref(h), space.handle, _reg_kind(kind), float(lam),
                                _flags(estimate)))
        return cls(space, None, _handle=h)

    def apply(self, f: ArrayLike) -> np.ndarray:
        """``c(k)`` applied to the local blocks (collective).

        Parameters
        ----------
        f : array_like
            The local block.

        Returns
        -------
        numpy.ndarray
            The new local block.

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinity on some rank.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> m = berg.mpi.Multiplier(sp, lambda k: 1.0, estimate=True)
        >>> bool(np.allclose(m.apply(np.ones(sp.local_shape)), 1.0))
        True
        """
        f = self.space._block(f, "f")
        out = np.empty(self.space.local_shape)
        _check(_mult_apply(self._h, _lptr(f), _lptr(out)))
        return out

    def exp_apply(self, f: ArrayLike, t: float) -> np.ndarray:
        """``e^{-t c(k)}`` applied to the local blocks (collective; ``c >= 0``).

        Parameters
        ----------
        f : array_like
            The local block.
        t : float
            The time, finite and >= 0.

        Returns
        -------
        numpy.ndarray
            The new local block.

        Raises
        ------
        TimeError
            A bad ``t``.
        DomainError
            The symbol is negative on some mode.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> m = berg.mpi.Multiplier(sp, lambda k: 1.0, estimate=True)
        >>> bool(np.allclose(m.exp_apply(np.ones(sp.local_shape), 1.0), np.exp(-1.0)))
        True
        """
        f = self.space._block(f, "f")
        out = np.empty(self.space.local_shape)
        _check(_mult_exp_apply(self._h, float(t), _lptr(f), _lptr(out)))
        return out


def noise_normals(seed: int, stream: int, first: int, count: int) -> np.ndarray:
    """The counter-based standard normals ``z(seed, stream, first + j)`` of the
    distributed noise (Philox4x32-10 and Box-Muller; not collective).

    The random fields and Langevin noise draw ``z(seed, stream, i)`` at the
    global site index ``i`` (C order), so a seed gives the same field on any
    number of ranks.

    Parameters
    ----------
    seed : int
        The key (0 .. 2^64 - 1).
    stream : int
        The stream.
    first : int
        The global index of the first number.
    count : int
        How many.

    Returns
    -------
    numpy.ndarray
        ``count`` values.

    Raises
    ------
    ValueError
        A negative ``count``.

    Examples
    --------
    >>> z = berg.mpi.noise_normals(1, 0, 0, 4)
    >>> bool(np.all(berg.mpi.noise_normals(1, 0, 2, 2) == z[2:]))
    True
    """
    count = _lib.size_t(count, "count")
    out = np.empty(count)
    _check(_noise(int(seed), int(stream), int(first), count, out.ctypes.data_as(c_double_p)))
    return out


class RandomField(_lib.Handle):
    """A distributed Gaussian random field generator with spectrum ``C(k)``
    (collective): ``T^{-1} sqrt(C) T xi`` with ``xi`` the white noise of
    :func:`noise_normals` at the global sites, so a seed gives the same field
    on any number of ranks.

    Parameters
    ----------
    space : Space
        The distributed space.
    spectrum : callable
        ``spectrum(k) -> float >= 0``.
    estimate : bool, optional
        Plan with FFTW_ESTIMATE.
    fd : bool, optional
        Pass the finite-difference wave numbers ``2 sin(k h / 2) / h``.

    Raises
    ------
    DomainError
        The spectrum is negative on some mode.
    CallbackError
        ``spectrum`` raised on some rank.

    Examples
    --------
    >>> from mpi4py import MPI
    >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
    >>> rf = berg.mpi.RandomField(sp, lambda k: 1.0 / (1.0 + k @ k), estimate=True)
    >>> rf.sample(seed=3).shape == sp.local_shape
    True
    """

    _destroy = _field_destroy

    def __init__(self, space: Space, spectrum: Callable[[np.ndarray], float] | None,
                 estimate: bool = False, fd: bool = False, _handle: Any = None) -> None:
        self.space = space
        if _handle is not None:
            self._h = _handle
            return
        if not callable(spectrum):
            raise TypeError("spectrum must be callable: spectrum(k) -> float >= 0")
        cb = _symbol(spectrum)
        h = _vp()
        cb.check(_field_create(ctypes.byref(h), space.handle, _flags(estimate, fd), cb.c_fn,
                               None))
        self._h = h

    @classmethod
    def regulator(cls, space: Space, kind: str | int, lam: float,
                  estimate: bool = False) -> RandomField:
        """A random field whose spectrum is a built-in regulator of ``|k|_g``.

        Parameters
        ----------
        space : Space
            The distributed space.
        kind : str or int
            The regulator's name or value.
        lam : float
            Its scale, finite and > 0.
        estimate : bool, optional
            Plan with FFTW_ESTIMATE.

        Returns
        -------
        RandomField
            The new generator.

        Raises
        ------
        DomainError
            A bad ``lam``.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> rf = berg.mpi.RandomField.regulator(sp, "exponential", 4.0, True)
        >>> rf.sample(1).shape == sp.local_shape
        True
        """
        h = _vp()
        _check(_field_create_reg(ctypes.byref(h), space.handle, _reg_kind(kind), float(lam),
                                 _flags(estimate)))
        return cls(space, None, _handle=h)

    def sample(self, seed: int, stream: int = 0) -> np.ndarray:
        """The local block of the field of ``(seed, stream)`` (collective).

        Parameters
        ----------
        seed : int
            The noise's seed.
        stream : int, optional
            The noise's stream (default 0).

        Returns
        -------
        numpy.ndarray
            The local block.

        Raises
        ------
        OutOfMemoryError
            No memory for the noise.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 1.0), MPI.COMM_WORLD)
        >>> rf = berg.mpi.RandomField(sp, lambda k: 1.0, estimate=True)
        >>> bool(np.all(rf.sample(5) == rf.sample(5)))
        True
        """
        out = np.empty(self.space.local_shape)
        _check(_field_sample(self._h, int(seed), int(stream), _lptr(out)))
        return out


class Langevin(_lib.Handle):
    """The distributed lattice field Langevin flow
    ``d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW`` (collective), as
    :class:`berg.Langevin` with the counter-based noise: the same seed gives
    the same trajectory on any number of ranks.

    Parameters
    ----------
    space : Space
        A periodic distributed space.
    regulator : callable
        ``regulator(k) -> float >= 0``.
    seed : int, optional
        The noise's seed (default 0).

    Raises
    ------
    UnsupportedError
        A non-periodic axis.

    Examples
    --------
    >>> from mpi4py import MPI
    >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 8.0), MPI.COMM_WORLD)
    >>> lf = berg.mpi.Langevin(sp, lambda k: 1.0, seed=1)
    >>> phi = np.zeros(sp.local_shape)
    >>> lf.step(phi, 0.1, 3, lambda f: f).shape == sp.local_shape
    True
    """

    _destroy = _lf_destroy

    def __init__(self, space: Space, regulator: Callable[[np.ndarray], float] | None,
                 seed: int = 0, _handle: Any = None) -> None:
        self.space = space
        if _handle is not None:
            self._h = _handle
            return
        if not callable(regulator):
            raise TypeError("regulator must be callable: regulator(k) -> float >= 0")
        cb = _symbol(regulator)
        h = _vp()
        cb.check(_lf_create(ctypes.byref(h), space.handle, int(seed), cb.c_fn, None))
        self._h = h

    @classmethod
    def regulator(cls, space: Space, kind: str | int, lam: float, seed: int = 0) -> Langevin:
        """A flow whose ``Cdot`` is a built-in regulator of ``|k|_g``.

        Parameters
        ----------
        space : Space
            A periodic distributed space.
        kind : str or int
            The regulator's name or value.
        lam : float
            Its scale, finite and > 0.
        seed : int, optional
            The noise's seed.

        Returns
        -------
        Langevin
            The new flow.

        Raises
        ------
        DomainError
            A bad ``lam``.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 8.0), MPI.COMM_WORLD)
        >>> lf = berg.mpi.Langevin.regulator(sp, "exponential", 2.0, seed=1)
        >>> lf.space is sp
        True
        """
        h = _vp()
        _check(_lf_create_reg(ctypes.byref(h), space.handle, _reg_kind(kind), float(lam),
                              int(seed)))
        return cls(space, None, _handle=h)

    def step(self, phi: np.ndarray, dt: float, nsteps: int,
             grad: Callable[[np.ndarray], ArrayLike]) -> np.ndarray:
        """``nsteps`` Euler-Maruyama steps on the local block ``phi``, in place
        (collective; ``grad`` runs on every rank and may communicate).

        Parameters
        ----------
        phi : numpy.ndarray
            The local block: writeable C-contiguous float64 of the local shape.
        dt : float
            The step, finite and > 0.
        nsteps : int
            Number of steps.
        grad : callable
            ``grad(phi_local) -> dS/dphi`` on the local block.

        Returns
        -------
        numpy.ndarray
            ``phi``.

        Raises
        ------
        TimeError
            A bad ``dt``.
        CallbackError
            ``grad`` raised or returned a non-finite value on some rank
            (chained to the exception on that rank).

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 8.0), MPI.COMM_WORLD)
        >>> lf = berg.mpi.Langevin(sp, lambda k: 1.0, seed=2)
        >>> phi = np.zeros(sp.local_shape)
        >>> _ = lf.step(phi, 0.05, 2, lambda f: 0.5 * f)
        >>> bool(np.isfinite(phi).all())
        True
        """
        phi = self.space._block(phi, "phi", writeable=True)
        shape = self.space.local_shape
        if not callable(grad):
            raise TypeError("grad must be callable: grad(phi) -> dS/dphi")

        def body(n, p, g, _ud):
            src = np.ctypeslib.as_array(p, shape=shape) if n else np.empty(shape)
            val = np.asarray(grad(src.copy()), dtype=np.float64)
            if n:
                np.ctypeslib.as_array(g, shape=shape)[...] = val.reshape(shape)
        cb = _Callback(_GRAD, body)
        cb.check(_lf_step(self._h, float(dt), _lib.size_t(nsteps, "nsteps"), _lptr(phi),
                          cb.c_fn, None))
        return phi


class FokkerPlanck(_lib.Handle):
    """The distributed Fourier Fokker-Planck flow
    ``d/dt p = div(g^{-1}(grad p + p grad V))`` (collective), the stepper of
    ``berg.FokkerPlanck(..., fourier=True)`` on slabs: the same steps, the
    same result to round-off.

    Parameters
    ----------
    space : Space
        A periodic distributed space (at least 4 cells per axis, rank >= 2).
    V : array_like
        The local block of the potential.
    estimate : bool, optional
        Plan with FFTW_ESTIMATE.

    Raises
    ------
    UnsupportedError
        A non-periodic axis or rank 1.
    DomainError
        ``e^{-V/2}`` is not resolved by the grid.

    Examples
    --------
    >>> from mpi4py import MPI
    >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 2 * np.pi), MPI.COMM_WORLD)
    >>> fp = berg.mpi.FokkerPlanck(sp, np.zeros(sp.local_shape), estimate=True)
    >>> p = np.full(sp.local_shape, 1 / (2 * np.pi) ** 2)
    >>> bool(np.allclose(fp.evolve(p, 0.5), p))
    True
    """

    _destroy = _fp_destroy

    def __init__(self, space: Space, V: ArrayLike, estimate: bool = False) -> None:
        self.space = space
        v = space._block(V, "V")
        h = _vp()
        _check(_fp_create(ctypes.byref(h), space.handle, _lptr(v),
                          _FP_FOURIER | (_PLAN_ESTIMATE if estimate else 0)))
        self._h = h

    def set_tolerance(self, tol: float) -> None:
        """Set the tolerance of :meth:`evolve` (default 1e-8; the same on every rank).

        Parameters
        ----------
        tol : float
            In [1e-14, 0.1].

        Raises
        ------
        DomainError
            ``tol`` out of range.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 2 * np.pi), MPI.COMM_WORLD)
        >>> berg.mpi.FokkerPlanck(sp, np.zeros(sp.local_shape), True).set_tolerance(1e-10)
        """
        _check(_fp_tol(self._h, float(tol)))

    def evolve(self, p: ArrayLike, t: float) -> np.ndarray:
        """``e^{tL} p`` on the local blocks (collective).

        Parameters
        ----------
        p : array_like
            The local block of a measure (>= 0).
        t : float
            The time, finite and >= 0.

        Returns
        -------
        numpy.ndarray
            The new local block.

        Raises
        ------
        NegativeDensityError
            A negative value on some rank.
        TimeError
            A bad ``t``.
        ConvergenceError
            The step size collapsed.

        Examples
        --------
        >>> from mpi4py import MPI
        >>> sp = berg.mpi.Space(berg.Space((8, 8), 0.0, 2 * np.pi), MPI.COMM_WORLD)
        >>> fp = berg.mpi.FokkerPlanck(sp, np.zeros(sp.local_shape), True)
        >>> fp.evolve(np.ones(sp.local_shape), 0.0).shape == sp.local_shape
        True
        """
        p = self.space._block(p, "p")
        out = np.empty(self.space.local_shape)
        _check(_fp_evolve(self._h, float(t), _lptr(p), _lptr(out)))
        return out
